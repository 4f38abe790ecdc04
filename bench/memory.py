"""Memory of the gunicorn workers under a long run of public pages: does it stop growing?

gunicorn (2 workers, the page cache at its default 64 MB a worker) serves 50,000
requests spread over the public pages: mostly distinct article pages and text versions
(tens of thousands of URLs, so the rendered-page cache fills and then evicts), section,
rubric and author pages deep and shallow, feeds, the main pages and a few searches, in a
fixed random order; 20 % go to a small hot set (main pages, first pages, feeds, the newest
articles). Eight client threads walk the list (each request once) in chunks; after each
chunk the resident memory (VmRSS from /proc/<pid>/status) of every worker is read.

Which worker served what comes from the access log (its format gets the worker's pid), so
the script knows how much each worker's page cache holds: until the cache is full nothing
is evicted, so its content is the sum of the distinct cacheable pages that worker rendered.
Growth is measured from the first sample at which both caches were full to the last;
target: no more than a few MB (5 MB).

Run from the repository root:
    python bench/memory.py                 # 100k articles, 50,000 requests
    python bench/memory.py --quick         # 1k articles, 5,000 requests, a 4 MB cache
    python bench/memory.py --json bench/results/memory.json
"""

import argparse
import random
import re
import time
from collections import defaultdict
from pathlib import Path

from common import (
    DATA_DIR,
    WORKERS,
    PathDriver,
    children,
    database_for,
    ensure_database,
    fmt,
    gunicorn,
    http_get,
    main_guard,
    print_table,
    rss_kb,
    taxonomy_slugs,
    visible_articles,
    write_json,
)

CLIENT_THREADS = 8
GROWTH_LIMIT_MB = 5.0
DEFAULT_CACHE_MB = 64  # app.py's default PAGE_CACHE_MB
MB = 1024 * 1024
# Searches are never page-cached, and a word found in most of the 100,000 demo articles costs
# close to a second of CPU (see the README): rare words and phrases only, to bound the run.
SEARCHES = ("Khalilzad", "%22troop+withdrawal%22", "%22oil+prices%22", "Rukban")
# What the access log says: worker pid, status, body bytes, request line.
ACCESS_FORMAT = '%(p)s %(s)s %(B)s "%(r)s"'
ACCESS_LINE = re.compile(r'^<(\d+)> (\d{3}) (\d+|-) "GET (\S+) HTTP/1\.[01]"$')


def build_paths(db_path, total, seed=20261126):
    """`total` public paths in a fixed random order, and the number of distinct ones."""
    rng = random.Random(seed)
    slugs = taxonomy_slugs(db_path)
    articles = [f"/articles/{i}/{slug}" for i, slug in visible_articles(db_path, total, seed=seed)]
    newest = [f"/articles/{i}/{slug}" for i, slug in visible_articles(db_path, 20)]
    hot = ["/", "/text/", "/rss.xml", "/atom.xml", *newest]
    hot += [f"/section/{s}" for s in slugs["section"]] + [f"/rubric/{s}" for s in slugs["rubric"]]
    deep_pages = max(2, min(200, len(articles) // 100))

    def long_tail():
        roll = rng.random()
        if roll < 0.70:
            return rng.choice(articles)
        if roll < 0.85:
            return "/text" + rng.choice(articles)
        if roll < 0.93:
            return f"/section/{rng.choice(slugs['section'])}?page={rng.randint(2, deep_pages)}"
        if roll < 0.96:
            return f"/rubric/{rng.choice(slugs['rubric'])}?page={rng.randint(2, deep_pages // 2)}"
        if roll < 0.99:
            return f"/authors/{rng.choice(slugs['author'])}"
        return f"/search?q={rng.choice(SEARCHES)}"

    paths = [rng.choice(hot) if rng.random() < 0.2 else long_tail() for _ in range(total)]
    return paths, len(set(paths))


class CacheEstimate:
    """What each worker's page cache holds, from the access log (see the module's doc)."""

    def __init__(self, log_path, max_bytes):
        self.log_path, self.max_bytes = log_path, max_bytes
        self.offset = 0
        self.seen = defaultdict(set)  # pid -> paths it rendered (a 200 of a cacheable page)
        self.bytes = defaultdict(int)  # pid -> sum of their sizes
        self.requests = defaultdict(int)
        self.statuses = defaultdict(int)

    def update(self):
        with open(self.log_path, errors="replace") as log:
            log.seek(self.offset)
            text = log.read()
            self.offset = log.tell()
        for line in text.splitlines():
            found = ACCESS_LINE.match(line)
            if not found:
                continue
            pid, status, size, path = found.groups()
            pid = int(pid)
            self.requests[pid] += 1
            self.statuses[status[0] + "xx"] += 1
            cacheable = not path.startswith(("/search", "/text/search"))
            if status == "200" and size != "-" and cacheable and path not in self.seen[pid]:
                self.seen[pid].add(path)
                self.bytes[pid] += int(size)

    def held(self, pid):
        """Bytes in this worker's cache (an upper bound of the bodies; capped at the max)."""
        return min(self.bytes[pid], self.max_bytes)

    def full(self, pid):
        return self.bytes[pid] >= self.max_bytes

    def pages_that_fit(self):
        sizes = [s for pid in self.bytes for s in [self.bytes[pid] / max(1, len(self.seen[pid]))]]
        average = sum(sizes) / len(sizes) if sizes else 0
        return average, (self.max_bytes / average if average else None)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k articles, 5,000 requests")
    parser.add_argument("--requests", type=int, help="requests in all (default 50,000)")
    parser.add_argument(
        "--cache-mb", type=int, help="PAGE_CACHE_MB for the run (default: the app's 64)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for gunicorn, e.g. MALLOC_MMAP_THRESHOLD_=16384",
    )
    parser.add_argument(
        "--max-seconds", type=int, default=600, help="stop the run after this long (default 600)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    args.db_path, args.articles = database_for(args.quick)
    if args.requests is None:
        args.requests = 5_000 if args.quick else 50_000
    if args.cache_mb is None:
        args.cache_mb = 4 if args.quick else DEFAULT_CACHE_MB
    return args


def checkpoints(total):
    """Where to read the memory: after 2,000 requests, then in steps to `total`."""
    marks = [2_000, 5_000, 10_000, 15_000, 20_000, 30_000, 40_000, 50_000]
    scale = total / 50_000
    points = sorted({max(1, round(m * scale)) for m in marks} | {total})
    return [p for p in points if p <= total]


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    ensure_database(args.db_path, args.articles)
    paths, distinct = build_paths(args.db_path, args.requests)
    log_path = DATA_DIR / "memory.log"
    max_bytes = args.cache_mb * MB
    env = {} if args.cache_mb == DEFAULT_CACHE_MB else {"PAGE_CACHE_MB": args.cache_mb}
    env.update(item.split("=", 1) for item in args.env)
    if args.env:
        print(f"  gunicorn's environment also has: {' '.join(args.env)}")
    print(
        f"Memory: {args.requests:,} requests ({distinct:,} distinct paths) over the public pages"
        f" of {args.db_path.name}, {CLIENT_THREADS} client threads;"
        f" page cache {args.cache_mb} MB a worker"
    )
    samples, notes = [], []
    cache = CacheEstimate(log_path, max_bytes)
    server = gunicorn(
        args.db_path, log_path, extra_env=env, extra_args=["--access-logformat", ACCESS_FORMAT]
    )
    with server:
        http_get(server.base_url + "/")
        workers = children(server.pid)
        master_start = rss_kb(server.pid)
        start_rss = {pid: rss_kb(pid) for pid in workers}
        print(f"  workers {workers}: {', '.join(fmt(v / 1024, '.1f') for v in start_rss.values())}"
              " MB at start")  # fmt: skip
        driver = PathDriver(server.base_url, threads=CLIENT_THREADS)
        deadline = time.monotonic() + args.max_seconds
        done = 0
        for mark in checkpoints(args.requests):
            seconds = driver.run(paths[done:mark], deadline)
            rate = (mark - done) / seconds if seconds else None
            done = mark
            cache.update()
            now = children(server.pid)
            if now != workers:
                notes.append(f"workers changed from {workers} to {now} before {mark:,} requests")
                workers = now
            sample = {
                "requests": mark,
                "served": sum(cache.requests.values()),
                "rps": rate,
                "master_mb": (rss_kb(server.pid) or 0) / 1024,
                "workers": {
                    pid: {
                        "rss_mb": (rss_kb(pid) or 0) / 1024,
                        "cache_mb": cache.held(pid) / MB,
                        "cache_full": cache.full(pid),
                        "pages_rendered": len(cache.seen[pid]),
                    }
                    for pid in workers
                },
            }
            samples.append(sample)
            rss = ", ".join(f"{w['rss_mb']:.1f}" for w in sample["workers"].values())
            held = ", ".join(f"{w['cache_mb']:.1f}" for w in sample["workers"].values())
            print(f"  {mark:>6,} requests: RSS {rss} MB; page cache ~{held} MB", flush=True)
            if time.monotonic() > deadline:
                notes.append(f"stopped at the time limit ({args.max_seconds} s)")
                break
        if not server.alive():
            notes.append("gunicorn stopped during the run")
        master_end = rss_kb(server.pid)

    average, fit = cache.pages_that_fit()
    full_from = next(
        (
            s
            for s in samples
            if s["workers"] and all(w["cache_full"] for w in s["workers"].values())
        ),
        None,
    )
    growth = {}
    if full_from and samples[-1]["workers"].keys() == full_from["workers"].keys():
        for pid, w in samples[-1]["workers"].items():
            growth[pid] = w["rss_mb"] - full_from["workers"][pid]["rss_mb"]
    met = bool(growth) and max(growth.values()) <= GROWTH_LIMIT_MB

    print("\nResident memory of each gunicorn worker (VmRSS, MB) and its page cache (est., MB):")
    pids = sorted({pid for s in samples for pid in s["workers"]})
    header = ["requests", *[f"worker {i + 1} RSS" for i in range(len(pids))],
              *[f"cache {i + 1}" for i in range(len(pids))], "req/s"]  # fmt: skip
    rows = []
    for s in samples:
        w = s["workers"]
        rows.append([f"{s['requests']:,}",
                     *[fmt(w[p]["rss_mb"], ".1f") if p in w else "—" for p in pids],
                     *[(fmt(w[p]["cache_mb"], ".1f") + (" full" if w[p]["cache_full"] else ""))
                       if p in w else "—" for p in pids],
                     fmt(s["rps"], ",.0f")])  # fmt: skip
    print_table(header, rows, left=0)
    print(f"  master: {fmt((master_start or 0) / 1024, '.1f')} → "
          f"{fmt((master_end or 0) / 1024, '.1f')} MB")  # fmt: skip
    print(
        f"  page cache: {args.cache_mb} MB a worker ({WORKERS} workers); cacheable pages average"
        f" {average / 1024:.1f} KB, so about {fmt(fit, ',.0f')} fit in each worker's cache"
    )
    if full_from:
        print(
            f"  both caches full from {full_from['requests']:,} requests; growth since then to"
            f" {samples[-1]['requests']:,}: "
            + ", ".join(f"{g:+.1f} MB" for g in growth.values())
            + f" (target <= {GROWTH_LIMIT_MB:.0f} MB): {'met' if met else 'NOT MET'}"
        )
    else:
        print("  the page caches never filled: growth once full not measured")
    fivexx = driver.statuses.get("5xx", 0)
    print(f"  responses: {dict(sorted(driver.statuses.items()))}; failed requests {driver.errors}")
    for note in notes:
        print(f"  note: {note}")
    seconds = time.monotonic() - started
    print(f"Memory run: {seconds:.0f} s")
    if args.json:
        write_json(
            args.json,
            {
                "requests": args.requests,
                "extra_env": args.env,
                "distinct_paths": distinct,
                "cache_mb_per_worker": args.cache_mb,
                "average_page_kb": average / 1024,
                "pages_that_fit_per_worker": fit,
                "samples": samples,
                "full_from_requests": full_from["requests"] if full_from else None,
                "growth_mb_since_full": growth,
                "growth_limit_mb": GROWTH_LIMIT_MB,
                "met": met,
                "status_counts": driver.statuses,
                "failed_requests": driver.errors,
                "notes": notes,
                "seconds": seconds,
            },
        )
    return 0 if met and not fivexx and not driver.errors else 1


if __name__ == "__main__":
    main_guard(main)
