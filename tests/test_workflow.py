"""The publishing workflow (draft → submitted → published or scheduled → unpublished,
trash and restore) and the newsroom dashboard.

Scheduled articles go live when their time comes with no job running: the tests move
the clock (models.utcnow) and check every place a reader could see an article.
"""

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from conftest import set_clock
from desk_helpers import (
    HX,
    Newsroom,
    fresh,
    log_in,
    revision_count,
    snapshot,
    text_of,
)

import models
from blueprints.desk import ACTION_LABELS
from models import Article, Revision

STATES = ("draft", "submitted", "scheduled", "published", "unpublished", "trash")


@pytest.fixture
def newsroom(app):
    return Newsroom.create()


@pytest.fixture
def editor(app, newsroom):
    return log_in(app.test_client(), newsroom.editor)


@pytest.fixture
def author(app, newsroom):
    return log_in(app.test_client(), newsroom.author)


def act(client, article, action, htmx=True, **data):
    return client.post(
        f"/desk/articles/{article.id}/actions/{action}", data=data, headers=HX if htmx else {}
    )


def local(value):
    return value.strftime("%Y-%m-%dT%H:%M")


def freeze(monkeypatch, moment):
    """Move the clock the site's queries compare with."""
    set_clock(monkeypatch, moment)


# --- Where readers can see an article ------------------------------------------------------------


def sidebar(page, slug):
    match = re.search(
        rf'<section class="sidebar-list" id="sidebar-{slug}".*?</section>', page, re.S
    )
    return match.group(0) if match else ""


def reader_sees(app, article):
    """{place: whether an anonymous reader finds the article there}."""
    article = fresh(article)
    reader = app.test_client()
    path = f"/articles/{article.id}/{article.slug}"
    main = text_of(reader.get("/"))
    section, rubric, author = article.section.slug, article.rubric.slug, article.author.slug
    return {
        "article page": reader.get(path).status_code == 200,
        "short article url": reader.get(f"/articles/{article.id}").status_code == 301,
        "text version": reader.get("/text" + path).status_code == 200,
        "print version": reader.get(path + "/print").status_code == 200,
        "main page": path in main,
        "sidebar": path in sidebar(main, section),
        "section page": path in text_of(reader.get(f"/section/{section}")),
        "rubric page": path in text_of(reader.get(f"/rubric/{rubric}")),
        "author page": path in text_of(reader.get(f"/authors/{author}")),
        "site feed": path in text_of(reader.get("/rss.xml")),
        "section feed": path in text_of(reader.get(f"/section/{section}/rss.xml")),
        "rubric feed": path in text_of(reader.get(f"/rubric/{rubric}/rss.xml")),
        "sitemap": path in text_of(reader.get("/sitemap.xml")),
    }


def seen_nowhere(app, article):
    return {place for place, seen in reader_sees(app, article).items() if seen} == set()


def seen_everywhere(app, article):
    return {place for place, seen in reader_sees(app, article).items() if not seen} == set()


def reader_places(app, article):
    return {place for place, seen in reader_sees(app, article).items() if seen}


ALL_PLACES = {
    "article page",
    "short article url",
    "text version",
    "print version",
    "main page",
    "sidebar",
    "section page",
    "rubric page",
    "author page",
    "site feed",
    "section feed",
    "rubric feed",
    "sitemap",
}


def test_a_published_article_is_seen_everywhere_and_a_draft_nowhere(app, newsroom):
    """The check itself: it finds a published article in every place."""
    assert reader_places(app, newsroom.article("published")) == ALL_PLACES
    assert reader_places(app, newsroom.article("draft")) == set()


# --- The workflow --------------------------------------------------------------------------------


def panel_state(response):
    match = re.search(r'<span class="state-badge state-(\w+)">', text_of(response))
    return match.group(1) if match else None


def test_draft_submit_publish_unpublish_back_to_draft(app, newsroom, author, editor):
    created = author.post(
        "/desk/articles/new", data={"title": "Workflow story", "section": newsroom.news.id}
    )
    assert created.status_code == 302
    article = Article.get(Article.title == "Workflow story")
    assert fresh(article).state == "draft"
    assert reader_places(app, article) == set()

    submitted = act(author, article, "submit")
    assert submitted.status_code == 200
    assert text_of(submitted).lstrip().startswith('<section class="desk-panel" id="article-status"')
    assert panel_state(submitted) == "submitted"
    assert "Submitted for review." in text_of(submitted)
    assert fresh(article).state == "submitted"
    assert reader_places(app, article) == set()
    # Out of the author's hands now.
    refused = author.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": "Sneaky", "version": str(fresh(article).version)},
        headers=HX,
    )
    assert refused.status_code == 403
    assert act(author, article, "publish").status_code == 403

    before = models.utcnow()
    published = act(editor, article, "publish")
    assert published.status_code == 200
    assert panel_state(published) == "published"
    stored = fresh(article)
    assert stored.state == "published"
    assert before - dt.timedelta(seconds=1) <= stored.published_at <= models.utcnow()
    assert reader_places(app, article) == ALL_PLACES

    unpublished = act(editor, article, "unpublish")
    assert unpublished.status_code == 200
    assert panel_state(unpublished) == "unpublished"
    assert reader_places(app, article) == set()
    # Staff still see it, with its state.
    assert "state-unpublished" in text_of(editor.get(f"/articles/{article.id}/workflow-story"))

    back = act(editor, article, "return_to_draft")
    assert back.status_code == 200
    assert panel_state(back) == "draft"
    assert fresh(article).state == "draft"
    # The author may edit their draft again.
    again = author.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": "Workflow story, revised", "version": str(fresh(article).version)},
        headers=HX,
    )
    assert again.status_code == 200

    revisions = Revision.select().where(Revision.article == article.id).order_by(Revision.version)
    actions = [r.action for r in revisions]
    assert actions == ["created", "submit", "publish", "unpublish", "return to draft", "edited"]


def test_author_may_withdraw_own_submission(author, newsroom):
    article = newsroom.article("submitted")
    response = act(author, article, "return_to_draft")
    assert response.status_code == 200
    assert fresh(article).state == "draft"


@pytest.mark.parametrize(
    ("state", "actions"),
    [
        ("draft", ["submit", "publish", "schedule", "trash"]),
        ("submitted", ["return_to_draft", "publish", "schedule", "trash"]),
        ("scheduled", ["publish", "schedule", "unpublish", "trash"]),
        ("published", ["unpublish", "trash"]),
        ("unpublished", ["return_to_draft", "publish", "publish_as_new", "schedule", "trash"]),
        ("trash", ["restore"]),
    ],
)
def test_editor_is_offered_the_steps_of_each_state(editor, newsroom, state, actions):
    article = newsroom.article(state)
    page = text_of(editor.get(f"/articles/{article.id}/{article.slug}"))
    offered = re.findall(rf"/desk/articles/{article.id}/actions/(\w+)\"", page)
    assert sorted(set(offered)) == sorted(actions)


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("draft", "unpublish"),
        ("draft", "restore"),
        ("draft", "publish_as_new"),
        ("published", "publish"),
        ("published", "publish_as_new"),
        ("published", "submit"),
        ("trash", "publish"),
    ],
)
def test_a_step_the_state_does_not_allow_is_refused_saying_why(editor, newsroom, state, action):
    article = newsroom.article(state)
    before = snapshot()
    response = act(editor, article, action)
    assert response.status_code == 409
    assert panel_message(response).startswith(f"“{ACTION_LABELS[action]}” was not done: ")
    assert f"the article is {state} now" in panel_message(response)
    assert panel_state(response) == state
    assert snapshot() == before


def test_an_unknown_step_is_404(editor, newsroom):
    article = newsroom.article("draft")
    before = snapshot()
    assert act(editor, article, "explode").status_code == 404
    assert snapshot() == before


def test_action_without_javascript_redirects_with_a_message(editor, newsroom):
    article = newsroom.article("draft", title="Plain form story")
    response = act(editor, article, "publish", htmx=False)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/articles/{article.id}/plain-form-story"
    assert "Published." in text_of(editor.get(response.headers["Location"]))


def test_a_step_after_someone_elses_save_is_taken_on_the_article_as_it_is(editor, newsroom):
    """Workflow steps never conflict with content saves: the version the page showed
    does not matter (issue 12)."""
    article = newsroom.article("draft")
    article.save_changes({"lead": "Someone else's lead"}, 1, newsroom.editor2)

    response = act(editor, article, "publish", version="1")

    assert response.status_code == 200
    assert panel_state(response) == "published"
    stored = fresh(article)
    assert (stored.state, stored.lead, stored.version) == ("published", "Someone else's lead", 3)
    assert 'data-version="3"' in text_of(response)


def panel_message(response):
    """What the page's one message region says (filled out of band in an htmx answer)."""
    match = re.search(r'<div class="flashes" id="messages"[^>]*>(.*?)</div>', text_of(response))
    said = match and re.findall(r"<p>(.*?)</p>", match.group(1))
    return html.unescape(" ".join(said)) if said else None


IMAGE_WITHOUT_ALT = '<p><img src="/media/a.png"></p>'
# A step refused for what it was asked: (step, the article's fields, form, message).
REFUSALS = {
    "publish without alt text": (
        "publish", {"body": IMAGE_WITHOUT_ALT}, {}, "An image in the text has no alt text"
    ),
    "schedule without alt text": (
        "schedule",
        {"body": IMAGE_WITHOUT_ALT},
        {"published_at": "2999-01-01T10:00"},
        "An image in the text has no alt text",
    ),
    "schedule in the past": (
        "schedule",
        {},
        {"published_at": "2001-01-01T10:00"},
        "Choose a publication time in the future.",
    ),
    "schedule without a time": ("schedule", {}, {}, "Choose a publication time in the future."),
    "schedule a bad date": (
        "schedule", {}, {"published_at": "2024-02-30T10:00"}, "Enter a date and time like"
    ),
    "schedule past the range": (
        "schedule", {}, {"published_at": "9999-12-31T18:00"}, "Enter a time between 1900-01-01"
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_step_without_javascript_answers_422_with_the_page(editor, newsroom, case):
    action, fields, form, message = REFUSALS[case]
    article = newsroom.article("draft", title="Refused story", author=newsroom.editor, **fields)
    before = snapshot()

    response = act(editor, article, action, htmx=False, **form)

    assert response.status_code == 422
    page = text_of(response)
    assert page.startswith("<!doctype html>") and "<h1>Refused story</h1>" in page
    assert message in panel_message(response)
    assert panel_state(response) == "draft"
    assert snapshot() == before
    # The same message as the htmx path's panel.
    swapped = act(editor, article, action, **form)
    assert (swapped.status_code, panel_message(swapped)) == (422, panel_message(response))


STEPS = [
    ("draft", "submit"),
    ("submitted", "return_to_draft"),
    ("draft", "publish"),
    ("draft", "schedule"),
    ("published", "unpublish"),
    ("published", "trash"),
    ("trash", "restore"),
]


@pytest.mark.parametrize(("state", "action"), STEPS)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_step_needs_no_version(editor, newsroom, state, action, htmx):
    article = newsroom.article(state)
    Article.update(version=7).where(Article.id == article.id).execute()
    form = {"published_at": "2999-01-01T10:00"} if action == "schedule" else {}

    response = editor.post(
        f"/desk/articles/{article.id}/actions/{action}", data=form, headers=HX if htmx else {}
    )

    assert response.status_code == (200 if htmx else 302)
    assert fresh(article).version == 8


# Each step after another editor took one that leaves it not allowed: (state, what the
# other editor did, the step taken from a page that still offers it).
TAKEN_MEANWHILE = [
    ("published", "unpublish", "unpublish"),
    ("published", "trash", "unpublish"),
    ("draft", "publish", "publish"),
    ("draft", "submit", "submit"),
    ("unpublished", "publish", "publish_as_new"),
    ("trash", "restore", "restore"),
]


@pytest.mark.parametrize(("state", "meanwhile", "action"), TAKEN_MEANWHILE)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_step_someone_else_took_first_is_refused_with_the_article_as_it_is(
    editor, newsroom, state, meanwhile, action, htmx
):
    article = newsroom.article(state)
    page = text_of(editor.get(f"/articles/{article.id}/{article.slug}"))
    assert f"/desk/articles/{article.id}/actions/{action}" in page  # offered then
    fresh(article).take_action(meanwhile, newsroom.editor2)
    now = fresh(article).state
    before = snapshot()

    response = act(editor, article, action, htmx=htmx)

    assert response.status_code == 409
    message = panel_message(response)
    assert message.startswith(f"“{ACTION_LABELS[action]}” was not done: the article is {now} now")
    assert f"{meanwhile.replace('_', ' ')} by Ed Second" in message
    assert panel_state(response) == now
    assert snapshot() == before
    if not htmx:  # the article page itself, its panel saying why
        assert text_of(response).startswith("<!doctype html>")


# --- Scheduling ----------------------------------------------------------------------------------


def test_scheduled_article_appears_on_its_time_without_any_job(app, editor, newsroom, monkeypatch):
    article = newsroom.article("draft", title="Tomorrow's news")
    when = (models.utcnow() + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    reader = app.test_client()

    response = act(editor, article, "schedule", published_at=local(when))

    assert response.status_code == 200
    assert panel_state(response) == "scheduled"
    assert "Scheduled." in text_of(response)
    assert f"for {when:%d.%m.%y %H:%M}" in text_of(response)
    stored = fresh(article)
    assert (stored.status, stored.published_at, stored.state) == ("published", when, "scheduled")
    assert reader_places(app, article) == set()
    # Until its time, the main page a reader has is still current.
    etag = reader.get("/").headers["ETag"]
    assert reader.get("/", headers={"If-None-Match": etag}).status_code == 304
    # Shown as scheduled on the dashboard, with its time.
    listed = dashboard_rows(editor.get("/desk/"))
    assert ("Tomorrow's news", "scheduled") in listed
    assert titles(editor.get("/desk/?state=scheduled")) == ["Tomorrow's news"]
    assert "Tomorrow's news" not in titles(editor.get("/desk/?state=published"))

    freeze(monkeypatch, when + dt.timedelta(minutes=1))

    assert reader_places(app, article) == ALL_PLACES
    fresh_main = reader.get("/", headers={"If-None-Match": etag})
    assert fresh_main.status_code == 200
    assert "Tomorrow&#39;s news" in text_of(fresh_main) or "Tomorrow's news" in text_of(fresh_main)
    assert fresh(article).state == "published"
    assert ("Tomorrow's news", "published") in dashboard_rows(editor.get("/desk/"))
    assert titles(editor.get("/desk/?state=scheduled")) == []


def test_schedule_reads_the_time_in_the_site_timezone(editor, newsroom):
    models.SiteSettings.update(timezone="Europe/Moscow").execute()
    article = newsroom.article("draft")
    when_utc = (models.utcnow() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    typed = local(when_utc + dt.timedelta(hours=3))  # Moscow is UTC+3 all year
    response = act(editor, article, "schedule", published_at=typed)
    assert response.status_code == 200
    assert fresh(article).published_at == when_utc
    shown = dt.datetime.strptime(typed, "%Y-%m-%dT%H:%M")
    assert f"for {shown:%d.%m.%y %H:%M}" in text_of(response)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("past", "Choose a publication time in the future."),
        ("", "Choose a publication time in the future."),
        ("2026-13-45T99:99", "Enter a date and time like"),
        ("0001-01-01T00:00", "Enter a time between 1900-01-01 and 2999-12-31."),
    ],
    ids=["past", "missing", "bad-date", "year-0001"],
)
def test_schedule_needs_a_future_time(editor, newsroom, typed, message):
    article = newsroom.article("draft")
    if typed == "past":
        typed = local(models.utcnow() - dt.timedelta(hours=1))
    before = snapshot()

    response = act(editor, article, "schedule", published_at=typed)

    assert response.status_code == 422
    assert message in html.unescape(text_of(response))
    assert panel_state(response) == "draft"
    assert snapshot() == before


def test_a_scheduled_article_can_be_published_now_or_unpublished(app, editor, newsroom):
    article = newsroom.article("scheduled")
    assert act(editor, article, "publish").status_code == 200
    assert fresh(article).state == "published"
    assert reader_places(app, article) == ALL_PLACES

    later = newsroom.article("scheduled")
    assert act(editor, later, "unpublish").status_code == 200
    assert fresh(later).state == "unpublished"


def test_rescheduling_moves_the_time(editor, newsroom):
    article = newsroom.article("scheduled")
    when = (models.utcnow() + dt.timedelta(days=10)).replace(second=0, microsecond=0)
    response = act(editor, article, "schedule", published_at=local(when))
    assert response.status_code == 200
    assert fresh(article).published_at == when


# --- Dates that stay true: republishing -------------------------------------------------------


def latest(app):
    """Titles of the main page's list of latest articles and of the site's RSS, in order."""
    reader = app.test_client()
    main = text_of(reader.get("/"))
    listed = re.search(r'<ul class="article-list">.*?</ul>', main, re.S).group(0)
    titles = [html.unescape(t) for t in re.findall(r"<h2><a [^>]*>([^<]*)</a></h2>", listed)]
    feed = feedparser.parse(reader.get("/rss.xml").data)
    return titles, [entry.title for entry in feed.entries]


FIRST_PUBLISHED = dt.datetime(2019, 7, 21, 5, 16)


@pytest.fixture
def from_2019(app, newsroom):
    """A 2019 article, unpublished, and two newer ones still live."""
    old = newsroom.article("unpublished", title="From 2019", published_at=FIRST_PUBLISHED)
    for n in (1, 2):
        when = models.utcnow() - dt.timedelta(hours=n)
        newsroom.article("published", title=f"Newer {n}", published_at=when)
    return old


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_republishing_keeps_the_first_publication_date(app, editor, from_2019, htmx):
    """Issue 12: unpublished, then "Publish now", two 2019 articles jumped to the top of
    Latest and of the RSS feed, dated today."""
    response = act(editor, from_2019, "publish", htmx=htmx)

    assert response.status_code == (200 if htmx else 302)
    shown = response if htmx else editor.get(response.headers["Location"])
    assert "Published again, dated 21.07.19 05:16 as first published." in text_of(shown)
    stored = fresh(from_2019)
    assert (stored.state, stored.published_at) == ("published", FIRST_PUBLISHED)
    assert latest(app) == (["Newer 1", "Newer 2", "From 2019"],) * 2
    assert reader_places(app, from_2019) == ALL_PLACES


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_publish_as_new_dates_it_now_and_puts_it_on_top(app, editor, from_2019, htmx):
    Article.update(revised_at=dt.datetime(2019, 7, 22)).where(Article.id == from_2019.id).execute()
    page = text_of(editor.get(f"/articles/{from_2019.id}/from-2019"))
    explained = re.search(r'<p class="workflow-note">(.*?)</p>', page, re.S).group(1)
    assert " ".join(html.unescape(explained).split()) == (
        "First published 21.07.19 05:16. “Publish now” keeps that date; “Publish as new” "
        "dates it now and puts it back at the top of lists and feeds."
    )
    before = models.utcnow()

    response = act(editor, from_2019, "publish_as_new", htmx=htmx)

    assert response.status_code == (200 if htmx else 302)
    shown = response if htmx else editor.get(response.headers["Location"])
    assert "Published as new: dated now, at the top of lists and feeds." in text_of(shown)
    stored = fresh(from_2019)
    assert stored.state == "published"
    assert before - dt.timedelta(seconds=1) <= stored.published_at <= models.utcnow()
    assert stored.revised_at is None  # its old update is no news after a new publication
    assert latest(app) == (["From 2019", "Newer 1", "Newer 2"],) * 2
    assert revisions_of(from_2019)[-1].action == "publish as new"


def revisions_of(article):
    return list(Revision.select().where(Revision.article == article.id).order_by(Revision.version))


@pytest.mark.parametrize(
    ("state", "fields", "offered"),
    [
        ("unpublished", {}, True),
        ("draft", {"published_at": FIRST_PUBLISHED}, True),  # back to draft after publication
        ("unpublished", {"published_at": dt.datetime(2999, 1, 1)}, False),  # never live
        ("draft", {}, False),
        ("submitted", {}, False),
        ("published", {}, False),
        ("scheduled", {}, False),
    ],
)
def test_publish_as_new_is_offered_only_where_publish_keeps_an_old_date(
    editor, newsroom, state, fields, offered
):
    article = newsroom.article(state, **fields)
    page = text_of(editor.get(f"/articles/{article.id}/{article.slug}"))
    assert (f"/desk/articles/{article.id}/actions/publish_as_new" in page) == offered
    assert ('class="workflow-note"' in page) == offered


def test_authors_may_not_publish_as_new(author, newsroom):
    article = newsroom.article("unpublished")
    before = snapshot()
    assert act(author, article, "publish_as_new").status_code == 403
    assert snapshot() == before


# --- Trash ---------------------------------------------------------------------------------------


def test_trash_hides_the_article_and_restore_brings_it_back(app, editor, newsroom):
    article = newsroom.article("published", title="Binned story")
    assert reader_places(app, article) == ALL_PLACES

    trashed = act(editor, article, "trash", htmx=False)

    assert trashed.status_code == 302
    location = urlsplit(trashed.headers["Location"])
    assert (location.path, parse_qs(location.query)) == ("/desk/", {"state": ["trash"]})
    trash = editor.get(trashed.headers["Location"])
    assert "Moved to the trash." in text_of(trash)
    assert titles(trash) == ["Binned story"]
    assert f"/desk/articles/{article.id}/actions/restore" in text_of(trash)
    assert fresh(article).state == "trash"
    assert reader_places(app, article) == set()
    assert "Binned story" not in titles(editor.get("/desk/"))
    # Editors can still open it, to restore it.
    page = editor.get(f"/articles/{article.id}/binned-story")
    assert page.status_code == 200
    assert panel_state(page) == "trash"

    restored = act(editor, article, "restore", htmx=False)

    assert restored.status_code == 302
    assert fresh(article).state == "published"
    assert reader_places(app, article) == ALL_PLACES
    assert titles(editor.get("/desk/?state=trash")) == []


def test_emptying_the_trash_needs_the_confirm_box(app, editor, newsroom):
    binned = [newsroom.article("trash", title=f"Binned {n}") for n in (1, 2)]
    kept = newsroom.article("published", title="Kept")
    trash_page = text_of(editor.get("/desk/?state=trash"))
    assert re.search(
        r'<input type="checkbox" id="confirm-empty" name="confirm"[^>]*required', trash_page
    )
    before = snapshot()

    unconfirmed = editor.post("/desk/trash/empty", data={})

    assert unconfirmed.status_code == 302
    assert snapshot() == before
    assert "Tick the box" in text_of(editor.get(unconfirmed.headers["Location"]))
    assert editor.post("/desk/trash/empty", data={"confirm": "no"}).status_code == 302
    assert snapshot() == before

    confirmed = editor.post("/desk/trash/empty", data={"confirm": "yes"})

    assert confirmed.status_code == 302
    assert "Deleted 2 articles for good." in text_of(editor.get(confirmed.headers["Location"]))
    for article in binned:
        assert Article.get_or_none(Article.id == article.id) is None
        assert revision_count(article) == 0
        assert editor.get(f"/articles/{article.id}").status_code == 404
    assert fresh(kept).state == "published"
    assert revision_count(kept) == 1
    assert titles(editor.get("/desk/?state=trash")) == []


# --- The dashboard -------------------------------------------------------------------------------

ROW = re.compile(
    r'<td><a href="/articles/\d+/[^"]*">([^<]*)</a></td>\s*'
    r'<td><span class="state-badge state-(\w+)">'
)


def dashboard_rows(response):
    assert response.status_code == 200
    return [(html.unescape(title), state) for title, state in ROW.findall(text_of(response))]


def titles(response):
    return [title for title, _ in dashboard_rows(response)]


@pytest.mark.parametrize(
    "value", ["99999999999999999999", str(2**63), str(2**31), "-1", "0", "x", ""]
)
@pytest.mark.parametrize("name", ["section", "author"])
def test_a_dashboard_filter_no_row_can_match_filters_nothing(editor, newsroom, name, value):
    newsroom.article("draft", title="Listed")
    assert titles(editor.get("/desk/", query_string={name: value})) == ["Listed"]


@pytest.mark.parametrize("value", ["99999999999999999999", str(2**63), "0", "-1", "x"])
def test_a_dashboard_page_no_list_can_have_is_404(editor, newsroom, value):
    newsroom.article("draft", title="Listed")
    assert editor.get("/desk/", query_string={"page": value}).status_code == 404


@pytest.fixture
def desk_articles(newsroom):
    """One article per state; the author's in News, the other author's in Reports."""
    made = {}
    for index, state in enumerate(STATES):
        mine = index % 2 == 0
        made[state] = newsroom.article(
            state,
            title=f"{state.capitalize()} piece",
            author=newsroom.author if mine else newsroom.other_author,
            section=newsroom.news if mine else newsroom.reports,
        )
    return made


def test_dashboard_lists_everything_but_the_trash(editor, desk_articles):
    rows = dashboard_rows(editor.get("/desk/"))
    assert sorted(rows) == sorted(
        (f"{state.capitalize()} piece", state) for state in STATES if state != "trash"
    )


@pytest.mark.parametrize("state", STATES)
def test_dashboard_filters_by_state(editor, desk_articles, state):
    assert dashboard_rows(editor.get(f"/desk/?state={state}")) == [
        (f"{state.capitalize()} piece", state)
    ]


def test_dashboard_filters_by_section_and_author(editor, newsroom, desk_articles):
    by_section = titles(editor.get(f"/desk/?section={newsroom.reports.id}"))
    assert sorted(by_section) == ["Published piece", "Submitted piece"]
    by_author = titles(editor.get(f"/desk/?author={newsroom.author.id}"))
    assert sorted(by_author) == ["Draft piece", "Scheduled piece", "Unpublished piece"]
    both = titles(
        editor.get(f"/desk/?author={newsroom.author.id}&section={newsroom.news.id}&state=draft")
    )
    assert both == ["Draft piece"]
    assert (
        titles(editor.get(f"/desk/?author={newsroom.author.id}&section={newsroom.reports.id}"))
        == []
    )


def test_dashboard_keeps_the_chosen_filters_selected(editor, newsroom, desk_articles):
    page = text_of(editor.get(f"/desk/?state=draft&section={newsroom.reports.id}&order=title"))
    assert '<option value="draft" selected>' in page
    assert f'<option value="{newsroom.reports.id}" selected>' in page
    assert '<option value="title" selected>' in page


@pytest.mark.parametrize("query", ["state=bogus", "order=bogus", "section=abc", "author=abc"])
def test_dashboard_ignores_unknown_filter_values(editor, desk_articles, query):
    assert len(titles(editor.get(f"/desk/?{query}"))) == len(STATES) - 1


def test_dashboard_sorts(editor, newsroom):
    base = dt.datetime(2026, 1, 1, 12)
    for title, updated, published in (
        ("banana", 3, 1),
        ("Apple", 1, None),
        ("cherry", 2, 3),
        ("Date", 4, 2),
    ):
        newsroom.article(
            "draft",
            title=title,
            updated_at=base + dt.timedelta(hours=updated),
            published_at=base + dt.timedelta(hours=published) if published else None,
        )
    assert titles(editor.get("/desk/")) == ["Date", "banana", "cherry", "Apple"]
    assert titles(editor.get("/desk/?order=updated")) == ["Date", "banana", "cherry", "Apple"]
    assert titles(editor.get("/desk/?order=published")) == ["cherry", "Date", "banana", "Apple"]
    assert titles(editor.get("/desk/?order=title")) == ["Apple", "banana", "cherry", "Date"]


def test_a_save_moves_an_article_to_the_top(editor, newsroom):
    old = newsroom.article("draft", title="Old", updated_at=dt.datetime(2026, 1, 1))
    newsroom.article("draft", title="New", updated_at=dt.datetime(2026, 1, 2))
    assert titles(editor.get("/desk/")) == ["New", "Old"]
    editor.post(
        f"/desk/articles/{old.id}/fields/lead", data={"lead": "x", "version": "1"}, headers=HX
    )
    assert titles(editor.get("/desk/")) == ["Old", "New"]


def test_dashboard_pages(editor, newsroom):
    base = dt.datetime(2026, 1, 1)
    for n in range(30):
        newsroom.article("draft", title=f"Piece {n:02}", updated_at=base + dt.timedelta(minutes=n))
    first = editor.get("/desk/?state=draft")
    assert titles(first) == [f"Piece {n:02}" for n in range(29, 4, -1)]
    page = text_of(first)
    assert "Page 1 of 2" in page
    assert "30 articles" in page
    next_link = html.unescape(re.search(r'<a rel="next" href="([^"]+)"', page).group(1))
    assert parse_qs(urlsplit(next_link).query) == {"state": ["draft"], "page": ["2"]}

    second = editor.get(next_link)
    assert titles(second) == [f"Piece {n:02}" for n in range(4, -1, -1)]
    assert "Page 2 of 2" in text_of(second)
    assert 'rel="next"' not in text_of(second)
    assert 'rel="prev"' in text_of(second)

    assert editor.get("/desk/?page=0").status_code == 404
    assert titles(editor.get("/desk/?page=9")) == []


def test_dashboard_filters_in_place_with_htmx(editor, newsroom, desk_articles):
    response = editor.get("/desk/?state=draft", headers={**HX, "HX-Target": "desk-results"})
    assert response.status_code == 200
    page = text_of(response)
    assert page.lstrip().startswith('<div id="desk-results">')
    assert "<html" not in page
    assert 'class="desk-filters"' not in page
    assert titles(response) == ["Draft piece"]
    # Any other htmx request, and a plain one, get the whole page.
    whole = editor.get("/desk/?state=draft")
    assert "<html" in text_of(whole)
    assert 'class="desk-filters"' in text_of(whole)
    assert 'hx-target="#desk-results"' in text_of(whole)


def test_authors_see_only_their_own_articles(author, newsroom, desk_articles):
    own = ["Draft piece", "Scheduled piece", "Unpublished piece"]
    assert sorted(titles(author.get("/desk/"))) == own
    assert sorted(titles(author.get(f"/desk/?author={newsroom.other_author.id}"))) == own
    assert titles(author.get("/desk/?state=submitted")) == []
    assert titles(author.get(f"/desk/?section={newsroom.reports.id}")) == []
    page = text_of(author.get("/desk/"))
    assert 'name="author"' not in page  # no author filter for authors
    assert "Oscar Other" not in page
    assert "Empty the trash" not in text_of(author.get("/desk/?state=trash"))
