"""The test tools themselves work: HTML checker, query counter, factories, browser."""

from urllib.parse import quote

import pytest

from models import Article, Section

VALID = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Valid</title></head>
<body><main><h1>Valid</h1><button hx-get="/more" hx-swap="outerHTML">More</button></main></body>
</html>"""

INVALID = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invalid</title></head>
<body><p><div>block in a paragraph</p><span hx-get="/x" id="a" id="a">twice</span></body>
</html>"""


def data_url(html):
    return "data:text/html;charset=utf-8," + quote(html)


@pytest.mark.page_quality
def test_vnu_passes_valid_html_and_flags_invalid(vnu):
    valid, invalid = vnu([VALID, INVALID])
    assert valid == []  # hx-* attributes are tolerated
    assert any("Duplicate attribute “id”" in error for error in invalid), invalid
    assert any("“p” element" in error for error in invalid), invalid
    assert not any("hx-get" in error for error in invalid)


@pytest.mark.page_quality
def test_vnu_keeps_names(vnu):
    assert vnu({"/ok": VALID})["/ok"] == []


def test_query_counter_counts_statements(app, query_counter):
    with query_counter() as queries:
        Section.select().count()
        list(Article.select())
    assert len(queries) == 2
    assert queries[0].startswith("SELECT COUNT(")


def test_make_article_creates_a_visible_article(app, make_article):
    article = make_article(title="Hello, world")
    hidden = make_article(status=Article.DRAFT)
    assert [a.id for a in Article.visible()] == [article.id]
    assert article.slug == "hello-world"
    assert hidden.section_id == article.section_id  # defaults are shared rows


def test_browser_reports_no_errors_on_a_clean_page(page, console_errors):
    page.goto(data_url("<!doctype html><title>ok</title><p id=p>ok</p>"))
    assert page.text_content("#p") == "ok"
    assert console_errors == []


def test_browser_collects_script_errors(page, console_errors):
    page.goto(data_url("<script>console.error('logged'); throw new Error('boom')</script>"))
    page.wait_for_timeout(100)
    assert any("logged" in error for error in console_errors), console_errors
    assert any("boom" in error for error in console_errors), console_errors


def test_live_server_answers_the_browser(page, console_errors, live_server):
    assert page.goto(f"{live_server}/healthz").ok
    htmx = page.request.get(f"{live_server}/static/js/htmx.min.js")
    assert htmx.ok
    assert b'version:"2.0.' in htmx.body()  # the vendored 2.0.x line, see static/js/README.md
    assert console_errors == []
