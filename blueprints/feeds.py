"""What machines read: RSS and Atom feeds, the sitemap, robots.txt, and sharing metadata.

Sharing metadata is what a link preview or a search engine reads from a page's
<head>: canonical URL, Open Graph, Twitter card and JSON-LD. The templates get
it from `share_meta()` and `news_article_ld()` below.
"""

import datetime as dt
import html
from dataclasses import dataclass
from email.utils import format_datetime
from urllib.parse import urlsplit

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from peewee import fn

import media
from caching import named, site_settings
from models import Article, Rubric, Section, User

bp = Blueprint("feeds", __name__)

FEED_SIZE = 20
SITEMAP_CHUNK = 10_000  # URLs per sitemap file; the protocol allows 50,000


# Characters XML 1.0 cannot carry, not even escaped: one would make the whole feed unreadable
# (web pages tolerate them, and titles, leads and bodies may hold them). A str.translate
# table that drops them: several times faster than a regular expression on a whole feed.
NOT_IN_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


def xml_response(template, mimetype, **context):
    response = make_response(render_template(template, **context).translate(NOT_IN_XML))
    response.mimetype = mimetype
    return response


# Every feed comes in both formats, from the same articles: only template and type differ.
FEED_FORMATS = {
    "rss": ("feeds/rss.xml", "application/rss+xml"),
    "atom": ("feeds/atom.xml", "application/atom+xml"),
}


def feed(feed_format, title, link, articles):
    template, mimetype = FEED_FORMATS[feed_format]
    articles = list(articles)
    updated = max(map(modified_at, articles), default=site_settings().last_modified)
    return xml_response(
        template,
        mimetype,
        title=title,
        link=link,
        articles=articles,
        updated=updated,
        self_url=url_for(request.endpoint, **request.view_args, _external=True),
    )


@bp.app_template_filter("html_text")
def html_text(text):
    """Plain text as the text of HTML, for every feed field that readers render as HTML:
    RSS titles and descriptions (whose readers guess), Atom's type="html".

    Escaped here as HTML, then once more as XML by the template's autoescaping (this is
    a str, not Markup): a lead of `<img src=x onerror=…>` reaches readers as those
    characters, never as an element.
    """
    return html.escape(text or "", quote=False)


@bp.app_template_filter("rfc822")
def rfc822(value):
    return format_datetime(value.replace(tzinfo=dt.UTC), usegmt=True)


@bp.app_template_filter("w3c")
def w3c_datetime(value):
    """A naive-UTC datetime as ISO 8601 with Z; None (an unpublished draft) as ""."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else ""


@bp.app_template_filter("modified_at")
def modified_at(article):
    """When the article last changed for readers: the last update an editor chose to show
    them (Article.update_shown_at), else its first publication. Typo fixes and workflow
    steps do not count. The one source of dateModified, Atom's <updated> and lastmod."""
    return article.update_shown_at or article.published_at


@bp.app_template_filter("tag_uri")
def tag_uri(article):
    """A permanent Atom id (RFC 4151): unlike the URL, it survives a new title and slug."""
    host = urlsplit(url_for("public.index", _external=True)).hostname
    return f"tag:{host},{article.created_at:%Y-%m-%d}:articles/{article.id}"


@bp.route("/rss.xml", endpoint="site_rss", defaults={"feed_format": "rss"})
@bp.route("/atom.xml", endpoint="site_atom", defaults={"feed_format": "atom"})
def site_feed(feed_format):
    articles = named(Article.listing(body=True).limit(FEED_SIZE))
    link = url_for("public.index", _external=True)
    return feed(feed_format, site_settings().name, link, articles)


def taxonomy_feed(feed_format, model, field, slug, page_view):
    item, renamed = model.by_slug(slug)
    if renamed:  # a renamed section or rubric: feed readers follow a 301
        return redirect(url_for(request.endpoint, slug=renamed.slug), 301)
    if item is None:
        abort(404)
    articles = named(Article.listing(field == item, body=True).limit(FEED_SIZE))
    link = url_for(page_view, slug=item.slug, _external=True)
    return feed(feed_format, f"{site_settings().name}: {item.name}", link, articles)


@bp.route("/section/<slug>/rss.xml", endpoint="section_rss", defaults={"feed_format": "rss"})
@bp.route("/section/<slug>/atom.xml", endpoint="section_atom", defaults={"feed_format": "atom"})
def section_feed(slug, feed_format):
    return taxonomy_feed(feed_format, Section, Article.section, slug, "public.section")


@bp.route("/rubric/<slug>/rss.xml", endpoint="rubric_rss", defaults={"feed_format": "rss"})
@bp.route("/rubric/<slug>/atom.xml", endpoint="rubric_atom", defaults={"feed_format": "atom"})
def rubric_feed(slug, feed_format):
    return taxonomy_feed(feed_format, Rubric, Article.rubric, slug, "public.rubric")


def latest_by(field):
    """{key id: newest visible publication time} for sections, rubrics or authors."""
    query = Article.visible().select(field, fn.MAX(Article.published_at)).group_by(field)
    return dict(query.tuples())


def list_pages():
    """(URL, lastmod) of the main page and every section, rubric and author page."""
    pages = [(url_for("public.index", _external=True), site_settings().latest_published)]
    for model, field, view in (
        (Section, Article.section, "public.section"),
        (Rubric, Article.rubric, "public.rubric"),
        (User, Article.author, "public.author"),
    ):
        latest = latest_by(field)
        rows = model.select().where(model.id.in_(list(latest))).order_by(model.id) if latest else []
        pages += [(url_for(view, slug=row.slug, _external=True), latest[row.id]) for row in rows]
    return pages


def article_urls(chunk):
    query = (
        Article.visible()
        .select(Article.id, Article.slug, Article.published_at, Article.revised_at)
        .order_by(Article.id)
        .paginate(chunk, SITEMAP_CHUNK)
    )
    return [
        (url_for("public.article", article_id=a.id, slug=a.slug, _external=True), modified_at(a))
        for a in query
    ]


@bp.route("/sitemap.xml")
def sitemap():
    """One sitemap while the site is small; an index of chunked sitemaps once it is not."""
    chunks = -(-Article.visible().count() // SITEMAP_CHUNK)
    if chunks <= 1:
        urls = list_pages() + article_urls(1)
        return xml_response("feeds/sitemap.xml", "application/xml", urls=urls)
    sitemaps = [url_for("feeds.sitemap_pages", _external=True)] + [
        url_for("feeds.sitemap_articles", chunk=n, _external=True) for n in range(1, chunks + 1)
    ]
    return xml_response(
        "feeds/sitemap_index.xml",
        "application/xml",
        sitemaps=sitemaps,
        lastmod=site_settings().last_modified,
    )


@bp.route("/sitemap-pages.xml")
def sitemap_pages():
    return xml_response("feeds/sitemap.xml", "application/xml", urls=list_pages())


@bp.route("/sitemap-articles-<int(min=1, max=100000):chunk>.xml")
def sitemap_articles(chunk):
    urls = article_urls(chunk) or abort(404)
    return xml_response("feeds/sitemap.xml", "application/xml", urls=urls)


@bp.route("/robots.txt")
def robots():
    response = make_response(render_template("feeds/robots.txt"))
    response.mimetype = "text/plain"
    return response


# --- Sharing metadata: canonical URL, Open Graph, Twitter card, JSON-LD ----------------------

LOGO = "logo.png"  # the site's mark: the share image of pages without one, the publisher logo
LOGO_SIZE = 512
SHARE_IMAGE_WIDTH = 1600  # the lead image's copy in cards, as in the feeds' enclosures


def logo_url():
    return url_for("static", filename=LOGO, _external=True)


def article_url(article):
    """The canonical, absolute URL of an article: the full version, never text or print."""
    return url_for("public.article", article_id=article.id, slug=article.slug, _external=True)


@dataclass
class ShareImage:
    url: str  # absolute
    alt: str
    width: int
    height: int
    own: bool  # the page's own picture, not the site's logo: worth a large card


def share_image(article=None):
    """The picture of a shared link: the article's lead image, else the site's logo."""
    image = article.lead_image if article is not None and article.lead_image_id else None
    if image is None:
        return ShareImage(logo_url(), site_settings().name, LOGO_SIZE, LOGO_SIZE, own=False)
    width, height, _, _ = image.rendition(SHARE_IMAGE_WIDTH)
    return ShareImage(
        media.share_url(image, SHARE_IMAGE_WIDTH),
        article.lead_image_alt or article.title,
        width,
        height,
        True,
    )


@bp.app_template_global()
def share_image_url(article=None):
    """Absolute URL of the picture of a shared link (see share_image)."""
    return share_image(article).url


@dataclass
class ShareMeta:
    """What a page tells link previews and search engines about itself."""

    url: str  # canonical: the full version's absolute URL
    title: str
    description: str
    image: ShareImage
    article: Article | None = None


@bp.app_template_global()
def share_meta(article=None, taxonomy=None, kind=None, author=None, page=1):
    """Sharing metadata of an article, a section or rubric (`kind`) page, an author
    page or, with no argument, the main page. `page` is the list's page number."""
    site = site_settings()
    if article is not None:
        return ShareMeta(
            url=article_url(article),
            title=article.title,
            description=article.lead or article.title,
            image=share_image(article),
            article=article,
        )
    paged = {"page": page} if page > 1 else {}
    if taxonomy is not None:
        url = url_for(f"public.{kind}", slug=taxonomy.slug, **paged, _external=True)
        title = taxonomy.name
        description = f"Articles in the {taxonomy.name} {kind} of {site.name}."
    elif author is not None:
        url = url_for("public.author", slug=author.slug, **paged, _external=True)
        title = author.display_name
        description = f"Articles by {author.display_name} in {site.name}."
    else:
        url = url_for("public.index", _external=True)
        title = site.name
        description = site.tagline or f"The latest articles from {site.name}."
    return ShareMeta(
        url=url,
        title=f"{title}, page {page}" if paged else title,
        description=description,
        image=share_image(),
    )


@bp.app_template_global()
def news_article_ld(article):
    """The schema.org NewsArticle of an article page, for `|tojson` in a JSON-LD block."""
    site = site_settings()
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.lead or article.title,
        "datePublished": w3c_datetime(article.published_at),
        "dateModified": w3c_datetime(modified_at(article)),
        "author": {
            "@type": "Person",
            "name": article.author.display_name,
            "url": url_for("public.author", slug=article.author.slug, _external=True),
        },
        "publisher": {
            "@type": "Organization",
            "name": site.name,
            "url": url_for("public.index", _external=True),
            "logo": {
                "@type": "ImageObject",
                "url": logo_url(),
                "width": LOGO_SIZE,
                "height": LOGO_SIZE,
            },
        },
        "image": [share_image_url(article)],
        "mainEntityOfPage": article_url(article),
        "articleSection": article.section.name,
    }
    if not article.published_at:  # a draft, seen by staff: neither published nor modified
        del data["datePublished"], data["dateModified"]
    return data
