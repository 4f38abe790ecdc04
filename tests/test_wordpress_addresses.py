"""Old addresses of an imported WordPress site: 301 to the new pages, whatever the site's
permalink structure was (`import-wordpress`, wordpress.moved).

Each export here is written by tests/wxr.py: three published posts and a draft, in
nested categories (Europe under World) and tags, linked as one permalink structure.
"""

import pytest
import wxr

import blueprints.public
from models import Article, LegacyPost, LegacyTerm, Rubric, Section, utcnow

CATEGORIES = (
    wxr.category("uncategorized", "Uncategorized"),
    wxr.category("world", "World News"),
    wxr.category("europe", "Europe", parent="world"),
    wxr.category("economy", "Economy"),
)
CYRILLIC = "%d0%b2%d1%8b%d0%b1%d0%be%d1%80%d1%8b"  # "выборы", as WordPress writes it
POSTS = {  # wp id -> (slug, date, category path, categories, tags)
    501: ("summit-ends", "2019-07-21 08:16:00", "world/europe", ["europe"], ["elections"]),
    502: ("budget-passed", "2019-08-02 10:00:00", "economy", ["economy"], ["budget", "elections"]),
    503: (CYRILLIC, "2019-09-03 12:00:00", "economy", ["economy"], ["elections"]),
    504: ("not-yet", "2019-10-04 09:00:00", "economy", ["economy"], []),  # a draft
}
NAMES = {"europe": "Europe", "economy": "Economy", "elections": "Elections", "budget": "Budget"}

# Permalink structure -> (its post links, where WordPress put category and tag archives).
STRUCTURES = {
    "/%category%/%postname%/": (lambda i, slug, y, m, cat: f"/{cat}/{slug}/", ""),
    "/%postname%/": (lambda i, slug, y, m, cat: f"/{slug}/", ""),
    "/archives/%post_id%": (lambda i, slug, y, m, cat: f"/archives/{i}", "/archives"),
    "/news/%year%/%monthnum%/%postname%.html": (
        lambda i, slug, y, m, cat: f"/news/{y}/{m}/{slug}.html",
        "/news",
    ),
}


def export(tmp_path, links, home=wxr.HOME):
    """The four posts, linked by `links(id, slug, year, month, category path)`."""
    items = []
    for wp_id, (slug, date, path, categories, tags) in POSTS.items():
        link = home + links(wp_id, slug, date[:4], date[5:7], path)
        items.append(
            wxr.post(
                wp_id,
                f"Post {wp_id}",
                link,
                name=slug,
                date=date,
                status="draft" if wp_id == 504 else "publish",
                categories=[(c, NAMES[c]) for c in categories],
                tags=[(t, NAMES[t]) for t in tags],
            )  # fmt: skip
        )
    return wxr.write(tmp_path / "export.xml", *CATEGORIES, *items, home=home)


def run_import(runner, path, *options):
    result = runner.invoke(args=["import-wordpress", str(path), *options])
    assert result.exit_code == 0, result.output
    return result


def article_url(wp_id):
    article = Article.get_by_id(LegacyPost.get(LegacyPost.wp_id == wp_id).article_id)
    return f"/articles/{article.id}/{article.slug}"


def assert_moved(client, moves, **request):
    for old, new in moves.items():
        response = client.get(old, **request)
        assert (response.status_code, response.headers.get("Location")) == (301, new), old


def assert_not_found(client, paths):
    for path in paths:
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("structure", STRUCTURES)
def test_each_post_and_archive_redirects_whatever_the_permalink_structure(
    client, runner, tmp_path, structure
):
    links, front = STRUCTURES[structure]
    result = run_import(runner, export(tmp_path, links))
    assert (
        "Old addresses redirected: the links of 4 articles (and /?p=ID of each), 3 category "
        "and 2 tag archives"  # World, Europe, Economy; no post was left uncategorized
    ) in result.output
    old = {wp_id: links(wp_id, slug, date[:4], date[5:7], path)
           for wp_id, (slug, date, path, *_) in POSTS.items()}  # fmt: skip
    summit, budget, cyrillic = (article_url(i) for i in (501, 502, 503))
    toggled = {
        path: path.rstrip("/") if path.endswith("/") else path + "/" for path in old.values()
    }
    assert_moved(
        client,
        {
            old[501]: summit,
            old[502]: budget,
            toggled[old[501]]: summit,  # a trailing slash, or none, as the reader typed it
            old[502].upper(): budget,  # WordPress matches slugs in any case
            old[501] + "?utm_source=feed": summit,  # a tracking query added on the way
            old[503]: cyrillic,  # WordPress's lower-case escapes…
            old[503].replace(CYRILLIC, CYRILLIC.upper()): cyrillic,  # …a browser's upper-case
            old[503].replace(CYRILLIC, "выборы"): cyrillic,  # …or none
            "/?p=501": summit,
        },
    )
    # The host is not part of an address: it works after the move to a new domain.
    assert_moved(client, {old[501]: summit}, base_url="https://new.example.org")
    assert client.head(old[501]).status_code == 301

    europe, economy = (f"/rubric/{slug}" for slug in ("europe", "economy"))
    assert_moved(
        client,
        {
            f"{front}/category/world/europe/": europe,
            f"{front}/category/europe/": europe,  # WordPress answers a child by its own slug
            f"{front}/category/world/": europe,  # its posts are all in Europe, below it
            f"{front}/category/economy": economy,
            f"{front}/category/economy/page/2/": economy,
            f"{front}/category/economy/feed/": "/rubric/economy/rss.xml",
            f"{front}/category/economy/feed/atom/": "/rubric/economy/rss.xml",
            f"{front}/tag/elections/": economy,  # two of its three posts went there
            f"{front}/tag/budget/feed/": "/rubric/economy/rss.xml",
            "/feed/": "/rss.xml",
        },
    )
    assert_not_found(
        client,
        [
            old[504],  # a draft: nothing to show yet
            "/no-such-post/",
            "/archives/999",
            f"{front}/category/sport/",
            f"{front}/category/uncategorized/",  # no post was in it, nor in General
            f"{front}/tag/unknown/",
            f"{front}/category/economy/extra/",
        ],
    )


def test_a_site_in_a_folder(client, runner, tmp_path):
    home = wxr.HOME + "/blog"
    links = STRUCTURES["/%postname%/"][0]
    run_import(runner, export(tmp_path, links, home=home))
    assert_moved(
        client,
        {
            "/blog/summit-ends/": article_url(501),
            "/blog/?p=502": article_url(502),
            "/blog/index.php?p=502": article_url(502),
            "/blog/category/economy/": "/rubric/economy",
            "/blog/tag/elections/": "/rubric/economy",
        },
    )
    assert_not_found(client, ["/summit-ends/", "/category/economy/", "/blog/?p=504"])


def test_custom_category_and_tag_bases(client, runner, tmp_path):
    path = export(tmp_path, STRUCTURES["/%postname%/"][0])
    run_import(runner, path, "--category-base", "/topics/", "--tag-base", "keywords")
    assert_moved(
        client, {"/topics/economy/": "/rubric/economy", "/keywords/budget/": "/rubric/economy"}
    )
    assert_not_found(client, ["/category/economy/", "/tag/budget/"])


def test_archives_lead_to_sections_when_categories_become_sections(client, runner, tmp_path):
    path = export(tmp_path, STRUCTURES["/%postname%/"][0])
    run_import(runner, path, "--categories", "sections", "--map", "europe=Abroad")
    assert_moved(
        client,
        {
            "/category/world/europe/": "/section/abroad",
            "/category/economy/feed/": "/section/economy/rss.xml",
            "/tag/elections/": "/section/economy",
        },
    )


def test_archives_follow_a_renamed_rubric_and_forget_a_deleted_one(client, runner, tmp_path):
    run_import(runner, export(tmp_path, STRUCTURES["/%postname%/"][0]))
    Rubric.get(Rubric.slug == "economy").rename("Money", "money")
    assert_moved(client, {"/category/economy/": "/rubric/money", "/tag/budget/": "/rubric/money"})
    europe = Rubric.get(Rubric.slug == "europe")
    Article.update(rubric=Rubric.get(Rubric.slug == "money")).where(
        Article.rubric == europe
    ).execute()
    europe.delete_instance()
    assert_not_found(client, ["/category/europe/"])


def test_emptying_the_trash_forgets_the_old_address(client, runner, tmp_path):
    run_import(runner, export(tmp_path, STRUCTURES["/%postname%/"][0]))
    article = Article.get_by_id(LegacyPost.get(LegacyPost.wp_id == 501).article_id)
    Article.update(deleted_at=utcnow()).where(Article.id == article.id).execute()
    assert_not_found(client, ["/summit-ends/"])  # in the trash: not visible
    Article.empty_trash()
    assert not LegacyPost.select().where(LegacyPost.path == "/summit-ends").exists()


def test_importing_again_keeps_the_addresses_as_they_were(client, runner, tmp_path):
    path = export(tmp_path, STRUCTURES["/%postname%/"][0])
    run_import(runner, path)
    kept = list(LegacyTerm.select().order_by(LegacyTerm.id).tuples())
    again = run_import(runner, path)
    assert "the links of 0 articles (and /?p=ID of each), 0 category and 0 tag archives" in (
        again.output
    )
    assert list(LegacyTerm.select().order_by(LegacyTerm.id).tuples()) == kept
    assert_moved(client, {"/summit-ends/": article_url(501)})


def test_pages_that_exist_pay_nothing_for_old_addresses(client, runner, tmp_path, monkeypatch,
                                                        query_counter):  # fmt: skip
    run_import(runner, export(tmp_path, STRUCTURES["/%postname%/"][0]))
    summit = article_url(501)
    with query_counter() as queries:
        for page in ("/", summit, "/rubric/economy", "/section/news", "/rss.xml"):
            assert client.get(page).status_code == 200, page
    assert not [sql for sql in queries if "legacy" in sql.lower()]
    with query_counter() as queries:
        assert client.get("/no-such-post/").status_code == 404
    assert len([sql for sql in queries if "legacy" in sql.lower()]) == 2  # post, then archive

    def broken(*args):
        raise AssertionError("looked up")

    monkeypatch.setattr(blueprints.public, "moved", broken)
    assert client.get(summit).status_code == 200


def test_only_reading_requests_are_redirected(client, runner, tmp_path):
    run_import(runner, export(tmp_path, STRUCTURES["/%postname%/"][0]))
    assert client.post("/summit-ends/").status_code == 404
    assert Section.select().count() == 1  # nothing else happened


def test_odd_links_are_imported_without_an_address_and_odd_requests_are_404(
    client, runner, tmp_path
):
    long_slug = "word-" * 250
    path = wxr.write(
        tmp_path / "export.xml",
        *CATEGORIES,
        wxr.post(601, "Broken link", "http://[broken/x/"),
        wxr.post(602, "Long link", f"{wxr.HOME}/{long_slug}/", name=long_slug[:190]),
        wxr.post(603, "Null", f"{wxr.HOME}/nul%00byte/", name="nul", date="2020-01-02 03:04:05"),
        wxr.post(604, "Climbing", f"{wxr.HOME}/../../etc/", categories=[("../..", "Up")]),
        wxr.post(605, "Draft link", f"{wxr.HOME}/?p=605&preview=true"),
    )
    result = run_import(runner, path)
    assert "Articles imported: 5 (5 posts; 5 published)" in result.output
    assert {p.wp_id: p.path for p in LegacyPost.select() if p.wp_id != 603} == {
        601: None,  # not a URL
        602: None,  # longer than an address is kept
        604: "/../../etc",  # a plain string to compare: never a file path
        605: None,  # found by its id
    }
    # A NUL is kept (on PostgreSQL as U+FFFD, by databases.py, in lookups too).
    assert_moved(client, {"/?p=605": article_url(605), "/nul%00byte/": article_url(603)})
    assert_not_found(client, [f"/{long_slug}/", "/" + "x" * 5000, "/%00", "/category/%ff/"])
