"""Schema versions: upgrades from the first release, refusal of unknown schemas, atomicity."""

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from conftest import database_url, sqlite_only
from peewee import IntegerField
from playhouse.migrate import migrate as run_operations

import factories
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
        # An automatic index (a text primary key's) has no SQL, only a name.
        indexes = sorted(
            index.sql or index.name for name in names for index in database.get_indexes(name)
        )
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
        INSERT INTO media (id, hash, ext, width, height, size, variants, alt, created_at)
            VALUES (3, printf('%064d', 3), 'png', 10, 10, 100, '[]', 'A calm sea', '2020-01-01');
        UPDATE article SET lead_image_id = 3 WHERE id = 7;
        INSERT INTO revision (article_id, version, action, created_at, title, lead, body,
                              section_id, rubric_id, author_id, hot, status, lead_image_id)
            VALUES (7, 1, 'edited', '2020-01-02', 'Kept', 'Lead', '<p>Body</p>', 1, 1, 1, 0,
                    'published', 3),
                   (7, 0, 'edited', '2020-01-01', 'Kept', 'Lead', '<p>Body</p>', 1, 1, 1, 0,
                    'draft', 99);
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
        # Version 3: the image's description became the article's own, in its revisions too.
        assert models.Article.get_by_id(7).lead_image_alt == "A calm sea"
        revisions = models.Revision.select().order_by(models.Revision.version)
        assert [r.lead_image_alt for r in revisions] == ["", "A calm sea"]  # 99: no such image
    response = app_on(old).test_client().get("/articles/7/kept")
    assert response.status_code == 200
    assert "Kept" in response.get_data(as_text=True)
    assert 'alt="A calm sea"' in response.get_data(as_text=True)


def test_version_3_moves_the_lead_images_description_to_each_article(tmp_path):
    """From version 2, on either database: articles and revisions keep the description
    their lead image had, and the history survives the new columns."""
    path = tmp_path / "v2.db"
    assert run(app_on(path), "init-db").exit_code == 0
    with create_app_in_cli(path).app_context():
        image = models.Media.create(
            hash="b" * 64, ext="png", width=10, height=10, size=100, alt="A calm sea"
        )
        article = factories.make_article(lead_image=image)
        models.Revision.record(article, None, "created")
        for table in ("article", "revision"):
            models.database.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "lead_image_alt"')
        models.database.execute_sql('ALTER TABLE "article" DROP COLUMN "revised_at"')
        models.SchemaVersion.update(version=2).execute()
        models.database.close()
    fresh = app_on(tmp_path / "fresh3.db")
    assert run(fresh, "init-db").exit_code == 0

    upgrade = create_app_in_cli(path)
    result = run(upgrade, "migrate")
    assert result.exit_code == 0, result.output
    assert schema_of(upgrade) == schema_of(fresh)
    with upgrade.app_context():
        assert models.Article.get_by_id(article.id).lead_image_alt == "A calm sea"
        (revision,) = models.Revision.select()
        assert revision.lead_image_alt == "A calm sea"


def test_upgrade_from_version_4_keeps_imported_wordpress_posts(tmp_path):
    """Version 5 added each imported post's old address and the old archive addresses."""
    fresh = app_on(tmp_path / "fresh.db")
    assert run(fresh, "init-db").exit_code == 0
    path = tmp_path / "v2.db"
    app = create_app_in_cli(path)
    assert run(app, "init-db").exit_code == 0
    with app.app_context():  # back to version 4's tables, with an imported post in them
        database = models.database
        database.execute_sql("DROP TABLE legacyterm")
        database.execute_sql("DROP TABLE presence")  # version 6's
        database.execute_sql("DROP INDEX legacypost_path")
        database.execute_sql("ALTER TABLE legacypost DROP COLUMN path")
        database.execute_sql("ALTER TABLE article DROP COLUMN revised_at")
        models.SchemaVersion.update(version=4).execute()
        article = factories.make_article(title="Kept", slug="kept")
        database.execute_sql(
            "INSERT INTO legacypost (wp_id, post_type, slug, year, month, day, article_id) "
            f"VALUES (42, 'post', 'kept', 2019, 7, 21, {article.id})"
        )
        database.close()

    result = run(create_app_in_cli(path), "migrate")
    assert result.exit_code == 0, result.output
    assert "steps [5, " in result.output
    assert schema_of(create_app_in_cli(path)) == schema_of(fresh)
    client = app_on(path).test_client()
    for old in ("/?p=42", "/2019/07/21/kept/"):
        assert client.get(old).headers["Location"] == f"/articles/{article.id}/kept", old


def test_version_8_dates_every_published_article(tmp_path):
    """Version 6 added revised_at, and no published article may lack a publication time: a
    restore could take one offline that way. It gets back the last time its history knew;
    one whose history knew none is unpublished (readers had never seen it either)."""
    fresh = app_on(tmp_path / "fresh6.db")
    assert run(fresh, "init-db").exit_code == 0
    path = tmp_path / "v5.db"
    app = create_app_in_cli(path)
    assert run(app, "init-db").exit_code == 0
    first_time, later_time = dt.datetime(2019, 7, 21, 5, 16), dt.datetime(2019, 7, 22, 9, 0)
    with app.app_context():
        database = models.database
        database.execute_sql("ALTER TABLE article DROP COLUMN revised_at")
        models.SchemaVersion.update(version=7).execute()
        restored, never, fine = (
            factories.make_article(title=title, published_at=first_time)
            for title in ("Restored", "Never dated", "Fine")
        )
        for article, times in ((restored, (None, first_time, later_time, None)), (never, (None,))):
            for version, published_at in enumerate(times, start=1):
                models.Revision.create(
                    article=article, version=version, title=article.title, lead="", body="",
                    section_id=article.section_id, rubric_id=article.rubric_id,
                    author_id=article.author_id, hot=False, status="published",
                    published_at=published_at,
                )  # fmt: skip
        database.execute_sql(
            f"UPDATE article SET published_at = NULL WHERE id IN ({restored.id}, {never.id})"
        )
        database.close()

    result = run(create_app_in_cli(path), "migrate")
    assert result.exit_code == 0, result.output
    assert "steps [8, " in result.output
    assert schema_of(create_app_in_cli(path)) == schema_of(fresh)
    with create_app_in_cli(path).app_context():
        stored = {a.title: (a.status, a.published_at) for a in models.Article.select()}
        assert stored == {
            "Restored": ("published", later_time),
            "Never dated": ("unpublished", None),
            "Fine": ("published", first_time),
        }
        assert not models.Article.select().where(models.Article.revised_at.is_null(False)).exists()
        models.database.close()


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
