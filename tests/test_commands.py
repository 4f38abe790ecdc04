"""The command line: `flask --app app init-db`, `seed-demo`, `demo-logins` and `run-demo`
(what `make run` does)."""

import html
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from markupsafe import escape

import commands
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


# --- Demo logins: on a database seed-demo created, and nowhere else -------------------------

DEMO_EMAILS = [email for email, _, _ in commands.DEMO_STAFF]
OWN_PASSWORD = "a long passphrase of our own"


def demo_accounts():
    return {user.email: user for user in User.select().where(User.email.in_(DEMO_EMAILS))}


@pytest.fixture
def real_site(runner, make_article):
    """A site seed-demo did not create, with its own admin."""
    make_article(title="Our own news")
    result = run(runner, "create-user", "chief@example.org", "--role", "admin",
                 "--password", OWN_PASSWORD)  # fmt: skip
    assert result.exit_code == 0, result.output


def test_seed_demo_marks_the_database_it_fills(runner, seeded):
    assert SiteSettings.get_by_id(1).demo


def test_seed_demo_leaves_a_new_site_with_only_its_admin_alone(runner):
    # A production site just set up: its first admin, no article yet.
    run(runner, "create-user", "chief@example.org", "--role", "admin", "--password", OWN_PASSWORD)

    result = run(runner, "seed-demo", "--articles", "5")

    assert result.exit_code == 0, result.output
    assert "already holds a site (0 articles, 1 accounts)" in result.output
    assert Article.select().count() == 0
    assert not SiteSettings.get_by_id(1).demo


def test_demo_logins_on_a_demo_database_get_new_passwords_each_time(runner, seeded):
    first = run(runner, "demo-logins")
    hashes = {email: user.password_hash for email, user in demo_accounts().items()}
    second = run(runner, "demo-logins")

    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert {user.role for user in demo_accounts().values()} == {"admin", "editor"}
    assert all(f"{email}  password: " in first.output for email in DEMO_EMAILS)
    assert first.output != second.output
    assert all(demo_accounts()[email].password_hash != hashes[email] for email in DEMO_EMAILS)


def test_demo_logins_refuse_a_site_seed_demo_did_not_create(runner, real_site):
    result = run(runner, "demo-logins")

    assert result.exit_code == 1
    assert "seed-demo did not create" in result.output
    assert "password:" not in result.output
    assert demo_accounts() == {}


def test_demo_logins_never_reset_an_account_of_a_real_site(runner, real_site):
    # A real site where the demo admin's address is an account (make run was run on it once).
    run(runner, "create-user", DEMO_EMAILS[0], "--role", "admin", "--password", OWN_PASSWORD)
    before = demo_accounts()[DEMO_EMAILS[0]]

    assert run(runner, "demo-logins").exit_code == 1
    after = demo_accounts()[DEMO_EMAILS[0]]
    assert (after.password_hash, after.login_token) == (before.password_hash, before.login_token)


# --- run-demo: make run ----------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch):
    """The ports run-demo would serve on; the test returns instead of serving."""
    ports = []
    monkeypatch.setattr(
        commands, "serve_forever", lambda listener, app: ports.append(listener.getsockname()[1])
    )
    return ports


def free_port():
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def test_make_run_on_a_new_database_loads_the_demo_then_prints_logins_and_serves(runner, served):
    port = free_port()
    result = run(runner, "run-demo", "--port", str(port), "--articles", "5")

    assert result.exit_code == 0, result.output
    out = result.output
    loaded, login, running = (
        out.index("Loaded:"),
        out.index("admin@newsdesk.test  password: "),
        out.index(f"Newsdesk is running at http://127.0.0.1:{port}"),
    )
    assert loaded < login < running
    assert served == [port]
    assert SiteSettings.get_by_id(1).demo and len(demo_accounts()) == 2


def test_make_run_on_a_real_site_serves_it_without_demo_logins(runner, real_site, served):
    port = free_port()
    result = run(runner, "run-demo", "--port", str(port))

    assert result.exit_code == 0, result.output
    assert "serving it as it is, with no demo logins" in result.output
    assert "password" not in result.output
    assert f"Newsdesk is running at http://127.0.0.1:{port}" in result.output
    assert served == [port]
    assert demo_accounts() == {}
    assert [a.title for a in Article.select()] == ["Our own news"]  # no demo content either


def test_make_run_on_a_site_with_only_its_admin_adds_no_demo(runner, served):
    run(runner, "create-user", "chief@example.org", "--role", "admin", "--password", OWN_PASSWORD)

    result = run(runner, "run-demo", "--port", str(free_port()))

    assert result.exit_code == 0, result.output
    assert "password" not in result.output
    assert Article.select().count() == 0 and demo_accounts() == {}


def test_make_run_on_a_taken_port_says_so_and_changes_nothing(runner, served):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run(runner, "run-demo", "--port", str(port))

    assert result.exit_code == 1
    assert f"Cannot serve on 127.0.0.1:{port}" in result.output
    assert "make run PORT=" in result.output
    assert "password" not in result.output and "running" not in result.output
    assert served == []
    assert counts() == (0, 0, 0, 0)  # no demo content, no logins


@pytest.mark.skipif(not shutil.which("make"), reason="no make")
def test_make_run_passes_port_and_host():
    root = Path(__file__).resolve().parent.parent
    # -n: print the commands only; `venv` is up to date or its commands are printed too.
    shown = subprocess.run(
        ["make", "-n", "run", "PORT=5001", "HOST=0.0.0.0"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "flask --app app run-demo --host 0.0.0.0 --port 5001" in shown


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
