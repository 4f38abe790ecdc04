"""What readers see: the main page, sections, rubrics, articles, print views, authors.

Registered twice: at / for the full site and, named "text", at /text for the
text version. The views are the same; templates pick the layout.
"""

import datetime as dt

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

import dates
from caching import named, per_version, site_settings
from forms import page_number
from models import SIDEBAR_SIZE, Article, ArticleIndex, Rubric, Section, User
from sanitize import without_images
from wordpress import legacy_article, legacy_id, moved

bp = Blueprint("public", __name__)

PAGE_SIZE = 20


def in_text_version():
    return request.blueprint == "text" or request.path.startswith("/text/")


def page_url(view, **values):
    """URL of a public view in the layout being shown, so text pages link to text pages."""
    return url_for(("text." if in_text_version() else "public.") + view, **values)


def other_version_url():
    """The same page in the other layout: full <-> text, with the same query string."""
    if request.blueprint in ("public", "text") and request.url_rule:
        view = request.endpoint.split(".", 1)[1]
        target = "public." if in_text_version() else "text."
        url = url_for(target + view, **(request.view_args or {}))
        query = request.query_string.decode("latin-1")
        return f"{url}?{query}" if query else url
    return url_for("public.index" if in_text_version() else "text.index")


bp.add_app_template_filter(without_images, "without_images")


@bp.app_template_filter("localtime")
def localtime(value, fmt=dates.SHORT_FORMAT):
    """A stored naive-UTC datetime in the site's timezone, by default as the seed shows it;
    never an error, whatever is stored (dates.format_local)."""
    return dates.format_local(value, site_settings().zone, fmt)


@bp.app_context_processor
def layout_context():
    text = in_text_version()
    return {
        "site": site_settings(),
        "text_version": text,
        "layout": "text/base.html" if text else "base.html",
        "page_url": page_url,
        "section_page_holding": section_page_holding,
        "url_with_page": url_with_page,
        "other_version_url": other_version_url,
        "shared_fragment": shared_fragment,
        # Called by the templates only when they show them.
        "hot_news": lambda: named(Article.hot_news()),
        "sidebar_lists": Section.sidebar_lists,
        "sections": lambda: per_version("sections", lambda: list(Section.ordered())),
        "rubrics": lambda: per_version("rubrics", lambda: list(Rubric.ordered())),
    }


def shared_fragment(template):
    """A part every page of this layout shows alike (hot news, the sidebar lists):
    rendered once per content version, then pasted into every page."""
    return per_version(
        (template, in_text_version()), lambda: Markup(render_template(template))
    )


def section_page_holding(sidebar_page):
    """The section page that shows the titles of this page of its sidebar list."""
    return (sidebar_page - 1) * SIDEBAR_SIZE // PAGE_SIZE + 1


def url_with_page(number):
    """This page's URL with ?page=number, keeping the other query parameters."""
    view_args = request.view_args or {}
    args = {
        key: value
        for key, value in request.args.items()
        if not key.startswith("_") and key not in view_args
    }
    args["page"] = number
    return url_for(request.endpoint, **view_args, **args)


def one_page(field, value):
    """One page of the visible articles whose `field` is `value` (a section, say)."""
    condition = field == value
    # Counting 40,000 articles costs more than the page itself: once per content version.
    total = per_version(
        ("total", field.name, value.id), lambda: Article.visible_where(condition).count()
    )
    page = Article.page_of(page_number(), PAGE_SIZE, total, condition)
    if not page.exists:
        abort(404)
    page.items = named(page.items)
    return page


@bp.route("/")
def index():
    wp_id = legacy_id(request.args)  # an old WordPress link: /?p=ID or /?page_id=ID
    article = wp_id and legacy_article(wp_id)
    if article:
        return redirect(page_url("article", article_id=article.id, slug=article.slug), 301)
    return render_template("public/index.html", articles=named(Article.lead_stories()))


def old_address_redirect():
    """A 301 for an address of the WordPress site imported here (wordpress.moved), or None.

    Asked by the 404 handler only, so pages that exist pay nothing for it.
    """
    if request.method not in ("GET", "HEAD"):
        return None
    query = request.query_string.decode("utf-8", "replace")
    found = moved(request.path, query, legacy_id(request.args))
    if found is None:
        return None
    kind, row = found
    if kind == "article":
        url = page_url("article", article_id=row.id, slug=row.slug)
    elif kind.endswith("_rss"):
        url = url_for(f"feeds.{kind}", **({"slug": row.slug} if row else {}))
    else:
        url = page_url(kind, slug=row.slug)
    return redirect(url, 301)


def taxonomy_or_redirect(model, slug, view):
    """The section or rubric with this slug; an old slug answers 301 to the new one."""
    item, renamed = model.by_slug(slug)
    if renamed:
        abort(redirect(page_url(view, slug=renamed.slug, **request.args.to_dict()), 301))
    return item or abort(404)


@bp.route("/section/<slug>")
def section(slug):
    section = taxonomy_or_redirect(Section, slug, "section")
    page = one_page(Article.section, section)
    return render_template("public/list.html", taxonomy=section, kind="section", page=page)


@bp.route("/rubric/<slug>")
def rubric(slug):
    rubric = taxonomy_or_redirect(Rubric, slug, "rubric")
    page = one_page(Article.rubric, rubric)
    return render_template("public/list.html", taxonomy=rubric, kind="rubric", page=page)


@bp.route("/section/<slug>/latest")
def sidebar_list(slug):
    """A sidebar list paged in place by htmx; without htmx, the section page holding it."""
    section = Section.get_or_none(Section.slug == slug) or abort(404)
    page = page_number()
    if not request.htmx:
        return redirect(page_url("section", slug=slug, page=section_page_holding(page)))
    sidebar = section.latest(page)
    if page > 1 and not sidebar.items:
        abort(404)
    return render_template("partials/sidebar_list.html", sidebar=sidebar, announce=True)


def visible_article(article_id, slug, view):
    """The article, or a 301 to its canonical URL when the slug is missing or wrong.

    Staff also see unpublished work they may see (Article.may_view); readers get 404.
    """
    article = Article.get_visible(article_id)
    if article is None:
        article = Article.get_or_none(Article.id == article_id)
        if article is None or not article.may_view(current_user):
            abort(404)
    named([article])
    if slug != article.slug:
        abort(redirect(page_url(view, article_id=article.id, slug=article.slug), 301))
    return article


@bp.route("/articles/<id:article_id>")
@bp.route("/articles/<id:article_id>/<slug>")
def article(article_id, slug=None):
    article = visible_article(article_id, slug, "article")
    return render_template("public/article.html", article=article)


@bp.route("/articles/<id:article_id>/<slug>/print")
def print_article(article_id, slug):
    article = visible_article(article_id, slug, "print_article")
    return render_template("public/print.html", article=article)


def search_filters():
    """(peewee conditions, notes) from the search form's section, rubric and dates."""
    conditions, notes = [], []
    for name, model, field in (
        ("section", Section, Article.section),
        ("rubric", Rubric, Article.rubric),
    ):
        slug = request.args.get(name)
        if slug:
            item = model.get_or_none(model.slug == slug)
            if item:
                conditions.append(field == item)
            else:
                notes.append(f"There is no {name} “{slug}”; searched them all.")
    for name in ("from", "to"):
        raw = request.args.get(name)
        if not raw:
            continue
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            notes.append(f"“{raw}” is not a date like 2019-07-21; that limit was left out.")
            continue
        # A day beyond the dates the site holds is their end: "from 0001-01-01" is from
        # the start, as the reader meant, not an error.
        start, end = dates.day_span(day, site_settings().zone)
        conditions.append(
            Article.published_at >= start if name == "from" else Article.published_at < end
        )
    return conditions, notes


@bp.route("/search")
def search():
    text = request.args.get("q", "")
    match, note = ArticleIndex.parse(text)
    conditions, notes = search_filters()
    notes = [note, *notes] if note else notes
    results = None
    if match:
        number = page_number()
        results, capped = ArticleIndex.search(match, number, PAGE_SIZE, *conditions)
        if number > 1 and not results.exists:
            abort(404)
        results.items = named(results.items)
        if capped:
            notes.append(
                f"Showing the best {ArticleIndex.CANDIDATES:,} matches: add words or a filter "
                "to narrow the search."
            )
    return render_template(
        "public/search.html", text=text, results=results, notes=notes, searched=bool(match)
    )


@bp.app_template_filter("highlight")
def highlight(snippet):
    """A search snippet as HTML: its text escaped, the matched words in <mark>."""
    start, end = ArticleIndex.HIGHLIGHT
    escaped = str(escape(snippet or ""))
    return Markup(escaped.replace(start, "<mark>").replace(end, "</mark>"))


@bp.route("/authors/<slug>")
def author(slug):
    author = User.get_or_none((User.slug == slug) & (User.role != "reader")) or abort(404)
    page = one_page(Article.author, author)
    return render_template("public/author.html", author=author, page=page)
