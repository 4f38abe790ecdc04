"""Newsdesk's application factory: configuration, database, blueprints, CLI."""

import os
from zoneinfo import ZoneInfo

from flask import Flask, g, render_template, request, url_for
from htmx_flask import Htmx
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

    init_database(app)
    Htmx(app)
    app.register_blueprint(public.bp)
    # The text version is the same views under /text with a lighter layout.
    app.register_blueprint(public.bp, name="text", url_prefix="/text")
    app.register_blueprint(feeds.bp)
    caching.init_app(app)
    commands.init_app(app)
    init_templates(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html"), 404

    return app


def init_database(app):
    url = app.config["DATABASE_URL"]
    options = {"pragmas": SQLITE_PRAGMAS} if url.startswith("sqlite") else {}
    database.initialize(connect(url, **options))

    @app.before_request
    def open_connection():
        database.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def close_connection(exc):
        if not database.is_closed():
            database.close()


def site_settings():
    """The site settings row, read once per request."""
    if "site" not in g:
        g.site = SiteSettings.load()
    return g.site


def in_text_version():
    return request.blueprint == "text" or request.path.startswith("/text/")


def other_version_url():
    """The same page in the other layout: full <-> text."""
    if request.blueprint in ("public", "text") and request.url_rule:
        target = "public" if request.blueprint == "text" else "text"
        endpoint = f"{target}.{request.endpoint.split('.', 1)[1]}"
        return url_for(endpoint, **(request.view_args or {}), **request.args.to_dict())
    return url_for("public.index" if in_text_version() else "text.index")


def init_templates(app):
    @app.template_filter("localtime")
    def localtime(value, fmt="%d.%m.%y %H:%M"):
        """Format a naive-UTC datetime in the site's timezone (the seed shows 21.07.19 08:16)."""
        if value is None:
            return ""
        zone = ZoneInfo(site_settings().timezone)
        return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime(fmt)

    @app.context_processor
    def layout_context():
        text = in_text_version()
        return {
            "site": site_settings(),
            "text_version": text,
            "layout": "text/base.html" if text else "base.html",
            "other_version_url": other_version_url,
            "ep": "text." if text else "public.",
        }
