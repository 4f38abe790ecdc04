"""Rows for tests, with sensible defaults; every field can be overridden.

They write through `models.database`, whichever database it points at: the `app`
fixture's, or the live server's in a test that uses `live_server`.
"""

import datetime as dt
import itertools

from models import Article, ArticleIndex, Rubric, Section, SiteSettings, User, slugify, utcnow

_serial = itertools.count(1)


def make_section(name="News", **fields):
    fields.setdefault("slug", slugify(name))
    return Section.get_or_create(slug=fields.pop("slug"), defaults={"name": name, **fields})[0]


def make_rubric(name="Global Security", **fields):
    fields.setdefault("slug", slugify(name))
    return Rubric.get_or_create(slug=fields.pop("slug"), defaults={"name": name, **fields})[0]


def make_user(display_name="Test Author", role="author", **fields):
    fields.setdefault("slug", slugify(display_name))
    defaults = {"display_name": display_name, "role": role, **fields}
    return User.get_or_create(slug=fields.pop("slug"), defaults=defaults)[0]


def make_article(**fields):
    """A published article, visible to readers, unless `fields` say otherwise.

    `section`, `rubric` and `author` default to shared rows ("News", "Global
    Security", "Test Author"). `body` is stored as given: keep overrides clean
    HTML, as the app only ever stores the output of sanitize.clean_html.
    """
    title = fields.pop("title", f"Test article {next(_serial)}")
    values = {
        "title": title,
        "slug": slugify(title),
        "lead": f"The lead of {title}.",
        "body": f"<p>The body of {title}.</p>",
        "status": Article.PUBLISHED,
        # A minute ago: visible now, and later calls still sort as newer.
        "published_at": utcnow() - dt.timedelta(minutes=1),
        **fields,
    }
    for field, make in (("section", make_section), ("rubric", make_rubric), ("author", make_user)):
        if field not in values:
            values[field] = make()
    article = Article.create(**values)
    ArticleIndex.store(article)  # as every save does
    # Public pages are cached by the content version: readers must see the new row.
    SiteSettings.bump_content_version()
    return article


def make_draft(author, **fields):
    """A draft by `author` in the site's first section and rubric, wherever they came from
    (the live server's demo content, say)."""
    return make_article(
        status=Article.DRAFT,
        published_at=None,
        section=Section.ordered().first(),
        rubric=Rubric.ordered().first(),
        author=author,
        **fields,
    )
