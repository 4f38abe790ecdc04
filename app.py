"""Newsdesk's application factory: configuration, database, blueprints, CLI."""

import os
from urllib.parse import urlsplit

import click
from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from gunicorn.http.errors import ParseException
from htmx_flask import Htmx
from peewee import DatabaseError
from werkzeug.exceptions import BadRequest, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import caching
import commands
import databases
import forms
import media
import migrations
from blueprints import admin, auth, desk, feeds, public
from caching import READER_BLUEPRINTS
from models import SiteSettings, database

# No inline script or style anywhere: htmx is configured (base.html) to need neither.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {framing}"
)


def env_flag(name, default=False):
    value = os.environ.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


class IdConverter(IntegerConverter):
    """Row ids in URLs: positive and within an INTEGER column's range, else a plain 404."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=forms.MAX_ID)


def env_list(name):
    """A comma-separated environment variable as a list, or None when it is unset."""
    value = os.environ.get(name)
    return None if value is None else [item.strip() for item in value.split(",") if item.strip()]


class Newsdesk(Flask):
    """Flask, with every absolute URL built from SITE_URL when it is set.

    Flask would take an absolute URL's host from the request's Host header, which the
    client chooses (a reset link mailed to evil.example), and its scheme from the request,
    which says http behind a proxy that ends TLS: with SITE_URL, both come from it.
    """

    def create_url_adapter(self, request):
        try:
            adapter = super().create_url_adapter(request)
        except SecurityError as refused:
            # A host the site does not serve: 400 at dispatch, with an adapter bound to the
            # site's own name meanwhile, so that the error page can build its links.
            request.routing_exception = refused
            request.trusted_hosts = None
            request.host = self.config["TRUSTED_HOSTS"][0]
            adapter = self.url_map.bind_to_environ(
                request.environ, server_name=request.host, subdomain=""
            )
        if adapter is not None and self.config["SITE_URL"]:
            site = urlsplit(self.config["SITE_URL"])
            adapter.url_scheme, adapter.server_name = site.scheme, site.netloc
        return adapter


def configure_site_url(app):
    """Check SITE_URL, and refuse requests for any other host (400) unless TRUSTED_HOSTS
    lists more."""
    site_url = app.config["SITE_URL"]
    if not site_url:
        if app.config["MAIL_SERVER"]:
            raise RuntimeError(
                "SITE_URL must be set when MAIL_SERVER is: links in mail are built from it, "
                "never from the host a request names"
            )
        return
    parts = urlsplit(site_url)
    just_an_origin = not (parts.path.strip("/") or parts.query or parts.fragment)
    if parts.scheme not in ("http", "https") or not parts.hostname or not just_an_origin:
        raise RuntimeError(f"SITE_URL must be like https://news.example.org, not {site_url!r}")
    app.config["SITE_URL"] = f"{parts.scheme}://{parts.netloc}"
    if app.config["TRUSTED_HOSTS"] is None:
        # Loopback too, so the host's own monitor can ask gunicorn for /healthz.
        app.config["TRUSTED_HOSTS"] = [parts.hostname, "localhost", "127.0.0.1"]


class MalformedBodyIsBadRequest:
    """WSGI middleware: a request body the server cannot decode gets 400, not 500.

    A server reads the body only when the app asks for it (request.form, get_json), so
    its complaint about the body's framing is raised inside a view. Werkzeug answers the
    dev server's OSError with 400, but gunicorn raises its own ParseException (a chunk
    size that is not hex, a chunk without its CRLF), which Flask would answer with 500.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ["wsgi.input"] = GuardedInput(environ["wsgi.input"])
        return self.wsgi_app(environ, start_response)


class GuardedInput:
    """wsgi.input whose reads raise BadRequest when the server rejects the body."""

    def __init__(self, stream):
        self.stream = stream

    def _guarded(self, read, *args):
        try:
            return read(*args)
        except ParseException as error:
            raise BadRequest(f"The request's body is malformed: {error}") from error

    def read(self, *args):
        return self._guarded(self.stream.read, *args)

    def readline(self, *args):
        return self._guarded(self.stream.readline, *args)

    def readlines(self, *args):
        return self._guarded(self.stream.readlines, *args)

    def __iter__(self):
        return iter(self.readline, b"")


def create_app(test_config=None):
    app = Newsdesk(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    secure_cookies = env_flag("SECURE_COOKIES")  # on when the site is served over HTTPS
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev"),
        DATABASE_URL=os.environ.get(
            "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "newsdesk.db")
        ),
        # Rendered public pages kept per worker process; 0 turns the page cache off.
        PAGE_CACHE_BYTES=int(os.environ.get("PAGE_CACHE_MB", 64)) * 1024 * 1024,
        # How often an open editor says so, and pages ask who else is editing (models.Presence).
        PRESENCE_POLL_SECONDS=20,
        MAX_CONTENT_LENGTH=int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure_cookies,
        REMEMBER_COOKIE_DURATION=30 * 24 * 3600,
        WTF_CSRF_TIME_LIMIT=None,  # tokens live as long as the session: no expired editors
        MAIL_SERVER=os.environ.get("MAIL_SERVER"),
        MAIL_PORT=int(os.environ.get("MAIL_PORT", 587)),
        MAIL_USE_TLS=env_flag("MAIL_USE_TLS", True),
        MAIL_USERNAME=os.environ.get("MAIL_USERNAME"),
        MAIL_PASSWORD=os.environ.get("MAIL_PASSWORD"),
        MAIL_FROM=os.environ.get("MAIL_FROM", "newsdesk@localhost"),
        # The site's public address; hosts other than these get 400 (Flask's TRUSTED_HOSTS).
        SITE_URL=os.environ.get("SITE_URL") or None,
        TRUSTED_HOSTS=env_list("TRUSTED_HOSTS"),
    )
    if test_config is not None:
        app.config.update(test_config)
    configure_site_url(app)

    app.url_map.converters["id"] = IdConverter
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    init_database(app)
    Htmx(app)
    CSRFProtect(app)
    app.register_blueprint(public.bp)
    # The text version is the same views under /text with a lighter layout.
    app.register_blueprint(public.bp, name="text", url_prefix="/text")
    app.register_blueprint(feeds.bp)
    auth.init_app(app)
    app.register_blueprint(admin.bp)
    app.register_blueprint(desk.bp)
    caching.init_app(app)
    commands.init_app(app)
    media.init_app(app)
    init_responses(app)
    app.wsgi_app = MalformedBodyIsBadRequest(app.wsgi_app)
    # Outermost, so that the page cache (caching.py) keys pages by the real scheme and host.
    proxies = int(os.environ.get("PROXY_FIX", 0))
    if proxies:
        # Behind nginx: trust that many proxies for the client address, scheme and host,
        # so absolute URLs (feeds, canonical links) and Secure cookies come out right.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


def init_database(app):
    database.initialize(databases.connect(app.config["DATABASE_URL"]))

    @app.before_request
    def count_writes_from_here():
        g.writes_before = database.writes()  # see server_error

    # Never serve a database whose schema this code does not know. A server refuses
    # to start; `flask` commands (migrate among them) check for themselves. A database
    # that cannot be reached is /healthz's to report, not a reason not to start.
    if click.get_current_context(silent=True) is None:
        try:
            with database.connection_context():
                problem = migrations.schema_problem()
        except DatabaseError:
            problem = None
        else:
            app.extensions["schema_checked"] = problem is None
        database.close_idle()  # a pooled connection must not be inherited by forked workers
        if problem:
            raise RuntimeError(problem)

    @app.before_request
    def refuse_unknown_schema():
        # Once per process, for servers started from a command (`flask run`).
        if app.extensions.get("schema_checked"):
            return None
        try:
            problem = migrations.schema_problem()
        except DatabaseError:
            return None  # unreachable: /healthz says so, other pages fail as they would
        if problem:
            return render_template(
                "errors/error.html", title="Upgrade needed", message=problem
            ), 503
        app.extensions["schema_checked"] = True
        return None

    # Peewee connects on a request's first query; static files never open one.
    @app.teardown_appcontext
    def close_connection(exc):
        if not database.is_closed():
            database.close()


def init_responses(app):
    """Headers on every response, error pages, and the routes that belong to no blueprint."""

    @app.after_request
    def security_headers(response):
        framing = "'self'" if request.blueprint in READER_BLUEPRINTS else "'none'"
        response.headers.setdefault(
            "Content-Security-Policy", CONTENT_SECURITY_POLICY.format(framing=framing)
        )
        if framing == "'none'":
            response.headers.setdefault("X-Frame-Options", "DENY")
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

    def error_page(status, title, message):
        return render_template("errors/error.html", title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return error_page(
            400,
            "The form had expired",
            "The security token of this form is missing or wrong, so nothing was changed. "
            "Go back, reload the page and try again.",
        )

    @app.errorhandler(400)
    def bad_request(error):
        # Also a request for a host the site does not serve (TRUSTED_HOSTS).
        return error_page(400, "Bad request", error.description)

    @app.errorhandler(403)
    def forbidden(error):
        return error_page(403, "Not allowed", "Your account may not open this page.")

    @app.errorhandler(404)
    def not_found(error):
        return public.old_address_redirect() or error_page(
            404,
            "Page not found",
            "There is no page at this address. It may have been moved or unpublished.",
        )

    @app.errorhandler(500)
    def server_error(error):
        # A failure inside a save rolls it all back; one after a commit (showing the
        # result, say) does not. Never say "nothing was saved" after a write.
        if database.writes() == g.get("writes_before"):
            message = "The server failed to complete this request, and nothing was saved. Try again"
        else:
            message = (
                "The server failed after saving a change: reload the page to see what was "
                "saved before you try again"
            )
        return error_page(
            500,
            "Something went wrong",
            f"{message}. If it keeps failing, tell the site's administrator.",
        )

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"]
        size = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 2**10:g} KB"
        if request.accept_mimetypes.best == "application/json":  # the editor's image upload
            return {"error": f"The file is larger than {size}: make it smaller."}, 413
        return error_page(
            413, "Too large", f"What you sent is larger than {size}. Nothing was saved."
        )
