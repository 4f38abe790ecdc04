"""Revisions: every save is kept whole, the history shows and compares them, and any
revision can be restored (as a new revision: nothing is ever lost)."""

import datetime as dt
import html
import re
import threading
from urllib.parse import urlsplit

import pytest
from desk_helpers import (
    HX,
    Newsroom,
    fresh,
    local_input,
    log_in,
    make_login,
    revision_count,
    snapshot,
    text_of,
)

import demo
import models
from models import Article, EditConflict, Revision, Rubric, Section, User

SNAPSHOT = {
    "title": "title",
    "lead": "lead",
    "body": "body",
    "section_id": "section_id",
    "rubric_id": "rubric_id",
    "author_id": "author_id",
    "hot": "hot",
    "status": "status",
    "published_at": "published_at",
    "deleted_at": "deleted_at",
}


@pytest.fixture
def newsroom(app):
    return Newsroom.create()


@pytest.fixture
def editor(app, newsroom):
    return log_in(app.test_client(), newsroom.editor)


def save(client, article, name, value, version=None):
    version = fresh(article).version if version is None else version
    return client.post(
        f"/desk/articles/{article.id}/fields/{name}",
        data={name: value, "version": str(version)},
        headers=HX,
    )


def restore(client, article, version, base=None):
    base = fresh(article).version if base is None else base
    return client.post(
        f"/desk/articles/{article.id}/revisions/{version}/restore", data={"version": str(base)}
    )


def revisions(article):
    return list(Revision.select().where(Revision.article == article.id).order_by(Revision.version))


def assert_snapshot_of(revision, article):
    for field in SNAPSHOT:
        assert getattr(revision, field) == getattr(article, field), field


# --- Every save is a revision --------------------------------------------------------------------

VALUES = {
    "title": "A revised title",
    "lead": "A revised lead.",
    "body": "<p>A revised body.</p>",
    "section": lambda n: n.reports.id,
    "rubric": lambda n: n.economy.id,
    "hot": "y",
    "author": lambda n: n.other_author.id,
    "published_at": "2026-06-07T08:09",
}


@pytest.mark.parametrize("name", VALUES)
def test_every_save_adds_one_revision_with_editor_time_and_every_field(editor, newsroom, name):
    article = newsroom.article("published")
    value = VALUES[name](newsroom) if callable(VALUES[name]) else VALUES[name]
    before = models.utcnow()

    response = save(editor, article, name, str(value))

    assert response.status_code == 200
    after = models.utcnow()
    stored = fresh(article)
    kept = revisions(article)
    assert [r.version for r in kept] == [1, 2]
    latest = kept[-1]
    assert latest.version == stored.version
    assert latest.editor_id == newsroom.editor.id
    assert latest.action == "edited"
    assert before <= latest.created_at <= after
    assert_snapshot_of(latest, stored)


def test_workflow_steps_and_edit_page_saves_are_revisions_too(editor, newsroom):
    article = newsroom.article("draft")
    editor.post(f"/desk/articles/{article.id}/actions/publish", headers=HX)
    data = {
        "title": "Edited on the plain page",
        "lead": "",
        "body": "",
        "section": str(newsroom.news.id),
        "rubric": str(newsroom.security.id),
        "author": str(newsroom.author.id),
        "published_at": local_input(fresh(article).published_at),
        "version": "2",
    }
    assert editor.post(f"/desk/articles/{article.id}/edit", data=data).status_code == 302
    kept = revisions(article)
    assert [(r.version, r.action) for r in kept] == [(1, "created"), (2, "publish"), (3, "edited")]
    assert kept[1].status == "published"
    assert_snapshot_of(kept[-1], fresh(article))


def test_refused_saves_add_no_revision(editor, newsroom):
    article = newsroom.article("published")
    save(editor, article, "title", "")  # 422
    save(editor, article, "title", "Stale", version=0)  # 409
    assert revision_count(article) == 1


def test_two_saves_at_once_one_wins_and_the_other_is_a_conflict(app, newsroom, monkeypatch):
    """The version check and the write are one step, on either database: a save that
    starts while another is between them waits for it, then sees its version."""
    article = newsroom.article("published")
    first_checked, let_first_finish = threading.Event(), threading.Event()
    keep_baseline = Revision.keep_baseline.__func__

    def slow_keep_baseline(cls, current):  # runs just after the version check
        if threading.current_thread().name == "first":
            first_checked.set()
            assert let_first_finish.wait(10)
        keep_baseline(cls, current)

    monkeypatch.setattr(Revision, "keep_baseline", classmethod(slow_keep_baseline))
    outcomes = {}

    def save_title(title, editor):
        try:
            with app.app_context():
                outcomes[title] = article.save_changes({"title": title}, 1, editor).version
        except EditConflict as conflict:
            outcomes[title] = conflict.current.version
        finally:
            models.database.close()

    first = threading.Thread(target=save_title, args=("First", newsroom.editor), name="first")
    second = threading.Thread(target=save_title, args=("Second", newsroom.editor2))
    first.start()
    assert first_checked.wait(10)
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the first save, not checking the old version
    let_first_finish.set()
    first.join(10)
    second.join(10)
    assert outcomes == {"First": 2, "Second": 2}  # the second was told of version 2
    assert fresh(article).title == "First"
    versions = Revision.select(Revision.version).where(Revision.article == article)
    assert [r.version for r in versions.order_by(Revision.version)] == [1, 2]


# --- History and differences ---------------------------------------------------------------------


@pytest.fixture
def edited(app, newsroom):
    """An article saved four times by two editors: title, body, section, title."""
    article = newsroom.article("published", title="The quick brown fox")
    first = log_in(app.test_client(), newsroom.editor)
    second = log_in(app.test_client(), newsroom.editor2)
    assert save(first, article, "title", "The quick red fox").status_code == 200
    body = "<p>Jumps over the <b>lazy</b> dog.</p><p>Second paragraph.</p>"
    assert save(second, article, "body", body).status_code == 200
    assert save(first, article, "section", str(newsroom.reports.id)).status_code == 200
    assert save(second, article, "title", "A quick red fox jumps").status_code == 200
    return fresh(article)


def history_rows(response):
    rows = re.findall(
        r"<tr>\s*<td>(\d+)</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>",
        text_of(response),
    )
    return [(int(version), html.unescape(who), html.unescape(what)) for version, who, what in rows]


def diff_section(response):
    page = text_of(response)
    return re.search(r'<section class="diff".*?</section>', page, re.S).group(0)


def test_history_lists_every_revision(editor, edited):
    response = editor.get(f"/desk/articles/{edited.id}/history")
    assert response.status_code == 200
    assert history_rows(response) == [
        (5, "Ed Second", "edited: title"),
        (4, "Edna Editor", "edited: section"),
        (3, "Ed Second", "edited: body"),
        (2, "Edna Editor", "edited: title"),
        (1, "Ann Author", "created: created"),
    ]
    # Times are shown for each.
    assert len(re.findall(r"<td>\d\d\.\d\d\.\d\d \d\d:\d\d:\d\d</td>", text_of(response))) == 5


def test_history_shows_the_last_change_by_default(editor, edited):
    diff = diff_section(editor.get(f"/desk/articles/{edited.id}/history"))
    assert "Version 4 → version 5" in diff
    assert "<h3>Title</h3>" in diff
    assert "<ins>A </ins>" in diff
    assert "<del>The </del>" in diff
    assert "<h3>Section</h3>" not in diff


@pytest.mark.parametrize(
    ("older", "newer", "deleted", "inserted", "fields"),
    [
        (1, 2, ["brown "], ["red "], ["Title"]),
        (1, 5, ["The ", "brown "], ["A ", "red "], ["Title", "Text", "Section"]),
        (5, 1, ["A ", "red "], ["The ", "brown "], ["Title", "Text", "Section"]),
        (2, 4, ["News"], ["Reports", "lazy"], ["Text", "Section"]),
    ],
)
def test_diff_between_any_two_versions(editor, edited, older, newer, deleted, inserted, fields):
    response = editor.get(f"/desk/articles/{edited.id}/history?from={older}&to={newer}")
    assert response.status_code == 200
    diff = diff_section(response)
    assert f"Version {older} → version {newer}" in diff
    assert re.findall(r"<h3>(\w+)</h3>", diff) == fields
    dels = re.findall(r"<del>(.*?)</del>", diff, re.S)
    inss = re.findall(r"<ins>(.*?)</ins>", diff, re.S)
    for word in deleted:
        assert any(word in d for d in dels), (word, dels)
    for word in inserted:
        assert any(word in i for i in inss), (word, inss)


def test_diff_of_the_body_is_readable_text(editor, edited):
    diff = diff_section(editor.get(f"/desk/articles/{edited.id}/history?from=2&to=3"))
    text = re.search(r"<h3>Text</h3>\s*<p class=\"diff-text\">(.*?)</p>", diff, re.S).group(1)
    assert "&lt;" not in text and "<b>" not in text  # words, not markup
    assert "lazy" in text and "Second paragraph." in text


def test_diff_of_a_version_with_itself_shows_no_differences(editor, edited):
    diff = diff_section(editor.get(f"/desk/articles/{edited.id}/history?from=3&to=3"))
    assert "No differences." in diff


def test_diff_escapes_what_it_shows(editor, newsroom):
    article = newsroom.article("published", title="Plain")
    save(editor, article, "title", "<script>alert(1)</script>")
    page = text_of(editor.get(f"/desk/articles/{article.id}/history"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("query", ["from=99&to=1", "from=abc", "to=-3"])
def test_history_with_unknown_versions_still_shows_a_page(editor, edited, query):
    assert editor.get(f"/desk/articles/{edited.id}/history?{query}").status_code == 200


def test_history_offers_restore_to_editors_only(app, newsroom, editor):
    article = newsroom.article("draft")
    save(editor, article, "title", "Changed")
    page = text_of(editor.get(f"/desk/articles/{article.id}/history"))
    assert f"/desk/articles/{article.id}/revisions/1/restore" in page
    assert f"/desk/articles/{article.id}/revisions/2/restore" not in page  # the current one
    author = log_in(app.test_client(), newsroom.author)
    page = text_of(author.get(f"/desk/articles/{article.id}/history"))
    assert "/restore" not in page


# --- Restore -------------------------------------------------------------------------------------


def test_restore_sets_the_content_back_as_a_new_revision(editor, newsroom, edited):
    original = revisions(edited)[0]

    response = restore(editor, edited, 1)

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == (
        f"/articles/{edited.id}/the-quick-brown-fox"
    )
    shown = html.unescape(text_of(editor.get(response.headers["Location"])))
    assert "Version 1 restored as version 6: its content; the article stays published" in shown
    stored = fresh(edited)
    assert stored.version == 6
    assert (stored.title, stored.body, stored.section_id) == (
        original.title,
        original.body,
        original.section_id,
    )
    kept = revisions(edited)
    assert [r.version for r in kept] == [1, 2, 3, 4, 5, 6]
    assert kept[-1].action == "restored version 1"
    assert kept[-1].editor_id == newsroom.editor.id
    assert_snapshot_of(kept[-1], stored)
    # The later versions are still there, and can themselves be restored.
    assert kept[4].title == "A quick red fox jumps"
    assert restore(editor, edited, 5).status_code == 302
    assert fresh(edited).title == "A quick red fox jumps"
    assert fresh(edited).version == 7


def test_restore_does_not_change_the_workflow_state_nor_the_date(app, editor, newsroom):
    """Issue 12: restoring the revision saved at submission took a live article offline
    ("Published", publication time "Not set", in no list, no feed, no desk filter)."""
    article = newsroom.article("draft", title="Drafted")
    editor.post(f"/desk/articles/{article.id}/actions/submit", headers=HX)
    editor.post(f"/desk/articles/{article.id}/actions/publish", headers=HX)
    save(editor, article, "title", "Published title")
    published = fresh(article)
    assert revisions(article)[1].action == "submit" and revisions(article)[1].published_at is None

    response = restore(editor, article, 2)

    assert response.status_code == 302
    shown = html.unescape(text_of(editor.get(response.headers["Location"])))
    assert "the article stays published, first published" in shown
    stored = fresh(article)
    assert stored.title == "Drafted"
    assert (stored.state, stored.status, stored.published_at, stored.deleted_at) == (
        "published", "published", published.published_at, None,
    )  # fmt: skip
    assert app.test_client().get(f"/articles/{article.id}/drafted").status_code == 200
    assert Article.desk_list("published").where(Article.id == article.id).exists()


def test_restore_with_a_stale_version_changes_nothing(editor, edited):
    before = snapshot()

    response = restore(editor, edited, 1, base=4)

    assert response.status_code in (303, 409)
    shown = editor.get(response.headers["Location"]) if response.status_code == 303 else response
    assert "saved this article meanwhile" in text_of(shown)
    assert snapshot() == before


def test_restore_of_an_unknown_version_is_404(editor, edited):
    before = snapshot()
    assert restore(editor, edited, 99).status_code == 404
    assert snapshot() == before


def test_restore_without_a_version_is_400(editor, edited):
    before = snapshot()
    response = editor.post(f"/desk/articles/{edited.id}/revisions/1/restore")
    assert response.status_code == 400
    assert snapshot() == before


def test_restore_never_leaves_an_article_without_its_section(app, editor, newsroom):
    """The old revision's section was deleted since: restoring it must not break the article."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    article = newsroom.article("published")
    save(editor, article, "section", str(newsroom.reports.id))
    deleted = editor.post(f"/desk/taxonomy/section/{newsroom.news.id}/delete")
    assert deleted.status_code == 302
    assert Section.get_or_none(Section.id == newsroom.news.id) is None

    response = restore(editor, article, 1)

    assert response.status_code < 500, text_of(response)[:500]
    stored = fresh(article)
    assert Section.get_or_none(Section.id == stored.section_id) is not None
    assert Rubric.get_or_none(Rubric.id == stored.rubric_id) is not None


def test_restore_never_makes_a_reader_the_author(app, editor, newsroom):
    """The old revision's author lost their staff role since: they cannot be the author again."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    writer = make_login("author", "Former Writer")
    article = newsroom.article("published", author=writer)
    save(editor, article, "author", str(newsroom.author.id))
    User.update(role="reader").where(User.id == writer.id).execute()

    response = restore(editor, article, 1)

    assert response.status_code < 500
    assert fresh(article).author.role != "reader"


# --- Articles without a revision (loaded by the demo or imported) --------------------------------


@pytest.fixture
def demo_article(app):
    demo.load_demo(0)
    return Article.select().order_by(Article.id).first()


def test_a_loaded_article_has_no_revision_yet(demo_article):
    assert revision_count(demo_article) == 0


def test_history_of_an_article_never_edited_is_a_page_not_a_crash(app, demo_article):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    editor = log_in(app.test_client(), make_login("editor", "Demo Editor"))
    response = editor.get(f"/desk/articles/{demo_article.id}/history")
    assert response.status_code == 200
    page = text_of(response)
    assert '<h1 class="page-title">History</h1>' in page
    # Either its current version is listed, or the page says why there is none yet.
    assert "<td>1</td>" in page or "No saved versions yet" in page


def test_first_edit_keeps_the_loaded_version_so_it_can_be_restored(app, demo_article):
    editor = log_in(app.test_client(), make_login("editor", "Demo Editor"))
    original = fresh(demo_article)

    response = save(editor, original, "title", "A title the demo never had")

    assert response.status_code == 200
    kept = revisions(original)
    assert [(r.version, r.action, r.editor_id) for r in kept] == [
        (1, "as imported", None),
        (2, "edited", User.get(User.display_name == "Demo Editor").id),
    ]
    assert_snapshot_of(kept[0], original)
    history = editor.get(f"/desk/articles/{original.id}/history")
    assert history_rows(history)[-1] == (1, "—", "as imported: created")

    assert restore(editor, original, 1).status_code == 302
    stored = fresh(original)
    assert (stored.title, stored.body, stored.lead) == (
        original.title,
        original.body,
        original.lead,
    )
    assert stored.version == 3
    assert revision_count(original) == 3


def test_revisions_survive_a_section_rename(editor, newsroom, edited):
    editor.post(
        f"/desk/taxonomy/section/{newsroom.news.id}", data={"name": "Latest", "slug": "latest"}
    )
    diff = diff_section(editor.get(f"/desk/articles/{edited.id}/history?from=1&to=4"))
    assert "<del>Latest</del>" in diff


def test_revision_times_are_shown_in_the_site_timezone(editor, newsroom):
    models.SiteSettings.update(timezone="Asia/Tokyo").execute()  # UTC+9, no summer time
    article = newsroom.article("published")
    save(editor, article, "lead", "Later")
    saved_at = revisions(article)[-1].created_at + dt.timedelta(hours=9)
    page = text_of(editor.get(f"/desk/articles/{article.id}/history"))
    assert f"<td>{saved_at:%d.%m.%y %H:%M:%S}</td>" in page
