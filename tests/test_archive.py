"""`flask --app app export PATH` and `import PATH`: archive.py.

The round trip: a site with every kind of row (demo content, accounts with
passwords, an edited article and its revisions, a trashed one, a renamed section
with its old slug, an uploaded lead image) is exported, imported into a second
site, and exported again: the two archives hold the same content, and every public
URL of the first site answers the same on the second. Then everything an untrusted
archive can get wrong, each refused with a clear message and nothing stored, and a
failure in the middle of a load, which leaves the site as it was.
"""

import datetime as dt
import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from desk_helpers import PASSWORD, cheap_hash, make_login
from peewee import IntegrityError
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.security import generate_password_hash

import archive
import demo
import factories
import media
import models
from models import (
    Article,
    ArticleIndex,
    LegacyPost,
    LegacyTerm,
    Revision,
    Section,
    SiteSettings,
    SlugRedirect,
    User,
    utcnow,
)
from passwords import hash_password
from sanitize import clean_html


def run(runner, *args):
    return runner.invoke(args=[str(arg) for arg in args])


def content_of(path):
    with zipfile.ZipFile(path) as zf:
        return zf.read("content.json").decode("utf-8")


def without_exported_at(text):
    return re.sub(r'"exported_at":"[^"]*"', '"exported_at":""', text, count=1)


def test_an_archive_of_version_one_describes_lead_images_as_the_image_did(app, runner, tmp_path):
    path = write_archive(tmp_path / "a.zip", mutated(version_one))
    result = run(runner, "import", path)
    assert result.exit_code == 0, result.output
    assert Article.get_by_id(7).lead_image_alt == "A gradient"
    assert Revision.get(Revision.article == 7).lead_image_alt == "A gradient"
    page = app.test_client().get("/articles/7/kept-title").get_data(as_text=True)
    assert 'alt="A gradient"' in page


def media_files(app):
    """{name: bytes} of every file in the site's media folder."""
    root = Path(app.config["MEDIA_ROOT"])
    return (
        {path.name: path.read_bytes() for path in sorted(root.iterdir())} if root.is_dir() else {}
    )


def png_bytes(size=(1100, 700)):
    """A picture wide enough for two narrower copies (480 and 960)."""
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                                Image.effect_noise(size, 30)))  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --- The site that is exported ---------------------------------------------------------------


def fill_site(app):
    """Demo content plus one of every kind of row the demo lacks; returns notable rows."""
    demo.load_demo(30)
    editor = make_login("editor", "Edna Editor")
    make_login("reader", "Rita Reader")
    with app.app_context():
        picture, created = media.accept_upload(
            FileStorage(io.BytesIO(png_bytes()), filename="photo.png"), "A gradient", editor
        )
    assert created and picture.variants != "[]"
    edited = Article.get(Article.title == demo.SEED_TITLE)
    body = edited.body + f'<p><img src="{picture.url}" alt="A gradient"></p>'
    lead = {"lead_image": picture.id, "lead_image_alt": "A gradient, as this story sees it"}
    edited = edited.save_changes({"body": body, **lead}, edited.version, editor)
    edited = edited.save_changes(
        {"title": "Russia and the US, again"}, edited.version, editor, as_update=True
    )
    assert edited.revised_at is not None  # shown to readers as "Updated": round-tripped too
    trashed = Article.select().where(Article.id != edited.id).order_by(Article.id).first()
    trashed.take_action("trash", editor)
    factories.make_article(title="A draft", status=Article.DRAFT, published_at=None,
                           section=Section.get(Section.slug == "news"))  # fmt: skip
    factories.make_article(title="Scheduled", published_at=utcnow() + dt.timedelta(days=2))
    news = Section.get(Section.slug == "news")
    news.rename("Breaking News", "breaking-news")
    # As if imported from WordPress: its old addresses redirect to the article, and an old
    # category archive to a rubric.
    LegacyPost.create(
        wp_id=4242, slug="old-post", year=2019, month=7, day=21, article=edited,
        path="/archives/old-post",
    )  # fmt: skip
    LegacyTerm.create(path="/category/old-topic", kind="rubric", target_id=edited.rubric_id)
    return {"editor": editor, "edited": edited, "trashed": trashed, "picture": picture}


def public_urls():
    """Every public URL of the site: pages, text versions, feeds, sitemap, old slugs."""
    urls = ["/", "/text/", "/rss.xml", "/atom.xml", "/sitemap.xml", "/robots.txt",
            "/search?q=russia", "/section/news", "/section/news/rss.xml",
            "/?p=4242", "/2019/07/21/old-post/", "/archives/old-post/",
            "/category/old-topic/", "/category/old-topic/feed/"]  # fmt: skip
    for kind, model in (("section", models.Section), ("rubric", models.Rubric)):
        for item in model.select():
            base = f"/{kind}/{item.slug}"
            urls += [base, f"{base}?page=2", f"/text{base}", f"{base}/rss.xml"]
    for user in User.select():
        urls += [f"/authors/{user.slug}", f"/text/authors/{user.slug}"]
    for article in Article.select():
        base = f"/articles/{article.id}/{article.slug}"
        urls += [f"/articles/{article.id}", base, f"{base}/print", f"/text{base}"]
    return urls


ARTICLE_LINK = r'<a href="(?:/text)?/articles/\d+/[^"]*"[^>]*>(.*?)</a>'
TITLES = re.compile(rf"{ARTICLE_LINK}|<title>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.S)


def answers(client, urls):
    """url -> (status, redirect target, every title on the page, in order)."""
    result = {}
    for url in urls:
        response = client.get(url)
        text = response.get_data(as_text=True)
        titles = ["".join(groups) for groups in TITLES.findall(text)]
        result[url] = (response.status_code, response.headers.get("Location"), titles)
    return result


@pytest.fixture
def exported(app, runner, tmp_path):
    """The filled site, exported with password hashes: (rows, urls, answers, path)."""
    rows = fill_site(app)
    urls = public_urls()
    seen = answers(app.test_client(), urls)
    path = tmp_path / "site.zip"
    result = run(runner, "export", path, "--with-password-hashes")
    assert result.exit_code == 0, result.output
    return rows, urls, seen, path


def second_site(tmp_path, name="second"):
    """A new app with its own empty database and media folder (the proxy now points at it)."""
    from conftest import make_app

    if not models.database.is_closed():
        models.database.close()
    folder = tmp_path / name
    folder.mkdir()
    return make_app(folder / "site.db", TESTING=True, SECRET_KEY="test", WTF_CSRF_ENABLED=False)


# --- The round trip ----------------------------------------------------------------------------


def test_round_trip_keeps_every_row_url_and_file(app, exported, tmp_path):
    rows, urls, seen, path = exported
    original_files = media_files(app)
    assert len(original_files) == 3  # the picture and its 480 and 960 copies

    second = second_site(tmp_path)
    result = run(second.test_cli_runner(), "import", path)
    assert result.exit_code == 0, result.output
    assert "Imported from" in result.output and "3 media files" in result.output

    again = tmp_path / "again.zip"
    result = run(second.test_cli_runner(), "export", again, "--with-password-hashes")
    assert result.exit_code == 0, result.output
    first_text, second_text = content_of(path), content_of(again)
    assert without_exported_at(first_text) == without_exported_at(second_text)
    assert first_text != second_text  # exported_at is the one difference
    assert media_files(second) == original_files
    with zipfile.ZipFile(again) as zf:
        assert sorted(zf.namelist()) == ["content.json"] + [f"media/{n}" for n in original_files]

    assert answers(second.test_client(), urls) == seen
    statuses = {status for status, _, _ in seen.values()}
    assert statuses == {200, 301, 404}  # pages, old URLs, and what readers may not see
    edited, trashed = rows["edited"], rows["trashed"]
    assert seen[f"/articles/{edited.id}/{edited.slug}"][0] == 200
    assert seen[f"/articles/{trashed.id}/{trashed.slug}"][0] == 404
    assert seen["/section/news"][1].endswith("/section/breaking-news")
    assert seen["/?p=4242"][:2] == (301, f"/articles/{edited.id}/{edited.slug}")
    assert "Russia and the US, again" in seen[f"/articles/{edited.id}/{edited.slug}"][2]
    page = second.test_client().get(f"/articles/{edited.id}/{edited.slug}").get_data(as_text=True)
    assert rows["picture"].srcset in page  # the lead image, and the image in the body
    assert (
        second.test_client().get(rows["picture"].url).data
        == original_files[rows["picture"].filename]
    )


def test_round_trip_keeps_ids_dates_revisions_and_passwords(app, exported, tmp_path, monkeypatch):
    rows, _, _, path = exported
    monkeypatch.setattr(archive, "BATCH", 7)  # many batches, and a part-filled last one
    first = {
        "articles": list(Article.select().order_by(Article.id).dicts()),
        "revisions": list(Revision.select().order_by(Revision.id).dicts()),
        "redirects": list(SlugRedirect.select().dicts()),
        "settings": SiteSettings.get_by_id(1).name,
    }
    editor_token = rows["editor"].login_token
    second = second_site(tmp_path)
    assert run(second.test_cli_runner(), "import", path).exit_code == 0
    assert list(Article.select().order_by(Article.id).dicts()) == first["articles"]
    assert list(Revision.select().order_by(Revision.id).dicts()) == first["revisions"]
    assert list(SlugRedirect.select().dicts()) == first["redirects"]
    assert SiteSettings.get_by_id(1).name == first["settings"] == demo.SITE_SETTINGS["name"]
    assert Revision.select().where(Revision.article == rows["edited"].id).count() == 3

    editor = User.get_by_id(rows["editor"].id)
    assert editor.login_token != editor_token  # sessions of the old site do not carry over
    client = second.test_client()
    login = client.post("/auth/login", data={"email": editor.email, "password": PASSWORD})
    assert login.status_code == 302  # the password hash came along
    # The search index was rebuilt, and the content version moved on.
    found = client.get("/search?q=again").get_data(as_text=True)
    assert "Russia and the US, again" in found
    assert ArticleIndex.select().count() == Article.select().count()
    again = tmp_path / "again.zip"
    assert run(second.test_cli_runner(), "export", again, "--with-password-hashes").exit_code == 0
    assert without_exported_at(content_of(again)) == without_exported_at(content_of(path))


def test_an_imported_site_is_never_a_demo(app, exported, tmp_path):
    *_, path = exported
    assert SiteSettings.get_by_id(1).demo  # fill_site loaded the demo content
    assert "demo" not in json.loads(content_of(path))["site_settings"]

    second = second_site(tmp_path)
    assert run(second.test_cli_runner(), "import", path).exit_code == 0
    assert not SiteSettings.get_by_id(1).demo
    result = run(second.test_cli_runner(), "demo-logins")
    assert result.exit_code == 1
    assert "seed-demo did not create" in result.output
    assert not User.select().where(User.email == "admin@newsdesk.test").exists()


def test_without_password_hashes_accounts_need_a_reset_link(app, runner, tmp_path):
    make_login("admin", "Ada Admin")
    factories.make_article()
    path = tmp_path / "plain.zip"
    result = run(runner, "export", path)
    assert result.exit_code == 0, result.output
    assert "without password hashes" in result.output
    data = json.loads(content_of(path))
    assert data["format"] == "newsdesk-export" and data["version"] == archive.VERSION == 3
    assert all("password_hash" not in user and "login_token" not in user for user in data["users"])

    second = second_site(tmp_path)
    result = run(second.test_cli_runner(), "import", path)
    assert result.exit_code == 0, result.output
    assert "1 accounts have no password" in result.output
    assert "reset-password" in result.output
    admin = User.get(User.display_name == "Ada Admin")
    assert admin.password_hash is None and admin.role == "admin" and admin.login_token


def test_a_missing_media_file_is_a_warning_both_ways(app, runner, tmp_path):
    rows = fill_site(app)
    picture = rows["picture"]
    os.remove(os.path.join(app.config["MEDIA_ROOT"], f"{picture.hash}-480.png"))
    path = tmp_path / "site.zip"
    result = run(runner, "export", path)
    assert result.exit_code == 0, result.output
    assert "Warning: 1 media files are missing from MEDIA_ROOT" in result.output
    assert f"{picture.hash}-480.png" in result.output

    second = second_site(tmp_path)
    result = run(second.test_cli_runner(), "import", path)
    assert result.exit_code == 0, result.output
    assert "Warning: 1 media files of the archive's media rows are not in it" in result.output
    assert sorted(media_files(second)) == [f"{picture.hash}-960.png", f"{picture.hash}.png"]


def test_the_content_json_format(app, runner, tmp_path):
    article = factories.make_article(title="Ünïcode — “quotes”")
    path = tmp_path / "site.zip"
    assert run(runner, "export", path).exit_code == 0
    text = content_of(path)
    assert text.startswith('{"format":"newsdesk-export","version":3,"exported_at":"')
    data = json.loads(text)
    assert list(data) == ["format", "version", "exported_at", "site_settings", *archive.TABLES]
    assert "content_version" not in data["site_settings"]
    (row,) = data["articles"]
    assert row["title"] == "Ünïcode — “quotes”"  # UTF-8, not \u escapes
    assert row["published_at"] == article.published_at.isoformat() + "Z"
    assert row["section_id"] == article.section_id and row["deleted_at"] is None
    assert dt.datetime.fromisoformat(data["exported_at"]).tzinfo == dt.UTC


def test_every_column_is_exported_or_deliberately_left_out():
    """A new column must be added to archive.TABLES (and the format version considered)."""
    exported = {model: set(columns) for model, columns in archive.TABLES.values()}
    exported[SiteSettings] = set(archive.SETTINGS_FIELDS)
    # Logins, failed logins, unconfirmed registrations and who had an editor open belong
    # to the old site.
    left_out = {
        models.UserSession,
        models.Registration,
        models.LoginFailure,
        models.Presence,
        models.ArticleIndex,
        models.SchemaVersion,
    }
    assert set(models.MODELS) | {models.SchemaVersion} == set(exported) | left_out
    for model, columns in exported.items():
        assert set(model._meta.columns) == columns | archive.NOT_EXPORTED.get(model, set()), model


def test_a_failed_export_leaves_no_file(app, runner, tmp_path, monkeypatch):
    factories.make_article()
    path = tmp_path / "site.zip"

    def broken(kind, value):
        raise OSError("disk full")

    monkeypatch.setattr(archive, "export_value", broken)
    result = run(runner, "export", path)
    assert result.exit_code == 1 and "disk full" in result.output
    assert not [name for name in os.listdir(tmp_path) if "zip" in name]  # nor site.zip.partial


@pytest.mark.parametrize("chunk", [1, 2, 7, 64])
def test_the_reader_survives_any_chunk_boundary(app, runner, tmp_path, monkeypatch, chunk):
    fill_site(app)
    path = tmp_path / "site.zip"
    assert run(runner, "export", path).exit_code == 0
    text = content_of(path)
    monkeypatch.setattr(archive._JsonReader, "CHUNK", chunk)
    read = {}

    def on_value(key, value):
        read[key] = read.get(key, []) if value is archive._TABLE_SEEN else value

    reader = archive._JsonReader(io.BytesIO(text.encode()))
    reader.read(on_value, lambda table, index, row: read.setdefault(table, []).append(row))
    assert read == json.loads(text)


# --- Archives written by hand, for what can go wrong -----------------------------------------

PICTURE = png_bytes((300, 200))
PICTURE_HASH = hashlib.sha256(PICTURE).hexdigest()


def minimal_content():
    """The smallest valid content: one of each row, one media row with its file."""
    stamp = "2024-05-06T07:08:09Z"
    article = {
        "id": 7, "title": "Kept title", "slug": "kept-title", "lead": "Lead.",
        "body": "<p>Body.</p>", "section_id": 3, "rubric_id": 4, "author_id": 2, "hot": False,
        "status": "published", "published_at": stamp, "created_at": stamp, "updated_at": stamp,
        "version": 1, "deleted_at": None, "lead_image_id": 5, "lead_image_alt": "A harbour",
        "revised_at": None,
    }  # fmt: skip
    revision = {
        key: article[key]
        for key in ("title", "lead", "body", "section_id", "rubric_id", "author_id", "hot",
                    "status", "published_at", "deleted_at", "lead_image_id", "lead_image_alt")
    }  # fmt: skip
    revision["changed"] = "title,body"
    return {
        "format": "newsdesk-export",
        "version": 3,
        "exported_at": stamp,
        "site_settings": {
            "name": "Imported",
            "tagline": "",
            "founded_line": "",
            "copyright_line": "",
            "timezone": "Europe/Berlin",
            "registration_open": False,
        },
        "users": [
            {
                "id": 2,
                "email": "Ed@Example.org",
                "role": "editor",
                "active": True,
                "display_name": "Ed",
                "slug": "ed",
                "bio": "",
                "created_at": stamp,
            }
        ],
        "sections": [{"id": 3, "name": "News", "slug": "news", "position": 0}],
        "rubrics": [{"id": 4, "name": "Economy", "slug": "economy", "position": 0}],
        "media": [
            {
                "id": 5,
                "hash": PICTURE_HASH,
                "ext": "png",
                "width": 300,
                "height": 200,
                "size": len(PICTURE),
                "variants": [],
                "alt": "A gradient",
                "uploaded_by_id": 2,
                "created_at": stamp,
            }
        ],
        "articles": [article],
        "revisions": [
            {
                "id": 1,
                "article_id": 7,
                "version": 1,
                "editor_id": 2,
                "action": "created",
                "created_at": stamp,
                **revision,
            }
        ],
        "slug_redirects": [{"id": 1, "kind": "section", "old_slug": "old-news", "target_id": 3}],
        "legacy_posts": [
            {
                "id": 1,
                "wp_id": 123,
                "post_type": "post",
                "slug": "kept-title",
                "year": 2024,
                "month": 5,
                "day": 6,
                "article_id": 7,
                "path": "/archives/kept",
            }
        ],
        "legacy_terms": [{"id": 1, "path": "/category/money", "kind": "rubric", "target_id": 4}],
    }


def version_two(content):
    """`content` as format version 2 wrote it: no revised_at of articles."""
    content["version"] = 2
    for row in content["articles"]:
        del row["revised_at"]


def version_one(content):
    """`content` as format version 1 wrote it: no lead_image_alt of articles and revisions,
    no old WordPress addresses (paths of posts, archives of categories and tags)."""
    version_two(content)
    content["version"] = 1
    for row in content["articles"] + content["revisions"]:
        del row["lead_image_alt"]
    for row in content["revisions"]:
        del row["changed"]
    for row in content["legacy_posts"]:
        del row["path"]
    del content["legacy_terms"]


def write_archive(path, content=None, files=None, raw=None):
    """A zip with content.json (`content` as JSON, or `raw` text) and media `files`."""
    if files is None:
        files = {f"media/{PICTURE_HASH}.png": PICTURE}
    with zipfile.ZipFile(path, "w") as zf:
        if raw is not None or content is not None:
            zf.writestr("content.json", raw if raw is not None else json.dumps(content))
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def assert_nothing_stored(app):
    assert archive.site_contents() == []
    assert SiteSettings.get_by_id(1).name == "Newsdesk"
    assert ArticleIndex.select().count() == 0
    assert media_files(app) == {}


def test_a_hand_written_archive_imports(app, runner, tmp_path):
    path = write_archive(tmp_path / "a.zip", minimal_content())
    result = run(runner, "import", path)
    assert result.exit_code == 0, result.output
    article = Article.get_by_id(7)
    assert (article.lead_image_alt, article.lead_image.alt) == ("A harbour", "A gradient")
    assert Revision.get(Revision.article == 7).lead_image_alt == "A harbour"
    assert article.published_at == dt.datetime(2024, 5, 6, 7, 8, 9)
    assert User.get_by_id(2).email == "ed@example.org"
    assert SiteSettings.get_by_id(1).timezone == "Europe/Berlin"
    assert media_files(app) == {f"{PICTURE_HASH}.png": PICTURE}
    client = app.test_client()
    assert client.get("/articles/7/kept-title").status_code == 200
    assert client.get("/section/old-news").headers["Location"].endswith("/section/news")
    assert client.get("/?p=123").headers["Location"].endswith("/articles/7/kept-title")
    assert client.get("/archives/kept/").headers["Location"].endswith("/articles/7/kept-title")
    assert client.get("/category/money/").headers["Location"].endswith("/rubric/economy")
    assert client.get(f"/media/{PICTURE_HASH}.png").data == PICTURE


def test_an_archive_of_version_2_imports_its_undated_published_articles_dated(
    app, runner, tmp_path
):
    """Before version 3 a restore could leave a published article without a time: it gets
    back the one its revisions knew (as migrations.py's step 6 does), revised_at none."""
    content = minimal_content()
    version_two(content)
    content["articles"][0]["published_at"] = None
    content["revisions"][0]["published_at"] = "2019-07-21T05:16:00Z"
    result = run(runner, "import", write_archive(tmp_path / "a.zip", content))
    assert result.exit_code == 0, result.output
    article = Article.get_by_id(7)
    assert (article.state, article.published_at, article.revised_at) == (
        "published", dt.datetime(2019, 7, 21, 5, 16), None,
    )  # fmt: skip
    assert app.test_client().get("/articles/7/kept-title").status_code == 200


def test_an_archive_of_version_1_imports(app, runner, tmp_path):
    """Written before old WordPress addresses were kept: no paths, no archive addresses."""
    content = minimal_content()
    version_one(content)
    result = run(runner, "import", write_archive(tmp_path / "a.zip", content))
    assert result.exit_code == 0, result.output
    assert LegacyPost.get(LegacyPost.wp_id == 123).path is None
    assert LegacyTerm.select().count() == 0
    client = app.test_client()
    assert client.get("/2024/05/06/kept-title/").headers["Location"].endswith("/kept-title")
    assert client.get("/archives/kept/").status_code == 404


def test_password_hashes_are_held_to_what_werkzeug_makes_here():
    assert archive.sane_password_hash(hash_password("plum-orbit-canvas-42"))
    assert archive.sane_password_hash(generate_password_hash("x", method="pbkdf2:sha256:600000"))
    assert archive.sane_password_hash(cheap_hash())
    hexes = "ab" * 32
    for strange in (
        f"scrypt:1048576:64:64$salt${hexes}",  # gigabytes of memory at each login
        f"scrypt:1000:8:1$salt${hexes}",  # not a power of two: scrypt refuses
        f"pbkdf2:sha256:99999999$salt${hexes}",
        f"plain$salt${hexes}",
        "scrypt:32768:8:1$salt",
    ):
        assert not archive.sane_password_hash(strange), strange


def test_bodies_are_sanitized_on_the_way_in(app, runner, tmp_path):
    content = minimal_content()
    dirty = '<p onclick="steal()">Hi<script>alert(1)</script></p><a href="javascript:x">y</a>'
    content["articles"][0]["body"] = dirty
    content["revisions"][0]["body"] = dirty
    assert run(runner, "import", write_archive(tmp_path / "a.zip", content)).exit_code == 0
    for body in (Article.get_by_id(7).body, Revision.get_by_id(1).body):
        assert body == clean_html(dirty)
        assert "script" not in body and "onclick" not in body and "javascript" not in body


def mutated(change):
    content = minimal_content()
    change(content)
    return content


def drop(mapping, key):
    mapping.pop(key)


CASES = {
    "garbage": (lambda p: p.write_bytes(os.urandom(3000)), "not a readable zip file"),
    "an empty file": (lambda p: p.write_bytes(b""), "not a readable zip file"),
    "a missing file": (lambda p: None, "No such file"),
    "an empty zip": (lambda p: write_archive(p, files={}), "it has no content.json"),
    "a zip without content.json": (
        lambda p: write_archive(p),
        "it has no content.json",
    ),
    "a cut-short archive": (
        lambda p: p.write_bytes(write_archive(p, minimal_content()).read_bytes()[:-200]),
        "not a readable zip file",
    ),
    "bad JSON": (lambda p: write_archive(p, raw='{"format": nope}'), "not valid JSON"),
    "JSON cut short": (
        lambda p: write_archive(p, raw=json.dumps(minimal_content())[:-30]),
        "not valid JSON",
    ),
    "an empty content.json": (lambda p: write_archive(p, raw=""), "content.json is empty"),
    "a JSON list": (lambda p: write_archive(p, raw="[1, 2]"), "not a JSON object"),
    "data after the JSON": (
        lambda p: write_archive(p, raw=json.dumps(minimal_content()) + " {}"),
        "data after",
    ),
    "not UTF-8": (
        lambda p: write_archive(p, raw=None, files={"content.json": b"{\xff\xfe}"}),
        "not UTF-8",
    ),
    "another format": (
        lambda p: write_archive(p, mutated(lambda c: c.update(format="wordpress"))),
        "Not a Newsdesk export",
    ),
    "no format": (
        lambda p: write_archive(p, mutated(lambda c: drop(c, "format"))),
        "has no format",
    ),
    "a newer version": (
        lambda p: write_archive(p, mutated(lambda c: c.update(version=4))),
        "format version 4; this Newsdesk reads format versions up to 3",
    ),
    "a version 2 article with a later key": (
        lambda p: write_archive(
            p, mutated(lambda c: (version_two(c), c["articles"][0].update(revised_at=None)))
        ),
        "articles[0] (id 7): unknown key 'revised_at'",
    ),
    "a version 3 article without revised_at": (
        lambda p: write_archive(p, mutated(lambda c: drop(c["articles"][0], "revised_at"))),
        "articles[0] (id 7): missing key 'revised_at'",
    ),
    "a published article without a publication time": (
        lambda p: write_archive(p, mutated(lambda c: c["articles"][0].update(published_at=None))),
        "articles[0] (id 7): a published article needs a publication time.",
    ),
    "an article without its lead image's description": (
        lambda p: write_archive(p, mutated(lambda c: drop(c["articles"][0], "lead_image_alt"))),
        "articles[0] (id 7): missing key 'lead_image_alt'",
    ),
    "a version 1 revision with a later key": (
        lambda p: write_archive(
            p,
            mutated(lambda c: (version_one(c), c["revisions"][0].update(lead_image_alt="x"))),
        ),
        "revisions[0] (id 1): unknown key 'lead_image_alt'",
    ),
    "a version named late": (
        # The row error is found first, but the version is what must be reported.
        lambda p: write_archive(
            p,
            raw=json.dumps(
                {
                    "format": "newsdesk-export",
                    "articles": [{"id": "x"}],
                    "version": 9,
                }
            ),
        ),
        "format version 9",
    ),
    "a missing table": (
        lambda p: write_archive(p, mutated(lambda c: drop(c, "articles"))),
        "has no 'articles'",
    ),
    "a missing key": (
        lambda p: write_archive(p, mutated(lambda c: drop(c["articles"][0], "title"))),
        "articles[0] (id 7): missing key 'title'",
    ),
    "an unknown key": (
        lambda p: write_archive(p, mutated(lambda c: c["users"][0].update(is_root=True))),
        "users[0] (id 2): unknown key 'is_root'",
    ),
    "a wrong type": (
        lambda p: write_archive(p, mutated(lambda c: c["sections"][0].update(position="1"))),
        "sections[0] (id 3): position must be an integer",
    ),
    "a bad date": (
        lambda p: write_archive(
            p, mutated(lambda c: c["articles"][0].update(created_at="yesterday"))
        ),
        "created_at is not an ISO 8601 date-time",
    ),
    "a time past the range": (
        lambda p: write_archive(
            p, mutated(lambda c: c["articles"][0].update(published_at="9999-12-31T23:00:00Z"))
        ),
        "articles[0] (id 7): published_at is not between 1900-01-01 and 2999-12-31",
    ),
    "a time before year one in UTC": (
        lambda p: write_archive(
            p, mutated(lambda c: c["revisions"][0].update(created_at="0001-01-01T00:00:00+05:00"))
        ),
        "revisions[0] (id 1): created_at is not between 1900-01-01 and 2999-12-31",
    ),
    "a time before the range": (
        lambda p: write_archive(p, mutated(lambda c: c.update(exported_at="1899-12-31T23:59:59Z"))),
        "exported_at is not between 1900-01-01 and 2999-12-31",
    ),
    "a timezone no admin could choose": (
        lambda p: write_archive(
            p, mutated(lambda c: c["site_settings"].update(timezone="posix/Europe/Berlin"))
        ),
        "unknown timezone 'posix/Europe/Berlin'",
    ),
    "an unknown status": (
        lambda p: write_archive(p, mutated(lambda c: c["articles"][0].update(status="live"))),
        "status is 'live', not one of",
    ),
    "an unknown role": (
        lambda p: write_archive(p, mutated(lambda c: c["users"][0].update(role="root"))),
        "role is 'root'",
    ),
    "a strange password hash": (
        lambda p: write_archive(
            p, mutated(lambda c: c["users"][0].update(password_hash="md5$x$" + "0" * 32))
        ),
        "users[0] (id 2): password_hash is not a password hash Newsdesk uses",
    ),
    "an unknown timezone": (
        lambda p: write_archive(
            p, mutated(lambda c: c["site_settings"].update(timezone="Mars/Olympus"))
        ),
        "unknown timezone 'Mars/Olympus'",
    ),
    "a table that is not a list": (
        lambda p: write_archive(p, mutated(lambda c: c.update(rubrics={}))),
        "rubrics must be a list",
    ),
    "a missing section": (
        lambda p: write_archive(p, mutated(lambda c: c["articles"][0].update(section_id=99))),
        "articles[0] (id 7): section_id is 99, but the archive has no sections row",
    ),
    "a revision of a missing article": (
        lambda p: write_archive(p, mutated(lambda c: c["revisions"][0].update(article_id=8))),
        "article_id is 8, but the archive has no articles row",
    ),
    "a repeated id": (
        lambda p: write_archive(
            p, mutated(lambda c: c["rubrics"].append({**c["rubrics"][0], "slug": "other"}))
        ),
        "rubrics[1] (id 4): a second row with this id",
    ),
    "a repeated slug": (
        lambda p: write_archive(
            p, mutated(lambda c: c["rubrics"].append({**c["rubrics"][0], "id": 9}))
        ),
        "another row has the same slug 'economy'",
    ),
    "a path out of the media folder": (
        lambda p: write_archive(p, minimal_content(), files={"../../evil.png": PICTURE}),
        "only content.json and media files",
    ),
    "a media path with a folder": (
        lambda p: write_archive(
            p, minimal_content(), files={f"media/../{PICTURE_HASH}.png": PICTURE}
        ),
        "only content.json and media files",
    ),
    "an absolute path": (
        lambda p: write_archive(p, minimal_content(), files={"/etc/cron.d/x": b"x"}),
        "only content.json and media files",
    ),
    "a file of no media row": (
        lambda p: write_archive(p, minimal_content(), files={f"media/{'a' * 64}.png": PICTURE}),
        "belongs to no media row",
    ),
    "a file whose content is not its name": (
        lambda p: write_archive(
            p, minimal_content(), files={f"media/{PICTURE_HASH}.png": PICTURE + b"x"}
        ),
        "does not match its name",
    ),
    "a file that is not an image": (
        lambda p: write_archive(
            p,
            mutated(lambda c: c["media"][0].update(variants=[[100, 5]])),
            files={f"media/{PICTURE_HASH}.png": PICTURE, f"media/{PICTURE_HASH}-100.png": b"<svg"},
        ),
        "is not a readable PNG image",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_archive_is_refused_clearly_and_nothing_is_stored(app, runner, tmp_path, case):
    make, message = CASES[case]
    path = tmp_path / "bad.zip"
    make(path)
    result = run(runner, "import", path)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert result.output.count("Error: ") == 1 and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a crash
    assert_nothing_stored(app)


def test_a_media_file_over_the_size_limit_is_refused(app, runner, tmp_path):
    app.config["MEDIA_MAX_BYTES"] = len(PICTURE) // 4 - 1
    result = run(runner, "import", write_archive(tmp_path / "a.zip", minimal_content()))
    assert result.exit_code == 1
    assert f"media/{PICTURE_HASH}.png is larger than" in result.output
    assert "raise MEDIA_MAX_BYTES" in result.output
    assert_nothing_stored(app)


def test_a_site_with_content_is_refused(app, runner, tmp_path):
    make_login("admin", "Ada Admin")
    path = write_archive(tmp_path / "a.zip", minimal_content())
    result = run(runner, "import", path)
    assert result.exit_code == 1
    assert "This site is not empty (it has 1 users)" in result.output
    assert User.select().count() == 1 and Article.select().count() == 0


# --- Atomicity ---------------------------------------------------------------------------------


def test_a_failure_after_the_rows_and_files_leaves_the_site_as_it_was(
    app, runner, tmp_path, monkeypatch
):
    def broken_rebuild(*args, **kwargs):
        assert Article.select().count() == 1 and media_files(app)  # it did get this far
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(ArticleIndex, "rebuild", broken_rebuild)
    path = write_archive(tmp_path / "a.zip", minimal_content())
    result = run(runner, "import", path)
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    assert_nothing_stored(app)

    monkeypatch.undo()  # and the same archive then imports
    assert run(runner, "import", path).exit_code == 0
    assert Article.get_by_id(7).title == "Kept title"


def test_media_files_already_there_are_left_alone(app, runner, tmp_path, monkeypatch):
    """A file of an earlier site with the same name (so the same picture) is kept, even
    when the import fails: it was not this import's to remove."""
    root = app.config["MEDIA_ROOT"]
    os.makedirs(root)
    with open(os.path.join(root, f"{PICTURE_HASH}.png"), "wb") as out:
        out.write(PICTURE)
    monkeypatch.setattr(ArticleIndex, "rebuild", lambda *a, **k: 1 / 0)
    path = write_archive(tmp_path / "a.zip", minimal_content())
    assert run(runner, "import", path).exit_code == 1
    assert media_files(app) == {f"{PICTURE_HASH}.png": PICTURE}
    assert archive.site_contents() == []


def test_a_full_disk_while_copying_media_is_reported_and_undone(app, runner, tmp_path, monkeypatch):
    content = minimal_content()
    wide = png_bytes((700, 400))
    digest = hashlib.sha256(wide).hexdigest()
    narrow = io.BytesIO()
    Image.open(io.BytesIO(wide)).resize((480, 274)).save(narrow, "PNG")
    content["media"].append(
        {**content["media"][0], "id": 6, "hash": digest, "variants": [[480, 1]]}
    )
    files = {
        f"media/{PICTURE_HASH}.png": PICTURE,
        f"media/{digest}.png": wide,
        f"media/{digest}-480.png": narrow.getvalue(),
    }
    real_mkstemp, calls = archive.tempfile.mkstemp, []

    def mkstemp(**kwargs):
        calls.append(kwargs)
        if len(calls) == 3:  # two files written, the third fails
            raise OSError(28, "No space left on device")
        return real_mkstemp(**kwargs)

    monkeypatch.setattr(archive.tempfile, "mkstemp", mkstemp)
    result = run(runner, "import", write_archive(tmp_path / "a.zip", content, files))
    assert result.exit_code == 1
    assert "A media file could not be written ([Errno 28] No space left on device)" in (
        result.output
    )
    assert "nothing was imported" in result.output
    assert_nothing_stored(app)


def test_a_database_error_mid_load_is_reported_and_undone(app, runner, tmp_path, monkeypatch):
    def failing(*args, **kwargs):
        assert Article.select().count() == 1  # articles are in, revisions next
        raise IntegrityError("UNIQUE constraint failed: revision.id")

    monkeypatch.setattr(Revision, "insert_many", failing)
    result = run(runner, "import", write_archive(tmp_path / "a.zip", minimal_content()))
    assert result.exit_code == 1
    assert "rows conflict (UNIQUE constraint failed: revision.id); nothing was imported" in (
        result.output
    )
    assert_nothing_stored(app)
