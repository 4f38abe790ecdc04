"""Command-line tasks: `flask --app app <command>`."""

import os
import re
import secrets

import click
from flask import current_app

import demo
from blueprints.auth import reset_link
from forms import EMAIL_PATTERN
from models import Article, ArticleIndex, User, create_tables, database
from passwords import hash_password, password_problem

DEMO_STAFF = (
    ("admin@newsdesk.test", "admin", "Demo Admin"),
    ("editor@newsdesk.test", "editor", "Demo Editor"),
)


@click.command("init-db")
def init_db_command():
    """Create the tables (safe to run twice)."""
    create_tables()
    click.echo("Database ready.")


@click.command("seed-demo")
@click.option("--articles", default=0, show_default=True, help="Generated articles to add.")
def seed_demo_command(articles):
    """Load the seed page's article and sidebar titles, plus N generated articles."""
    if articles < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--articles")
    create_tables()
    existing = Article.select().count()
    if existing:
        click.echo(f"The database already has {existing} articles; demo content not loaded.")
        return
    with click.progressbar(length=articles, label="Generating articles") as bar:
        summary = demo.load_demo(articles, progress=lambda done, total: bar.update(done - bar.pos))
    # Fresh statistics let SQLite pick the right index; truncating the WAL gives back
    # the disk space a large load used.
    database.execute_sql("ANALYZE")
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    click.echo("Loaded: " + ", ".join(f"{count} {name}" for name, count in summary.items()))


@click.command("reindex")
def reindex_command():
    """Rebuild the full-text search index from the articles."""
    total = Article.select().count()
    with click.progressbar(length=total, label="Indexing articles") as bar:
        done = ArticleIndex.rebuild(progress=lambda done, total: bar.update(done - bar.pos))
    click.echo(f"Indexed {done} articles.")


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
    create_tables()
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
    base = os.environ.get("SITE_URL", "http://127.0.0.1:5000")
    with current_app.test_request_context(base_url=base):
        click.echo(reset_link(user))


@click.command("demo-logins")
def demo_logins_command():
    """(Re)create the demo admin and editor with fresh passwords, and print them."""
    create_tables()
    for email, role, name in DEMO_STAFF:
        password = secrets.token_urlsafe(12)
        with database.atomic():
            save_user(email, role, password, name)
        click.echo(f"  {role:<7} {email}  password: {password}")


def init_app(app):
    for command in (
        init_db_command,
        seed_demo_command,
        create_user_command,
        reset_password_command,
        demo_logins_command,
        reindex_command,
    ):
        app.cli.add_command(command)
