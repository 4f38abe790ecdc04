"""The editing desk: who may do what, saving fields in place, the no-JS edit page,
conflicts, atomic saves, new articles, sections and rubrics.

Each test asserts what a user sees (status, Location, the returned HTML) and what is
stored. Workflow and dashboard are in test_workflow.py, revisions in test_revisions.py.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from desk_helpers import (
    HX,
    Newsroom,
    article_url,
    errors_in,
    fresh,
    input_value,
    local_input,
    log_in,
    make_login,
    revision_count,
    selected_value,
    snapshot,
    text_of,
    textarea_value,
)
from markupsafe import escape

import models
from models import Article, Revision, Rubric, Section, SiteSettings, SlugRedirect

FIELDS = ("title", "lead", "body", "section", "rubric", "hot", "author", "published_at")
AUTHOR_FIELDS = ("title", "lead", "body", "section", "rubric")
ACTIONS = ("submit", "return_to_draft", "publish", "schedule", "unpublish", "trash", "restore")


@pytest.fixture
def newsroom(app):
    return Newsroom.create()


def login_as(client, newsroom, role):
    if role != "anonymous":
        log_in(client, getattr(newsroom, role))
    return client


def good_value(newsroom, name):
    """A valid new value for each field, different from the article's."""
    return {
        "title": "A brand new title",
        "lead": "A brand new lead.",
        "body": "<p>A brand new <strong>body</strong>.</p>",
        "section": str(newsroom.reports.id),
        "rubric": str(newsroom.economy.id),
        "hot": "y",
        "author": str(newsroom.other_author.id),
        "published_at": "2030-01-02T03:04",
    }[name]


def good_value_stored(newsroom, name):
    """good_value(name) as the article stores it."""
    return {
        "section": newsroom.reports.id,
        "rubric": newsroom.economy.id,
        "hot": True,
        "author": newsroom.other_author.id,
        "published_at": dt.datetime(2030, 1, 2, 3, 4),
    }.get(name, good_value(newsroom, name))


# --- Permissions, route by route and role by role ----------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    data: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


@dataclass
class Route:
    """An editing route; `build(newsroom)` makes its rows and returns the Call.

    `author`, `other_author` and `editor`: the status each gets. The article routes
    act on a draft of the newsroom's author (or the state the action needs).
    """

    name: str
    build: object
    author: int
    other_author: int
    editor: int


def field_route(kind, name):
    def build(newsroom):
        article = newsroom.article("draft")
        base = f"/desk/articles/{article.id}/fields/{name}"
        if kind == "view":
            return Call("GET", base, headers=HX)
        if kind == "edit":
            return Call("GET", base + "/edit", headers=HX)
        return Call("POST", base, {name: good_value(newsroom, name), "version": "1"}, HX)

    allowed = name in AUTHOR_FIELDS or kind == "view"
    ok = 200
    return Route(f"field-{kind}-{name}", build, ok if allowed else 403, 404, ok)


ACTION_STATES = {
    "submit": "draft",
    "return_to_draft": "submitted",
    "publish": "draft",
    "schedule": "draft",
    "unpublish": "published",
    "trash": "draft",
    "restore": "trash",
}
AUTHOR_ACTIONS = ("submit", "return_to_draft")  # on their own article: WORKFLOW's own_ok


def action_route(action):
    def build(newsroom):
        article = newsroom.article(ACTION_STATES[action])
        data = {"version": str(article.version)}
        if action == "schedule":
            data["published_at"] = (models.utcnow() + dt.timedelta(days=3)).strftime(
                "%Y-%m-%dT%H:%M"
            )
        return Call("POST", f"/desk/articles/{article.id}/actions/{action}", data)

    return Route(f"action-{action}", build, 302 if action in AUTHOR_ACTIONS else 403, 404, 302)


def edit_page_build(method):
    def build(newsroom):
        article = newsroom.article("draft")
        if method == "GET":
            return Call("GET", f"/desk/articles/{article.id}/edit")
        data = {
            "title": "Edited without JavaScript",
            "lead": article.lead,
            "body": article.body,
            "section": str(article.section_id),
            "rubric": str(article.rubric_id),
            "author": str(article.author_id),
            "published_at": "",
            "version": "1",
        }
        return Call("POST", f"/desk/articles/{article.id}/edit", data)

    return build


def history_build(newsroom):
    article = newsroom.article("draft")
    return Call("GET", f"/desk/articles/{article.id}/history")


def restore_build(newsroom):
    article = newsroom.article("draft")
    article.save_changes({"title": "A later title"}, 1, newsroom.editor)
    return Call("POST", f"/desk/articles/{article.id}/revisions/1/restore", {"version": "2"})


def taxonomy_build(action, kind):
    def build(newsroom):
        item = newsroom.news if kind == "section" else newsroom.security
        if action == "page":
            return Call("GET", "/desk/taxonomy")
        if action == "add":
            return Call("POST", f"/desk/taxonomy/{kind}", {"name": "Opinion", "slug": ""})
        if action == "update":
            data = {"name": "Renamed", "slug": "renamed"}
            return Call("POST", f"/desk/taxonomy/{kind}/{item.id}", data)
        if action == "move":
            return Call("POST", f"/desk/taxonomy/{kind}/{item.id}/move", {"direction": "down"})
        model = Section if kind == "section" else Rubric
        spare = model.create(name="Spare", slug=f"spare-{model.select().count()}", position=9)
        return Call("POST", f"/desk/taxonomy/{kind}/{spare.id}/delete")

    return build


def new_article_build(method):
    def build(newsroom):
        if method == "GET":
            return Call("GET", "/desk/articles/new")
        return Call("POST", "/desk/articles/new", {"title": "Fresh", "section": newsroom.news.id})

    return build


def empty_trash_build(newsroom):
    newsroom.article("trash")
    return Call("POST", "/desk/trash/empty", {"confirm": "yes"})


ROUTES = [
    *(field_route(kind, name) for name in FIELDS for kind in ("view", "edit", "save")),
    Route("edit-page-get", edit_page_build("GET"), 200, 404, 200),
    Route("edit-page-post", edit_page_build("POST"), 302, 404, 302),
    *(action_route(action) for action in ACTIONS),
    Route("history", history_build, 200, 404, 200),
    Route("restore", restore_build, 403, 404, 302),
    Route("new-get", new_article_build("GET"), 200, 200, 200),
    Route("new-post", new_article_build("POST"), 302, 302, 302),
    Route("dashboard", lambda newsroom: Call("GET", "/desk/"), 200, 200, 200),
    Route("taxonomy-page", taxonomy_build("page", "section"), 403, 403, 200),
    *(
        Route(f"taxonomy-{action}-{kind}", taxonomy_build(action, kind), 403, 403, 302)
        for kind in ("section", "rubric")
        for action in ("add", "update", "move", "delete")
    ),
    Route("empty-trash", empty_trash_build, 403, 403, 302),
]


def check_permission(app, newsroom, route, role):
    """What goes wrong when `role` calls `route` on fresh rows, or None."""
    call = route.build(newsroom)
    client = login_as(app.test_client(), newsroom, role)
    before = snapshot()

    response = client.open(call.path, method=call.method, data=call.data, headers=call.headers)

    expected = {"anonymous": 302, "reader": 403}.get(role) or getattr(route, role)
    if response.status_code != expected:
        return f"status {response.status_code}, expected {expected}"
    if role == "anonymous":
        location = urlsplit(response.headers["Location"])
        next_url = parse_qs(location.query).get("next", [""])[0]
        if location.path != "/auth/login" or not next_url.startswith(call.path):
            return f"redirected to {response.headers['Location']}, not to the login"
    allowed = role not in ("anonymous", "reader") and expected in (200, 302)
    stored = snapshot() != before
    if allowed and call.method == "POST" and not stored:
        return "allowed, yet nothing was stored"
    if stored and not (allowed and call.method == "POST"):
        return "refused or read-only, yet something was stored"
    return None


@pytest.mark.parametrize("route", ROUTES, ids=[route.name for route in ROUTES])
def test_permissions(app, newsroom, route):
    """Each role on fresh rows of one database: anonymous visitors are sent to log in,
    readers get 403, another author 404 for articles they may not see, the article's
    author what Article.editable_fields and WORKFLOW allow, editors everything."""
    # The editor last: their allowed renames and moves must not change the others' rows.
    problems = {
        role: problem
        for role in ("anonymous", "reader", "other_author", "author", "editor")
        if (problem := check_permission(app, newsroom, route, role))
    }
    assert problems == {}


@pytest.mark.parametrize("state", ["submitted", "published", "scheduled", "unpublished", "trash"])
def test_author_may_not_edit_own_article_once_it_left_draft(client, newsroom, state):
    article = newsroom.article(state)
    log_in(client, newsroom.author)
    before = snapshot()

    base = f"/desk/articles/{article.id}"
    assert client.get(f"{base}/fields/title/edit", headers=HX).status_code == 403
    saved = client.post(f"{base}/fields/title", data={"title": "Mine", "version": "1"}, headers=HX)
    assert saved.status_code == 403
    assert client.get(f"{base}/edit").status_code == 403
    assert client.post(f"{base}/edit", data={"title": "Mine", "version": "1"}).status_code == 403
    assert snapshot() == before
    # Still visible to them, without edit controls.
    page = client.get(article_url(article))
    assert page.status_code == 200
    assert "Edit title" not in text_of(page)


def test_author_edit_page_ignores_fields_reserved_for_editors(client, newsroom):
    article = newsroom.article("draft")
    log_in(client, newsroom.author)
    page = text_of(client.get(f"/desk/articles/{article.id}/edit"))
    for name in ("hot", "author", "published_at"):
        assert f'name="{name}"' not in page
    for name in AUTHOR_FIELDS:
        assert f'name="{name}"' in page

    data = {
        "title": "My own title",
        "lead": "My lead",
        "body": "<p>Mine</p>",
        "section": newsroom.reports.id,
        "rubric": newsroom.economy.id,
        "hot": "y",
        "author": newsroom.other_author.id,
        "published_at": "2020-01-01T00:00",
        "version": "1",
    }
    response = client.post(f"/desk/articles/{article.id}/edit", data=data)
    assert response.status_code == 302
    stored = fresh(article)
    assert (stored.title, stored.section_id, stored.rubric_id) == (
        "My own title",
        newsroom.reports.id,
        newsroom.economy.id,
    )
    assert stored.hot is False
    assert stored.author_id == newsroom.author.id
    assert stored.published_at is None


def test_author_page_shows_edit_controls_only_for_their_fields(client, newsroom):
    article = newsroom.article("draft")
    log_in(client, newsroom.author)
    page = text_of(client.get(article_url(article)))
    for name in AUTHOR_FIELDS:
        assert f'/desk/articles/{article.id}/fields/{name}/edit"' in page, name
    for name in ("hot", "author", "published_at"):
        assert f'/desk/articles/{article.id}/fields/{name}/edit"' not in page, name


def test_editor_page_shows_every_edit_control(client, newsroom):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    page = text_of(client.get(article_url(article)))
    for name in FIELDS:
        assert f'/desk/articles/{article.id}/fields/{name}/edit"' in page, name


def test_admin_may_do_what_an_editor_does(client, newsroom):
    admin = make_login("admin", "Ada Admin")
    article = newsroom.article("published", author=newsroom.other_author)
    log_in(client, admin)
    response = client.post(
        f"/desk/articles/{article.id}/fields/hot", data={"hot": "y", "version": "1"}, headers=HX
    )
    assert response.status_code == 200
    assert fresh(article).hot is True


@pytest.mark.parametrize("suffix", ["", "/edit"])
def test_unknown_field_name_is_404(client, newsroom, suffix):
    article = newsroom.article("draft")
    log_in(client, newsroom.editor)
    url = f"/desk/articles/{article.id}/fields/slug{suffix}"
    assert client.get(url, headers=HX).status_code == 404
    before = snapshot()
    posted = client.post(
        f"/desk/articles/{article.id}/fields/slug", data={"slug": "x", "version": "1"}
    )
    assert posted.status_code == 404
    assert snapshot() == before


def test_editor_may_not_edit_an_article_in_the_trash(client, newsroom):
    article = newsroom.article("trash")
    log_in(client, newsroom.editor)
    before = snapshot()
    response = client.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": "Edited in the bin", "version": "1"},
        headers=HX,
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_missing_article_is_404(client, newsroom):
    log_in(client, newsroom.editor)
    assert client.get("/desk/articles/999999/fields/title/edit").status_code == 404
    assert client.get("/desk/articles/999999/edit").status_code == 404
    assert client.get("/desk/articles/999999/history").status_code == 404


# --- Saving one field in place -----------------------------------------------------------------


def expected_view(newsroom, name):
    """What the saved field's view shows for good_value(name)."""
    return {
        "title": "<h1>A brand new title</h1>",
        "lead": '<p class="standfirst">A brand new lead.</p>',
        "body": "<p>A brand new <strong>body</strong>.</p>",
        "section": "Reports",
        "rubric": "Economy",
        "hot": "Yes: in the hot-news strip",
        "author": "Oscar Other",
        "published_at": "02.01.30 03:04",
    }[name]


def stored_value(article, name):
    article = fresh(article)
    return {
        "title": article.title,
        "lead": article.lead,
        "body": article.body,
        "section": article.section_id,
        "rubric": article.rubric_id,
        "hot": article.hot,
        "author": article.author_id,
        "published_at": article.published_at,
    }[name]


@pytest.mark.parametrize("name", FIELDS)
def test_field_save_returns_the_view_with_the_new_value_and_next_version(client, newsroom, name):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    form = client.get(f"/desk/articles/{article.id}/fields/{name}/edit", headers=HX)
    assert form.status_code == 200
    assert input_value(text_of(form), "version") == "1"

    response = client.post(
        f"/desk/articles/{article.id}/fields/{name}",
        data={name: good_value(newsroom, name), "version": "1"},
        headers=HX,
    )

    assert response.status_code == 200
    page = text_of(response)
    assert "<html" not in page  # a partial, for htmx to swap in
    assert page.lstrip().startswith(f'<div class="field-view field-{name}" id="field-{name}"')
    assert 'data-version="2"' in page
    assert expected_view(newsroom, name) in page
    assert " saved.</p>" in page  # in the page's message region: tests/test_desk_panel.py
    assert stored_value(article, name) == good_value_stored(newsroom, name)
    assert fresh(article).version == 2
    assert revision_count(article) == 2


def test_title_save_changes_the_slug_and_old_urls_redirect(client, newsroom):
    article = newsroom.article("published", title="Old headline")
    log_in(client, newsroom.editor)
    client.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": "  New   headline ", "version": "1"},
        headers=HX,
    )
    stored = fresh(article)
    assert (stored.title, stored.slug) == ("New headline", "new-headline")
    response = client.get(f"/articles/{article.id}/old-headline")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/articles/{article.id}/new-headline")


def test_unticking_hot_stores_false(client, newsroom):
    article = newsroom.article("published", hot=True)
    log_in(client, newsroom.editor)
    response = client.post(
        f"/desk/articles/{article.id}/fields/hot", data={"version": "1"}, headers=HX
    )
    assert response.status_code == 200
    assert fresh(article).hot is False


def test_clearing_the_publication_time_stores_none(client, newsroom):
    article = newsroom.article("draft", published_at=dt.datetime(2025, 5, 5, 5, 5))
    log_in(client, newsroom.editor)
    response = client.post(
        f"/desk/articles/{article.id}/fields/published_at",
        data={"published_at": "", "version": "1"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Not set" in text_of(response)
    assert fresh(article).published_at is None


BAD_INPUTS = [
    # (id, field, value or callable(newsroom), status, typed text the form must keep)
    ("empty-title", "title", "", 422, None),
    ("whitespace-title", "title", "   \t  ", 422, None),
    ("long-title", "title", "x" * 301, 422, "x" * 301),
    ("long-lead", "lead", "y" * 2001, 422, "y" * 2001),
    ("unknown-section", "section", "999999", 422, None),
    ("non-int-section", "section", "abc", 422, None),
    ("empty-section", "section", "", 422, None),
    ("unknown-rubric", "rubric", "999999", 422, None),
    ("unknown-author", "author", "999999", 422, None),
    ("reader-as-author", "author", lambda newsroom: newsroom.reader.id, 422, None),
    ("bad-date", "published_at", "2026-13-45T99:99", 422, "2026-13-45T99:99"),
    ("year-0001", "published_at", "0001-01-01T00:00", 422, "0001-01-01T00:00"),
    ("words-as-date", "published_at", "tomorrow", 422, "tomorrow"),
]


@pytest.mark.parametrize(
    ("name", "value", "status", "kept"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_field_save_with_bad_input_is_refused_next_to_the_field(
    client, newsroom, name, value, status, kept
):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    value = value(newsroom) if callable(value) else value
    before = snapshot()

    response = client.post(
        f"/desk/articles/{article.id}/fields/{name}",
        data={name: value, "version": "1"},
        headers=HX,
    )

    assert response.status_code == status
    page = text_of(response)
    assert page.lstrip().startswith('<form class="field-editor"')
    assert f'id="field-{name}"' in page
    assert errors_in(page), "no error shown next to the field"
    assert 'aria-invalid="true"' in page
    if kept is not None:
        typed = textarea_value(page, name) if name == "lead" else input_value(page, name)
        assert typed == kept
    assert input_value(page, "version") == "1"
    assert snapshot() == before


@pytest.mark.parametrize(
    "version",
    [None, "", "abc", "1.0", "-1", "\u0661"],
    ids=["missing", "empty", "letters", "decimal", "negative", "arabic-one"],
)
def test_field_save_without_a_usable_version_is_400(client, newsroom, version):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    data = {"title": "Whatever"}
    if version is not None:
        data["version"] = version
    before = snapshot()
    response = client.post(f"/desk/articles/{article.id}/fields/title", data=data, headers=HX)
    assert response.status_code == 400
    assert snapshot() == before


def test_a_300_character_title_is_fine(client, newsroom):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    response = client.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": "t" * 300, "version": "1"},
        headers=HX,
    )
    assert response.status_code == 200
    assert fresh(article).title == "t" * 300


@pytest.mark.parametrize("version", ["50", "99999999999999999999"], ids=["ahead", "huge"])
def test_a_version_from_the_future_is_refused_not_a_crash(app, client, newsroom, version):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    before = snapshot()
    response = client.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": "From the future", "version": version},
        headers=HX,
    )
    assert response.status_code in (400, 409)
    if response.status_code == 409:
        assert input_value(text_of(response), "version") == "1"
    assert snapshot() == before


def test_error_messages_say_what_is_wrong(client, newsroom):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)

    def errors(name, value):
        response = client.post(
            f"/desk/articles/{article.id}/fields/{name}",
            data={name: value, "version": "1"},
            headers=HX,
        )
        return " ".join(errors_in(text_of(response)))

    assert "300" in errors("title", "x" * 301)
    assert "section" in errors("section", "999999").lower()
    assert "rubric" in errors("rubric", "999999").lower()
    assert "author" in errors("author", str(newsroom.reader.id)).lower()
    assert "2026-11-26T14:30" in errors("published_at", "2026-13-45T99:99")
    assert "between 1900-01-01 and 2999-12-31" in errors("published_at", "0001-01-01T00:00")


NO_ROW_IDS = ["99999999999999999999", str(2**63), str(2**31), "-1", "0", " ", "1e3", "٣"]
ID_MESSAGES = {
    "section": "Choose one of the sections.",
    "rubric": "Choose one of the rubrics.",
    "author": "Choose one of the listed authors.",
    "lead_image": "Choose one of the uploaded images, or none.",
}


@pytest.mark.parametrize("value", NO_ROW_IDS)
@pytest.mark.parametrize("name", ID_MESSAGES)
def test_an_id_no_row_can_have_is_refused_with_a_message(client, newsroom, name, value):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    before = snapshot()
    for path in ("fields/" + name, "edit"):
        response = client.post(
            f"/desk/articles/{article.id}/{path}",
            data={**good_values(newsroom), name: value, "version": str(article.version)},
            headers=HX,
        )
        assert response.status_code == 422, path
        assert any(ID_MESSAGES[name] in error for error in errors_in(text_of(response))), path
    assert snapshot() == before


@pytest.mark.parametrize("value", NO_ROW_IDS)
def test_a_new_article_in_a_section_no_row_can_have_is_refused(client, newsroom, value):
    log_in(client, newsroom.author)
    before = snapshot()
    response = client.post("/desk/articles/new", data={"title": "Fresh", "section": value})
    assert response.status_code == 422
    assert errors_in(text_of(response))
    assert snapshot() == before


def good_values(newsroom):
    return {name: good_value(newsroom, name) for name in FIELDS}


HOSTILE_BODY = (
    '<p style="color:red" class="MsoNormal" id="x" onclick="steal()" hx-get="/desk/" '
    'data-hx-post="/desk/trash/empty" hx-trigger="load">Hello <b>bold</b> '
    '<img src="x.png" onerror="alert(1)" alt="pic"> '
    '<a href="javascript:alert(2)">bad link</a> <a href="https://example.org/">good link</a>'
    "<script>alert(3)</script></p><style>p { display: none }</style><!-- a comment -->"
    '<iframe src="https://evil.example/"></iframe>'
    '<form action="/desk/trash/empty"><input name="confirm" value="yes"></form>'
    '<svg onload="alert(4)"><circle/></svg>'
)


IMAGE_WITHOUT_ALT = '<p>A chart: <img src="/media/chart.png"></p>'


def post_body(client, newsroom, article, body, via):
    if via == "field":
        return client.post(
            f"/desk/articles/{article.id}/fields/body",
            data={"body": body, "version": str(article.version)},
            headers=HX,
        )
    data = {
        "title": article.title,
        "lead": article.lead,
        "body": body,
        "section": newsroom.news.id,
        "rubric": newsroom.security.id,
        "author": newsroom.author.id,
        "published_at": local_input(article.published_at),
        "version": str(article.version),
    }
    return client.post(f"/desk/articles/{article.id}/edit", data=data)


@pytest.mark.parametrize("state", ["published", "scheduled"])
@pytest.mark.parametrize("via", ["field", "edit-page"])
def test_a_live_article_gains_no_image_without_alt_text(client, newsroom, state, via):
    """Publishing checks every image's description; a later save may not undo that."""
    article = newsroom.article(state)
    before = fresh(article)
    log_in(client, newsroom.editor)
    response = post_body(client, newsroom, article, IMAGE_WITHOUT_ALT, via)
    assert response.status_code == 422
    assert "An image in the text has no alt text" in text_of(response)
    after = fresh(article)
    assert (after.body, after.version) == (before.body, before.version)
    described = IMAGE_WITHOUT_ALT.replace("<img ", '<img alt="Sales by month" ')
    assert post_body(client, newsroom, article, described, via).status_code in (200, 302)
    assert "Sales by month" in fresh(article).body


def test_a_draft_may_hold_an_image_without_alt_text_until_it_is_published(client, newsroom):
    article = newsroom.article("draft")
    log_in(client, newsroom.editor)
    assert post_body(client, newsroom, article, IMAGE_WITHOUT_ALT, "field").status_code == 200
    assert "chart.png" in fresh(article).body


@pytest.mark.parametrize("via", ["field", "edit-page"])
def test_body_is_sanitized_on_save(client, newsroom, via):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    if via == "field":
        response = client.post(
            f"/desk/articles/{article.id}/fields/body",
            data={"body": HOSTILE_BODY, "version": "1"},
            headers=HX,
        )
        assert response.status_code == 200
        shown = text_of(response)
    else:
        data = {
            "title": article.title,
            "lead": article.lead,
            "body": HOSTILE_BODY,
            "section": newsroom.news.id,
            "rubric": newsroom.security.id,
            "author": newsroom.author.id,
            "published_at": local_input(article.published_at),
            "version": "1",
        }
        response = client.post(f"/desk/articles/{article.id}/edit", data=data)
        assert response.status_code == 302
        shown = text_of(client.get(article_url(article)))

    body = fresh(article).body
    for bad in (
        "<script",
        "alert(3)",
        "onerror",
        "onclick",
        "onload",
        "javascript:",
        "style",
        "display: none",
        "class=",
        "MsoNormal",
        "hx-",
        "data-hx",
        "<!--",
        "<iframe",
        "<form",
        "<input",
        "<svg",
        'id="x"',
    ):
        assert bad not in body, bad
    assert "Hello <b>bold</b>" in body
    assert '<a href="https://example.org/"' in body
    assert "good link" in body and "bad link" in body
    assert '<img src="x.png" alt="pic">' in body
    article_body = re.search(r'<div class="article-body" hx-disable>(.*?)</div>', shown, re.S)
    assert article_body and article_body.group(1) == body


def test_title_and_lead_are_stored_as_text_and_shown_escaped(client, newsroom):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    hostile = '<script>alert("t")</script> & <b>'
    response = client.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": hostile, "version": "1"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "<script>alert" not in text_of(response)
    assert str(escape(hostile)) in text_of(response)
    assert fresh(article).title == hostile
    page = text_of(client.get(article_url(article)))
    assert "<script>alert" not in page


@pytest.mark.parametrize(
    ("zone", "typed", "stored"),
    [
        ("Europe/Moscow", "2026-01-01T12:00", dt.datetime(2026, 1, 1, 9, 0)),
        ("Europe/Berlin", "2026-07-01T12:00", dt.datetime(2026, 7, 1, 10, 0)),
        ("Europe/Berlin", "2026-01-15T12:00", dt.datetime(2026, 1, 15, 11, 0)),
        ("America/New_York", "2026-01-01T20:30", dt.datetime(2026, 1, 2, 1, 30)),
    ],
)
def test_publication_time_is_read_in_the_site_timezone(client, newsroom, zone, typed, stored):
    SiteSettings.update(timezone=zone).execute()
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    response = client.post(
        f"/desk/articles/{article.id}/fields/published_at",
        data={"published_at": typed, "version": "1"},
        headers=HX,
    )
    assert response.status_code == 200
    assert fresh(article).published_at == stored
    # Shown back in site time, in the view and in the editor.
    local = dt.datetime.strptime(typed, "%Y-%m-%dT%H:%M")
    assert local.strftime("%d.%m.%y %H:%M") in text_of(response)
    form = client.get(f"/desk/articles/{article.id}/fields/published_at/edit", headers=HX)
    assert input_value(text_of(form), "published_at") == typed


def test_cancel_link_returns_the_unchanged_view(client, newsroom):
    article = newsroom.article("published", title="Unchanged title")
    log_in(client, newsroom.editor)
    form = text_of(client.get(f"/desk/articles/{article.id}/fields/title/edit", headers=HX))
    cancel = re.search(r'class="cancel"\s+hx-get="([^"]+)"', form).group(1)
    view = client.get(cancel, headers=HX)
    assert view.status_code == 200
    assert "<h1>Unchanged title</h1>" in text_of(view)


# --- The no-JS edit page -------------------------------------------------------------------------


def edit_page_data(newsroom, article, **changes):
    data = {
        "title": article.title,
        "lead": article.lead,
        "body": article.body,
        "section": str(article.section_id),
        "rubric": str(article.rubric_id),
        "author": str(article.author_id),
        "published_at": local_input(article.published_at),
        "version": str(article.version),
    }
    if article.hot:
        data["hot"] = "y"
    data.update(changes)
    return data


def test_edit_page_shows_a_plain_form_with_every_field(client, newsroom):
    article = newsroom.article("published", hot=True, published_at=dt.datetime(2026, 2, 3, 4, 5))
    log_in(client, newsroom.editor)
    response = client.get(f"/desk/articles/{article.id}/edit")
    assert response.status_code == 200
    page = text_of(response)
    form = re.search(r'<form method="post" class="form edit-form".*?</form>', page, re.S).group(0)
    for name in FIELDS:
        assert f'name="{name}"' in form, name
    assert "hx-post" not in form  # a normal form
    assert input_value(form, "version") == "1"
    assert input_value(form, "title") == article.title
    assert textarea_value(form, "lead") == article.lead
    assert textarea_value(form, "body") == article.body
    assert selected_value(form, "section") == str(newsroom.news.id)
    assert selected_value(form, "rubric") == str(newsroom.security.id)
    assert selected_value(form, "author") == str(newsroom.author.id)
    assert input_value(form, "published_at") == "2026-02-03T04:05"
    assert re.search(r'<input[^>]*checked[^>]*name="hot"|<input[^>]*name="hot"[^>]*checked', form)
    # Readers are not offered as authors.
    assert "Rita Reader" not in form


def test_edit_links_work_without_javascript(client, newsroom):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    page = text_of(client.get(article_url(article)))
    assert f'class="edit-control" href="/desk/articles/{article.id}/edit"' in page


def test_edit_page_saves_every_field_and_redirects_to_the_article(client, newsroom):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    data = edit_page_data(
        newsroom,
        article,
        title="Everything changed",
        lead="A new lead.",
        body="<p>New <em>text</em>.</p>",
        section=str(newsroom.reports.id),
        rubric=str(newsroom.economy.id),
        hot="y",
        author=str(newsroom.other_author.id),
        published_at="2026-04-05T06:07",
    )

    response = client.post(f"/desk/articles/{article.id}/edit", data=data)

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == (
        f"/articles/{article.id}/everything-changed"
    )
    stored = fresh(article)
    assert stored.title == "Everything changed"
    assert stored.lead == "A new lead."
    assert stored.body == "<p>New <em>text</em>.</p>"
    assert (stored.section_id, stored.rubric_id) == (newsroom.reports.id, newsroom.economy.id)
    assert stored.hot is True
    assert stored.author_id == newsroom.other_author.id
    assert stored.published_at == dt.datetime(2026, 4, 5, 6, 7)
    assert stored.version == 2
    assert revision_count(article) == 2  # one save, one revision
    shown = client.get(response.headers["Location"])
    assert "<h1>Everything changed</h1>" in text_of(shown)
    assert "Article saved." in text_of(shown)


def test_edit_page_with_bad_input_is_422_and_keeps_the_input(client, newsroom):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    before = snapshot()
    data = edit_page_data(
        newsroom,
        article,
        title="   ",
        lead="My carefully typed lead",
        body="<p>My typed body</p>",
        section="999999",
        published_at="2026-13-45T99:99",
    )

    response = client.post(f"/desk/articles/{article.id}/edit", data=data)

    assert response.status_code == 422
    page = text_of(response)
    assert textarea_value(page, "lead") == "My carefully typed lead"
    assert textarea_value(page, "body") == "<p>My typed body</p>"
    assert input_value(page, "published_at") == "2026-13-45T99:99"
    assert input_value(page, "version") == "1"
    # Every invalid field says so, not just the first.
    for name in ("title", "section", "published_at"):
        assert re.search(rf'<div class="field has-error">\s*<label for="{name}"', page), (
            f"no error shown at {name}"
        )
    assert snapshot() == before


def test_edit_page_with_a_stale_version_is_409_and_keeps_the_typed_text(app, client, newsroom):
    article = newsroom.article("published", lead="The original lead.")
    log_in(client, newsroom.editor2)
    first = log_in(app.test_client(), newsroom.editor)
    # Both open version 1; the first editor saves the lead.
    assert client.get(f"/desk/articles/{article.id}/edit").status_code == 200
    first.post(
        f"/desk/articles/{article.id}/fields/lead",
        data={"lead": "The first editor's lead.", "version": "1"},
        headers=HX,
    )
    data = edit_page_data(newsroom, article, title="My new title", lead="My own lead.", version="1")

    response = client.post(f"/desk/articles/{article.id}/edit", data=data)

    assert response.status_code == 409
    page = text_of(response)
    conflict = conflict_of(page)
    assert "Edna Editor" in conflict
    assert '<h2 class="subhead">Lead</h2>' in conflict
    assert "<ins>first editor&#39;s </ins>" in conflict  # their change, marked
    assert "<ins>own </ins>" in conflict  # and this editor's, word by word
    assert input_value(page, "title") == "My new title"
    assert textarea_value(page, "lead") == "My own lead."
    assert input_value(page, "version") == "2"
    stored = fresh(article)
    assert (stored.title, stored.lead, stored.version) == (
        article.title,
        "The first editor's lead.",
        2,
    )
    # Saving again from the version the conflict page carries goes through.
    again = client.post(
        f"/desk/articles/{article.id}/edit", data={**data, "version": input_value(page, "version")}
    )
    assert again.status_code == 302
    assert (fresh(article).lead, fresh(article).version) == ("My own lead.", 3)


# --- Conflicts in place --------------------------------------------------------------------------


def test_second_save_from_the_same_version_is_409_and_overwrites_nothing(app, client, newsroom):
    article = newsroom.article("published", title="The original title")
    first = log_in(app.test_client(), newsroom.editor)
    second = log_in(client, newsroom.editor2)
    url = f"/desk/articles/{article.id}/fields/title"
    for editor in (first, second):
        form = text_of(editor.get(url + "/edit", headers=HX))
        assert input_value(form, "version") == "1"

    saved = first.post(url, data={"title": "First editor's title", "version": "1"}, headers=HX)
    assert saved.status_code == 200

    refused = second.post(url, data={"title": "Second editor's title", "version": "1"}, headers=HX)

    assert refused.status_code == 409
    page = text_of(refused)
    assert page.lstrip().startswith('<form class="field-editor"')
    conflict = conflict_of(page)
    assert "Edna Editor" in conflict
    assert '<h2 class="subhead">Title</h2>' in conflict
    assert "<ins>First </ins>" in conflict  # only the words both changed
    assert "<ins>Second </ins>" in conflict
    # Resolving is explicit: the button says what saving now does.
    assert "Save mine, replacing their change" in page and "Keep theirs" in page
    assert input_value(page, "title") == "Second editor's title"
    assert input_value(page, "version") == "2"
    stored = fresh(article)
    assert (stored.title, stored.version) == ("First editor's title", 2)
    assert revision_count(article) == 2

    resaved = second.post(
        url, data={"title": "Merged title", "version": input_value(page, "version")}, headers=HX
    )
    assert resaved.status_code == 200
    assert 'data-version="3"' in text_of(resaved)
    assert (fresh(article).title, fresh(article).version) == ("Merged title", 3)


def conflict_of(page):
    return re.search(r'<div class="conflict">(.*?)<p>Your text is kept', page, re.S)[1]


def test_a_save_of_another_field_meanwhile_is_saved_too(app, client, newsroom):
    """Fields are merged, not versions: a title save after another's lead save goes through."""
    article = newsroom.article("published")
    first = log_in(app.test_client(), newsroom.editor)
    log_in(client, newsroom.editor2)
    first.post(
        f"/desk/articles/{article.id}/fields/lead",
        data={"lead": "Changed meanwhile.", "version": "1"},
        headers=HX,
    )
    saved = client.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": "Mine", "version": "1"},
        headers=HX,
    )
    assert saved.status_code == 200
    assert "Title saved." in text_of(saved)
    stored = fresh(article)
    assert (stored.title, stored.lead, stored.version) == ("Mine", "Changed meanwhile.", 3)


# --- Atomic saves -------------------------------------------------------------------------------


def fail_half_way(monkeypatch, target):
    def boom(*args, **kwargs):
        raise RuntimeError("the disk is full")

    if target == "revision":
        monkeypatch.setattr(Revision, "record", classmethod(boom))
    else:
        monkeypatch.setattr(SiteSettings, "bump_content_version", classmethod(boom))


def post_save(client, newsroom, article, via):
    if via == "field":
        return client.post(
            f"/desk/articles/{article.id}/fields/title",
            data={"title": "Half-saved title", "version": "1"},
            headers=HX,
        )
    if via == "action":
        return client.post(
            f"/desk/articles/{article.id}/actions/unpublish", data={"version": "1"}, headers=HX
        )
    data = edit_page_data(newsroom, article, title="Half-saved title")
    return client.post(f"/desk/articles/{article.id}/edit", data=data)


@pytest.mark.parametrize("target", ["revision", "content-version"])
@pytest.mark.parametrize("via", ["field", "edit-page", "action"])
def test_a_failure_half_way_stores_nothing(app, client, newsroom, monkeypatch, target, via):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # see the response, as a user would
    article = newsroom.article("published", title="The title before")
    log_in(client, newsroom.editor)
    before = snapshot()
    fail_half_way(monkeypatch, target)

    response = post_save(client, newsroom, article, via)

    assert response.status_code >= 500
    assert snapshot() == before
    stored = fresh(article)
    assert (stored.title, stored.version) == ("The title before", 1)
    assert revision_count(article) == 1


@pytest.mark.parametrize("via", ["field", "edit-page"])
def test_a_failure_half_way_says_nothing_was_saved(app, client, newsroom, monkeypatch, via):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    fail_half_way(monkeypatch, "revision")

    response = post_save(client, newsroom, article, via)

    assert response.status_code == 500
    assert re.search(
        r"nothing (was|has been) (saved|changed)|not saved", text_of(response), re.I
    ), text_of(response)[:1000]


# --- Readers see saves on their next request ---------------------------------------------------


def test_readers_see_a_saved_change_on_their_next_request(app, client, newsroom):
    article = newsroom.article("published", title="Before the edit", lead="The old lead.")
    reader = app.test_client()
    url = article_url(article)
    first = reader.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert reader.get(url, headers={"If-None-Match": etag}).status_code == 304

    log_in(client, newsroom.editor)
    saved = client.post(
        f"/desk/articles/{article.id}/fields/lead",
        data={"lead": "The new lead.", "version": "1"},
        headers=HX,
    )
    assert saved.status_code == 200

    again = reader.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert "The new lead." in text_of(again)
    assert "The old lead." not in text_of(again)

    client.post(
        f"/desk/articles/{article.id}/fields/title",
        data={"title": "After the edit", "version": "2"},
        headers=HX,
    )
    moved = reader.get(url, headers={"If-None-Match": again.headers["ETag"]})
    assert moved.status_code == 301
    shown = reader.get(moved.headers["Location"])
    assert "<h1>After the edit</h1>" in text_of(shown)
    assert "After the edit" in text_of(reader.get("/"))


def test_desk_responses_are_never_cached(client, newsroom):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    for url in (f"/desk/articles/{article.id}/fields/title/edit", "/desk/", article_url(article)):
        response = client.get(url, headers=HX)
        assert "no-store" in response.headers.get("Cache-Control", ""), url
        assert "ETag" not in response.headers, url


# --- New articles -------------------------------------------------------------------------------


def test_new_article_form_offers_every_section(client, newsroom):
    log_in(client, newsroom.author)
    page = text_of(client.get("/desk/articles/new"))
    assert 'name="title"' in page
    assert f'<option value="{newsroom.reports.id}">Reports</option>' in page


def test_new_article_is_a_draft_in_the_chosen_section(app, client, newsroom):
    log_in(client, newsroom.author)
    response = client.post(
        "/desk/articles/new", data={"title": "  A fresh story ", "section": newsroom.reports.id}
    )

    assert response.status_code == 302
    article = Article.get(Article.title == "A fresh story")
    assert urlsplit(response.headers["Location"]).path == f"/articles/{article.id}/a-fresh-story"
    assert article.state == "draft"
    assert article.section_id == newsroom.reports.id
    assert article.rubric_id is not None
    assert article.author_id == newsroom.author.id
    assert article.published_at is None
    assert revision_count(article) == 1

    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "<h1>A fresh story</h1>" in text_of(page)
    assert "Edit title" in text_of(page)
    assert "state-draft" in text_of(page)

    anonymous = app.test_client()
    assert anonymous.get(response.headers["Location"]).status_code == 404
    assert anonymous.get(f"/articles/{article.id}").status_code == 404
    other = log_in(app.test_client(), newsroom.other_author)
    assert other.get(response.headers["Location"]).status_code == 404
    editor = log_in(app.test_client(), newsroom.editor)
    assert "Edit title" in text_of(editor.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("title", "section"),
    [("", "news"), ("   ", "news"), ("x" * 301, "news"), ("Fine", "999999"), ("Fine", "abc")],
    ids=["empty", "spaces", "too-long", "unknown-section", "non-int-section"],
)
def test_new_article_with_bad_input_is_422(client, newsroom, title, section):
    log_in(client, newsroom.author)
    section = str(newsroom.news.id) if section == "news" else section
    before = snapshot()
    response = client.post("/desk/articles/new", data={"title": title, "section": section})
    assert response.status_code == 422
    assert errors_in(text_of(response))
    if title.strip():
        assert input_value(text_of(response), "title") == title
    assert snapshot() == before


def test_new_article_link_is_in_the_header_for_staff_only(app, client, newsroom):
    log_in(client, newsroom.author)
    assert 'href="/desk/articles/new"' in text_of(client.get("/"))
    reader = log_in(app.test_client(), newsroom.reader)
    assert 'href="/desk/articles/new"' not in text_of(reader.get("/"))


# --- CSRF ----------------------------------------------------------------------------------------


def test_saves_need_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    newsroom = Newsroom.create()
    article = newsroom.article("published", title="Guarded")
    login_page = text_of(client.get("/auth/login"))
    token = input_value(login_page, "csrf_token")
    data = {"email": newsroom.editor.email, "password": "plum-orbit-canvas-42", "csrf_token": token}
    assert client.post("/auth/login", data=data).status_code == 302
    page = text_of(client.get(article_url(article)))
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
    url = f"/desk/articles/{article.id}/fields/title"
    before = snapshot()

    for call in (
        lambda: client.post(url, data={"title": "Forged", "version": "1"}, headers=HX),
        lambda: client.post(
            f"/desk/articles/{article.id}/edit",
            data={"title": "Forged", "version": "1"},
        ),
        lambda: client.post(f"/desk/articles/{article.id}/actions/trash", data={"version": "1"}),
        lambda: client.post("/desk/taxonomy/section", data={"name": "Forged"}),
        lambda: client.post("/desk/trash/empty", data={"confirm": "yes"}),
        lambda: client.post(
            url, data={"title": "Forged", "version": "1"}, headers={**HX, "X-CSRFToken": "wrong"}
        ),
    ):
        assert call().status_code == 400
    assert snapshot() == before

    response = client.post(
        url, data={"title": "With token", "version": "1"}, headers={**HX, "X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert fresh(article).title == "With token"


# --- Sections and rubrics -----------------------------------------------------------------------

KINDS = {"section": Section, "rubric": Rubric}


@pytest.fixture
def editor_client(client, newsroom):
    return log_in(client, newsroom.editor)


def taxonomy_item(newsroom, kind):
    return newsroom.news if kind == "section" else newsroom.security


@pytest.mark.parametrize("kind", KINDS)
def test_add_with_a_generated_slug(editor_client, kind):
    response = editor_client.post(f"/desk/taxonomy/{kind}", data={"name": " Foreign Affairs "})
    assert response.status_code == 302
    item = KINDS[kind].get(KINDS[kind].name == "Foreign Affairs")
    assert item.slug == "foreign-affairs"
    assert item.position > max(i.position for i in KINDS[kind].select() if i.id != item.id)
    page = text_of(editor_client.get(response.headers["Location"]))
    assert "Added Foreign Affairs." in page
    assert editor_client.get(f"/{kind}/foreign-affairs").status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_add_with_a_given_slug(editor_client, kind):
    response = editor_client.post(
        f"/desk/taxonomy/{kind}", data={"name": "Op-Ed", "slug": "opinion"}
    )
    assert response.status_code == 302
    assert KINDS[kind].get(KINDS[kind].name == "Op-Ed").slug == "opinion"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "data",
    [
        {"name": "Another", "slug": "{taken}"},
        {"name": "{taken_name}", "slug": ""},
        {"name": "Bad slug", "slug": "Bad Slug!"},
        {"name": "", "slug": "empty-name"},
        {"name": "   ", "slug": "blank-name"},
        {"name": "x" * 81, "slug": ""},
    ],
    ids=[
        "duplicate-slug",
        "duplicate-generated-slug",
        "bad-slug",
        "empty-name",
        "blank-name",
        "long-name",
    ],
)
def test_add_refuses_bad_input(editor_client, newsroom, kind, data):
    item = taxonomy_item(newsroom, kind)
    data = {key: value.format(taken=item.slug, taken_name=item.name) for key, value in data.items()}
    before = snapshot()
    response = editor_client.post(f"/desk/taxonomy/{kind}", data=data)
    assert response.status_code == 422
    assert 'class="form-errors"' in text_of(response)
    assert snapshot() == before


@pytest.mark.parametrize("kind", KINDS)
def test_rename_with_a_new_slug_redirects_the_old_urls(app, editor_client, newsroom, kind):
    item = taxonomy_item(newsroom, kind)
    article = newsroom.article("published", title="Filed here")
    old = item.slug

    response = editor_client.post(
        f"/desk/taxonomy/{kind}/{item.id}", data={"name": "Renamed", "slug": "renamed"}
    )

    assert response.status_code == 302
    stored = KINDS[kind].get_by_id(item.id)
    assert (stored.name, stored.slug) == ("Renamed", "renamed")
    reader = app.test_client()
    for old_url, new_url in (
        (f"/{kind}/{old}", f"/{kind}/renamed"),
        (f"/{kind}/{old}/rss.xml", f"/{kind}/renamed/rss.xml"),
        (f"/text/{kind}/{old}", f"/text/{kind}/renamed"),
    ):
        moved = reader.get(old_url)
        assert moved.status_code == 301, old_url
        assert urlsplit(moved.headers["Location"]).path == new_url
    shown = reader.get(f"/{kind}/renamed")
    assert shown.status_code == 200
    assert "Renamed" in text_of(shown)
    assert "Filed here" in text_of(shown)
    assert "Renamed" in text_of(reader.get(article_url(article)))


@pytest.mark.parametrize("kind", KINDS)
def test_renames_chain_and_can_go_back(app, editor_client, newsroom, kind):
    item = taxonomy_item(newsroom, kind)
    original = item.slug
    for slug in ("second", "third"):
        editor_client.post(f"/desk/taxonomy/{kind}/{item.id}", data={"name": "N", "slug": slug})
    reader = app.test_client()
    for old in (original, "second"):
        moved = reader.get(f"/{kind}/{old}")
        assert moved.status_code == 301
        assert urlsplit(moved.headers["Location"]).path == f"/{kind}/third"

    editor_client.post(f"/desk/taxonomy/{kind}/{item.id}", data={"name": "N", "slug": original})
    assert reader.get(f"/{kind}/{original}").status_code == 200
    moved = reader.get(f"/{kind}/third")
    assert moved.status_code == 301
    assert urlsplit(moved.headers["Location"]).path == f"/{kind}/{original}"


@pytest.mark.parametrize("kind", KINDS)
def test_rename_in_place_returns_the_row(editor_client, newsroom, kind):
    item = taxonomy_item(newsroom, kind)
    response = editor_client.post(
        f"/desk/taxonomy/{kind}/{item.id}", data={"name": "Fresh name", "slug": ""}, headers=HX
    )
    assert response.status_code == 200
    page = text_of(response)
    assert page.lstrip().startswith(f'<tr id="{kind}-{item.id}">')
    assert input_value(page, "name") == "Fresh name"
    assert input_value(page, "slug") == item.slug  # an empty slug keeps the current one
    assert KINDS[kind].get_by_id(item.id).slug == item.slug
    assert SlugRedirect.select().count() == 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_rename_to_a_taken_slug_is_refused(editor_client, newsroom, kind, htmx):
    item = taxonomy_item(newsroom, kind)
    other = newsroom.reports if kind == "section" else newsroom.economy
    before = snapshot()
    response = editor_client.post(
        f"/desk/taxonomy/{kind}/{item.id}",
        data={"name": "Clash", "slug": other.slug},
        headers=HX if htmx else {},
    )
    assert response.status_code == 422
    assert "Another one has this slug." in text_of(response)
    assert snapshot() == before


def sidebar_order(client):
    return re.findall(
        r'<section class="sidebar-list" id="sidebar-([a-z0-9-]+)"', text_of(client.get("/"))
    )


def test_reorder_sections_changes_the_sidebar_order(app, editor_client, newsroom):
    analysis = Section.create(name="Analysis", slug="analysis", position=2)
    reader = app.test_client()
    assert sidebar_order(reader) == ["news", "reports", "analysis"]

    response = editor_client.post(
        f"/desk/taxonomy/section/{analysis.id}/move", data={"direction": "up"}
    )
    assert response.status_code == 302
    assert sidebar_order(reader) == ["news", "analysis", "reports"]

    editor_client.post(
        f"/desk/taxonomy/section/{newsroom.news.id}/move", data={"direction": "down"}
    )
    assert sidebar_order(reader) == ["analysis", "news", "reports"]

    # Past either end: nothing moves.
    editor_client.post(f"/desk/taxonomy/section/{analysis.id}/move", data={"direction": "up"})
    editor_client.post(
        f"/desk/taxonomy/section/{newsroom.reports.id}/move", data={"direction": "down"}
    )
    assert sidebar_order(reader) == ["analysis", "news", "reports"]
    order = text_of(editor_client.get("/desk/taxonomy"))
    rows = re.findall(r'<tr id="section-(\d+)">', order)
    assert rows == [str(analysis.id), str(newsroom.news.id), str(newsroom.reports.id)]


def test_reorder_rubrics(editor_client, newsroom):
    editor_client.post(
        f"/desk/taxonomy/rubric/{newsroom.economy.id}/move", data={"direction": "up"}
    )
    assert [r.name for r in Rubric.ordered()] == ["Economy", "Global Security"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", ["published", "draft", "trash"])
def test_delete_is_refused_while_articles_use_it(editor_client, newsroom, kind, state):
    item = taxonomy_item(newsroom, kind)
    newsroom.article(state)
    before = snapshot()
    response = editor_client.post(f"/desk/taxonomy/{kind}/{item.id}/delete", headers=HX)
    assert response.status_code == 409
    assert "move them elsewhere first" in text_of(response)
    assert snapshot() == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_delete_an_unused_one(editor_client, newsroom, kind, htmx):
    item = newsroom.reports if kind == "section" else newsroom.economy
    response = editor_client.post(
        f"/desk/taxonomy/{kind}/{item.id}/delete", headers=HX if htmx else {}
    )
    assert response.status_code == (200 if htmx else 302)
    assert KINDS[kind].get_or_none(KINDS[kind].id == item.id) is None
    assert editor_client.get(f"/{kind}/{item.slug}").status_code == 404


def test_delete_of_a_renamed_one_retires_its_old_slugs(app, editor_client, newsroom):
    item = newsroom.reports
    editor_client.post(f"/desk/taxonomy/section/{item.id}", data={"name": "R", "slug": "r"})
    editor_client.post(f"/desk/taxonomy/section/{item.id}/delete")
    reader = app.test_client()
    assert reader.get("/section/reports").status_code == 404
    assert reader.get("/section/reports/rss.xml").status_code == 404


@pytest.mark.parametrize("name", ["section", "rubric"])
def test_an_article_cannot_be_left_without_a_section_or_rubric(client, newsroom, name):
    article = newsroom.article("published")
    log_in(client, newsroom.editor)
    before = snapshot()
    for value in ("", "0"):
        response = client.post(
            f"/desk/articles/{article.id}/fields/{name}",
            data={name: value, "version": "1"},
            headers=HX,
        )
        assert response.status_code == 422
        page = edit_page_data(newsroom, article, **{name: value})
        assert client.post(f"/desk/articles/{article.id}/edit", data=page).status_code == 422
    assert snapshot() == before
    # A form without the field leaves it as it is.
    data = edit_page_data(newsroom, article, title="Other title")
    del data[name]
    assert client.post(f"/desk/articles/{article.id}/edit", data=data).status_code == 302
    stored = fresh(article)
    assert (stored.title, stored.section_id, stored.rubric_id) == (
        "Other title",
        newsroom.news.id,
        newsroom.security.id,
    )
