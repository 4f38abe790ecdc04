"""Lighthouse on the live server: 100 in accessibility, best practices and SEO.

npm `lighthouse` (package.json, installed by `make test`) drives Debian's Chromium with
its default mobile settings, one run per page, only those three categories. The
performance score depends on the machine's load at the moment: it is measured by
bench/lighthouse.py against gunicorn, not asserted here.
"""

import json
import os
import shutil
import subprocess

import pytest
from conftest import CHROMIUM_PATH, ROOT, require_tool

import demo
from models import Article

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("accessibility", "best-practices", "seo")
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking"
    " --disable-component-update --disable-sync --no-first-run"
)
pytestmark = pytest.mark.page_quality  # markup, the same on either database

RUN_TIMEOUT = 180  # seconds; a run takes 11-13 s here


def seed_article_path():
    article = Article.get(Article.title == demo.SEED_TITLE)
    return f"/articles/{article.id}/{article.slug}"


PAGES = {
    "main": lambda: "/",
    "section": lambda: "/section/news",
    "article": seed_article_path,
    "text article": lambda: "/text" + seed_article_path(),
}


@pytest.fixture(scope="module")
def lighthouse():
    """`lighthouse(url)`: Lighthouse's JSON report of `url`, three categories."""
    require_tool(shutil.which("node"), "no node: apt-get install nodejs npm")
    require_tool(LIGHTHOUSE.exists(), f"no {LIGHTHOUSE.relative_to(ROOT)}: run `make test`")
    require_tool(
        os.access(CHROMIUM_PATH, os.X_OK),
        f"no Chromium at {CHROMIUM_PATH}: apt-get install chromium, or set CHROMIUM_PATH",
    )

    def run(url):
        result = subprocess.run(
            [
                str(LIGHTHOUSE),
                url,
                "--quiet",
                "--output=json",
                "--output-path=stdout",
                f"--only-categories={','.join(CATEGORIES)}",
                f"--chrome-flags={CHROME_FLAGS}",
            ],
            env={**os.environ, "CHROME_PATH": CHROMIUM_PATH},
            capture_output=True,
            timeout=RUN_TIMEOUT,
        )
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise RuntimeError(
                f"lighthouse gave no JSON report (exit {result.returncode}):\n"
                + result.stderr.decode(errors="replace")[-2000:]
            ) from None

    return run


def shortfalls(report, category):
    """Each audit that cost `category` points: its score, what it says and where."""
    lines = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = report["audits"][ref["id"]]
        if ref["weight"] == 0 or audit["score"] is None or audit["score"] >= 1:
            continue
        shown = audit.get("displayValue") or ""
        lines.append(f"  {audit['id']} (score {audit['score']}): {audit['title']} {shown}".rstrip())
        for item in (audit.get("details") or {}).get("items", [])[:5]:
            node = item.get("node") or {}
            where = node.get("snippet") or item.get("href") or item.get("url") or item
            lines.append(f"      {str(where)[:200]}")
    return lines


@pytest.mark.parametrize("name", PAGES)
def test_lighthouse_scores_100(live_server, lighthouse, name):
    url = live_server + PAGES[name]()
    report = lighthouse(url)
    assert "runtimeError" not in report, report["runtimeError"]
    assert report["finalDisplayedUrl"] == url  # no redirect, no error page

    scores = {category: report["categories"][category]["score"] for category in CATEGORIES}
    failing = [category for category, score in scores.items() if score != 1]
    details = [
        f"{category}: {scores[category]}\n" + "\n".join(shortfalls(report, category))
        for category in failing
    ]
    assert not failing, f"Lighthouse on {url}:\n" + "\n".join(details)
