"""The article page's edit panel in a real browser: it tells the truth, and works from the
keyboard and with a screen reader (issue 12).

One message region (#messages, role="status") says how the last save or step went, once;
the panel's version and the document's title follow in-place saves; after Save, Escape or a
refused save the focus stays where the editor was; the sidebar lists' paging is announced
(#sidebar-status). Like test_editing, each test adds its own editor and draft to the live
database; a test that publishes unpublishes again, so the readers' lists stay as seeded.
"""

import itertools

import pytest
from axe_playwright_python.sync_playwright import Axe
from desk_helpers import make_login
from playwright.sync_api import expect
from test_accessibility import axe_report
from test_editing import log_in, open_editor, open_story, stored

import factories
from models import Article, SiteSettings

_serial = itertools.count(1)

ACTIVE = """() => {
  const element = document.activeElement;
  const field = element && element.closest("[id^=field-]");
  return {
    tag: element ? element.tagName : null,
    text: element ? element.textContent.trim() : null,
    field: field ? field.id : null,
  };
}"""


@pytest.fixture
def editor_account(live_server):
    return make_login("editor", f"Panel Editor {next(_serial)}")


@pytest.fixture
def story(live_server, editor_account):
    article = factories.make_draft(
        editor_account,
        title=f"A draft for the panel {next(_serial)}",
        lead="The lead as it was.",
        body="<p>The body as it was.</p>",
    )
    yield article
    # Published by a test, it would show in the readers' lists that other tests compare.
    if stored(article).status != Article.DRAFT:
        Article.update(status=Article.DRAFT, published_at=None).where(
            Article.id == article.id
        ).execute()
        SiteSettings.bump_content_version()


def active(page):
    return page.evaluate(ACTIVE)


def site_name():
    return SiteSettings.get_by_id(1).name


def assert_focus_on_edit_control(page, name, label):
    """The focus is on the field's edit control (waiting for htmx to settle the swap)."""
    expect(page.locator(f"#field-{name}").get_by_role("link", name=f"Edit {label}")).to_be_focused()
    assert active(page) == {"tag": "A", "text": f"Edit {label}", "field": f"field-{name}"}


# --- Messages: once, in one region --------------------------------------------------------------


def test_each_message_appears_once_in_the_one_message_region(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    messages = page.locator("#messages")
    expect(messages).to_have_attribute("role", "status")
    expect(messages).to_have_attribute("aria-live", "polite")
    expect(messages).to_be_empty()

    title = open_editor(page, "title", "title")
    title.fill("Saved in place")
    title.press("Enter")
    expect(messages).to_have_text("Title saved.")
    lead = open_editor(page, "lead", "lead")
    lead.fill("A new lead.")
    lead.press("Enter")
    expect(messages).to_have_text("Lead saved.")  # the title's message made way
    assert page.content().count("saved.") == 1

    page.get_by_role("button", name="Publish now").click()
    expect(page.locator("#article-status .state-badge")).to_have_text("Published")
    expect(messages).to_have_text("Published.")
    # Once in the whole page: the panel and its six field views do not repeat it.
    assert page.content().count("Published.") == 1
    assert page.content().count("saved.") == 0

    page.get_by_role("button", name="Unpublish").click()
    expect(messages).to_have_text("Unpublished: readers no longer see it.")
    assert page.content().count("Published.") == 0
    assert page.content().count("readers no longer see it") == 1
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_a_refused_save_and_a_refused_step_are_said_in_the_message_region(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)

    title = open_editor(page, "title", "title")
    title.fill("   ")  # past `required`: the server refuses it
    page.locator("#field-title").get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_have_text("Title not saved: correct the marked field.")

    page.get_by_label("Publish at").fill("2001-01-01T10:00")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("#messages")).to_have_text("Choose a publication time in the future.")
    assert page.content().count("Choose a publication time in the future.") == 1
    assert stored(story).status == Article.DRAFT
    page.wait_for_load_state("networkidle")
    assert [e for e in console_errors if "status of 422" not in e] == []


# --- What the panel shows follows the saves ----------------------------------------------------


def test_version_heading_and_document_title_follow_an_in_place_title_save(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    state = page.locator("#article-status .state")
    expect(state).to_contain_text("version 1")
    assert page.title() == f"{story.title} — {site_name()}"

    title = open_editor(page, "title", "title")
    title.fill("A title that <tells> the truth & more")
    title.press("Enter")

    expect(page.locator("#field-title h1")).to_have_text("A title that <tells> the truth & more")
    expect(state).to_contain_text("version 2")
    expect(page).to_have_title(f"A title that <tells> the truth & more — {site_name()}")
    assert page.locator("h1").count() == 1

    # A save in the panel itself moves the version on too, and the title stays.
    page.locator("#field-hot").get_by_role("link", name="Edit hot flag").click()
    page.locator("#field-hot input[name=hot]").check()
    page.locator("#field-hot").get_by_role("button", name="Save").click()
    expect(page.locator("#field-hot")).to_contain_text("Yes: in the hot-news strip")
    expect(state).to_contain_text("version 3")
    expect(page).to_have_title(f"A title that <tells> the truth & more — {site_name()}")
    assert stored(story).version == 3
    # The workflow's forms carry the version the panel shows: a step goes through.
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#article-status .state-badge")).to_have_text("Submitted")
    expect(state).to_contain_text("version 4")
    page.wait_for_load_state("networkidle")
    assert console_errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_the_print_link_does_not_overlap_the_title_editor(
    page, live_server, story, editor_account, width
):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    open_editor(page, "title", "title")

    link = page.locator(".print-link").bounding_box()
    for part in ("#field-title", "#field-title input[name=title]"):
        box = page.locator(part).bounding_box()
        apart = (
            link["x"] + link["width"] <= box["x"]
            or box["x"] + box["width"] <= link["x"]
            or link["y"] + link["height"] <= box["y"]
            or box["y"] + box["height"] <= link["y"]
        )
        assert apart, (part, link, box)


# --- Keyboard only ------------------------------------------------------------------------------


def tab_to(page, name, label, limit=80):
    """Press Tab until the focus is on the field's edit control; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        now = active(page)
        if now["field"] == f"field-{name}" and now["text"] == f"Edit {label}":
            return presses
    raise AssertionError(f"Edit {label} not reached in {limit} Tabs")


def test_keyboard_only_the_focus_returns_to_each_fields_edit_control(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    page.locator("body").focus()
    presses = tab_to(page, "title", "title")

    # Enter opens the editor, on its field; Enter saves; the focus is back on the control.
    page.keyboard.press("Enter")
    expect(page.locator("#field-title input[name=title]")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Typed at the keyboard")
    page.keyboard.press("Enter")
    expect(page.locator("#field-title h1")).to_have_text("Typed at the keyboard")
    assert_focus_on_edit_control(page, "title", "title")
    expect(page.locator("#messages")).to_have_text("Title saved.")

    # Escape cancels, and the focus is back on the control too.
    page.keyboard.press("Enter")
    expect(page.locator("#field-title input[name=title]")).to_be_focused()
    page.keyboard.type(" and abandoned")
    page.keyboard.press("Escape")
    expect(page.locator("#field-title h1")).to_have_text("Typed at the keyboard")
    assert_focus_on_edit_control(page, "title", "title")

    # From there the next Tab goes on down the page, not back to its top.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert_focus_on_edit_control(page, "title", "title")
    assert tab_to(page, "lead", "lead", limit=5) <= 5

    # The lead: Enter saves it too. The body: Tab to its Save button, Space.
    page.keyboard.press("Enter")
    expect(page.locator("#field-lead textarea")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("A lead typed at the keyboard.")
    page.keyboard.press("Enter")
    expect(page.locator("#field-lead .standfirst")).to_have_text("A lead typed at the keyboard.")
    assert_focus_on_edit_control(page, "lead", "lead")

    tab_to(page, "body", "text", limit=10)
    page.keyboard.press("Enter")
    expect(page.locator("#field-body .rich-surface")).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type(" More.")
    save = page.locator("#field-body").get_by_role("button", name="Save")
    for _ in range(20):
        page.keyboard.press("Tab")
        if save.evaluate("button => button === document.activeElement"):
            break
    page.keyboard.press("Space")
    expect(page.locator("#field-body .article-body")).to_contain_text("More.")
    assert_focus_on_edit_control(page, "body", "text")
    expect(page.locator("#messages")).to_have_text("Text saved.")

    # A field of the panel: a select, saved with Ctrl+Enter, then cancelled with Escape.
    section = page.locator("#field-section")
    section.get_by_role("link", name="Edit section").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#field-section select")).to_be_focused()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#messages")).to_have_text("Section saved.")
    assert_focus_on_edit_control(page, "section", "section")
    page.keyboard.press("Enter")
    expect(page.locator("#field-section select")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#field-section select")).to_have_count(0)
    assert_focus_on_edit_control(page, "section", "section")

    stored_story = stored(story)
    assert (stored_story.title, stored_story.lead) == (
        "Typed at the keyboard",
        "A lead typed at the keyboard.",
    )
    assert "More." in stored_story.body
    assert presses < 40, presses
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_keyboard_only_a_refused_save_keeps_the_focus_on_the_invalid_field(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    page.locator("#field-title").get_by_role("link", name="Edit title").focus()
    page.keyboard.press("Enter")
    title = page.locator("#field-title input[name=title]")
    expect(title).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("   ")
    page.keyboard.press("Enter")

    expect(page.locator("#field-title .errors")).to_contain_text("This field is required.")
    expect(title).to_be_focused()
    expect(title).to_have_attribute("aria-invalid", "true")
    described = title.get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_contain_text("This field is required.")
    assert stored(story).title == story.title
    page.wait_for_load_state("networkidle")
    assert [e for e in console_errors if "status of 422" not in e] == []


def test_keyboard_only_a_workflow_step_keeps_the_focus_in_the_panel(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    page.get_by_role("button", name="Submit for review").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#article-status .state-badge")).to_have_text("Submitted")
    expect(page.locator("#article-status .state")).to_be_focused()
    expect(page.locator("#messages")).to_have_text("Submitted for review.")
    assert console_errors == []


# --- The sidebar lists ------------------------------------------------------------------------


def test_sidebar_paging_is_announced_and_keeps_the_focus(page, live_server, console_errors):
    page.goto(live_server + "/")
    status = page.locator("#sidebar-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_be_empty()
    news = page.locator("#sidebar-news")

    news.get_by_role("link", name="older ›").focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Page 2 of News")
    expect(news.get_by_role("link", name="older ›")).to_be_focused()

    news.get_by_role("link", name="‹ newer").focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Page 1 of News")
    # Page 1 has no "newer": the focus goes to the list's other pager link.
    expect(news.get_by_role("link", name="older ›")).to_be_focused()
    assert console_errors == []


# --- axe ------------------------------------------------------------------------------------------


def assert_accessible(page):
    violations = Axe().run(page).response["violations"]
    assert not violations, f"axe on {page.url}:\n{axe_report(violations)}"


def test_the_panel_after_saves_and_steps_has_no_axe_violations(
    page, live_server, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    title = open_editor(page, "title", "title")
    title.fill("Checked by axe")
    title.press("Enter")
    expect(page.locator("#messages")).to_have_text("Title saved.")
    assert_accessible(page)

    open_editor(page, "lead", "lead")
    open_editor(page, "section", "section")
    assert_accessible(page)

    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#messages")).to_have_text("Submitted for review.")
    assert_accessible(page)
