"""Versioned schema changes.

`models.SCHEMA_VERSION` is the schema the models describe; the database records
the version it has (models.SchemaVersion). `flask --app app migrate` runs the steps
in between, all in one transaction, and the app refuses to serve a database at any
other version.

To change the schema: change the models, add a step to MIGRATIONS that brings a
database of the previous version to the new one (with playhouse.migrate), and bump
SCHEMA_VERSION. tests/test_migrations.py upgrades a database of the first released
schema (tests/data/schema-v1.sql) and compares the result with a fresh one.
"""

from peewee import PostgresqlDatabase
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator
from playhouse.migrate import migrate as run_operations

from models import SCHEMA_VERSION, LegacyPost, SchemaVersion, SiteSettings, database


def add_legacy_posts(migrator):
    """Version 2: the table of imported WordPress posts, for their old URLs (wordpress.py)."""
    database.create_tables([LegacyPost], safe=True)


def add_demo_mark(migrator):
    """Version 3: SiteSettings.demo, set by seed-demo. A database made before it is not
    marked: where it came from is unknown, so demo logins are not made on it."""
    run_operations(migrator.add_column("sitesettings", "demo", SiteSettings.demo))


# version -> step that upgrades a database from version - 1 to it.
MIGRATIONS = {2: add_legacy_posts, 3: add_demo_mark}

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
