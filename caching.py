"""The site row read once per request, and HTTP validators for public pages.

Public pages change only when content is saved (SiteSettings.content_version)
or a scheduled article's time arrives (SiteSettings.latest_published), so one
indexed query answers "has anything changed?" before any page is rendered.
"""

import hashlib

from flask import g, request, session
from flask_login import current_user

from models import SiteSettings

READER_BLUEPRINTS = {"public", "text", "feeds"}


def site_settings():
    if "site" not in g:
        g.site = SiteSettings.load()
    return g.site


def page_etag():
    site = site_settings()
    variant = f"{site.content_version}|{site.latest_published}|{request.full_path}"
    variant += f"|{bool(request.htmx)}"
    return hashlib.sha256(variant.encode()).hexdigest()[:32]


def shared_page():
    """Whether this response is the same for every reader: no account, no message."""
    return (
        request.blueprint in READER_BLUEPRINTS
        and request.method in ("GET", "HEAD")
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def init_app(app):
    @app.before_request
    def answer_not_modified():
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
        # after_request below adds the validators to this response too.
        return app.response_class(status=304) if unchanged else None

    @app.after_request
    def add_validators(response):
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
