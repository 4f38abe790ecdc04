"""An editor in a real browser (Chromium through Playwright) edits articles in place.

Each test adds its own editor account and its own draft to the live database (see
conftest's docstring): drafts are invisible to readers, so the reading tests that
share the live site see the demo content unchanged.
"""

import itertools
import re

import pytest
from desk_helpers import PASSWORD, make_login
from playwright.sync_api import expect

import factories
from models import Article

_serial = itertools.count(1)

PASTED_HTML = (
    '<p style="color:red" class="MsoNormal">Pasted <b>bold</b><script>alert(1)</script></p>'
    "<!-- a word processor's comment -->"
)

PASTE = """([selector, html]) => {
  const surface = document.querySelector(selector);
  surface.focus();
  const range = document.createRange();
  range.selectNodeContents(surface);
  range.collapse(false);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const data = new DataTransfer();
  data.setData("text/html", html);
  data.setData("text/plain", "Pasted bold");
  surface.dispatchEvent(
    new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


@pytest.fixture
def editor_account(live_server):
    return make_login("editor", f"Browser Editor {next(_serial)}")


@pytest.fixture
def story(live_server, editor_account):
    """A fresh draft by the editor, in the demo's first section and rubric."""
    n = next(_serial)
    return factories.make_draft(
        editor_account,
        title=f"Draft for the browser {n}",
        lead="The lead as it was.",
        body="<p>The body as it was.</p>",
    )


def stored(article):
    return Article.get_by_id(article.id)


def log_in(page, live_server, user):
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Desk", exact=True)).to_be_visible()


def open_story(page, live_server, article):
    article = stored(article)
    page.goto(f"{live_server}/articles/{article.id}/{article.slug}")
    expect(page.locator("#field-title h1")).to_have_text(article.title)


def open_editor(page, name, label):
    """Click "Edit <label>" and wait until editor.js has set the editor up."""
    page.locator(f"#field-{name}").get_by_role("link", name=f"Edit {label}").click()
    expect(page.locator(f"form#field-{name}[data-ready]")).to_have_count(1)
    return page.locator(f"#field-{name} [name={name}]:not([type=hidden])")


def collect_errors(page):
    errors = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    return errors


def unexpected(errors, *expected):
    """The errors not matching any of the `expected` patterns."""
    return [e for e in errors if not any(re.search(pattern, e) for pattern in expected)]


def test_editor_edits_title_and_body_in_place(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    page.evaluate("window.__marker = 1")

    title = open_editor(page, "title", "title")
    expect(title).to_be_focused()
    title.fill("Edited in place")
    title.press("Enter")
    expect(page.locator("#field-title h1")).to_have_text("Edited in place")
    expect(page.locator("#messages")).to_have_text("Title saved.")

    open_editor(page, "body", "text")
    surface = page.locator("#field-body .rich-surface")
    expect(surface).to_be_visible()
    expect(page.locator("#field-body .rich-toolbar button")).to_have_count(9)
    surface.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Typed here.")
    page.evaluate(PASTE, ["#field-body .rich-surface", PASTED_HTML])
    expect(surface).to_contain_text("Pasted bold")
    page.locator("#field-body").get_by_role("button", name="Save").click()

    body = page.locator("#field-body .article-body")
    expect(body).to_contain_text("Typed here.")
    expect(body.locator("strong")).to_have_text("bold")
    expect(page.locator("#messages")).to_have_text("Text saved.")
    assert page.evaluate("window.__marker") == 1  # no page load

    page.reload()
    expect(page.locator("#field-title h1")).to_have_text("Edited in place")
    expect(page.locator("#field-body .article-body")).to_contain_text("Typed here.")
    expect(page.locator("#field-body .article-body strong")).to_have_text("bold")
    saved = stored(story)
    assert saved.title == "Edited in place"
    assert "<strong>bold</strong>" in saved.body
    assert "The body as it was." in saved.body
    for bad in ("style", "class", "script", "alert", "MsoNormal", "<!--", "<b>"):
        assert bad not in saved.body, (bad, saved.body)
    assert saved.version == 3
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_escape_cancels_and_shows_the_original(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)

    title = open_editor(page, "title", "title")
    title.fill("Typed, then abandoned")
    title.press("Escape")

    expect(page.locator("#field-title h1")).to_have_text(story.title)
    expect(page.locator("#field-title input")).to_have_count(0)
    lead = open_editor(page, "lead", "lead")
    lead.fill("A lead never saved")
    lead.press("Escape")
    expect(page.locator("#field-lead .standfirst")).to_have_text("The lead as it was.")
    expect(page.locator("#field-lead textarea")).to_have_count(0)
    assert (stored(story).title, stored(story).lead, stored(story).version) == (
        story.title,
        "The lead as it was.",
        1,
    )
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_escape_discards_the_unsaved_copy(page, live_server, console_errors, story, editor_account):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    title = open_editor(page, "title", "title")
    title.fill("Typed, then abandoned")
    title.press("Escape")
    expect(page.locator("#field-title h1")).to_have_text(story.title)

    # Cancelled means cancelled: opening the editor again offers nothing to restore.
    reopened = open_editor(page, "title", "title")
    expect(reopened).to_have_value(story.title)
    expect(page.locator(".unsaved-offer")).to_have_count(0)
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('newsdesk:'))")
    assert kept == []
    assert console_errors == []


def test_second_editor_gets_the_conflict_in_place_with_their_text(
    browser, page, live_server, console_errors, story, editor_account
):
    second_account = make_login("editor", f"Second Browser Editor {next(_serial)}")
    context = browser.new_context()
    try:
        other = context.new_page()
        other_errors = collect_errors(other)
        log_in(page, live_server, editor_account)
        log_in(other, live_server, second_account)
        for each in (page, other):
            open_story(each, live_server, story)
            open_editor(each, "title", "title")

        first_title = page.locator("#field-title input[name=title]")
        first_title.fill("The first editor's title")
        first_title.press("Enter")
        expect(page.locator("#field-title h1")).to_have_text("The first editor's title")

        second_title = other.locator("#field-title input[name=title]")
        second_title.fill("The second editor's title")
        second_title.press("Enter")

        conflict = other.locator("#field-title .conflict")
        expect(conflict).to_be_visible()
        expect(conflict).to_contain_text(editor_account.display_name)
        expect(conflict.locator("h2")).to_have_text("Title")
        expect(conflict.locator("ins").first).to_contain_text("first editor's")  # theirs, marked
        expect(other.locator("#field-title input[name=title]")).to_have_value(
            "The second editor's title"
        )
        assert stored(story).title == "The first editor's title"

        # Saving again, merged by hand, goes through.
        other.locator("#field-title input[name=title]").fill("A merged title")
        other.locator("#field-title input[name=title]").press("Enter")
        expect(other.locator("#field-title h1")).to_have_text("A merged title")
        assert stored(story).title == "A merged title"
        other.wait_for_load_state("networkidle")
        # The browser logs the 409 answer itself as a failed resource; nothing else.
        assert unexpected(other_errors, r"status of 409") == []
    finally:
        context.close()
    assert console_errors == []


def test_unsaved_text_is_offered_back_after_a_reload(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    open_editor(page, "title", "title").fill("Words I did not save")

    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?": yes
    page.reload()
    expect(page.locator("#field-title h1")).to_have_text(story.title)
    open_editor(page, "title", "title")

    offer = page.locator("#field-title .unsaved-offer")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name="Restore them").click()
    title = page.locator("#field-title input[name=title]")
    expect(title).to_have_value("Words I did not save")
    expect(offer).to_have_count(0)
    assert stored(story).title == story.title

    title.press("Enter")
    expect(page.locator("#field-title h1")).to_have_text("Words I did not save")
    assert stored(story).title == "Words I did not save"
    # Saved: the copy is gone, and nothing is offered any more.
    page.reload()
    open_editor(page, "title", "title")
    expect(page.locator(".unsaved-offer")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_a_save_that_fails_on_the_network_says_so_and_keeps_the_text(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    save_url = f"**/desk/articles/{story.id}/fields/title"

    def cut_the_line(route):
        if route.request.method == "POST":
            route.abort()
        else:
            route.continue_()

    page.route(save_url, cut_the_line)
    title = open_editor(page, "title", "title")
    title.fill("Written on a train")
    title.press("Enter")

    expect(page.locator("#field-title .editor-status")).to_contain_text("Not saved")
    expect(title).to_have_value("Written on a train")
    assert stored(story).title == story.title

    # Back online: the same form saves.
    page.unroute(save_url)
    title.press("Enter")
    expect(page.locator("#field-title h1")).to_have_text("Written on a train")
    assert stored(story).title == "Written on a train"
    page.wait_for_load_state("networkidle")
    # The aborted request itself is logged: by the browser, and by htmx, which logs its
    # error events (afterRequest and sendError of the failed request).
    expected = (r"net::ERR_FAILED", r"htmx:sendError", r"htmx:afterRequest")
    assert unexpected(console_errors, *expected) == []
