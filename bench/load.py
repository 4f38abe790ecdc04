"""Load benchmark for Newsdesk: throughput, latency and CPU cost of the public pages, beside
the framework's ceiling (a minimal Flask route) and the machine's (nginx serving a file).

What it does, all in one run on the same machine:
  1. Builds (once, then cached) a SQLite database of demo articles with the app's own
     `flask init-db` and `flask seed-demo` commands: 100,000 articles at
     bench/data/bench-100k.db. It is built again when models/, demo.py or commands.py
     change, or with --rebuild.
  2. gunicorn (the repository's gunicorn.conf.py, 2 workers, access log on) serving
     bench/minimal_app.py: one route returning a fixed 20 KB string.
  3. gunicorn serving Newsdesk with the page cache on (the default, 64 MB a worker), then
     again with it off (PAGE_CACHE_MB=0: every request renders). The URLs come from the
     running site: the main page, an article linked from it, a deep section page
     (/section/news?page=500), the site RSS feed, the text version of the article, and
     three searches (never page-cached: measured with the cache on only).
  4. nginx serving a saved copy of the article page (a throwaway configuration in a
     temporary directory: the machine's ceiling).
  5. The minimal Flask route again, to see how much the machine drifted during the run.
Each URL runs `wrk -t2 --latency` at 16 and at 64 connections, one after another; the CPU
time of the server (master and workers: utime + stime from /proc, reaped workers included)
is read before and after each run.

It prints the machine, one table per connection count (requests/s, p50, p99, CPU ms per
request, % of the minimal route's requests/s and of its CPU cost) and the targets: with the
page cache on, the article and main pages at >= 70 % of the minimal route's requests/s;
with it off, >= 20 %.

wrk runs on the same machine and competes with the servers for the cores: compare figures
taken in the same run, and prefer CPU ms/req, which other load disturbs far less.

Run from the repository root:
    python bench/load.py                 # full run: 100k articles, 5 s per URL and setting
    python bench/load.py --quick         # smoke test: 1k articles, 1 s per URL
    python bench/load.py --json bench/results/load.json
Needs `wrk` and `nginx` (apt-get install wrk nginx) and the app's dependencies.
Exits 1 when a URL could not be measured or answered errors; every other URL is measured.
"""

import argparse
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common import (
    CLK_TCK,
    DATA_DIR,
    HOST,
    WORKERS,
    WRK_THREADS,
    cpu_ticks,
    database_for,
    ensure_database,
    fmt,
    gunicorn,
    http_get,
    log_size,
    logged_requests,
    machine_info,
    main_guard,
    nginx,
    print_machine,
    print_table,
    run_wrk,
    short,
    wait_until_idle,
    write_json,
)

DEEP_PAGE = 500
CONNECTIONS = (16, 64)
# Targets: requests/s as a share of the minimal Flask route's, same connections.
TARGETS = {"cache on": 0.70, "cache off": 0.20}
TARGET_PAGES = ("main page", "article")

NEWSDESK_ON, NEWSDESK_OFF = "Newsdesk, cache on", "Newsdesk, cache off"
MINIMAL, MINIMAL_AGAIN, NGINX = "minimal Flask", "minimal Flask, again", "nginx, static file"


@dataclass
class Result:
    """One URL on one server at one connection count; None where it could not be read."""

    server: str
    label: str
    path: str
    connections: int
    bytes: int | None = None
    requests: int | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_ms_per_req: float | None = None  # server CPU (run + drain) / requests served
    served: int | None = None  # requests the server answered (access log), wrk's or not
    drain_s: float | None = None  # seconds the server still worked after wrk stopped
    non_2xx_3xx: int = 0
    socket_errors: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def errors(self):
        return self.non_2xx_3xx + sum(self.socket_errors.values())


# --- Picking the URLs ---------------------------------------------------------------------


def deepest_page(base_url, path, wanted):
    """`wanted` if that page answers 200, else the last page that does (binary search)."""
    if http_get(f"{base_url}{path}?page={wanted}")[0] == 200:
        return wanted
    if http_get(f"{base_url}{path}?page=1")[0] != 200:
        return None
    good, bad = 1, wanted  # pages past the end are 404s
    while bad - good > 1:
        middle = (good + bad) // 2
        if http_get(f"{base_url}{path}?page={middle}")[0] == 200:
            good = middle
        else:
            bad = middle
    return good


def pick_urls(base_url):
    """[(label, path)] to measure, and notes on anything that differs from the plan."""
    notes = []
    status, body = http_get(base_url + "/")
    if status != 200:
        raise RuntimeError(f"the main page answered {status}")
    urls = [("main page", "/")]

    match = re.search(rb'href="(/articles/\d+/[^"/?#]+)"', body)
    if match:
        article = match.group(1).decode()
        urls.append(("article", article))
    else:
        article = None
        notes.append("no article link on the main page: article pages not measured")

    deep = deepest_page(base_url, "/section/news", DEEP_PAGE)
    if deep is None:
        notes.append("/section/news does not answer 200: section page not measured")
    else:
        if deep != DEEP_PAGE:
            notes.append(f"News has only {deep} pages: measured its last page, not {DEEP_PAGE}")
        urls.append((f"section, page {deep}", f"/section/news?page={deep}"))

    urls.append(("site RSS", "/rss.xml"))
    if article:
        urls.append(("text article", "/text" + article))
    # Search: a word in most articles, a word in one, and a phrase.
    urls += [
        ("search, common word", "/search?q=government"),
        ("search, rare word", "/search?q=Khalilzad"),
        ("search, phrase", "/search?q=%22troop+withdrawal%22"),
    ]
    return urls, notes


def warm_up(base_url, urls, rounds=4):
    """GET every URL a few times so both workers have compiled templates and warm caches."""
    for _ in range(rounds):
        for _label, path in urls:
            http_get(base_url + path)


# --- Measuring ----------------------------------------------------------------------------


def measure(server, server_name, label, path, connections, args):
    result = Result(server_name, label, path, connections)
    url = server.base_url + path
    if not server.alive():
        result.error = f"{server.name} is no longer running (see {server.log_path})"
        return result
    try:
        status, body = http_get(url)
        result.bytes = len(body)
        if status != 200:
            result.error = f"plain GET answered {status}"
        offset = log_size(server.log_path)
        before = cpu_ticks(server.pid)
        wrk = run_wrk(url, args.duration, connections, args.timeout)
        # Requests wrk gave up on are still served: their CPU belongs to this URL.
        result.drain_s = wait_until_idle(server)
        ticks = cpu_ticks(server.pid) - before
        result.requests, result.rps = wrk.requests, wrk.rps
        result.p50_ms, result.p99_ms = wrk.p50_ms, wrk.p99_ms
        result.non_2xx_3xx, result.socket_errors = wrk.non_2xx_3xx, wrk.socket_errors
        # gunicorn logs every request it served; nginx runs without an access log.
        served = logged_requests(server.log_path, offset, path) if server.name == "gunicorn" else 0
        result.served = served or wrk.requests
        if result.served:
            result.cpu_ms_per_req = ticks * 1000 / CLK_TCK / result.served
    except (OSError, RuntimeError, ValueError) as error:
        result.error = f"{type(error).__name__}: {error}"
    if not server.alive():
        result.error = f"{server.name} stopped during the run (see {server.log_path})"
    return result


def measure_all(server, server_name, urls, args):
    results = []
    for connections in CONNECTIONS:
        for label, path in urls:
            print(f"  {server_name}, {connections} connections: {label} ...", flush=True)
            results.append(measure(server, server_name, label, path, connections, args))
    return results


def run_minimal(name, args):
    print(f"\n{name}: gunicorn, {WORKERS} workers, bench/minimal_app.py")
    with gunicorn(args.db_path, DATA_DIR / "load-minimal.log", app="minimal_app:app") as server:
        warm_up(server.base_url, [("minimal", "/")])
        return measure_all(server, name, [("minimal Flask route, 20 KB", "/")], args)


def run_newsdesk(name, cache_on, args, urls=None):
    """Results, the URLs measured, notes, and the article page as served (for nginx)."""
    extra = {} if cache_on else {"PAGE_CACHE_MB": 0}
    log = DATA_DIR / ("load-cache-on.log" if cache_on else "load-cache-off.log")
    print(f"\n{name}: gunicorn, {WORKERS} workers, {args.db_path.name}")
    with gunicorn(args.db_path, log, extra_env=extra) as server:
        notes = []
        if urls is None:
            urls, notes = pick_urls(server.base_url)
            for note in notes:
                print(f"  note: {note}")
        article = dict(urls).get("article")
        article_html = http_get(server.base_url + article)[1] if article else None
        warm_up(server.base_url, urls)
        return measure_all(server, name, urls, args), urls, notes, article_html


def run_nginx(article_html, args):
    print(f"\n{NGINX}: nginx, {WORKERS} worker processes, a saved copy of the article page")
    with nginx({"article.html": article_html}) as server:
        warm_up(server.base_url, [("article", "/article.html")])
        return measure_all(server, NGINX, [("article page, saved copy", "/article.html")], args)


# --- Report -------------------------------------------------------------------------------


def minimal_baseline(results, connections):
    """The minimal route's requests/s and CPU ms/req at this connection count (mean of runs)."""
    runs = [
        r
        for r in results
        if r.server in (MINIMAL, MINIMAL_AGAIN) and r.connections == connections and r.rps
    ]
    if not runs:
        return None, None
    rps = sum(r.rps for r in runs) / len(runs)
    cpus = [r.cpu_ms_per_req for r in runs if r.cpu_ms_per_req]
    return rps, (sum(cpus) / len(cpus) if cpus else None)


def percent(part, whole):
    return None if not part or not whole else 100 * part / whole


def print_tables(results):
    for connections in CONNECTIONS:
        base_rps, base_cpu = minimal_baseline(results, connections)
        print(
            f"\nwrk -t{WRK_THREADS} -c{connections}: % of minimal = share of the minimal Flask "
            "route's requests/s (and of its CPU cost: minimal CPU ms / this CPU ms)"
        )
        header = ("server", "page", "bytes", "req/s", "p50 ms", "p99 ms", "CPU ms/req",
                  "% of minimal", "% by CPU", "errors")  # fmt: skip
        rows = []
        for r in results:
            if r.connections != connections:
                continue
            rows.append((
                r.server, short(r.label, 30), fmt(r.bytes, ","), fmt(r.rps, ",.0f"),
                fmt(r.p50_ms, ".2f"), fmt(r.p99_ms, ".2f"), fmt(r.cpu_ms_per_req, ".2f"),
                fmt(percent(r.rps, base_rps), ".0f"),
                fmt(percent(base_cpu, r.cpu_ms_per_req), ".0f"),
                "—" if r.requests is None else f"{r.errors:,}",
            ))  # fmt: skip
        print_table(header, rows, left=2)


def target_rows(results):
    """[(page, cache, connections, target %, measured %, by CPU %, met)]."""
    rows = []
    for cache, share in TARGETS.items():
        server = NEWSDESK_ON if cache == "cache on" else NEWSDESK_OFF
        for page in TARGET_PAGES:
            for connections in CONNECTIONS:
                base_rps, base_cpu = minimal_baseline(results, connections)
                found = [
                    r
                    for r in results
                    if r.server == server and r.label == page and r.connections == connections
                ]
                r = found[0] if found else None
                measured = percent(r.rps, base_rps) if r else None
                by_cpu = percent(base_cpu, r.cpu_ms_per_req) if r else None
                met = None if measured is None else measured >= share * 100
                rows.append((page, cache, connections, share * 100, measured, by_cpu, met))
    return rows


def print_targets(rows):
    print("\nTargets (requests/s against the minimal Flask route at the same connections):")
    header = ("page", "page cache", "connections", "target", "measured", "by CPU", "met")
    print_table(
        header,
        [
            (
                page,
                cache,
                c,
                f">= {t:.0f} %",
                fmt(m, ".0f") + " %",
                fmt(cpu, ".0f") + " %",
                "—" if met is None else ("yes" if met else "NO"),
            )
            for page, cache, c, t, m, cpu, met in rows
        ],  # fmt: skip
        left=2,
    )


def print_problems(results):
    problems = []
    for r in results:
        where = f"{r.server}, {r.connections} connections, {r.path}"
        if r.error:
            problems.append(f"  {where}: {r.error}")
        if r.non_2xx_3xx:
            problems.append(f"  {where}: {r.non_2xx_3xx:,} responses neither 2xx nor 3xx")
        if r.socket_errors:
            details = ", ".join(f"{name} {n:,}" for name, n in r.socket_errors.items())
            problems.append(f"  {where}: socket errors: {details}")
    if problems:
        print("\nProblems:")
        print("\n".join(problems))
    return bool(problems)


# --- Main ---------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 1,000-article database, 1 s per URL"
    )
    parser.add_argument("--duration", type=int, help="seconds of wrk per URL (default 5)")
    parser.add_argument(
        "--timeout",
        type=int,
        default=10,
        help="seconds before wrk counts a request as timed out (default 10)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build a fresh database even if a cached one exists"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 1 if args.quick else 5
    args.db_path, args.articles = database_for(args.quick)
    if args.duration < 1:
        parser.error("--duration must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not (tool == "nginx" and Path("/usr/sbin/nginx").exists()):
            sys.exit(f"{tool} not found: apt-get install -y wrk nginx")
    started = time.monotonic()
    machine = machine_info()
    print("Newsdesk load benchmark")
    print_machine(machine)
    seed_seconds = ensure_database(args.db_path, args.articles, args.rebuild)
    print(
        f"Each URL: wrk -t{WRK_THREADS} -c<connections> -d{args.duration}s --latency"
        f" --timeout {args.timeout}s, at {' and '.join(map(str, CONNECTIONS))} connections,"
        f" servers on {HOST}"
    )

    results, notes, urls = [], [], None
    results += run_minimal(MINIMAL, args)
    on, urls, notes, article_html = run_newsdesk(NEWSDESK_ON, True, args)
    results += on
    # Search pages are never page-cached (caching.UNCACHED_ENDPOINTS): the same code runs
    # with the cache on or off, so they are measured once, with it on.
    uncached = [(label, path) for label, path in urls if not path.startswith("/search")]
    notes.append("searches are never page-cached: measured once, with the cache on")
    results += run_newsdesk(NEWSDESK_OFF, False, args, uncached)[0]
    if article_html:
        results += run_nginx(article_html, args)
    else:
        notes.append("no article page saved: nginx not measured")
    results += run_minimal(MINIMAL_AGAIN, args)

    print()
    print_tables(results)
    targets = target_rows(results)
    print_targets(targets)
    problems = print_problems(results)
    seconds = time.monotonic() - started
    print(f"\nLoad benchmark: {seconds:.0f} s")

    if args.json:
        write_json(
            args.json,
            {
                "machine": machine,
                "settings": {
                    "database": args.db_path.name,
                    "articles": args.articles,
                    "workers": WORKERS,
                    "threads": WRK_THREADS,
                    "connections": list(CONNECTIONS),
                    "duration_s": args.duration,
                    "timeout_s": args.timeout,
                },
                "seed_seconds": seed_seconds,
                "seconds": seconds,
                "notes": notes,
                "results": [asdict(r) for r in results],
                "targets": [
                    dict(
                        zip(
                            (
                                "page",
                                "cache",
                                "connections",
                                "target_pct",
                                "measured_pct",
                                "by_cpu_pct",
                                "met",
                            ),
                            row,
                            strict=True,
                        )
                    )
                    for row in targets
                ],  # fmt: skip
            },
        )
    return 1 if problems else 0


if __name__ == "__main__":
    main_guard(main)
