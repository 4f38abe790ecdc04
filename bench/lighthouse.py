"""Lighthouse scores of Newsdesk's reader pages, performance included, served by gunicorn.

The test suite (tests/browser/test_lighthouse.py) asserts 100 in accessibility, best
practices and SEO; the performance score depends on how busy the machine is, so it is
measured here, next to the other three, and not asserted.

What it does:
  1. Reuses (or builds) the benchmark database of bench/load.py: 100,000 demo articles at
     bench/data/bench-100k.db, or 1,000 with --quick.
  2. Starts gunicorn on it (the repository's gunicorn.conf.py, 2 workers, page cache
     on, as in production) on a free port of 127.0.0.1.
  3. Runs npm `lighthouse` (package.json; `npm ci --ignore-scripts`) with Debian's
     Chromium, its default mobile preset (emulated phone, simulated slow 4G and a 4x
     slower CPU), all four categories, on the main page, a section page, the seed article
     and its text version: --runs times each page (default 3), one run after another.
It prints each page's median score per category (and the lowest performance score seen),
the median of the performance metrics, and every audit that cost a category points.

Run from the repository root:
    python bench/lighthouse.py            # 100k articles, 3 runs per page (about 3 minutes)
    python bench/lighthouse.py --quick    # 1k articles, 1 run per page
    python bench/lighthouse.py --json bench/results/lighthouse.json
Needs node, `npm ci --ignore-scripts` (or `make test`) and Chromium at $CHROME_PATH
(default /usr/bin/chromium). Exits 1 when a Lighthouse run fails, not when a score is low.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import (
    DATA_DIR,
    REPO,
    database_for,
    ensure_database,
    gunicorn,
    http_get,
    machine_info,
    main_guard,
    print_machine,
    print_table,
    read_only,
    write_json,
)

LIGHTHOUSE = REPO / "node_modules" / ".bin" / "lighthouse"
CHROME_PATH = os.environ.get("CHROME_PATH") or os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking"
    " --disable-component-update --disable-sync --no-first-run"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = {  # audit id: (column, unit)
    "first-contentful-paint": ("FCP", "ms"),
    "largest-contentful-paint": ("LCP", "ms"),
    "total-blocking-time": ("TBT", "ms"),
    "cumulative-layout-shift": ("CLS", ""),
    "speed-index": ("SI", "ms"),
}
RUN_TIMEOUT = 180  # seconds for one Lighthouse run (about 12-15 s here)


def seed_article_path(db_path):
    sys.path.insert(0, str(REPO))
    from demo import SEED_TITLE  # the seed page's article: on every demo database

    connection = read_only(db_path)
    try:
        row = connection.execute(
            "SELECT id, slug FROM article WHERE title = ?", [SEED_TITLE]
        ).fetchone()
    finally:
        connection.close()
    if row is None:
        raise RuntimeError(f"the seed article is not in {db_path}")
    return f"/articles/{row[0]}/{row[1]}"


def pages(db_path):
    article = seed_article_path(db_path)
    return {
        "main": "/",
        "section": "/section/news",
        "article": article,
        "text article": "/text" + article,
    }


def run_lighthouse(url):
    """Lighthouse's JSON report of `url`, all four categories."""
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
        env={**os.environ, "CHROME_PATH": CHROME_PATH},
        capture_output=True,
        timeout=RUN_TIMEOUT,
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise RuntimeError(
            f"lighthouse gave no report for {url} (exit {result.returncode}): "
            + result.stderr.decode(errors="replace")[-1000:]
        ) from None
    if report.get("runtimeError"):
        raise RuntimeError(f"lighthouse on {url}: {report['runtimeError']}")
    return report


def summary(report):
    """Scores (0-100), metrics and the audits that cost points, of one report."""
    scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    metrics = {audit_id: report["audits"][audit_id].get("numericValue") for audit_id in METRICS}
    lost = []
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                shown = audit.get("displayValue") or ""
                lost.append(f"{category}: {audit['id']} (score {audit['score']}) {shown}".strip())
    return {"scores": scores, "metrics": metrics, "lost": lost}


def fmt_metric(value, unit):
    if value is None:
        return "—"
    return f"{value:.0f} ms" if unit == "ms" else f"{value:.3f}"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000-article database, 1 run")
    parser.add_argument("--runs", type=int, help="Lighthouse runs per page (default 3; 1 quick)")
    parser.add_argument(
        "--rebuild", action="store_true", help="build a fresh database even if a cached one exists"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    args.db_path, args.articles = database_for(args.quick)
    return args


def main(argv=None):
    args = parse_args(argv)
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE.relative_to(REPO)} not found: npm ci --ignore-scripts")
    if not os.access(CHROME_PATH, os.X_OK):
        sys.exit(f"no Chromium at {CHROME_PATH}: apt-get install chromium, or set CHROME_PATH")
    started = time.monotonic()
    machine = machine_info()
    version = subprocess.run(
        [str(LIGHTHOUSE), "--version"], capture_output=True, text=True
    ).stdout.strip()
    machine["lighthouse"] = version
    print("Newsdesk Lighthouse scores (mobile preset)")
    print_machine(machine)
    ensure_database(args.db_path, args.articles, args.rebuild)

    results = {}
    with gunicorn(args.db_path, DATA_DIR / "lighthouse-gunicorn.log") as server:
        for name, path in pages(args.db_path).items():
            url = server.base_url + path
            for _ in range(4):  # both workers have rendered and cached the page
                status, _body = http_get(url)
                if status != 200:
                    raise RuntimeError(f"{url} answered {status}")
            runs = []
            for run in range(1, args.runs + 1):
                print(f"  {name}: run {run} of {args.runs}...", flush=True)
                runs.append(summary(run_lighthouse(url)))
            results[name] = {"path": path, "runs": runs}

    print()
    header = ["page", *CATEGORIES, "lowest performance"]
    rows = []
    for name, result in results.items():
        medians = [
            round(statistics.median(r["scores"][c] for r in result["runs"])) for c in CATEGORIES
        ]
        lowest = min(r["scores"]["performance"] for r in result["runs"])
        rows.append([name, *medians, lowest])
        result["median_scores"] = dict(zip(CATEGORIES, medians, strict=True))
    print_table(header, rows)

    print(f"\nMedian metrics over {args.runs} run(s) (simulated slow 4G, 4x CPU slowdown):")
    header = ["page", *(column for column, _ in METRICS.values())]
    rows = []
    for name, result in results.items():
        row = [name]
        for audit_id, (_column, unit) in METRICS.items():
            values = [r["metrics"][audit_id] for r in result["runs"]]
            values = [v for v in values if v is not None]
            row.append(fmt_metric(statistics.median(values) if values else None, unit))
        rows.append(row)
    print_table(header, rows)

    lost = {
        name: sorted({line for r in result["runs"] for line in r["lost"]})
        for name, result in results.items()
    }
    if any(lost.values()):
        print("\nAudits that cost points (in any run):")
        for name, lines in lost.items():
            for line in lines:
                print(f"  {name}: {line}")
    else:
        print("\nEvery audit passed in every run: 100 in all four categories.")
    seconds = time.monotonic() - started
    print(f"\nLighthouse benchmark: {seconds:.0f} s")

    if args.json:
        write_json(
            args.json,
            {
                "machine": machine,
                "settings": {
                    "database": args.db_path.name,
                    "articles": args.articles,
                    "runs": args.runs,
                    "preset": "mobile (Lighthouse default)",
                    "chrome_flags": CHROME_FLAGS,
                },
                "seconds": seconds,
                "pages": results,
            },
        )
    return 0


if __name__ == "__main__":
    main_guard(main)
