"""Full-text search: what readers find, in what order, and that no query can break it."""

import datetime as dt
import re

import pytest

from factories import make_rubric, make_section
from models import Article, ArticleIndex, SiteSettings, User, utcnow

HOSTILE_QUERIES = [
    '"',
    '"unbalanced',
    "((",
    "a) OR (b",
    "NEAR(",
    "NEAR(alpha beta, 2)",
    "alpha OR",
    "AND",
    "-alpha",
    "alpha -beta",
    "*",
    "alpha*",
    "*alpha",
    "title:alpha",
    "{title body}: alpha",
    "^alpha",
    "alpha + beta",
    "'; DROP TABLE article; --",
    "%_%",
    "\\",
    "\x00\x01\x02\x03",
    "alpha\x1fbeta",
    "\u202e\u200b\ufeff",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 \U0010fffd",
    "日本語 中文 한국어",
    "x" * 10_000,
    "alpha " * 500,
]


def result_titles(response):
    html = response.get_data(as_text=True)
    return re.findall(
        r'<h2><a href="[^"]+">([^<]*)</a></h2>', html.split('class="search-count"')[-1]
    )


def search(client, q, **filters):
    return client.get("/search", query_string={"q": q, **filters})


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_any_query_gets_a_page_never_a_500(client, make_article, query):
    make_article(title="Alpha beta", body="<p>alpha beta gamma</p>")
    for url in ("/search", "/text/search"):
        response = client.get(url, query_string={"q": query})
        assert response.status_code == 200
        assert "Search" in response.get_data(as_text=True)


def test_hostile_query_in_the_page_is_escaped(client, make_article):
    make_article(title="Alpha", body="<p>alpha</p>")
    html = search(client, "<script>alert(1)</script> alpha").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; alpha" in html


def test_long_query_says_it_was_shortened(client, make_article):
    make_article(title="Alpha", body="<p>alpha</p>")
    html = search(client, "alpha " + "x" * 500).get_data(as_text=True)
    assert "Only the first 200 characters were searched." in html


def test_empty_query_explains_how_to_search(client):
    html = search(client, "").get_data(as_text=True)
    assert "Type one or more words" in html


def test_no_result_page_is_helpful(client, make_article):
    make_article(title="Alpha", body="<p>alpha</p>")
    html = search(client, "zeppelin").get_data(as_text=True)
    assert "No articles match <strong>zeppelin</strong>" in html
    assert "Try fewer or other words" in html


def test_title_match_ranks_above_body_match(client, make_article):
    make_article(title="Weather report", body="<p>" + "filler words " * 50 + "zeppelin</p>")
    make_article(title="Zeppelin returns", body="<p>" + "filler words " * 50 + "</p>")
    assert result_titles(search(client, "zeppelin")) == ["Zeppelin returns", "Weather report"]


def test_recent_article_ranks_above_an_equal_old_one(client, make_article):
    now = utcnow()
    make_article(title="Old zeppelin", published_at=now - dt.timedelta(days=3000))
    make_article(title="New zeppelin", published_at=now - dt.timedelta(days=1))
    assert result_titles(search(client, "zeppelin")) == ["New zeppelin", "Old zeppelin"]


def test_snippet_highlights_matches_and_escapes_text(client, make_article):
    make_article(
        title="Markup",
        body="<p>The tag &lt;script&gt;alert(1)&lt;/script&gt; sits beside the zeppelin.</p>",
    )
    html = search(client, "zeppelin").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', html).group(1)
    assert "<mark>zeppelin</mark>" in snippet
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in snippet
    assert "<script>" not in snippet


def test_phrase_prefix_and_diacritics(client, make_article):
    make_article(title="Café society", body="<p>the economy of Россия and Ёлкино</p>")
    make_article(title="Other", body="<p>economy society café</p>")
    assert result_titles(search(client, '"cafe society"')) == ["Café society"]
    assert set(result_titles(search(client, "econ*"))) == {"Café society", "Other"}
    assert result_titles(search(client, "россия")) == ["Café society"]
    assert result_titles(search(client, "елкино")) == ["Café society"]


def test_filters_by_section_rubric_and_dates(client, make_article):
    first = make_article(
        title="Zeppelin one",
        published_at=dt.datetime(2019, 7, 1, 12),
        section=make_section("News"),
        rubric=make_rubric("Economy"),
    )
    second = make_article(
        title="Zeppelin two",
        published_at=dt.datetime(2019, 8, 1, 12),
        section=make_section("Reports"),
        rubric=make_rubric("Energy"),
    )
    assert result_titles(search(client, "zeppelin", section=first.section.slug)) == ["Zeppelin one"]
    assert result_titles(search(client, "zeppelin", rubric=second.rubric.slug)) == ["Zeppelin two"]
    assert result_titles(search(client, "zeppelin", **{"from": "2019-07-15"})) == ["Zeppelin two"]
    assert result_titles(search(client, "zeppelin", to="2019-07-01")) == ["Zeppelin one"]
    html = search(client, "zeppelin", to="yesterday").get_data(as_text=True)
    assert "is not a date" in html
    assert len(result_titles(search(client, "zeppelin", section="nope"))) == 2


def test_pagination(client, make_article):
    for n in range(25):
        make_article(title=f"Zeppelin {n}")
    first = search(client, "zeppelin")
    assert len(result_titles(first)) == 20
    assert "page=2" in first.get_data(as_text=True)
    assert len(result_titles(client.get("/search?q=zeppelin&page=2"))) == 5
    assert client.get("/search?q=zeppelin&page=3").status_code == 404
    assert client.get("/search?q=zeppelin&page=abc").status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Article.DRAFT},
        {"status": Article.SUBMITTED},
        {"status": Article.UNPUBLISHED},
        {"published_at": utcnow() + dt.timedelta(days=1)},
        {"deleted_at": utcnow()},
    ],
)
def test_unpublished_articles_are_never_found(client, make_article, fields):
    make_article(title="Zeppelin hidden", **fields)
    assert result_titles(search(client, "zeppelin")) == []


def editor():
    return User.create(role="editor", display_name="Ed", slug="ed-search", email="ed@x.test")


def test_index_follows_every_state_change(client, make_article):
    article = make_article(title="Zeppelin story", lead="A lead.", body="<p>Plain words.</p>")
    ed = editor()

    def found():
        return result_titles(search(client, "zeppelin"))

    article = article.take_action("unpublish", ed)
    assert found() == []
    article = article.take_action("publish", ed)
    assert found() == ["Zeppelin story"]
    article = article.save_changes({"title": "Airship story"}, article.version, ed)
    assert found() == []
    assert result_titles(search(client, "airship")) == ["Airship story"]
    article = article.take_action("trash", ed)
    assert result_titles(search(client, "airship")) == []
    article = article.take_action("restore", ed)
    assert result_titles(search(client, "airship")) == ["Airship story"]
    article.take_action("trash", ed)
    Article.empty_trash()
    assert ArticleIndex.select().where(ArticleIndex.rowid == article.id).count() == 0


def test_scheduled_article_is_found_once_its_time_comes(client, make_article):
    article = make_article(title="Zeppelin later", published_at=utcnow() + dt.timedelta(hours=1))
    assert result_titles(search(client, "zeppelin")) == []
    Article.update(published_at=utcnow() - dt.timedelta(minutes=1)).where(
        Article.id == article.id
    ).execute()
    SiteSettings.bump_content_version()
    assert result_titles(search(client, "zeppelin")) == ["Zeppelin later"]


def test_reindex_command_rebuilds_the_index(client, runner, make_article):
    make_article(title="Zeppelin")
    ArticleIndex.delete().execute()
    assert result_titles(search(client, "zeppelin")) == []
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 articles." in result.output
    assert result_titles(search(client, "zeppelin")) == ["Zeppelin"]


def test_search_box_on_every_page_links_to_the_right_version(client, make_article):
    article = make_article(title="Zeppelin")
    assert 'action="/search"' in client.get("/").get_data(as_text=True)
    text_page = client.get(f"/text/articles/{article.id}/{article.slug}")
    assert 'action="/text/search"' in text_page.get_data(as_text=True)
    text_results = client.get("/text/search?q=zeppelin").get_data(as_text=True)
    assert f'href="/text/articles/{article.id}/{article.slug}"' in text_results


def test_a_very_common_word_ranks_the_best_candidates_and_says_so(
    client, make_article, monkeypatch
):
    monkeypatch.setattr(ArticleIndex, "CANDIDATES", 5)
    for n in range(8):
        make_article(title=f"Zeppelin {n}", body="<p>zeppelin " * (n + 1) + "</p>")
    html = search(client, "zeppelin").get_data(as_text=True)
    assert "Showing the best 5 matches" in html
    assert len(result_titles(search(client, "zeppelin"))) == 5
    filtered = search(client, "zeppelin", section="news").get_data(as_text=True)
    assert "Showing the best" not in filtered  # a filter searches every match
