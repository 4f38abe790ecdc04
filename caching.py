"""What public pages cost after the first reader: the site row, HTTP validators, page cache.

Public pages change only when content is saved (SiteSettings.content_version) or a
scheduled article's time arrives (SiteSettings.latest_published): together, the
freshness key. It keys ETags (a reader's browser revalidates for free), the
rendered-page cache and the per-version memo of shared fragments.

Each worker process keeps the settings row in memory (SiteSnapshot) and reads it
again only when the content stamp changed, when the next scheduled article is due, or
every RECHECK_SECONDS in case a stamp was lost to a crash between commit and write.
The stamp (models.read_content_stamp) is a file beside the SQLite database that every
committed save rewrites, in whichever process saved; on PostgreSQL, whose app servers
share no files, it is the content version, read from the database. So a save in one
worker reaches the caches of all of them on the next request, with no cache server.
"""

import datetime as dt
import hashlib
import threading
import time
from collections import OrderedDict

from flask import current_app, g, request, session
from flask_login import current_user
from peewee import DatabaseError
from werkzeug.http import parse_date, parse_etags

from models import Directory, SiteSettings, database, read_content_stamp

READER_BLUEPRINTS = {"public", "text", "feeds"}
RECHECK_SECONDS = 5

# Set by Flask on a page that is the same for every reader; the page cache keeps those.
SHARED_PAGE = "newsdesk.shared_page"
# The content stamp, as the page-cache layer read it for this request.
CONTENT_STAMP = "newsdesk.content_stamp"
UNREAD = object()


class SiteSnapshot:
    """This worker's copy of the settings row, and whether it can still be trusted."""

    def __init__(self):
        self.state = None  # (stamp, row, monotonic time read): replaced whole, never edited

    def cached_row(self, stamp):
        """The row if it was read under this content stamp and nothing else can have
        changed since; None otherwise."""
        if self.state is None:
            return None
        seen, row, read_at = self.state
        if stamp != seen or time.monotonic() - read_at > RECHECK_SECONDS or row.schedule_due:
            return None
        return row

    def current(self, stamp):
        """The row, read again when stale. `stamp` must be read before: a save that
        commits after it changes the stamp again."""
        row = self.cached_row(stamp)
        if row is None:
            row = SiteSettings.load()
            self.state = (stamp, row, time.monotonic())
        return row


def site_settings():
    if "site" not in g:
        # The page-cache layer read the stamp already; it costs a query on PostgreSQL.
        stamp = request.environ.get(CONTENT_STAMP, UNREAD) if request else UNREAD
        if stamp is UNREAD:
            stamp = read_content_stamp()
        g.site = current_app.extensions["site_snapshot"].current(stamp)
    return g.site


def freshness_key():
    return site_settings().freshness_key


def last_modified():
    """When public pages last changed, to the second, as HTTP dates have it."""
    return site_settings().last_modified.replace(microsecond=0, tzinfo=dt.UTC)


def page_etag():
    variant = f"{freshness_key()}|{request.full_path}|{bool(request.htmx)}"
    return hashlib.sha256(variant.encode()).hexdigest()[:32]


def per_version(name, compute):
    """compute(), once per worker process for each state of the site's content.

    For fragments every public page shows (hot news, sidebar lists): computed on
    the first request after a save, then reused until the next one.
    """
    memo = current_app.extensions["per_version"]
    key = freshness_key()
    hit = memo.get(name)
    if hit is None or hit[0] != key:
        hit = memo[name] = (key, compute())
    return hit[1]


def named(articles):
    """`articles` as a list, with section, rubric and author from this version's Directory."""
    return per_version("directory", Directory).attach(articles)


def unchanged(environ, etag, modified):
    """Whether the reader's copy (If-None-Match, else If-Modified-Since) is current.

    ETags compare weakly (RFC 9110): proxies that gzip, like nginx, weaken them.
    """
    if "HTTP_IF_NONE_MATCH" in environ:
        return parse_etags(environ["HTTP_IF_NONE_MATCH"]).contains_weak(etag)
    since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
    return since is not None and modified <= since


class PageCache:
    """Rendered public pages of this worker process, least recently used out first.

    An entry serves only while the freshness key is the one it was rendered under. A
    worker's threads share it: a lock keeps a lookup from meeting another thread's eviction.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.entries = OrderedDict()  # key -> (freshness, headers, body, etag, last_modified)
        self.size = 0
        self.lock = threading.Lock()

    def __contains__(self, key):
        return key in self.entries

    def get(self, key, freshness):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry[0] != freshness:
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key, freshness, headers, body):
        if len(body) > self.max_bytes // 8:
            return  # one huge page must not push out everything else
        found = dict(headers)
        validators = (found["ETag"].strip('"'), parse_date(found["Last-Modified"]))
        with self.lock:
            old = self.entries.pop(key, None)
            if old:
                self.size -= len(old[2])
            self.entries[key] = (freshness, headers, body, *validators)
            self.size += len(body)
            while self.size > self.max_bytes:
                _key, evicted = self.entries.popitem(last=False)
                self.size -= len(evicted[2])


class PageCacheMiddleware:
    """Answers anonymous readers' repeat requests before Flask sees them.

    A page stored here costs a file read (the content stamp) and a dictionary lookup
    to serve: no session, no database, no template. Requests that carry a session or
    remember-me cookie always go to Flask: their page may show a name, a message or
    edit controls.
    """

    def __init__(self, wsgi_app, pages, snapshot, private_cookies):
        self.wsgi_app = wsgi_app
        self.pages = pages
        self.snapshot = snapshot
        self.private_cookies = [f"{name}=" for name in private_cookies]

    def key(self, environ):
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return None
        cookies = environ.get("HTTP_COOKIE", "")
        if any(name in cookies for name in self.private_cookies):
            return None
        if "*" in environ.get("HTTP_IF_NONE_MATCH", ""):
            return None  # "*" asks whether the page exists: the view answers
        return (
            environ["wsgi.url_scheme"],
            environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_HX_REQUEST") == "true",
        )

    def __call__(self, environ, start_response):
        key = self.key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        if key not in self.pages:
            return self.render_and_keep(key, environ, start_response)
        try:
            stamp = environ[CONTENT_STAMP] = read_content_stamp()
        except (OSError, DatabaseError):
            return self.wsgi_app(environ, start_response)  # Flask's to report
        finally:
            if not database.is_closed():
                database.close()  # opened to read the stamp (PostgreSQL): handed back at once
        row = self.snapshot.cached_row(stamp)
        entry = row and self.pages.get(key, row.freshness_key)
        if entry:
            return self.serve(entry, environ, start_response)
        return self.render_and_keep(key, environ, start_response)

    def serve(self, entry, environ, start_response):
        _freshness, headers, body, etag, last_modified = entry
        if unchanged(environ, etag, last_modified):
            start_response("304 NOT MODIFIED", [h for h in headers if not is_entity(h[0])])
            return []
        start_response("200 OK", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def render_and_keep(self, key, environ, start_response):
        answered = []

        def keep_status(status, headers, exc_info=None):
            answered[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, keep_status)
        freshness = environ.get(SHARED_PAGE)
        if freshness is None or environ["REQUEST_METHOD"] != "GET" or not answered:
            return body
        status, headers = answered
        if not status.startswith("200") or any(h[0] == "Set-Cookie" for h in headers):
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        self.pages.put(key, freshness, headers, data)
        return [data]


def is_entity(header):
    return header in ("Content-Type", "Content-Length")


UNCACHED_ENDPOINTS = {"public.search", "text.search"}  # endless variety: not worth keeping


def shared_page():
    """Whether this response is the same for every reader: no account, no message."""
    return (
        request.blueprint in READER_BLUEPRINTS
        and request.method in ("GET", "HEAD")
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def init_app(app):
    app.extensions["per_version"] = {}
    snapshot = app.extensions["site_snapshot"] = SiteSnapshot()
    max_bytes = app.config["PAGE_CACHE_BYTES"]
    if max_bytes > 0:
        private_cookies = (
            app.config["SESSION_COOKIE_NAME"],
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),  # Flask-Login's default
        )
        app.wsgi_app = PageCacheMiddleware(
            app.wsgi_app, PageCache(max_bytes), snapshot, private_cookies
        )

    @app.before_request
    def answer_not_modified():
        if not shared_page():
            return None
        g.etag = page_etag()
        if "*" in request.headers.get("If-None-Match", ""):
            return None  # "*" asks whether the page exists: let the view answer
        if unchanged(request.environ, g.etag, last_modified()):
            return app.response_class(status=304)  # add_validators adds the headers
        return None

    @app.after_request
    def add_validators(response):
        if "etag" in g and response.status_code in (200, 304):
            response.set_etag(g.etag)
            response.last_modified = last_modified()
            # Readers always revalidate: an edit shows on their next request.
            response.cache_control.no_cache = True
            response.cache_control.public = True
            response.vary.add("HX-Request")
            if response.status_code == 200 and request.endpoint not in UNCACHED_ENDPOINTS:
                request.environ[SHARED_PAGE] = freshness_key()
        elif request.endpoint not in ("static", "media_file") and current_user.is_authenticated:
            # Pages with a name, edit controls or a CSRF token are for this browser only.
            response.cache_control.private = True
            response.cache_control.no_store = True
        return response
