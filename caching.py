"""The site row read once per request; HTTP validators and caches for public pages.

Public pages change only when content is saved (SiteSettings.content_version)
or a scheduled article's time arrives (SiteSettings.latest_published), so one
indexed query answers "has anything changed?" before any page is rendered. The
answer, the freshness key, keys three things: ETags (a reader's browser revalidates
for free), the rendered-page cache and the per-version memo of shared fragments.
The key lives in the database, so a save in one gunicorn worker invalidates the
caches of all of them, with no cache server.
"""

import hashlib
from collections import OrderedDict

from flask import current_app, g, request, session
from flask_login import current_user

from models import SiteSettings

READER_BLUEPRINTS = {"public", "text", "feeds"}


def site_settings():
    if "site" not in g:
        g.site = SiteSettings.load()
    return g.site


def freshness_key():
    site = site_settings()
    return (site.content_version, site.latest_published)


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


class PageCache:
    """Rendered public pages of this worker process, least recently used out first.

    An entry serves only while the freshness key is the one it was rendered under.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.entries = OrderedDict()  # key -> (freshness, mimetype, body)
        self.size = 0

    def get(self, key, freshness):
        entry = self.entries.get(key)
        if entry is None or entry[0] != freshness:
            return None
        self.entries.move_to_end(key)
        return entry

    def put(self, key, freshness, mimetype, body):
        if len(body) > self.max_bytes // 8:
            return  # one huge page must not push out everything else
        old = self.entries.pop(key, None)
        if old:
            self.size -= len(old[2])
        self.entries[key] = (freshness, mimetype, body)
        self.size += len(body)
        while self.size > self.max_bytes:
            _key, (_freshness, _mimetype, evicted) = self.entries.popitem(last=False)
            self.size -= len(evicted)


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
    max_bytes = app.config["PAGE_CACHE_BYTES"]
    pages = PageCache(max_bytes) if max_bytes > 0 else None

    def cache_key():
        if pages is None or request.endpoint in UNCACHED_ENDPOINTS:
            return None
        return (request.full_path, bool(request.htmx))

    @app.before_request
    def answer_from_cache():
        if not shared_page():
            return None
        g.etag = page_etag()
        last_modified = site_settings().last_modified.replace(microsecond=0)
        if request.if_none_match.star_tag:
            return None  # "*" asks whether the page exists: let the view answer
        if request.if_none_match:
            # Weak comparison (RFC 9110): proxies that gzip, like nginx, weaken ETags.
            unchanged = request.if_none_match.contains_weak(g.etag)
        else:
            since = request.if_modified_since
            unchanged = since is not None and last_modified <= since.replace(tzinfo=None)
        # after_request below adds the validators to these responses too.
        if unchanged:
            return app.response_class(status=304)
        key = cache_key()
        cached = key and pages.get(key, freshness_key())
        if cached:
            g.from_cache = True
            return app.response_class(cached[2], mimetype=cached[1])
        return None

    @app.after_request
    def add_validators(response):
        key = cache_key() if "etag" in g and response.status_code == 200 else None
        if key and not g.get("from_cache") and not response.direct_passthrough:
            pages.put(key, freshness_key(), response.mimetype, response.get_data())
        if "etag" in g and response.status_code in (200, 304):
            response.set_etag(g.etag)
            response.last_modified = site_settings().last_modified.replace(microsecond=0)
            # Readers always revalidate: an edit shows on their next request.
            response.cache_control.no_cache = True
            response.cache_control.public = True
            response.vary.add("HX-Request")
        elif request.endpoint not in ("static", "media_file") and current_user.is_authenticated:
            # Pages with a name, edit controls or a CSRF token are for this browser only.
            response.cache_control.private = True
            response.cache_control.no_store = True
        return response
