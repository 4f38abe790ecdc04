"""A reader in a real browser (Chromium through Playwright) on the demo site."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

import demo

SEED_LISTS = {slug: [title for title, _ in items] for slug, items in demo.SIDEBAR.items()}


def list_titles(sidebar):
    return [text.strip() for text in sidebar.locator("li").all_text_contents()]


@pytest.fixture
def no_js_page(browser):
    """A page in a browser context with JavaScript turned off."""
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def follow(page, link):
    """Click `link` and return the response of the page it loads."""
    with page.expect_navigation() as navigation:
        link.click()
    return navigation.value


def test_main_page_renders_without_console_errors(page, live_server, console_errors):
    response = page.goto(live_server + "/")
    assert response.status == 200
    expect(page.locator(".site-name")).to_have_text("War and Peace")
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_main_page_shows_the_seed_sidebar_lists(page, live_server):
    page.goto(live_server + "/")
    for slug, titles in SEED_LISTS.items():
        assert list_titles(page.locator(f"#sidebar-{slug}")) == titles, slug


def test_sidebar_list_pages_in_place(page, live_server, console_errors):
    page.goto(live_server + "/")
    news = page.locator("#sidebar-news")
    first_titles = list_titles(news)
    page.evaluate("window.__marker = 1")

    news.get_by_role("link", name="older ›").click()
    expect(news.get_by_role("link", name="‹ newer")).to_be_visible()
    older_titles = list_titles(news)
    assert older_titles and not set(older_titles) & set(first_titles)
    assert page.evaluate("window.__marker") == 1  # no full reload
    assert page.url == live_server + "/"
    assert list_titles(page.locator("#sidebar-reports")) == SEED_LISTS["reports"]

    news.get_by_role("link", name="‹ newer").click()
    expect(news.locator("li").first).to_have_text(first_titles[0])
    assert list_titles(news) == first_titles
    assert page.evaluate("window.__marker") == 1
    assert console_errors == []


def test_article_page_renders_without_console_errors(page, live_server, console_errors):
    page.goto(live_server + "/")
    follow(page, page.locator("#sidebar-reports").get_by_role("link", name=demo.SEED_TITLE))
    expect(page.locator("h1")).to_have_text(demo.SEED_TITLE)
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_text_version_works_without_javascript(no_js_page, live_server):
    page = no_js_page
    response = page.goto(live_server + "/text/")
    assert response.status == 200
    assert page.locator("script").count() == 0

    response = follow(page, page.locator("#sidebar-analysis").get_by_role("link", name="read more"))
    assert response.status == 200
    assert urlsplit(page.url).path == "/text/section/analysis"
    assert page.locator("script").count() == 0

    first_article = page.locator("main h2 a").first
    title = first_article.text_content().strip()
    response = follow(page, first_article)
    assert response.status == 200
    assert urlsplit(page.url).path.startswith("/text/articles/")
    expect(page.locator("h1")).to_have_text(title)
    assert page.locator("script").count() == 0


def test_sidebar_older_link_without_javascript_opens_the_section_page(no_js_page, live_server):
    page = no_js_page
    page.goto(live_server + "/")
    response = follow(page, page.locator("#sidebar-news").get_by_role("link", name="older ›"))
    assert response.status == 200
    assert urlsplit(page.url).path == "/section/news"
    # The titles the list's next page would show are on this page.
    expect(page.locator("main")).to_contain_text(SEED_LISTS["news"][-1])
