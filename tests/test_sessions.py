"""Logins the server can end: a session or remember-me cookie copied before logging out,
logging out everywhere, a new password or deactivation is worth nothing afterwards."""

import datetime as dt

import pytest
from test_auth import NEW_PASSWORD, PASSWORD, AuthActions, make_account

from models import User, UserSession, utcnow

COOKIES = ("session", "remember_token")


def copy_cookies(app, client, names=COOKIES):
    """A second browser holding copies of `client`'s cookies (as a thief would)."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return AuthActions(thief)


def logged_in(app, remember=True):
    user = make_account()
    auth = AuthActions(app.test_client())
    assert auth.login(user.email, remember=remember).status_code == 302
    return user, auth


def log_out(auth):
    assert auth.client.post("/auth/logout").status_code == 302


@pytest.mark.parametrize("names", [("session",), ("remember_token",), COOKIES],
                         ids=["session", "remember-me", "both"])
def test_cookies_copied_before_logout_are_dead_after_it(app, names):
    user, auth = logged_in(app)
    thief = copy_cookies(app, auth.client, names)
    assert thief.is_logged_in()  # the copy worked while the login lasted
    log_out(auth)
    assert not auth.is_logged_in()
    assert not thief.is_logged_in()
    # The remember-me cookie did not mint a fresh session either.
    assert thief.client.get_cookie("session") is None or not thief.is_logged_in()
    assert UserSession.count_for(user) == 0


def test_logging_out_ends_only_this_device(app):
    user = make_account()
    laptop, phone = AuthActions(app.test_client()), AuthActions(app.test_client())
    laptop.login(user.email)
    phone.login(user.email, remember=True)
    log_out(laptop)
    assert not laptop.is_logged_in()
    assert phone.is_logged_in()
    assert UserSession.count_for(user) == 1


def test_log_out_everywhere_ends_every_login_of_the_account(app):
    user, auth = logged_in(app)
    other_device = AuthActions(app.test_client())
    other_device.login(user.email, remember=True)
    stolen = copy_cookies(app, other_device.client, ("remember_token",))
    someone_else, theirs = logged_in(app)

    account = auth.client.get("/auth/password")
    assert "logged in on 2 devices" in account.text
    assert 'action="/auth/logout-everywhere"' in account.text

    response = auth.client.post("/auth/logout-everywhere")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")
    assert "logged out everywhere" in auth.client.get("/auth/login").text
    for device in (auth, other_device, stolen):
        assert not device.is_logged_in()
    assert theirs.is_logged_in()  # another account's logins are untouched
    assert UserSession.count_for(user) == 0 and UserSession.count_for(someone_else) == 1


def test_log_out_everywhere_needs_a_login_and_a_post(app, client):
    assert client.post("/auth/logout-everywhere").status_code == 302  # to the login page
    user, auth = logged_in(app)
    assert auth.client.get("/auth/logout-everywhere").status_code == 405
    assert auth.is_logged_in()


def test_log_out_everywhere_is_csrf_checked(csrf_app):
    user = make_account()
    auth = AuthActions(csrf_app.test_client())
    page = auth.client.get("/auth/login").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    assert auth.client.post("/auth/login", data=data).status_code == 302
    assert auth.client.post("/auth/logout-everywhere").status_code == 400
    assert auth.is_logged_in()


def test_a_password_change_ends_the_other_logins_and_keeps_this_one(app):
    user, auth = logged_in(app)
    other = AuthActions(app.test_client())
    other.login(user.email, remember=True)
    stolen = copy_cookies(app, other.client)
    response = auth.client.post(
        "/auth/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert auth.is_logged_in()
    assert not other.is_logged_in() and not stolen.is_logged_in()
    assert UserSession.count_for(user) == 1


def test_deactivation_ends_every_login(app):
    admin = make_account(role="admin")
    user, auth = logged_in(app)
    stolen = copy_cookies(app, auth.client)
    admin_auth = AuthActions(app.test_client())
    admin_auth.login(admin.email)
    response = admin_auth.client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    assert response.status_code in (200, 302)
    assert not auth.is_logged_in() and not stolen.is_logged_in()
    assert UserSession.count_for(user) == 0
    # Active again: the old cookies stay dead; a new login works.
    admin_auth.client.post(f"/admin/users/{user.id}/active", data={"active": "1"})
    assert not stolen.is_logged_in()
    assert AuthActions(app.test_client()).login(user.email).status_code == 302


def test_a_login_older_than_its_lifetime_has_ended(app):
    user, auth = logged_in(app)
    UserSession.update(created_at=utcnow() - UserSession.LIFETIME - dt.timedelta(minutes=1)).where(
        UserSession.user == user
    ).execute()
    assert not auth.is_logged_in()
    # The next login clears the expired rows of the account away.
    AuthActions(app.test_client()).login(user.email)
    assert UserSession.select().where(UserSession.user == user).count() == 1


@pytest.mark.parametrize("value", ["", "x", "1", "' OR 1=1 --", "\x00", "a" * 5000])
def test_forged_login_tokens_open_nothing(app, value):
    """Without the secret key a cookie cannot even be signed; with a signed but unknown
    token (as if the key leaked) the login must still exist on the server."""
    user = make_account()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = value
        session["_fresh"] = True
    assert client.get("/auth/password").status_code == 302
    assert client.get("/").status_code == 200
    assert User.get_by_id(user.id).active
