"""The security baseline, for every blueprint present and future.

* A walk of the URL map: every route that is not explicitly public refuses anonymous
  visitors and readers, so a staff route added later without a guard fails here.
* Headers on every page (CSP without inline script, nosniff, referrer policy, framing),
  and no inline script, event handler or style attribute in any page a crawl reaches.
* Request size limit, CSRF (plain and htmx), and caching of personal pages.
"""

import itertools
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.routing import RequestRedirect
from werkzeug.security import generate_password_hash

import factories
import models
from models import SiteSettings, User

PASSWORD = "plum-orbit-canvas-42"
HTMX = {"HX-Request": "true"}
_serial = itertools.count(1)

# Open to anyone, for every method of the route.
PUBLIC_ENDPOINTS = {
    "static",
    "favicon",
    "healthz",
    "media_file",  # uploaded images: public once stored (media.py)
    "auth.login",
    "auth.register",
    "auth.logout",
    "auth.request_reset",
    "auth.reset_password",
    "auth.confirm_registration",
}
# Reader-facing blueprints: open to anyone for reading (GET, HEAD). Any other method
# on them is a change, and must be guarded like a staff route.
PUBLIC_BLUEPRINTS = {"public", "text", "feeds"}
READ_METHODS = {"GET", "HEAD"}
# Any logged-in account, readers included; anonymous visitors are sent to log in.
ACCOUNT_ENDPOINTS = {"auth.change_password", "auth.logout_everywhere"}

SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


# --- Helpers ----------------------------------------------------------------------------------


def make_account(role="reader", **fields):
    n = next(_serial)
    name = fields.pop("name", f"{role.capitalize()} {n}")
    return User.create(
        email=f"{role}{n}@example.org",
        password_hash=generate_password_hash(PASSWORD, method="scrypt:1024:8:1"),
        role=role,
        display_name=name,
        slug=User.unique_slug(name),
        **fields,
    )


def login(client, user):
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def text(response):
    return response.get_data(as_text=True)


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def is_public(endpoint, method):
    if endpoint in PUBLIC_ENDPOINTS:
        return True
    return endpoint.split(".")[0] in PUBLIC_BLUEPRINTS and method in READ_METHODS


def dummy_url(app, rule):
    """A URL that routes to `rule`, with dummy arguments (ints 1, strings 'x')."""
    adapter = app.url_map.bind("localhost")
    names = sorted(rule.arguments)
    method = sorted(rule.methods - {"OPTIONS"})[0]
    for combo in itertools.product([1, "x"], repeat=len(names)):
        try:
            built = rule.build(dict(zip(names, combo, strict=True)), append_unknown=False)
        except Exception:  # a converter refused the dummy value
            continue
        if built is None:
            continue
        path = built[1]
        try:
            matched, _ = adapter.match(path, method=method, return_rule=True)
        except RequestRedirect:
            continue
        except Exception:
            continue
        if matched is rule:
            return path
    raise AssertionError(f"cannot build a URL for {rule.rule}: teach dummy_url its converter")


def guarded_routes(app):
    """(endpoint, method, url, account_ok) for every non-public route and method."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"OPTIONS"}):
            if is_public(rule.endpoint, method):
                continue
            url = dummy_url(app, rule)
            routes.append((rule.endpoint, method, url, rule.endpoint in ACCOUNT_ENDPOINTS))
    return routes


def refused(response):
    """A refusal: the login page (302), 401 or 403. Never a page, never an error."""
    if response.status_code in (401, 403):
        return True
    if response.status_code == 302:
        return path_of(response.headers["Location"]).startswith("/auth/login")
    return False


class PageParser(HTMLParser):
    """Collects what the CSP forbids: inline scripts, handlers, style attributes, links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.links = []
        self.htmx_gets = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>: inline event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…>: inline style (CSP style-src 'self')")
            if name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"<{tag} {name}>: htmx inline handler needs eval")
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>: javascript: URL")
        if tag == "script" and attributes.get("type") == "application/ld+json":
            pass  # a JSON-LD data block: never run, so the CSP's script-src does not apply
        elif tag == "script":
            if not attributes.get("src"):
                self.problems.append("<script> without src: inline script")
            self._in_inline_script = True
        if tag == "style":
            self.problems.append("<style> element: inline style")
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if attributes.get("hx-get"):
            self.htmx_gets.append(attributes["hx-get"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"<script> with inline code: {data.strip()[:60]!r}")


def csp_directives(response):
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def header_problems(response, staff):
    problems = []
    directives = csp_directives(response)
    if not directives:
        return ["no Content-Security-Policy"]
    script_src = directives.get("script-src", directives.get("default-src"))
    if script_src is None:
        problems.append("CSP has neither script-src nor default-src")
    else:
        for bad in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
            if bad in script_src:
                problems.append(f"script-src allows {bad}")
    if directives.get("object-src") != ["'none'"]:
        problems.append("object-src is not 'none'")
    framing = directives.get("frame-ancestors")
    if staff and framing != ["'none'"]:
        problems.append(f"staff page may be framed: frame-ancestors {framing}")
    if not framing:
        problems.append("no frame-ancestors")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if response.headers.get("Referrer-Policy") not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy {response.headers.get('Referrer-Policy')!r}")
    return problems


def is_staff_path(path):
    return path.startswith(("/auth/", "/admin/", "/desk"))


@pytest.fixture
def content(app):
    """A little of everything a reader can see: sections, rubrics, authors, hot news."""
    author = factories.make_user("Wendy Writer", role="author", bio="Writes about security.")
    for n in range(3):
        factories.make_article(
            title=f"Public piece {n}",
            author=author,
            hot=n == 0,
            section=factories.make_section(["News", "Reports", "Analysis"][n]),
            rubric=factories.make_rubric(["Global Security", "Economy", "Energy"][n]),
        )
    factories.make_article(title="A draft", status=models.Article.DRAFT, author=author)
    return author


def crawl(client, seeds, limit=150):
    """GET every same-site page reachable from `seeds` (and each htmx partial).

    Returns {(url, htmx): (response, parser)} for HTML pages, {url: response} for the
    other responses, and the pages that failed (raised or answered 5xx).
    """
    pages, others, errors = {}, {}, []
    queue = [(seed, False) for seed in seeds]
    seen = set()
    while queue and len(pages) + len(others) < limit:
        url, htmx = queue.pop(0)
        if (url, htmx) in seen:
            continue
        seen.add((url, htmx))
        try:
            response = client.get(url, headers=HTMX if htmx else {})
        except Exception as error:  # TESTING propagates errors: a 500 in production
            errors.append(f"{url}{' (htmx)' if htmx else ''}: raised {error!r}")
            continue
        if response.status_code >= 500:
            errors.append(f"{url}{' (htmx)' if htmx else ''}: {response.status_code}")
        if response.status_code in (301, 302, 303, 307, 308):
            target = path_of(urljoin(url, response.headers["Location"]))
            queue.append((target, htmx))
            continue
        if response.mimetype != "text/html":
            others[url] = response
            continue
        parser = PageParser()
        parser.feed(text(response))
        pages[(url, htmx)] = (response, parser)
        for link in parser.links:
            absolute = urljoin(url, link)
            parts = urlsplit(absolute)
            if parts.netloc not in ("", "localhost") or parts.scheme not in ("", "http"):
                continue
            path = path_of(absolute)
            if path.startswith("/static/") or path in ("/auth/logout",):
                continue
            queue.append((path, False))
        for partial in parser.htmx_gets:
            queue.append((path_of(urljoin(url, partial)), True))
    return pages, others, errors


SEEDS = [
    "/",
    "/text/",
    "/auth/login",
    "/auth/register",
    "/auth/reset",
    "/auth/logout",
    "/auth/password",
    "/auth/reset/not-a-token",
    "/admin/users",
    "/admin/settings",
    "/desk/",
    "/no-such-page",
    "/articles/999999/nothing",
    "/rss.xml",
    "/sitemap.xml",
    "/robots.txt",
    "/healthz",
    "/favicon.ico",
    "/static/js/newsdesk.js",
]


# --- The URL-map walk -------------------------------------------------------------------------


def test_the_walk_covers_the_staff_routes(app):
    walked = {endpoint for endpoint, *_ in guarded_routes(app)}
    for endpoint in (
        "admin.users",
        "admin.change_role",
        "admin.set_active",
        "admin.make_reset_link",
        "admin.settings",
        "auth.change_password",
    ):
        assert endpoint in walked
    # Every rule is either walked or on the public list: nothing slips between.
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"OPTIONS"}:
            assert is_public(rule.endpoint, method) or rule.endpoint in walked, rule


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_every_guarded_route_refuses_anonymous_visitors(app, htmx):
    make_account("admin")  # user 1 exists: dummy ids point at a real account
    client = app.test_client()
    before = snapshot()
    failures = []
    for endpoint, method, url, _ in guarded_routes(app):
        response = client.open(url, method=method, headers=HTMX if htmx else {})
        if not refused(response):
            failures.append(f"{method} {url} ({endpoint}): {response.status_code}")
    assert failures == [], "routes without a guard:\n" + "\n".join(failures)
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_every_staff_route_refuses_a_reader(app, htmx):
    make_account("admin")
    reader = make_account("reader")
    client = login(app.test_client(), reader)
    before = snapshot()
    failures = []
    for endpoint, method, url, account_ok in guarded_routes(app):
        if account_ok:
            continue
        response = client.open(url, method=method, headers=HTMX if htmx else {})
        if not refused(response):
            failures.append(f"{method} {url} ({endpoint}): {response.status_code}")
    assert failures == [], "staff routes open to readers:\n" + "\n".join(failures)
    assert snapshot() == before
    # The reader's session is still theirs (the walk did not log them out or in as another).
    assert client.get("/auth/password").status_code == 200


def test_the_walk_would_catch_an_unguarded_route(app):
    """The walk's own check: a staff route without a guard shows up as a failure."""
    from flask import Blueprint

    leaky = Blueprint("leaky", __name__, url_prefix="/leaky")
    leaky.add_url_rule("/<int:item_id>/secret", "secret", lambda item_id: "staff data")
    app.register_blueprint(leaky)
    client = app.test_client()
    open_routes = [
        url
        for endpoint, method, url, _ in guarded_routes(app)
        if not refused(client.open(url, method=method))
    ]
    assert open_routes == ["/leaky/1/secret", "/leaky/1/secret"]  # GET and HEAD


def snapshot():
    users = [
        (u.id, u.role, u.active, u.login_token, u.password_hash, u.email) for u in User.select()
    ]
    site = SiteSettings.get_by_id(1)
    articles = [(a.id, a.title, a.status, a.version, a.deleted_at) for a in models.Article.select()]
    return users, site.__data__, articles


# --- Headers and markup of every page ---------------------------------------------------------


def check_pages(pages, others, errors):
    problems = list(errors)
    for (url, htmx), (response, parser) in pages.items():
        where = f"{url}{' (htmx)' if htmx else ''} [{response.status_code}]"
        for problem in header_problems(response, staff=is_staff_path(url)):
            problems.append(f"{where}: {problem}")
        for problem in parser.problems:
            problems.append(f"{where}: {problem}")
    for url, response in others.items():
        if response.headers.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{url}: no X-Content-Type-Options: nosniff")
    return problems


def test_every_page_an_anonymous_visitor_reaches_is_safe(app, content):
    pages, others, errors = crawl(app.test_client(), SEEDS)
    assert len(pages) > 15, sorted(pages)
    assert ("/", False) in pages and ("/auth/login", False) in pages
    problems = check_pages(pages, others, errors)
    assert problems == [], "\n".join(problems)


def test_every_page_an_admin_reaches_is_safe(app, content):
    admin = make_account("admin")
    make_account("reader")
    client = login(app.test_client(), admin)
    pages, others, errors = crawl(client, SEEDS)
    reached = {url for url, _ in pages}
    for url in ("/admin/users", "/admin/settings", "/auth/password", "/auth/logout"):
        assert url in reached, sorted(reached)
    for url in ("/admin/users", "/admin/settings", "/auth/password"):
        assert pages[(url, False)][0].status_code == 200, url
    problems = check_pages(pages, others, errors)
    assert problems == [], "\n".join(problems)
    assert client.get("/auth/password").status_code == 200  # the crawl did not log out


@pytest.mark.parametrize(
    "url", ["/", "/text/", "/section/news", "/rss.xml", "/healthz", "/no-such-page"]
)
def test_public_responses_carry_the_security_headers(app, content, url):
    response = app.test_client().get(url)
    assert header_problems(response, staff=False) == []
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("url", ["/auth/login", "/auth/register", "/auth/reset", "/admin/users"])
def test_staff_and_account_pages_cannot_be_framed(app, url):
    response = app.test_client().get(url)
    assert csp_directives(response)["frame-ancestors"] == ["'none'"]
    assert response.headers.get("X-Frame-Options") == "DENY"


def test_error_responses_carry_the_headers(app):
    admin = make_account("admin")
    client = app.test_client()
    reader = login(app.test_client(), make_account("reader"))
    for response, staff in (
        (client.get("/no-such-page"), False),  # 404
        (reader.get("/admin/users"), True),  # 403
        (client.get("/auth/reset/garbage"), True),  # 400
        (client.post("/auth/login", data={"email": admin.email, "password": "x"}), True),
    ):
        assert header_problems(response, staff=staff) == [], response.status_code


@pytest.mark.parametrize(
    ("how", "saved"),
    [("in a transaction", True), ("by one statement", True), ("then rolled back", False)],
)
def test_the_500_page_says_whether_anything_was_saved(app, how, saved):
    """A failure inside a save rolls it back, one after its commit (showing the result,
    say) does not: the page must not say "nothing was saved" then."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # TESTING would raise the error in the test

    @app.post("/fails")
    def fails():
        change = SiteSettings.update(name="Changed")
        if how == "by one statement":
            change.execute()
        else:
            with models.database.atomic():
                change.execute()
                if how == "then rolled back":
                    raise RuntimeError("the save failed")
        raise RuntimeError("showing the result failed")

    response = app.test_client().post("/fails")
    assert response.status_code == 500
    assert (SiteSettings.get_by_id(1).name == "Changed") is saved
    assert ("nothing was saved" in text(response)) is not saved
    assert ("reload the page to see what was saved" in text(response)) is saved
    assert header_problems(response, staff=False) == []


def test_a_step_that_fails_after_its_commit_says_it_was_saved(app, monkeypatch):
    """As trashing an article with a far-future time did: the trash was committed, then
    showing the result failed."""
    import blueprints.desk

    app.config["PROPAGATE_EXCEPTIONS"] = False
    editor = make_account("editor")
    article = factories.make_article(author=editor)

    def broken(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(blueprints.desk, "action_result", broken)
    client = login(app.test_client(), editor)
    response = client.post(
        f"/desk/articles/{article.id}/actions/trash", data={"version": "1"}, headers=HTMX
    )
    assert response.status_code == 500
    assert models.Article.get_by_id(article.id).deleted_at is not None
    assert "nothing was saved" not in text(response)
    assert "reload the page to see what was saved" in text(response)


def test_htmx_is_served_locally_and_configured_for_the_csp(app):
    page = text(app.test_client().get("/"))
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert scripts, "no scripts at all"
    for src in scripts:
        assert src.startswith("/static/"), src  # no CDN
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)
    assert config, "htmx is not configured by a meta tag"
    assert '"allowEval": false' in config.group(1)
    assert '"includeIndicatorStyles": false' in config.group(1)  # it would inject a <style>


def test_csrf_meta_tag_for_htmx_is_present_for_logged_in_users(app):
    client = login(app.test_client(), make_account("admin"))
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', text(client.get("/")))


# --- Request size -----------------------------------------------------------------------------


def test_too_large_a_request_gets_a_friendly_413(app):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = app.test_client().post(
        "/auth/login", data={"email": "a@example.org", "password": "x" * (1024 * 1024 + 10)}
    )
    assert response.status_code == 413
    page = text(response)
    assert "<title>Too large" in page
    assert "larger than 1 MB" in page
    assert "Nothing was saved" in page
    assert header_problems(response, staff=True) == []


def test_413_on_an_admin_route_changes_nothing(app):
    admin = make_account("admin")
    client = login(app.test_client(), admin)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = client.post(
        "/admin/settings",
        data={"name": "Big", "timezone": "UTC", "tagline": "x" * (128 * 1024)},
    )
    assert response.status_code == 413
    assert SiteSettings.get_by_id(1).name == "Newsdesk"
    response = client.post(
        f"/admin/users/{admin.id}/role", data={"role": "x" * (128 * 1024)}, headers=HTMX
    )
    assert response.status_code == 413


def test_413_page_states_a_limit_below_one_megabyte_truthfully(app):
    """A limit of 256 KB must not be announced as "0 MB"."""
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    response = app.test_client().post("/auth/login", data={"password": "x" * (300 * 1024)})
    assert response.status_code == 413
    page = text(response)
    assert "0 MB" not in page
    assert "256 KB" in page or "KB" in page or "kB" in page


def test_the_default_limit_is_set(app):
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 64 * 1024 * 1024


# --- CSRF -------------------------------------------------------------------------------------


def form_token(response):
    page = text(response)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert match, "no CSRF token in the form"
    return match.group(1)


def meta_token(response):
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', text(response))
    assert match, "no CSRF token in the page's <meta>"
    return match.group(1)


def csrf_login(client, user):
    token = form_token(client.get("/auth/login"))
    response = client.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def assert_csrf_refusal(response):
    assert response.status_code == 400
    page = text(response)
    assert "security token" in page
    assert "nothing was changed" in page


@pytest.fixture
def csrf_admin(csrf_app):
    admin = make_account("admin", name="Alice Admin")
    client = csrf_login(csrf_app.test_client(), admin)
    return admin, client


def admin_changes(target):
    return [
        (f"/admin/users/{target.id}/role", {"role": "admin"}),
        (f"/admin/users/{target.id}/active", {"active": "0"}),
        (f"/admin/users/{target.id}/reset-link", {}),
        ("/admin/settings", {"name": "Taken Over", "timezone": "UTC"}),
    ]


@pytest.mark.parametrize("token", [None, "", "wrong", "other-session"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_admin_posts_without_a_valid_token_are_refused(csrf_app, csrf_admin, token, htmx):
    admin, client = csrf_admin
    target = make_account("reader")
    if token == "other-session":
        # A real token, but of another browser's session.
        token = form_token(csrf_app.test_client().get("/auth/login"))
    before = snapshot()
    for url, data in admin_changes(target):
        data = dict(data)
        headers = dict(HTMX) if htmx else {}
        if token is not None:
            if htmx:
                headers["X-CSRFToken"] = token
            else:
                data["csrf_token"] = token
        response = client.post(url, data=data, headers=headers)
        assert_csrf_refusal(response)
        assert "/auth/reset/" not in text(response)  # no reset link leaked
    assert snapshot() == before


def test_htmx_post_with_the_meta_token_succeeds(csrf_app, csrf_admin):
    admin, client = csrf_admin
    target = make_account("reader", name="Rita Reader")
    token = meta_token(client.get("/admin/users"))
    response = client.post(
        f"/admin/users/{target.id}/role",
        data={"role": "editor"},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert text(response).strip().startswith(f'<tr id="user-{target.id}">')
    assert User.get_by_id(target.id).role == "editor"


def test_plain_admin_form_with_its_token_succeeds(csrf_app, csrf_admin):
    admin, client = csrf_admin
    page = client.get("/admin/settings")
    response = client.post(
        "/admin/settings",
        data={"name": "Renamed", "timezone": "UTC", "csrf_token": form_token(page)},
    )
    assert response.status_code == 302
    assert SiteSettings.get_by_id(1).name == "Renamed"


def test_each_user_row_form_carries_a_token(csrf_app, csrf_admin):
    admin, client = csrf_admin
    page = text(client.get("/admin/users"))
    forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", page, re.S)
    assert forms
    for form in forms:
        assert 'name="csrf_token"' in form, form[:120]


@pytest.mark.parametrize("token", [None, "wrong"])
def test_login_without_a_valid_token_is_refused(csrf_app, token):
    user = make_account("reader")
    client = csrf_app.test_client()
    client.get("/auth/login")
    data = {"email": user.email, "password": PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/auth/login", data=data)
    assert_csrf_refusal(response)
    assert client.get("/auth/password").status_code == 302  # not logged in


@pytest.mark.parametrize("token", [None, "wrong"])
def test_register_without_a_valid_token_is_refused(csrf_app, token):
    client = csrf_app.test_client()
    client.get("/auth/register")
    data = {
        "display_name": "Mallory",
        "email": "mallory@example.org",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    if token:
        data["csrf_token"] = token
    response = client.post("/auth/register", data=data)
    assert_csrf_refusal(response)
    assert User.select().count() == 0


def test_register_with_its_token_succeeds(csrf_app, smtp_server):
    from conftest import mail_settings

    csrf_app.config.update(mail_settings(smtp_server, "http://localhost"))
    client = csrf_app.test_client()
    token = form_token(client.get("/auth/register"))
    response = client.post(
        "/auth/register",
        data={
            "display_name": "Ada",
            "email": "ada@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    [link] = smtp_server.handler.links("ada@example.org")[-1:]
    confirm = path_of(link)
    refused = client.post(confirm)  # the confirmation is a form: CSRF-checked too
    assert_csrf_refusal(refused)
    assert User.select().count() == 0
    response = client.post(confirm, data={"csrf_token": form_token(client.get(confirm))})
    assert response.status_code == 302
    assert User.select().count() == 1


def test_account_posts_without_a_token_are_refused(csrf_app):
    user = make_account("reader")
    client = csrf_login(csrf_app.test_client(), user)
    before = snapshot()
    for url, data in (
        ("/auth/password", {"current": PASSWORD, "password": "x" * 12, "confirm": "x" * 12}),
        ("/auth/logout", {}),
    ):
        assert_csrf_refusal(client.post(url, data=data))
    assert snapshot() == before
    assert client.get("/auth/password").status_code == 200


def test_csrf_refusal_page_carries_the_headers(csrf_app):
    response = csrf_app.test_client().post("/auth/login", data={})
    assert_csrf_refusal(response)
    assert header_problems(response, staff=True) == []


# --- Caching of personal pages ----------------------------------------------------------------


def test_pages_of_a_logged_in_user_are_private(app, content):
    article = models.Article.get(models.Article.title == "Public piece 1")
    admin = make_account("admin", name="Alice Admin")
    client = login(app.test_client(), admin)
    for url in (
        "/",
        "/text/",
        f"/articles/{article.id}/{article.slug}",
        "/section/news",
        "/auth/password",
        "/auth/logout",
        "/admin/users",
        "/admin/settings",
        "/no-such-page",
        "/articles/999999/nothing",
    ):
        response = client.get(url)
        cache_control = response.cache_control
        assert cache_control.private and cache_control.no_store, (url, response.status_code)
        assert not cache_control.public, url
        assert "ETag" not in response.headers, url


def test_anonymous_public_pages_are_shared_and_validated(app, content):
    article = models.Article.get(models.Article.title == "Public piece 1")
    client = app.test_client()
    for url in ("/", "/text/", f"/articles/{article.id}/{article.slug}", "/section/news"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers.get("ETag"), url
        assert response.cache_control.public, url
        assert not response.cache_control.private, url


def test_a_logged_in_user_never_gets_the_shared_copy(app, content):
    anonymous = app.test_client().get("/")
    etag = anonymous.headers["ETag"]
    client = login(app.test_client(), make_account("reader", name="Rosa Reader"))
    response = client.get("/", headers={"If-None-Match": etag})
    assert response.status_code == 200  # not 304: the shared copy has no name in it
    assert "Rosa Reader" in text(response)


def test_an_anonymous_page_with_a_message_is_not_shared(app, content):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Just for you")]
    response = client.get("/")
    assert "Just for you" in text(response)
    assert "ETag" not in response.headers
    assert not response.cache_control.public


@pytest.mark.parametrize(
    "url",
    ["/search?q=alpha&section=%00", "/search?q=%00alpha", "/section/a%00b", "/authors/%00"],
)
def test_a_nul_character_in_a_request_is_never_a_500(client, make_article, url):
    # PostgreSQL text cannot hold NUL (databases.Postgres.execute_sql); SQLite can.
    make_article(title="Alpha")
    assert client.get(url).status_code in (200, 404)
    login = client.post("/auth/login", data={"email": "a\x00@example.org", "password": "x"})
    assert login.status_code == 401
