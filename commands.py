"""Command-line tasks: `flask --app app <command>`."""

import os
import re
import secrets
import socket
import sqlite3

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import make_server

import archive
import demo
import migrations
import wordpress
from blueprints.auth import reset_link
from forms import EMAIL_PATTERN
from migrations import prepare_database
from models import (
    Article,
    ArticleIndex,
    SiteSettings,
    User,
    UserSession,
    database,
    write_content_stamp,
)
from passwords import hash_password, password_problem

DEMO_STAFF = (
    ("admin@newsdesk.test", "admin", "Demo Admin"),
    ("editor@newsdesk.test", "editor", "Demo Editor"),
)


@click.command("init-db")
def init_db_command():
    """Create the tables (safe to run twice)."""
    prepare_database()
    click.echo(f"Database ready (schema version {migrations.LATEST}).")


@click.command("migrate")
def migrate_command():
    """Bring the database's schema up to this release's, in one transaction."""
    if migrations.current_version() is None:
        raise click.ClickException("The database is empty: run init-db to create it.")
    applied = migrations.migrate()
    if applied:
        click.echo(f"Upgraded the schema to version {applied[-1]} (steps {applied}).")
    else:
        click.echo(f"The schema is up to date (version {migrations.LATEST}).")


@click.command("seed-demo")
@click.option("--articles", default=0, show_default=True, help="Generated articles to add.")
def seed_demo_command(articles):
    """Load the seed page's article and sidebar titles, plus N generated articles."""
    if articles < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--articles")
    seed_demo(articles)


def seed_demo(articles):
    """The demo content and N generated articles, on an empty database only."""
    prepare_database()
    if demo.holds_a_site():
        click.echo(
            f"The database already holds a site ({Article.select().count()} articles, "
            f"{User.select().count()} accounts); demo content not loaded."
        )
        return
    with click.progressbar(length=articles, label="Generating articles") as bar:
        summary = demo.load_demo(articles, progress=lambda done, total: bar.update(done - bar.pos))
    database.optimize()  # fresh statistics, so the planner picks the right index
    click.echo("Loaded: " + ", ".join(f"{count} {name}" for name, count in summary.items()))


@click.command("reindex")
def reindex_command():
    """Rebuild the full-text search index from the articles."""
    total = Article.select().count()
    with click.progressbar(length=total, label="Indexing articles") as bar:
        done = ArticleIndex.rebuild(progress=lambda done, total: bar.update(done - bar.pos))
    click.echo(f"Indexed {done} articles.")


def sqlite_path():
    url = current_app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        raise click.ClickException(
            "backup and restore work on SQLite databases only. On PostgreSQL use its own "
            "tools: pg_dump --format=custom --file=PATH DBNAME while the site runs, and "
            "pg_restore --clean --if-exists --dbname=DBNAME PATH (see README.md), or move "
            "the whole site with `flask --app app export PATH` and `import PATH`."
        )
    return database.database


def integrity_problems(connection):
    """What is wrong with a Newsdesk database file: [] when it is sound."""
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        return [str(error)]
    if rows != [("ok",)]:
        return [row[0] for row in rows]
    missing = {"article", "sitesettings", "user"} - tables
    return [f"not a Newsdesk database (no {', '.join(sorted(missing))} table)"] if missing else []


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path):
    """Copy the live database to PATH, consistently, while the site runs.

    SQLite's online backup API copies a single snapshot: writers go on, and the
    copy has every save that was committed when it started. The copy is written
    beside PATH and renamed into place once checked, so PATH is never half written.
    """
    sqlite_path()
    partial = f"{path}.partial"
    try:
        if os.path.exists(partial):
            os.remove(partial)
        target = sqlite3.connect(partial)
    except (OSError, sqlite3.Error) as error:
        raise click.ClickException(f"cannot write {path}: {error}") from None
    try:
        database.connection().backup(target)
        problems = integrity_problems(target)
    finally:
        target.close()
    if problems:
        os.remove(partial)
        raise click.ClickException("the copy failed its integrity check: " + "; ".join(problems))
    os.replace(partial, path)
    click.echo(f"Backed up to {path} ({os.path.getsize(path):,} bytes, integrity ok).")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path, yes):
    """Replace the site's content with the backup at PATH.

    The backup is checked first; then SQLite's backup API copies it over the live
    database in one step, so readers see the old site or the restored one, never
    a mixture. Stop the editors first: saves made after the backup are lost.
    """
    sqlite_path()
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        problems = integrity_problems(source)
        if problems:
            raise click.ClickException(f"{path} is damaged: " + "; ".join(problems))
        if not yes:
            click.confirm("Replace every article, user and setting with the backup?", abort=True)
        source.backup(database.connection())
    finally:
        source.close()
    write_content_stamp()  # every worker's cached pages are of the replaced content
    click.echo(f"Restored from {path}.")


def save_user(email, role, password, name=None):
    """Create the account, or give an existing one this role and password."""
    email = email.strip().lower()
    user = User.by_email(email) or User(
        email=email,
        display_name=name or email.split("@")[0],
    )
    if not user.id:
        user.slug = User.unique_slug(user.display_name)
    user.role = role
    user.active = True
    user.password_hash = hash_password(password)
    user.rotate_login_token()
    user.save()
    UserSession.end_all(user)  # a new password ends every login of the account
    return user


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(User.ROLES), default="reader", show_default=True)
@click.option("--name", help="Display name (default: the part of the email before @).")
@click.password_option(help="Prompted for when not given.")
def create_user_command(email, role, name, password):
    """Create a user (or update the role and password of an existing one)."""
    if not re.match(EMAIL_PATTERN, email.strip()) or len(email) > 254:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    problem = password_problem(password, email, name)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    prepare_database()
    existed = User.by_email(email) is not None
    with database.atomic():
        user = save_user(email, role, password, name)
    click.echo(f"{'Updated' if existed else 'Created'} {user.email} ({user.role}).")


@click.command("reset-password")
@click.argument("email")
def reset_password_command(email):
    """Print a one-time link (24 hours) with which the user sets a new password."""
    user = User.by_email(email)
    if user is None or not user.active:
        raise click.ClickException(f"No active account for {email}.")
    base = current_app.config["SITE_URL"] or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base):
        click.echo(reset_link(user))


NOT_A_DEMO = (
    "This database holds a site that seed-demo did not create, so no demo logins are made "
    "on it: log in with its own accounts (`create-user EMAIL --role admin` makes one). To "
    "try the demo, give it a database of its own: DATABASE_URL=sqlite:////tmp/demo.db make run"
)


def is_demo_database():
    """Whether seed-demo filled this database (SiteSettings.demo): demo logins go there only."""
    settings = SiteSettings.get_or_none(SiteSettings.id == 1)
    return settings is not None and settings.demo


def rotate_demo_logins():
    """Give the demo admin and editor new passwords, and print them."""
    for email, role, name in DEMO_STAFF:
        password = secrets.token_urlsafe(12)
        with database.atomic():
            save_user(email, role, password, name)
        click.echo(f"  {role:<7} {email}  password: {password}")


@click.command("demo-logins")
def demo_logins_command():
    """(Re)create the demo admin and editor with fresh passwords, on a demo database only."""
    prepare_database()
    if not is_demo_database():
        raise click.ClickException(NOT_A_DEMO)
    rotate_demo_logins()


def listen(host, port):
    """A listening socket on host:port, taken before anything else happens."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise click.ClickException(
            f"Cannot serve on {host}:{port}: {error.strerror or error}. Stop what uses it, "
            "or choose another port: make run PORT=5001"
        ) from None


def serve_forever(listener, app):
    """Flask's development server (threaded, as `flask run`) on the socket already bound."""
    host, port = listener.getsockname()[:2]
    make_server(host, port, app, threaded=True, fd=listener.fileno()).serve_forever()


@click.command("run-demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--articles", default=300, show_default=True, help="Generated articles, if new.")
@with_appcontext
def run_demo_command(host, port, articles):
    """What `make run` does: serve this checkout with Flask's development server.

    The port is taken first. A new database gets the demo content, and a demo database
    new staff passwords on every start; any other is served as it is, its logins untouched.
    """
    listener = listen(host, port)
    with listener:
        seed_demo(articles)
        if is_demo_database():
            click.echo("Staff logins for this demo (new passwords on every start):")
            rotate_demo_logins()
        else:
            click.echo(
                "This database holds a site that seed-demo did not create: serving it as it "
                "is, with no demo logins (log in with its own accounts)."
            )
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"Newsdesk is running at http://{shown}:{port} (Ctrl-C stops it)")
        serve_forever(listener, current_app._get_current_object())


def init_app(app):
    for command in (
        init_db_command,
        migrate_command,
        seed_demo_command,
        create_user_command,
        reset_password_command,
        demo_logins_command,
        run_demo_command,
        reindex_command,
        backup_command,
        restore_command,
        archive.export_command,
        archive.import_command,
        wordpress.import_wordpress_command,
    ):
        app.cli.add_command(command)
