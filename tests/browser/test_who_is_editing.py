"""Who is editing, in two real browsers (issue 12, test d): one editor opens an editor,
the other sees it on the article page without reloading, and sees it go.

The live server polls every second here (PRESENCE_POLL_SECONDS), so that appearing and
going take a second or two instead of twenty.
"""

import itertools
import re

import pytest
from desk_helpers import make_login
from playwright.sync_api import expect
from test_accessibility import assert_accessible
from test_editing import log_in, open_story

import factories

_serial = itertools.count(1)


@pytest.fixture
def editors(live_server, live_config):
    live_config(PRESENCE_POLL_SECONDS=1)
    n = next(_serial)
    return make_login("editor", f"Anna Presence {n}"), make_login("editor", f"Boris Presence {n}")


@pytest.fixture
def story(editors):
    return factories.make_draft(editors[0], title=f"Open in two browsers {next(_serial)}")


def errors_of(page):
    errors = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    return errors


@pytest.fixture
def two_browsers(browser, page, live_server, editors, story):
    """(Anna's page, Boris's page), each logged in and on the story, in contexts of their own."""
    other = browser.new_context()
    boris = other.new_page()
    errors = errors_of(page), errors_of(boris)
    log_in(page, live_server, editors[0])
    log_in(boris, live_server, editors[1])
    for each in (page, boris):
        open_story(each, live_server, story)
    yield page, boris
    for each in (page, boris):
        each.wait_for_load_state("networkidle")
    other.close()
    assert errors == ([], [])


def test_an_open_field_editor_is_shown_to_the_other_editor_and_goes_when_it_closes(
    two_browsers, live_server, editors
):
    anna, boris = two_browsers
    name = editors[0].display_name
    notice = boris.locator("#presence")
    expect(notice).to_have_attribute("role", "status")  # announced politely
    expect(notice).not_to_contain_text("is editing")

    anna.locator("#field-title").get_by_role("link", name="Edit title").click()
    expect(anna.locator("form#field-title[data-ready]")).to_have_count(1)
    shown = re.compile(rf"{re.escape(name)} is editing the title \(since \d\d:\d\d\)")
    expect(notice).to_contain_text(shown)  # no reload: the panel asks every second
    expect(boris.locator("#presence-title")).to_contain_text(shown)  # and beside the title
    expect(boris.locator("#presence-body")).to_have_text("")
    # Asked again with nothing new: answered with nothing, so it is announced once.
    with boris.expect_response(lambda response: "/editors?" in response.url) as asked:
        pass
    assert asked.value.status == 204
    assert_accessible(boris)
    expect(anna.locator("#presence")).not_to_contain_text("is editing")  # not to herself

    # Advice, not a lock: Boris opens the same field beside her, sees her there, and saves.
    boris.locator("#field-title").get_by_role("link", name="Edit title").click()
    expect(boris.locator("form#field-title #presence-title")).to_contain_text(shown)
    assert_accessible(boris)
    boris.locator("#field-title input[name=title]").press("Escape")
    expect(boris.locator("#field-title h1")).to_be_visible()

    anna.locator("#field-title input[name=title]").press("Escape")  # she cancels
    expect(notice).not_to_contain_text("is editing")
    expect(boris.locator("#presence-title")).to_have_text("")

    # Opened again and saved: shown while open, gone once saved.
    anna.locator("#field-title").get_by_role("link", name="Edit title").click()
    expect(notice).to_contain_text(shown)
    anna.locator("#field-title input[name=title]").fill("Saved while watched")
    anna.locator("#field-title input[name=title]").press("Enter")
    expect(anna.locator("#field-title h1")).to_have_text("Saved while watched")
    expect(notice).not_to_contain_text("is editing")


def test_the_full_edit_form_is_shown_in_the_panel_and_the_desk_list(
    two_browsers, live_server, editors, story
):
    anna, boris = two_browsers
    name = editors[0].display_name
    anna.locator("#article-status").get_by_role("link", name="Edit all fields").click()
    expect(anna.get_by_role("heading", name="Edit article")).to_be_visible()

    whole = f"{name} is editing the whole article"
    expect(boris.locator("#presence")).to_contain_text(whole)
    expect(boris.locator("#presence-lead")).to_contain_text(whole)
    desk = boris.context.new_page()
    desk.goto(live_server + "/desk/?state=draft&order=updated")
    expect(desk.get_by_role("row", name=re.compile(re.escape(story.title)))).to_contain_text(whole)
    desk.close()

    anna.get_by_role("link", name="Cancel").click()  # leaves the page: the browser says so
    expect(boris.locator("#presence")).not_to_contain_text("is editing")


def test_without_javascript_the_edit_page_counts_until_saved(
    browser, page, live_server, editors, story
):
    no_js = browser.new_context(java_script_enabled=False)
    try:
        anna = no_js.new_page()
        log_in(anna, live_server, editors[0])
        log_in(page, live_server, editors[1])
        open_story(page, live_server, story)
        anna.goto(f"{live_server}/desk/articles/{story.id}/edit")
        notice = page.locator("#presence")
        expect(notice).to_contain_text(f"{editors[0].display_name} is editing the whole article")
        anna.get_by_label("Title").fill("Saved without JavaScript")
        anna.get_by_role("button", name="Save").click()
        expect(anna.locator("#field-title h1")).to_have_text("Saved without JavaScript")
        expect(notice).not_to_contain_text("is editing")
    finally:
        no_js.close()
