"""Accounts: register, log in and out, throttling, password change and reset, create-user.

Each test asserts what a visitor sees (status, Location, the page's HTML) and what is
stored. Users made directly by these tests get a cheap scrypt hash (N=1024), so logging
them in costs a millisecond; the app's own hashes (register, change, reset) stay real.
"""

import datetime as dt
import html
import itertools
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import itsdangerous
import pytest
from conftest import free_port
from markupsafe import escape
from werkzeug.security import generate_password_hash

import models
import passwords
from blueprints import auth as auth_views
from models import LoginFailure, SiteSettings, User

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "plum-orbit-canvas-42"
NEW_PASSWORD = "saffron-kettle-harbour-7"
GOOD_NAME = "Ada Reader"
_serial = itertools.count(1)


# --- Helpers ----------------------------------------------------------------------------------


def cheap_hash(password):
    """A real scrypt hash, with a small work factor: fast to check in tests."""
    return generate_password_hash(password, method="scrypt:1024:8:1")


def make_account(email=None, role="reader", password=PASSWORD, name=None, **fields):
    n = next(_serial)
    email = email or f"user{n}@example.org"
    name = name or f"User {n}"
    return User.create(
        email=email.lower(),
        password_hash=cheap_hash(password),
        role=role,
        display_name=name,
        slug=User.unique_slug(name),
        **fields,
    )


class AuthActions:
    """Logging in and out through the client, as a browser would (flaskr-style)."""

    def __init__(self, client):
        self.client = client

    def login(self, email, password=PASSWORD, remember=False, next=None, **kwargs):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        if next is not None:
            data["next"] = next
        return self.client.post("/auth/login", data=data, **kwargs)

    def logout(self):
        return self.client.post("/auth/logout")

    def is_logged_in(self):
        # A page only a logged-in user may open; anonymous visitors go to the login page.
        return self.client.get("/auth/password").status_code == 200


@pytest.fixture
def auth(client):
    return AuthActions(client)


def text(response):
    return response.get_data(as_text=True)


def header(response):
    """The header's account links, as HTML."""
    match = re.search(r'<div class="account">(.*?)</div>', text(response), re.S)
    assert match, "the page has no account links"
    return match.group(1)


def field_errors(response, field_id):
    """The error messages shown next to one form field."""
    match = re.search(
        rf'<ul class="errors" id="{re.escape(field_id)}-errors">(.*?)</ul>', text(response), re.S
    )
    if not match:
        return []
    return [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def form_errors(response):
    match = re.search(r'<div class="form-errors"[^>]*>(.*?)</div>', text(response), re.S)
    if not match:
        return []
    return [html.unescape(m) for m in re.findall(r"<p>(.*?)</p>", match.group(1), re.S)]


def set_cookies(response):
    return response.headers.getlist("Set-Cookie")


def cookie_header(response, name):
    found = [c for c in set_cookies(response) if c.startswith(f"{name}=")]
    return found[-1] if found else None


def cookie_flags(set_cookie):
    return {part.strip().split("=")[0].lower(): part.strip() for part in set_cookie.split(";")[1:]}


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def registration(**overrides):
    data = {
        "display_name": GOOD_NAME,
        "email": "ada@example.org",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Register ---------------------------------------------------------------------------------


def test_register_page_shows_the_form(client):
    response = client.get("/auth/register")
    assert response.status_code == 200
    page = text(response)
    for name in ("display_name", "email", "password", "confirm"):
        assert f'name="{name}"' in page


def register_and_confirm(client, mailbox, path="/auth/register", **overrides):
    """Register, open the link mailed to the address, confirm: the confirmation's answer."""
    data = registration(**overrides)
    response = client.post(path, data=data)
    assert response.status_code == 200, text(response)
    assert "Check your email" in text(response)
    link = mailbox.links(data["email"].strip().lower())[-1]
    assert "Confirm and log in" in text(client.get(path_of(link)))
    return client.post(path_of(link))


def test_register_mails_a_link_that_creates_the_reader_and_logs_in(client, mailbox):
    response = client.post("/auth/register", data=registration(email="Ada.Lovelace@Example.ORG"))
    assert response.status_code == 200
    assert "ada.lovelace@example.org" in text(response)
    assert User.select().count() == 0  # nothing until the address is confirmed
    assert "Log out" not in header(response)
    [message] = mailbox.to("ada.lovelace@example.org")
    assert "Confirm your address" in message["Subject"]
    [link] = mailbox.links("ada.lovelace@example.org")
    assert link.startswith("http://localhost/auth/register/confirm/")

    confirm = client.get(path_of(link))  # a mail scanner opening the link creates nothing
    assert confirm.status_code == 200
    assert User.select().count() == 0
    response = client.post(path_of(link))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    page = client.get("/")
    account = header(page)
    assert GOOD_NAME in account
    assert "Log out" in account
    assert "Registration" not in account
    assert ">Login<" not in account
    assert "Your account is ready" in text(page)  # the welcome message, shown once

    user = User.get()
    assert user.email == "ada.lovelace@example.org"
    assert user.display_name == GOOD_NAME
    assert user.role == "reader"
    assert user.active
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert passwords.verify_password(user.password_hash, PASSWORD)
    # The link works once.
    assert client.post(path_of(link)).status_code == 400
    assert "does not work" in text(client.get(path_of(link)))


def test_an_existing_address_gets_the_same_answer_and_a_note_to_its_owner(client, mailbox):
    make_account("taken@example.org", name="First Owner")
    taken = client.post("/auth/register", data=registration(email="TAKEN@Example.Org"))
    new = client.post("/auth/register", data=registration(email="new@example.org"))
    assert taken.status_code == new.status_code == 200
    assert main_of(taken).replace("taken@example.org", "X") == main_of(new).replace(
        "new@example.org", "X"
    )
    [note] = mailbox.to("taken@example.org")
    assert "already has one" in note.get_body(("plain",)).get_content()
    assert "/auth/register/confirm/" not in note.get_body(("plain",)).get_content()
    assert User.select().count() == 1
    assert User.get().display_name == "First Owner"
    assert passwords.verify_password(User.get().password_hash, PASSWORD)  # untouched


def test_registration_mails_are_capped_per_address_and_per_client(client, mailbox):
    for _ in range(3):
        assert client.post("/auth/register", data=registration()).status_code == 200
    response = client.post("/auth/register", data=registration())
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many registrations" in text(response)
    assert len(mailbox.to("ada@example.org")) == 3
    # From one client address, many addresses: capped too.
    for n in range(7):
        client.post("/auth/register", data=registration(email=f"n{n}@example.org"))
    refused = client.post("/auth/register", data=registration(email="x@example.org"))
    assert refused.status_code == 429
    other = client.application.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    assert other.post("/auth/register", data=registration(email="y@example.org")).status_code == 200


def test_a_confirmation_link_when_the_address_got_an_account_meanwhile(client, mailbox):
    client.post("/auth/register", data=registration())
    link = mailbox.links("ada@example.org")[-1]
    make_account("ada@example.org", name="Quicker")
    response = client.post(path_of(link))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")
    assert User.select().count() == 1 and User.get().display_name == "Quicker"


def test_an_expired_confirmation_link_is_refused(client, mailbox):
    from models import Registration

    client.post("/auth/register", data=registration())
    link = mailbox.links("ada@example.org")[-1]
    long_ago = models.utcnow() - Registration.LIFETIME - dt.timedelta(minutes=1)
    Registration.update(created_at=long_ago).execute()
    assert client.post(path_of(link)).status_code == 400
    assert User.select().count() == 0


@pytest.mark.parametrize("token", ["x", "a" * 43, "%00", "a" * 2000, "../login"])
def test_garbage_confirmation_tokens_are_refused(client, token):
    for method in (client.get, client.post):
        response = method(f"/auth/register/confirm/{token}")
        assert response.status_code in (400, 404)
    assert User.select().count() == 0


def test_register_when_the_mail_server_is_down_says_so(client, mailbox):
    client.application.config["MAIL_PORT"] = free_port()  # nothing listens there
    response = client.post("/auth/register", data=registration())
    assert response.status_code == 503
    assert "could not be sent" in text(response)


def test_register_trims_spaces_around_the_email(client, mailbox):
    """As login does (User.by_email strips): a pasted address with a space still works."""
    assert register_and_confirm(client, mailbox, email="  ada@example.org ").status_code == 302
    assert User.get().email == "ada@example.org"


def test_register_with_a_local_next_goes_there(client, mailbox):
    response = register_and_confirm(client, mailbox, path="/auth/register?next=/rss.xml")
    assert response.headers["Location"] == "/rss.xml"


def test_register_ignores_a_foreign_next(client, mailbox):
    response = register_and_confirm(client, mailbox, path="/auth/register?next=//evil.example")
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "name", ["Zoë Łukasiewicz", "Фёдор Достоевский", "李小龍", "José  María   O'Neil"]
)
def test_register_accepts_unicode_names(client, mailbox, name):
    assert register_and_confirm(client, mailbox, display_name=name).status_code == 302
    user = User.get()
    assert user.display_name == " ".join(name.split())
    assert user.slug  # every account gets a usable slug, even from non-Latin names
    assert str(escape(user.display_name)) in header(client.get("/"))


def test_two_registrations_with_the_same_name_get_distinct_slugs(app, mailbox):
    for email in ("one@example.org", "two@example.org"):
        assert register_and_confirm(app.test_client(), mailbox, email=email).status_code == 302
    assert len({user.slug for user in User.select()}) == 2


HUGE = "x" * 10_000

BAD_REGISTRATIONS = {
    # field, value -> the field whose error is shown, a phrase of the message
    "empty name": ({"display_name": ""}, "display_name", "required"),
    "blank name": ({"display_name": "   "}, "display_name", "required"),
    "missing name": ({"display_name": None}, "display_name", "required"),
    "huge name": ({"display_name": HUGE}, "display_name", "80"),
    "empty email": ({"email": ""}, "email", "required"),
    "missing email": ({"email": None}, "email", "required"),
    "huge email": ({"email": HUGE + "@example.org"}, "email", "254"),
    "no at sign": ({"email": "ada.example.org"}, "email", "email address"),
    "no domain": ({"email": "ada@"}, "email", "email address"),
    "no dot in domain": ({"email": "ada@localhost"}, "email", "email address"),
    "space in email": ({"email": "ada lovelace@example.org"}, "email", "email address"),
    "two at signs": ({"email": "ada@@example.org"}, "email", "email address"),
    "empty password": ({"password": "", "confirm": ""}, "password", "required"),
    "missing password": ({"password": None, "confirm": None}, "password", "required"),
    "short password": ({"password": "tiny-pw1", "confirm": "tiny-pw1"}, "password", "at least"),
    "huge password": ({"password": HUGE, "confirm": HUGE}, "password", "at most"),
    "common password123": (
        {"password": "password123", "confirm": "password123"},
        "password",
        "commonly used",
    ),
    "common qwerty123456": (
        {"password": "qwerty123456", "confirm": "qwerty123456"},
        "password",
        "commonly used",
    ),
    "common, capitalised": (
        {"password": "Password123!", "confirm": "Password123!"},
        "password",
        "commonly used",
    ),
    "keyboard run": (
        {"password": "1234567890", "confirm": "1234567890"},
        "password",
        "",
    ),
    "one repeated character": (
        {"password": "aaaaaaaaaaaa", "confirm": "aaaaaaaaaaaa"},
        "password",
        "too easy",
    ),
    "password contains the email name": (
        {
            "email": "marguerite@example.org",
            "password": "marguerite-rocks-99",
            "confirm": "marguerite-rocks-99",
        },
        "password",
        "name or email",
    ),
    "password contains the display name": (
        {
            "display_name": "Bartholomew",
            "password": "xx-bartholomew-xx",
            "confirm": "xx-bartholomew-xx",
        },
        "password",
        "name or email",
    ),
    "mismatched confirm": ({"confirm": PASSWORD + "!"}, "confirm", "differ"),
    "empty confirm": ({"confirm": ""}, "confirm", "required"),
    "huge confirm": ({"confirm": HUGE}, "confirm", "differ"),
}


@pytest.mark.parametrize(
    ("overrides", "field", "phrase"), BAD_REGISTRATIONS.values(), ids=BAD_REGISTRATIONS.keys()
)
def test_register_refuses_bad_input(client, overrides, field, phrase):
    response = client.post("/auth/register", data=registration(**overrides))
    assert response.status_code == 400
    errors = field_errors(response, field)
    assert errors, f"no error shown next to {field}"
    assert any(phrase.lower() in error.lower() for error in errors), errors
    assert 'aria-invalid="true"' in text(response)
    assert User.select().count() == 0
    assert "Log out" not in header(response)


def test_register_never_echoes_the_password(client):
    response = client.post(
        "/auth/register", data=registration(email="bad", password=PASSWORD, confirm=PASSWORD)
    )
    assert response.status_code == 400
    assert PASSWORD not in text(response)


def test_register_keeps_what_was_typed_when_refused(client):
    response = client.post("/auth/register", data=registration(email="ada@localhost"))
    assert response.status_code == 400
    assert 'value="Ada Reader"' in text(response)
    assert 'value="ada@localhost"' in text(response)


def test_register_escapes_a_name_with_markup(client, mailbox):
    name = '<img src=x onerror="alert(1)">Eve'
    assert register_and_confirm(client, mailbox, display_name=name).status_code == 302
    page = text(client.get("/"))
    assert "<img src=x" not in page
    assert "&lt;img src=x" in page


@pytest.mark.parametrize(
    "field", ["display_name", "email", "password", "confirm"], ids=lambda f: f"file as {f}"
)
def test_register_refuses_a_file_in_place_of_a_text_field(client, field):
    """A wrong type: a multipart file upload where a text field is expected."""
    import io

    data = registration()
    data[field] = (io.BytesIO(b"ada@example.org"), "evil.txt")
    response = client.post("/auth/register", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert User.select().count() == 0


def test_register_with_repeated_fields_uses_one_value(client):
    """A wrong type: a field sent twice (a list) is not stored as a list."""
    data = registration()
    data["email"] = ["ada@example.org", "eve@example.org"]
    response = client.post("/auth/register", data=data)
    assert response.status_code in (200, 400)
    assert User.select().count() == 0


def test_register_when_logged_in_goes_home(client, auth):
    user = make_account()
    auth.login(user.email)
    response = client.post("/auth/register", data=registration())
    assert response.status_code == 302
    assert User.select().count() == 1


@pytest.fixture
def registration_closed(app):
    SiteSettings.update(registration_open=False).execute()


def test_closed_registration_says_so(client, registration_closed):
    response = client.get("/auth/register")
    assert response.status_code == 403
    assert "Registration is closed" in text(response)
    assert 'name="password"' not in text(response)


def test_closed_registration_creates_nothing(client, registration_closed):
    response = client.post("/auth/register", data=registration())
    assert response.status_code == 403
    assert User.select().count() == 0
    assert "Log out" not in header(client.get("/"))


def test_closed_registration_drops_the_header_link(client, registration_closed):
    for url in ("/", "/auth/login"):
        page = text(client.get(url))
        assert 'href="/auth/register"' not in page, url
        assert ">Registration<" not in page
    assert ">Login<" in header(client.get("/"))


def test_open_registration_has_the_header_link(client):
    account = header(client.get("/"))
    assert 'href="/auth/register">Registration</a>' in account
    assert 'href="/auth/login">Login</a>' in account


# --- Log in -----------------------------------------------------------------------------------


def test_login_page(client):
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert 'name="email"' in text(response)
    assert 'name="password"' in text(response)


def test_login_succeeds_and_shows_the_name(client, auth):
    user = make_account(name="Grace Hopper")
    response = auth.login(user.email.upper())  # email is case-insensitive
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    account = header(client.get("/"))
    assert "Grace Hopper" in account
    assert "Log out" in account
    assert "Registration" not in account


@pytest.mark.parametrize("where", ["query", "form"])
def test_login_goes_to_a_local_next(client, auth, where):
    user = make_account()
    target = "/section/news?page=2"
    if where == "query":
        response = auth.login(user.email, query_string={"next": target})
    else:
        response = auth.login(user.email, next=target)
    assert response.headers["Location"] == target


def test_login_form_carries_next_through_a_failed_attempt(client, auth):
    user = make_account()
    response = client.post(
        "/auth/login?next=/rss.xml", data={"email": user.email, "password": "wrong-password-1"}
    )
    assert response.status_code == 401
    assert 'name="next" value="/rss.xml"' in text(response)


OPEN_REDIRECTS = [
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "http://evil.example/path",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "/\\evil.example",
    "\\\\evil.example",
    "http:/evil.example",
    "%2F%2Fevil.example",
    " //evil.example",
    "/\t/evil.example",
    "data:text/html,<script>alert(1)</script>",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_login_ignores_a_foreign_next(client, auth, target):
    user = make_account()
    for where in ("query", "form"):
        if where == "query":
            response = auth.login(user.email, query_string={"next": target})
        else:
            response = auth.login(user.email, next=target)
        assert response.status_code == 302, where
        assert response.headers["Location"] == "/", where
        auth.logout()


def test_login_encoded_double_slash_in_query_is_ignored(client):
    user = make_account()
    response = client.post(
        "/auth/login?next=%2F%2Fevil.example", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_login_errors_are_the_same_for_unknown_email_and_wrong_password(client, auth):
    user = make_account()
    unknown = auth.login("nobody@example.org")
    wrong = auth.login(user.email, "wrong-password-1")
    assert unknown.status_code == wrong.status_code == 401
    assert form_errors(unknown) == form_errors(wrong) == ["Wrong email or password."]
    assert not auth.is_logged_in()


def test_deactivated_account_cannot_log_in(client, auth):
    user = make_account(active=False)
    active = make_account()
    closed = auth.login(user.email)
    wrong = auth.login(active.email, "wrong-password-1")
    assert closed.status_code == 401
    assert form_errors(closed) == form_errors(wrong)
    assert not auth.is_logged_in()


def test_a_session_ends_when_the_account_is_closed_in_the_database(client, auth):
    """The active flag alone ends a live session, whatever closed the account."""
    user = make_account()
    auth.login(user.email, remember=True)
    User.update(active=False).where(User.id == user.id).execute()  # the token stays
    assert not auth.is_logged_in()
    client.delete_cookie("session")  # the remember-me cookie alone does not open it either
    assert not auth.is_logged_in()


def test_account_without_password_cannot_log_in(client, auth):
    """Contributors have no password: no password, however empty, opens their account."""
    user = make_account()
    User.update(password_hash=None).where(User.id == user.id).execute()
    for attempt in ("", " ", "None", "null"):
        response = auth.login(user.email, attempt)
        assert response.status_code in (400, 401)
    assert not auth.is_logged_in()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "", "password": PASSWORD}, "email"),
        ({"email": "a@example.org", "password": ""}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": "a@example.org"}, "password"),
        ({"email": HUGE, "password": PASSWORD}, "email"),
        ({"email": "a@example.org", "password": HUGE}, "password"),
    ],
    ids=["empty email", "empty password", "no email", "no password", "huge email", "huge password"],
)
def test_login_refuses_bad_input(client, data, field):
    response = client.post("/auth/login", data=data)
    assert response.status_code == 400
    assert field_errors(response, field)
    assert LoginFailure.select().count() == 0  # a malformed form is not a guess


@pytest.mark.parametrize("field", ["email", "password"])
def test_login_refuses_a_file_in_place_of_a_text_field(client, field):
    import io

    user = make_account()
    data = {"email": user.email, "password": PASSWORD}
    data[field] = (io.BytesIO(data[field].encode()), "evil.txt")
    response = client.post("/auth/login", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert client.get("/auth/password").status_code == 302  # not logged in


def test_login_with_a_unicode_password_works(client, auth):
    secret = "пароль-密码-ñandú-🔑"
    user = make_account(password=secret)
    assert auth.login(user.email, secret).status_code == 302


def test_remember_me_sets_a_remember_cookie(client, auth):
    user = make_account()
    response = auth.login(user.email, remember=True)
    remember = cookie_header(response, "remember_token")
    assert remember, set_cookies(response)
    flags = cookie_flags(remember)
    assert "httponly" in flags
    assert flags.get("samesite", "").lower() == "samesite=lax"
    assert "expires" in flags or "max-age" in flags  # outlives the browser session


def test_remember_me_cookie_logs_in_without_the_session(app, auth, client):
    user = make_account()
    auth.login(user.email, remember=True)
    client.delete_cookie("session")
    assert auth.is_logged_in()


def test_without_remember_me_no_remember_cookie(client, auth):
    user = make_account()
    response = auth.login(user.email)
    assert cookie_header(response, "remember_token") is None
    assert client.get_cookie("remember_token") is None


def test_session_cookie_flags(client, auth):
    user = make_account()
    session = cookie_header(auth.login(user.email), "session")
    assert session
    flags = cookie_flags(session)
    assert "httponly" in flags
    assert flags.get("samesite", "").lower() == "samesite=lax"
    assert "secure" not in flags  # plain HTTP in development


def test_cookies_are_secure_when_configured(app, client, auth):
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    user = make_account()
    response = auth.login(user.email, remember=True)
    for name in ("session", "remember_token"):
        flags = cookie_flags(cookie_header(response, name))
        assert "secure" in flags, name
        assert "httponly" in flags, name


def test_secure_cookies_follow_the_environment(tmp_path, monkeypatch):
    """`SECURE_COOKIES=1` (production over HTTPS) turns on Secure for both cookies."""
    from app import create_app

    monkeypatch.setenv("SECURE_COOKIES", "1")
    from conftest import database_url

    app = create_app({"DATABASE_URL": database_url(tmp_path / "secure.db"), "TESTING": True})
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True
    finally:
        if not models.database.is_closed():
            models.database.close()


def test_session_rotates_at_login(client, auth):
    user = make_account()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["_fresh"] = True
    before = client.get_cookie("session").value
    response = auth.login(user.email)
    assert response.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        login = session.get("_user_id")
    # The session names a login the server can end, never the account's id or reset token.
    assert models.UserSession.get_by_id(login).user_id == user.id
    assert login not in (str(user.id), User.get_by_id(user.id).login_token)


def test_session_protection_is_on(app):
    assert auth_views.login_manager.session_protection in ("basic", "strong")


# --- Throttling -------------------------------------------------------------------------------


def fail(auth, email, times=1, **kwargs):
    responses = [auth.login(email, "not-the-password-9", **kwargs) for _ in range(times)]
    return responses[-1]


def test_repeated_failures_reach_429_with_retry_after(client, auth):
    user = make_account()
    soft, _ = auth_views.PAIR_LIMITS
    statuses = [fail(auth, user.email).status_code for _ in range(soft + 1)]
    assert statuses == [401] * soft + [429]
    response = fail(auth, user.email)
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert retry >= 1
    errors = form_errors(response)
    assert errors and "Too many failed attempts" in errors[0]
    assert str(retry) in errors[0] or "minute" in errors[0]


def test_the_right_password_is_refused_while_throttled(client, auth):
    user = make_account()
    fail(auth, user.email, times=auth_views.PAIR_LIMITS[0])
    response = auth.login(user.email)
    assert response.status_code == 429
    assert not auth.is_logged_in()


def test_hard_account_limit_closes_the_account_for_the_window(client, auth, monkeypatch):
    monkeypatch.setattr(auth_views, "PAIR_LIMITS", (3, 3))
    user = make_account()
    assert fail(auth, user.email, times=3).status_code == 401
    response = auth.login(user.email)
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert 14 * 60 < retry <= 15 * 60
    assert "minutes" in form_errors(response)[0]


def test_throttle_ends_after_the_backoff(client, auth):
    """The soft limit only slows down: after the wait, the right password works."""
    user = make_account()
    fail(auth, user.email, times=auth_views.PAIR_LIMITS[0])
    assert auth.login(user.email).status_code == 429
    # Move the failures back in time instead of sleeping.
    for failure in LoginFailure.select():
        failure.at -= dt.timedelta(seconds=30)
        failure.save()
    assert auth.login(user.email).status_code == 302
    # A success forgets this client's failures on the account.
    pair = LoginFailure.key.startswith(f"pair:{user.email} ")
    assert LoginFailure.select().where(pair).count() == 0


def test_a_throttled_account_does_not_block_another_account(client, auth):
    victim = make_account()
    other = make_account()
    fail(auth, victim.email, times=auth_views.PAIR_LIMITS[0] + 1)
    assert auth.login(victim.email).status_code == 429
    response = auth.login(other.email)
    assert response.status_code == 302


def test_many_accounts_from_one_address_reach_429(client, auth, monkeypatch):
    monkeypatch.setattr(auth_views, "ADDRESS_LIMITS", (4, 4))
    accounts = [make_account() for _ in range(5)]
    for account in accounts[:4]:
        assert fail(auth, account.email).status_code == 401
    # The fifth account had no failure of its own, and its right password is refused.
    response = auth.login(accounts[4].email)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many failed attempts" in form_errors(response)[0]
    # Unknown emails count against the address too.
    assert fail(auth, "ghost@example.org").status_code == 429


def test_address_limit_does_not_block_other_addresses(client, auth, monkeypatch):
    monkeypatch.setattr(auth_views, "ADDRESS_LIMITS", (3, 3))
    accounts = [make_account() for _ in range(4)]
    for account in accounts[:3]:
        fail(auth, account.email, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    blocked = auth.login(accounts[3].email, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert blocked.status_code == 429
    elsewhere = auth.login(accounts[3].email, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert elsewhere.status_code == 302


def test_unknown_email_still_checks_a_password_hash(client, auth, monkeypatch):
    """No timing oracle: both paths run one scrypt check of the same cost."""
    user = User.create(
        email="real@example.org",
        password_hash=passwords.hash_password(PASSWORD),  # the app's real work factor
        display_name="Real",
        slug="real",
    )
    checked = []
    original = passwords.check_password_hash

    def spy(password_hash, password):
        checked.append(password_hash)
        return original(password_hash, password)

    monkeypatch.setattr(passwords, "check_password_hash", spy)
    assert auth.login("nobody@example.org", "some-password-1").status_code == 401
    assert auth.login(user.email, "some-password-1").status_code == 401
    assert len(checked) == 2
    unknown_hash, known_hash = checked
    assert unknown_hash and unknown_hash.startswith("scrypt:")
    # Same method and work factor (scrypt:N:r:p), so both take as long.
    assert unknown_hash.split("$")[0] == known_hash.split("$")[0]


def test_failures_are_recorded_without_the_password(client, auth):
    user = make_account()
    fail(auth, user.email)
    keys = [failure.key for failure in LoginFailure.select()]
    assert f"email:{user.email}" in keys
    assert any(key.startswith("ip:") for key in keys)
    assert not any("not-the-password" in key for key in keys)


# --- Log out ----------------------------------------------------------------------------------


def test_logout_post_logs_out(client, auth):
    user = make_account()
    auth.login(user.email)
    response = auth.logout()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert not auth.is_logged_in()
    assert ">Login<" in header(client.get("/"))


def test_logout_get_asks_and_does_not_log_out(client, auth):
    user = make_account()
    auth.login(user.email)
    response = client.get("/auth/logout")
    assert response.status_code == 200
    assert '<form method="post"' in text(response)
    assert "Log out" in text(response)
    assert auth.is_logged_in()


def test_logout_ends_remember_me_too(client, auth):
    user = make_account()
    auth.login(user.email, remember=True)
    auth.logout()
    assert not auth.is_logged_in()  # the remember-me cookie does not log the user back in
    assert ">Login<" in header(client.get("/"))
    assert client.get_cookie("remember_token") is None


def test_header_logout_button_posts_to_logout(client, auth):
    user = make_account()
    auth.login(user.email)
    account = header(client.get("/"))
    assert re.search(r'<form[^>]*method="post"[^>]*action="/auth/logout"', account)
    assert 'name="csrf_token"' in account


def csrf_token_of(response):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(response)) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', text(response)
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def csrf_login(client, email):
    token = csrf_token_of(client.get("/auth/login"))
    response = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return response


def test_logout_without_csrf_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    user = make_account()
    csrf_login(client, user.email)
    for data in ({}, {"csrf_token": "wrong"}):
        response = client.post("/auth/logout", data=data)
        assert response.status_code == 400
        assert "security token" in text(response)
        assert client.get("/auth/password").status_code == 200  # still logged in
    token = csrf_token_of(client.get("/auth/logout"))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/auth/password").status_code == 302


# --- Password change --------------------------------------------------------------------------


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post(
        "/auth/password",
        data={"current": current, "password": new, "confirm": new if confirm is None else confirm},
    )


def test_password_page_needs_login(client):
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]).startswith("/auth/login?next=")


def test_password_change_with_a_wrong_current_password(client, auth):
    user = make_account()
    auth.login(user.email)
    response = change(client, current="not-my-password-1")
    assert response.status_code == 400
    assert any("current password" in e for e in field_errors(response, "current"))
    assert User.get_by_id(user.id).password_hash == user.password_hash


@pytest.mark.parametrize(
    ("new", "confirm", "field", "phrase"),
    [
        ("short", None, "password", "at least"),
        ("password123", None, "password", "commonly used"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "confirm", "differ"),
        ("", "", "password", "required"),
    ],
    ids=["short", "common", "mismatch", "empty"],
)
def test_password_change_enforces_the_rules(client, auth, new, confirm, field, phrase):
    user = make_account(email="rosalind@example.org")
    auth.login(user.email)
    response = change(client, new=new, confirm=confirm)
    assert response.status_code == 400
    assert any(phrase in e for e in field_errors(response, field)), field_errors(response, field)
    assert User.get_by_id(user.id).password_hash == user.password_hash


def test_password_change_refuses_the_email_name(client, auth):
    user = make_account(email="rosalind@example.org")
    auth.login(user.email)
    response = change(client, new="rosalind-franklin-51")
    assert response.status_code == 400
    assert field_errors(response, "password")


def test_password_change_works_and_ends_other_sessions(app, client, auth):
    user = make_account()
    other = AuthActions(app.test_client())
    other.login(user.email)
    remembered = AuthActions(app.test_client())
    remembered.login(user.email, remember=True)
    remembered.client.delete_cookie("session")  # only the remember-me cookie left
    assert other.is_logged_in() and remembered.is_logged_in()

    auth.login(user.email)
    response = change(client)
    assert response.status_code == 302
    assert "Your password is changed" in text(client.get(response.headers["Location"]))
    assert auth.is_logged_in()  # this session goes on

    assert not other.is_logged_in()  # other sessions end at their next request
    remembered.client.delete_cookie("session")
    assert not remembered.is_logged_in()
    assert User.get_by_id(user.id).password_hash.startswith("scrypt:")

    fresh = AuthActions(app.test_client())
    assert fresh.login(user.email, PASSWORD).status_code == 401
    assert fresh.login(user.email, NEW_PASSWORD).status_code == 302


# --- Password reset ---------------------------------------------------------------------------


def invoke(runner, *args, **kwargs):
    """Run a command as `flask --app app …` does: inside the app's context."""
    with runner.app.app_context():
        return runner.invoke(args=list(args), **kwargs)


def cli_reset_link(runner, email):
    result = invoke(runner, "reset-password", email)
    assert result.exit_code == 0, result.output
    links = re.findall(r"https?://\S+", result.output)
    assert len(links) == 1, result.output
    return links[0]


def set_new_password(client, link, password=NEW_PASSWORD):
    return client.post(path_of(link), data={"password": password, "confirm": password})


def test_cli_reset_link_sets_a_new_password_once(app, client, runner):
    user = make_account()
    link = cli_reset_link(runner, user.email.upper())
    assert "/auth/reset/" in link

    form = client.get(path_of(link))
    assert form.status_code == 200
    assert user.email in text(form)

    response = set_new_password(client, link)
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == "/auth/login"
    assert "new password is set" in text(client.get("/auth/login"))

    assert AuthActions(app.test_client()).login(user.email, NEW_PASSWORD).status_code == 302
    assert AuthActions(app.test_client()).login(user.email, PASSWORD).status_code == 401

    for method in (client.get, client.post):
        again = method(path_of(link), data={"password": "x" * 12, "confirm": "x" * 12})
        assert again.status_code == 400
        assert "This link does not work" in text(again)
    assert passwords.verify_password(User.get_by_id(user.id).password_hash, NEW_PASSWORD)


def test_reset_password_command_from_the_shell(app, client, tmp_path):
    """The command as an admin types it: `flask --app app reset-password EMAIL`."""
    user = make_account()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SITE_URL": "https://news.example.org",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "reset-password", user.email],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert link.startswith("https://news.example.org/auth/reset/"), result.stdout
    assert set_new_password(client, link).status_code == 302

    unknown = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "reset-password", "nobody@example.org"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 1
    assert "No active account for nobody@example.org" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_reset_link_refuses_a_bad_new_password_and_stays_valid(client, runner):
    user = make_account()
    link = cli_reset_link(runner, user.email)
    response = set_new_password(client, link, "password123")
    assert response.status_code == 400
    assert field_errors(response, "password")
    assert client.get(path_of(link)).status_code == 200
    assert set_new_password(client, link).status_code == 302


def test_reset_ends_existing_sessions(app, client, runner):
    user = make_account()
    other = AuthActions(app.test_client())
    other.login(user.email)
    set_new_password(client, cli_reset_link(runner, user.email))
    assert not other.is_logged_in()


def test_a_newer_reset_link_and_a_password_change_spend_older_links(app, client, runner):
    user = make_account()
    old = cli_reset_link(runner, user.email)
    assert set_new_password(client, cli_reset_link(runner, user.email)).status_code == 302
    assert client.get(path_of(old)).status_code == 400


@pytest.mark.parametrize(
    "token",
    ["x", "garbage.garbage.garbage", "eyJ1c2VyIjoxfQ", "%00", "a" * 2000],
    ids=["short", "dots", "unsigned-payload", "nul", "long"],
)
def test_garbage_reset_tokens_are_refused(client, token):
    make_account()
    response = client.get(f"/auth/reset/{token}")
    assert response.status_code == 400
    assert "This link does not work" in text(response)


def test_tampered_reset_token_is_refused(client, runner):
    user = make_account()
    link = cli_reset_link(runner, user.email)
    token = path_of(link).rsplit("/", 1)[1]
    for index in (0, len(token) // 2, len(token) - 1):
        # The last base64 character carries spare low bits: A, B, C and D may decode alike.
        swapped = "Q" if token[index] in "ABCD" else "A"
        tampered = token[:index] + swapped + token[index + 1 :]
        response = client.post(
            f"/auth/reset/{tampered}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert response.status_code == 400, index
    assert passwords.verify_password(User.get_by_id(user.id).password_hash, PASSWORD)


def test_reset_token_signed_with_other_payloads_is_refused(app, client):
    """Signed by the app but not a reset link's shape: no crash, no account."""
    user = make_account()
    with app.test_request_context():
        serializer = auth_views.reset_serializer()
        tokens = [
            serializer.dumps([user.id, user.login_token]),
            serializer.dumps("admin"),
            serializer.dumps({"user": user.id}),
            serializer.dumps({"user": user.id, "token": "guess"}),
            serializer.dumps({"user": 9999, "token": user.login_token}),
        ]
        other_salt = itsdangerous.URLSafeTimedSerializer(app.secret_key, salt="other")
        tokens.append(other_salt.dumps({"user": user.id, "token": user.login_token}))
    for token in tokens:
        assert client.get(f"/auth/reset/{token}").status_code == 400, token


def test_expired_reset_link_is_refused(client, runner, monkeypatch):
    user = make_account()
    link = cli_reset_link(runner, user.email)
    now = int(time.time())

    def at(seconds_later):
        monkeypatch.setattr(
            itsdangerous.TimestampSigner, "get_timestamp", lambda self: now + seconds_later
        )

    at(23 * 3600)
    assert client.get(path_of(link)).status_code == 200  # still within the day
    at(auth_views.RESET_LINK_HOURS * 3600 + 60)
    response = set_new_password(client, link)
    assert response.status_code == 400
    assert "This link does not work" in text(response)
    assert passwords.verify_password(User.get_by_id(user.id).password_hash, PASSWORD)


def test_reset_link_of_a_deactivated_account_is_refused(client, runner):
    user = make_account()
    link = cli_reset_link(runner, user.email)
    User.update(active=False).where(User.id == user.id).execute()
    assert client.get(path_of(link)).status_code == 400


@pytest.mark.parametrize("email", ["nobody@example.org", "not-an-email", ""])
def test_cli_reset_for_an_unknown_email_is_a_clean_error(runner, email):
    make_account()
    result = invoke(runner, "reset-password", email)
    assert result.exit_code != 0
    assert "No active account" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_reset_for_a_deactivated_account_is_a_clean_error(runner):
    user = make_account(active=False)
    result = invoke(runner, "reset-password", user.email)
    assert result.exit_code != 0
    assert "No active account" in result.output


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what would have been sent."""

    sent = []
    fail = False

    def __init__(self, host, port=0, timeout=None):
        self.host, self.port = host, port
        if FakeSMTP.fail:
            raise OSError("connection refused")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        self.tls = True

    def login(self, user, password):
        self.credentials = (user, password)

    def send_message(self, message):
        FakeSMTP.sent.append(message)


@pytest.fixture
def mail(app, monkeypatch):
    import smtplib

    FakeSMTP.sent = []
    FakeSMTP.fail = False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(
        MAIL_SERVER="smtp.example.org",
        MAIL_FROM="desk@example.org",
        SITE_URL="https://news.example.org",
    )
    return FakeSMTP


def test_reset_by_email_sends_a_working_link(app, client, mail):
    user = make_account()
    page = client.get("/auth/reset")
    assert page.status_code == 200
    assert 'name="email"' in text(page)

    response = client.post("/auth/reset", data={"email": user.email.upper()})
    assert response.status_code == 200
    assert "on its way" in text(response)
    assert len(mail.sent) == 1
    message = mail.sent[0]
    assert message["To"] == user.email
    assert message["From"] == "desk@example.org"
    body = message.get_content()
    links = re.findall(r"https?://\S+/auth/reset/\S+", body)
    assert len(links) == 1, body

    assert set_new_password(app.test_client(), links[0]).status_code == 302
    assert AuthActions(app.test_client()).login(user.email, NEW_PASSWORD).status_code == 302
    assert app.test_client().get(path_of(links[0])).status_code == 400  # once


def main_of(response):
    return re.search(r"<main[^>]*>(.*?)</main>", text(response), re.S).group(1)


def test_reset_by_email_answers_the_same_for_unknown_emails(client, mail):
    user = make_account()
    inactive = make_account(active=False)
    known = client.post("/auth/reset", data={"email": user.email})
    answers = [
        client.post("/auth/reset", data={"email": email})
        for email in ("nobody@example.org", inactive.email)
    ]
    for answer in answers:
        assert answer.status_code == known.status_code == 200
        assert main_of(answer) == main_of(known)
    assert [m["To"] for m in mail.sent] == [user.email]


def test_reset_by_email_refuses_an_empty_address(client, mail):
    response = client.post("/auth/reset", data={"email": ""})
    assert response.status_code == 400
    assert field_errors(response, "email")
    assert mail.sent == []


def test_reset_by_email_when_the_mail_server_is_down(client, mail):
    user = make_account()
    mail.fail = True
    response = client.post("/auth/reset", data={"email": user.email})
    assert response.status_code == 503
    assert "could not be sent" in text(response)


def test_reset_without_a_mail_server_says_to_ask_an_admin(client, monkeypatch):
    import smtplib

    sent = []
    monkeypatch.setattr(smtplib, "SMTP", lambda *a, **k: sent.append(a))
    user = make_account()
    page = client.get("/auth/reset")
    assert page.status_code == 200
    assert "Ask an administrator" in text(page)
    assert 'name="email"' not in text(page)
    response = client.post("/auth/reset", data={"email": user.email})
    assert response.status_code == 200
    assert "Ask an administrator" in text(response)
    assert sent == []


def test_login_page_links_to_reset(client):
    assert 'href="/auth/reset"' in text(client.get("/auth/login"))


# --- CLI: create-user -------------------------------------------------------------------------


def test_create_user_with_a_role(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "Editor@Example.org",
            "--role",
            "editor",
            "--password",
            PASSWORD,
            "--name",
            "Edith Editor",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created editor@example.org (editor)" in result.output
    user = User.get()
    assert (user.email, user.role, user.display_name) == (
        "editor@example.org",
        "editor",
        "Edith Editor",
    )
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in result.output


def test_created_user_can_log_in(app, runner):
    runner.invoke(
        args=["create-user", "admin@example.org", "--role", "admin", "--password", PASSWORD]
    )
    actions = AuthActions(app.test_client())
    assert actions.login("admin@example.org").status_code == 302
    assert 'href="/admin/users"' in header(actions.client.get("/"))


def test_create_user_defaults_to_reader_and_the_email_name(runner):
    result = runner.invoke(args=["create-user", "quiet@example.org", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    user = User.get()
    assert user.role == "reader"
    assert user.display_name == "quiet"


@pytest.mark.parametrize(
    ("password", "phrase"),
    [
        ("short", "at least"),
        ("password123", "commonly used"),
        ("qwerty123456", "commonly used"),
        ("marguerite-99-x", "name or email"),
    ],
)
def test_create_user_enforces_the_password_rules(runner, password, phrase):
    result = runner.invoke(args=["create-user", "marguerite@example.org", "--password", password])
    assert result.exit_code == 2
    assert phrase in result.output
    assert "Traceback" not in result.output
    assert User.select().count() == 0


@pytest.mark.parametrize("email", ["not-an-email", "", "a" * 250 + "@example.org"])
def test_create_user_refuses_an_invalid_email(runner, email):
    result = runner.invoke(args=["create-user", email, "--password", PASSWORD])
    assert result.exit_code == 2
    assert "not an email address" in result.output
    assert User.select().count() == 0


@pytest.mark.parametrize("email", ["two@@example.org", "a b@example.org", "@example.org", "ada@"])
def test_create_user_refuses_malformed_emails(runner, email):
    result = runner.invoke(args=["create-user", email, "--password", PASSWORD])
    assert result.exit_code == 2, result.output
    assert User.select().count() == 0


def test_create_user_refuses_an_unknown_role(runner):
    result = runner.invoke(
        args=["create-user", "x@example.org", "--role", "overlord", "--password", PASSWORD]
    )
    assert result.exit_code == 2
    assert "overlord" in result.output
    assert User.select().count() == 0


def test_create_user_prompts_for_the_password(runner):
    result = runner.invoke(
        args=["create-user", "prompted@example.org", "--role", "author"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert PASSWORD not in result.output  # hidden input
    user = User.get()
    assert user.role == "author"
    assert passwords.verify_password(user.password_hash, PASSWORD)


def test_create_user_prompt_refuses_a_weak_password(runner):
    result = runner.invoke(
        args=["create-user", "prompted@example.org"], input="password123\npassword123\n"
    )
    assert result.exit_code != 0
    assert "commonly used" in result.output
    assert User.select().count() == 0


def test_create_user_updates_an_existing_user(app, runner):
    user = make_account("existing@example.org", name="Existing Person")
    session = AuthActions(app.test_client())
    session.login(user.email)
    result = runner.invoke(
        args=["create-user", "EXISTING@example.org", "--role", "editor", "--password", NEW_PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert "Updated existing@example.org (editor)" in result.output
    assert User.select().count() == 1
    updated = User.get()
    assert updated.role == "editor"
    assert updated.display_name == "Existing Person"
    assert updated.slug == user.slug
    assert passwords.verify_password(updated.password_hash, NEW_PASSWORD)
    assert not session.is_logged_in()  # the old password's sessions end
