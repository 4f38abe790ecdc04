"""Newsdesk's data: the Peewee models and the queries the site runs on them, by concern.

Everything is importable from here (`from models import Article`), whichever module of
the package defines it.
"""

from models.articles import (
    LEAD_STORIES,
    VISIBLE_ARTICLE,
    WORKFLOW,
    Article,
    ArticleStateError,
    EditConflict,
    Revision,
    StepNotAllowed,
)
from models.base import BaseModel, database, slugify, utcnow, write_transaction
from models.legacy import LegacyPost, LegacyTerm
from models.lists import Directory, Pagination, PreparedQuery
from models.media import Media
from models.people import SESSION_TOKEN, LoginFailure, Registration, User, UserSession
from models.presence import Presence
from models.schema import MODELS, SCHEMA_VERSION, SchemaVersion, create_tables
from models.search import ArticleIndex
from models.site import (
    SiteSettings,
    content_stamp_path,
    read_content_stamp,
    stamp_beside,
    write_content_stamp,
)
from models.taxonomy import SIDEBAR_SIZE, Rubric, Section, SidebarList, SlugRedirect, Taxonomy

__all__ = [
    "LEAD_STORIES", "MODELS", "SCHEMA_VERSION", "SESSION_TOKEN", "SIDEBAR_SIZE",
    "VISIBLE_ARTICLE", "WORKFLOW", "Article", "ArticleIndex", "ArticleStateError",
    "BaseModel", "Directory", "EditConflict", "LegacyPost", "LegacyTerm", "LoginFailure",
    "Media", "Pagination", "PreparedQuery", "Presence", "Registration", "Revision", "Rubric",
    "SchemaVersion", "Section", "SidebarList", "SiteSettings", "SlugRedirect",
    "StepNotAllowed", "Taxonomy", "User", "UserSession", "content_stamp_path",
    "create_tables", "database", "read_content_stamp", "slugify", "stamp_beside", "utcnow",
    "write_content_stamp", "write_transaction",
]  # fmt: skip
