"""Images in a real browser: an editor pastes a picture into the text, describes it,
saves, and sees it on the page; sets a lead image from the staff panel.

Like test_editing, each test adds its own editor and draft to the live database.
"""

import io
import itertools
import re

import pytest
from desk_helpers import PASSWORD, make_login
from PIL import Image
from playwright.sync_api import expect

import factories
from models import Article, Media

_serial = itertools.count(1)

# A PNG made in the page from a canvas, put in a DataTransfer as a File, and pasted
# into the rich surface at the end of its text: what pasting a screenshot does.
PASTE_IMAGE = """async (selector) => {
  const canvas = document.createElement("canvas");
  canvas.width = 1200;
  canvas.height = 600;
  const context = canvas.getContext("2d");
  const gradient = context.createLinearGradient(0, 0, 1200, 600);
  gradient.addColorStop(0, "#8b1a1a");
  gradient.addColorStop(1, "#14457a");
  context.fillStyle = gradient;
  context.fillRect(0, 0, 1200, 600);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const file = new File([blob], "image.png", {type: "image/png"});
  const surface = document.querySelector(selector);
  surface.focus();
  const range = document.createRange();
  range.selectNodeContents(surface);
  range.collapse(false);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const data = new DataTransfer();
  data.items.add(file);
  surface.dispatchEvent(
    new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


@pytest.fixture
def editor_account(live_server):
    return make_login("editor", f"Image Editor {next(_serial)}")


@pytest.fixture
def story(live_server, editor_account):
    n = next(_serial)
    return factories.make_draft(
        editor_account,
        title=f"Draft with pictures {n}",
        lead="A lead.",
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
    page.locator(f"#field-{name}").get_by_role("link", name=f"Edit {label}").click()
    expect(page.locator(f"form#field-{name}[data-ready]")).to_have_count(1)


def answer_prompts(page, text):
    prompts = []

    def on_dialog(dialog):
        prompts.append(dialog.message)
        if dialog.type == "prompt":
            dialog.accept(text)
        else:
            dialog.accept()

    page.on("dialog", on_dialog)
    return prompts


def test_editor_pastes_an_image_describes_it_and_sees_it_on_the_page(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    prompts = answer_prompts(page, "A gradient from red to blue")

    open_editor(page, "body", "text")
    surface = page.locator("#field-body .rich-surface")
    expect(
        page.locator("#field-body .rich-toolbar").get_by_role("button", name="Image")
    ).to_be_visible()
    page.evaluate(PASTE_IMAGE, "#field-body .rich-surface")

    pasted = surface.locator("img")
    expect(pasted).to_have_count(1)
    expect(pasted).to_have_attribute("alt", "A gradient from red to blue")
    expect(pasted).to_have_attribute("src", re.compile(r"^/media/[0-9a-f]{64}\.png$"))
    expect(page.locator("#field-body .editor-status")).to_have_text("Image added.")
    assert any("alt text" in prompt for prompt in prompts)

    page.locator("#field-body").get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_have_text("Text saved.")
    shown = page.locator("#field-body .article-body img")
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("alt", "A gradient from red to blue")
    expect(shown).to_have_attribute("srcset", re.compile(r"-480\.png 480w, .*-960\.png 960w"))
    expect(shown).to_have_attribute("loading", "lazy")
    expect(shown).to_have_attribute("width", "1200")
    shown.scroll_into_view_if_needed()
    page.wait_for_function(
        "document.querySelector('#field-body .article-body img').naturalWidth > 0"
    )

    saved = stored(story)
    (src,) = re.findall(r'<img src="(/media/[0-9a-f]{64}\.png)" alt="A gradient from red to blue">',
                        saved.body)  # fmt: skip
    assert "The body as it was." in saved.body
    item = Media.get(Media.hash == src[7:71])
    assert (item.width, item.height, item.uploaded_by_id) == (1200, 600, editor_account.id)

    # As readers get it, after a reload.
    page.reload()
    expect(page.locator("#field-body .article-body img")).to_have_attribute(
        "alt", "A gradient from red to blue"
    )
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_a_refused_paste_says_why_in_the_status_line(
    page, live_server, console_errors, story, editor_account
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    answer_prompts(page, "Not really a picture")
    open_editor(page, "body", "text")
    page.evaluate(
        """(selector) => {
          const file = new File(["<?php echo 1; ?>"], "image.png", {type: "image/png"});
          const data = new DataTransfer();
          data.items.add(file);
          document.querySelector(selector).dispatchEvent(
            new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        "#field-body .rich-surface",
    )
    expect(page.locator("#field-body .editor-status")).to_contain_text(
        "Image not added: This file is not a JPEG, PNG, WebP or GIF image"
    )
    expect(page.locator("#field-body .rich-surface img")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    # The browser logs the refused upload (415) as a failed resource; nothing else.
    assert [e for e in console_errors if "status of 415" not in e] == []


def png_file(tmp_path, size=(900, 500)):
    path = tmp_path / "harbour.png"
    image = Image.new("RGB", size, (20, 90, 160))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_editor_sets_a_lead_image_from_the_panel(
    page, live_server, console_errors, story, editor_account, tmp_path
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    expect(page.locator("#lead-image img")).to_have_count(0)

    open_editor(page, "lead_image", "lead image")
    form = page.locator("form#field-lead_image")
    form.get_by_label("Alt text of the lead image").fill("A blue harbour")
    form.get_by_label("Or upload a new image").set_input_files(str(png_file(tmp_path)))
    expect(form.locator(".editor-status")).to_have_text("Uploaded. Save to make it the lead image.")
    expect(form.locator("select[name=lead_image]")).not_to_have_value("")
    form.get_by_role("button", name="Save").click()

    expect(page.locator("#messages")).to_have_text("Lead image saved.")
    expect(page.locator("#field-lead_image")).to_contain_text("A blue harbour")
    lead = page.locator("#lead-image img")  # swapped in above the text without a reload
    expect(lead).to_have_attribute("alt", "A blue harbour")
    expect(lead).to_have_attribute("fetchpriority", "high")
    expect(lead).to_have_attribute("srcset", re.compile(r"-480\.png 480w"))

    saved = stored(story)
    assert saved.lead_image_id and saved.lead_image_alt == "A blue harbour"
    assert Media.get_by_id(saved.lead_image_id).alt == "A blue harbour"  # as uploaded
    page.reload()
    expect(page.locator("#lead-image img")).to_have_attribute("alt", "A blue harbour")
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_publishing_asks_for_alt_text_first(
    page, live_server, console_errors, story, editor_account, tmp_path
):
    log_in(page, live_server, editor_account)
    open_story(page, live_server, story)
    open_editor(page, "lead_image", "lead image")
    form = page.locator("form#field-lead_image")
    form.get_by_label("Or upload a new image").set_input_files(str(png_file(tmp_path, (640, 360))))
    expect(form.locator(".editor-status")).to_have_text("Uploaded. Save to make it the lead image.")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#field-lead_image")).to_contain_text("No alt text yet")

    # Scheduled rather than published: the reading tests share this site's lists.
    panel = page.locator("#article-status")
    panel.get_by_label("Publish at").fill("2999-01-01T10:00")
    panel.get_by_role("button", name="Schedule").click()
    expect(page.locator("#messages")).to_contain_text("The lead image has no alt text")
    assert stored(story).state == "draft"

    open_editor(page, "lead_image", "lead image")
    form.get_by_label("Alt text of the lead image").fill("A quiet blue sea")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_have_text("Lead image saved.")
    panel.get_by_label("Publish at").fill("2999-01-01T10:00")
    panel.get_by_role("button", name="Schedule").click()
    expect(page.locator("#messages")).to_have_text("Scheduled.")
    assert stored(story).state == "scheduled"
    page.wait_for_load_state("networkidle")
    # The refusal (422) is logged by the browser as a failed resource; nothing else.
    assert [e for e in console_errors if "status of 422" not in e] == []
