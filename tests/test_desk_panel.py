"""What the article page's edit panel is told by each in-place answer (issue 12).

Every answer to an in-place editor carries, besides its fragment, what else on the page
shows the article: a top-level <title> (htmx makes it the document's title) and the panel's
state line at the article's version, both swapped out of band; and, once, the message of
the answer in the page's one message region (#messages). Workflow steps swap the panel and
say how they went in the same region. The browser side is tests/browser/test_panel.py.
"""

import html
import re

import pytest
from desk_helpers import HX, Newsroom, errors_in, fresh, log_in, snapshot, text_of
from test_desk import FIELDS, expected_view, good_value

from blueprints.desk import FIELD_LABELS


@pytest.fixture
def newsroom(app):
    return Newsroom.create()


@pytest.fixture
def editor(client, newsroom):
    return log_in(client, newsroom.editor)


def region(page):
    """The message region's opening tag and the messages in it; (None, []) if absent."""
    match = re.search(r'(<div class="flashes" id="messages"[^>]*>)(.*?)</div>', page, re.S)
    if not match:
        return None, []
    return match.group(1), [html.unescape(m) for m in re.findall(r"<p>(.*?)</p>", match.group(2))]


def out_of_band_state(page):
    match = re.search(
        r'<p class="state" id="article-state"[^>]*hx-swap-oob="true">(.*?)</p>', page, re.S
    )
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split()) if match else None


def save(client, article, name, value, version=None):
    return client.post(
        f"/desk/articles/{article.id}/fields/{name}",
        data={name: value, "version": str(version or fresh(article).version)},
        headers=HX,
    )


@pytest.mark.parametrize("name", FIELDS)
def test_a_save_says_which_field_was_saved_once_and_brings_the_panel_along(editor, newsroom, name):
    article = newsroom.article("published", title="Before & after")

    response = save(editor, article, name, good_value(newsroom, name))

    assert response.status_code == 200
    page = text_of(response)
    assert page.lstrip().startswith(f'<div class="field-view field-{name}" id="field-{name}"')
    assert expected_view(newsroom, name) in page
    tag, said = region(page)
    assert tag == '<div class="flashes" id="messages" hx-swap-oob="innerHTML">'
    assert said == [f"{FIELD_LABELS[name].capitalize()} saved."]
    assert page.count(" saved.") == 1  # the field's view does not repeat it
    # A publication time in the future schedules it: the panel says so at once.
    state = "Scheduled for 02.01.30 03:04" if name == "published_at" else "Published"
    assert out_of_band_state(page).startswith(f"{state} · version 2 · History")
    title = "A brand new title" if name == "title" else "Before &amp; after"
    assert f"<title>{title} — Newsdesk</title>" in page


def test_the_document_title_an_answer_carries_is_escaped(editor, newsroom):
    article = newsroom.article("draft")

    page = text_of(save(editor, article, "title", "</title><script>alert(1)</script> & co"))

    assert "<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; co — " in page
    assert "<script>" not in page
    assert fresh(article).title == "</title><script>alert(1)</script> & co"


def test_a_refused_save_says_so_once_and_marks_the_field_for_screen_readers(editor, newsroom):
    article = newsroom.article("draft", title="Kept")
    before = snapshot()

    response = save(editor, article, "title", "   ")

    assert response.status_code == 422
    page = text_of(response)
    assert region(page)[1] == ["Title not saved: correct the marked field."]
    assert errors_in(page) == ["This field is required."]
    field = re.search(r'<input [^>]*name="title"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="field-title-errors"' in field
    assert '<ul class="errors" id="field-title-errors">' in page
    assert out_of_band_state(page).startswith("Draft · version 1")
    assert snapshot() == before


def test_a_refused_body_save_marks_the_text_for_the_rich_editor(editor, newsroom):
    article = newsroom.article("published")

    response = save(editor, article, "body", '<p><img src="/media/a.png"></p>')

    assert response.status_code == 422
    page = text_of(response)
    textarea = re.search(r'<textarea [^>]*name="body"[^>]*>', page).group(0)
    assert 'data-rich="true"' in textarea
    assert 'aria-invalid="true"' in textarea
    assert 'aria-describedby="field-body-errors"' in textarea
    assert region(page)[1] == ["Text not saved: correct the marked field."]


def test_a_conflict_is_said_in_the_message_region(editor, newsroom):
    article = newsroom.article("draft")
    assert save(editor, article, "lead", "Someone else's lead.").status_code == 200

    response = save(editor, article, "lead", "My lead.", version=1)

    assert response.status_code == 409
    page = text_of(response)
    said = "Lead not saved: someone else changed it in the same place meanwhile."
    assert region(page)[1] == [said]
    assert out_of_band_state(page).startswith("Draft · version 2")
    assert fresh(article).lead == "Someone else's lead."


def test_cancelling_says_nothing_and_shows_the_article_as_it_is(editor, newsroom):
    article = newsroom.article("draft", title="Now")

    response = editor.get(f"/desk/articles/{article.id}/fields/title", headers=HX)

    assert response.status_code == 200
    page = text_of(response)
    assert region(page) == (None, [])  # the last message stays where it is
    assert "<title>Now — Newsdesk</title>" in page
    assert out_of_band_state(page).startswith("Draft · version 1")


def test_a_field_view_in_the_page_has_no_message_and_its_control_takes_the_focus_back(
    editor, newsroom
):
    article = newsroom.article("draft", title="On the page")

    page = text_of(editor.get(f"/articles/{article.id}/{article.slug}"))

    tag, said = region(page)
    assert tag == '<div class="flashes" id="messages" role="status" aria-live="polite">'
    assert said == []
    controls = re.findall(r'<a class="edit-control"[^>]*>', page)
    assert len(controls) == 9 and all("data-return-focus" in c for c in controls)
    assert '<p class="state" id="article-state" tabindex="-1" data-return-focus>' in page
    assert "hx-swap-oob" not in page
    assert "<title>On the page — Newsdesk</title>" in page


STEPS = {
    "publish": ("draft", "Published."),
    "unpublish": ("published", "Unpublished: readers no longer see it."),
    "submit": ("draft", "Submitted for review."),
}


@pytest.mark.parametrize("action", STEPS)
def test_a_workflow_step_says_how_it_went_once(editor, newsroom, action):
    state, message = STEPS[action]
    article = newsroom.article(state, author=newsroom.editor)

    response = editor.post(
        f"/desk/articles/{article.id}/actions/{action}",
        data={"version": str(fresh(article).version)},
        headers=HX,
    )

    assert response.status_code == 200
    page = text_of(response)
    assert page.lstrip().startswith('<section class="desk-panel" id="article-status"')
    assert region(page) == (
        '<div class="flashes" id="messages" hx-swap-oob="innerHTML">',
        [message],
    )
    assert page.count(message) == 1  # not once per field view of the panel


def test_a_refused_step_without_javascript_says_why_once_in_the_message_region(editor, newsroom):
    article = newsroom.article("draft", author=newsroom.editor)

    response = editor.post(
        f"/desk/articles/{article.id}/actions/schedule",
        data={"version": "1", "published_at": "2001-01-01T10:00"},
    )

    assert response.status_code == 422
    page = text_of(response)
    assert region(page)[1] == ["Choose a publication time in the future."]
    assert page.count("Choose a publication time in the future.") == 1
    assert fresh(article).state == "draft"


def test_a_step_without_javascript_says_how_it_went_on_the_article_it_returns_to(editor, newsroom):
    article = newsroom.article("draft", author=newsroom.editor)

    response = editor.post(f"/desk/articles/{article.id}/actions/publish", data={"version": "1"})

    assert response.status_code == 302
    page = text_of(editor.get(response.headers["Location"]))
    assert region(page)[1] == ["Published."]
    assert page.count("Published.") == 1
    assert fresh(article).state == "published"
