"""Every table, the schema version, and creating what is missing (migrations.py
upgrades)."""

from peewee import (
    IntegerField,
)

from models.articles import Article, Revision
from models.base import BaseModel, database
from models.legacy import LegacyPost, LegacyTerm
from models.media import Media
from models.people import LoginFailure, Registration, User, UserSession
from models.presence import Presence
from models.search import ArticleIndex
from models.site import SiteSettings, write_content_stamp
from models.taxonomy import Rubric, Section, SlugRedirect

SCHEMA_VERSION = 9  # the schema these models describe: bump with a step in migrations.py


MODELS = (
    User,
    UserSession,
    Registration,
    LoginFailure,
    Section,
    Rubric,
    SiteSettings,
    Media,
    Article,
    Revision,
    SlugRedirect,
    LegacyPost,
    LegacyTerm,
    ArticleIndex,
    Presence,
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
