"""The rendered-page cache and the per-version fragments: fast, and never stale."""

import datetime as dt

from caching import PageCache
from models import Article, SiteSettings, User, utcnow
from passwords import hash_password


def page(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_cached_page_costs_one_query(client, make_article, query_counter):
    article = make_article(title="Cached story")
    first = page(client, "/")
    with query_counter() as queries:
        second = page(client, "/")
    assert second == first
    assert len(queries) == 1  # the freshness check, nothing else
    with query_counter() as queries:
        page(client, f"/articles/{article.id}/{article.slug}")
        page(client, f"/articles/{article.id}/{article.slug}")
    assert len(queries) == 2 + 1  # freshness and the article; then only the freshness check


def test_a_save_shows_on_the_next_request(client, make_article):
    article = make_article(title="Before the edit", lead="A lead.", body="<p>Text.</p>")
    url = f"/articles/{article.id}/{article.slug}"
    assert "Before the edit" in page(client, url)
    assert "Before the edit" in page(client, "/")
    editor = User.create(role="editor", display_name="Ed", slug="ed", email="ed@x.test")
    article.save_changes({"title": "After the edit"}, article.version, editor)
    assert "After the edit" in page(client, url.replace("before-the-edit", "after-the-edit"))
    assert "After the edit" in page(client, "/")
    assert "Before the edit" not in page(client, "/")


def test_a_scheduled_article_appears_when_its_time_comes(client, make_article):
    make_article(title="Older story")
    later = make_article(title="Scheduled story", published_at=utcnow() + dt.timedelta(hours=1))
    assert "Scheduled story" not in page(client, "/")
    assert "Scheduled story" not in page(client, "/rss.xml")
    # Time passes: no save happens, no version is bumped.
    Article.update(published_at=utcnow() - dt.timedelta(seconds=1)).where(
        Article.id == later.id
    ).execute()
    assert "Scheduled story" in page(client, "/")
    assert "Scheduled story" in page(client, "/rss.xml")


def test_htmx_fragment_and_full_page_are_cached_apart(client, make_article):
    for n in range(10):
        make_article(title=f"Story {n}")
    url = "/section/news/latest?page=2"
    fragment = page(client, url, **{"HX-Request": "true"})
    assert "<html" not in fragment
    again = page(client, url, **{"HX-Request": "true"})
    assert again == fragment
    full = page(client, "/section/news")
    assert "<html" in full


def test_logged_in_pages_are_never_served_from_the_cache(client, make_article):
    make_article(title="Shared story")
    anonymous = page(client, "/")
    User.create(
        role="editor",
        display_name="Edna Visible",
        slug="edna",
        email="edna@x.test",
        password_hash=hash_password("a long password 1"),
    )
    client.post("/auth/login", data={"email": "edna@x.test", "password": "a long password 1"})
    mine = client.get("/")
    assert "Edna Visible" in mine.get_data(as_text=True)
    assert "no-store" in mine.headers["Cache-Control"]
    client.post("/auth/logout")
    assert page(client, "/") == anonymous


def test_settings_change_reaches_cached_pages(client, make_article):
    make_article(title="Story")
    assert "Renamed Site" not in page(client, "/")
    SiteSettings.update(name="Renamed Site").where(SiteSettings.id == 1).execute()
    SiteSettings.bump_content_version()
    assert "Renamed Site" in page(client, "/")


def test_page_cache_keeps_within_its_size_and_drops_the_oldest():
    cache = PageCache(max_bytes=800)
    for n in range(10):
        cache.put(f"/page/{n}", "v1", "text/html", b"x" * 100)
    assert cache.size <= 800
    assert cache.get("/page/0", "v1") is None  # least recently used: gone
    assert cache.get("/page/9", "v1")[2] == b"x" * 100
    assert cache.get("/page/9", "v2") is None  # rendered under another content version
    cache.put("/huge", "v1", "text/html", b"x" * 500)  # over an eighth of the cache
    assert cache.get("/huge", "v1") is None


def test_the_page_cache_can_be_turned_off(tmp_path):
    from conftest import make_app

    app = make_app(tmp_path / "off.db", PAGE_CACHE_BYTES=0)
    assert app.test_client().get("/").status_code == 200
