"""The database every model lives in, the clock, and what all models share.

Every datetime in the database is naive UTC; templates convert to the site's
timezone for display.
"""

import datetime as dt
import re
import unicodedata

from peewee import (
    DatabaseProxy,
    Model,
)

database = DatabaseProxy()


def write_transaction():
    """A transaction no other writer can interleave with, from its first read to its commit.

    For every read-then-write (a version check, the last-admin check): see
    databases.py for how SQLite and PostgreSQL each provide it.
    """
    return database.write_transaction()


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
