"""Who is editing: the heartbeats (models.Presence), their routes, and what people see.

Advice, never a lock: an editor with an article open shows up, for the others only, on
the article page (staff panel and beside the field), on the full edit page and in the
desk list; it goes when the editor closes or falls silent; nobody is ever blocked; and
readers never see any of it. The browser side is in tests/browser/test_who_is_editing.py.
"""

import datetime as dt
import re

import pytest
from conftest import set_clock
from desk_helpers import HX, Newsroom, article_url, fresh, log_in, text_of
from test_security import csrf_login, form_token, meta_token

import factories
from models import Article, Presence, SiteSettings

NOW = dt.datetime(2026, 3, 2, 10, 42, 5)


@pytest.fixture
def newsroom(app):
    return Newsroom.create()


@pytest.fixture
def clock(monkeypatch):
    """`clock(moment)` stops the models' clock at `moment`; starts at NOW."""

    def move(moment):
        set_clock(monkeypatch, moment)

    move(NOW)
    return move


def rows():
    query = Presence.select().order_by(Presence.id)
    return [(r.article_id, r.user_id, r.field, r.since, r.seen_at) for r in query]


def who(rows_):
    return [(row.user.display_name, row.field) for row in rows_]


def beat(client, article, field):
    return client.post(f"/desk/articles/{article.id}/editing", data={"field": field})


def done(client, article, field):
    return client.post(f"/desk/articles/{article.id}/editing/done", data={"field": field})


def panel_notice(page):
    """The text of the staff panel's notice of who else is editing ("" if nobody)."""
    match = re.search(r'<div class="presence" id="presence".*?</div>', page, re.S)
    assert match, "no presence notice in the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def field_notice(page, name):
    match = re.search(rf'<div class="presence-field" id="presence-{name}"[^>]*>(.*?)</div>', page)
    assert match, f"no notice beside the {name}"
    return match.group(1)


# --- The model ------------------------------------------------------------------------------


def test_a_beat_shows_the_editor_to_others_but_not_to_themselves(newsroom, clock):
    article = newsroom.article()
    Presence.beat(article, newsroom.editor, "title")
    assert who(Presence.others(article, newsroom.editor2)) == [("Edna Editor", "title")]
    assert Presence.others(article, newsroom.editor) == []
    assert Presence.others(newsroom.article(), newsroom.editor2) == []  # another article


def test_beats_keep_since_while_the_editor_stays_open(newsroom, clock):
    article = newsroom.article()
    Presence.beat(article, newsroom.editor, "body")
    later = NOW + dt.timedelta(seconds=40)
    clock(later)
    Presence.beat(article, newsroom.editor, "body")
    assert rows() == [(article.id, newsroom.editor.id, "body", NOW, later)]


def test_each_open_field_is_its_own_row_with_its_own_since(newsroom, clock):
    article = newsroom.article()
    Presence.beat(article, newsroom.editor, "title")
    clock(NOW + dt.timedelta(seconds=5))
    Presence.beat(article, newsroom.editor, "body")
    Presence.beat(article, newsroom.editor, "title")
    shown = Presence.others(article, newsroom.editor2)
    assert [(r.field, r.since) for r in shown] == [
        ("title", NOW),
        ("body", NOW + dt.timedelta(seconds=5)),
    ]
    Presence.leave(article, newsroom.editor, "title")  # closed: the body stays open
    assert who(Presence.others(article, newsroom.editor2)) == [("Edna Editor", "body")]


def test_leave_ends_only_that_editors_field(newsroom, clock):
    article = newsroom.article()
    Presence.beat(article, newsroom.editor, "title")
    Presence.beat(article, newsroom.editor2, "title")
    Presence.leave(article, newsroom.editor, "title")
    assert who(Presence.others(article, newsroom.author)) == [("Ed Second", "title")]
    Presence.leave(article, newsroom.editor, "title")  # twice: nothing to end, no error
    assert len(rows()) == 1


def test_a_silent_editor_is_gone_after_a_minute(newsroom, clock):
    article = newsroom.article()
    Presence.beat(article, newsroom.editor, "lead")
    clock(NOW + Presence.FRESH)
    assert who(Presence.others(article, newsroom.editor2)) == [("Edna Editor", "lead")]
    clock(NOW + Presence.FRESH + dt.timedelta(seconds=1))
    assert Presence.others(article, newsroom.editor2) == []
    assert Presence.on_articles([article.id], newsroom.editor2) == {}


def test_a_beat_after_silence_counts_as_opened_again(newsroom, clock):
    article = newsroom.article()
    Presence.beat(article, newsroom.editor, "lead")
    back = NOW + Presence.FRESH + dt.timedelta(seconds=10)
    clock(back)
    Presence.beat(article, newsroom.editor, "lead")
    assert [r.since for r in Presence.others(article, newsroom.editor2)] == [back]


def test_beats_delete_long_silent_rows_of_everyone(newsroom, clock):
    old, current = newsroom.article(), newsroom.article()
    Presence.beat(old, newsroom.editor, "title")
    Presence.beat(old, newsroom.editor2, "body")
    clock(NOW + Presence.KEPT + dt.timedelta(seconds=1))
    Presence.beat(current, newsroom.author, "title")
    assert [(r[0], r[2]) for r in rows()] == [(current.id, "title")]


def test_desk_list_helper_answers_many_articles_in_one_query(newsroom, clock, query_counter):
    first, second, nobody = newsroom.article(), newsroom.article(), newsroom.article()
    Presence.beat(first, newsroom.editor, "title")
    Presence.beat(first, newsroom.author, "body")
    Presence.beat(second, newsroom.editor, Presence.WHOLE)
    Presence.beat(second, newsroom.editor2, "lead")  # the viewer's own
    with query_counter() as queries:
        found = Presence.on_articles([first.id, second.id, nobody.id], newsroom.editor2)
    assert len(queries) == 1
    assert {key: who(value) for key, value in found.items()} == {
        first.id: [("Edna Editor", "title"), ("Ann Author", "body")],
        second.id: [("Edna Editor", "article")],
    }


def test_presence_goes_with_the_article_and_is_never_content(newsroom, clock):
    article = newsroom.article("trash")
    version = SiteSettings.get_by_id(1).content_version
    Presence.beat(article, newsroom.editor, "title")
    assert SiteSettings.get_by_id(1).content_version == version  # cached pages stay
    Article.empty_trash()
    assert rows() == []


# --- The routes: who may send heartbeats, and bad input -------------------------------------


@pytest.mark.parametrize("route", [beat, done])
def test_anonymous_visitors_are_sent_to_log_in(client, newsroom, route):
    article = newsroom.article("published")
    response = route(client, article, "title")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get(f"/desk/articles/{article.id}/editors").status_code == 302
    assert rows() == []


@pytest.mark.parametrize("route", [beat, done])
def test_readers_are_refused(client, newsroom, route):
    article = newsroom.article("published")
    log_in(client, newsroom.reader)
    assert route(client, article, "title").status_code == 403
    assert client.get(f"/desk/articles/{article.id}/editors").status_code == 403
    assert rows() == []


def test_authors_beat_on_their_own_draft_only_for_fields_they_may_edit(client, newsroom):
    own = newsroom.article("draft")
    log_in(client, newsroom.author)
    for field in ("title", "body", "lead_image", Presence.WHOLE):
        assert beat(client, own, field).status_code == 204, field
    for field in ("hot", "author", "published_at"):  # the editors' calls
        assert beat(client, own, field).status_code == 403, field
    assert {r[2] for r in rows()} == {"title", "body", "lead_image", Presence.WHOLE}


def test_authors_get_nothing_of_articles_they_may_not_see(client, newsroom):
    theirs = newsroom.article("draft", author=newsroom.other_author)
    log_in(client, newsroom.author)
    assert beat(client, theirs, "title").status_code == 404
    assert done(client, theirs, "title").status_code == 404
    assert client.get(f"/desk/articles/{theirs.id}/editors").status_code == 404
    assert rows() == []


def test_an_article_nobody_may_edit_refuses_heartbeats_but_shows_who_is_there(client, newsroom):
    submitted = newsroom.article("submitted")  # the author's, out of their hands now
    Presence.beat(submitted, newsroom.editor, "title")
    log_in(client, newsroom.author)
    assert beat(client, submitted, Presence.WHOLE).status_code == 403
    assert beat(client, submitted, "title").status_code == 403
    response = client.get(f"/desk/articles/{submitted.id}/editors", headers=HX)
    assert "Edna Editor is editing the title" in text_of(response)
    # Closing an editor needs no right to edit: it may have gone while it was open.
    assert done(client, submitted, "title").status_code == 204


@pytest.mark.parametrize(
    "field", ["", "x", "lead_image_alt", "Title", "title ", "\x00", "x" * 10_000, None]
)
def test_a_heartbeat_naming_no_field_is_a_400(client, newsroom, field):
    article = newsroom.article()
    log_in(client, newsroom.editor)
    data = {} if field is None else {"field": field}
    for url in (
        f"/desk/articles/{article.id}/editing",
        f"/desk/articles/{article.id}/editing/done",
    ):
        response = client.post(url, data=data)
        assert response.status_code == 400
        assert "did not name a field" in text_of(response)
    assert rows() == []


@pytest.mark.parametrize("article_id", ["0", "-1", str(2**31), str(2**63), "x", "999999"])
def test_a_heartbeat_for_no_article_is_a_404(client, newsroom, article_id):
    log_in(client, newsroom.editor)
    for url in (
        f"/desk/articles/{article_id}/editing",
        f"/desk/articles/{article_id}/editing/done",
    ):
        assert client.post(url, data={"field": "title"}).status_code == 404
    assert client.get(f"/desk/articles/{article_id}/editors").status_code == 404
    assert rows() == []


def test_heartbeats_need_the_csrf_token_as_the_browser_sends_it(csrf_app, newsroom):
    article = newsroom.article()
    client = csrf_login(csrf_app.test_client(), newsroom.editor)
    assert beat(client, article, "title").status_code == 400
    assert rows() == []
    token = meta_token(client.get(article_url(article)))
    # presence.js sends the token in the form: sendBeacon cannot set headers.
    response = client.post(
        f"/desk/articles/{article.id}/editing", data={"field": "title", "csrf_token": token}
    )
    assert response.status_code == 204
    assert [r[2] for r in rows()] == ["title"]
    response = client.post(
        f"/desk/articles/{article.id}/editing/done", data={"field": "title", "csrf_token": token}
    )
    assert response.status_code == 204 and rows() == []
    assert form_token(client.get(f"/desk/articles/{article.id}/edit"))  # and the page works


# --- What people see ------------------------------------------------------------------------


def test_others_see_who_edits_which_field_since_when_in_site_time(client, newsroom, clock):
    SiteSettings.update(timezone="Europe/Moscow").execute()  # UTC+3
    SiteSettings.bump_content_version()
    article = newsroom.article("published")
    Presence.beat(article, newsroom.editor, "body")
    for beats in range(1, 10):  # still open, 7.5 minutes later
        clock(NOW + beats * dt.timedelta(seconds=50))
        Presence.beat(article, newsroom.editor, "body")
    Presence.beat(article, newsroom.author, "title")
    log_in(client, newsroom.editor2)
    page = text_of(client.get(article_url(article)))
    assert panel_notice(page) == (
        "Edna Editor is editing the text (since 13:42); Ann Author is editing the title "
        "(since 13:49)"
    )
    assert field_notice(page, "body") == "Edna Editor is editing the text (since 13:42)"
    assert field_notice(page, "title") == "Ann Author is editing the title (since 13:49)"
    assert field_notice(page, "lead") == ""
    assert 'role="status"' in page  # announced, politely


def test_the_editor_does_not_see_themselves(client, newsroom, clock):
    article = newsroom.article("published")
    Presence.beat(article, newsroom.editor, "title")
    log_in(client, newsroom.editor)
    page = text_of(client.get(article_url(article)))
    assert "is editing" not in page
    assert panel_notice(page) == ""


def test_the_full_form_is_an_editor_of_every_field(client, newsroom, clock):
    article = newsroom.article("draft")
    log_in(client, newsroom.editor)
    assert client.get(f"/desk/articles/{article.id}/edit").status_code == 200
    assert [r[2] for r in rows()] == [Presence.WHOLE]  # no JavaScript needed
    other = log_in(client.application.test_client(), newsroom.editor2)
    page = text_of(other.get(article_url(article)))
    assert "Edna Editor is editing the whole article (since 10:42)" in panel_notice(page)
    for name in ("title", "body", "hot"):
        assert field_notice(page, name) == "Edna Editor is editing the whole article (since 10:42)"
    # Its own edit page shows the others too, and the full form opened there.
    edit_page = text_of(other.get(f"/desk/articles/{article.id}/edit"))
    assert "Edna Editor is editing the whole article" in panel_notice(edit_page)
    assert 'data-field="article"' in edit_page


def test_saving_the_full_form_closes_it_and_a_refused_save_keeps_it_open(client, newsroom):
    article = newsroom.article("draft")
    log_in(client, newsroom.editor)
    url = f"/desk/articles/{article.id}/edit"
    form = {
        "title": "", "lead": "", "body": "", "section": str(newsroom.news.id),
        "rubric": str(newsroom.security.id), "author": str(newsroom.author.id),
        "published_at": "", "lead_image": "", "version": "1",
    }  # fmt: skip
    assert client.post(url, data=form).status_code == 422  # no title
    assert [r[2] for r in rows()] == [Presence.WHOLE]
    response = client.post(url, data={**form, "title": "Saved at last"})
    assert response.status_code == 302
    assert rows() == []


def test_the_in_place_editor_carries_its_heartbeat_and_shows_who_else_is_on_the_field(
    client, newsroom, clock
):
    article = newsroom.article("draft")
    Presence.beat(article, newsroom.editor2, "title")
    log_in(client, newsroom.editor)
    form = text_of(client.get(f"/desk/articles/{article.id}/fields/title/edit", headers=HX))
    assert field_notice(form, "title") == "Ed Second is editing the title (since 10:42)"
    beat_marker = re.search(r"<span hidden data-presence-beat=[^>]*>", form).group(0)
    assert f'"/desk/articles/{article.id}/editing"' in beat_marker
    assert 'data-field="title"' in beat_marker and 'data-every="20"' in beat_marker
    # Views carry no heartbeat: only open editors do.
    view = text_of(client.get(f"/desk/articles/{article.id}/fields/title", headers=HX))
    assert "data-presence-beat" not in view
    assert field_notice(view, "title") == "Ed Second is editing the title (since 10:42)"


def test_nobody_is_blocked_by_someone_editing(client, newsroom, clock):
    article = newsroom.article("draft")
    Presence.beat(article, newsroom.editor2, "title")
    log_in(client, newsroom.editor)
    response = client.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": "Mine anyway", "version": "1"},
        headers=HX,
    )
    assert response.status_code == 200 and "Title saved." in text_of(response)
    assert fresh(article).title == "Mine anyway"
    assert client.get(f"/desk/articles/{article.id}/edit").status_code == 200


def test_the_poll_answers_the_notice_and_the_fields_out_of_band(client, newsroom, clock):
    article = newsroom.article("draft")
    Presence.beat(article, newsroom.editor2, "lead")
    log_in(client, newsroom.editor)
    url = f"/desk/articles/{article.id}/editors"
    response = client.get(url + "?spots=title,lead,nonsense,lead_image_alt", headers=HX)
    assert response.status_code == 200
    page = text_of(response)
    assert "<p>Ed Second is editing the lead (since 10:42)</p>" in page
    spots = re.findall(r'id="presence-(\w+)" hx-swap-oob="true">([^<]*)<', page)
    assert spots == [("title", ""), ("lead", "Ed Second is editing the lead (since 10:42)")]
    shown = re.search(r'name="shown" value="(\w+)"', page).group(1)

    # Nothing changed: nothing sent, so screen readers hear nothing again.
    unchanged = client.get(url, query_string={"spots": "title,lead", "shown": shown}, headers=HX)
    assert unchanged.status_code == 204 and unchanged.data == b""
    # Another beat keeps the notice as it is; a new editor, or one leaving, changes it.
    clock(NOW + dt.timedelta(seconds=20))
    Presence.beat(article, newsroom.editor2, "lead")
    assert client.get(url, query_string={"shown": shown}).status_code == 204
    Presence.leave(article, newsroom.editor2, "lead")
    gone = client.get(url, query_string={"shown": shown, "spots": "lead"}, headers=HX)
    assert gone.status_code == 200
    assert "is editing" not in text_of(gone)
    assert 'id="presence-lead" hx-swap-oob="true"></div>' in text_of(gone)


def test_the_article_page_polls_for_every_field_it_shows(client, newsroom):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    page = text_of(client.get(article_url(article)))
    poll = re.search(r'hx-get="([^"]*/editors[^"]*)"', page).group(1)
    listed = re.search(r"spots=([^&\"]*)", poll).group(1).replace("%2C", ",").split(",")
    assert sorted(listed) == sorted(Article.EDITOR_FIELDS)
    for name in Article.EDITOR_FIELDS:  # each has its notice: no swap is left without target
        field_notice(page, name)
    assert 'hx-trigger="every 20s"' in page
    client.application.config["PRESENCE_POLL_SECONDS"] = 3
    assert 'hx-trigger="every 3s"' in text_of(client.get(article_url(article)))


def test_the_desk_list_shows_who_is_editing_each_row(client, newsroom, clock):
    busy = newsroom.article("draft", title="Busy one")
    quiet = newsroom.article("draft", title="Quiet one")
    Presence.beat(busy, newsroom.editor2, "title")
    Presence.beat(busy, newsroom.author, Presence.WHOLE)
    Presence.beat(quiet, newsroom.editor, "body")  # the viewer's own
    log_in(client, newsroom.editor)
    page = text_of(client.get("/desk/"))
    rows_ = {
        title: " ".join(re.sub(r"<[^>]+>", " ", cell).split())
        for title, cell in re.findall(r'<td><a href="[^"]*">([^<]*)</a>(.*?)</td>', page, re.S)
    }
    assert rows_["Busy one"] == (
        "Ed Second is editing the title (since 10:42); "
        "Ann Author is editing the whole article (since 10:42)"
    )
    assert rows_["Quiet one"] == ""
    filtered = text_of(
        client.get("/desk/?state=draft", headers={**HX, "HX-Target": "desk-results"})
    )
    assert "Ed Second is editing the title" in filtered


# --- Readers never see it -------------------------------------------------------------------


def test_readers_never_see_who_is_editing(client, newsroom):
    article = newsroom.article("published")
    Presence.beat(article, newsroom.editor, "title")
    for reader in (None, newsroom.reader):
        visitor = client.application.test_client()
        if reader:
            log_in(visitor, reader)
        for url in (article_url(article), "/text" + article_url(article)):
            for _ in range(2):  # rendered, then from the page cache
                page = text_of(visitor.get(url))
                assert article.title in page
                for leak in ("is editing", "presence", "Edna Editor"):
                    assert leak not in page, (reader, url, leak)


def test_staff_see_no_presence_in_the_text_version(client, newsroom):
    article = newsroom.article("published")
    Presence.beat(article, newsroom.editor2, "title")
    log_in(client, newsroom.editor)
    page = text_of(client.get("/text" + article_url(article)))
    assert "is editing" not in page and "presence" not in page


def test_anonymous_article_page_loads_no_more_script_than_before(client):
    article = factories.make_article()
    page = text_of(client.get(article_url(article)))
    assert re.findall(r'<script src="([^"]+)"', page) == [
        "/static/js/htmx.min.js",
        "/static/js/newsdesk.js",
    ]


# --- Markup ---------------------------------------------------------------------------------


@pytest.mark.page_quality
def test_pages_showing_who_is_editing_are_valid_html(client, newsroom, vnu):
    article = newsroom.article("draft")
    Presence.beat(article, newsroom.editor2, "title")
    Presence.beat(article, newsroom.author, Presence.WHOLE)
    log_in(client, newsroom.editor)
    pages = {
        "article page": text_of(client.get(article_url(article))),
        "edit page": text_of(client.get(f"/desk/articles/{article.id}/edit")),
        "desk": text_of(client.get("/desk/")),
    }
    assert all("is editing" in page for page in pages.values())
    assert vnu(pages) == {name: [] for name in pages}
