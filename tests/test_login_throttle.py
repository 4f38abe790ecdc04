"""The login throttle: an attacker's failures, from one address or many, never lock the
owner out of their account, and brute force from any number of addresses gets nowhere."""

import pytest
from test_auth import NEW_PASSWORD, PASSWORD, AuthActions, make_account

from blueprints import auth as auth_views
from models import LoginFailure

WRONG = "not-the-password-9"


def from_address(app, number, client=None):
    """A browser at its own client address (203.0.113.N)."""
    client = client or app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number}"
    return AuthActions(client)


def owners_browser(app, user):
    """The owner's own browser, which has logged in to the account before (and out)."""
    owner = from_address(app, 200)
    assert owner.login(user.email).status_code == 302
    assert owner.client.post("/auth/logout").status_code == 302
    assert owner.client.get_cookie(auth_views.DEVICE_COOKIE, path="/auth/login") is not None
    return owner


def test_failures_from_many_addresses_do_not_lock_out_the_owner(app):
    """The attack seen: 7 failures from 7 addresses, then the right password from an 8th."""
    user = make_account()
    for number in range(1, 8):
        assert from_address(app, number).login(user.email, WRONG).status_code == 401
    assert from_address(app, 8).login(user.email).status_code == 302


def test_an_attackers_address_is_throttled_and_the_owner_elsewhere_is_not(app):
    user = make_account()
    attacker = from_address(app, 66)
    soft, hard = auth_views.PAIR_LIMITS
    for _ in range(soft):
        attacker.login(user.email, WRONG)
    assert attacker.login(user.email).status_code == 429  # even with the right password
    assert from_address(app, 9).login(user.email).status_code == 302


def test_distributed_brute_force_is_capped_but_the_owners_device_gets_in(app):
    user = make_account()
    owner = owners_browser(app, user)
    _, cap = auth_views.ACCOUNT_LIMITS
    for number in range(1, cap + 1):  # one guess from each of many addresses
        assert from_address(app, number).login(user.email, WRONG).status_code == 401
    # Every new address is now refused, the right password included: guessing has stopped.
    for number in (50, 51):
        response = from_address(app, number).login(user.email, PASSWORD)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 60
        assert "device you have logged in with before" in response.text
    # The owner's browser is counted on its own.
    assert owner.login(user.email).status_code == 302


def test_a_device_cookie_has_its_own_limit(app):
    user = make_account()
    owner = owners_browser(app, user)
    soft, hard = auth_views.DEVICE_LIMITS
    for _ in range(soft):
        assert owner.login(user.email, WRONG).status_code == 401
    assert owner.login(user.email).status_code == 429


def test_a_device_cookie_of_another_account_or_forged_earns_no_trust(app):
    user, other = make_account(), make_account()
    browser = owners_browser(app, other)  # trusted for `other`, not for `user`
    _, cap = auth_views.ACCOUNT_LIMITS
    for number in range(1, cap + 1):
        from_address(app, number).login(user.email, WRONG)
    assert browser.login(user.email).status_code == 429

    forged = from_address(app, 77)
    for value in ("x", "eyJ1c2VyIjoxfQ.garbage", '{"user": 1, "nonce": "a"}'):
        forged.client.set_cookie(auth_views.DEVICE_COOKIE, value, path="/auth/login")
        assert forged.login(user.email).status_code == 429


def test_a_password_reset_makes_the_browser_trusted(app, runner):
    from test_auth import cli_reset_link, path_of

    user = make_account()
    _, cap = auth_views.ACCOUNT_LIMITS
    for number in range(1, cap + 1):
        from_address(app, number).login(user.email, WRONG)
    owner = from_address(app, 99)
    assert owner.login(user.email).status_code == 429  # a new browser, locked out
    link = cli_reset_link(runner, user.email)
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert owner.client.post(path_of(link), data=data).status_code == 302
    assert owner.login(user.email, NEW_PASSWORD).status_code == 302


def test_the_device_cookie_is_signed_http_only_and_sent_to_the_login_page_only(app):
    user = make_account()
    response = from_address(app, 5).login(user.email)
    [header] = [
        value for value in response.headers.getlist("Set-Cookie")
        if value.startswith(auth_views.DEVICE_COOKIE + "=")
    ]
    assert "HttpOnly" in header and "Path=/auth/login" in header and "SameSite=Lax" in header
    value = header.split(";")[0].split("=", 1)[1]
    with app.test_request_context():
        assert auth_views.device_serializer().loads(value)["user"] == user.id  # signed by us


def test_unknown_accounts_are_throttled_as_before(app):
    client = from_address(app, 12)
    soft, _ = auth_views.PAIR_LIMITS
    statuses = [client.login("ghost@example.org", WRONG).status_code for _ in range(soft + 1)]
    assert statuses == [401] * soft + [429]


@pytest.mark.parametrize("email", ["a" * 300 + "@example.org", "\x00@example.org", ""])
def test_odd_emails_never_break_the_throttle(app, email):
    response = from_address(app, 13).login(email, WRONG)
    assert response.status_code in (400, 401)
    assert LoginFailure.select().count() in (0, 3)
