"""Shared helpers of the desk tests (test_desk, test_workflow, test_revisions, browser).

A `Newsroom` is the cast every desk test needs: two editors, an author, another
author, a reader, two sections and two rubrics. Staff made here get a cheap scrypt
hash (N=1024, as in test_auth), so logging in through /auth/login costs about a
millisecond instead of the ~80 ms of the app's own hash.
"""

import datetime as dt
import html
import itertools
import re
from dataclasses import dataclass

from werkzeug.security import generate_password_hash

import factories
from models import (
    Article,
    Revision,
    Rubric,
    Section,
    SiteSettings,
    SlugRedirect,
    User,
    utcnow,
)

PASSWORD = "plum-orbit-canvas-42"
HX = {"HX-Request": "true"}
_serial = itertools.count(1)


def cheap_hash(password=PASSWORD):
    """A real scrypt hash with a small work factor: fast to check in tests."""
    return generate_password_hash(password, method="scrypt:1024:8:1")


def make_login(role, name=None):
    """A user who can log in with PASSWORD; `name` defaults to something unique."""
    n = next(_serial)
    name = name or f"{role.capitalize()} {n}"
    slug = User.unique_slug(name)
    return User.create(
        email=f"{slug}-{n}@example.org",
        password_hash=cheap_hash(),
        role=role,
        display_name=name,
        slug=slug,
    )


def log_in(client, user):
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, f"login of {user.email} failed"
    return client


# --- Articles in every state -------------------------------------------------------------------

PAST = dt.timedelta(hours=2)
FUTURE = dt.timedelta(days=2)


def state_fields(state):
    """Article fields that put an article in `state` (see Article.state)."""
    now = utcnow()
    return {
        "draft": {"status": Article.DRAFT, "published_at": None},
        "submitted": {"status": Article.SUBMITTED, "published_at": None},
        "published": {"status": Article.PUBLISHED, "published_at": now - PAST},
        "scheduled": {"status": Article.PUBLISHED, "published_at": now + FUTURE},
        "unpublished": {"status": Article.UNPUBLISHED, "published_at": now - PAST},
        "trash": {"status": Article.PUBLISHED, "published_at": now - PAST, "deleted_at": now},
    }[state]


@dataclass
class Newsroom:
    editor: User
    editor2: User
    author: User
    other_author: User
    reader: User
    news: Section
    reports: Section
    security: Rubric
    economy: Rubric

    @classmethod
    def create(cls):
        return cls(
            editor=make_login("editor", "Edna Editor"),
            editor2=make_login("editor", "Ed Second"),
            author=make_login("author", "Ann Author"),
            other_author=make_login("author", "Oscar Other"),
            reader=make_login("reader", "Rita Reader"),
            news=factories.make_section("News", position=0),
            reports=factories.make_section("Reports", position=1),
            security=factories.make_rubric("Global Security", position=0),
            economy=factories.make_rubric("Economy", position=1),
        )

    def article(self, state="draft", author=None, revision=True, **fields):
        """An article in `state` by `author` (the newsroom's author by default).

        With `revision`, version 1 is recorded as Article.new_draft records it, as for
        every article made through the desk; demo-loaded articles have none.
        """
        values = {
            "section": self.news,
            "rubric": self.security,
            "author": author or self.author,
            **state_fields(state),
            **fields,
        }
        article = factories.make_article(**values)
        if revision:
            Revision.record(article, values["author"], "created")
        return Article.get_by_id(article.id)


def fresh(article):
    return Article.get_by_id(article.id)


def revision_count(article=None):
    query = Revision.select()
    if article is not None:
        query = query.where(Revision.article == article.id)
    return query.count()


def snapshot():
    """Everything an editing request could store: compare before and after a refusal."""
    return (
        list(Article.select().order_by(Article.id).tuples()),
        list(Revision.select().order_by(Revision.id).tuples()),
        list(Section.select().order_by(Section.id).tuples()),
        list(Rubric.select().order_by(Rubric.id).tuples()),
        list(SlugRedirect.select().order_by(SlugRedirect.id).tuples()),
        SiteSettings.get_by_id(1).content_version,
    )


def article_url(article):
    article = fresh(article)
    return f"/articles/{article.id}/{article.slug}"


def text_of(response):
    return response.get_data(as_text=True)


def input_value(page, name):
    """The value of the first <input name=...> in `page`, unescaped (None if absent)."""
    for tag in re.findall(r"<input\b[^>]*>", page):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            match = re.search(r'\bvalue="([^"]*)"', tag)
            return html.unescape(match.group(1)) if match else ""
    return None


def textarea_value(page, name):
    match = re.search(
        rf'<textarea\b[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.S
    )
    return html.unescape(match.group(1)).lstrip("\r\n") if match else None


def selected_value(page, name):
    match = re.search(rf'<select\b[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    if not match:
        return None
    chosen = re.search(r"<option\b[^>]*\bselected[^>]*>", match.group(1))
    if not chosen:
        return None
    return html.unescape(re.search(r'value="([^"]*)"', chosen.group(0)).group(1))


def errors_in(page):
    """The texts of every error list item in `page`."""
    lists = re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', page, re.S)
    return [html.unescape(item) for block in lists for item in re.findall(r"<li>(.*?)</li>", block)]


def local_input(value, zone="UTC"):
    """A naive-UTC datetime as <input type=datetime-local> shows it in `zone` ("" for None)."""
    from zoneinfo import ZoneInfo

    if value is None:
        return ""
    return value.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
