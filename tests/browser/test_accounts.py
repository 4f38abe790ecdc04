"""Accounts in a real browser (Chromium through Playwright), under the site's CSP.

The live server runs with CSRF on, as in production. CSP violations and htmx errors
show up as console errors, so every test ends with none.
"""

import re
import uuid

from playwright.sync_api import expect

import factories
from models import SiteSettings, User
from passwords import hash_password

PASSWORD = "plum-orbit-canvas-42"
USERS_PER_PAGE = 50  # blueprints/admin.py


def unique():
    return uuid.uuid4().hex[:8]


def ensure_registration_open():
    # Another browser test may have closed it on the shared live site.
    if not SiteSettings.get_by_id(1).registration_open:
        SiteSettings.update(registration_open=True).where(SiteSettings.id == 1).execute()
        SiteSettings.bump_content_version()


def make_login(role, name, password=None, **fields):
    """A user in the live database: a real scrypt hash, as an account made by the CLI."""
    return factories.make_user(
        name,
        role=role,
        email=f"{role}-{unique()}@example.org",
        password_hash=hash_password(password) if password else None,
        **fields,
    )


def users_page_of(user):
    """The /admin/users page that lists `user` (oldest accounts first, 50 a page)."""
    before = (
        User.select()
        .where(
            User.email.is_null(False)
            & (
                (User.created_at < user.created_at)
                | ((User.created_at == user.created_at) & (User.id < user.id))
            )
        )
        .count()
    )
    return before // USERS_PER_PAGE + 1


def log_in(page, live_server, email, password=PASSWORD):
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def test_register_log_out_and_log_in_again(page, live_server, smtp_server, console_errors):
    ensure_registration_open()
    name = f"Browser Reader {unique()}"
    email = f"reader-{unique()}@example.org"
    account = page.locator(".masthead .account")

    page.goto(live_server + "/")
    account.get_by_role("link", name="Registration").click()
    expect(page.locator("h1")).to_have_text("Create an account")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.locator("h1")).to_have_text("Check your email")
    assert User.by_email(email) is None  # not before the address is confirmed
    [link] = smtp_server.handler.links(email)
    page.goto(link)
    page.get_by_role("button", name="Confirm and log in").click()

    expect(account).to_contain_text(name)
    expect(account.get_by_role("button", name="Log out")).to_be_visible()
    expect(account.get_by_role("link", name="Registration")).to_have_count(0)
    assert User.by_email(email).role == "reader"

    account.get_by_role("button", name="Log out").click()
    expect(account.get_by_role("link", name="Login")).to_be_visible()
    expect(account).not_to_contain_text(name)
    expect(account.get_by_role("button", name="Log out")).to_have_count(0)

    account.get_by_role("link", name="Login").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(account).to_contain_text(name)
    expect(account.get_by_role("button", name="Log out")).to_be_visible()

    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_registration_errors_show_next_to_the_field(page, live_server, console_errors):
    ensure_registration_open()
    page.goto(live_server + "/auth/register")
    page.get_by_label("Your name").fill("Ann Other")
    page.get_by_label("Email").fill(f"ann-{unique()}@example.org")
    page.get_by_label("Password", exact=True).fill("password123")
    page.get_by_label("Repeat the password").fill("password123")
    page.get_by_role("button", name="Create account").click()
    errors = page.locator("#password-errors")
    expect(errors).to_contain_text("commonly used")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".masthead .account")).not_to_contain_text("Ann Other")
    # Chromium reports the refused form's own 400 status; anything else is a real error.
    unexpected = [e for e in console_errors if "status of 400" not in e]
    assert unexpected == []


def test_admin_changes_a_role_in_place(page, live_server, console_errors):
    admin = make_login("admin", f"Browser Admin {unique()}", PASSWORD)
    target = make_login("reader", f"Role Target {unique()}")
    log_in(page, live_server, admin.email)
    expect(page.locator(".masthead .account")).to_contain_text(admin.display_name)

    page.goto(f"{live_server}/admin/users?page={users_page_of(target)}")
    row = page.locator(f"#user-{target.id}")
    expect(row).to_contain_text(target.display_name)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    row.get_by_label(f"Role of {target.display_name}").select_option("editor")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".row-message")).to_have_text(f"{target.display_name} is now editor.")
    expect(row.get_by_label(f"Role of {target.display_name}")).to_have_value("editor")
    assert page.evaluate("window.__sameDocument") is True
    assert User.get_by_id(target.id).role == "editor"

    # A reset link appears in the same row, also without a reload.
    row.get_by_role("button", name="Make reset link").click()
    expect(row.locator("input.reset-url")).to_have_value(re.compile(r"/auth/reset/[\w.-]+$"))
    assert page.evaluate("window.__sameDocument") is True

    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_admin_sees_why_an_action_is_refused(page, live_server):
    """A refusal (409) shows its message in the row too, not nothing."""
    admin = make_login("admin", f"Browser Admin {unique()}", PASSWORD)
    closed = make_login("reader", f"Closed Account {unique()}", active=False)
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/admin/users?page={users_page_of(closed)}")
    row = page.locator(f"#user-{closed.id}")
    expect(row).to_contain_text("Deactivated")
    row.get_by_role("button", name="Make reset link").click()
    expect(row.locator(".row-message")).to_have_text("Only active accounts get reset links.")
