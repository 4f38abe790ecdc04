"""Dates at the ends of the calendar (dates.py): every way a time gets in keeps it within
dates.EARLIEST..LATEST, and any time already stored is shown, never a 500.

Python's datetime ends at year 9999: 9999-12-31 23:00 UTC is in year 10000 in Moscow.
"""

import datetime as dt
import html

import pytest
from desk_helpers import HX, Newsroom, errors_in, fresh, input_value, log_in, snapshot, text_of

import dates
from factories import make_article
from models import SiteSettings

FAR_FUTURE = dt.datetime(9999, 12, 31, 23)  # 9999-12-31T18:00 in New York
YEAR_ONE = dt.datetime(1, 1, 1, 1)


@pytest.fixture
def newsroom(app):
    return Newsroom.create()


@pytest.fixture
def editor(app, newsroom):
    return log_in(app.test_client(), newsroom.editor)


def set_timezone(name):
    SiteSettings.update(timezone=name).execute()
    SiteSettings.bump_content_version()


def stored_before_the_bounds(newsroom, published_at=FAR_FUTURE):
    """An article scheduled as the desk allowed before dates were bounded."""
    return newsroom.article("scheduled", title="Far future", published_at=published_at)


# --- The desk: what an editor types ------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["9999-12-31T18:00", "3000-01-01T00:00", "1899-12-31T23:59", "0001-01-01T00:00"],
)
def test_scheduling_outside_the_range_is_refused(editor, newsroom, typed):
    set_timezone("America/New_York")
    article = newsroom.article("draft")
    before = snapshot()
    for htmx in (True, False):
        response = editor.post(
            f"/desk/articles/{article.id}/actions/schedule",
            data={"version": str(article.version), "published_at": typed},
            headers=HX if htmx else {},
        )
        assert response.status_code == 422
        assert "Enter a time between 1900-01-01 and 2999-12-31." in text_of(response)
    assert snapshot() == before


def test_the_ends_of_the_range_can_be_scheduled(editor, newsroom):
    set_timezone("Pacific/Kiritimati")  # UTC+14: the last minute is 2999-12-31 09:59 UTC
    article = newsroom.article("draft")
    response = editor.post(
        f"/desk/articles/{article.id}/actions/schedule",
        data={"version": str(article.version), "published_at": "2999-12-31T23:59"},
        headers=HX,
    )
    assert response.status_code == 200
    assert fresh(article).published_at == dt.datetime(2999, 12, 31, 9, 59)
    set_timezone("Etc/GMT+12")  # and shown in any other timezone
    assert "30.12.99 21:59" in text_of(editor.get(f"/articles/{article.id}/{article.slug}"))


@pytest.mark.parametrize("path", ["fields/published_at", "edit"])
def test_saving_a_publication_time_outside_the_range_is_refused(editor, newsroom, path):
    article = newsroom.article("published")
    before = snapshot()
    data = {"version": str(article.version), "published_at": "9999-12-31T23:59"}
    if path == "edit":
        page = text_of(editor.get(f"/desk/articles/{article.id}/edit"))
        data = {**form_values(page), **data}
    response = editor.post(f"/desk/articles/{article.id}/{path}", data=data, headers=HX)
    assert response.status_code == 422
    assert "Enter a time between 1900-01-01 and 2999-12-31." in errors_in(text_of(response))
    assert snapshot() == before


def form_values(page):
    names = ("title", "section", "rubric", "author", "published_at", "lead_image_alt")
    values = {name: input_value(page, name) or "" for name in names}
    values["section"] = values["rubric"] = values["author"] = "1"
    return values


# --- The desk and the site: what is already stored ---------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/Moscow", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_every_staff_page_shows_a_time_stored_before_the_bounds(editor, newsroom, zone):
    article = stored_before_the_bounds(newsroom)
    set_timezone(zone)  # switched after it was scheduled
    # A second version, so that the history shows the time in its diff.
    later = FAR_FUTURE + dt.timedelta(minutes=30)
    article.save_changes({"published_at": later}, article.version, newsroom.editor)
    for url in (
        "/desk/",
        "/desk/?state=scheduled&order=published",
        f"/articles/{article.id}/{article.slug}",
        f"/desk/articles/{article.id}/edit",
        f"/desk/articles/{article.id}/history",
        f"/desk/articles/{article.id}/fields/published_at",
        f"/desk/articles/{article.id}/fields/published_at/edit",
    ):
        response = editor.get(url, headers=HX if "/fields/" in url else {})
        assert response.status_code == 200, url
        assert "9999-12-31" in text_of(response), url
    page = text_of(editor.get(f"/articles/{article.id}/{article.slug}"))
    assert "9999-12-31 23:30 UTC" in page  # as stored: no timezone can show it


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Pago_Pago"])
def test_readers_see_a_year_one_article_in_every_list_and_feed(app, zone):
    article = make_article(title="Year one", published_at=YEAR_ONE)
    set_timezone(zone)
    client = app.test_client()
    for url in ("/", "/text/", f"/articles/{article.id}/{article.slug}",
                f"/articles/{article.id}/{article.slug}/print", "/section/news",
                "/authors/test-author", "/search?q=year", "/rss.xml", "/atom.xml",
                "/sitemap-articles-1.xml"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
    assert "0001-01-01 01:00 UTC" in text_of(client.get(f"/articles/{article.id}/{article.slug}"))


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_trashing_an_article_stored_before_the_bounds(editor, newsroom, htmx):
    article = stored_before_the_bounds(newsroom)
    set_timezone("Europe/Moscow")
    response = editor.post(
        f"/desk/articles/{article.id}/actions/trash",
        data={"version": str(article.version)},
        headers=HX if htmx else {},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Moved to the trash." in text_of(response)
    assert fresh(article).state == "trash"


def test_an_article_stored_before_the_bounds_is_repaired_through_the_edit_page(editor, newsroom):
    article = stored_before_the_bounds(newsroom)
    set_timezone("Europe/Moscow")
    page = text_of(editor.get(f"/desk/articles/{article.id}/edit"))
    assert input_value(page, "published_at") == "9999-12-31T23:00"  # as stored, in UTC
    data = {**form_values(page), "version": str(article.version)}

    # Saved as it is, the time is refused, and said why: nothing changes quietly.
    refused = editor.post(f"/desk/articles/{article.id}/edit", data=data)
    assert refused.status_code == 422
    assert "Enter a time between 1900-01-01 and 2999-12-31." in errors_in(text_of(refused))

    repaired = editor.post(
        f"/desk/articles/{article.id}/edit", data={**data, "published_at": "2030-01-02T03:04"}
    )
    assert repaired.status_code == 302
    assert fresh(article).published_at == dt.datetime(2030, 1, 2, 0, 4)  # Moscow is UTC+3


def test_an_unknown_stored_timezone_shows_times_in_utc(app, newsroom):
    article = newsroom.article("published", published_at=dt.datetime(2024, 5, 6, 7, 8))
    set_timezone("Mars/Olympus")  # no admin form lets this in; an old database might
    response = app.test_client().get(f"/articles/{article.id}/{article.slug}")
    assert response.status_code == 200
    assert "06.05.24 07:08" in text_of(response)


# --- Search: what a reader asks for ------------------------------------------------------------


def found(client, **filters):
    response = client.get("/search", query_string={"q": "zeppelin", **filters})
    assert response.status_code == 200, filters
    page = html.unescape(text_of(response))
    return 'class="search-count"' in page, page


@pytest.mark.parametrize("zone", ["UTC", "Europe/Moscow", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_search_limits_beyond_the_range_mean_its_ends(client, zone):
    make_article(title="Zeppelin", published_at=dt.datetime(2019, 7, 21, 8, 16))
    set_timezone(zone)
    assert found(client, to="9999-12-31")[0]
    assert found(client, **{"from": "0001-01-01"})[0]
    assert found(client, **{"from": "0001-01-01", "to": "9999-12-31"})[0]
    assert not found(client, **{"from": "9999-12-31"})[0]
    assert not found(client, to="0001-01-01")[0]
    hit, page = found(client, to="2024-02-30")
    assert hit and "“2024-02-30” is not a date like 2019-07-21" in page


# --- The site's timezone (imports: test_archive.py) ---------------------------------------


def test_every_timezone_the_admin_may_choose_shows_the_whole_range():
    for name in ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kathmandu", "America/St_Johns"):
        assert dates.is_timezone(name)
    for name in ("Mars/Olympus", "", "../../etc/passwd", "\x00", None, "x" * 1000):
        assert not dates.is_timezone(name)
