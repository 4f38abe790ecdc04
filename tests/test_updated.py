"""Showing readers an update: an editor's choice at save, never automatic (issue 12).

A save of a published article's title, lead, text or lead image may be marked "Show
readers this as an update": readers then see "Updated <time>" under the title, and
machines get that time as JSON-LD's dateModified, Atom's <updated> and the sitemap's
lastmod. Unmarked saves (typo fixes) and workflow steps change none of them, and lists
and feeds stay in order of first publication.
"""

import datetime as dt
import html
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import feedparser
import pytest
from desk_helpers import HX, Newsroom, fresh, local_input, log_in, snapshot, text_of

import models
from models import Article, Media, Revision

FIRST_PUBLISHED = dt.datetime(2019, 7, 21, 5, 16)
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
CHECKBOX = re.compile(r'<input[^>]*name="as_update"[^>]*>')


@pytest.fixture
def newsroom(app):
    return Newsroom.create()


@pytest.fixture
def editor(app, newsroom):
    return log_in(app.test_client(), newsroom.editor)


@pytest.fixture
def story(newsroom):
    """A live article from 2019, and a newer one: lists show the newer first."""
    newsroom.article("published", title="Newer story")
    return newsroom.article("published", title="Story from 2019", published_at=FIRST_PUBLISHED)


def w3c(value):
    return value.replace(microsecond=0).isoformat() + "Z"


def save_field(client, article, name, value, as_update=False, version=None):
    data = {name: value, "version": str(fresh(article).version if version is None else version)}
    if as_update:
        data["as_update"] = "y"
    return client.post(f"/desk/articles/{article.id}/fields/{name}", data=data, headers=HX)


def save_edit_page(client, article, as_update=False, **changes):
    article = fresh(article)
    data = {
        "title": article.title, "lead": article.lead, "body": article.body,
        "section": article.section_id, "rubric": article.rubric_id,
        "author": article.author_id, "published_at": local_input(article.published_at),
        "version": str(article.version), **changes,
    }  # fmt: skip
    if as_update:
        data["as_update"] = "y"
    return client.post(f"/desk/articles/{article.id}/edit", data=data)


def updated_line(page):
    """The "Updated <time>" of the article's head, as (datetime attribute, text), or None."""
    match = re.search(
        r'<span class="updated">Updated <time datetime="([^"]*)">([^<]*)</time></span>', page
    )
    return match.groups() if match else None


def machine_dates(app, article):
    """What machines read of an article: JSON-LD, Atom, the sitemap, Open Graph."""
    article = fresh(article)
    reader = app.test_client()
    page = text_of(reader.get(f"/articles/{article.id}/{article.slug}"))
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    data = json.loads(ld)
    atom = feedparser.parse(reader.get("/atom.xml").data)
    (entry,) = [e for e in atom.entries if e.title == article.title]
    sitemap = ET.fromstring(reader.get("/sitemap.xml").data)
    lastmod = {
        urlsplit(url.findtext(f"{SITEMAP}loc")).path: url.findtext(f"{SITEMAP}lastmod")
        for url in sitemap
    }[f"/articles/{article.id}/{article.slug}"]
    og = re.search(r'<meta property="article:modified_time" content="([^"]*)">', page).group(1)
    return {
        "dateModified": data["dateModified"],
        "datePublished": data["datePublished"],
        "atom updated": entry.updated,
        "atom published": entry.published,
        "lastmod": lastmod,
        "article:modified_time": og,
    }


def order(app):
    """The site's RSS and Atom feeds, by title."""
    reader = app.test_client()
    return [
        [entry.title for entry in feedparser.parse(reader.get(url).data).entries]
        for url in ("/rss.xml", "/atom.xml")
    ]


def all_dated(app, article, moment):
    published = w3c(FIRST_PUBLISHED)
    return machine_dates(app, article) == {
        "dateModified": w3c(moment),
        "datePublished": published,
        "atom updated": w3c(moment),
        "atom published": published,
        "lastmod": w3c(moment),
        "article:modified_time": w3c(moment),
    }


# --- Offered where it means something --------------------------------------------------------


@pytest.mark.parametrize("name", ["title", "lead", "body", "lead_image"])
def test_the_choice_is_offered_unticked_on_what_readers_read_of_a_live_article(
    editor, story, name
):
    form = text_of(editor.get(f"/desk/articles/{story.id}/fields/{name}/edit", headers=HX))
    (checkbox,) = CHECKBOX.findall(form)
    assert "checked" not in checkbox
    assert f'id="as-update-{name}"' in checkbox
    assert f'<label for="as-update-{name}">Show readers this as an update</label>' in form
    assert "Leave it off for small fixes." in form


@pytest.mark.parametrize("name", ["section", "rubric", "hot", "author", "published_at"])
def test_the_choice_is_not_offered_on_details(editor, story, name):
    form = text_of(editor.get(f"/desk/articles/{story.id}/fields/{name}/edit", headers=HX))
    assert CHECKBOX.findall(form) == []


@pytest.mark.parametrize("state", ["draft", "submitted", "scheduled", "unpublished"])
def test_the_choice_is_offered_only_while_readers_can_see_the_article(editor, newsroom, state):
    article = newsroom.article(state)
    form = text_of(editor.get(f"/desk/articles/{article.id}/fields/body/edit", headers=HX))
    assert CHECKBOX.findall(form) == []
    assert CHECKBOX.findall(text_of(editor.get(f"/desk/articles/{article.id}/edit"))) == []


def test_the_edit_page_offers_it_once(editor, story):
    page = text_of(editor.get(f"/desk/articles/{story.id}/edit"))
    (checkbox,) = CHECKBOX.findall(page)
    assert 'id="as-update"' in checkbox and "checked" not in checkbox


# --- Silent saves ------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["field", "edit-page"])
def test_a_save_not_marked_changes_no_date(app, editor, story, via):
    if via == "field":
        response = save_field(editor, story, "body", "<p>A typo fixed.</p>")
    else:
        response = save_edit_page(editor, story, body="<p>A typo fixed.</p>")
    assert response.status_code in (200, 302)
    stored = fresh(story)
    assert (stored.body, stored.revised_at) == ("<p>A typo fixed.</p>", None)
    page = text_of(app.test_client().get(f"/articles/{story.id}/{story.slug}"))
    assert updated_line(page) is None
    assert set(machine_dates(app, story).values()) == {w3c(FIRST_PUBLISHED)}
    assert Revision.select().order_by(Revision.id.desc()).first().action == "edited"


@pytest.mark.parametrize("action", ["unpublish", "publish"])
def test_workflow_steps_change_no_date_either(app, editor, newsroom, story, action):
    if action == "publish":
        story.take_action("unpublish", newsroom.editor)
    response = editor.post(f"/desk/articles/{story.id}/actions/{action}", headers=HX)
    assert response.status_code == 200
    assert fresh(story).revised_at is None
    if action == "publish":
        assert set(machine_dates(app, story).values()) == {w3c(FIRST_PUBLISHED)}


# --- Saves shown as updates -----------------------------------------------------------------------


@pytest.mark.parametrize("via", ["field", "edit-page"])
def test_a_save_marked_as_an_update_is_shown_to_readers_and_machines(app, editor, story, via):
    before = models.utcnow()
    if via == "field":
        response = save_field(editor, story, "body", "<p>New facts.</p>", as_update=True)
        assert response.status_code == 200
    else:  # the page without JavaScript
        response = save_edit_page(editor, story, as_update=True, body="<p>New facts.</p>")
        assert response.status_code == 302
    stored = fresh(story)
    assert before <= stored.revised_at <= models.utcnow()
    assert stored.published_at == FIRST_PUBLISHED  # the first publication stays

    page = text_of(app.test_client().get(f"/articles/{story.id}/{story.slug}"))
    assert updated_line(page) == (w3c(stored.revised_at), f"{stored.revised_at:%d.%m.%y %H:%M}")
    assert f'<time datetime="{w3c(FIRST_PUBLISHED)}">21.07.19 05:16</time>' in page
    assert all_dated(app, story, stored.revised_at)
    # Still listed by first publication: an update does not jump the queue.
    assert order(app) == [["Newer story", "Story from 2019"]] * 2
    history = html.unescape(text_of(editor.get(f"/desk/articles/{story.id}/history")))
    assert "<td>edited (shown as an update): body</td>" in history


def test_updated_is_shown_in_the_site_timezone_on_every_version_of_the_page(app, editor, story):
    models.SiteSettings.update(timezone="Asia/Tokyo").execute()  # UTC+9, no summer time
    models.SiteSettings.bump_content_version()
    save_field(editor, story, "title", "Story from 2019, updated", as_update=True)
    stored = fresh(story)
    shown = f"{stored.revised_at + dt.timedelta(hours=9):%d.%m.%y %H:%M}"
    reader = app.test_client()
    for path in ("", "/text"):
        page = text_of(reader.get(f"{path}/articles/{story.id}/{stored.slug}"))
        assert updated_line(page) == (w3c(stored.revised_at), shown), path
    printed = text_of(reader.get(f"/articles/{story.id}/{stored.slug}/print"))
    assert f"Updated <time datetime=\"{w3c(stored.revised_at)}\">{shown}</time>" in printed
    # Lists show when articles were first published, nothing more.
    assert "Updated" not in text_of(reader.get("/"))


def test_the_lead_image_and_its_alt_text_may_be_an_update(app, editor, story):
    image = Media.create(hash="d" * 64, ext="png", width=10, height=10, size=100, alt="A map")
    data = {"lead_image": str(image.id), "lead_image_alt": "The new map", "as_update": "y"}
    response = editor.post(
        f"/desk/articles/{story.id}/fields/lead_image",
        data={**data, "version": str(fresh(story).version)},
        headers=HX,
    )
    assert response.status_code == 200
    assert fresh(story).revised_at is not None


def test_the_latest_update_is_the_one_shown(app, editor, story):
    save_field(editor, story, "lead", "First update.", as_update=True)
    first = fresh(story).revised_at
    save_field(editor, story, "lead", "A typo fixed.")
    assert fresh(story).revised_at == first
    save_field(editor, story, "lead", "Second update.", as_update=True)
    assert fresh(story).revised_at > first
    assert all_dated(app, story, fresh(story).revised_at)


# --- The choice ignored where it means nothing, kept where a save is refused ----------------------


@pytest.mark.parametrize("state", ["draft", "scheduled", "unpublished"])
def test_a_forged_choice_on_an_article_readers_cannot_see_is_ignored(editor, newsroom, state):
    article = newsroom.article(state)
    assert save_field(editor, article, "title", "Quietly", as_update=True).status_code == 200
    assert fresh(article).revised_at is None


def test_a_forged_choice_on_a_detail_is_ignored(editor, newsroom, story):
    response = save_field(editor, story, "section", str(newsroom.reports.id), as_update=True)
    assert response.status_code == 200
    assert fresh(story).revised_at is None


def test_a_refused_save_keeps_the_box_ticked_and_stores_nothing(editor, story):
    kept = snapshot()
    refused = save_field(editor, story, "title", "", as_update=True)
    assert refused.status_code == 422
    assert "checked" in CHECKBOX.findall(text_of(refused))[0]
    conflict = save_field(editor, story, "title", "Mine", as_update=True, version=0)
    assert conflict.status_code == 409
    assert "checked" in CHECKBOX.findall(text_of(conflict))[0]
    page = save_edit_page(editor, story, as_update=True, title="")
    assert page.status_code == 422
    assert "checked" in CHECKBOX.findall(text_of(page))[0]
    assert snapshot() == kept


def test_publish_as_new_leaves_old_updates_behind(app, editor, story):
    save_field(editor, story, "body", "<p>New facts.</p>", as_update=True)
    editor.post(f"/desk/articles/{story.id}/actions/unpublish", headers=HX)
    editor.post(f"/desk/articles/{story.id}/actions/publish_as_new", headers=HX)
    stored = fresh(story)
    assert stored.revised_at is None
    page = text_of(app.test_client().get(f"/articles/{story.id}/{story.slug}"))
    assert updated_line(page) is None
    assert set(machine_dates(app, story).values()) == {w3c(stored.published_at)}
    assert order(app) == [["Story from 2019", "Newer story"]] * 2
    assert Article.get_by_id(story.id).state == "published"


@pytest.mark.page_quality
def test_pages_with_updates_and_the_choice_are_valid_html(app, editor, newsroom, story, vnu):
    save_field(editor, story, "lead", "New facts.", as_update=True)
    unpublished = newsroom.article("unpublished", title="Taken down")
    url = f"/articles/{story.id}/{story.slug}"
    pages = {
        "staff article": text_of(editor.get(url)),
        "edit page with the choice": text_of(editor.get(f"/desk/articles/{story.id}/edit")),
        "panel with publish as new": text_of(editor.get(f"/articles/{unpublished.id}/taken-down")),
        "article": text_of(app.test_client().get(url)),
        "print": text_of(app.test_client().get(url + "/print")),
    }
    assert 'class="updated"' in pages["article"] and 'class="workflow-note"' in pages[
        "panel with publish as new"
    ]
    assert vnu(pages) == {name: [] for name in pages}
