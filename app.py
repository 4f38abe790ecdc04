"""Newsdesk's application factory: configuration, database, blueprints, CLI."""

import os

from flask import Flask, render_template
from htmx_flask import Htmx
from peewee import DatabaseError
from playhouse.db_url import connect

import caching
import commands
from blueprints import feeds, public
from models import SQLITE_PRAGMAS, SiteSettings, database

# htmx 2 needs no eval and no inline styles under our CSP; see base.html's htmx-config.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev"),
        DATABASE_URL=os.environ.get(
            "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "newsdesk.db")
        ),
    )
    if test_config is not None:
        app.config.update(test_config)

    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    init_database(app)
    Htmx(app)
    app.register_blueprint(public.bp)
    # The text version is the same views under /text with a lighter layout.
    app.register_blueprint(public.bp, name="text", url_prefix="/text")
    app.register_blueprint(feeds.bp)
    caching.init_app(app)
    commands.init_app(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response

    @app.get("/favicon.ico")
    def favicon():
        return app.send_static_file("favicon.ico")

    @app.get("/healthz")
    def healthz():
        try:
            SiteSettings.select(SiteSettings.id).limit(1).scalar()
        except DatabaseError:
            return {"status": "error", "database": "unreachable"}, 503
        return {"status": "ok", "database": "ok"}

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html"), 404

    return app


def init_database(app):
    url = app.config["DATABASE_URL"]
    options = {"pragmas": SQLITE_PRAGMAS} if url.startswith("sqlite") else {}
    database.initialize(connect(url, **options))

    # Peewee connects on a request's first query; static files never open one.
    @app.teardown_appcontext
    def close_connection(exc):
        if not database.is_closed():
            database.close()
