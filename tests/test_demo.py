"""The demo content: the seed page reproduced exactly, plus generated articles.

Self-contained: these tests point `models.database` at their own databases (SQLite
files, or PostgreSQL databases: conftest.database_url) and use no fixture of conftest.py.
"""

import datetime as dt
import html
import os
import re
from pathlib import Path

import pytest
from conftest import database_url, empty_database, release_connections

import databases
import demo
import models
from models import Article, Rubric, Section, SiteSettings, User, slugify, utcnow
from sanitize import ARTICLE_TAGS, clean_html

GENERATED = 200

# Copied from the seed page independently of demo.py, so a typo there shows up here.
FIRST_PARAGRAPH = (
    "From July 11 to 12, U.S. Special Representative for Afghanistan Reconciliation Zalmay "
    "Khalilzad met with senior diplomats from Russia, China, and Pakistan in Beijing to discuss "
    "the resolution of the war in Afghanistan. U.S. officials viewed the summit favorably, and "
    "Khalilzad stated that the outcome of the negotiations was \u201cvery positive.\u201d After "
    "the conclusion of the talks, all four countries reached an agreement on the need for \u201ca "
    "permanent ceasefire that starts with intra-Afghan negotiations.\u201d"
)
LAST_PARAGRAPH = (
    "Although a new round of talks between the U.S., Russia, and China is scheduled to be held in "
    "Moscow in late July, it remains uncertain whether the United Statesand Russia will be able "
    "to reach a common understanding on what an American withdrawal from Afghanistan entails. "
    "The editor of Russia in Global Affairs magazine, Fyodor Lukyanov, cautioned readers of "
    "Moscow-based business daily Vedomosti in February that U.S.-Russia dialogue on Afghanistan "
    "remains a \u201cmere exchange of mutual services when something is needed on narrow "
    "topics,\u201d rather than a platform for genuine cooperation. This sobering assessment "
    "underscores the obstacles to U.S.-Russia collaboration on stabilizing Afghanistan and will "
    "likely remain a geopolitical reality, unless Washington and Moscow can strike a deal on a "
    "mutually accepted U.S. withdrawal from Afghanistan."
)

# The seed page, where it is checked out beside the repository (as in CI).
SEED_PAGE = Path(
    os.environ.get(
        "NEWSDESK_SEED_PAGE",
        Path(__file__).resolve().parents[2] / "shared" / "seed-page.txt",
    )
)


def use_database(path, empty=False):
    """Point the proxy at the database `path` names; `empty`: a new, empty one."""
    release_connections()
    url = database_url(path) if empty else databases_by_path[path]
    models.database.initialize(databases.connect(url))
    models.database.connect(reuse_if_open=True)
    if empty:
        databases_by_path[path] = url
        empty_database(url)


databases_by_path = {}


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    """One demo database for the read-only tests of this module."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    use_database(path, empty=True)
    summary = demo.load_demo(GENERATED)
    models.database.close()
    return path, summary


@pytest.fixture
def demo_db(demo_path):
    """Points the shared proxy at the demo database for one test (others re-point it too)."""
    path, summary = demo_path
    use_database(path)
    yield summary
    models.database.close()


@pytest.fixture
def empty_db(tmp_path):
    use_database(tmp_path / "empty.db", empty=True)
    yield
    models.database.close()


def paragraphs(body):
    return [html.unescape(text) for text in re.findall(r"<p>(.*?)</p>", body, re.S)]


def seed_article():
    return Article.get(Article.title == demo.SEED_TITLE)


# --- The seed page ----------------------------------------------------------------------


def test_site_settings(demo_db):
    settings = SiteSettings.get_by_id(1)
    assert settings.name == "War and Peace"
    assert settings.tagline
    assert settings.founded_line == "The site was founded by Natalia Laval in 2006"
    assert settings.copyright_line == '2006-2022 Inca Group "War and Peace"'
    assert settings.timezone == "Europe/Moscow"
    assert settings.content_version == 2  # created as 1, bumped once by the load


def test_sections_and_rubrics_in_order(demo_db):
    assert [(s.name, s.slug, s.position) for s in Section.ordered()] == [
        ("Exclusive", "exclusive", 0),
        ("News", "news", 1),
        ("Reports", "reports", 2),
        ("Commentaries", "commentaries", 3),
        ("Analysis", "analysis", 4),
    ]
    rubrics = list(Rubric.ordered())
    assert [r.name for r in rubrics] == [
        "Global Security", "Economy", "Politics", "Energy", "Society", "Technology",
        "Middle East", "Asia-Pacific", "Europe", "Americas",
    ]  # fmt: skip
    assert [r.position for r in rubrics] == list(range(10))
    assert rubrics[0].slug == "global-security"
    assert all(r.slug == slugify(r.name) for r in rubrics)


def test_authors(demo_db):
    authors = list(User.select().order_by(User.id))
    assert 8 <= len(authors) <= 12
    assert all(a.role == "author" and a.email is None and a.password_hash is None for a in authors)
    assert all(a.bio and a.slug == slugify(a.display_name) for a in authors)
    ramani = User.get(User.slug == "samuel-ramani")
    assert ramani.display_name == "Samuel Ramani"
    assert ramani.bio.startswith("Samuel Ramani is a DPhil candidate in International Relations")
    assert ramani.bio.endswith("He can be followed on Twitter @samramani2")


def test_seed_article(demo_db):
    article = seed_article()
    assert article.slug == "are-russia-and-the-us-finally-on-the-same-page-in-afghanistan"
    assert article.section.slug == "reports"
    assert article.rubric.name == "Global Security"
    assert article.author.display_name == "Samuel Ramani"
    assert article.status == Article.PUBLISHED
    assert article.published_at == dt.datetime(2019, 7, 21, 5, 16)
    assert article.deleted_at is None
    assert article.created_at <= article.published_at <= article.updated_at
    assert article.lead and article.lead not in article.body  # a standfirst, not a repeat

    texts = paragraphs(article.body)
    assert len(texts) == 8  # the bio paragraph below the article is not part of it
    assert texts[0] == FIRST_PARAGRAPH
    assert texts[-1] == LAST_PARAGRAPH
    assert all(text == text.strip() and "\xa0" not in text for text in texts)
    assert "DPhil" not in article.body
    assert clean_html(article.body) == article.body
    assert Article.get_visible(article.id) is not None


def test_seed_article_shows_moscow_time(demo_db):
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        moscow = zoneinfo.ZoneInfo("Europe/Moscow")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone data")
    shown = seed_article().published_at.replace(tzinfo=dt.UTC).astimezone(moscow)
    assert shown.strftime("%d.%m.%y %H:%M") == "21.07.19 08:16"


@pytest.mark.parametrize("section", ["exclusive", "news", "reports", "commentaries", "analysis"])
def test_sidebar_lists_are_the_seed_pages(demo_db, section):
    listed = Article.listing(Article.section == Section.get(Section.slug == section)).limit(8)
    assert [a.title for a in listed] == [title for title, _ in demo.SIDEBAR[section]]
    assert all(a.published_at.date() >= dt.date(2019, 7, 1) for a in listed)


def test_sidebar_titles_match_the_seed_page():
    if not SEED_PAGE.is_file():
        pytest.skip(f"no seed page at {SEED_PAGE}")
    lines = SEED_PAGE.read_text(encoding="utf-8").splitlines()
    page_titles = [line.removeprefix("\u00bb\u00a0") for line in lines if line.startswith("\u00bb")]
    module_titles = [title for items in demo.SIDEBAR.values() for title, _ in items]
    assert module_titles == page_titles
    body = [line.rstrip() for line in lines[11:27:2]]
    assert list(demo.SEED_PARAGRAPHS) == body
    assert lines[27].rstrip() == demo.SEED_BIO


def test_odd_spellings_are_kept(demo_db):
    for title in (
        "Yom Kippur War Redux Petrol D0llars Last Hurrah",
        "Destruction of Ukraines Central Bank",
        "Addition by Subtraction, (x, y)\u21a6x\u2212y",
        "OPEC+ oil supply cuts signal smooth Gulf sailing",
    ):
        assert Article.select().where(Article.title == title).count() == 1


def test_seed_article_exists_once(demo_db):
    assert Article.select().where(Article.title == demo.SEED_TITLE).count() == 1


def test_hot_news(demo_db):
    hot = list(Article.hot_news(limit=5))
    assert {a.title for a in hot} == demo.HOT_TITLES
    assert sum(a.section.slug == "news" for a in hot) >= 3


# --- Generated articles -----------------------------------------------------------------


def test_counts(demo_db):
    seed = sum(len(items) for items in demo.SIDEBAR.values())
    assert demo_db["seed_articles"] == seed == 40
    assert demo_db["generated"] == GENERATED
    assert Article.select().count() == seed + GENERATED
    drafts = Article.select().where(Article.status == Article.DRAFT)
    assert drafts.count() == demo_db["drafts"] == 2
    assert all(a.published_at is None for a in drafts)
    scheduled = Article.select().where(
        (Article.status == Article.PUBLISHED) & (Article.published_at > utcnow())
    )
    assert scheduled.count() == demo_db["scheduled"] >= 1
    assert all(a.is_scheduled for a in scheduled)
    visible = Article.visible().count()
    assert visible == seed + GENERATED - demo_db["drafts"] - demo_db["scheduled"]
    assert Article.listing().count() == visible


def test_unpublished_articles_stay_out_of_lists(demo_db):
    hidden = Article.select(Article.id).where(
        (Article.status != Article.PUBLISHED) | (Article.published_at > utcnow())
    )
    hidden_ids = {a.id for a in hidden}
    assert hidden_ids
    assert not hidden_ids & {a.id for a in Article.listing()}
    assert all(Article.get_visible(article_id) is None for article_id in hidden_ids)


def generated_articles():
    seed_titles = [title for items in demo.SIDEBAR.values() for title, _ in items]
    return Article.select().where(Article.title.not_in(seed_titles))


def test_generated_articles_are_spread(demo_db):
    published = [a for a in generated_articles() if a.status == Article.PUBLISHED]
    past = [a for a in published if a.published_at.year < 2090]
    assert all(dt.datetime(2016, 7, 1) <= a.published_at < dt.datetime(2019, 7, 1) for a in past)
    assert {a.section_id for a in published} == {s.id for s in Section.select()}
    assert {a.rubric_id for a in published} == {r.id for r in Rubric.select()}
    assert len({a.author_id for a in published}) == User.select().count()
    assert len({a.title for a in published}) > 0.9 * len(published)
    for article in past:
        assert article.created_at <= article.published_at <= article.updated_at


def test_generated_articles_are_well_formed(demo_db):
    for article in generated_articles():
        assert article.slug == slugify(article.title)
        assert article.lead and "<" not in article.lead
        assert clean_html(article.body) == article.body  # stored as the sanitizer leaves it
        assert set(re.findall(r"<([a-z0-9]+)", article.body)) <= ARTICLE_TAGS
        top_level = [line for line in article.body.split("\n") if line.startswith("<p>")]
        assert 4 <= len(top_level) <= 13  # 4-12, plus a list's introduction
        words = len(re.sub(r"<[^>]+>", " ", article.body).split())
        assert 200 <= words <= 1600


def test_generated_bodies_use_some_markup(demo_db):
    bodies = "".join(a.body for a in generated_articles())
    for tag in ("<h2>", "<blockquote>", "<ul>", '<a href="https://www.example.'):
        assert tag in bodies


# --- Loading ---------------------------------------------------------------------------


def test_load_is_deterministic(demo_db, tmp_path):
    def articles():
        query = Article.select().order_by(Article.id)
        return [(a.title, a.lead, a.body, a.published_at) for a in query]

    first = articles()
    models.database.close()
    use_database(tmp_path / "again.db", empty=True)
    demo.load_demo(GENERATED)
    assert articles() == first


def test_progress_is_reported_per_batch(empty_db):
    calls = []
    demo.load_demo(1500, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1000, 1500), (1500, 1500)]


def test_a_failed_load_leaves_nothing(empty_db):
    def fail(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        demo.load_demo(1500, progress=fail)
    assert Article.select().count() == Section.select().count() == User.select().count() == 0
    assert SiteSettings.get_by_id(1).name == "Newsdesk"


def test_refuses_a_database_with_content(empty_db):
    demo.load_demo(0)
    with pytest.raises(RuntimeError):
        demo.load_demo(0)
    assert Article.select().count() == 40


def test_refuses_a_database_with_only_an_account(empty_db):
    User.create(email="chief@example.org", role="admin", display_name="Chief", slug="chief")
    with pytest.raises(RuntimeError):
        demo.load_demo(0)
    assert Article.select().count() == 0
    assert not SiteSettings.get_by_id(1).demo
