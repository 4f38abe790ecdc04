"""Two editors on one article at once, each in a browser of their own (Chromium): changes
to different fields or paragraphs are both saved, changes to the same words are a
conflict that shows both and that the second editor resolves."""

import itertools

import pytest
from desk_helpers import make_login
from playwright.sync_api import expect
from test_editing import log_in, open_editor, open_story, stored

import factories
from models import Revision

_serial = itertools.count(1)


@pytest.fixture
def two_editors(browser, live_server):
    """(page of editor A, page of editor B, the article), both pages open on it."""
    n = next(_serial)
    anna = make_login("editor", f"Anna Two {n}")
    boris = make_login("editor", f"Boris Two {n}")
    article = factories.make_draft(
        anna,
        title=f"Talks resume in Kabul {n}",
        lead="A lead about the talks.",
        body="<p>First paragraph.</p><p>Second paragraph.</p><p>Third paragraph.</p>",
    )
    contexts = [browser.new_context() for _ in range(2)]
    pages = []
    for context, user in zip(contexts, (anna, boris), strict=True):
        page = context.new_page()
        log_in(page, live_server, user)
        open_story(page, live_server, article)
        pages.append(page)
    yield pages[0], pages[1], article
    for context in contexts:
        context.close()


def save(page, name):
    page.locator(f"#field-{name}").get_by_role("button", name="Save").click()


def test_different_fields_are_both_saved(two_editors):
    anna, boris, article = two_editors
    title = open_editor(anna, "title", "title")
    lead = open_editor(boris, "lead", "lead")  # opened on the same version
    title.fill("Peace talks resume in Kabul")
    title.press("Enter")
    expect(anna.locator("#messages")).to_have_text("Title saved.")
    lead.fill("A new lead.")
    save(boris, "lead")
    expect(boris.locator("#messages")).to_have_text("Lead saved.")
    now = stored(article)
    assert (now.title, now.lead) == ("Peace talks resume in Kabul", "A new lead.")


def test_different_paragraphs_of_the_body_are_merged(two_editors):
    anna, boris, article = two_editors
    open_editor(anna, "body", "text")
    open_editor(boris, "body", "text")
    for page, paragraph, words in ((anna, 0, " Anna was here."), (boris, 2, " Boris too.")):
        page.locator("#field-body .rich-surface p").nth(paragraph).click()
        page.keyboard.press("End")
        page.keyboard.type(words)
    save(anna, "body")
    expect(anna.locator("#messages")).to_have_text("Text saved.")
    save(boris, "body")
    note = boris.locator("#messages")
    expect(note).to_contain_text("merged with Anna Two")
    body = boris.locator("#field-body .article-body")
    expect(body).to_contain_text("First paragraph. Anna was here.")
    expect(body).to_contain_text("Third paragraph. Boris too.")
    saved = stored(article).body
    assert "Anna was here." in saved and "Boris too." in saved


def test_the_same_words_are_a_conflict_the_second_editor_resolves(two_editors):
    anna, boris, article = two_editors
    mine = open_editor(anna, "title", "title")
    theirs = open_editor(boris, "title", "title")
    mine.fill("Talks stall in Kabul")
    mine.press("Enter")
    expect(anna.locator("#messages")).to_have_text("Title saved.")
    theirs.fill("Talks end in Kabul")
    theirs.press("Enter")

    conflict = boris.locator("#field-title .conflict")
    expect(conflict).to_contain_text("Not saved")
    expect(conflict).to_contain_text("Anna Two")
    expect(conflict.locator("ins").first).to_be_visible()
    expect(conflict).to_contain_text("stall")  # their change, marked
    expect(conflict).to_contain_text("end")  # and Boris's own
    expect(boris.locator("#field-title [name=title]:not([type=hidden])")).to_have_value(
        "Talks end in Kabul"  # the typed text is kept
    )
    assert stored(article).title == "Talks stall in Kabul"

    boris.locator("#field-title").get_by_role(
        "button", name="Save mine, replacing their change"
    ).click()
    expect(boris.locator("#field-title h1")).to_have_text("Talks end in Kabul")
    assert stored(article).title == "Talks end in Kabul"
    # Both saves are in History.
    titles = [r.title for r in Revision.select().where(Revision.article == article)]
    assert "Talks stall in Kabul" in titles and "Talks end in Kabul" in titles


def test_without_javascript_the_full_form_merges_and_resolves(browser, live_server):
    """The same rules on the plain edit page: another's lead is kept, the title both
    changed is a conflict page, and "Keep theirs" saves the rest."""
    n = next(_serial)
    anna = make_login("editor", f"Anna Plain {n}")
    boris = make_login("editor", f"Boris Plain {n}")
    article = factories.make_draft(anna, title=f"Plain talks resume {n}", lead="Old lead.")
    contexts = [browser.new_context(java_script_enabled=False) for _ in range(2)]
    try:
        pages = [context.new_page() for context in contexts]
        for page, user in zip(pages, (anna, boris), strict=True):
            log_in(page, live_server, user)
            page.goto(f"{live_server}/desk/articles/{article.id}/edit")
        first, second = pages
        first.get_by_label("Title", exact=True).fill(f"Plain talks stall {n}")
        first.get_by_label("Lead", exact=True).fill("Anna's lead.")
        first.get_by_role("button", name="Save").click()
        first.wait_for_load_state()
        assert stored(article).lead == "Anna's lead."

        second.get_by_label("Title", exact=True).fill(f"Plain talks end {n}")
        second.get_by_role("button", name="Save").click()
        conflict = second.locator(".conflict")
        expect(conflict).to_contain_text("Anna Plain")
        expect(conflict.locator("ins").first).to_be_visible()
        second.get_by_role("button", name="Keep theirs").click()
        now = stored(article)
        assert (now.title, now.lead) == (f"Plain talks stall {n}", "Anna's lead.")
    finally:
        for context in contexts:
            context.close()
