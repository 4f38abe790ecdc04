"""Sharing metadata and Atom feeds: what link previews, search engines and feed readers read.

Every public page names its canonical URL (the full version's, from text and
print pages too) and carries a description, Open Graph and a Twitter card;
articles add JSON-LD. Each RSS feed has an Atom twin with the same entries, and
pages point at the feeds with <link rel="alternate">.
"""

import datetime as dt
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urlsplit

import feedparser
import pytest
from desk_helpers import log_in, make_login
from feed_helpers import shown

from factories import make_rubric, make_section, make_user
from models import Article, Media, Rubric, Section, SiteSettings, utcnow

SITE = "War and Peace"
TAGLINE = "News and analysis since 2006"
PUBLISHED = dt.datetime(2019, 7, 21, 5, 16)
UPDATED = dt.datetime(2019, 7, 22, 9, 30, 15, 123456)
LOGO = "http://localhost/static/logo.png"
HOSTILE_TITLE = 'Talks </script><script>alert(1)</script> & "more" <!-- end'
ATOM = "{http://www.w3.org/2005/Atom}"


# --- Reading a page's head --------------------------------------------------------------------


class Head(HTMLParser):
    """The <meta>, <link> and <script> elements of a page, with each script's text."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.metas, self.links, self.scripts = [], [], []
        self._script = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            self.metas.append(attrs)
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "script":
            self._script = {**attrs, "text": ""}
            self.scripts.append(self._script)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] += data

    def meta(self, key):
        """The content of the one <meta property=key> or <meta name=key>."""
        found = [m["content"] for m in self.metas if key in (m.get("property"), m.get("name"))]
        assert len(found) == 1, f"<meta {key}>: {found}"
        return found[0]

    def has_meta(self, key):
        return any(key in (m.get("property"), m.get("name")) for m in self.metas)

    def link_hrefs(self, rel, type_=None):
        return [
            link["href"]
            for link in self.links
            if link.get("rel") == rel and (type_ is None or link.get("type") == type_)
        ]

    @property
    def canonical(self):
        (href,) = self.link_hrefs("canonical")
        return href

    def json_ld(self):
        (block,) = [s for s in self.scripts if s.get("type") == "application/ld+json"]
        return json.loads(block["text"])


def head_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    return Head(response.get_data(as_text=True))


def absolute(url):
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.netloc == "localhost"


def w3c(value):
    return value.replace(microsecond=0).isoformat() + "Z"


def url(article):
    return f"/articles/{article.id}/{article.slug}"


# --- Content ----------------------------------------------------------------------------------


@pytest.fixture
def site(app):
    SiteSettings.update(name=SITE, tagline=TAGLINE).where(SiteSettings.id == 1).execute()
    SiteSettings.bump_content_version()


@pytest.fixture
def article(site, make_article):
    return make_article(
        title="Are Russia and the US Finally on the Same Page in Afghanistan?",
        lead="From July 11 to 12, diplomats met in Beijing.",
        section=make_section("Reports"),
        rubric=make_rubric("Global Security"),
        author=make_user("Samuel Ramani"),
        published_at=PUBLISHED,
        revised_at=UPDATED,  # an editor showed readers a save as an update
        updated_at=UPDATED + dt.timedelta(days=3),  # a later typo fix, not shown
    )


def page_urls(article):
    """{page kind: (URL, canonical URL)}: text and print pages name the full page."""
    full = {
        "main": "/",
        "section": "/section/reports",
        "rubric": "/rubric/global-security",
        "article": url(article),
        "author": "/authors/samuel-ramani",
    }
    pages = {kind: (path, path) for kind, path in full.items()}
    pages.update({f"text {kind}": ("/text" + path, path) for kind, path in full.items()})
    pages["print"] = (url(article) + "/print", url(article))
    return {kind: (path, "http://localhost" + full) for kind, (path, full) in pages.items()}


PAGE_KINDS = (
    "main", "section", "rubric", "article", "author",
    "text main", "text section", "text rubric", "text article", "text author", "print",
)  # fmt: skip


# --- Canonical, description, Open Graph, Twitter ----------------------------------------------


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_canonical_is_the_absolute_url_of_the_full_page(client, article, kind):
    path, canonical = page_urls(article)[kind]
    head = head_of(client, path)
    assert head.canonical == canonical
    assert client.get(urlsplit(canonical).path).status_code == 200


@pytest.mark.parametrize(
    "path", ["/section/reports", "/authors/samuel-ramani", "/text/rubric/global-security"]
)
def test_later_list_pages_are_their_own_canonical(client, article, make_article, path):
    for n in range(25):
        make_article(title=f"Item {n}", section=article.section, author=article.author)
    head = head_of(client, path + "?page=2")
    assert head.canonical == "http://localhost" + path.removeprefix("/text") + "?page=2"
    assert head.meta("og:url") == head.canonical
    assert head.meta("og:title").endswith(", page 2")
    # Page 1 has one address, without ?page=1; stray parameters are not part of it.
    assert head_of(client, path + "?page=1&utm_source=x").canonical == "http://localhost" + (
        path.removeprefix("/text")
    )


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_open_graph_and_twitter_card_are_present_and_absolute(client, article, kind):
    path, canonical = page_urls(article)[kind]
    head = head_of(client, path)
    assert head.meta("og:site_name") == SITE
    assert head.meta("og:url") == canonical
    for key in ("og:title", "og:description", "twitter:title", "twitter:description"):
        assert head.meta(key).strip(), key
    assert head.meta("twitter:title") == head.meta("og:title")
    assert head.meta("twitter:description") == head.meta("og:description")
    assert head.meta("og:description") == head.meta("description")
    assert absolute(head.meta("og:image")) and head.meta("twitter:image") == head.meta("og:image")
    # No lead image yet: the site's logo, in a small card.
    assert head.meta("og:image") == LOGO
    assert head.meta("twitter:card") == "summary"
    is_article = "article" in kind or kind == "print"
    assert head.meta("og:type") == ("article" if is_article else "website")
    assert head.has_meta("article:published_time") == is_article


def test_the_logo_is_a_square_png(client):
    response = client.get(urlsplit(LOGO).path)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    data = response.data
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == int.from_bytes(data[20:24], "big") == 512


@pytest.mark.parametrize(
    ("kind", "title", "description"),
    [
        ("main", SITE, TAGLINE),
        ("section", "Reports", f"Articles in the Reports section of {SITE}."),
        ("rubric", "Global Security", f"Articles in the Global Security rubric of {SITE}."),
        ("author", "Samuel Ramani", f"Articles by Samuel Ramani in {SITE}."),
        ("article", "Are Russia and the US Finally on the Same Page in Afghanistan?",
         "From July 11 to 12, diplomats met in Beijing."),
        ("text section", "Reports", f"Articles in the Reports section of {SITE}."),
        ("print", "Are Russia and the US Finally on the Same Page in Afghanistan?",
         "From July 11 to 12, diplomats met in Beijing."),
    ],
)  # fmt: skip
def test_title_and_description_say_what_the_page_is(client, article, kind, title, description):
    head = head_of(client, page_urls(article)[kind][0])
    assert head.meta("og:title") == title
    assert head.meta("description") == description
    assert head.meta("og:description") == description


def test_main_page_without_a_tagline_still_has_a_description(client, app):
    head = head_of(client, "/")
    assert head.meta("description") == "The latest articles from Newsdesk."


def test_article_carries_its_times_section_and_author(client, article):
    head = head_of(client, url(article))
    assert head.meta("article:published_time") == "2019-07-21T05:16:00Z"
    assert head.meta("article:modified_time") == "2019-07-22T09:30:15Z"
    assert head.meta("article:section") == "Reports"
    assert head.meta("article:author") == "http://localhost/authors/samuel-ramani"


@pytest.mark.parametrize(
    ("updated", "revised"),
    [
        (PUBLISHED - dt.timedelta(days=1), None),  # saved before it went live
        (PUBLISHED + dt.timedelta(days=1), None),  # a typo fixed since: not an update
        # An update before it was published (as new) again: old news.
        (PUBLISHED + dt.timedelta(days=1), PUBLISHED - dt.timedelta(days=1)),
    ],
    ids=["saved-before", "typo-fixed", "updated-before-publication"],
)
def test_an_article_not_shown_as_updated_was_modified_when_published(
    client, site, make_article, updated, revised
):
    article = make_article(published_at=PUBLISHED, updated_at=updated, revised_at=revised)
    head = head_of(client, url(article))
    assert head.meta("article:modified_time") == head.meta("article:published_time")
    assert head.json_ld()["dateModified"] == head.json_ld()["datePublished"]
    assert "Updated" not in client.get(url(article)).get_data(as_text=True)


def make_media(width, height, alt="Diplomats at the table in Beijing"):
    """A media row as media.py stores it, with its narrower copies (the files are not needed)."""
    variants = [[w, w * 100] for w in (480, 960, 1600) if w < width]
    return Media.create(
        hash=f"{width:064x}", ext="jpg", width=width, height=height, size=width * 200,
        variants=json.dumps(variants), alt=alt,
    )  # fmt: skip


def test_an_article_with_a_lead_image_shares_it_in_a_large_card(client, article):
    image = make_media(3000, 2000, alt="The uploader's words")
    described = "Diplomats at the table in Beijing"
    Article.update(lead_image=image, lead_image_alt=described).where(
        Article.id == article.id
    ).execute()
    SiteSettings.bump_content_version()
    shared = f"http://localhost/media/{image.hash}-1600.jpg"  # the copy at most 1600 wide
    for path in (url(article), "/text" + url(article), url(article) + "/print"):
        head = head_of(client, path)
        assert head.meta("og:image") == head.meta("twitter:image") == shared
        assert (head.meta("og:image:width"), head.meta("og:image:height")) == ("1600", "1067")
        assert head.meta("og:image:alt") == head.meta("twitter:image:alt") == described
        assert head.meta("twitter:card") == "summary_large_image"
    data = head_of(client, url(article)).json_ld()
    assert data["image"] == [shared]
    assert data["publisher"]["logo"]["url"] == LOGO
    # Lists keep the site's logo.
    assert head_of(client, "/").meta("og:image") == LOGO


def test_a_small_lead_image_is_shared_whole(client, article):
    image = make_media(800, 600)
    Article.update(lead_image=image).where(Article.id == article.id).execute()
    SiteSettings.bump_content_version()
    head = head_of(client, url(article))
    assert head.meta("og:image") == f"http://localhost/media/{image.hash}.jpg"
    assert (head.meta("og:image:width"), head.meta("og:image:height")) == ("800", "600")


def test_atom_entry_carries_the_lead_image_as_in_rss(client, article):
    image = make_media(3000, 2000)
    Article.update(lead_image=image).where(Article.id == article.id).execute()
    SiteSettings.bump_content_version()
    (atom,) = read_atom(client, "/atom.xml").entries
    (rss,) = read_feed(client, "/rss.xml", "application/rss+xml").entries
    assert atom.enclosures == rss.enclosures
    (enclosure,) = atom.enclosures
    assert enclosure.href == f"http://localhost/media/{image.hash}-1600.jpg"
    assert enclosure.type == "image/jpeg"


@pytest.mark.parametrize("path", ["/auth/login", "/articles/999999", "/section/nope"])
def test_pages_that_are_not_public_content_name_no_canonical(client, site, path):
    response = client.get(path)
    head = Head(response.get_data(as_text=True))
    assert head.link_hrefs("canonical") == []
    assert not head.has_meta("og:url")


# --- JSON-LD ----------------------------------------------------------------------------------


def test_article_json_ld_is_a_news_article_with_every_field(client, article):
    data = head_of(client, url(article)).json_ld()
    canonical = "http://localhost" + url(article)
    assert data == {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Are Russia and the US Finally on the Same Page in Afghanistan?",
        "description": "From July 11 to 12, diplomats met in Beijing.",
        "datePublished": "2019-07-21T05:16:00Z",
        "dateModified": "2019-07-22T09:30:15Z",
        "author": {
            "@type": "Person",
            "name": "Samuel Ramani",
            "url": "http://localhost/authors/samuel-ramani",
        },
        "publisher": {
            "@type": "Organization",
            "name": SITE,
            "url": "http://localhost/",
            "logo": {"@type": "ImageObject", "url": LOGO, "width": 512, "height": 512},
        },
        "image": [LOGO],
        "mainEntityOfPage": canonical,
        "articleSection": "Reports",
    }


def test_json_ld_escapes_a_title_that_tries_to_close_the_script(client, site, make_article):
    article = make_article(title=HOSTILE_TITLE, lead=HOSTILE_TITLE, body="<p>Calm.</p>")
    html = client.get(url(article)).get_data(as_text=True)
    head = Head(html)
    data = head.json_ld()
    assert data["headline"] == HOSTILE_TITLE
    assert data["description"] == HOSTILE_TITLE
    # The title stayed inside the data block: no other script appeared, and no raw < in it.
    assert [s.get("type") for s in head.scripts if "src" not in s] == ["application/ld+json"]
    assert "alert(1)</script>" not in html
    (block,) = [s for s in head.scripts if s.get("type") == "application/ld+json"]
    assert "<" not in block["text"] and ">" not in block["text"]


@pytest.mark.parametrize("kind", ["text article", "print"])
def test_text_and_print_pages_carry_no_script_at_all(client, article, kind):
    assert Head(client.get(page_urls(article)[kind][0]).get_data(as_text=True)).scripts == []


@pytest.mark.parametrize("kind", ["main", "section", "author"])
def test_json_ld_is_only_on_articles(client, article, kind):
    head = head_of(client, page_urls(article)[kind][0])
    assert [s for s in head.scripts if s.get("type") == "application/ld+json"] == []


def test_staff_viewing_a_draft_get_its_metadata_without_a_publication_date(
    client, site, make_article
):
    editor = make_login("editor")
    draft = make_article(title="Work in progress", status=Article.DRAFT, published_at=None)
    log_in(client, editor)
    head = head_of(client, url(draft))
    data = head.json_ld()
    assert data["headline"] == "Work in progress"
    assert "datePublished" not in data and "dateModified" not in data
    assert not head.has_meta("article:published_time")
    assert not head.has_meta("article:modified_time")
    assert head_of(client, url(draft) + "/print").canonical == "http://localhost" + url(draft)


# --- Atom feeds -------------------------------------------------------------------------------

FEEDS = {
    "site": "/atom.xml",
    "section": "/section/news/atom.xml",
    "rubric": "/rubric/global-security/atom.xml",
}


def ago(minutes):
    return utcnow() - dt.timedelta(minutes=minutes)


def read_feed(client, feed_url, mimetype):
    response = client.get(feed_url)
    assert response.status_code == 200, f"GET {feed_url}: {response.status_code}"
    assert response.mimetype == mimetype
    feed = feedparser.parse(response.data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed


def read_atom(client, feed_url):
    feed = read_feed(client, feed_url, "application/atom+xml")
    assert feed.version == "atom10"
    return feed


@pytest.fixture
def many(app, make_article):
    """25 News / Global Security articles, "Item 1" the newest."""
    return [make_article(title=f"Item {n}", published_at=ago(n)) for n in range(1, 26)]


@pytest.mark.parametrize("feed_url", FEEDS.values(), ids=FEEDS)
def test_atom_feed_has_the_same_entries_as_the_rss_feed(client, many, feed_url):
    atom = read_atom(client, feed_url)
    rss = read_feed(client, feed_url.replace("atom.xml", "rss.xml"), "application/rss+xml")
    assert [e.title for e in atom.entries] == [f"Item {n}" for n in range(1, 21)]
    assert [(e.title, e.link, e.summary) for e in atom.entries] == [
        (e.title, e.link, e.summary) for e in rss.entries
    ]
    assert [e.content[0].value for e in atom.entries] == [e.content[0].value for e in rss.entries]


@pytest.mark.parametrize("feed_url", FEEDS.values(), ids=FEEDS)
def test_atom_feed_links_to_itself_and_to_the_site(client, many, feed_url):
    feed = read_atom(client, feed_url).feed
    links = {link.rel: link.href for link in feed.links}
    assert links["self"] == "http://localhost" + feed_url
    page = feed_url.removesuffix("/atom.xml").removesuffix("atom.xml")
    assert links["alternate"] == "http://localhost" + (page or "/")
    assert feed.id == links["self"]
    assert feed.title
    assert feed.updated_parsed


def test_atom_entry_has_id_link_dates_author_category_summary_and_body(client, article):
    body = "<p>First paragraph.</p>\n<p>Second <em>paragraph</em>.</p>"
    Article.update(body=body).where(Article.id == article.id).execute()
    feed = read_atom(client, "/atom.xml")
    (entry,) = feed.entries
    assert entry.link == "http://localhost" + url(article)
    assert entry.id == f"tag:localhost,{article.created_at:%Y-%m-%d}:articles/{article.id}"
    assert entry.published == "2019-07-21T05:16:00Z"
    assert entry.updated == "2019-07-22T09:30:15Z"
    assert entry.author_detail.name == "Samuel Ramani"
    assert entry.author_detail.href == "http://localhost/authors/samuel-ramani"
    assert [tag.term for tag in entry.tags] == ["Global Security"]
    assert entry.summary == "From July 11 to 12, diplomats met in Beijing."
    assert entry.content[0].type == "text/html"
    assert entry.content[0].value == body
    assert feed.feed.updated == "2019-07-22T09:30:15Z"  # the newest change in the feed


def test_atom_entry_id_survives_a_new_title(client, article):
    before = read_atom(client, "/atom.xml").entries[0].id
    Article.update(title="A new title", slug="a-new-title").where(
        Article.id == article.id
    ).execute()
    SiteSettings.bump_content_version()
    entry = read_atom(client, "/atom.xml").entries[0]
    assert entry.title == "A new title"
    assert entry.id == before


def test_atom_feed_is_well_formed_atom_with_the_required_elements(client, many):
    response = client.get("/atom.xml")
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{name}"), name
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 20
    for entry in entries:
        for name in ("id", "title", "updated", "published"):
            assert entry.findtext(f"{ATOM}{name}"), name
        assert entry.find(f"{ATOM}author/{ATOM}name").text
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href")
        assert entry.find(f"{ATOM}content").get("type") == "html"
        assert entry.find(f"{ATOM}category").get("term")


def test_atom_keeps_special_characters(client, make_article):
    title = 'Tom & Jerry: 1 < 2 > 0, "quoted" \u2014 Na\u00efve caf\u00e9 \u65e5\u672c'
    body = "<p>Caf\u00e9 &amp; cr\u00e8me</p>"
    make_article(title=title, lead="Fish & chips < 3 \u20ac", body=body)
    (entry,) = read_atom(client, "/atom.xml").entries
    assert shown(entry.title_detail) == title
    assert shown(entry.summary_detail) == "Fish & chips < 3 \u20ac"
    assert entry.content[0].value == body


def test_hidden_articles_stay_out_of_atom(client, make_article):
    make_article(title="Visible")
    make_article(title="Draft", status=Article.DRAFT, published_at=None)
    make_article(title="Scheduled", published_at=utcnow() + dt.timedelta(days=1))
    make_article(title="Trashed", deleted_at=ago(1))
    assert [e.title for e in read_atom(client, "/atom.xml").entries] == ["Visible"]


def test_empty_atom_feed_parses(client, app):
    make_section("News")
    feed = read_atom(client, "/section/news/atom.xml")
    assert feed.entries == []
    assert feed.feed.updated_parsed


@pytest.mark.parametrize(
    "missing", ["/section/nope/atom.xml", "/rubric/nope/atom.xml", "/section/nope/rss.xml"]
)
def test_feed_of_unknown_slug_is_404(client, many, missing):
    assert client.get(missing).status_code == 404


@pytest.mark.parametrize("feed", ["rss", "atom"])
@pytest.mark.parametrize("model", [Section, Rubric])
def test_feed_of_a_renamed_slug_moves_permanently(client, many, model, feed):
    item = model.get()
    kind = model.__name__.lower()
    old = item.slug
    item.rename("Renamed", "renamed")
    response = client.get(f"/{kind}/{old}/{feed}.xml")
    assert response.status_code == 301
    assert urlsplit(response.headers["Location"]).path == f"/{kind}/renamed/{feed}.xml"
    assert len(read_feed(client, f"/{kind}/renamed/{feed}.xml", f"application/{feed}+xml").entries)


# --- Feed discovery ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_every_page_points_at_the_site_feeds(client, article, kind):
    head = head_of(client, page_urls(article)[kind][0])
    assert "/rss.xml" in head.link_hrefs("alternate", "application/rss+xml")
    assert "/atom.xml" in head.link_hrefs("alternate", "application/atom+xml")


@pytest.mark.parametrize("kind", ["section", "rubric", "text section", "text rubric"])
def test_section_and_rubric_pages_point_at_their_own_feeds(client, article, kind):
    head = head_of(client, page_urls(article)[kind][0])
    base = page_urls(article)[kind][0].removeprefix("/text")
    assert head.link_hrefs("alternate", "application/rss+xml") == ["/rss.xml", base + "/rss.xml"]
    assert head.link_hrefs("alternate", "application/atom+xml") == [
        "/atom.xml",
        base + "/atom.xml",
    ]
    for href in head.link_hrefs("alternate"):
        assert client.get(href).status_code == 200, href
