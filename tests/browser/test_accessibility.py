"""axe-core in a real browser: zero violations, of any impact, on every page.

Every public page a reader can reach (both layouts, search in each of its states,
the 404 page, an article with pictures) and every page of the desk and the admin,
an in-place editor open. axe runs its default rules: WCAG 2.x A and AA and its best
practices. Staff pages are checked as an admin, who sees every control.

Like the other browser tests, this adds rows to the shared live database: an admin,
a draft with two versions, and one published article with a lead image and a picture
in its text, dated 2001 so that it sorts last and the demo's first pages stay as seeded.
"""

import datetime as dt
import io
import itertools

import pytest
from axe_playwright_python.sync_playwright import Axe
from desk_helpers import PASSWORD, make_login, state_fields
from PIL import Image
from playwright.sync_api import expect

import demo
import factories
from models import Article, Revision, Rubric, Section, SiteSettings

AXE = Axe()
PHONE = {"width": 390, "height": 844}
_serial = itertools.count(1)


def axe_report(violations):
    """One line per violation, then each offending element: what the assertion shows."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}: {node['html'][:160]}")
            for check in node["any"] + node["all"] + node["none"]:
                lines.append(f"        {check['message']}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page):
    violations = AXE.run(page).response["violations"]
    assert not violations, f"axe on {page.url}:\n{axe_report(violations)}"


# --- Rows in the live database --------------------------------------------------------------


def seed_article():
    return Article.get(Article.title == demo.SEED_TITLE)


def article_path(article, prefix=""):
    return f"{prefix}/articles/{article.id}/{article.slug}"


def png(colour, size=(1200, 600)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def log_in(page, live_server, user):
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Desk", exact=True)).to_be_visible()


def upload(page, live_server, colour, alt):
    """An image stored through the editor's own upload route, as editor.js sends it."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    response = page.request.post(
        live_server + "/desk/media",
        headers={"X-CSRFToken": token, "Accept": "application/json"},
        multipart={
            "file": {"name": "picture.png", "mimeType": "image/png", "buffer": png(colour)},
            "alt": alt,
        },
    )
    assert response.ok, response.text()
    return response.json()


@pytest.fixture(scope="module")
def made():
    """Rows made once for the module (they live in the session's live database)."""
    return {}


@pytest.fixture
def admin(live_server, made):
    if "admin" not in made:
        made["admin"] = make_login("admin", f"Axe Admin {next(_serial)}")
    return made["admin"]


def sign_in(context, live_server, admin, made):
    """The admin's session in this browser context: logged in once, then its cookies."""
    if "cookies" not in made:
        page = context.new_page()
        log_in(page, live_server, admin)
        made["cookies"] = context.cookies()
        page.close()
    else:
        context.add_cookies(made["cookies"])


@pytest.fixture
def staff_page(page, live_server, admin, made):
    sign_in(page.context, live_server, admin, made)
    return page


@pytest.fixture
def draft(live_server, admin, made):
    """A draft by the admin with two recorded versions, so its history shows a diff."""
    if "draft" not in made:
        article = factories.make_draft(
            admin,
            title="A draft for the accessibility check",
            lead="The lead as first written.",
            body="<p>The body as first written.</p><h2>A subheading</h2><p>More.</p>",
        )
        Revision.record(article, admin, "created")
        Article.update(lead="The lead as rewritten.", version=Article.version + 1).where(
            Article.id == article.id
        ).execute()
        Revision.record(Article.get_by_id(article.id), admin, "edited")
        made["draft"] = article.id
        # And one in the trash, so the trash view shows its Restore and Empty controls.
        factories.make_article(
            title="A trashed article for the accessibility check",
            section=Section.ordered().first(),
            rubric=Rubric.ordered().first(),
            author=admin,
            **state_fields("trash"),
        )
    return Article.get_by_id(made["draft"])


@pytest.fixture
def illustrated(browser, live_server, admin, made):
    """A published article with a lead image and a picture in its text."""
    if "illustrated" not in made:
        context = browser.new_context()
        sign_in(context, live_server, admin, made)
        page = context.new_page()
        page.goto(live_server + "/desk/")  # for the CSRF token in its <meta>
        lead = upload(page, live_server, (20, 90, 160), "A blue harbour at dawn")
        inline = upload(page, live_server, (160, 60, 20), "A rust-red cliff above the sea")
        context.close()
        article = factories.make_article(
            title="Pictures from the coast",
            lead="A lead image above the text, and another picture within it.",
            body=(
                "<p>The first paragraph.</p>"
                f'<p><img src="{inline["url"]}" alt="{inline["alt"]}"></p>'
                "<p>The last paragraph.</p>"
            ),
            lead_image=lead["id"],
            lead_image_alt=lead["alt"],
            section=Section.get(Section.slug == "analysis"),
            rubric=Rubric.ordered().first(),
            author=admin,
            # Long ago: last in every list, so the demo's first pages stay as seeded.
            published_at=dt.datetime(2001, 1, 1, 9, 0),
        )
        made["illustrated"] = article.id
    return Article.get_by_id(made["illustrated"])


# --- Public pages ---------------------------------------------------------------------------

PUBLIC_PAGES = {
    "main": lambda: "/",
    "section": lambda: "/section/news",
    "section page 2": lambda: "/section/news?page=2",
    "rubric": lambda: "/rubric/global-security",
    "seed article": lambda: article_path(seed_article()),
    "print": lambda: article_path(seed_article()) + "/print",
    "author": lambda: f"/authors/{seed_article().author.slug}",
    "search": lambda: "/search",
    "search with results": lambda: "/search?q=Afghanistan",
    "search without results": lambda: "/search?q=xylophonequartz",
    "search with a filter": lambda: "/search?q=Russia&section=reports",
    "404": lambda: "/no/such/page",
    "text main": lambda: "/text/",
    "text section": lambda: "/text/section/news",
    "text article": lambda: article_path(seed_article(), "/text"),
    "text search": lambda: "/text/search?q=Afghanistan",
    "text 404": lambda: "/text/no/such/page",
}


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_has_no_axe_violations(page, live_server, name):
    path = PUBLIC_PAGES[name]()
    response = page.goto(live_server + path)
    assert response.status == (404 if "404" in name else 200), path
    assert_accessible(page)


@pytest.mark.parametrize("name", ["main", "seed article", "text article"])
def test_public_page_on_a_phone_has_no_axe_violations(page, live_server, name):
    page.set_viewport_size(PHONE)
    page.goto(live_server + PUBLIC_PAGES[name]())
    assert_accessible(page)


@pytest.mark.parametrize("prefix", ["", "/text"])
def test_article_with_pictures_has_no_axe_violations(page, live_server, illustrated, prefix):
    response = page.goto(live_server + article_path(illustrated, prefix))
    assert response.status == 200
    if not prefix:
        expect(page.locator("#lead-image img")).to_have_attribute("alt", "A blue harbour at dawn")
        expect(page.locator(".article-body img")).to_have_count(1)
    assert_accessible(page)


def test_login_page_has_no_axe_violations(page, live_server):
    page.goto(live_server + "/auth/login")
    assert_accessible(page)
    # And with the errors of a failed attempt shown.
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".form-errors")).to_be_visible()
    assert_accessible(page)


def test_registration_page_has_no_axe_violations(page, live_server):
    if not SiteSettings.get_by_id(1).registration_open:
        SiteSettings.update(registration_open=True).where(SiteSettings.id == 1).execute()
        SiteSettings.bump_content_version()
    page.goto(live_server + "/auth/register")
    expect(page.locator("h1")).to_have_text("Create an account")
    assert_accessible(page)
    page.get_by_role("button", name="Create account").click()  # empty: every field in error
    expect(page.locator(".errors").first).to_be_visible()
    assert_accessible(page)


def test_password_reset_request_page_has_no_axe_violations(page, live_server):
    page.goto(live_server + "/auth/reset")
    assert_accessible(page)


# --- Staff pages ----------------------------------------------------------------------------

STAFF_PAGES = {
    "password change": lambda draft: "/auth/password",
    "dashboard": lambda draft: "/desk/",
    "dashboard, trash": lambda draft: "/desk/?state=trash",  # the draft fixture trashes one
    "new article": lambda draft: "/desk/articles/new",
    "edit page": lambda draft: f"/desk/articles/{draft.id}/edit",
    "history": lambda draft: f"/desk/articles/{draft.id}/history",
    "taxonomy": lambda draft: "/desk/taxonomy",
    "admin users": lambda draft: "/admin/users",
    "admin settings": lambda draft: "/admin/settings",
    "seed article as staff": lambda draft: article_path(seed_article()),
    "draft as staff": lambda draft: article_path(draft),
}


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_page_has_no_axe_violations(staff_page, live_server, draft, name):
    page = staff_page
    response = page.goto(live_server + STAFF_PAGES[name](draft))
    assert response.status == 200
    assert_accessible(page)


def test_open_in_place_editors_have_no_axe_violations(staff_page, live_server, draft):
    page = staff_page
    page.goto(live_server + article_path(draft))
    for name, label in (("title", "title"), ("body", "text"), ("lead_image", "lead image")):
        page.locator(f"#field-{name}").get_by_role("link", name=f"Edit {label}").click()
        expect(page.locator(f"form#field-{name}[data-ready]")).to_have_count(1)
    expect(page.locator("#field-body .rich-surface")).to_be_visible()
    assert_accessible(page)
    # And a refused save: the title editor comes back with its error.
    page.locator("#field-title input[name=title]").fill("   ")  # past `required`
    page.locator("#field-title").get_by_role("button", name="Save").click()
    expect(page.locator("#field-title .errors")).to_be_visible()
    assert_accessible(page)
