"""What machines read: RSS feeds, the sitemap and robots.txt."""

import datetime as dt
from email.utils import format_datetime

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from peewee import fn

from caching import site_settings
from models import Article, Rubric, Section, User

bp = Blueprint("feeds", __name__)

FEED_SIZE = 20
SITEMAP_CHUNK = 10_000  # URLs per sitemap file; the protocol allows 50,000


def xml_response(template, mimetype, **context):
    response = make_response(render_template(template, **context))
    response.mimetype = mimetype
    return response


def rss(title, link, articles):
    return xml_response(
        "feeds/rss.xml",
        "application/rss+xml",
        title=title,
        link=link,
        articles=list(articles),
    )


@bp.app_template_filter("rfc822")
def rfc822(value):
    return format_datetime(value.replace(tzinfo=dt.UTC), usegmt=True)


@bp.app_template_filter("w3c")
def w3c_datetime(value):
    return value.replace(microsecond=0).isoformat() + "Z"


@bp.route("/rss.xml")
def site_rss():
    articles = Article.listing().limit(FEED_SIZE)
    return rss(site_settings().name, url_for("public.index", _external=True), articles)


def taxonomy_rss(model, field, slug, page_view):
    item, renamed = model.by_slug(slug)
    if renamed:  # a renamed section or rubric: feed readers follow a 301
        return redirect(url_for(request.endpoint, slug=renamed.slug), 301)
    if item is None:
        abort(404)
    articles = Article.listing(field == item).limit(FEED_SIZE)
    link = url_for(page_view, slug=item.slug, _external=True)
    return rss(f"{site_settings().name}: {item.name}", link, articles)


@bp.route("/section/<slug>/rss.xml")
def section_rss(slug):
    return taxonomy_rss(Section, Article.section, slug, "public.section")


@bp.route("/rubric/<slug>/rss.xml")
def rubric_rss(slug):
    return taxonomy_rss(Rubric, Article.rubric, slug, "public.rubric")


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
        rows = model.select().where(model.id.in_(list(latest))) if latest else []
        pages += [(url_for(view, slug=row.slug, _external=True), latest[row.id]) for row in rows]
    return pages


def article_urls(chunk):
    query = (
        Article.visible()
        .select(Article.id, Article.slug, Article.updated_at)
        .order_by(Article.id)
        .paginate(chunk, SITEMAP_CHUNK)
    )
    return [
        (url_for("public.article", article_id=a.id, slug=a.slug, _external=True), a.updated_at)
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
