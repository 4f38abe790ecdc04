"""The public reading side: what an anonymous reader gets from each page.

Pages are fetched through the test client and read with a small tree builder on
the standard library's html.parser: tests look at what a reader sees (titles,
links, dates), not at how the templates are written.
"""

import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

import demo
import models
from factories import make_rubric, make_section, make_user
from models import Article, SiteSettings, utcnow

SECTIONS = ("Exclusive", "News", "Reports", "Commentaries", "Analysis")
DATE_TIME = re.compile(r"^\d\d\.\d\d\.\d\d \d\d:\d\d$")
SEED_TIME = dt.datetime(2019, 7, 21, 5, 16)  # naive UTC: 21.07.19 08:16 in Moscow
HX = {"HX-Request": "true"}


# --- Reading HTML ---------------------------------------------------------------------------

VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


class Element:
    def __init__(self, tag, attrs):
        self.tag = tag
        self.attrs = dict(attrs)
        self.children = []

    def __repr__(self):
        attrs = "".join(f' {name}="{value}"' for name, value in self.attrs.items())
        return f"<{self.tag}{attrs}>"

    def elements(self):
        """Every element below this one, in document order."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.elements()

    def find_all(self, tag=None, class_=None, **attrs):
        return [
            element
            for element in self.elements()
            if (tag is None or element.tag == tag)
            and (class_ is None or class_ in element.attrs.get("class", "").split())
            and all(element.attrs.get(name) == value for name, value in attrs.items())
        ]

    def find(self, tag=None, class_=None, **attrs):
        found = self.find_all(tag, class_, **attrs)
        assert found, f"no <{tag}> with class={class_!r} {attrs} in <{self.tag}>"
        return found[0]

    @property
    def text(self):
        parts = []

        def collect(element):
            for child in element.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag not in ("script", "style"):
                    collect(child)

        collect(self)
        return " ".join("".join(parts).split())

    def links(self):
        """(text, href) of every link below this element."""
        return [(a.text, a.attrs.get("href")) for a in self.find_all("a")]

    def href_of(self, text):
        """The href of the one link reading `text`."""
        hrefs = [href for label, href in self.links() if label == text]
        assert len(hrefs) == 1, f"links reading {text!r}: {hrefs}"
        return hrefs[0]


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs)
        self.open[-1].children.append(element)
        if tag not in VOID_ELEMENTS:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.open[-1].children.append(Element(tag, attrs))

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        self.open[-1].children.append(data)


def parse(html):
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def fetch(client, url, status=200, headers=None):
    response = client.get(url, headers=headers or {})
    assert response.status_code == status, f"GET {url}: {response.status_code}, not {status}"
    return response


def open_page(client, url, status=200, headers=None):
    """The parsed HTML of `url`, which must answer `status`."""
    return parse(fetch(client, url, status, headers).get_data(as_text=True))


def titles(element, text_version=False):
    """Titles of the articles linked from `element`, in order.

    Only links into the same version count: the full page's "text version" link to
    an article (or the text page's "full version" one) is not a title.
    """
    prefix = "/text" if text_version else ""
    return [
        text
        for text, href in element.links()
        if re.fullmatch(prefix + r"/articles/\d+/[^/]+", urlsplit(href or "").path)
    ]


def list_items(doc):
    """The article items of a list page's main column: those that carry a date."""
    return [li for li in doc.find("main").find_all("li") if li.find_all("time")]


def sidebar_lists(doc):
    return doc.find_all("section", class_="sidebar-list")


def sidebar_list(doc, slug):
    return doc.find("section", class_="sidebar-list", id=f"sidebar-{slug}")


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def ago(minutes):
    return utcnow() - dt.timedelta(minutes=minutes)


def url(article):
    return f"/articles/{article.id}/{article.slug}"


def set_site(**fields):
    SiteSettings.update(**fields).where(SiteSettings.id == 1).execute()
    SiteSettings.bump_content_version()


# --- Content ----------------------------------------------------------------------------------


@pytest.fixture
def site(app):
    set_site(
        name="War and Peace",
        founded_line="The site was founded by Natalia Laval in 2006",
        copyright_line='2006-2022 Inca Group "War and Peace"',
        timezone="Europe/Moscow",
    )


@pytest.fixture
def sections(app):
    """The seed page's five sections, in its order: {slug: Section}."""
    made = [make_section(name, position=position) for position, name in enumerate(SECTIONS)]
    return {section.slug: section for section in made}


@pytest.fixture
def ramani(app):
    return make_user(
        "Samuel Ramani",
        bio="Samuel Ramani is a DPhil candidate in International Relations at Oxford.",
    )


@pytest.fixture
def article(site, sections, ramani, make_article):
    """The seed article, in short, with a picture and an outside link in its body."""
    return make_article(
        title="Are Russia and the US Finally on the Same Page in Afghanistan?",
        lead="From July 11 to 12, diplomats met in Beijing.",
        body=(
            "<p>The first paragraph of the report.</p>\n"
            '<p><img src="https://example.com/beijing.jpg" alt="The talks in Beijing"></p>\n'
            '<p>The second paragraph, with <a href="https://example.com/source">a source</a>.</p>'
        ),
        section=sections["reports"],
        rubric=make_rubric("Global Security"),
        author=ramani,
        published_at=SEED_TIME,
    )


def make_many(make_article, count, prefix="Item", **fields):
    """`count` articles, newest first: "<prefix> 1" was published a minute ago, and so on."""
    return [
        make_article(title=f"{prefix} {n}", published_at=ago(n), **fields)
        for n in range(1, count + 1)
    ]


# --- Main page --------------------------------------------------------------------------------


def test_header_has_site_name_account_links_and_text_version(client, site):
    header = open_page(client, "/").find("header")
    assert "War and Peace" in header.text
    links = header.links()
    assert ("Registration", "/auth/register") in links
    assert ("Login", "/auth/login") in links
    assert header.href_of("text version") == "/text/"


def test_footer_shows_founding_and_copyright_lines(client, site):
    footer = open_page(client, "/").find("footer", class_="site-footer")
    assert "The site was founded by Natalia Laval in 2006" in footer.text
    assert '2006-2022 Inca Group "War and Peace"' in footer.text


def test_hot_news_shows_hot_articles_only_latest_first(client, make_article):
    make_article(title="Old hot", hot=True, published_at=ago(30))
    make_article(title="Cold", published_at=ago(5))
    make_article(title="New hot", hot=True, published_at=ago(10))
    make_article(title="Newest cold", published_at=ago(1))
    strip = open_page(client, "/").find("section", class_="hot-news")
    assert titles(strip) == ["New hot", "Old hot"]


def test_main_page_shows_lead_articles_newest_first(client, make_article):
    make_article(title="Second", published_at=ago(20))
    make_article(title="First", published_at=ago(10))
    make_article(title="Third", published_at=ago(30))
    main = open_page(client, "/").find("main")
    assert titles(main) == ["First", "Second", "Third"]


def test_sidebar_has_a_list_per_section_in_section_order(client, sections, make_article):
    for section in sections.values():
        make_article(section=section)
    doc = open_page(client, "/")
    assert [lst.find("h2").text for lst in sidebar_lists(doc)] == list(SECTIONS)


def test_sidebar_list_shows_the_8_newest_titles(client, sections, make_article):
    make_many(make_article, 10, "News", section=sections["news"])
    news = sidebar_list(open_page(client, "/"), "news")
    assert titles(news) == [f"News {n}" for n in range(1, 9)]


@pytest.mark.parametrize("slug", [name.lower() for name in SECTIONS])
def test_sidebar_list_links_to_section_page_and_feed(client, sections, make_article, slug):
    make_article(section=sections[slug])
    sidebar = sidebar_list(open_page(client, "/"), slug)
    name = slug.capitalize()
    # The seed's visible "read more" and "rss", with the section named for screen readers.
    assert sidebar.href_of(f"read more: {name}") == f"/section/{slug}"
    assert sidebar.href_of(f"rss: {name}") == f"/section/{slug}/rss.xml"


# --- Section and rubric pages -----------------------------------------------------------------


@pytest.mark.parametrize("list_url", ["/section/reports", "/rubric/economy"])
def test_list_page_shows_newest_first(client, sections, make_article, list_url):
    economy = make_rubric("Economy")
    for title, minutes in (("Middle", 20), ("Newest", 10), ("Oldest", 30)):
        make_article(
            title=title, section=sections["reports"], rubric=economy, published_at=ago(minutes)
        )
    make_article(title="Elsewhere")  # News, Global Security
    assert titles(open_page(client, list_url).find("main")) == ["Newest", "Middle", "Oldest"]


@pytest.mark.parametrize(
    ("timezone", "published_at", "shown"),
    [
        ("Europe/Moscow", SEED_TIME, "21.07.19 08:16"),
        ("America/New_York", dt.datetime(2020, 1, 1, 3, 0), "31.12.19 22:00"),
        ("UTC", dt.datetime(2020, 1, 1, 3, 0), "01.01.20 03:00"),
    ],
)
def test_list_item_shows_local_time_rubric_and_lead(
    client, make_article, timezone, published_at, shown
):
    set_site(timezone=timezone)
    make_article(title="Dated", lead="What it is about.", published_at=published_at)
    for list_url in ("/section/news", "/rubric/global-security"):
        (item,) = list_items(open_page(client, list_url))
        assert item.find("time").text == shown
        assert ("Global Security", "/rubric/global-security") in item.links()
        assert "What it is about." in item.text


@pytest.fixture
def twenty_one(make_article):
    """21 News articles: one more than a page."""
    return make_many(make_article, 21, "News")


def test_list_page_shows_20_articles_and_links_to_the_next_page(client, twenty_one):
    doc = open_page(client, "/section/news")
    assert titles(doc.find("main")) == [f"News {n}" for n in range(1, 21)]
    (next_link,) = doc.find_all("a", rel="next")
    assert path_of(next_link.attrs["href"]) == "/section/news?page=2"
    assert doc.find_all("a", rel="prev") == []


def test_second_page_holds_the_rest_and_links_back(client, twenty_one):
    doc = open_page(client, "/section/news?page=2")
    assert titles(doc.find("main")) == ["News 21"]
    (prev_link,) = doc.find_all("a", rel="prev")
    assert path_of(prev_link.attrs["href"]) in ("/section/news", "/section/news?page=1")
    assert doc.find_all("a", rel="next") == []


BAD_PAGES = ["0", "-1", "abc", "1.5", "99999999999", "\uff11", "3"]


@pytest.mark.parametrize(
    "list_url", ["/section/news", "/rubric/global-security", "/authors/test-author"]
)
@pytest.mark.parametrize("bad", BAD_PAGES, ids=repr)
def test_bad_page_number_is_404(client, twenty_one, list_url, bad):
    response = client.get(list_url, query_string={"page": bad})
    assert response.status_code == 404, f"{list_url}?page={bad!r}: {response.status_code}"


@pytest.mark.parametrize(
    "missing",
    ["/section/nope", "/rubric/nope", "/authors/nope", "/text/section/nope", "/text/rubric/nope"],
)
def test_unknown_slug_is_404(client, make_article, missing):
    make_article()
    fetch(client, missing, 404)


@pytest.mark.parametrize(
    "extra", ["slug=x", "article_id=1", "_external=1", "_anchor=x", "_scheme=https", "_method=POST"]
)
def test_stray_query_parameters_do_not_break_the_page(client, twenty_one, extra):
    """The link to the other version is built from the URL: strays must not break or bend it."""
    doc = open_page(client, f"/section/news?{extra}")
    link = urlsplit(doc.find("header").href_of("text version"))
    assert link.path == "/text/section/news"
    assert (link.scheme, link.netloc, link.fragment) == ("", "", "")


# --- Article page -----------------------------------------------------------------------------


def test_article_has_linked_breadcrumbs(client, article):
    crumbs = open_page(client, url(article)).find("nav", class_="breadcrumbs")
    assert crumbs.text == "Main page » Reports » View"
    assert crumbs.links() == [("Main page", "/"), ("Reports", "/section/reports")]


def test_article_shows_title_date_rubric_and_body(client, article):
    body = open_page(client, url(article)).find("main")
    assert body.find("h1").text == article.title
    assert body.find("time").text == "21.07.19 08:16"
    assert body.href_of("Global Security") == "/rubric/global-security"
    assert "The first paragraph of the report." in body.text
    assert "The second paragraph, with a source." in body.text


def test_article_links_author_and_shows_bio(client, article):
    body = open_page(client, url(article)).find("main")
    assert body.href_of("Samuel Ramani") == "/authors/samuel-ramani"
    assert "Samuel Ramani is a DPhil candidate" in body.text


def test_article_links_printable_version(client, article):
    body = open_page(client, url(article)).find("main")
    assert body.href_of("Printable version") == url(article) + "/print"


def test_article_page_has_hot_news_and_sidebar(client, article, make_article):
    make_article(title="Hot elsewhere", hot=True)
    doc = open_page(client, url(article))
    assert "Hot elsewhere" in titles(doc.find("section", class_="hot-news"))
    assert article.title in titles(sidebar_list(doc, "reports"))


@pytest.mark.parametrize(
    ("asked", "canonical"),
    [
        ("/articles/{id}", "/articles/{id}/{slug}"),
        ("/articles/{id}/wrong-slug", "/articles/{id}/{slug}"),
        ("/articles/{id}/{slug}-", "/articles/{id}/{slug}"),
        ("/articles/{id}/wrong-slug/print", "/articles/{id}/{slug}/print"),
        ("/text/articles/{id}", "/text/articles/{id}/{slug}"),
        ("/text/articles/{id}/wrong-slug", "/text/articles/{id}/{slug}"),
    ],
)
def test_non_canonical_article_url_redirects_permanently(client, article, asked, canonical):
    values = {"id": article.id, "slug": article.slug}
    response = fetch(client, asked.format(**values), 301)
    assert path_of(response.headers["Location"]) == canonical.format(**values)


@pytest.mark.parametrize(
    "missing",
    [
        "/articles/999",
        "/articles/999/some-slug",
        "/articles/99999999999999999999",
        "/articles/99999999999999999999/some-slug",
        "/articles/-1",
        "/articles/abc",
        "/no/such/page",
    ],
)
def test_missing_page_is_404_in_the_site_layout(client, article, missing):
    doc = open_page(client, missing, 404)
    assert "War and Peace" in doc.find("header").text
    assert article.title in titles(doc.find("aside"))
    assert "not found" in doc.find("main").text.lower()


HOSTILE_TITLE = '<script>alert("owned")</script> & Co'


@pytest.mark.parametrize(
    "where",
    [
        "/",
        "/section/news",
        "/rubric/global-security",
        "/authors/test-author",
        "{url}",
        "{url}/print",
        "/text/",
        "/text{url}",
        "/rss.xml",
        "/section/news/rss.xml",
        "/rubric/global-security/rss.xml",
    ],
)
def test_title_markup_is_escaped_everywhere(client, make_article, where):
    hostile = make_article(title=HOSTILE_TITLE, hot=True, body="<p>A harmless body.</p>")
    html = fetch(client, where.format(url=url(hostile))).get_data(as_text=True)
    assert "<script>alert" not in html
    # Feeds carry it as the text of HTML, escaped once more as XML (feeds.html_text).
    escaped = "&amp;lt;script&amp;gt;alert(" if where.endswith(".xml") else "&lt;script&gt;alert("
    assert escaped in html


# --- Visibility -------------------------------------------------------------------------------

HIDDEN = {
    "draft": lambda: {"status": Article.DRAFT, "published_at": None},
    "submitted": lambda: {"status": Article.SUBMITTED, "published_at": None},
    "unpublished": lambda: {"status": Article.UNPUBLISHED, "published_at": ago(60)},
    "scheduled": lambda: {"published_at": utcnow() + dt.timedelta(days=1)},
    "trashed": lambda: {"deleted_at": ago(1)},
}

LISTING_PAGES = {
    "main": "/",
    "section": "/section/news",
    "rubric": "/rubric/global-security",
    "author": "/authors/test-author",
    "sidebar partial": "/section/news/latest?page=1",
    "text main": "/text/",
    "text section": "/text/section/news",
    "text rubric": "/text/rubric/global-security",
    "text author": "/text/authors/test-author",
    "site feed": "/rss.xml",
    "section feed": "/section/news/rss.xml",
    "rubric feed": "/rubric/global-security/rss.xml",
    "sitemap": "/sitemap.xml",
}

ARTICLE_PAGES = {
    "article": "/articles/{id}/{slug}",
    "short article URL": "/articles/{id}",
    "print": "/articles/{id}/{slug}/print",
    "text article": "/text/articles/{id}/{slug}",
}


def make_hidden(make_article, kind):
    """A hot article that readers must not see, beside a visible one of the same lists."""
    visible = make_article(title="Visible piece", hot=True, published_at=ago(5))
    return visible, make_article(title=f"Invisible {kind} piece", hot=True, **HIDDEN[kind]())


@pytest.mark.parametrize("page_name", LISTING_PAGES)
@pytest.mark.parametrize("kind", HIDDEN)
def test_hidden_article_is_not_listed(client, make_article, kind, page_name):
    visible, hidden = make_hidden(make_article, kind)
    page_url = LISTING_PAGES[page_name]
    headers = HX if page_name == "sidebar partial" else None
    html = fetch(client, page_url, headers=headers).get_data(as_text=True)
    assert f"/articles/{visible.id}/" in html
    assert hidden.title not in html
    assert f"/articles/{hidden.id}/" not in html


@pytest.mark.parametrize("page_name", ARTICLE_PAGES)
@pytest.mark.parametrize("kind", HIDDEN)
def test_hidden_article_url_is_404(client, make_article, kind, page_name):
    _, hidden = make_hidden(make_article, kind)
    fetch(client, ARTICLE_PAGES[page_name].format(id=hidden.id, slug=hidden.slug), 404)


def test_scheduled_article_appears_once_its_time_has_come(client, make_article):
    make_article(title="Already out", published_at=ago(10))
    scheduled = make_article(title="Coming soon", published_at=utcnow() + dt.timedelta(hours=1))
    assert "Coming soon" not in titles(open_page(client, "/"))
    fetch(client, url(scheduled), 404)

    # Its time passes: as if the clock had moved on.
    Article.update(published_at=ago(1)).where(Article.id == scheduled.id).execute()
    SiteSettings.bump_content_version()

    assert titles(open_page(client, "/").find("main"))[0] == "Coming soon"
    assert open_page(client, url(scheduled)).find("h1").text == "Coming soon"


# --- Print page -------------------------------------------------------------------------------


def test_print_page_is_the_article_alone(client, article, make_article):
    make_article(title="Another story")
    doc = open_page(client, url(article) + "/print")
    assert doc.find("h1").text == article.title
    assert "The first paragraph of the report." in doc.text
    assert doc.find_all("nav") == []
    assert doc.find_all("aside") == []
    assert doc.find_all("script") == []
    assert "Another story" not in doc.text


def test_print_page_shows_source_url_and_date(client, article):
    doc = open_page(client, url(article) + "/print")
    source = f"http://localhost{url(article)}"
    assert source in doc.text
    assert (source, source) in doc.links()
    assert "21.07.19 08:16" in doc.text


def test_print_page_links_a_print_stylesheet(client, article):
    doc = open_page(client, url(article) + "/print")
    sheets = [link.attrs["href"] for link in doc.find_all("link", rel="stylesheet")]
    assert sheets and all("print" in href for href in sheets), sheets
    for href in sheets:
        assert fetch(client, href).mimetype == "text/css"


# --- Text version -----------------------------------------------------------------------------

TEXT_PAGES = {
    "main": "/",
    "section": "/section/reports",
    "rubric": "/rubric/global-security",
    "article": "/articles/{id}/{slug}",
    "author": "/authors/samuel-ramani",
}


@pytest.fixture
def text_site(article, sections, make_article):
    """The seed article beside a few others, in every section and in the hot-news strip."""
    for section in sections.values():
        make_article(title=f"Latest in {section.name}", section=section, hot=True)
    make_article(title="Ramani again", author=article.author, section=sections["reports"])
    return article


def full_and_text(page_name, article):
    full = TEXT_PAGES[page_name].format(id=article.id, slug=article.slug)
    return full, "/text" + full


@pytest.mark.parametrize("page_name", TEXT_PAGES)
def test_text_page_has_no_images_and_no_scripts(client, text_site, page_name):
    _, text_url = full_and_text(page_name, text_site)
    doc = open_page(client, text_url)
    assert doc.find_all("img") == []
    assert doc.find_all("script") == []


@pytest.mark.parametrize("page_name", TEXT_PAGES)
def test_text_page_shows_the_same_content_as_the_full_page(client, text_site, page_name):
    """The main column and hot news match; inner text pages drop the sidebar's 40 titles."""
    full_url, text_url = full_and_text(page_name, text_site)
    text_page, full_page = open_page(client, text_url), open_page(client, full_url)
    assert titles(text_page.find("main"), text_version=True) == titles(full_page.find("main"))
    hot = [
        titles(page.find("section", class_="hot-news") or page, v)
        for page, v in ((text_page, True), (full_page, False))
    ]
    assert hot[0] == hot[1]
    if page_name == "main":
        assert titles(text_page, text_version=True) == titles(full_page)


@pytest.mark.parametrize("page_name", TEXT_PAGES)
def test_text_page_links_stay_in_the_text_version(client, text_site, page_name):
    full_url, text_url = full_and_text(page_name, text_site)
    doc = open_page(client, text_url)
    leaving = []
    for element in doc.find_all("a") + doc.find_all("link"):
        href = element.attrs.get("href", "")
        parts = urlsplit(href)
        if parts.netloc and parts.netloc != "localhost" or href.startswith("#"):
            continue  # another site, or this page
        allowed = (
            parts.path.startswith("/text/")
            or parts.path == full_url  # back to the full version
            or parts.path.endswith(("/rss.xml", "/atom.xml"))  # feeds
            or (element.tag == "link" and element.attrs.get("rel") == "stylesheet")
        )
        if not allowed:
            leaving.append(f"<{element.tag}> {element.text!r} -> {href}")
    assert leaving == []


@pytest.mark.parametrize("page_name", TEXT_PAGES)
def test_text_page_links_back_to_the_full_version(client, text_site, page_name):
    full_url, text_url = full_and_text(page_name, text_site)
    doc = open_page(client, text_url)
    assert ("full version", full_url) in doc.links()


@pytest.mark.parametrize("page_name", TEXT_PAGES)
def test_full_page_links_to_its_text_version(client, text_site, page_name):
    full_url, text_url = full_and_text(page_name, text_site)
    assert open_page(client, full_url).find("header").href_of("text version") == text_url


def page_weight(client, page_url):
    """Bytes of the page with its stylesheets and scripts."""
    response = fetch(client, page_url)
    doc = parse(response.get_data(as_text=True))
    assets = [link.attrs["href"] for link in doc.find_all("link", rel="stylesheet")]
    assets += [script.attrs["src"] for script in doc.find_all("script") if "src" in script.attrs]
    total = len(response.data)
    for asset in assets:
        asset_response = fetch(client, asset)
        total += len(asset_response.data)
        asset_response.close()
    return total


def test_text_article_is_much_lighter_than_the_full_one(client, app):
    demo.load_demo(0)  # the seed page's site: its article and forty sidebar titles
    seed = Article.get(Article.title == demo.SEED_TITLE)
    full, text = page_weight(client, url(seed)), page_weight(client, "/text" + url(seed))
    assert text < full / 2, f"text version {text} bytes, full page {full} bytes"


# --- Author pages -----------------------------------------------------------------------------


def test_author_page_shows_bio_and_articles(client, article, make_article):
    make_article(title="Not his", author=make_user("Someone Else"))
    doc = open_page(client, "/authors/samuel-ramani")
    main = doc.find("main")
    assert main.find("h1").text == "Samuel Ramani"
    assert "Samuel Ramani is a DPhil candidate" in main.text
    assert titles(main) == [article.title]


def test_author_page_paginates(client, ramani, make_article):
    make_many(make_article, 21, "Piece", author=ramani)
    first = open_page(client, "/authors/samuel-ramani")
    assert titles(first.find("main")) == [f"Piece {n}" for n in range(1, 21)]
    (next_link,) = first.find_all("a", rel="next")
    second = open_page(client, next_link.attrs["href"])
    assert titles(second.find("main")) == ["Piece 21"]


def test_reader_has_no_author_page(client, make_article):
    make_user("Rita Reader", role="reader", bio="Reads a lot.")
    make_article()
    fetch(client, "/authors/rita-reader", 404)
    fetch(client, "/text/authors/rita-reader", 404)


# --- The HTMX sidebar list --------------------------------------------------------------------


@pytest.fixture
def forty_news(sections, make_article):
    """40 News articles, "News 1" the newest: five sidebar pages."""
    return make_many(make_article, 40, "News", section=sections["news"])


def sidebar_titles(page):
    """The titles the News sidebar shows on its page `page`."""
    return [f"News {n}" for n in range((page - 1) * 8 + 1, page * 8 + 1)]


def test_htmx_sidebar_page_is_just_the_list_and_its_announcement(client, forty_news):
    html = fetch(client, "/section/news/latest?page=2", headers=HX).get_data(as_text=True)
    assert "<html" not in html and "<body" not in html
    fragment = parse(html)
    top, said = [child for child in fragment.children if isinstance(child, Element)]
    assert top.tag == "section"
    assert top.attrs.get("class") == "sidebar-list"
    assert top.attrs.get("id") == "sidebar-news"
    assert titles(top) == sidebar_titles(2)
    # For screen readers, into the sidebar's status region (htmx swaps it out of band).
    assert (said.tag, said.attrs, said.text) == (
        "p",
        {"id": "sidebar-status", "hx-swap-oob": "innerHTML"},
        "Page 2 of News",
    )


def test_every_page_has_the_sidebars_status_region_empty(client, forty_news):
    for url in ("/", "/section/news"):
        region = open_page(client, url).find("aside").find(id="sidebar-status")
        assert region.attrs.get("role") == "status" and region.text == "", url


def test_htmx_sidebar_page_links_newer_and_older(client, forty_news):
    fragment = open_page(client, "/section/news/latest?page=2", headers=HX)
    pager = {text: a for a in fragment.find_all("a") if (text := a.text) in ("‹ newer", "older ›")}
    assert set(pager) == {"‹ newer", "older ›"}
    assert path_of(pager["‹ newer"].attrs["hx-get"]) == "/section/news/latest?page=1"
    assert path_of(pager["older ›"].attrs["hx-get"]) == "/section/news/latest?page=3"
    # Ids of their own: after the swap, htmx gives the focus back to the link pressed.
    assert (pager["‹ newer"].attrs["id"], pager["older ›"].attrs["id"]) == (
        "newer-news",
        "older-news",
    )


def test_last_htmx_sidebar_page_has_no_older_link(client, forty_news):
    fragment = open_page(client, "/section/news/latest?page=5", headers=HX)
    assert titles(fragment) == sidebar_titles(5)
    labels = [text for text, _ in fragment.links()]
    assert "‹ newer" in labels and "older ›" not in labels


@pytest.mark.parametrize("sidebar_page", [2, 4])
def test_sidebar_page_without_htmx_redirects_to_the_section_page_holding_it(
    client, forty_news, sidebar_page
):
    response = client.get(f"/section/news/latest?page={sidebar_page}")
    assert response.status_code in (302, 303, 307)
    target = response.headers["Location"]
    assert urlsplit(target).path == "/section/news"
    shown = titles(open_page(client, path_of(target)).find("main"))
    assert set(sidebar_titles(sidebar_page)) <= set(shown)


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.5", "\uff12", "99999999999", "6"], ids=repr)
def test_bad_htmx_sidebar_page_is_404(client, forty_news, bad):
    response = client.get("/section/news/latest", query_string={"page": bad}, headers=HX)
    assert response.status_code == 404, f"page={bad!r}: {response.status_code}"


def test_htmx_sidebar_of_unknown_section_is_404(client, forty_news):
    fetch(client, "/section/nope/latest?page=2", 404, headers=HX)


def outer_html(html, start):
    """The markup from `start` to its section's closing tag, one stripped line per line."""
    begin = html.index(start)
    end = html.index("</section>", begin) + len("</section>")
    return [line.strip() for line in html[begin:end].splitlines() if line.strip()]


def test_full_page_sidebar_and_htmx_partial_render_the_same_markup(client, forty_news):
    start = '<section class="sidebar-list" id="sidebar-news"'
    page = fetch(client, "/").get_data(as_text=True)
    partial = fetch(client, "/section/news/latest?page=1", headers=HX).get_data(as_text=True)
    assert outer_html(partial, start) == outer_html(page, start)


# --- SQL statements per page ------------------------------------------------------------------


def populate(make_article, sections, count, start=0):
    """`count` articles spread over sections, rubrics, authors; some hot."""
    rubrics = [make_rubric(name) for name in ("Global Security", "Economy", "Energy")]
    authors = [make_user(name) for name in ("Ann Author", "Bob Author", "Cy Author", "Di Author")]
    slugs = list(sections)
    for n in range(start, start + count):
        make_article(
            title=f"Piece {n}",
            section=sections[slugs[n % len(slugs)]],
            rubric=rubrics[n % len(rubrics)],
            author=authors[n % len(authors)],
            hot=n % 4 == 0,
            published_at=ago(1000 - n),
        )


COUNTED_PAGES = {
    "main": "/",
    "section": "/section/news",
    "rubric": "/rubric/economy",
    "article": "{first}",
    "author": "/authors/bob-author",
    "text article": "/text{first}",
    "site feed": "/rss.xml",
    "section feed": "/section/news/rss.xml",
}


@pytest.mark.parametrize("page_name", COUNTED_PAGES)
def test_sql_statements_do_not_grow_with_articles(
    client, sections, make_article, query_counter, page_name
):
    def statements():
        with query_counter() as queries:
            fetch(client, page_url)
        return queries

    populate(make_article, sections, 6)  # few enough that no list on any page is full
    page_url = COUNTED_PAGES[page_name].format(first=url(Article.get(Article.title == "Piece 0")))
    with_6 = statements()
    populate(make_article, sections, 54, start=6)
    with_60 = statements()
    assert len(with_60) == len(with_6), f"{len(with_6)} statements, then {len(with_60)}"


# --- HTTP caching -----------------------------------------------------------------------------

CACHED_PAGES = {
    "main": "/",
    "section": "/section/news",
    "rubric": "/rubric/global-security",
    "article": "{url}",
    "print": "{url}/print",
    "author": "/authors/test-author",
    "text main": "/text/",
    "text article": "/text{url}",
    "feed": "/rss.xml",
    "sitemap": "/sitemap.xml",
}


@pytest.fixture
def cached_page(request, make_article):
    """The URL of a public page, with an article on it."""
    article = make_article(title="Cached")
    return CACHED_PAGES[request.param].format(url=url(article))


cached_pages = pytest.mark.parametrize("cached_page", CACHED_PAGES, indirect=True)


@cached_pages
def test_public_page_sends_validators_and_revalidation_headers(client, cached_page):
    response = fetch(client, cached_page)
    assert response.headers.get("ETag")
    assert response.headers.get("Last-Modified")
    assert "no-cache" in response.headers.get("Cache-Control", "")
    assert "hx-request" in response.headers.get("Vary", "").lower()


@cached_pages
def test_unchanged_page_answers_304_to_if_none_match(client, cached_page):
    etag = fetch(client, cached_page).headers["ETag"]
    response = fetch(client, cached_page, 304, headers={"If-None-Match": etag})
    assert response.data == b""
    assert response.headers["ETag"] == etag


@cached_pages
def test_unchanged_page_answers_304_to_if_modified_since(client, cached_page):
    last_modified = fetch(client, cached_page).headers["Last-Modified"]
    response = fetch(client, cached_page, 304, headers={"If-Modified-Since": last_modified})
    assert response.data == b""


def test_weak_form_of_the_etag_also_gets_304(client, make_article):
    """Proxies that compress (nginx's gzip) weaken ETags; If-None-Match compares weakly."""
    make_article()
    etag = fetch(client, "/").headers["ETag"]
    fetch(client, "/", 304, headers={"If-None-Match": f"W/{etag}"})


def test_changed_content_gets_200_for_the_old_etag(client, make_article):
    article = make_article(title="Before")
    etag = fetch(client, "/").headers["ETag"]
    Article.update(title="After").where(Article.id == article.id).execute()
    SiteSettings.bump_content_version()
    response = fetch(client, "/", headers={"If-None-Match": etag})
    assert response.headers["ETag"] != etag
    assert "After" in response.get_data(as_text=True)


def test_htmx_partial_and_full_page_have_different_etags(client, forty_news):
    full = fetch(client, "/section/news").headers["ETag"]
    partial = fetch(client, "/section/news", headers=HX).headers["ETag"]
    assert full != partial
    fetch(client, "/section/news", headers={**HX, "If-None-Match": full})


def test_conditional_request_for_a_missing_page_is_still_404(client, make_article):
    make_article()
    fetch(client, "/section/nope", 404, headers={"If-None-Match": "*"})
    fetch(client, "/articles/999/gone", 404, headers={"If-None-Match": "*"})


# --- Security headers and markup --------------------------------------------------------------

SECURED_PAGES = {
    "main": "/",
    "section": "/section/news",
    "rubric": "/rubric/global-security",
    "article": "{url}",
    "print": "{url}/print",
    "author": "/authors/test-author",
    "text main": "/text/",
    "text section": "/text/section/news",
    "text article": "/text{url}",
    "not found": "/articles/999",
}


@pytest.fixture
def secured_page(request, make_article):
    article = make_article(title="Secure", hot=True)
    return SECURED_PAGES[request.param].format(url=url(article))


secured_pages = pytest.mark.parametrize("secured_page", SECURED_PAGES, indirect=True)


def csp_directives(policy):
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@secured_pages
def test_page_sends_security_headers(client, secured_page):
    headers = client.get(secured_page).headers
    directives = csp_directives(headers.get("Content-Security-Policy", ""))
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src, headers.get("Content-Security-Policy")
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy")


@secured_pages
def test_page_has_no_inline_script_or_event_handler(client, secured_page):
    doc = parse(client.get(secured_page).get_data(as_text=True))
    # JSON-LD is a data block, never run: the only <script> without src allowed.
    assert all(
        "src" in script.attrs or script.attrs.get("type") == "application/ld+json"
        for script in doc.find_all("script")
    )
    handlers = [
        f"<{element.tag} {name}>"
        for element in doc.elements()
        for name in element.attrs
        if name.startswith("on")
    ]
    assert handlers == []


# --- Health check and favicon -----------------------------------------------------------------


def test_healthz_reports_ok(client):
    response = fetch(client, "/healthz")
    assert response.is_json
    assert response.get_json()["status"] == "ok"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_healthz_is_503_when_the_database_is_unreachable(tmp_path, kind):
    from app import create_app

    unreachable = {
        "sqlite": f"sqlite:///{tmp_path / 'no-such-directory' / 'newsdesk.db'}",
        "postgresql": "postgresql://newsdesk@127.0.0.1:1/newsdesk",  # nothing listens there
    }[kind]
    app = create_app({"TESTING": True, "DATABASE_URL": unreachable})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.is_json


def test_favicon(client):
    response = fetch(client, "/favicon.ico")
    assert response.data
    response.close()


def test_prepared_queries_agree_with_peewee_building_them_each_time(make_article, app):
    """The main page's list and the article page's article: SQL built once, run again."""
    shown = make_article(title="Shown")
    make_article(title="Later", published_at=utcnow() + dt.timedelta(hours=1))
    trashed = make_article(title="Trashed")
    Article.update(deleted_at=utcnow()).where(Article.id == trashed.id).execute()
    for _ in range(2):  # the first call builds the SQL, the second reuses it
        assert [a.title for a in Article.lead_stories()] == ["Shown"]
        assert Article.get_visible(shown.id).body == shown.body
        assert Article.get_visible(trashed.id) is None
    kind = type(models.database.obj)
    assert models.LEAD_STORIES.prepared[kind] and models.VISIBLE_ARTICLE.prepared[kind]
    later = utcnow() + dt.timedelta(hours=2)
    assert [a.title for a in models.LEAD_STORIES(later, 10)] == ["Later", "Shown"]
    assert [a.title for a in models.LEAD_STORIES(later, 1)] == ["Later"]
