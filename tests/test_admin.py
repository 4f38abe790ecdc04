"""Admin pages: users and roles, deactivation, reset links, site settings; role escalation.

Every action is tried both ways the page sends it: a plain form post (no JavaScript:
redirect and a message) and an htmx post (`HX-Request: true`: just the user's row).
"""

import datetime as dt
import html
import itertools
import re
from urllib.parse import urlsplit

import pytest
from conftest import mail_settings
from werkzeug.security import generate_password_hash

import passwords
from models import SiteSettings, User

PASSWORD = "plum-orbit-canvas-42"
NEW_PASSWORD = "saffron-kettle-harbour-7"
HTMX = {"HX-Request": "true"}
_serial = itertools.count(1)


# --- Helpers ----------------------------------------------------------------------------------


def make_account(role="reader", email=None, name=None, password=PASSWORD, **fields):
    n = next(_serial)
    name = name or f"{role.capitalize()} {n}"
    return User.create(
        email=(email or f"{role}{n}@example.org").lower(),
        # scrypt with a small work factor: a real hash, cheap to check in tests
        password_hash=generate_password_hash(password, method="scrypt:1024:8:1"),
        role=role,
        display_name=name,
        slug=User.unique_slug(name),
        **fields,
    )


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, user, password=PASSWORD):
        response = self.client.post("/auth/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.status_code
        return response

    def is_logged_in(self):
        return self.client.get("/auth/password").status_code == 200


def logged_in(app, user):
    client = app.test_client()
    AuthActions(client).login(user)
    return client


@pytest.fixture
def admin(app):
    return make_account("admin", name="Alice Admin")


@pytest.fixture
def admin_client(app, admin):
    return logged_in(app, admin)


def text(response):
    return response.get_data(as_text=True)


def fresh(user):
    return User.get_by_id(user.id)


def flashes(response):
    match = re.search(r'<div class="flashes"[^>]*>(.*?)</div>', text(response), re.S)
    return (
        [html.unescape(m) for m in re.findall(r"<p>(.*?)</p>", match.group(1), re.S)]
        if (match)
        else []
    )


def row_message(page):
    match = re.search(r'<p class="row-message"[^>]*>(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def field_errors(response, field_id):
    match = re.search(
        rf'<ul class="errors" id="{re.escape(field_id)}-errors">(.*?)</ul>', text(response), re.S
    )
    return (
        [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]
        if (match)
        else []
    )


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login_redirect(response):
    return response.status_code == 302 and path_of(response.headers["Location"]).startswith(
        "/auth/login"
    )


def selected_role(page, user):
    row = re.search(rf'<tr id="user-{user.id}">.*?</tr>', page, re.S).group(0)
    return re.search(r'<option value="(\w+)" selected>', row).group(1)


# --- The users list ---------------------------------------------------------------------------


def test_users_list_shows_every_account(admin_client, admin):
    reader = make_account("reader", name="Rita Reader")
    editor = make_account("editor", name="Eddie Editor")
    User.create(display_name="Contributor Without Login", slug="contributor")  # no email
    response = admin_client.get("/admin/users")
    assert response.status_code == 200
    page = text(response)
    for user in (admin, reader, editor):
        assert f'<tr id="user-{user.id}">' in page
        assert user.email in page
        assert selected_role(page, user) == user.role
    assert "Contributor Without Login" not in page  # not an account
    assert "3 accounts" in page


def test_users_list_shows_deactivated_accounts(admin_client):
    closed = make_account(active=False)
    page = text(admin_client.get("/admin/users"))
    row = re.search(rf'<tr id="user-{closed.id}">.*?</tr>', page, re.S).group(0)
    assert "Deactivated" in row
    assert "Reactivate" in row


def test_users_list_pages_out_of_range_are_404(admin_client):
    for page in ("0", "-1", "abc", "2", "١", "99999999999999999999", "1.5"):
        assert admin_client.get(f"/admin/users?page={page}").status_code == 404, page


def test_header_links_to_admin_for_admins_only(app, admin_client):
    assert 'href="/admin/users"' in text(admin_client.get("/"))
    editor = logged_in(app, make_account("editor"))
    assert 'href="/admin/users"' not in text(editor.get("/"))


# --- Roles ------------------------------------------------------------------------------------


def test_change_role_with_a_plain_form(admin_client):
    user = make_account("reader", name="Rita Reader")
    response = admin_client.post(f"/admin/users/{user.id}/role", data={"role": "editor"})
    assert response.status_code == 302
    assert path_of(response.headers["Location"]).startswith("/admin/users")
    assert fresh(user).role == "editor"
    page = admin_client.get(response.headers["Location"])
    assert "Rita Reader is now editor." in flashes(page)
    assert selected_role(text(page), user) == "editor"


def test_change_role_with_htmx_returns_the_row(admin_client):
    user = make_account("reader", name="Rita Reader")
    response = admin_client.post(
        f"/admin/users/{user.id}/role", data={"role": "author"}, headers=HTMX
    )
    assert response.status_code == 200
    page = text(response).strip()
    assert page.startswith(f'<tr id="user-{user.id}">')
    assert page.endswith("</tr>")
    assert "<html" not in page and "<body" not in page
    assert row_message(page) == "Rita Reader is now author."
    assert selected_role(page, user) == "author"
    assert fresh(user).role == "author"


@pytest.mark.parametrize("role", ["superuser", "", "Admin", "admin ", "reader,admin"])
def test_invalid_role_is_refused(admin_client, role):
    user = make_account("reader")
    response = admin_client.post(f"/admin/users/{user.id}/role", data={"role": role}, headers=HTMX)
    assert response.status_code == 422
    assert row_message(text(response)) == "Choose one of the listed roles."
    assert fresh(user).role == "reader"


def test_missing_role_is_refused(admin_client):
    user = make_account("author")
    response = admin_client.post(f"/admin/users/{user.id}/role", data={}, headers=HTMX)
    assert response.status_code == 422
    assert fresh(user).role == "author"


def test_invalid_role_with_a_plain_form_changes_nothing_and_says_why(admin_client):
    user = make_account("reader")
    response = admin_client.post(
        f"/admin/users/{user.id}/role", data={"role": "superuser"}, follow_redirects=True
    )
    assert "Choose one of the listed roles." in text(response)
    assert fresh(user).role == "reader"


@pytest.mark.parametrize("action", ["role", "active", "reset-link"])
def test_actions_on_a_missing_user_are_404(admin_client, action):
    response = admin_client.post(f"/admin/users/9999/{action}", data={"role": "editor"})
    assert response.status_code == 404


def test_last_admin_cannot_demote_themselves(admin_client, admin):
    for headers in (HTMX, {}):
        response = admin_client.post(
            f"/admin/users/{admin.id}/role", data={"role": "editor"}, headers=headers
        )
        if headers:
            assert response.status_code == 409
            assert row_message(text(response)) == "The last admin cannot stop being admin."
        else:
            shown = admin_client.get(response.headers["Location"])
            assert "The last admin cannot stop being admin." in flashes(shown)
        assert fresh(admin).role == "admin"


def test_last_admin_cannot_deactivate_themselves(admin_client, admin):
    for headers in (HTMX, {}):
        response = admin_client.post(
            f"/admin/users/{admin.id}/active", data={"active": "0"}, headers=headers
        )
        if headers:
            assert response.status_code == 409
            assert row_message(text(response)) == "The last admin cannot be deactivated."
        else:
            shown = admin_client.get(response.headers["Location"])
            assert "The last admin cannot be deactivated." in flashes(shown)
        assert fresh(admin).active
        assert AuthActions(admin_client).is_logged_in()


def test_with_two_admins_one_can_demote_the_other(app, admin_client, admin):
    other = make_account("admin", name="Bob Admin")
    response = admin_client.post(
        f"/admin/users/{other.id}/role", data={"role": "editor"}, headers=HTMX
    )
    assert response.status_code == 200
    assert fresh(other).role == "editor"
    # Bob is no admin any more: the admin pages close to him at once.
    bob = logged_in(app, other)
    assert bob.get("/admin/users").status_code == 403
    # Alice is now the last admin.
    refused = admin_client.post(
        f"/admin/users/{admin.id}/role", data={"role": "editor"}, headers=HTMX
    )
    assert refused.status_code == 409


def test_an_admin_may_step_down_when_another_admin_remains(app, admin_client, admin):
    make_account("admin")
    response = admin_client.post(
        f"/admin/users/{admin.id}/role", data={"role": "editor"}, headers=HTMX
    )
    assert response.status_code == 200
    assert fresh(admin).role == "editor"
    assert admin_client.get("/admin/users").status_code == 403


def test_a_deactivated_admin_does_not_count_as_the_other_admin(admin_client, admin):
    make_account("admin", active=False)
    response = admin_client.post(
        f"/admin/users/{admin.id}/role", data={"role": "editor"}, headers=HTMX
    )
    assert response.status_code == 409
    assert fresh(admin).role == "admin"


# --- Deactivation -----------------------------------------------------------------------------


def test_deactivate_ends_the_users_live_session(app, admin_client):
    user = make_account("author", name="Otto Author")
    victim = logged_in(app, user)
    assert AuthActions(victim).is_logged_in()

    response = admin_client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"])
    assert any("Otto Author is deactivated" in message for message in flashes(page))
    assert not fresh(user).active

    # The next request of the user's browser is anonymous.
    response = victim.get("/auth/password")
    assert login_redirect(response)
    assert ">Login<" in text(victim.get("/"))
    # …and logging in again is refused.
    again = victim.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert again.status_code == 401


def test_deactivate_ends_a_remember_me_session(app, admin_client):
    user = make_account()
    victim = app.test_client()
    victim.post("/auth/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    victim.delete_cookie("session")
    assert AuthActions(victim).is_logged_in()
    admin_client.post(f"/admin/users/{user.id}/active", data={"active": "0"}, headers=HTMX)
    victim.delete_cookie("session")
    assert not AuthActions(victim).is_logged_in()


def test_deactivate_with_htmx_returns_the_row_and_reactivate(app, admin_client):
    user = make_account(name="Otto Author")
    response = admin_client.post(
        f"/admin/users/{user.id}/active", data={"active": "0"}, headers=HTMX
    )
    assert response.status_code == 200
    page = text(response)
    assert page.strip().startswith(f'<tr id="user-{user.id}">')
    assert "Deactivated" in page and "Reactivate" in page
    assert row_message(page) == "Otto Author is deactivated; their sessions have ended."

    response = admin_client.post(
        f"/admin/users/{user.id}/active", data={"active": "1"}, headers=HTMX
    )
    assert response.status_code == 200
    assert row_message(text(response)) == "Otto Author is active again."
    assert fresh(user).active
    AuthActions(app.test_client()).login(user)  # the account opens again


# --- Reset links ------------------------------------------------------------------------------


def reset_link_from(response):
    match = re.search(r'class="reset-url"[^>]*value="([^"]+)"', text(response))
    if match:
        return html.unescape(match.group(1))
    for message in flashes(response):
        found = re.search(r"https?://\S+/auth/reset/\S+", message)
        if found:
            return found.group(0)
    raise AssertionError("no reset link shown")


def use_reset_link(client, link, password=NEW_PASSWORD):
    return client.post(path_of(link), data={"password": password, "confirm": password})


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_reset_link_from_the_admin_page_works_once(app, admin_client, htmx):
    user = make_account(name="Forgetful Fran")
    response = admin_client.post(f"/admin/users/{user.id}/reset-link", headers=HTMX if htmx else {})
    if htmx:
        assert response.status_code == 200
        assert text(response).strip().startswith(f'<tr id="user-{user.id}">')
    else:
        assert response.status_code == 302
        response = admin_client.get(response.headers["Location"])
    link = reset_link_from(response)

    visitor = app.test_client()
    assert visitor.get(path_of(link)).status_code == 200
    assert use_reset_link(visitor, link).status_code == 302
    assert passwords.verify_password(fresh(user).password_hash, NEW_PASSWORD)
    again = app.test_client().get(path_of(link))
    assert again.status_code == 400
    assert "This link does not work" in text(again)


def test_reset_link_for_a_deactivated_account_is_refused(admin_client):
    user = make_account(active=False)
    response = admin_client.post(f"/admin/users/{user.id}/reset-link", headers=HTMX)
    assert response.status_code == 409
    assert row_message(text(response)) == "Only active accounts get reset links."
    assert 'class="reset-url"' not in text(response)


def test_reset_link_does_not_change_the_password_until_used(app, admin_client):
    user = make_account()
    admin_client.post(f"/admin/users/{user.id}/reset-link", headers=HTMX)
    AuthActions(app.test_client()).login(user)


# --- Site settings ----------------------------------------------------------------------------

SETTINGS = {
    "name": "Война и мир",
    "tagline": "News & analysis, since forever",
    "founded_line": "The site was founded by Inca Group in 2006",
    "copyright_line": "2006-2022 Inca Group",
    "timezone": "Asia/Tokyo",
    "registration_open": "y",
}


def settings_form(**overrides):
    data = {**SETTINGS, **overrides}
    return {key: value for key, value in data.items() if value is not None}


def test_settings_page_shows_the_current_values(admin_client):
    SiteSettings.update(tagline="Old tagline", timezone="Europe/Moscow").execute()
    response = admin_client.get("/admin/settings")
    assert response.status_code == 200
    page = text(response)
    assert 'value="Newsdesk"' in page
    assert 'value="Old tagline"' in page
    assert 'value="Europe/Moscow"' in page
    assert re.search(r'<input[^>]*checked[^>]*name="registration_open"', page) or re.search(
        r'<input[^>]*name="registration_open"[^>]*checked', page
    )


def test_settings_are_saved_and_shown_on_public_pages(app, admin_client, make_article):
    article = make_article(
        title="Tokyo time", published_at=dt.datetime(2024, 1, 15, 12, 0), hot=True
    )
    anonymous = app.test_client()
    before = anonymous.get(f"/articles/{article.id}/{article.slug}")
    assert "15.01.24 12:00" in text(before)  # UTC, the default
    etag = before.headers.get("ETag")

    response = admin_client.post("/admin/settings", data=settings_form())
    assert response.status_code == 302
    assert "Settings saved." in flashes(admin_client.get(response.headers["Location"]))

    site = SiteSettings.get_by_id(1)
    assert site.name == "Война и мир"
    assert site.timezone == "Asia/Tokyo"
    assert site.copyright_line == "2006-2022 Inca Group"

    # A reader's cached copy is stale now: no 304 for the old validator.
    revalidated = anonymous.get(
        f"/articles/{article.id}/{article.slug}", headers={"If-None-Match": etag or ""}
    )
    assert revalidated.status_code == 200
    tagline = html.escape("News & analysis, since forever")
    for url in ("/", f"/articles/{article.id}/{article.slug}", "/text/"):
        page = text(anonymous.get(url))
        header = re.search(r"<header.*?</header>", page, re.S).group(0)
        footer = re.search(r'<footer class="site-footer">.*?</footer>', page, re.S).group(0)
        assert "Война и мир" in header, url
        assert "The site was founded by Inca Group in 2006" in footer, url
        assert "2006-2022 Inca Group" in footer, url
        assert f'<meta name="description" content="{tagline}">' in page or url != "/", url
        if not url.startswith("/text/"):
            assert f'<p class="tagline">{tagline}</p>' in header, url
    page = text(anonymous.get(f"/articles/{article.id}/{article.slug}"))
    assert "15.01.24 21:00" in page  # 12:00 UTC is 21:00 in Tokyo
    assert "15.01.24 12:00" not in page
    assert "<title>Tokyo time — Война и мир</title>" in page


def test_settings_close_registration(app, admin_client):
    response = admin_client.post("/admin/settings", data=settings_form(registration_open=None))
    assert response.status_code == 302
    assert SiteSettings.get_by_id(1).registration_open is False
    anonymous = app.test_client()
    assert 'href="/auth/register"' not in text(anonymous.get("/"))
    assert anonymous.get("/auth/register").status_code == 403

    admin_client.post("/admin/settings", data=settings_form())
    assert 'href="/auth/register"' in text(anonymous.get("/"))
    assert anonymous.get("/auth/register").status_code == 200


@pytest.mark.parametrize(
    "timezone",
    ["Mars/Olympus_Mons", "utc+3", "", "../../etc/passwd", "Europe/Moscow\x00", "x" * 500],
)
def test_invalid_timezone_is_refused_and_nothing_saved(admin_client, timezone):
    response = admin_client.post(
        "/admin/settings", data=settings_form(timezone=timezone, name="Should Not Save")
    )
    assert response.status_code == 400
    assert field_errors(response, "timezone")
    site = SiteSettings.get_by_id(1)
    assert site.name == "Newsdesk"
    assert site.timezone == "UTC"


def test_invalid_timezone_message(admin_client):
    response = admin_client.post("/admin/settings", data=settings_form(timezone="Mars/Olympus"))
    assert field_errors(response, "timezone") == [
        "Unknown timezone. Use a name like Europe/Moscow or UTC."
    ]


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_site_name_is_refused(admin_client, name):
    response = admin_client.post("/admin/settings", data=settings_form(name=name))
    assert response.status_code == 400
    assert field_errors(response, "name")
    site = SiteSettings.get_by_id(1)
    assert site.name == "Newsdesk"
    assert site.timezone == "UTC"


@pytest.mark.parametrize("field", ["name", "tagline", "founded_line", "copyright_line"])
def test_huge_settings_are_refused(admin_client, field):
    response = admin_client.post("/admin/settings", data=settings_form(**{field: "x" * 10_000}))
    assert response.status_code == 400
    assert field_errors(response, field)
    assert SiteSettings.get_by_id(1).timezone == "UTC"


def test_settings_refuse_a_file_in_place_of_a_text_field(admin_client):
    import io

    data = settings_form()
    data["name"] = (io.BytesIO(b"Uploaded"), "name.txt")
    response = admin_client.post("/admin/settings", data=data, content_type="multipart/form-data")
    # The file is not a form field: refused, or ignored (the name stays as it was).
    assert response.status_code in (302, 400)
    assert SiteSettings.get_by_id(1).name == "Newsdesk"


def test_settings_are_escaped_on_public_pages(app, admin_client):
    admin_client.post(
        "/admin/settings",
        data=settings_form(name="<script>alert(1)</script>", tagline='"><img src=x>'),
    )
    page = text(app.test_client().get("/"))
    assert "<script>alert(1)" not in page
    assert "<img src=x>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_optional_settings_may_be_emptied(app, admin_client):
    admin_client.post("/admin/settings", data=settings_form())
    response = admin_client.post(
        "/admin/settings",
        data=settings_form(tagline="", founded_line="", copyright_line="", timezone="UTC"),
    )
    assert response.status_code == 302
    page = text(app.test_client().get("/"))
    assert "Inca Group" not in page


# --- Role escalation --------------------------------------------------------------------------


def admin_posts(target):
    """Every state-changing admin request, aimed at `target`, with what it would change."""
    return [
        (f"/admin/users/{target.id}/role", {"role": "admin"}),
        (f"/admin/users/{target.id}/active", {"active": "0"}),
        (f"/admin/users/{target.id}/reset-link", {}),
        ("/admin/settings", settings_form(name="Taken Over")),
    ]


def snapshot():
    users = [(u.id, u.role, u.active, u.login_token, u.password_hash) for u in User.select()]
    site = SiteSettings.get_by_id(1)
    return users, (site.name, site.timezone, site.registration_open, site.content_version)


@pytest.mark.parametrize("role", ["reader", "author", "editor"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_non_admins_get_403_from_every_admin_route(app, admin, role, htmx):
    user = make_account(role)
    client = logged_in(app, user)
    headers = HTMX if htmx else {}
    before = snapshot()
    for target in (user, admin):
        for url, data in admin_posts(target):
            response = client.post(url, data=data, headers=headers)
            assert response.status_code == 403, (url, response.status_code)
            assert "/auth/reset/" not in text(response)
    for url in ("/admin/users", "/admin/settings"):
        assert client.get(url, headers=headers).status_code == 403, url
    assert snapshot() == before


def test_an_author_cannot_change_their_own_role(app):
    author = make_account("author")
    client = logged_in(app, author)
    for role in ("admin", "editor"):
        response = client.post(f"/admin/users/{author.id}/role", data={"role": role})
        assert response.status_code == 403
        response = client.post(f"/admin/users/{author.id}/role", data={"role": role}, headers=HTMX)
        assert response.status_code == 403
    assert fresh(author).role == "author"
    assert 'href="/admin/users"' not in text(client.get("/"))


def test_form_fields_cannot_raise_a_role(app, smtp_server):
    """Extra fields on the reader's own forms do not set a role."""
    reader = make_account("reader")
    client = logged_in(app, reader)
    client.post(
        "/auth/password",
        data={
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "role": "admin",
        },
    )
    assert fresh(reader).role == "reader"
    app.config.update(mail_settings(smtp_server, "http://localhost"))
    anonymous = app.test_client()
    anonymous.post(
        "/auth/register",
        data={
            "display_name": "Mallory",
            "email": "mallory@example.org",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "role": "admin",
            "active": "1",
        },
    )
    [link] = smtp_server.handler.links("mallory@example.org")[-1:]
    anonymous.post(urlsplit(link).path, data={"role": "admin", "active": "1"})
    assert User.get(User.email == "mallory@example.org").role == "reader"


def test_anonymous_visitors_are_sent_to_the_login_page(app, admin):
    client = app.test_client()
    before = snapshot()
    for url, data in admin_posts(admin):
        response = client.post(url, data=data)
        assert login_redirect(response), (url, response.status_code)
    for url in ("/admin/users", "/admin/settings"):
        response = client.get(url)
        assert login_redirect(response), url
        assert (
            path_of(response.headers["Location"]) == f"/auth/login?next={url.replace('/', '%2F')}"
        )
    assert snapshot() == before


def test_an_admin_demoted_mid_session_loses_access_at_once(app, admin_client, admin):
    other = make_account("admin")
    other_client = logged_in(app, other)
    assert other_client.get("/admin/users").status_code == 200
    admin_client.post(f"/admin/users/{other.id}/role", data={"role": "reader"}, headers=HTMX)
    response = other_client.post(
        f"/admin/users/{admin.id}/role", data={"role": "reader"}, headers=HTMX
    )
    assert response.status_code == 403
    assert fresh(admin).role == "admin"
