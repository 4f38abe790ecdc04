"""Newsdesk's data: the Peewee models and the queries the site runs on them.

Every datetime in the database is naive UTC; templates convert to the site's
timezone for display.
"""

import datetime as dt
import json
import math
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache

from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
    fn,
)
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

from databases import HIGHLIGHT, SearchTerm
from sanitize import fold_yo, images_missing_alt, index_text

database = DatabaseProxy()

SCHEMA_VERSION = 3  # the schema these models describe: bump with a step in migrations.py

SIDEBAR_SIZE = 8  # titles in each section's sidebar list, as on the seed page


def write_transaction():
    """A transaction no other writer can interleave with, from its first read to its commit.

    For every read-then-write (a version check, the last-admin check): see
    databases.py for how SQLite and PostgreSQL each provide it.
    """
    return database.write_transaction()


@cache
def stamp_beside(filename):
    return os.path.realpath(filename) + "-stamp"


def content_stamp_path():
    """The file beside a SQLite database that changes after every committed content change.

    Every worker process reads it on every request (caching.py): a few microseconds
    tell whether its cached pages are still current, without asking the database.
    Other databases have no such file: their app servers may share nothing else.
    """
    db = database.obj
    if isinstance(db, SqliteDatabase) and db.database not in ("", ":memory:"):
        return stamp_beside(db.database)
    return None


def read_content_stamp():
    """A token that changes after every committed content change (caching.py)."""
    path = content_stamp_path()
    if path is None:  # PostgreSQL: the content version itself, one indexed lookup away
        table = SiteSettings._meta.table_name
        row = database.execute_sql(f'SELECT content_version FROM "{table}" WHERE id = 1').fetchone()
        return row and str(row[0])
    try:
        with open(path) as stamp:
            return stamp.read(64)
    except FileNotFoundError:
        # A database from before stamps, or a new one: start one. Exclusive create, so
        # a stamp a save has just written is never replaced by this older one.
        try:
            return write_content_stamp(exclusive=True)
        except FileExistsError:
            return read_content_stamp()


def write_content_stamp(exclusive=False):
    """A new stamp. Written whole then renamed: readers never see a torn one."""
    path = content_stamp_path()
    if path is None:
        return None
    token = secrets.token_hex(16)
    temporary = f"{path}.{token}"
    with open(temporary, "w") as stamp:
        stamp.write(token)
    if exclusive:
        try:
            os.link(temporary, path)  # fails if the stamp exists
        finally:
            os.unlink(temporary)
    else:
        os.replace(temporary, path)
    return token


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
        return (
            cls.select(fn.COUNT(cls.id), fn.MAX(cls.at))
            .where((cls.key == key) & (cls.at > since))
            .tuples()
            .first()
        )

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
        return cls.select().order_by(cls.position, cls.name, cls.id)

    def rename(self, name, slug):
        """New name and slug; the old slug keeps redirecting to this one."""
        kind = type(self).__name__.lower()
        with database.atomic():
            if slug != self.slug:
                SlugRedirect.delete().where(
                    (SlugRedirect.kind == kind) & (SlugRedirect.old_slug == slug)
                ).execute()
                SlugRedirect.insert(kind=kind, old_slug=self.slug, target_id=self.id).on_conflict(
                    conflict_target=[SlugRedirect.kind, SlugRedirect.old_slug],
                    update={SlugRedirect.target_id: self.id},
                ).execute()
            self.name, self.slug = name, slug
            self.save()
            SiteSettings.bump_content_version()

    @classmethod
    def by_slug(cls, slug):
        """(item, None) for a current slug, (None, item) for an old one, else (None, None)."""
        item = cls.get_or_none(cls.slug == slug)
        if item:
            return item, None
        old = SlugRedirect.get_or_none(
            (SlugRedirect.kind == cls.__name__.lower()) & (SlugRedirect.old_slug == slug)
        )
        return None, (cls.get_or_none(cls.id == old.target_id) if old else None)

    def move(self, offset):
        """Swap places with the neighbour above (-1) or below (+1)."""
        with write_transaction():
            siblings = list(type(self).ordered())
            index = next(i for i, item in enumerate(siblings) if item.id == self.id)
            other = index + offset
            if not 0 <= other < len(siblings):
                return
            for position, item in enumerate(siblings):
                item.position = position
            siblings[index].position, siblings[other].position = other, index
            for item in siblings:
                item.save()
            SiteSettings.bump_content_version()

    def in_use(self):
        field = Article.section if isinstance(self, Section) else Article.rubric
        return Article.select().where(field == self).exists()


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
    # Set by seed-demo on the database it filled: demo logins are made there and nowhere else.
    demo = BooleanField(default=False)

    @classmethod
    def load(cls):
        """The settings row with the freshness of public pages, in one indexed query.

        `content_version` changes on every save; `latest_published` changes when a
        scheduled article's time arrives, and `next_scheduled` says when that will be.
        """
        now = utcnow()
        latest = Article.visible(now).select(fn.MAX(Article.published_at))
        upcoming = Article.select(fn.MIN(Article.published_at)).where(
            Article.published() & (Article.published_at > now)
        )
        row = (
            cls.select(cls, latest.alias("latest_published"), upcoming.alias("next_scheduled"))
            .where(cls.id == 1)
            .first()
        )
        if row is None:
            cls.insert(id=1).on_conflict_ignore().execute()
            return cls.load()
        row.latest_published = Article.published_at.python_value(row.latest_published)
        row.next_scheduled = Article.published_at.python_value(row.next_scheduled)
        return row

    @classmethod
    def bump_content_version(cls):
        cls.update(content_version=cls.content_version + 1, content_changed_at=utcnow()).where(
            cls.id == 1
        ).execute()
        database.after_commit(write_content_stamp)

    @property
    def schedule_due(self):
        """Whether a scheduled article has gone live since this row was read."""
        return self.next_scheduled is not None and utcnow() >= self.next_scheduled

    @property
    def freshness_key(self):
        """Changes whenever anything a reader can see changes."""
        return (self.content_version, self.latest_published)

    @property
    def last_modified(self):
        """When public pages last changed: a save, or a scheduled article going live."""
        return max(filter(None, (self.content_changed_at, self.latest_published)))


class Media(BaseModel):
    """An uploaded image, stored by media.py as `<hash>.<ext>` plus narrower copies.

    One row per distinct file: uploading the same picture again finds this row.
    `variants` is JSON: [[width, bytes], …] of the narrower copies `<hash>-<width>.<ext>`.
    """

    CONTENT_TYPES = {
        "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
    }  # fmt: skip
    URL_PREFIX = "/media/"

    hash = CharField(max_length=64, unique=True)  # sha256 of the stored full-width file
    ext = CharField(max_length=4)  # jpg, png, webp or gif
    width = IntegerField()
    height = IntegerField()
    size = IntegerField()  # bytes of the full-width file
    variants = TextField(default="[]")
    alt = TextField(default="")
    uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    @property
    def filename(self):
        return f"{self.hash}.{self.ext}"

    @property
    def url(self):
        return self.URL_PREFIX + self.filename

    @property
    def content_type(self):
        return self.CONTENT_TYPES[self.ext]

    @property
    def renditions(self):
        """[(width, height, filename, bytes)], narrowest first, the full-width file last."""
        result = [
            (w, max(1, round(self.height * w / self.width)), f"{self.hash}-{w}.{self.ext}", size)
            for w, size in sorted(json.loads(self.variants or "[]"))
        ]
        return [*result, (self.width, self.height, self.filename, self.size)]

    @property
    def widths(self):
        return [width for width, *_ in self.renditions]

    def rendition(self, max_width):
        """The widest rendition no wider than `max_width` (else the narrowest one)."""
        fitting = [r for r in self.renditions if r[0] <= max_width]
        return fitting[-1] if fitting else self.renditions[0]

    def url_of(self, filename):
        return self.URL_PREFIX + filename

    @property
    def srcset(self):
        return ", ".join(f"{self.url_of(name)} {w}w" for w, _, name, _ in self.renditions)

    @property
    def has_alt(self):
        return bool(self.alt.strip())


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
    lead_image = ForeignKeyField(Media, null=True, on_delete="SET NULL")

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
        return cls.select().where(cls.published() & (cls.published_at <= (now or utcnow())))

    @classmethod
    def published(cls):
        """The condition of published articles, out of the trash: visible, or scheduled."""
        return (cls.status == cls.PUBLISHED) & cls.deleted_at.is_null()

    @classmethod
    def visible_where(cls, *conditions, now=None):
        query = cls.visible(now)
        return query.where(*conditions) if conditions else query

    @classmethod
    def newest_first(cls, query):
        return query.order_by(cls.published_at.desc(), cls.id.desc())

    @classmethod
    def summaries(cls, query):
        """`query` selecting what lists show: no body (most of a row), nothing only the
        newsroom needs. Directory.attach adds names and lead images."""
        return query.select(
            cls.id, cls.title, cls.slug, cls.lead, cls.section, cls.rubric, cls.author,
            cls.published_at, cls.lead_image,
        )  # fmt: skip

    @classmethod
    def listing(cls, *conditions, body=False, now=None):
        """Visible articles, newest first: whole, or as `summaries` for lists."""
        query = cls.visible_where(*conditions, now=now)
        return cls.newest_first(query if body else cls.summaries(query))

    @classmethod
    def page_of(cls, page, per_page, total, *conditions):
        """One page of `listing(*conditions)`, of `total` articles in all.

        The page's ids come from the covering index alone, so page 500 costs
        little more than page 1; then only those rows are read. Callers keep the
        total, which costs more than a page to count.
        """
        ids = [
            row.id
            for row in cls.newest_first(cls.visible_where(*conditions).select(cls.id)).paginate(
                page, per_page
            )
        ]
        items = cls.newest_first(cls.summaries(cls.select()).where(cls.id.in_(ids)))
        return Pagination(items, total, page, per_page)

    @classmethod
    def hot_news(cls, limit=5):
        return cls.listing(cls.hot == True).limit(limit)  # noqa: E712 (peewee expression)

    @classmethod
    def lead_stories(cls, limit=10):
        """The main page's list, as a list."""
        return LEAD_STORIES(utcnow(), limit)

    @classmethod
    def get_visible(cls, article_id):
        """The visible article with this id, or None."""
        found = VISIBLE_ARTICLE(utcnow(), article_id)
        return found[0] if found else None

    @property
    def is_scheduled(self):
        return (
            self.status == self.PUBLISHED
            and self.published_at is not None
            and self.published_at > utcnow()
        )

    # --- Editing -------------------------------------------------------------------------

    # Authors write; what is published, when, under whose name and whether it is
    # hot are the editors' calls.
    AUTHOR_FIELDS = ("title", "lead", "body", "section", "rubric", "lead_image")
    EDITOR_FIELDS = (*AUTHOR_FIELDS, "hot", "author", "published_at")

    STATES = ("draft", "submitted", "scheduled", "published", "unpublished", "trash")

    @property
    def state(self):
        """draft, submitted, scheduled, published, unpublished or trash."""
        if self.deleted_at:
            return "trash"
        return "scheduled" if self.is_scheduled else self.status

    def may_view(self, user):
        """Staff see unpublished work: editors all of it, authors their own."""
        return user.is_authenticated and (
            user.has_role("editor") or (user.has_role("author") and self.author_id == user.id)
        )

    def editable_fields(self, user):
        if not user.is_authenticated or self.deleted_at:
            return ()
        if user.has_role("editor"):
            return self.EDITOR_FIELDS
        own_draft = self.author_id == user.id and self.status == self.DRAFT
        return self.AUTHOR_FIELDS if user.has_role("author") and own_draft else ()

    def allowed_actions(self, user):
        """The workflow steps `user` may take now, by name (see WORKFLOW)."""
        return [
            name
            for name, (states, role, own_ok) in WORKFLOW.items()
            if self.state in states
            and user.is_authenticated
            and (
                user.has_role(role)
                or (own_ok and user.has_role("author") and self.author_id == user.id)
            )
        ]

    @classmethod
    def new_draft(cls, title, section, rubric, author):
        with database.atomic():
            article = cls.create(
                title=title, slug=slugify(title), section=section, rubric=rubric, author=author
            )
            ArticleIndex.store(article)
            Revision.record(article, author, "created")
            SiteSettings.bump_content_version()
        return article

    def save_changes(self, changes, base_version, editor, action="edited"):
        """Apply `changes` (field -> value) made from `base_version`, as one revision.

        Refuses with EditConflict when someone saved since `base_version`: no save
        overwrites another. Everything happens in one transaction, taken with a
        write lock from the start so the version check and the write cannot interleave
        with another save.
        """
        with write_transaction():
            current = Article.get_by_id(self.id)
            if current.version != base_version:
                raise EditConflict(current, Revision.since(current, base_version))
            Revision.keep_baseline(current)
            for field, value in changes.items():
                setattr(current, field, value)
            if "title" in changes:
                current.slug = slugify(current.title)
            current.version += 1
            current.updated_at = utcnow()
            current.save()
            ArticleIndex.store(current)
            Revision.record(current, editor, action)
            SiteSettings.bump_content_version()
        return current

    def take_action(self, name, base_version, editor, publish_at=None):
        """Move through the workflow: submit, publish, schedule, unpublish, trash…"""
        if name not in self.allowed_actions(editor):
            raise PermissionError(name)
        now = utcnow()
        changes = {
            "submit": {"status": self.SUBMITTED},
            "return_to_draft": {"status": self.DRAFT},
            "publish": {"status": self.PUBLISHED, "published_at": now},
            "schedule": {"status": self.PUBLISHED, "published_at": publish_at},
            "unpublish": {"status": self.UNPUBLISHED},
            "trash": {"deleted_at": now},
            "restore": {"deleted_at": None},
        }[name]
        if name == "schedule" and (publish_at is None or publish_at <= now):
            raise ValueError("Choose a publication time in the future.")
        if name in ("publish", "schedule"):
            self.check_alt_text()
        return self.save_changes(changes, base_version, editor, action=name.replace("_", " "))

    @property
    def is_live(self):
        """Published or scheduled: what is saved reaches readers without another step."""
        return self.state in ("published", "scheduled")

    @staticmethod
    def missing_alt_text(body, then):
        """What to tell the editor while images of `body` have no alt text, or None."""
        missing = images_missing_alt(body)
        if not missing:
            return None
        images = "An image" if missing == 1 else f"{missing} images"
        return (
            f"{images} in the text {'has' if missing == 1 else 'have'} no alt text. "
            f"Describe each image for readers who cannot see it, then {then}."
        )

    def check_alt_text(self):
        """Refuse (ValueError) while an image of the text or the lead image has no alt text."""
        problem = self.missing_alt_text(self.body, then="publish")
        if problem:
            raise ValueError(problem)
        if self.lead_image_id and not Media.get_by_id(self.lead_image_id).has_alt:
            raise ValueError(
                "The lead image has no alt text. Describe it for readers who cannot see it, "
                "then publish."
            )

    @classmethod
    def empty_trash(cls):
        with database.atomic():
            trashed = cls.select(cls.id).where(cls.deleted_at.is_null(False))
            Revision.delete().where(Revision.article.in_(trashed)).execute()
            ArticleIndex.delete().where(ArticleIndex.rowid.in_(trashed)).execute()
            count = cls.delete().where(cls.deleted_at.is_null(False)).execute()
            SiteSettings.bump_content_version()
        return count

    @classmethod
    def desk_list(cls, state=None, section=None, author=None, order="updated"):
        """Articles for the newsroom dashboard, filtered by state, section and author."""
        query = cls.select()
        now = utcnow()
        published = cls.published()
        state_filters = {
            "draft": (cls.status == cls.DRAFT) & cls.deleted_at.is_null(),
            "submitted": (cls.status == cls.SUBMITTED) & cls.deleted_at.is_null(),
            "scheduled": published & (cls.published_at > now),
            "published": published & (cls.published_at <= now),
            "unpublished": (cls.status == cls.UNPUBLISHED) & cls.deleted_at.is_null(),
            "trash": cls.deleted_at.is_null(False),
        }
        query = query.where(state_filters[state] if state else cls.deleted_at.is_null())
        if section:
            query = query.where(cls.section == section)
        if author:
            query = query.where(cls.author == author)
        orders = {
            "updated": (cls.updated_at.desc(), cls.id.desc()),
            "published": (cls.published_at.desc(nulls="LAST"), cls.id.desc()),
            "title": (fn.LOWER(cls.title), cls.id),
        }
        return query.order_by(*orders[order])


# action -> (states it starts from, role that may take it, whether the author may on
# their own article)
WORKFLOW = {
    "submit": ({"draft"}, "editor", True),
    "return_to_draft": ({"submitted", "unpublished"}, "editor", True),
    "publish": ({"draft", "submitted", "unpublished", "scheduled"}, "editor", False),
    "schedule": ({"draft", "submitted", "unpublished", "scheduled"}, "editor", False),
    "unpublish": ({"published", "scheduled"}, "editor", False),
    "trash": ({"draft", "submitted", "scheduled", "published", "unpublished"}, "editor", False),
    "restore": ({"trash"}, "editor", False),
}


class EditConflict(Exception):
    """A save made from an old version; carries the current article and what changed."""

    def __init__(self, current, revisions):
        super().__init__(f"article {current.id} is at version {current.version}")
        self.current = current
        self.revisions = revisions


class Revision(BaseModel):
    """Every save of an article, whole: who, when, and every field as it then was.

    Section, rubric and author are kept as plain ids so that a revision never
    blocks deleting or renaming them.
    """

    article = ForeignKeyField(Article, backref="revisions", on_delete="CASCADE")
    version = IntegerField()
    editor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    action = CharField(default="edited")
    created_at = DateTimeField(default=utcnow)
    title = CharField(max_length=300)
    lead = TextField()
    body = TextField()
    section_id = IntegerField()
    rubric_id = IntegerField()
    author_id = IntegerField()
    hot = BooleanField()
    status = CharField()
    published_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True)
    lead_image_id = IntegerField(null=True)

    SNAPSHOT_FIELDS = (
        "title", "lead", "body", "section_id", "rubric_id", "author_id", "hot", "status",
        "published_at", "deleted_at", "lead_image_id",
    )  # fmt: skip

    class Meta:
        indexes = ((("article", "version"), True),)

    @classmethod
    def record(cls, article, editor, action):
        snapshot = {field: getattr(article, field) for field in cls.SNAPSHOT_FIELDS}
        return cls.create(
            article=article, version=article.version, editor=editor, action=action, **snapshot
        )

    @classmethod
    def keep_baseline(cls, article):
        """Record the article as it is, if no revision has (imported or seeded articles)."""
        has_one = cls.select().where((cls.article == article) & (cls.version == article.version))
        if not has_one.exists():
            cls.record(article, None, "as imported")

    @classmethod
    def since(cls, article, version):
        return list(
            cls.select(cls, User)
            .join(User, JOIN.LEFT_OUTER, on=(cls.editor == User.id))
            .where((cls.article == article) & (cls.version > version))
            .order_by(cls.version)
        )

    @classmethod
    def history(cls, article):
        return (
            cls.select(cls, User)
            .join(User, JOIN.LEFT_OUTER, on=(cls.editor == User.id))
            .where(cls.article == article)
            .order_by(cls.version.desc())
        )

    def restorable_changes(self):
        """(fields to set back, names kept as they are).

        A section, rubric or author deleted since (or an author who is no longer
        staff) cannot come back: the article keeps its current one.
        """
        changes = {
            "title": self.title,
            "lead": self.lead,
            "body": self.body,
            "hot": self.hot,
            "published_at": self.published_at,
        }
        still_there = {
            "section": Section.select().where(Section.id == self.section_id),
            "rubric": Rubric.select().where(Rubric.id == self.rubric_id),
            "author": User.select().where((User.id == self.author_id) & (User.role != "reader")),
        }
        kept = []
        for name, query in still_there.items():
            if query.exists():
                changes[name] = getattr(self, f"{name}_id")
            else:
                kept.append(name)
        if self.lead_image_id is None or Media.get_or_none(Media.id == self.lead_image_id):
            changes["lead_image"] = self.lead_image_id
        else:
            kept.append("lead image")
        return changes, kept


class ArticleIndex(FTS5Model):
    """Full-text index of every article: the plain text of its title, lead and body.

    Its rowid is the article's id. Searches join it to `Article.visible()`, so drafts,
    scheduled and trashed articles are indexed but never found by readers, and a
    scheduled article is found once its time comes without re-indexing.

    On SQLite an FTS5 table; on PostgreSQL a table with a weighted tsvector. What
    differs is in databases.py (`database.search_*`); what readers see is the same.
    """

    rowid = RowIDField()
    title = SearchField()
    lead = SearchField()
    body = SearchField()

    class Meta:
        database = database
        # unicode61 folds case and, with remove_diacritics 2, accents (é = e). "word*"
        # works without prefix indexes, which would triple build time and add 40% size.
        options = {"tokenize": "unicode61 remove_diacritics 2"}

    HIGHLIGHT = HIGHLIGHT  # markers around matched words in snippets

    @staticmethod
    def text_of(article):
        return {
            "title": index_text(article.title),
            "lead": index_text(article.lead),
            "body": index_text(article.body, html=True),
        }

    @classmethod
    def store(cls, article):
        cls.delete().where(cls.rowid == article.id).execute()
        database.search_insert(cls, [{"rowid": article.id, **cls.text_of(article)}])

    @classmethod
    def rebuild(cls, progress=None, batch=1000):
        """Index every article anew, in one transaction."""
        with database.atomic():
            cls.delete().execute()
            total = Article.select().count()
            last_id, done = 0, 0
            while True:
                rows = list(
                    Article.select(Article.id, Article.title, Article.lead, Article.body)
                    .where(Article.id > last_id)
                    .order_by(Article.id)
                    .limit(batch)
                )
                if not rows:
                    break
                database.search_insert(cls, [{"rowid": a.id, **cls.text_of(a)} for a in rows])
                last_id, done = rows[-1].id, done + len(rows)
                if progress:
                    progress(done, total)
        return done

    MAX_QUERY_LENGTH = 200
    MAX_TERMS = 12

    @classmethod
    def parse(cls, text):
        """(search terms, note) for what a reader typed, or (None, note).

        Readers type words, "quoted phrases" and word* prefixes. Everything else —
        operators, parentheses, column filters, NEAR, control characters — is taken
        as plain text: the terms hold only words, and each database builds its query
        from quoted words alone, so no input can be query syntax.
        """
        text = fold_yo(text or "")
        note = None
        if len(text) > cls.MAX_QUERY_LENGTH:
            text = text[: cls.MAX_QUERY_LENGTH]
            note = f"Only the first {cls.MAX_QUERY_LENGTH} characters were searched."
        terms = []
        for phrase, word in re.findall(r'"([^"]*)"|(\w+\*?)', text):
            if phrase:
                words = re.findall(r"\w+", phrase)
                if words:
                    terms.append(SearchTerm(words))
            elif word:
                terms.append(SearchTerm([word.rstrip("*")], prefix=word.endswith("*")))
        if len(terms) > cls.MAX_TERMS:
            terms = terms[: cls.MAX_TERMS]
            note = f"Only the first {cls.MAX_TERMS} words were searched."
        return (tuple(terms) or None), note

    # Unfiltered searches rank this many best matches, not every match: a word in most
    # articles would otherwise cost a join and a sort over all of them.
    CANDIDATES = 1000

    @classmethod
    def search(cls, terms, page, per_page, *conditions):
        """One page of visible articles matching `terms` (from parse), best first.

        Relevance is bm25 on SQLite, ts_rank on PostgreSQL (title weighted above lead
        above body), nudged towards recent articles. Returns the page and whether the
        candidates were capped (then the total is a lower bound).
        """
        matches = database.search_match(cls, terms)
        relevance = database.search_relevance(cls, terms)
        ranked = cls.select(cls.rowid, relevance.alias("relevance")).where(matches)
        # Cheap: walks the match list without ranking it.
        capped = not conditions and (
            cls.select(cls.rowid).where(matches).offset(cls.CANDIDATES).limit(1).exists()
        )
        if capped:
            ranked = ranked.order_by(relevance).limit(cls.CANDIDATES)
        best = ranked.alias("best")
        order = database.search_order(best.c.relevance, Article.published_at, utcnow())
        query = (
            Article.summaries(Article.visible_where(*conditions))
            .join_from(Article, best, on=(best.c.rowid == Article.id))
            .order_by(order, Article.id.desc())
        )
        total = query.count()
        results = Pagination(query.paginate(page, per_page), total, page, per_page)
        cls.attach_snippets(terms, results.items)
        return results, capped

    @classmethod
    def attach_snippets(cls, terms, articles):
        """Set `snippet` on each article: its best passage, matched words marked."""
        if not articles:
            return
        snippets = database.search_snippets(cls, terms, [a.id for a in articles])
        for article in articles:
            article.snippet = snippets.get(article.id, "")


class SlugRedirect(BaseModel):
    """An old section or rubric slug, so its URLs keep working after a rename."""

    kind = CharField()  # "section" or "rubric"
    old_slug = CharField()
    target_id = IntegerField()

    class Meta:
        indexes = ((("kind", "old_slug"), True),)


class LegacyPost(BaseModel):
    """A post imported from WordPress (wordpress.py): its old id and permalink, for 301s."""

    wp_id = IntegerField(unique=True)
    post_type = CharField(default="post")
    slug = CharField(index=True)  # WordPress's post_name, percent-decoded, lower-cased
    year = IntegerField(null=True)  # of the post's local date, as its permalink shows it
    month = IntegerField(null=True)
    day = IntegerField(null=True)
    article = ForeignKeyField(Article, on_delete="CASCADE")


@dataclass
class SidebarList:
    section: Section
    items: list
    page: int
    has_next: bool

    @property
    def has_previous(self):
        return self.page > 1


class PreparedQuery:
    """A hot read whose SQL Peewee builds once per kind of database, then runs with new values.

    Building a query's SQL costs Peewee several times what the database takes to run it.
    `build(*values)` returns the query; each value must come out as one parameter of the
    SQL, unchanged, which the first call checks: if not, Peewee builds it every time.
    """

    def __init__(self, build):
        self.build = build
        self.prepared = {}  # database class -> (model, sql, params, positions), or None

    def __call__(self, *values):
        kind = type(database.obj)
        if kind not in self.prepared:
            query = self.build(*values)
            sql, params = query.sql()
            found = [
                [i for i, param in enumerate(params) if (type(param), param) == (type(v), v)]
                for v in values
            ]
            usable = all(len(positions) == 1 for positions in found)
            positions = [positions[0] for positions in found]
            self.prepared[kind] = (query.model, sql, params, positions) if usable else None
            return list(query)
        if self.prepared[kind] is None:
            return list(self.build(*values))
        model, sql, params, positions = self.prepared[kind]
        params = list(params)
        for position, value in zip(positions, values, strict=True):
            params[position] = value
        return list(model.raw(sql, *params))


# The main page's list and the article page's article: the most frequent reads.
LEAD_STORIES = PreparedQuery(lambda now, limit: Article.listing(now=now).limit(limit))
VISIBLE_ARTICLE = PreparedQuery(
    lambda now, article_id: Article.listing(Article.id == article_id, body=True, now=now)
)


class Directory:
    """Sections, rubrics and authors by id, set on listed articles in place of a join.

    Peewee takes several times longer to build a five-table join's SQL than SQLite takes
    to run it. These rows are few and change only with content, so the site keeps one
    Directory per content version (caching.named); lead images, which are many, are
    fetched for each list in one query.
    """

    def __init__(self):
        self.rows = {
            "section": {row.id: row for row in Section.select()},
            "rubric": {row.id: row for row in Rubric.select()},
            # The staff; anyone else (a former author, say) is added when an article needs them.
            "author": {row.id: row for row in User.select().where(User.role != "reader")},
        }

    def attach(self, articles):
        """The articles, as a list, with section, rubric, author and lead image set."""
        articles = list(articles)
        authors = self.rows["author"]
        missing = {article.author_id for article in articles} - authors.keys()
        if missing:
            authors.update((user.id, user) for user in User.select().where(User.id.in_(missing)))
        image_ids = {article.lead_image_id for article in articles} - {None}
        images = Media.select().where(Media.id.in_(image_ids)) if image_ids else []
        rows = {**self.rows, "lead_image": {image.id: image for image in images}}
        for article in articles:
            for name, by_id in rows.items():
                row = by_id.get(getattr(article, f"{name}_id"))
                if row is not None:  # else Peewee fetches it when it is read
                    setattr(article, name, row)
        return articles


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


MODELS = (
    User,
    LoginFailure,
    Section,
    Rubric,
    SiteSettings,
    Media,
    Article,
    Revision,
    SlugRedirect,
    LegacyPost,
    ArticleIndex,
)


class SchemaVersion(BaseModel):
    """The one row saying which schema version the database has (see migrations.py)."""

    version = IntegerField()


def create_tables():
    """Create what is missing. A new database is stamped with SCHEMA_VERSION; an old one
    keeps its version, so that `flask migrate` still brings it up to date."""
    fresh = "article" not in database.get_tables()
    with database.atomic():
        database.create_tables((*MODELS, SchemaVersion), safe=True)
        SiteSettings.insert(id=1).on_conflict_ignore().execute()
        database.after_commit(write_content_stamp)
        if fresh:
            SchemaVersion.insert(id=1, version=SCHEMA_VERSION).on_conflict_ignore().execute()
