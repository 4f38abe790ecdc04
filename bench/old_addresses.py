"""What old WordPress addresses cost: a 404, a 301 from an old address, an article page.

A site of N demo articles, each given an old WordPress address as `import-wordpress`
keeps them (LegacyPost.path, e.g. /2019/07/21/slug-123), and one old category archive
per rubric (LegacyTerm), in a temporary SQLite database. Requests go through the app
in this process (the test client, page cache off); CPU time per request is the best of
five runs of 200 requests each. The lookups run only in the 404 handler, so a page
that exists does not change; an unknown address pays for two indexed lookups.

Run from the repository root:
    python bench/old_addresses.py                # 20,000 articles
    python bench/old_addresses.py --articles 100000
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import demo  # noqa: E402
from app import create_app  # noqa: E402
from models import Article, LegacyPost, LegacyTerm, Rubric, create_tables, database  # noqa: E402

RUNS, REQUESTS = 5, 200


def cpu_ms_per_request(client, url, status):
    best = None
    for _ in range(RUNS):
        started = time.process_time()
        for _ in range(REQUESTS):
            response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        spent = (time.process_time() - started) * 1000 / REQUESTS
        best = spent if best is None else min(best, spent)
    return best


def fill(articles, with_addresses):
    create_tables()
    demo.load_demo(articles)
    if not with_addresses:
        return
    rows = Article.select(Article.id, Article.slug).tuples()
    posts = [
        {"wp_id": article_id, "slug": slug, "article": article_id,
         "path": f"/2019/07/21/{slug}-{article_id}"}
        for article_id, slug in rows
    ]  # fmt: skip
    with database.atomic():
        for start in range(0, len(posts), 1000):
            LegacyPost.insert_many(posts[start : start + 1000]).execute()
        LegacyTerm.insert_many(
            [{"path": f"/category/{r.slug}", "kind": "rubric", "target_id": r.id} for r in Rubric]
        ).execute()


def measure(articles, with_addresses):
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{folder}/bench.db", "PAGE_CACHE_BYTES": 0,
             "MEDIA_ROOT": f"{folder}/media", "TESTING": True}
        )  # fmt: skip
        with app.app_context():
            fill(articles, with_addresses)
            article = Article.select().order_by(Article.id.desc()).first()
            rubric = Rubric.select().first()
            database.close()
        client = app.test_client()
        page = f"/articles/{article.id}/{article.slug}"
        figures = {
            "article page (200)": cpu_ms_per_request(client, page, 200),
            "unknown address (404)": cpu_ms_per_request(client, "/no-such-post/", 404),
        }
        if with_addresses:
            old = f"/2019/07/21/{article.slug}-{article.id}/"
            figures["old post address (301)"] = cpu_ms_per_request(client, old, 301)
            old_archive = f"/category/{rubric.slug}/feed/"
            figures["old category feed (301)"] = cpu_ms_per_request(client, old_archive, 301)
        return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    args = parser.parse_args()
    print(f"{args.articles:,} demo articles; CPU ms per request, best of {RUNS} × {REQUESTS}")
    without = measure(args.articles, with_addresses=False)
    with_rows = measure(args.articles, with_addresses=True)
    print(f"{'request':<28} {'no old addresses':>17} {'every article one':>18}")
    for name, value in with_rows.items():
        before = f"{without[name]:.3f}" if name in without else "—"
        print(f"{name:<28} {before:>17} {value:>18.3f}")


if __name__ == "__main__":
    main()
