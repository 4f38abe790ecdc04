"""Schema versions: upgrades from the first release, refusal of unknown schemas, atomicity."""

import sqlite3
from pathlib import Path

import pytest
from conftest import database_url, sqlite_only
from peewee import IntegerField
from playhouse.migrate import migrate as run_operations

import migrations
import models
from app import create_app

SCHEMA_V1 = Path(__file__).parent / "data" / "schema-v1.sql"


def schema_of(app):
    """{table: sorted (column, type, nullable)}, plus index definitions, of the app's database."""
    with app.app_context():
        database = models.database
        names = [t for t in database.get_tables() if not t.startswith("articleindex_")]
        tables = {
            name: sorted((c.name, c.data_type.upper(), c.null) for c in database.get_columns(name))
            for name in names
        }
        indexes = sorted(index.sql for name in names for index in database.get_indexes(name))
        database.close()
    return tables, indexes


def app_on(path):
    """An app on the database `path` names: new at the first call, the same one after."""
    urls = app_on.urls
    url = urls[path] = urls.get(path) or database_url(path)
    return create_app({"DATABASE_URL": url, "TESTING": True})


app_on.urls = {}


def set_schema_version(app, version):
    with app.app_context():
        models.SchemaVersion.update(version=version).execute()
        models.database.close()


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_a_new_database_is_stamped_with_the_latest_version(tmp_path):
    app = app_on(tmp_path / "new.db")
    result = run(app, "init-db")
    assert result.exit_code == 0, result.output
    assert f"schema version {migrations.LATEST}" in result.output
    with app.app_context():
        assert migrations.current_version() == migrations.LATEST
    assert "up to date" in run(app, "migrate").output


@sqlite_only("there is no schema-1 PostgreSQL database: PostgreSQL support began at 2")
def test_upgrade_from_the_first_released_schema(tmp_path):
    old = tmp_path / "v1.db"
    connection = sqlite3.connect(old)
    connection.executescript(SCHEMA_V1.read_text())
    connection.executescript(
        """
        INSERT INTO section (id, name, slug, position) VALUES (1, 'News', 'news', 0);
        INSERT INTO rubric (id, name, slug, position) VALUES (1, 'Economy', 'economy', 0);
        INSERT INTO user (id, role, active, display_name, slug, bio, created_at, login_token)
            VALUES (1, 'author', 1, 'Ann', 'ann', '', '2020-01-01 00:00:00', 'token');
        INSERT INTO article (id, title, slug, lead, body, section_id, rubric_id, author_id, hot,
                             status, published_at, created_at, updated_at, version)
            VALUES (7, 'Kept', 'kept', 'Lead', '<p>Body</p>', 1, 1, 1, 0, 'published',
                    '2020-01-02 00:00:00', '2020-01-01 00:00:00', '2020-01-02 00:00:00', 1);
        """
    )
    connection.commit()
    connection.close()

    app = app_on(tmp_path / "fresh.db")
    assert run(app, "init-db").exit_code == 0

    upgrade = create_app_in_cli(old)  # outside a command the app refuses the old schema
    result = run(upgrade, "migrate")
    assert result.exit_code == 0, result.output
    assert schema_of(upgrade) == schema_of(app)
    with upgrade.app_context():
        assert migrations.current_version() == migrations.LATEST
        assert not models.SiteSettings.get_by_id(1).demo  # made before the mark: not a demo
        models.ArticleIndex.rebuild()
    response = app_on(old).test_client().get("/articles/7/kept")
    assert response.status_code == 200
    assert "Kept" in response.get_data(as_text=True)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    assert run(app_on(path), "init-db").exit_code == 0
    set_schema_version(create_app_in_cli(path), migrations.LATEST + 1)
    with pytest.raises(RuntimeError, match="newer than this Newsdesk knows"):
        app_on(path)
    result = run(create_app_in_cli(path), "init-db")
    assert result.exit_code != 0
    assert "newer than this Newsdesk knows" in result.output


def create_app_in_cli(path):
    """An app as `flask` builds it for a command: the schema check is left to the command."""
    import click

    with click.Context(click.Command("flask")):
        return app_on(path)


@pytest.fixture
def version_two(monkeypatch):
    """A pretend next release: version 2 adds a column to section."""

    def add_column(migrator):
        run_operations(migrator.add_column("section", "colour", IntegerField(null=True)))

    following = migrations.LATEST + 1
    monkeypatch.setitem(migrations.MIGRATIONS, following, add_column)
    monkeypatch.setattr(migrations, "LATEST", following)
    return following


def test_an_older_schema_is_refused_until_migrated(tmp_path, version_two):
    path = tmp_path / "old.db"
    assert run(create_app_in_cli(path), "init-db").exit_code == 0  # models stamp the current one
    with pytest.raises(RuntimeError, match="flask --app app migrate"):
        app_on(path)
    result = run(create_app_in_cli(path), "migrate")
    assert result.exit_code == 0, result.output
    assert f"version {version_two}" in result.output
    assert ("colour", "INTEGER", True) in schema_of(create_app_in_cli(path))[0]["section"]
    app_on(path)  # starts now


def test_a_failing_step_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "atomic.db"
    assert run(app_on(path), "init-db").exit_code == 0
    before = schema_of(app_on(path))

    def half_done(migrator):
        run_operations(migrator.add_column("section", "colour", IntegerField(null=True)))
        raise RuntimeError("disk full")

    latest = migrations.LATEST
    monkeypatch.setitem(migrations.MIGRATIONS, latest, half_done)  # the last step fails
    set_schema_version(app_on(path), latest - 1)
    app = create_app_in_cli(path)
    with app.app_context(), pytest.raises(RuntimeError, match="disk full"):
        migrations.migrate()
    assert schema_of(app) == before
    with app.app_context():
        assert migrations.current_version() == latest - 1
