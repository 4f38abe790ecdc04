"""The command line: `flask --app app init-db` and `seed-demo`."""

import html
import re

import pytest
from markupsafe import escape

import demo
from models import Article, Rubric, Section, SiteSettings, User


def run(runner, *args):
    return runner.invoke(args=list(args))


def counts():
    return tuple(model.select().count() for model in (Article, Section, Rubric, User))


def sidebar_titles(page, slug):
    """Titles of one sidebar list of a rendered page, in order."""
    start = page.index(f'id="sidebar-{slug}"')
    block = page[start : page.index("</section>", start)]
    return re.findall(r'<a href="/articles/\d+/[^"]+">([^<]*)</a>', block)


# --- init-db ----------------------------------------------------------------------------------


def test_init_db_twice_is_safe(runner, make_article):
    first = run(runner, "init-db")
    assert first.exit_code == 0, first.output
    article = make_article(title="Kept")
    second = run(runner, "init-db")
    assert second.exit_code == 0, second.output
    assert Article.get_by_id(article.id).title == "Kept"
    assert SiteSettings.select().count() == 1


# --- seed-demo --------------------------------------------------------------------------------


@pytest.fixture
def seeded(runner):
    result = run(runner, "seed-demo", "--articles", "25")
    assert result.exit_code == 0, result.output
    return result


def seed_article():
    return Article.get(Article.title == demo.SEED_TITLE)


def test_seed_demo_loads_the_seed_article(client, seeded):
    article = seed_article()
    page = client.get(f"/articles/{article.id}/{article.slug}").get_data(as_text=True)
    assert f"<h1>{escape(demo.SEED_TITLE)}</h1>" in page
    assert ">21.07.19 08:16</time>" in page
    assert '<a href="/section/reports">Reports</a>' in page
    assert '<a href="/rubric/global-security">Global Security</a>' in page
    assert '<a href="/authors/samuel-ramani">Samuel Ramani</a>' in page


def test_seed_demo_loads_the_seed_sidebar_lists(client, seeded):
    page = client.get("/").get_data(as_text=True)
    for slug, items in demo.SIDEBAR.items():
        shown = [html.unescape(title) for title in sidebar_titles(page, slug)]
        assert shown == [title for title, _ in items], slug


def test_seed_demo_adds_the_generated_articles(seeded):
    seed_titles = sum(len(items) for items in demo.SIDEBAR.values())
    assert Article.select().count() == seed_titles + 25


def test_second_seed_demo_changes_nothing_and_says_so(runner, seeded):
    before = counts()
    version = SiteSettings.get_by_id(1).content_version
    again = run(runner, "seed-demo", "--articles", "25")
    assert again.exit_code == 0, again.output
    assert "already" in again.output.lower(), again.output
    assert counts() == before
    assert SiteSettings.get_by_id(1).content_version == version


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", ""])
def test_seed_demo_rejects_a_bad_article_count(runner, bad):
    result = run(runner, "seed-demo", "--articles", bad)
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "--articles" in result.output, result.output
    assert counts() == (0, 0, 0, 0)
    assert SiteSettings.get_by_id(1).name == "Newsdesk"


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_and_restore_on_postgresql_point_to_its_own_tools(tmp_path, command):
    from app import create_app

    # Refused before any connection: no server needs to listen there.
    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql://newsdesk@127.0.0.1:1/x"})
    path = tmp_path / "copy.db"
    path.write_bytes(b"")
    with app.app_context():  # as `flask` gives every command
        result = app.test_cli_runner().invoke(args=[command, str(path)])
    assert result.exit_code != 0
    assert "pg_dump" in result.output and "pg_restore" in result.output
