"""What machines read: the RSS feeds, the sitemap and robots.txt."""

import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import feedparser
import pytest
from feed_helpers import parse_unsanitized, shown

from blueprints import feeds
from factories import make_rubric, make_section, make_user
from models import Article, SiteSettings, utcnow

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

FEEDS = {
    "site": "/rss.xml",
    "section": "/section/news/rss.xml",
    "rubric": "/rubric/global-security/rss.xml",
}


def ago(minutes):
    return utcnow() - dt.timedelta(minutes=minutes)


def article_url(article):
    return f"http://localhost/articles/{article.id}/{article.slug}"


def read_feed(client, url):
    response = client.get(url)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    assert response.mimetype == "application/rss+xml"
    feed = feedparser.parse(response.data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed


def read_xml(client, url):
    response = client.get(url)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    assert response.mimetype in ("application/xml", "text/xml")
    return ET.fromstring(response.data)


def sitemap_entries(root):
    """{loc: lastmod} of a <urlset>."""
    assert root.tag == f"{SITEMAP}urlset"
    return {url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod") for url in root}


@pytest.fixture
def many(app, make_article):
    """25 News / Global Security articles, "Item 1" the newest."""
    return [make_article(title=f"Item {n}", published_at=ago(n)) for n in range(1, 26)]


# --- RSS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("feed_url", FEEDS.values(), ids=FEEDS)
def test_feed_has_the_latest_20_newest_first(client, many, feed_url):
    feed = read_feed(client, feed_url)
    assert feed.version == "rss20"
    assert [entry.title for entry in feed.entries] == [f"Item {n}" for n in range(1, 21)]


@pytest.mark.parametrize("feed_url", FEEDS.values(), ids=FEEDS)
def test_feed_links_to_the_site(client, many, feed_url):
    feed = read_feed(client, feed_url)
    assert urlsplit(feed.feed.link).scheme == "http"
    assert urlsplit(feed.feed.link).netloc == "localhost"
    assert feed.feed.title


def test_feed_item_has_link_guid_date_lead_and_body(client, make_article):
    published_at = dt.datetime(2019, 7, 21, 5, 16)
    article = make_article(
        title="Beijing talks",
        lead="Diplomats met in Beijing.",
        body="<p>First paragraph.</p>\n<p>Second <em>paragraph</em>.</p>",
        published_at=published_at,
    )
    (entry,) = read_feed(client, "/rss.xml").entries
    assert entry.link == article_url(article)
    assert entry.id == f"http://localhost/articles/{article.id}"  # stable when the slug changes
    assert parsedate_to_datetime(entry.published) == published_at.replace(tzinfo=dt.UTC)
    assert entry.summary == "Diplomats met in Beijing."
    assert entry.content[0].value == "<p>First paragraph.</p>\n<p>Second <em>paragraph</em>.</p>"


def test_section_and_rubric_feeds_hold_only_their_articles(client, make_article):
    reports, economy = make_section("Reports"), make_rubric("Economy")
    make_article(title="In news")
    make_article(title="In reports", section=reports)
    make_article(title="On the economy", rubric=economy)
    assert [e.title for e in read_feed(client, "/section/reports/rss.xml").entries] == [
        "In reports"
    ]
    assert [e.title for e in read_feed(client, "/rubric/economy/rss.xml").entries] == [
        "On the economy"
    ]


@pytest.mark.parametrize("missing", ["/section/nope/rss.xml", "/rubric/nope/rss.xml"])
def test_feed_of_unknown_slug_is_404(client, many, missing):
    assert client.get(missing).status_code == 404


TRICKY_TITLE = (
    "Tom & Jerry: 1 < 2 > 0, \"quoted\" and 'single' \u2014 Na\u00efve caf\u00e9 \u65e5\u672c"
)


@pytest.mark.parametrize("feed_url", FEEDS.values(), ids=FEEDS)
def test_special_characters_round_trip(client, make_article, feed_url):
    make_article(
        title=TRICKY_TITLE,
        lead="Fish & chips < 3 \u20ac, \u00abquoted\u00bb",
        body="<p>Caf\u00e9 &amp; cr\u00e8me &lt;br&gt;</p>",
    )
    (entry,) = read_feed(client, feed_url).entries
    assert shown(entry.title_detail) == TRICKY_TITLE
    assert shown(entry.summary_detail) == "Fish & chips < 3 \u20ac, \u00abquoted\u00bb"
    assert entry.content[0].value == "<p>Caf\u00e9 &amp; cr\u00e8me &lt;br&gt;</p>"


# What an editor may type into a title, a lead or a tagline: plain text, whatever it looks like.
HOSTILE = {
    "image": "<img src=x onerror=alert(1)>",
    "typed entities": "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &#60;b&#62;",
    "CDATA end": "]]> <![CDATA[<b>bold</b>]]>",
    "closing tags": '<b onmouseover="alert(1)">x</b></description></item><item>',
    "quotes and ampersands": 'Tom & Jerry\'s "show" & <i>more</i> <!-- end',
}
ALL_FEEDS = {**FEEDS, **{f"{name} atom": url.replace("rss", "atom") for name, url in FEEDS.items()}}


@pytest.mark.parametrize("feed_url", ALL_FEEDS.values(), ids=ALL_FEEDS)
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE)
def test_plain_text_reaches_feed_readers_as_text(client, make_article, feed_url, text):
    SiteSettings.update(name=f"Site {text}", tagline=text, copyright_line=text).where(
        SiteSettings.id == 1
    ).execute()
    SiteSettings.bump_content_version()
    make_article(title=text, lead=text, body="<p>Calm.</p>")
    response = client.get(feed_url)
    feed = parse_unsanitized(response.data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    (entry,) = feed.entries
    assert shown(entry.title_detail) == text
    assert shown(entry.summary_detail) == text
    assert shown(feed.feed.title_detail).startswith(f"Site {text}")
    assert shown(feed.feed.subtitle_detail) == text
    if "rights_detail" in feed.feed:  # Atom's
        assert shown(feed.feed.rights_detail) == text
    assert entry.content[0].value == "<p>Calm.</p>"  # the body is HTML, as it was


@pytest.mark.parametrize("feed_url", ALL_FEEDS.values(), ids=ALL_FEEDS)
def test_control_characters_cannot_break_a_feed(client, make_article, feed_url):
    make_article(title="Bell\x07 title", lead="Form\x0cfeed \x01lead", body="<p>a\x01b</p>")
    feed = parse_unsanitized(client.get(feed_url).data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    (entry,) = feed.entries
    assert shown(entry.title_detail) == "Bell title"
    assert shown(entry.summary_detail) == "Formfeed lead"
    assert entry.content[0].value == "<p>ab</p>"


def test_empty_feed_parses(client, app):
    make_section("News")
    feed = read_feed(client, "/section/news/rss.xml")
    assert feed.entries == []


# --- Sitemap ----------------------------------------------------------------------------------


@pytest.fixture
def published(app, make_article):
    """Visible articles by two authors in two sections and two rubrics, and hidden ones."""
    reports, economy = make_section("Reports"), make_rubric("Economy")
    ramani = make_user("Samuel Ramani")
    visible = [
        make_article(title="One"),
        make_article(title="Two", section=reports, rubric=economy, author=ramani),
    ]
    hidden = [
        make_article(title="Draft", status=Article.DRAFT, published_at=None),
        make_article(title="Scheduled", published_at=utcnow() + dt.timedelta(days=1)),
        make_article(title="Trashed", deleted_at=ago(1)),
        make_article(title="Unpublished", status=Article.UNPUBLISHED),
    ]
    return visible, hidden


def test_sitemap_lists_main_list_and_author_pages(client, published):
    locs = set(sitemap_entries(read_xml(client, "/sitemap.xml")))
    for path in (
        "/",
        "/section/news",
        "/section/reports",
        "/rubric/global-security",
        "/rubric/economy",
        "/authors/test-author",
        "/authors/samuel-ramani",
    ):
        assert f"http://localhost{path}" in locs


def test_sitemap_lists_every_visible_article_with_lastmod(client, published):
    visible, _ = published
    entries = sitemap_entries(read_xml(client, "/sitemap.xml"))
    for article in visible:
        lastmod = entries[article_url(article)]
        assert dt.datetime.fromisoformat(lastmod)  # W3C datetime


def test_sitemap_never_lists_invisible_articles(client, published):
    _, hidden = published
    text = client.get("/sitemap.xml").get_data(as_text=True)
    for article in hidden:
        assert f"/articles/{article.id}/" not in text, article.title


def test_every_sitemap_entry_has_a_lastmod(client, published):
    entries = sitemap_entries(read_xml(client, "/sitemap.xml"))
    assert all(entries.values()), [loc for loc, lastmod in entries.items() if not lastmod]


def test_every_sitemap_url_answers_200(client, published):
    for loc in sitemap_entries(read_xml(client, "/sitemap.xml")):
        assert client.get(urlsplit(loc).path).status_code == 200, loc


def test_large_sitemap_becomes_an_index_of_sitemaps(client, app, make_article, monkeypatch):
    monkeypatch.setattr(feeds, "SITEMAP_CHUNK", 3)
    articles = [make_article(title=f"Item {n}") for n in range(7)]
    make_article(title="Draft", status=Article.DRAFT, published_at=None)
    index = read_xml(client, "/sitemap.xml")
    assert index.tag == f"{SITEMAP}sitemapindex"
    children = [child.findtext(f"{SITEMAP}loc") for child in index]
    assert all(child.findtext(f"{SITEMAP}lastmod") for child in index)

    listed = {}
    for child in children:
        assert urlsplit(child).netloc == "localhost", child
        entries = sitemap_entries(read_xml(client, urlsplit(child).path))
        assert len(entries) <= 3 or child.endswith("pages.xml"), child
        listed.update(entries)
    assert {article_url(a) for a in articles} <= set(listed)
    assert "http://localhost/" in listed
    assert all("draft" not in loc for loc in listed)


# --- robots.txt -------------------------------------------------------------------------------


def test_robots_txt_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "Sitemap: http://localhost/sitemap.xml" in lines
