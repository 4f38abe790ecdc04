"""`flask --app app import-wordpress`: a WordPress export (WXR) becomes articles.

tests/data/wordpress.xml was written for these tests; each item's comment there
says which corner of the format it covers.
"""

import datetime as dt
import time
from pathlib import Path

import pytest
from PIL import Image

import migrations
import wordpress
from models import (
    SCHEMA_VERSION,
    Article,
    ArticleIndex,
    LegacyPost,
    Media,
    Revision,
    Rubric,
    Section,
    SiteSettings,
    User,
    utcnow,
)

FIXTURE = Path(__file__).parent / "data" / "wordpress.xml"
POSTS = (101, 102, 103, 104, 105, 106, 107, 110, 111, 112, 113)  # the post items imported


def run_import(runner, *args, path=FIXTURE):
    return runner.invoke(args=["import-wordpress", str(path), *args])


def imported(wp_id):
    return Article.get_by_id(LegacyPost.get(LegacyPost.wp_id == wp_id).article_id)


def stored_counts():
    return {
        model.__name__: model.select().count()
        for model in (Article, User, Section, Rubric, Media, LegacyPost, Revision)
    }


def media_files(app):
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.fixture
def wp_content(tmp_path):
    """A copy of a WordPress wp-content folder holding the featured image of post 101."""
    folder = tmp_path / "wp-content"
    photo = folder / "uploads" / "2019" / "07" / "photo.jpg"
    photo.parent.mkdir(parents=True)
    Image.new("RGB", (640, 400), (30, 90, 160)).save(photo, "JPEG")
    return folder


@pytest.fixture
def done(runner):
    """The fixture imported with the defaults."""
    result = run_import(runner)
    assert result.exit_code == 0, result.output
    return result


# --- The summary ------------------------------------------------------------------------------


def test_summary_counts_what_was_imported_and_skipped(done):
    lines = done.output.splitlines()
    assert "Importing WordPress items" in done.output  # the progress bar's label
    for expected in (
        "Articles imported: 11 (11 posts; 6 published, 3 draft, 1 scheduled, 1 submitted)",
        "  kept as drafts: 1 private, 1 password-protected",
        "Items skipped: 7",
        "  2 × attachment: imported only where a post uses its file",
        "  1 × nav_menu_item: not a post or page",
        "  1 × page: pages are imported with --pages",
        "  1 × post: an auto-draft",
        "  1 × post: in the trash",
        "  1 × product: not a post or page",
        "Authors created: 4: Jane Doe, Иван Петров, Editorial staff, ghostwriter",
        "Sections created: 1: News",
        "Rubrics created: 4: World News, Economy, Политика, General",
        "Image files imported into the media library: 0 (used as 0 featured images, 0 images in "
        "bodies)",
        "Images not imported (no --uploads given): 2 featured; 4 images and links in bodies "
        "left pointing at the old site",
        "Old addresses redirected: the links of 3 articles (and /?p=ID of each), 4 category "
        "and 2 tag archives",
        "Shortcodes removed: 2 (1 contact-form-7, 1 highlight)",
        "Shortcodes converted: 1 caption, 1 gallery, 1 embed",
        "Tags kept out (Newsdesk has no tags): 2, on 2 articles",
        "Comments kept out (Newsdesk has none): 1",
    ):
        assert expected in lines, f"{expected!r} not in:\n{done.output}"
    assert Article.select().count() == len(POSTS)
    assert sorted(row.wp_id for row in LegacyPost.select()) == list(POSTS)


def test_the_file_is_read_in_small_chunks_alike(runner, monkeypatch):
    monkeypatch.setattr(wordpress, "CHUNK", 7)  # element and CDATA boundaries fall mid-chunk
    result = run_import(runner)
    assert result.exit_code == 0, result.output
    assert "Articles imported: 11 (11 posts; 6 published, 3 draft, 1 scheduled, 1 submitted)" in (
        result.output
    )
    assert imported(101).body.startswith("<p>First paragraph &amp; Tom’s words")


# --- Each article -----------------------------------------------------------------------------


def test_a_published_post(done):
    article = imported(101)
    assert article.title == "Hello & welcome"
    assert article.slug == "hello-welcome"
    assert article.lead == "A short excerpt & summary."
    assert article.status == Article.PUBLISHED and article.state == "published"
    assert article.published_at == dt.datetime(2019, 7, 21, 5, 16)
    assert article.created_at == dt.datetime(2019, 7, 21, 5, 16)
    assert article.updated_at == dt.datetime(2019, 7, 22, 6, 0)
    assert article.hot  # sticky
    assert article.section.name == "News"
    assert article.rubric.name == "World News"  # the first of its two categories
    author = article.author
    assert (author.display_name, author.slug, author.role) == ("Jane Doe", "jane-doe", "author")
    assert author.email is None and author.password_hash is None  # cannot log in
    assert article.lead_image is None  # no --uploads
    legacy = LegacyPost.get(LegacyPost.wp_id == 101)
    assert (legacy.slug, legacy.year, legacy.month, legacy.day) == ("hello-welcome", 2019, 7, 21)
    assert legacy.path == "/2019/07/21/hello-welcome"  # its <link>, host and slash dropped
    assert [r.action for r in Revision.select().where(Revision.article == article)] == [
        "imported from WordPress"
    ]


def test_non_ascii_titles_slugs_and_names(done):
    article = imported(103)
    assert article.title == "Привет, мир — café 🎉"
    assert article.slug == "cafe"  # Newsdesk's slugs are ASCII
    assert article.lead == "Съешь же ещё этих мягких французских булок."
    assert "Crème brûlée à la carte 🎉." in article.body
    assert article.rubric.name == "Политика"
    assert article.rubric.slug == "rubric"  # nothing ASCII in the name: the kind's name
    assert article.author.display_name == "Иван Петров"
    assert article.author.slug == "ivan"  # from the login, as the name has no ASCII
    legacy = LegacyPost.get(LegacyPost.wp_id == 103)
    assert legacy.slug == "привет-мир"  # percent-decoded, as readers' links arrive
    assert (legacy.year, legacy.month, legacy.day) == (2020, 1, 15)
    assert legacy.path == "/2020/01/15/привет-мир"
    assert LegacyPost.get(LegacyPost.wp_id == 104).path is None  # its link is /?p=104


def test_missing_fields_get_defaults(done):
    before = utcnow()
    article = imported(104)  # no post_name, no creator, no dates, no categories
    assert article.title == "No frills"
    assert article.slug == "no-frills"
    assert article.lead == "Just text."
    assert article.author.display_name == "Editorial staff"
    assert article.rubric.name == "General" and article.section.name == "News"
    assert article.status == Article.PUBLISHED
    assert before - dt.timedelta(minutes=5) < article.published_at <= before  # the import's time
    assert imported(113).rubric.name == "General"  # "Uncategorized" counts as no category
    assert imported(110).author.display_name == "ghostwriter"  # not in the author list


def test_statuses(done):
    scheduled = imported(105)
    assert scheduled.status == Article.PUBLISHED and scheduled.state == "scheduled"
    assert scheduled.published_at == dt.datetime(2099, 1, 1, 10, 0)
    assert scheduled.rubric.name == "Economy"
    draft = imported(106)
    assert draft.status == Article.DRAFT and draft.published_at is None
    assert draft.created_at == dt.datetime(2021, 3, 4, 10, 0)  # local date, site in UTC
    assert draft.slug == "half-written"  # empty post_name: from the title
    assert imported(107).status == Article.DRAFT  # private
    assert imported(111).status == Article.SUBMITTED  # pending
    assert imported(112).status == Article.DRAFT  # password-protected: its text was not public
    visible = {a.id for a in Article.visible()}
    assert visible == {imported(i).id for i in (101, 102, 103, 104, 110, 113)}


def test_local_dates_are_read_in_the_sites_timezone(runner):
    SiteSettings.update(timezone="Europe/Moscow").execute()  # UTC+3
    assert run_import(runner).exit_code == 0
    assert imported(106).created_at == dt.datetime(2021, 3, 4, 7, 0)
    assert imported(101).published_at == dt.datetime(2019, 7, 21, 5, 16)  # GMT date wins


def test_dates_and_ids_a_database_cannot_hold_never_break_an_import(client, runner, tmp_path):
    """Years 1 and 9999 in any timezone, and an id past 64 bits: imported without them
    (the import's own time instead), skipped, never a traceback."""
    import wxr

    SiteSettings.update(timezone="Asia/Tokyo").execute()  # UTC+9: year 1 would underflow
    items = [
        wxr.post(901, "Far future", wxr.HOME + "/far/", date="9999-12-31 23:00:00"),
        wxr.post(902, "Year one", wxr.HOME + "/one/", date="0001-01-01 00:30:00"),
        wxr.post(99999999999999999999, "Huge id", wxr.HOME + "/huge/"),
    ]
    path = wxr.write(tmp_path / "dates.xml", *items)
    result = run_import(runner, path=path)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    for wp_id in (901, 902):
        article = imported(wp_id)
        assert dt.datetime(1900, 1, 1) <= article.published_at <= dt.datetime(2999, 12, 31)
    assert LegacyPost.select().count() == 2
    assert client.get(f"/articles/{imported(901).id}/far-future").status_code == 200


# --- Bodies -----------------------------------------------------------------------------------


def test_paragraphs_as_wpautop_makes_them(done):
    assert imported(101).body == (
        "<p>First paragraph &amp; Tom’s words, with a&nbsp;non-breaking space.</p>\n"
        "<p>Second paragraph, line one<br>\nline two of the same paragraph.</p>\n"
        "<pre>code line 1\n\ncode line 3</pre>\n"
        "<p>Last paragraph about the harbour.</p>"
    )


def test_shortcodes_become_html_or_go(done):
    body = imported(102).body
    assert (
        '<figure><a href="http://example.com/wp-content/uploads/2019/07/photo.jpg" '
        'rel="noopener noreferrer"><img src="http://example.com/wp-content/uploads/2019/07/'
        'photo-300x200.jpg" alt="A harbour at dawn" width="300" height="200"></a>'
        "<figcaption>The harbour at dawn</figcaption></figure>"
    ) in body
    assert (
        '<li><a href="http://example.com/wp-content/uploads/2019/07/photo.jpg" '
        'rel="noopener noreferrer">Harbour photo</a></li>'
    ) in body  # the gallery: a list of links to its images
    assert (
        '<p><a href="https://www.youtube.com/watch?v=abc123" rel="noopener noreferrer">'
        "https://www.youtube.com/watch?v=abc123</a></p>"
    ) in body
    assert "<p>Important words stay.</p>" in body  # unknown, enclosing: unwrapped
    assert "contact-form-7" not in body and "highlight" not in body
    assert "<p>Write [gallery] to show a gallery; he said it [sic] twice.</p>" in body
    assert imported(102).lead == "The minister spoke at the port."


def test_every_body_is_sanitized(done):
    assert imported(110).body == (
        "<p>Click the button.</p>\n"
        '<p><a rel="noopener noreferrer">A link</a> <img src="http://example.com/x.png" alt="x">'
        "</p>"
    )
    for article in Article.select():
        for bad in ("<script", "alert", "onclick", "onerror", "onmouseover", "javascript:",
                    "<iframe", "<!--"):  # fmt: skip
            assert bad not in article.body, (article.title, bad)


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("One.\n\nTwo,\nthree.", "<p>One.</p>\n<p>Two,<br />\nthree.</p>\n"),
        ("<h2>Head</h2>\nText", "<h2>Head</h2>\n<p>Text</p>\n"),
        (
            "<blockquote>Quote\nmore</blockquote>",
            "<blockquote><p>Quote<br />\nmore</p></blockquote>\n",
        ),
        ("<ul>\n<li>a</li>\n<li>b</li>\n</ul>", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
        ("   \n\n  ", ""),
    ],
)
def test_wpautop(text, html):
    assert wordpress.wpautop(text) == html


# --- Redirects from the old permalinks --------------------------------------------------------


def test_old_links_redirect_to_the_articles(client, done):
    article = imported(101)
    target = f"/articles/{article.id}/hello-welcome"
    for old in (
        "/?p=101",
        "/2019/07/21/hello-welcome/",
        "/2019/07/21/hello-welcome",
        "/2019/07/hello-welcome/",
        "/2019/07/21/Hello-Welcome/",
    ):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"] == target, old
    cyrillic = client.get("/2020/01/15/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82-%D0%BC%D0%B8%D1%80/")
    assert cyrillic.status_code == 301
    assert cyrillic.headers["Location"] == f"/articles/{imported(103).id}/cafe"
    text = client.get("/text/?p=101")
    assert text.status_code == 301
    assert text.headers["Location"] == f"/text{target}"


def test_unknown_and_hidden_posts_do_not_redirect(client, done):
    for main_page in ("/?p=999", "/?p=105", "/?p=108", "/?p=abc", "/?page_id=109", "/?p=0"):
        response = client.get(main_page)  # scheduled, trashed, a page not imported…
        assert response.status_code == 200, main_page
    for missing in (
        "/2019/07/22/hello-welcome/",  # wrong day
        "/2019/08/hello-welcome/",  # wrong month
        "/2019/07/21/nothing-here/",
        "/2099/01/01/from-the-future/",  # scheduled: not yet
        "/2021/03/05/private-notes/",  # a draft
        "/2019/7/21/hello-welcome/",  # WordPress pads months
    ):
        assert client.get(missing).status_code == 404, missing


def test_pages_are_imported_when_asked(client, runner):
    result = run_import(runner, "--pages")
    assert result.exit_code == 0, result.output
    assert "Articles imported: 12 (11 posts, 1 page;" in result.output
    page = imported(109)
    assert page.title == "About us" and page.state == "published"
    for old in ("/?page_id=109", "/?p=109"):
        response = client.get(old)
        assert response.status_code == 301
        assert response.headers["Location"] == f"/articles/{page.id}/about"


def test_emptying_the_trash_forgets_the_old_link(client, done):
    article = imported(101)
    Article.update(deleted_at=utcnow()).where(Article.id == article.id).execute()
    Article.empty_trash()
    assert not LegacyPost.select().where(LegacyPost.wp_id == 101).exists()
    assert client.get("/?p=101").status_code == 200


# --- Featured images (tests/test_wordpress_images.py: images in bodies) ---------------------


def test_a_featured_image_is_imported_from_the_uploads(app, runner, wp_content):
    result = run_import(runner, "--uploads", str(wp_content))  # wp-content/, or uploads/
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "Image files imported into the media library: 1 (used as 1 featured images, 1 images "
        "in bodies)"
    ) in lines
    assert lines[lines.index("Images missing: 2") + 1 :][:2] == [
        "  post 102 “Shortcodes galore”: http://example.com/wp-content/uploads/2020/02/lost.jpg: "
        "no such file in --uploads",  # linked from its gallery
        "  post 110 “Click here”: http://example.com/wp-content/uploads/2020/02/lost.jpg: "
        "no such file in --uploads",  # its featured image
    ]
    image = imported(101).lead_image
    assert image is not None
    assert image.alt == imported(101).lead_image_alt == "A harbour at dawn"
    assert (image.width, image.height, image.ext) == (640, 400, "jpg")
    assert image.filename in media_files(app)
    assert imported(110).lead_image is None  # its file is missing


def test_the_uploads_folder_itself_works_as_uploads(runner, wp_content):
    result = run_import(runner, "--uploads", str(wp_content / "uploads"))
    assert result.exit_code == 0, result.output
    assert imported(101).lead_image is not None


def test_a_file_that_is_not_an_image_is_refused(app, runner, wp_content):
    (wp_content / "uploads" / "2019" / "07" / "photo.jpg").write_text("<svg onload=alert(1)>")
    result = run_import(runner, "--uploads", str(wp_content))
    assert result.exit_code == 0, result.output
    assert "Image files imported into the media library: 0 (used as 0 featured images" in (
        result.output
    )
    assert (
        "  post 101 “Hello & welcome”: http://example.com/wp-content/uploads/2019/07/photo.jpg: "
        "SVG images are not accepted: they can carry scripts. Upload a JPEG, PNG, WebP or GIF."
    ) in result.output.splitlines()
    assert imported(101).lead_image is None
    assert media_files(app) == []


# --- Search, caches, categories, authors ------------------------------------------------------


def test_search_finds_imported_articles_and_caches_are_refreshed(client):
    version = SiteSettings.load().content_version
    client.get("/")  # the main page, cached before the import
    assert client.get("/search?q=harbour").get_data(as_text=True).count("Hello &amp; welcome") == 0
    result = client.application.test_cli_runner().invoke(args=["import-wordpress", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert SiteSettings.load().content_version > version
    assert ArticleIndex.select().count() == len(POSTS)
    assert "Hello &amp; welcome" in client.get("/search?q=harbour").get_data(as_text=True)
    assert "Hello &amp; welcome" in client.get("/").get_data(as_text=True)


def test_categories_as_sections_with_a_map(runner):
    result = run_import(
        runner,
        "--categories", "sections",
        "--map", "World News=World",
        "--map", "economy=World",  # by slug, merged into the same section
        "--rubric", "Analysis",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Sections created: 3: World, Политика, News" in result.output
    assert "Rubrics created: 1: Analysis" in result.output
    assert imported(101).section.name == imported(102).section.name == "World"
    assert imported(104).section.name == "News"
    assert {a.rubric.name for a in Article.select()} == {"Analysis"}


def test_existing_sections_rubrics_and_staff_are_reused(runner, make_article):
    from factories import make_rubric, make_section, make_user

    news = make_section("News")
    economy = make_rubric("Economy")
    jane = make_user("J. Doe", role="editor", email="jane@example.com")
    ivan = make_user("Иван Петров", slug="ivan-p")
    result = run_import(runner)
    assert result.exit_code == 0, result.output
    assert "Authors created: 2: Editorial staff, ghostwriter" in result.output
    assert "Sections created: 0" in result.output
    assert "Rubrics created: 3: World News, Политика, General" in result.output
    assert imported(101).author_id == jane.id  # by email
    assert imported(102).author_id == ivan.id  # by name
    assert imported(102).rubric_id == economy.id and imported(102).section_id == news.id


def test_importing_again_skips_what_is_there(runner, done):
    counts = stored_counts()
    again = run_import(runner)
    assert again.exit_code == 0, again.output
    assert "Articles imported: 0" in again.output
    assert "  11 × post: already imported (same WordPress id)" in again.output
    assert "Authors created: 0" in again.output
    assert stored_counts() == counts
    pages = run_import(runner, "--pages")
    assert "Articles imported: 1 (1 page; 1 published)" in pages.output
    assert Article.select().count() == len(POSTS) + 1


def test_dry_run_reports_and_stores_nothing(app, runner, wp_content):
    counts = stored_counts()
    version = SiteSettings.load().content_version
    result = run_import(runner, "--dry-run", "--uploads", str(wp_content))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:4] == [
        "Dry run: nothing was stored.",
        "Articles would be imported: 11 (11 posts; 6 published, 3 draft, 1 scheduled, 1 submitted)",
        "  kept as drafts: 1 private, 1 password-protected",
    ]
    assert "Authors would be created: 4: Jane Doe, Иван Петров, Editorial staff, ghostwriter" in (
        result.output
    )
    assert (
        "Image files would be imported into the media library: 1 (used as 1 featured images, "
        "1 images in bodies)"
    ) in result.output
    assert (
        "Old addresses would be redirected: the links of 3 articles (and /?p=ID of each), "
        "4 category and 2 tag archives"
    ) in result.output
    assert stored_counts() == counts
    assert SiteSettings.load().content_version == version
    assert media_files(app) == []


# --- Bad input --------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>&lol9;</title>
<wp:post_id>1</wp:post_id><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
</item></channel></rss>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>&secret;</title>
<wp:post_id>1</wp:post_id><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
</item></channel></rss>"""

WXR_HEAD = '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("This is not XML at all.", "not well-formed XML: syntax error at line 1, column 1"),
        ("", "not well-formed XML: no element found"),
        ("<html><body>Hello</body></html>", "not a WordPress export (its root is <html>)"),
        (
            '<rss version="2.0"><channel><title>A blog</title><item><title>Post</title></item>'
            "</channel></rss>",
            "it has no WXR (wp:) elements",
        ),
        (BILLION_LAUGHS, "DOCTYPE"),
        (EXTERNAL_ENTITY, "DOCTYPE"),
        (WXR_HEAD + "<wp:wxr_version>1.2</wp:wxr_version></channel></rss>", "the export is empty"),
        (
            FIXTURE.read_text(encoding="utf-8")[:9000],  # cut short in the middle of an item
            "the file is not well-formed XML: ",
        ),
    ],
    ids=["text", "empty", "html", "plain-rss", "billion-laughs", "xxe", "no-items", "cut-short"],
)
def test_bad_files_are_refused_and_nothing_is_stored(app, runner, tmp_path, content, message):
    path = tmp_path / "export.xml"
    path.write_text(content, encoding="utf-8")
    counts = stored_counts()
    started = time.monotonic()
    result = run_import(runner, path=path)
    assert time.monotonic() - started < 2
    assert result.exit_code == 1, result.output
    assert f"Error: {path} cannot be imported: " in result.output
    assert message in result.output
    assert "Nothing was stored." in result.output
    assert stored_counts() == counts
    assert media_files(app) == []


def test_a_missing_file_is_refused(runner, tmp_path):
    result = run_import(runner, path=tmp_path / "nowhere.xml")
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_a_database_that_needs_migrating_is_refused(runner, monkeypatch):
    monkeypatch.setattr(migrations, "LATEST", SCHEMA_VERSION + 1)  # a release with a new step
    result = run_import(runner)
    assert result.exit_code == 1
    assert "Back the database up, then run: flask --app app migrate" in result.output
    assert Article.select().count() == 0


def test_a_bad_map_is_refused(runner):
    result = run_import(runner, "--map", "no equals sign")
    assert result.exit_code == 2
    assert "is not of the form “WordPress category=Newsdesk name”" in result.output
    assert Article.select().count() == 0


# --- Atomicity --------------------------------------------------------------------------------


def test_a_failure_mid_import_leaves_the_site_as_it_was(app, runner, wp_content, monkeypatch):
    version = SiteSettings.load().content_version
    counts = stored_counts()
    store = ArticleIndex.store.__func__
    calls = []

    def failing_store(cls, article):
        calls.append(article.title)
        if len(calls) == 3:
            raise OSError("disk full")
        store(cls, article)

    monkeypatch.setattr(ArticleIndex, "store", classmethod(failing_store))
    result = run_import(runner, "--uploads", str(wp_content))
    assert result.exit_code == 1
    assert "the import failed, and nothing was stored: OSError: disk full" in result.output
    assert calls[0] == "Hello & welcome"  # the post with the image came first: a file was written
    assert stored_counts() == counts
    assert SiteSettings.load().content_version == version
    assert media_files(app) == []  # and removed again
