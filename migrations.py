"""Versioned schema changes.

`models.SCHEMA_VERSION` is the schema the models describe; the database records
the version it has (models.SchemaVersion). `flask --app app migrate` runs the steps
in between, all in one transaction, and the app refuses to serve a database at any
other version.

To change the schema: change the models, add a step to MIGRATIONS that brings a
database of the previous version to the new one (with playhouse.migrate), and bump
SCHEMA_VERSION. tests/test_migrations.py upgrades a database of the first released
schema (tests/data/schema-v1.sql) and compares the result with a fresh one.

Steps run inside one transaction, where SQLite cannot turn foreign keys off: a step
must never rebuild a table (SqliteMigrator does for add_not_null, drop_not_null,
alter_column_type …), because dropping the old table cascades, and dropping
`article` would delete every revision. Add NOT NULL columns with a database default.
"""

import click
from peewee import SQL, BooleanField, PostgresqlDatabase, TextField, fn
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator
from playhouse.migrate import migrate as run_operations

from models import (
    SCHEMA_VERSION,
    Article,
    LegacyPost,
    LegacyTerm,
    Media,
    Presence,
    Registration,
    Revision,
    SchemaVersion,
    UserSession,
    create_tables,
    database,
)


def add_legacy_posts(migrator):
    """Version 2: the table of imported WordPress posts, for their old URLs (wordpress.py)."""
    database.create_tables([LegacyPost], safe=True)


def describe_lead_images_per_article(migrator):
    """Version 3: each article keeps its own alt text of its lead image (until then the
    image's, shared by every article showing it); its revisions record it too."""
    # NOT NULL with a database default, added in place: peewee would otherwise add the
    # column nullable and rebuild the table to make it NOT NULL (see the docstring above).
    column = TextField(default="", constraints=[SQL("DEFAULT ''")])
    run_operations(
        migrator.add_column("article", "lead_image_alt", column, allow_not_null=True),
        migrator.add_column("revision", "lead_image_alt", column, allow_not_null=True),
    )
    carry_lead_image_alt()


def carry_lead_image_alt():
    """Articles and revisions take their lead image's description as the image had it
    (for a database or an archive from before version 3); none for a deleted image."""
    for model in (Article, Revision):
        alt = Media.select(Media.alt).where(Media.id == model.lead_image_id)
        query = model.update(lead_image_alt=fn.COALESCE(alt, ""))
        query.where(model.lead_image_id.is_null(False)).execute()


def add_user_sessions(migrator):
    """Version 4: logins the server can end (models.UserSession; cookies made before it
    named the account's login token, which no session row has: everyone logs in again),
    and registrations waiting for their address to be confirmed (models.Registration)."""
    database.create_tables([UserSession, Registration], safe=True)


def add_old_addresses(migrator):
    """Version 5: each imported post's old address, and old category and tag archives."""
    # A database upgraded from version 1 got the table in its current shape at step 2.
    if "path" not in {column.name for column in database.get_columns("legacypost")}:
        run_operations(migrator.add_column("legacypost", "path", LegacyPost.path))
    database.create_tables([LegacyTerm], safe=True)


def add_demo_mark(migrator):
    """Version 6: SiteSettings.demo, set by seed-demo. A database made before it is not
    marked: where it came from is unknown, so demo logins are not made on it."""
    if "demo" in {column.name for column in database.get_columns("sitesettings")}:
        return  # made by a later release's create_tables and marked older (as tests do)
    column = BooleanField(default=False, constraints=[SQL("DEFAULT 0")])
    run_operations(migrator.add_column("sitesettings", "demo", column, allow_not_null=True))

def record_changed_fields(migrator):
    """Version 7: each revision names the fields its save changed (merges ask whose
    change they meet). Older revisions name none: merges with them still work, only
    whose change was met goes unsaid."""
    if "changed" in {column.name for column in database.get_columns("revision")}:
        return  # made by a later release's create_tables and marked older (as tests do)
    column = TextField(default="", constraints=[SQL("DEFAULT ''")])
    run_operations(migrator.add_column("revision", "changed", column, allow_not_null=True))


def keep_publication_dates(migrator):
    """Version 8: no published article without a publication time; and when an editor
    last showed readers a save as an update (revised_at)."""
    date_published_without_a_time()
    if "revised_at" not in {column.name for column in database.get_columns("article")}:
        run_operations(migrator.add_column("article", "revised_at", Article.revised_at))


def date_published_without_a_time():
    """Articles saved "published" without a publication time (a restore of an older
    revision could do that, until version 8): readers never saw them, no desk filter
    listed them. Each gets back the last publication time its revisions knew; one that
    never had any is unpublished. (For a database or an archive from before version 8.)"""
    undated = (Article.status == Article.PUBLISHED) & Article.published_at.is_null()
    last_time = (
        Revision.select(Revision.published_at)
        .where((Revision.article == Article.id) & Revision.published_at.is_null(False))
        .order_by(Revision.version.desc())
        .limit(1)
    )
    Article.update(published_at=last_time).where(undated).execute()
    Article.update(status=Article.UNPUBLISHED).where(undated).execute()


def add_presence(migrator):
    """Version 9: who has an article open in an editor now (models.Presence)."""
    database.create_tables([Presence], safe=True)


# version -> step that upgrades a database from version - 1 to it.
MIGRATIONS = {
    2: add_legacy_posts,
    3: describe_lead_images_per_article,
    4: add_user_sessions,
    5: add_old_addresses,
    6: add_demo_mark,
    7: record_changed_fields,
    8: keep_publication_dates,
    9: add_presence,
}

LATEST = max(MIGRATIONS, default=1)
assert LATEST == SCHEMA_VERSION, "add a migration step for every SCHEMA_VERSION"


def current_version():
    """The database's schema version; None for a database without Newsdesk's tables."""
    tables = set(database.get_tables())
    if SchemaVersion._meta.table_name in tables:
        row = SchemaVersion.get_or_none(SchemaVersion.id == 1)
        if row is not None:
            return row.version
    # The first release did not record its version yet.
    return 1 if "article" in tables else None


def schema_problem():
    """Why the app must not serve this database, or None."""
    version = current_version()
    if version is None or version == LATEST:
        return None
    if version < LATEST:
        return (
            f"The database has schema version {version}; this Newsdesk needs version {LATEST}. "
            "Back the database up, then run: flask --app app migrate"
        )
    return (
        f"The database has schema version {version}, newer than this Newsdesk knows "
        f"({LATEST}). Run the release that wrote it, or a newer one."
    )


def prepare_database():
    """For a `flask` command: create any missing tables, unless the database first
    needs `migrate` (then a ClickException says so)."""
    problem = schema_problem()
    if problem:
        raise click.ClickException(problem)
    create_tables()


def pending():
    version = current_version()
    return [] if version is None else list(range(version + 1, LATEST + 1))


def migrate():
    """Apply every pending step in one transaction; returns the versions applied."""
    steps = pending()
    if not steps:
        return []
    migrator_class = (
        PostgresqlMigrator if isinstance(database.obj, PostgresqlDatabase) else SqliteMigrator
    )
    migrator = migrator_class(database.obj)
    with database.atomic():
        for version in steps:
            MIGRATIONS[version](migrator)
        SchemaVersion.insert(id=1, version=LATEST).on_conflict(
            conflict_target=[SchemaVersion.id], update={SchemaVersion.version: LATEST}
        ).execute()
    return steps
