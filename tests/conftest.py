"""Fixtures for Newsdesk's tests.

Two ways to reach the app, never both in one test:

* `app` / `client` / `runner`: a fresh app and an empty database per test: a new
  SQLite file, or with TEST_DATABASE_URL set, a PostgreSQL database (see
  `database_url`).
* `live_server`: one real HTTP server per session, on demo content, for the
  browser (Playwright's `page`).

`models.database` is one global DatabaseProxy, and `create_app()` points it at
its own database. The live server is served from a thread of this process, so it
reads whatever the proxy points at when a request comes in. Hence: the
`live_server` fixture re-points the proxy at the live database at the start of
every test that uses it (a test before it may have used `app`), and refuses to
be combined with `app`, whose database would otherwise swap under the server
mid-test. A browser test can still add rows with the factories: they go to the
live database. Pytest runs one test at a time, so nothing else moves the proxy
while a browser test runs.
"""

import contextlib
import email
import email.policy
import json
import os
import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from peewee import sort_models
from werkzeug.serving import make_server

import factories
import models

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# vnu does not know htmx: its hx-* attributes are the only errors we accept.
HTMX_ATTRIBUTE_ERROR = re.compile(r"^Attribute “hx-[a-z:-]+” not allowed on element “[^”]+”")


def require_tool(available, message):
    """Skip a test whose tool is missing here; under CI a missing tool is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{message} (CI must run every test; .ci/run installs it)", pytrace=False)
    pytest.skip(message)


# --- The database: SQLite, or PostgreSQL with TEST_DATABASE_URL ------------------------------

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL)
_created = set()  # PostgreSQL databases this session created
_with_tables = set()  # … and of those, the ones whose tables it created


def database_url(path):
    """The URL of a new, empty site's database for a test; `path` names it.

    SQLite: the file at `path`. PostgreSQL: a database named after the file's stem
    (`<TEST_DATABASE_URL's database>_<stem>`), new at the session's first use of that
    name; `empty_database` empties it on later ones (much faster than a new database
    per test). Tests in sequence share a name freely; sites that live at the same time
    (the live server's, a second site) need names of their own.
    """
    if not ON_POSTGRES:
        return f"sqlite:///{path}"
    import psycopg

    base = urlparse(TEST_DATABASE_URL)
    name = f"{base.path.lstrip('/')}_{path.stem}".replace("-", "_")
    url = base._replace(path=f"/{name}").geturl()
    if url not in _created:
        with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        _created.add(url)
    return url


def empty_database(url):
    """Create the tables, or on a PostgreSQL database of this session, empty them."""
    if url not in _with_tables:
        models.create_tables()
        if url.startswith("postgres"):
            _with_tables.add(url)
        return
    tables = sort_models((*models.MODELS, models.SchemaVersion))
    database = models.database
    database.execute_sql("SET lock_timeout = '10s'")  # a connection left open fails, not hangs
    with database.atomic():  # DELETE: five times faster than TRUNCATE on small tables
        for model in reversed(tables):
            model.delete().execute()
        database.restart_sequences(tables)
        # As create_tables leaves a new database.
        models.SiteSettings.insert(id=1).execute()
        models.SchemaVersion.insert(id=1, version=models.SCHEMA_VERSION).execute()


def release_connections():
    """Close the pooled connections of the database the proxy points at, before it points
    at another (each app has its own pool on PostgreSQL; SQLite has none)."""
    if models.database.obj is not None:
        models.database.close()
        models.database.close_idle()


def set_clock(monkeypatch, moment):
    """Stop the clock of every models module at `moment` (naive UTC) for one test."""
    import sys

    for name, module in list(sys.modules.items()):
        if (name == "models" or name.startswith("models.")) and hasattr(module, "utcnow"):
            monkeypatch.setattr(module, "utcnow", lambda: moment)


def sqlite_only(reason):
    """Skip marker for a test of something only SQLite has (said in `reason`)."""
    return pytest.mark.skipif(ON_POSTGRES, reason=f"SQLite only: {reason}")


# --- The app, per test ------------------------------------------------------------------------


def make_app(database_path, **config):
    """An app on a new, empty database named by `database_path` (see database_url)."""
    # Imported here, not at the top: while the app is broken, tests of the tools still run.
    from app import create_app

    media_root = str(database_path.parent / "media")  # uploads beside the test's database
    release_connections()
    url = database_url(database_path)
    app = create_app({"DATABASE_URL": url, "MEDIA_ROOT": media_root, **config})
    with app.app_context():
        empty_database(url)
    return app


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path / "test.db", TESTING=True, SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    yield app
    release_connections()


@pytest.fixture
def csrf_app(tmp_path):
    """The app with CSRF protection on, as in production (the `app` fixture turns it off)."""
    app = make_app(tmp_path / "csrf.db", TESTING=True, SECRET_KEY="test")
    yield app
    release_connections()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_article():
    """`make_article(**fields)`: a published article; see tests/factories.py."""
    return factories.make_article


@pytest.fixture
def query_counter():
    """`with query_counter() as queries:` collects the SQL of each statement run inside.

    Counts every statement of the database the proxy points at, from any thread.
    """

    @contextlib.contextmanager
    def count():
        db = models.database.obj
        executed = []
        shadowed = db.__dict__.get("execute_sql")  # an outer counter's, when nested
        original = db.execute_sql

        def execute_sql(sql, params=None, *args, **kwargs):
            executed.append(sql)
            return original(sql, params, *args, **kwargs)

        db.execute_sql = execute_sql  # on this instance only: the class stays untouched
        try:
            yield executed
        finally:
            if shadowed is None:
                del db.execute_sql
            else:
                db.execute_sql = shadowed

    return count


# --- Mail: a real SMTP server on 127.0.0.1 ----------------------------------------------------


class Mailbox:
    """aiosmtpd handler keeping every message it receives, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 Message accepted"

    def to(self, address):
        return [message for message in self.messages if message["To"] == address]

    def links(self, address):
        """The http(s) links in the messages sent to `address`, oldest first."""
        found = []
        for message in self.to(address):
            found += re.findall(r"https?://\S+", message.get_body(("plain",)).get_content())
        return found


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


def mail_settings(smtp_server, site_url):
    return {
        "MAIL_SERVER": smtp_server.hostname,
        "MAIL_PORT": smtp_server.port,
        "MAIL_USE_TLS": False,
        "MAIL_FROM": "desk@example.org",
        "SITE_URL": site_url,
    }


@pytest.fixture
def mailbox(app, smtp_server):
    """The app sends mail to a real SMTP server; `mailbox.messages` is what arrived."""
    app.config.update(mail_settings(smtp_server, "http://localhost"))
    smtp_server.handler.messages.clear()
    return smtp_server.handler


# --- The live server, per session -------------------------------------------------------------


@pytest.fixture(scope="session")
def _live_server(tmp_path_factory, smtp_server):
    import demo  # imported here: only browser tests need it

    app = make_app(tmp_path_factory.mktemp("live") / "live.db", SECRET_KEY="live-server")
    live_database = models.database.obj
    with app.app_context():
        demo.load_demo(40)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config.update(mail_settings(smtp_server, url))  # mail goes to smtp_server's mailbox
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield url, live_database, app
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def live_server(request, _live_server):
    """Base URL of a running Newsdesk with demo content (no trailing slash)."""
    if "app" in request.fixturenames:
        raise pytest.UsageError("a test uses either `live_server` or `app`, not both")
    url, live_database, _app = _live_server
    models.database.initialize(live_database)  # see the module docstring
    yield url
    live_database.close()  # this thread's connection, if the test wrote rows


@pytest.fixture
def live_config(live_server, _live_server):
    """`live_config(NAME=value, …)`: the live server's settings for one test, put back after."""
    config = _live_server[2].config
    saved = {}

    def change(**settings):
        for name, value in settings.items():
            saved.setdefault(name, config[name])
            config[name] = value

    yield change
    config.update(saved)


# --- Tools: Chromium through Playwright, the Nu HTML Checker ---------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # `playwright install` cannot download browsers here: use Debian's Chromium.
    require_tool(
        os.access(CHROMIUM_PATH, os.X_OK),
        f"no Chromium at {CHROMIUM_PATH}: apt-get install chromium, or set CHROMIUM_PATH",
    )
    return {**browser_type_launch_args, "executable_path": CHROMIUM_PATH, "args": CHROMIUM_ARGS}


@pytest.fixture
def console_errors(page):
    """A list that fills with the page's uncaught exceptions and console errors.

    Uncaught exceptions arrive as `pageerror`, not on the console: collect both.
    """
    errors = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))

    def on_console(message):
        if message.type == "error":
            errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    return errors


@pytest.fixture(scope="session")
def vnu(tmp_path_factory):
    """`vnu(documents)`: the Nu HTML Checker's errors for each full HTML document.

    `documents` is a list of HTML strings (returns a list of error lists, in order)
    or a dict name -> HTML (returns name -> errors). All go through one java run,
    as the JVM's start is the slow part. Errors about hx-* attributes are dropped.
    """
    require_tool(shutil.which("java"), "no java: apt-get install default-jre-headless")
    require_tool(VNU_JAR.is_file(), f"no {VNU_JAR.relative_to(ROOT)}: run `make test`")

    def validate(documents):
        named = documents if isinstance(documents, dict) else dict(enumerate(documents))
        folder = tmp_path_factory.mktemp("vnu")
        files = {}
        for index, (name, html) in enumerate(named.items()):
            path = folder / f"{index}.html"
            path.write_text(html, encoding="utf-8")
            files[path.name] = name
        result = subprocess.run(
            [
                "java",
                "-jar",
                str(VNU_JAR),
                "--format",
                "json",
                "--stdout",
                *(str(folder / file) for file in files),
            ],
            capture_output=True,
            timeout=600,
        )
        try:
            messages = json.loads(result.stdout.decode("utf-8"))["messages"]
        except (ValueError, KeyError) as error:
            raise RuntimeError(f"vnu gave no JSON report: {result.stderr.decode()}") from error
        errors = {name: [] for name in named}
        for message in messages:
            if message["type"] == "non-document-error":
                raise RuntimeError(f"vnu could not check a document: {message}")
            if message["type"] != "error" or HTMX_ATTRIBUTE_ERROR.match(message["message"]):
                continue
            name = files[Path(urlparse(message["url"]).path).name]
            line = message.get("lastLine", "?")
            errors[name].append(f"line {line}: {message['message']}")
        return errors if isinstance(documents, dict) else list(errors.values())

    return validate
