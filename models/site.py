"""The site's settings row, and the content stamp that tells every worker process
when what readers see has changed."""

import os
import secrets
from functools import cache

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    IntegerField,
    SqliteDatabase,
    fn,
)

import dates
from models.base import BaseModel, database, utcnow


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
        from models.articles import Article  # which imports this module
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

    @property
    def zone(self):
        """The site's timezone (UTC while the stored name is unknown here: dates.zone)."""
        return dates.zone(self.timezone)

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
