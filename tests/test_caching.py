"""The rendered-page cache and the per-version fragments: fast, and never stale."""

import datetime as dt
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ON_POSTGRES, set_clock, sqlite_only

import caching
import models
from caching import PageCache
from models import Article, SiteSettings, User, utcnow
from passwords import hash_password

ROOT = Path(__file__).resolve().parent.parent


def page(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def beyond_the_stamp(queries):
    """The statements run besides reading the content version (PostgreSQL's stamp)."""
    stamp_reads = [sql for sql in queries if sql.startswith("SELECT content_version")]
    assert ON_POSTGRES or not stamp_reads  # SQLite's stamp is a file
    return [sql for sql in queries if sql not in stamp_reads]


def test_a_cached_page_costs_no_query(client, make_article, query_counter):
    article = make_article(title="Cached story")
    first = page(client, "/")
    with query_counter() as queries:
        second = page(client, "/")
    assert second == first
    assert beyond_the_stamp(queries) == []  # the content stamp said nothing changed
    with query_counter() as queries:
        page(client, f"/articles/{article.id}/{article.slug}")
        page(client, f"/articles/{article.id}/{article.slug}")
    assert len(beyond_the_stamp(queries)) == 1  # the article, once; the site row is current


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


def test_a_scheduled_article_appears_when_its_time_comes(client, make_article, monkeypatch):
    make_article(title="Older story")
    make_article(title="Scheduled story", published_at=utcnow() + dt.timedelta(hours=1))
    assert "Scheduled story" not in page(client, "/")
    assert "Scheduled story" not in page(client, "/rss.xml")
    # Time passes: no save happens, no version is bumped, the stamp stays as it was.
    later = utcnow() + dt.timedelta(hours=1, seconds=1)
    set_clock(monkeypatch, later)
    assert "Scheduled story" in page(client, "/")
    assert "Scheduled story" in page(client, "/rss.xml")


def test_a_change_without_a_stamp_shows_within_the_recheck_interval(
    client, make_article, monkeypatch
):
    """The stamp is written after commit: a crash in between must not leave pages stale."""
    article = make_article(title="Before the crash")
    assert "Before the crash" in page(client, "/")
    monkeypatch.setattr(models.site, "write_content_stamp", lambda: None)  # the lost write
    Article.update(title="After the crash").where(Article.id == article.id).execute()
    SiteSettings.bump_content_version()
    assert "Before the crash" in page(client, "/")  # this worker has not looked yet
    clock = time.monotonic() + caching.RECHECK_SECONDS + 1
    monkeypatch.setattr(caching.time, "monotonic", lambda: clock)
    assert "After the crash" in page(client, "/")


def test_a_save_in_another_process_reaches_this_one(app, client, make_article, tmp_path):
    """Workers share nothing but the database and the stamp file beside it."""
    article = make_article(title="Seen by the worker")
    assert "Seen by the worker" in page(client, "/")
    script = (
        "from playhouse.db_url import connect; import models;"
        f"models.database.initialize(connect({app.config['DATABASE_URL']!r}));"
        "models.Article.update(title='Saved elsewhere')"
        f".where(models.Article.id == {article.id}).execute();"
        "models.SiteSettings.bump_content_version()"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)
    assert "Saved elsewhere" in page(client, "/")


@sqlite_only("the stamp file; PostgreSQL's stamp is the committed version itself")
def test_the_stamp_changes_only_after_commit(app, make_article):
    make_article()
    with app.app_context():
        before = models.read_content_stamp()
        with models.database.atomic():
            SiteSettings.bump_content_version()
            assert models.read_content_stamp() == before  # not committed yet: not announced
        assert models.read_content_stamp() != before
        with pytest.raises(RuntimeError), models.database.atomic():
            SiteSettings.bump_content_version()
            raise RuntimeError("the save fails after the bump")
        after_rollback = models.read_content_stamp()
        assert after_rollback != before  # from the committed bump
        with models.database.atomic():
            pass
        assert models.read_content_stamp() == after_rollback  # the rolled-back one said nothing


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
    headers = [("ETag", '"abc"'), ("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT")]
    for n in range(10):
        cache.put(f"/page/{n}", "v1", headers, b"x" * 100)
    assert cache.size <= 800
    assert cache.get("/page/0", "v1") is None  # least recently used: gone
    assert cache.get("/page/9", "v1")[2] == b"x" * 100
    assert cache.get("/page/9", "v2") is None  # rendered under another content version
    cache.put("/huge", "v1", headers, b"x" * 500)  # over an eighth of the cache
    assert cache.get("/huge", "v1") is None


def test_page_cache_is_safe_for_the_threads_of_one_worker():
    """gunicorn.conf.py runs threads: readers and writers of one cache at once must not
    trip over each other's evictions (a KeyError was a 500) or lose count of its size."""
    cache = PageCache(max_bytes=8 * 300)
    headers = [("ETag", '"abc"'), ("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT")]
    errors = []

    def read():
        for _ in range(3000):
            for n in range(8):
                cache.get(n, "v1")

    def write():
        for n in range(20000):
            cache.put(n % 12, "v1", headers, b"x" * 290)

    def run(work):
        try:
            work()
        except Exception as error:  # any error is the finding
            errors.append(repr(error))

    threads = [threading.Thread(target=run, args=(work,)) for work in (read, read, write, write)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show at once
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert cache.size == sum(len(entry[2]) for entry in cache.entries.values()) <= 8 * 300


def test_the_page_cache_can_be_turned_off(tmp_path):
    from conftest import make_app

    app = make_app(tmp_path / "off.db", PAGE_CACHE_BYTES=0)
    assert app.test_client().get("/").status_code == 200


def test_head_from_the_cache_has_the_headers_and_no_body(client, make_article):
    make_article(title="Headed")
    full = client.get("/")
    head = client.head("/")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == full.headers["Content-Length"]
    assert head.headers["ETag"] == full.headers["ETag"]


def test_pages_are_kept_apart_by_host_and_scheme(client, make_article):
    """Canonical links and feeds carry absolute URLs: one host's page is not another's."""
    make_article(title="Hosted")
    plain = page(client, "/rss.xml")
    other = client.get("/rss.xml", base_url="https://news.example").get_data(as_text=True)
    assert "http://localhost/" in plain
    assert "https://news.example/" in other and "http://localhost/" not in other


def test_a_reader_with_a_session_cookie_gets_flask_not_the_cache(client, make_article):
    make_article(title="Welcome back")
    page(client, "/")  # now cached
    client.set_cookie("session", "not-a-valid-session")
    response = client.get("/")
    assert response.status_code == 200
    assert "Welcome back" in response.get_data(as_text=True)


@sqlite_only("backup and restore are SQLite's; PostgreSQL has pg_dump and pg_restore")
def test_a_restore_reaches_the_running_site(app, client, runner, make_article, tmp_path):
    article = make_article(title="Backed up title", lead="A lead.")
    backup = tmp_path / "backup.db"
    with app.app_context():  # as `flask` gives its commands
        assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    article.save_changes({"title": "Edited after the backup"}, article.version, article.author)
    assert "Edited after the backup" in page(client, "/")
    with app.app_context():
        result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    restored = page(client, "/")
    assert "Backed up title" in restored and "Edited after the backup" not in restored


def test_without_a_stamp_file_the_content_version_is_the_stamp(
    client, make_article, query_counter, monkeypatch
):
    """PostgreSQL's app servers share no files: each request asks for the version."""
    monkeypatch.setattr(models.site, "content_stamp_path", lambda: None)
    article = make_article(title="Shared by servers", lead="A lead.")
    first = page(client, "/")
    with query_counter() as queries:
        assert page(client, "/") == first
    assert len(queries) == 1 and "content_version" in queries[0]
    Article.update(title="Saved on another server").where(Article.id == article.id).execute()
    SiteSettings.bump_content_version()
    assert "Saved on another server" in page(client, "/")
