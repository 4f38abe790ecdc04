"""Command-line tasks: `flask --app app <command>`."""

import click

import demo
from models import Article, create_tables


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
    click.echo("Loaded: " + ", ".join(f"{count} {name}" for name, count in summary.items()))


def init_app(app):
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_demo_command)
