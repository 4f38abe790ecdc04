"""The fuzz walk: every route, every method, every parameter, hostile values: never a 5xx.

For each role (anonymous, reader, author, editor, admin) the walk requests every rule
of app.url_map with each of its methods, on a site whose content holds the extreme
values a database may already have (publication times at the ends of what Python's
datetime holds, kept from before dates were bounded) under a site timezone that pushes
one of them over the edge:

1. with plausible values for the URL variables (the ids and slugs that exist:
   `url_combos`) and the parameters (PARAMS), plain and, where the view answers htmx
   differently, as htmx; redirects are followed;
2. with each parameter the view reads set to each HOSTILE value in turn, the others
   plausible;
3. with each URL variable set to each HOSTILE_IN_URL value in turn.

CSRF is off (the `app` fixture), so every body reaches its view. A role refused a route
(sent to log in, 403) is not fuzzed there: the guards run before any parameter is read.
HEAD runs GET's view, so it gets one plausible request. GETs run before changes, and the
steps that end the walk's session or empty the trash run last. Any 5xx, or an exception
(TESTING propagates them), is a failure; the test lists them.

It runs on PostgreSQL too (TEST_DATABASE_URL): it assumes nothing of the database.
"""

import datetime as dt
import functools
import io
import itertools
import math
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from desk_helpers import HX, PASSWORD, Newsroom, log_in, make_login
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.security import generate_password_hash
from wtforms.fields.core import UnboundField

import models
import passwords
from blueprints import admin, auth, desk
from models import Article, LegacyPost, Revision, SiteSettings

ROLES = ("anonymous", "reader", "author", "editor", "admin")


class Raw(str):
    """A value sent exactly as written: already percent-encoded (invalid UTF-8, say)."""


HOSTILE = (
    str(2**63),
    str(2**31),
    "99999999999999999999",
    "-1",
    "",
    "x",
    "\x00",
    Raw("%ff%fe"),  # invalid UTF-8
    Raw("%ed%a0%80"),  # a lone surrogate, as UTF-8 bytes
    "x" * 100_000,
    "0001-01-01",
    "9999-12-31",
    "2024-02-30",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "Pacific/Kiritimati",  # UTC+14; the site's own timezones are west and east (ZONES)
    ("1", "2"),  # the parameter twice
)
HOSTILE_IN_URL = (
    "%00",
    "%ff%fe",
    "%ed%a0%80",
    "-1",
    "0",
    str(2**63),
    "99999999999999999999",
    "x" * 5000,
    "..%2F..%2Fetc%2Fpasswd",
    "%20",
)


class Current:
    """A plausible value looked up when the request is made (a version that changes)."""

    def __init__(self, lookup):
        self.lookup = lookup


def article_version(url_values):
    article = Article.get_or_none(Article.id == url_values.get("article_id", 0))
    return str(article.version) if article else "1"


VERSION = Current(article_version)


@dataclass
class Params:
    """What a view reads, each with a plausible value: from the query string of a GET,
    or from the form of the `form` method (then a GET only shows the form). `url` sets
    URL variables for a parameter that only a given variable reads (the schedule's time,
    a field's save). `htmx`: how the view is asked: plainly, as htmx, or both when it
    answers htmx differently."""

    values: dict
    form: str = None
    query: dict = field(default_factory=dict)  # in the query string, whatever the method
    url: dict = None
    htmx: tuple = (False,)


HTMX_TOO = (True, False)
HTMX_ONLY = (True,)


def form_fields(form_class, **plausible):
    """The form's field names, each with its plausible value (default: some text)."""
    names = [
        name
        for name in dir(form_class)
        if isinstance(getattr(form_class, name, None), UnboundField)
    ]
    return {name: plausible.get(name, "Some text") for name in sorted(names)}


NEW_PASSWORD = "quartz-lantern-meadow-77"
ARTICLE_VALUES = {
    "title": "A fuzzed title",
    "lead": "A lead.",
    "body": "<p>Text.</p>",
    "section": "1",
    "rubric": "1",
    "hot": "y",
    "author": "1",
    "published_at": "2030-01-02T03:04",
    "lead_image": "",
    "lead_image_alt": "A picture",
}
ARTICLE_FIELDS = form_fields(desk.ArticleForm, **ARTICLE_VALUES)
SEARCH = {
    "q": "fuzz",
    "section": "news",
    "rubric": "global-security",
    "from": "2001-01-01",
    "to": "2099-12-31",
    "page": "1",
}
PAGE = {"page": "1"}
LEGACY = {"p": "7", "page_id": "7"}

# Every endpoint of the URL map, with what its view reads. A new route fails
# test_every_route_is_walked until it is listed here.
PARAMS = {
    "static": Params({}),
    "favicon": Params({}),
    "healthz": Params({}),
    "media_file": Params({}),
    **{
        f"{blueprint}.{name}": params
        for blueprint in ("public", "text")
        for name, params in {
            "index": Params(LEGACY),
            "section": Params(PAGE),
            "rubric": Params(PAGE),
            "sidebar_list": Params(PAGE, htmx=HTMX_TOO),
            "article": Params({}),
            "print_article": Params({}),
            "search": Params(SEARCH),
            "author": Params(PAGE),
        }.items()
    },
    **{
        f"feeds.{name}": Params({})
        for name in (
            "site_atom", "site_rss", "section_atom", "section_rss", "rubric_atom", "rubric_rss",
            "sitemap", "sitemap_pages", "sitemap_articles", "robots",
        )  # fmt: skip
    },
    "auth.register": Params(
        {
            **form_fields(auth.RegisterForm, email="new@example.org", display_name="New Reader"),
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "next": "/search?q=x",
        },
        form="POST",
    ),
    "auth.login": Params(
        {**form_fields(auth.LoginForm, email="nobody@example.org"), "next": "/desk/"},
        form="POST",
    ),
    "auth.logout": Params({}),
    "auth.logout_everywhere": Params({}),
    "auth.confirm_registration": Params({}),
    "auth.change_password": Params(
        form_fields(
            auth.ChangePasswordForm, current=PASSWORD, password=NEW_PASSWORD, confirm=NEW_PASSWORD
        ),
        form="POST",
    ),
    "auth.request_reset": Params(
        form_fields(auth.ResetRequestForm, email="nobody@example.org"), form="POST"
    ),
    "auth.reset_password": Params(
        form_fields(auth.ResetPasswordForm, password=NEW_PASSWORD, confirm=NEW_PASSWORD),
        form="POST",
    ),
    "admin.users": Params(PAGE),
    # The rows' forms post `page` in the query string: the list to go back to.
    "admin.change_role": Params(
        form_fields(admin.RoleForm, role="author"), query=PAGE, htmx=HTMX_TOO
    ),
    "admin.set_active": Params({"active": "1"}, query=PAGE, htmx=HTMX_TOO),
    "admin.make_reset_link": Params({}, query=PAGE, htmx=HTMX_TOO),
    "admin.settings": Params(
        form_fields(admin.SettingsForm, name="Fuzzed", timezone="Europe/Moscow"), form="POST"
    ),
    "desk.dashboard": Params(
        {"state": "draft", "order": "title", "section": "1", "author": "1", **PAGE},
        htmx=HTMX_TOO,
    ),
    "desk.new_article": Params(form_fields(desk.NewArticleForm, section="1"), form="POST"),
    "desk.upload_media": Params({"file": "GIF89a", "alt": "A picture"}),
    "desk.show_field": Params({}, htmx=HTMX_ONLY),
    "desk.edit_field": Params({}, htmx=HTMX_ONLY),
    "desk.save_field": Params(
        {**ARTICLE_FIELDS, "version": VERSION},
        url={name: {"name": name} for name in ARTICLE_FIELDS},
        htmx=HTMX_ONLY,
    ),
    "desk.edit_article": Params({**ARTICLE_FIELDS, "version": VERSION}, form="POST"),
    "desk.take_action": Params(
        {"version": VERSION, "published_at": "2030-01-02T03:04"},
        url={"published_at": {"action": "schedule"}},
        htmx=HTMX_TOO,
    ),
    "desk.empty_trash": Params({"confirm": "yes"}),
    "desk.editing_beat": Params({"field": "title"}),
    "desk.editing_done": Params({"field": "title"}),
    "desk.who_is_editing": Params({"spots": "title,lead", "shown": "0123456789abcdef"}),
    "desk.history": Params({"from": "1", "to": "2"}),
    "desk.restore_revision": Params({"version": VERSION}),
    "desk.taxonomy": Params({}),
    "desk.add_taxonomy": Params(form_fields(desk.TaxonomyForm, name="Fuzz", slug="fuzz")),
    "desk.update_taxonomy": Params(
        form_fields(desk.TaxonomyForm, name="Fuzz", slug="fuzz"), htmx=HTMX_TOO
    ),
    "desk.move_taxonomy": Params({"direction": "up"}),
    "desk.delete_taxonomy": Params({}, htmx=HTMX_TOO),
}
# Sent as multipart/form-data, the parameter "file" as an uploaded file.
MULTIPART = {"desk.upload_media"}
# Last, in this order: each ends what the walk could still reach after it.
LAST = ("desk.empty_trash", "auth.logout")

# Site timezones by role: west of UTC pushes the earliest stored time before year 1,
# east pushes the latest past year 9999. Staff see the far-future (scheduled) one.
ZONES = {
    "anonymous": "America/New_York",
    "reader": "Pacific/Pago_Pago",
    "author": "Asia/Tokyo",
    "editor": "Asia/Tokyo",
    "admin": "Pacific/Kiritimati",
}


# --- The site the walk runs on ----------------------------------------------------------------


@dataclass
class Site:
    newsroom: Newsroom
    admin: models.User
    victim: models.User
    articles: list
    reset_token: str

    def url_candidates(self, name):
        """Plausible values of a URL variable, the most telling first."""
        n = self.newsroom
        slugs = [a.slug for a in self.articles]
        return {
            "article_id": [a.id for a in self.articles],
            "slug": [*slugs, n.news.slug, n.security.slug, n.author.slug, "legacy-post"],
            "name": list(desk.FIELD_LABELS),
            # Trash first: the late article, still scheduled, is then shown in the trash.
            "action": ["trash", *(a for a in desk.ACTION_LABELS if a != "trash")],
            "version": [1, 2],
            "kind": ["section", "rubric"],
            "item_id": [n.news.id, n.economy.id],
            "user_id": [self.victim.id],
            "token": [self.reset_token],
            "year": [2019],
            "month": [7],
            "day": [21],
            "chunk": [1],
            "filename": ["css/site.css", "no-such-file.jpg"],
        }[name]


def build_site(app, zone):
    newsroom = Newsroom.create()
    admin_user = make_login("admin", "Ada Admin")
    victim = make_login("reader", "Vic Victim")
    # Stored before dates were bounded: the ends of what Python's datetime can hold.
    late = newsroom.article(
        "scheduled", title="Far future", published_at=dt.datetime(9999, 12, 31, 23)
    )
    early = newsroom.article("published", title="Year one", published_at=dt.datetime(1, 1, 1, 1))
    draft = newsroom.article("draft", title="A draft", hot=True)
    trashed = newsroom.article("trash", title="Trashed")
    for article in (late, early, draft):  # a second version, for the history's diffs
        article.version += 1
        article.save()
        Revision.record(article, newsroom.editor, "edited")
    LegacyPost.create(wp_id=7, slug="legacy-post", year=2019, month=7, day=21, article=early)
    SiteSettings.update(timezone=zone).where(SiteSettings.id == 1).execute()
    SiteSettings.bump_content_version()
    with app.test_request_context():
        token = auth.reset_link(victim).rsplit("/", 1)[1]
    return Site(newsroom, admin_user, victim, [late, early, draft, trashed], token)


def walker(app, site, role):
    """A client whose requests are `role`'s; anonymous: a new cookie jar for each."""
    if role == "anonymous":
        return AnonymousClient(app)
    user = site.admin if role == "admin" else getattr(site.newsroom, role)
    return log_in(app.test_client(), user)


class AnonymousClient:
    """Forgets its cookies after each request, so a login or registration in the walk
    does not turn the rest of it into a reader's."""

    def __init__(self, app):
        self.app = app

    def open(self, *args, **kwargs):
        return self.app.test_client().open(*args, **kwargs)


# --- The walk ---------------------------------------------------------------------------------


PLACEHOLDER = 987654321  # builds through every converter; replaced by the hostile value


def walk_order(rule_method):
    rule, method = rule_method
    last = LAST.index(rule.endpoint) if rule.endpoint in LAST else -1
    return (last, method not in ("GET", "HEAD"))


def routes(app):
    pairs = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"OPTIONS"})
    ]
    return sorted(pairs, key=walk_order)  # stable: the map's order within each group


class Walk:
    def __init__(self, app, client, site):
        self.app = app
        self.client = client
        self.site = site
        self.adapter = app.url_map.bind("localhost")
        self.failures = []
        self.requests = 0

    def run(self):
        for rule, method in routes(self.app):
            self.route(rule, method)

    def route(self, rule, method):
        params = PARAMS[rule.endpoint]
        names = sorted(rule.arguments - set(rule.defaults or ()))
        combos = [c for c in url_combos(self.site, names) if self.routes_to(rule, method, c)]
        assert combos or not names, f"no plausible URL for {method} {rule.rule}"
        main, refused = None, True
        for url_values in (combos or [{}])[: 1 if method == "HEAD" else None]:
            for htmx in params.htmx:
                response = self.send(rule, method, url_values, {}, htmx, follow=True)
                if response is None or not is_refusal(response):
                    refused = False
                if main is None and response is not None and response.status_code < 400:
                    main = url_values
        if refused or method == "HEAD":
            return
        main = main or (combos or [{}])[0]
        reads = params.form in (None, method)  # a GET of a form page reads no form
        for name in [*(params.values if reads else ()), *params.query]:
            url_values = {**main, **(params.url or {}).get(name, {})}
            for value in HOSTILE:
                for htmx in params.htmx:
                    self.send(rule, method, url_values, {name: value}, htmx)
        for name in names:
            for value in HOSTILE_IN_URL:
                self.send(rule, method, main, {}, params.htmx[0], raw=(name, value))

    def path(self, rule, url_values, raw=None):
        """The path of `rule` with `url_values`; `raw` = (name, text) puts text as it is."""
        values = {**(rule.defaults or {}), **url_values}
        if raw:
            values[raw[0]] = PLACEHOLDER
        _, path = rule.build(values, append_unknown=False)
        return path.replace(str(PLACEHOLDER), raw[1]) if raw else path

    def routes_to(self, rule, method, url_values):
        try:
            path = self.path(rule, url_values)
            matched, _ = self.adapter.match(path, method=method, return_rule=True)
        except (RequestRedirect, HTTPException):
            return False
        return matched is rule

    def send(self, rule, method, url_values, hostile, htmx, follow=False, raw=None):
        """One request: plausible values but for `hostile` ones; any 5xx is a failure."""
        params = PARAMS[rule.endpoint]
        plausible = {**params.values, **params.query}
        values = {n: hostile.get(n, resolve(v, url_values)) for n, v in plausible.items()}
        query = {n: v for n, v in values.items() if n in params.query}
        form = {n: v for n, v in values.items() if n in params.values}
        if method in ("GET", "HEAD"):
            query, form = {**form, **query}, {}
        path = self.path(rule, url_values, raw)
        target = f"{path}?{encode(query)}" if query else path
        kwargs = {"method": method, "follow_redirects": follow}
        if rule.endpoint in MULTIPART:
            kwargs["data"] = {
                name: io_file(value) if name == "file" else value
                for name, value in form.items()
                if not isinstance(value, tuple)
            }
        elif form:
            kwargs["data"] = encode(form)
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        headers = {**HX, "HX-Target": "desk-results"} if htmx else {}
        self.requests += 1
        try:
            response = self.client.open(target, headers=headers, **kwargs)
        except Exception as error:  # TESTING propagates it: a 500 in production
            problem = f"raised {type(error).__name__}: {str(error)[:200]}"
        else:
            if response.status_code < 500:
                return response
            problem = str(response.status_code)
        shown = {n: v[:40] if isinstance(v, str) else v for n, v in hostile.items()}
        self.failures.append(
            f"{method} {rule.rule} {url_values} {shown or ''}{' htmx' if htmx else ''}"
            f"{f' URL {raw[0]}={raw[1][:40]}' if raw else ''}: {problem}"
        )
        return None


def url_combos(site, names):
    """Plausible values for the URL variables `names`: every combination of their
    candidates when there are few, else as many as the longest list, each candidate of
    each variable in at least one."""
    lists = [site.url_candidates(name) for name in names]
    if math.prod(map(len, lists)) <= 12:
        return [dict(zip(names, values, strict=True)) for values in itertools.product(*lists)]
    longest = max(map(len, lists))
    return [{n: c[i % len(c)] for n, c in zip(names, lists, strict=True)} for i in range(longest)]


def encode(values):
    """A query string or urlencoded body; a tuple repeats the name, Raw goes as it is."""
    parts = []
    for name, value in values.items():
        for one in value if isinstance(value, tuple) else (value,):
            encoded = one if isinstance(one, Raw) else quote(one.encode(), safe="")
            parts.append(f"{quote(name)}={encoded}")
    return "&".join(parts)


def resolve(value, url_values):
    return value.lookup(url_values) if isinstance(value, Current) else value


def io_file(value):
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return (io.BytesIO(data), "upload.jpg")


def is_refusal(response):
    """Sent to log in, or forbidden: the role may not use the route at all."""
    if response.status_code in (401, 403):
        return True
    return bool(response.history) and response.request.path == "/auth/login"


# --- Tests ------------------------------------------------------------------------------------


def test_every_route_is_walked(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - PARAMS.keys() == set(), "add the new routes' parameters to PARAMS"
    assert PARAMS.keys() - endpoints == set(), "PARAMS names routes that are gone"


@pytest.fixture
def cheap_passwords(monkeypatch):
    """Password hashing at a small work factor: the walk changes a password, then checks
    the old one hundreds of times (at the app's own, 50 ms each)."""
    cheap = functools.partial(generate_password_hash, method="scrypt:1024:8:1")
    monkeypatch.setattr(passwords, "generate_password_hash", cheap)
    monkeypatch.setattr(passwords, "_unmatchable_hash", lambda: cheap("no account has this"))


@pytest.mark.parametrize("role", ROLES)
def test_no_input_gives_a_server_error(app, cheap_passwords, role):
    site = build_site(app, ZONES[role])
    walk = Walk(app, walker(app, site, role), site)
    walk.run()
    assert walk.requests > 500
    listed = "\n".join(walk.failures[:60])
    assert not walk.failures, f"{len(walk.failures)} of {walk.requests} requests failed:\n{listed}"
