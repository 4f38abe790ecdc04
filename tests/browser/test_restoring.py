"""An editor restores every kind of revision in a real browser (Chromium through
Playwright): content comes back, the article's status and dates never move (issue 12).

Each test builds one article's history on the live site through the model (every
workflow step, each after a content save of its own), then restores each revision from
the History page as an editor would. The published article is dated 2001 so that it
stays out of the demo's lists that other browser tests read; every article goes to the
trash at the end.
"""

import datetime as dt
import itertools

import pytest
from desk_helpers import make_login
from playwright.sync_api import expect
from test_editing import log_in

import dates
from models import Article, Revision, Rubric, Section, SiteSettings, utcnow

_serial = itertools.count(1)
FIRST_PUBLISHED = dt.datetime(2001, 2, 3, 4, 5)


def build_history(editor, final_state):
    """An article whose revisions are of every kind, ending in `final_state`."""
    article = Article.new_draft(
        f"Restored in the browser {next(_serial)}",
        Section.ordered().first(),
        Rubric.ordered().first(),
        editor,
    )

    def save_lead(kind):
        nonlocal article
        article = article.save_changes({"lead": f"Lead when {kind}."}, article.version, editor)

    def step(name, **kwargs):
        nonlocal article
        article = article.take_action(name, editor, **kwargs)

    save_lead("edited as a draft")
    step("submit")
    save_lead("submitted")
    step("schedule", publish_at=utcnow() + dt.timedelta(days=5))
    save_lead("scheduled")
    step("publish")
    article = article.save_changes(
        {"published_at": FIRST_PUBLISHED, "lead": "Lead when published."}, article.version, editor
    )
    step("unpublish")
    save_lead("unpublished")
    step("trash")
    step("restore")
    if final_state == "published":
        step("publish")  # republished: dated 2001 still
    elif final_state == "scheduled":
        step("schedule", publish_at=(utcnow() + dt.timedelta(days=3)).replace(microsecond=0))
    else:
        step("return_to_draft")
    save_lead(f"now {final_state}")
    assert article.state == final_state
    return Article.get_by_id(article.id)


@pytest.fixture
def editor_account(live_server):
    return make_login("editor", f"Restoring Editor {next(_serial)}")


def shown(value):
    """A stored time as the site shows it (site timezone, 21.07.19 08:16)."""
    return dates.format_local(value, SiteSettings.get_by_id(1).zone, dates.SHORT_FORMAT)


@pytest.fixture
def no_js_page(browser):
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize(
    ("final_state", "javascript"),
    [("published", True), ("scheduled", True), ("draft", True), ("published", False)],
    ids=["published", "scheduled", "draft", "published-without-javascript"],
)
def test_restoring_every_kind_of_revision_keeps_status_and_dates(
    request, browser, page, live_server, console_errors, editor_account, final_state, javascript
):
    if not javascript:
        page = request.getfixturevalue("no_js_page")
    article = build_history(editor_account, final_state)
    request.addfinalizer(lambda: Article.get_by_id(article.id).take_action("trash", editor_account))
    kinds = {
        r.version: r.action
        for r in Revision.select().where(Revision.article == article.id)
        if r.version < article.version
    }
    assert set(kinds.values()) >= {
        "created", "edited", "submit", "schedule", "publish", "unpublish", "trash", "restore",
    }  # fmt: skip
    kept = (article.status, article.published_at, article.deleted_at)
    reader = browser.new_context()
    reader_page = reader.new_page()
    url = f"{live_server}/articles/{article.id}/{article.slug}"
    log_in(page, live_server, editor_account)

    for version, kind in kinds.items():
        page.goto(f"{live_server}/desk/articles/{article.id}/history")
        row = page.locator(f"table.desk-table tbody tr:has(td:first-child:text-is('{version}'))")
        row.get_by_role("button", name="Restore").click()

        restored = Revision.get(Revision.article == article.id, Revision.version == version)
        expect(page.locator("#field-lead")).to_contain_text(restored.lead or "No lead yet.")
        current = Article.get_by_id(article.id)
        message = f"Version {version} restored as version {current.version}: its content; "
        message += f"the article stays {final_state}"
        if final_state == "scheduled":
            message += f", to be published {shown(kept[1])}"
        elif kept[1] is not None:
            message += f", first published {shown(kept[1])}"
        expect(page.get_by_text(message)).to_be_visible()
        expect(page.locator(f".state-badge.state-{final_state}")).to_be_visible()
        expect(page.locator("#field-published_at")).to_contain_text(
            shown(kept[1]) if kept[1] else "Not set"
        )
        assert (current.status, current.published_at, current.deleted_at) == kept, kind
        # Readers see it exactly as before: the published article, and nothing else.
        response = reader_page.goto(url)
        assert response.status == (200 if final_state == "published" else 404), kind
        listed = Article.desk_list(final_state).where(Article.id == article.id).exists()
        assert listed, kind

    reader.close()
    assert console_errors == []
