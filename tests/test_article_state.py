"""The state invariant of an article: whatever is done to it, it is in exactly one state,
in exactly one of the desk's filters, and "published" means readers can see it once its
time has come. Every workflow step and every restore is walked from every state.

Restores bring back content (title, lead, body, lead image and its alt text, section,
rubric, author, hot flag) and never workflow: status, publication time, trash and the
"Updated" time stay as they were (issue 12).
"""

import datetime as dt
import html
from urllib.parse import urlsplit

import pytest
from desk_helpers import HX, Newsroom, fresh, log_in, revision_count, snapshot, text_of

from models import (
    WORKFLOW,
    Article,
    ArticleStateError,
    Media,
    Revision,
    StepNotAllowed,
    utcnow,
)

# Every state an article can be in, with the ways of getting there that differ in what a
# step or a restore must keep: a draft once published, an unpublished piece never live.
STARTS = {
    "draft": ("draft", {"status": "draft", "published_at": None}),
    "draft once published": ("draft", {"status": "draft", "published_at": -2}),
    "submitted": ("submitted", {"status": "submitted", "published_at": None}),
    "scheduled": ("scheduled", {"status": "published", "published_at": +48}),
    "published": ("published", {"status": "published", "published_at": -2}),
    "published and updated": (
        "published",
        {"status": "published", "published_at": -2, "revised_at": -1},
    ),
    "unpublished": ("unpublished", {"status": "unpublished", "published_at": -2}),
    "unpublished before its time": (
        "unpublished",
        {"status": "unpublished", "published_at": +48},
    ),
    "trash, was published": (
        "trash",
        {"status": "published", "published_at": -2, "deleted_at": -1},
    ),
    "trash, was a draft": ("trash", {"status": "draft", "published_at": None, "deleted_at": -1}),
}

def hours(value):
    return utcnow() + dt.timedelta(hours=value) if isinstance(value, int) else value


def with_times(fields):
    return {name: hours(value) for name, value in fields.items()}


@pytest.fixture
def newsroom(app):
    return Newsroom.create()


def make_start(newsroom, start, **fields):
    expected, state_fields = STARTS[start]
    article = newsroom.article("draft", **{**with_times(state_fields), **fields})
    assert article.state == expected
    return article


def filters_listing(article):
    return [
        state
        for state in Article.STATES
        if Article.desk_list(state).where(Article.id == article.id).exists()
    ]


def assert_in_one_state(article):
    """The invariant, as readers and the desk see it."""
    article = fresh(article)
    assert Article.state_problem(article.status, article.published_at) is None
    assert filters_listing(article) == [article.state]
    readers_see = Article.get_visible(article.id) is not None
    assert readers_see == (article.state == "published")
    if article.status == Article.PUBLISHED:
        assert article.published_at is not None


def workflow(article):
    return (article.status, article.published_at, article.deleted_at, article.revised_at)


# --- Every step from every state -----------------------------------------------------------------


@pytest.mark.parametrize("start", STARTS)
def test_each_start_is_in_one_state(newsroom, start):
    assert_in_one_state(make_start(newsroom, start))


@pytest.mark.parametrize("action", WORKFLOW)
@pytest.mark.parametrize("start", STARTS)
def test_every_step_from_every_state_keeps_the_invariant(newsroom, start, action):
    article = make_start(newsroom, start)
    before = fresh(article)
    publish_at = hours(+72).replace(microsecond=0) if action == "schedule" else None
    allowed = action in before.allowed_actions(newsroom.editor)

    if not allowed:
        kept = snapshot()
        with pytest.raises(StepNotAllowed):
            article.take_action(action, newsroom.editor, publish_at)
        assert snapshot() == kept
        return
    after = article.take_action(action, newsroom.editor, publish_at)

    assert_in_one_state(after)
    stored = fresh(article)
    assert stored.version == before.version + 1
    assert revision_count(article) == 2
    for name in ("title", "lead", "body", "section_id", "rubric_id", "author_id", "hot"):
        assert getattr(stored, name) == getattr(before, name), name  # content untouched
    out_of_trash = Article(**{**before.__data__, "deleted_at": None}).state
    assert stored.state == {
        "submit": "submitted",
        "return_to_draft": "draft",
        "publish": "published",
        "publish_as_new": "published",
        "schedule": "scheduled",
        "unpublish": "unpublished",
        "trash": "trash",
        "restore": out_of_trash,  # as it was before the trash: live, scheduled or not
    }[action]
    first_time_passed = before.published_at is not None and before.published_at <= utcnow()
    assert stored.published_at == {
        # Republishing keeps the first publication time; a first publication is now.
        "publish": before.published_at if first_time_passed else stored.updated_at,
        "publish_as_new": stored.updated_at,
        "schedule": publish_at,
    }.get(action, before.published_at)
    assert stored.revised_at == (None if action == "publish_as_new" else before.revised_at)
    assert (stored.deleted_at is not None) == (stored.state == "trash")


def test_publish_keeps_a_past_date_and_replaces_a_future_one(newsroom):
    once = make_start(newsroom, "unpublished")
    early = make_start(newsroom, "unpublished before its time")
    first = fresh(once).published_at

    assert once.take_action("publish", newsroom.editor).published_at == first
    dated_now = early.take_action("publish", newsroom.editor)
    assert dated_now.published_at == dated_now.updated_at <= utcnow()


# --- Nothing may store an article in no state ----------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"status": "published", "published_at": None}, "a published article needs a publication"),
        ({"status": "live", "published_at": None}, "the status 'live' is none of"),
    ],
)
def test_an_article_in_no_state_is_never_written(newsroom, fields, problem):
    kept = snapshot()
    with pytest.raises(ArticleStateError, match=problem):
        newsroom.article("draft", revision=False, **fields)
    assert snapshot() == kept


@pytest.mark.parametrize("start", ["published", "scheduled", "trash, was published"])
def test_a_save_that_would_leave_a_published_article_undated_writes_nothing(newsroom, start):
    article = make_start(newsroom, start)
    kept = snapshot()
    with pytest.raises(ArticleStateError, match="needs a publication time"):
        article.save_changes({"published_at": None, "title": "Half"}, 1, newsroom.editor)
    assert snapshot() == kept


@pytest.mark.parametrize("start", ["published", "scheduled"])
@pytest.mark.parametrize("via", ["field", "edit-page"])
def test_an_editor_cannot_clear_the_time_of_a_live_article(app, newsroom, start, via):
    """The form says why (422), before the model's check is ever reached."""
    article = make_start(newsroom, start)
    editor = log_in(app.test_client(), newsroom.editor)
    kept = snapshot()
    if via == "field":
        data = {"published_at": "", "version": "1"}
        url = f"/desk/articles/{article.id}/fields/published_at"
        response = editor.post(url, data=data, headers=HX)
    else:
        data = {
            "title": article.title, "lead": article.lead, "body": article.body,
            "section": article.section_id, "rubric": article.rubric_id,
            "author": article.author_id, "published_at": "", "version": "1",
        }  # fmt: skip
        response = editor.post(f"/desk/articles/{article.id}/edit", data=data)
    assert response.status_code == 422
    assert "needs a publication time. To take it off the site, unpublish it." in html.unescape(
        text_of(response)
    )
    assert snapshot() == kept


# --- Restores: content back, workflow untouched -------------------------------------------------

# Each kind of revision an article's history can hold, as the workflow recorded it (hours
# from now for times). "undated" is what a restore could record before issue 12's fix.
KINDS = {
    "created": {"status": "draft", "published_at": None},
    "submitted": {"status": "submitted", "published_at": None},
    "published": {"status": "published", "published_at": -300},
    "scheduled": {"status": "published", "published_at": +300},
    "unpublished": {"status": "unpublished", "published_at": -300},
    "trashed": {"status": "published", "published_at": -300, "deleted_at": -200},
    "undated": {"status": "published", "published_at": None},
}
CONTENT = ("title", "lead", "body", "hot", "section_id", "rubric_id", "author_id",
           "lead_image_id", "lead_image_alt")  # fmt: skip


@pytest.fixture
def picture(newsroom):
    return Media.create(hash="c" * 64, ext="png", width=10, height=10, size=100, alt="Uploader's")


def with_revision_of(newsroom, article, kind, picture):
    """`article` with a revision of `kind` (version 2), content of its own in every field,
    then its current content again (version 3). Returns the revision."""
    old = Revision.create(
        article=article.id, version=2, action=kind, title=f"Title when {kind}",
        lead=f"Lead when {kind}.", body=f"<p>Body when {kind}.</p>", hot=not article.hot,
        section_id=newsroom.reports.id, rubric_id=newsroom.economy.id,
        author_id=newsroom.other_author.id, lead_image_id=picture.id,
        lead_image_alt=f"Picture when {kind}",
        **with_times({"deleted_at": None, **KINDS[kind]}),
    )  # fmt: skip
    Article.update(version=3).where(Article.id == article.id).execute()
    Revision.record(fresh(article), newsroom.editor2, "edited")
    return old


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("start", STARTS)
def test_every_restore_from_every_state_brings_back_content_only(newsroom, picture, start, kind):
    article = make_start(newsroom, start)
    old = with_revision_of(newsroom, article, kind, picture)
    before = fresh(article)

    changes, kept = old.restorable_changes()
    after = article.save_changes(changes, 3, newsroom.editor, action="restored version 2")

    assert kept == []
    assert workflow(after) == workflow(before) == workflow(fresh(article))
    for name in CONTENT:
        assert getattr(fresh(article), name) == getattr(old, name), name
    assert_in_one_state(article)
    assert Revision.get(Revision.article == article.id, Revision.version == 4).action == (
        "restored version 2"
    )


RESTORABLE = [start for start, (state, _) in STARTS.items() if state != "trash"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("start", RESTORABLE)
def test_restoring_through_the_history_page_keeps_status_and_dates(
    app, newsroom, picture, start, kind
):
    article = make_start(newsroom, start)
    old = with_revision_of(newsroom, article, kind, picture)
    before = fresh(article)
    editor = log_in(app.test_client(), newsroom.editor)
    was_seen = app.test_client().get(f"/articles/{article.id}/{before.slug}").status_code

    response = editor.post(
        f"/desk/articles/{article.id}/revisions/2/restore", data={"version": "3"}
    )

    assert response.status_code == 302
    stored = fresh(article)
    assert workflow(stored) == workflow(before)
    assert (stored.title, stored.lead_image_alt) == (old.title, old.lead_image_alt)
    assert_in_one_state(stored)
    assert urlsplit(response.headers["Location"]).path == f"/articles/{article.id}/{stored.slug}"
    page = editor.get(response.headers["Location"])
    message = html.unescape(text_of(page))
    assert f"Version 2 restored as version 4: its content; the article stays {stored.state}" in (
        message
    )
    assert f'<span class="state-badge state-{before.state}">' in text_of(page)
    # Readers see it exactly when they saw it before.
    reader = app.test_client().get(f"/articles/{article.id}/{stored.slug}").status_code
    assert reader == (200 if was_seen == 200 else 404)


@pytest.mark.parametrize("start", ["trash, was published", "trash, was a draft"])
def test_an_article_in_the_trash_is_not_restored_to_a_revision(app, newsroom, picture, start):
    article = make_start(newsroom, start)
    with_revision_of(newsroom, article, "published", picture)
    editor = log_in(app.test_client(), newsroom.editor)
    kept = snapshot()
    response = editor.post(
        f"/desk/articles/{article.id}/revisions/2/restore", data={"version": "3"}
    )
    assert response.status_code == 403
    assert snapshot() == kept
