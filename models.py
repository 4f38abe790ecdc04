"""Newsdesk's data: the Peewee models and the queries the site runs on them.

Every datetime in the database is naive UTC; templates convert to the site's
timezone for display.
"""

import datetime as dt
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass

from peewee import (
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    fn,
)

database = DatabaseProxy()

SIDEBAR_SIZE = 8  # titles in each section's sidebar list, as on the seed page

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
    "cache_size": -16000,
    "journal_size_limit": 64 * 1024 * 1024,  # a big import's WAL shrinks back afterwards
}


def utcnow():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def slugify(text, max_length=80):
    """ASCII slug for URLs: 'Are Russia and the US…?' -> 'are-russia-and-the-us'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "article"


class BaseModel(Model):
    class Meta:
        database = database


class User(BaseModel):
    """An account; authors are users with a public profile (display name, slug, bio).

    Contributors who never log in have no email or password.
    """

    ROLES = ("reader", "author", "editor", "admin")  # each may do all the previous may

    email = CharField(null=True, unique=True)  # stored lower-cased
    password_hash = CharField(null=True)
    role = CharField(default="reader")
    active = BooleanField(default=True)
    display_name = CharField()
    slug = CharField(unique=True)
    bio = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    # Sessions carry this token, not the id: replacing it (new password, deactivation)
    # ends every session and remember-me cookie of the account, and spends reset links.
    login_token = CharField(default=lambda: secrets.token_urlsafe(24), index=True)

    # Flask-Login's user protocol
    is_anonymous = False

    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return self.login_token

    def has_role(self, role):
        return self.ROLES.index(self.role) >= self.ROLES.index(role)

    @property
    def is_staff(self):
        return self.has_role("author")

    def rotate_login_token(self):
        self.login_token = secrets.token_urlsafe(24)

    @classmethod
    def by_email(cls, email):
        return cls.get_or_none(cls.email == (email or "").strip().lower())

    @classmethod
    def unique_slug(cls, name):
        base = slugify(name, max_length=60)
        slug, n = base, 1
        while cls.select().where(cls.slug == slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    @classmethod
    def admin_count(cls):
        return cls.select().where((cls.role == "admin") & cls.active).count()


class LoginFailure(BaseModel):
    """A failed login, by account and by address: the throttle counts these.

    Kept in the database so every worker process sees the same count.
    """

    key = CharField(index=True)  # "email:<address>" or "ip:<address>"
    at = DateTimeField(default=utcnow)

    @classmethod
    def recent(cls, key, since):
        return cls.select(fn.COUNT(cls.id), fn.MAX(cls.at)).where(
            (cls.key == key) & (cls.at > since)
        ).tuples().first()

    @classmethod
    def forget(cls, key):
        cls.delete().where(cls.key == key).execute()


class Taxonomy(BaseModel):
    """Fields shared by sections (kind of piece) and rubrics (topic)."""

    name = CharField()
    slug = CharField(unique=True)
    position = IntegerField(default=0)

    @classmethod
    def ordered(cls):
        return cls.select().order_by(cls.position, cls.name)


class Section(Taxonomy):
    def latest(self, page=1, per_page=SIDEBAR_SIZE):
        """One page of this section's newest titles, for its sidebar list."""
        rows = list(
            Article.newest_first(
                Article.visible_where(Article.section == self).select(
                    Article.id, Article.title, Article.slug, Article.published_at
                )
            )
            .limit(per_page + 1)
            .offset((page - 1) * per_page)
        )
        return SidebarList(self, rows[:per_page], page, has_next=len(rows) > per_page)

    @classmethod
    def sidebar_lists(cls):
        return [section.latest() for section in cls.ordered()]


class Rubric(Taxonomy):
    pass


class SiteSettings(BaseModel):
    """The one row of site-wide settings, plus the content version every save bumps."""

    name = CharField(default="Newsdesk")
    tagline = CharField(default="")
    founded_line = CharField(default="")
    copyright_line = CharField(default="")
    timezone = CharField(default="UTC")
    registration_open = BooleanField(default=True)
    content_version = IntegerField(default=1)
    content_changed_at = DateTimeField(default=utcnow)

    @classmethod
    def load(cls):
        """The settings row with `latest_published`, the freshness key of public pages.

        `content_version` changes on every save; `latest_published` changes when a
        scheduled article's time arrives. Together they tell whether anything a
        reader can see has changed, in one indexed query.
        """
        latest = Article.visible().select(fn.MAX(Article.published_at))
        row = cls.select(cls, latest.alias("latest_published")).where(cls.id == 1).first()
        if row is None:
            cls.insert(id=1).on_conflict_ignore().execute()
            return cls.load()
        row.latest_published = Article.published_at.python_value(row.latest_published)
        return row

    @classmethod
    def bump_content_version(cls):
        cls.update(content_version=cls.content_version + 1, content_changed_at=utcnow()).where(
            cls.id == 1
        ).execute()

    @property
    def last_modified(self):
        """When public pages last changed: a save, or a scheduled article going live."""
        return max(filter(None, (self.content_changed_at, self.latest_published)))


class Article(BaseModel):
    DRAFT, SUBMITTED, PUBLISHED, UNPUBLISHED = "draft", "submitted", "published", "unpublished"

    title = CharField(max_length=300)
    slug = CharField(max_length=200)
    lead = TextField(default="")
    body = TextField(default="")  # sanitized HTML: written only through sanitize.clean_html
    section = ForeignKeyField(Section, backref="articles")
    rubric = ForeignKeyField(Rubric, backref="articles")
    author = ForeignKeyField(User, backref="articles")
    hot = BooleanField(default=False)
    status = CharField(default=DRAFT)
    published_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)
    deleted_at = DateTimeField(null=True)

    class Meta:
        # Each public list filters on (its key, status, deleted_at) and orders by
        # published_at: these indexes answer those lists and their counts alone.
        indexes = (
            (("status", "deleted_at", "published_at"), False),
            (("section", "status", "deleted_at", "published_at"), False),
            (("rubric", "status", "deleted_at", "published_at"), False),
            (("author", "status", "deleted_at", "published_at"), False),
            (("hot", "status", "deleted_at", "published_at"), False),
        )

    @classmethod
    def visible(cls, now=None):
        """What readers may see: published, publication time passed, not in the trash.

        Every public list, feed, sitemap and article URL starts from this query.
        """
        return cls.select().where(
            (cls.status == cls.PUBLISHED)
            & cls.deleted_at.is_null()
            & (cls.published_at <= (now or utcnow()))
        )

    @classmethod
    def visible_where(cls, *conditions):
        query = cls.visible()
        return query.where(*conditions) if conditions else query

    @classmethod
    def newest_first(cls, query):
        return query.order_by(cls.published_at.desc(), cls.id.desc())

    @classmethod
    def listing(cls, *conditions):
        """Visible articles, newest first, with section, rubric and author joined in."""
        return cls.newest_first(
            cls.visible_where(*conditions)
            .select(cls, Section, Rubric, User)
            .join_from(cls, Section)
            .join_from(cls, Rubric)
            .join_from(cls, User)
        )

    @classmethod
    def page_of(cls, page, per_page, *conditions):
        """One page of `listing(*conditions)`.

        The page's ids come from the covering index alone, so page 500 costs
        little more than page 1; only those rows are then joined.
        """
        total = cls.visible_where(*conditions).count()
        ids = cls.newest_first(cls.visible_where(*conditions).select(cls.id)).paginate(
            page, per_page
        )
        return Pagination(cls.listing(cls.id.in_(ids)), total, page, per_page)

    @classmethod
    def hot_news(cls, limit=5):
        return cls.listing(cls.hot == True).limit(limit)  # noqa: E712 (peewee expression)

    @classmethod
    def lead_stories(cls, limit=10):
        return cls.listing().limit(limit)

    @classmethod
    def get_visible(cls, article_id):
        """The visible article with this id, or None."""
        return cls.listing(cls.id == article_id).first()

    @property
    def is_scheduled(self):
        return self.status == self.PUBLISHED and self.published_at > utcnow()


@dataclass
class SidebarList:
    section: Section
    items: list
    page: int
    has_next: bool

    @property
    def has_previous(self):
        return self.page > 1


class Pagination:
    """One page of a list. `page` is 1-based; a page past the end is empty."""

    def __init__(self, items_query, total, page, per_page):
        self.page = page
        self.per_page = per_page
        self.total = total
        self.pages = max(1, math.ceil(total / per_page))
        self.items = list(items_query) if page <= self.pages else []

    @property
    def has_previous(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def exists(self):
        return self.page <= self.pages


MODELS = (User, LoginFailure, Section, Rubric, SiteSettings, Article)


def create_tables():
    with database.atomic():
        database.create_tables(MODELS, safe=True)
        SiteSettings.insert(id=1).on_conflict_ignore().execute()
