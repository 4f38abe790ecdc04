"""Load benchmark for Newsdesk: throughput, latency and CPU cost of the main public pages.

What it does:
  1. Builds (once, then cached) a SQLite database of demo articles with the app's own
     `flask init-db` and `flask seed-demo` commands: 100,000 articles at
     bench/data/bench-100k.db. It is built again when models.py, demo.py or commands.py
     change, or with --rebuild.
  2. Starts gunicorn with 2 sync workers on a free port of 127.0.0.1 and waits for
     /healthz. Its output (tracebacks of any 500s) goes to bench/data/gunicorn.log.
  3. Picks the URLs from the running site: the main page, an article linked from it,
     a deep section page (/section/news?page=500), the site RSS feed and the text version
     of the article.
  4. Runs `wrk --latency` on each URL, one after another, and reads gunicorn's CPU time
     (master + workers, from /proc) before and after each run.
  5. Prints the machine and a table: response bytes, requests/s, p50 and p99 latency,
     CPU ms per request, errors (non-2xx/3xx responses and socket errors).

wrk runs on the same machine and competes with the workers for the cores: compare
figures taken on the same machine, and prefer CPU ms/req, which is less sensitive to that.

Run from the repository root:
    python bench/load.py                 # full run: 100k articles, 10 s per URL
    python bench/load.py --quick         # smoke test: 1k articles, 2 s per URL
    python bench/load.py --json bench/results/run.json
Needs `wrk` (apt-get install wrk) and the app's dependencies, gunicorn included.
Exits 1 when a URL could not be measured; every other URL is still measured.
"""

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "bench" / "data"
LOG_PATH = DATA_DIR / "gunicorn.log"  # gunicorn's own output: tracebacks of 500s land here
HOST = "127.0.0.1"
WORKERS = 2
WRK_THREADS = 2
HEALTH_TIMEOUT = 30  # seconds for gunicorn to answer /healthz
BUILD_TIMEOUT = 30 * 60  # seconds for init-db + seed-demo, however slow the machine
HTTP_TIMEOUT = 10  # seconds for the plain GETs that pick URLs and measure sizes
DEEP_PAGE = 500
# The files a cached database depends on; it is rebuilt when one of them changes.
DATABASE_SOURCES = ("models.py", "demo.py", "commands.py")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    """One URL's figures; None where wrk failed or the figure could not be read."""

    label: str
    path: str
    bytes: int | None = None
    requests: int | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_ms_per_req: float | None = None
    non_2xx_3xx: int = 0
    socket_errors: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def errors(self):
        return self.non_2xx_3xx + sum(self.socket_errors.values())


# --- The database -------------------------------------------------------------------------


BENCH_SECRET = "bench-only-secret-key-0123456789"  # gunicorn.conf.py refuses short keys


def database_url(path):
    return "sqlite:///" + str(path.resolve())  # an absolute path gives sqlite:////...


def flask(args, db_path):
    """Run `python -m flask --app app ARGS` on this database, output shown as it comes."""
    env = {**os.environ, "DATABASE_URL": database_url(db_path), "SECRET_KEY": BENCH_SECRET}
    command = [sys.executable, "-m", "flask", "--app", "app", *args]
    subprocess.run(command, cwd=REPO, env=env, check=True, timeout=BUILD_TIMEOUT)


def remove_database(path):
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def count_articles(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM article").fetchone()[0]


def source_fingerprint():
    """A hash of the code that defines the database: its schema and the demo content."""
    digest = hashlib.sha256()
    for name in DATABASE_SOURCES:
        source = REPO / name
        digest.update(source.read_bytes() if source.exists() else b"")
    return digest.hexdigest()[:16]


def stamp_path(path):
    return path.with_name(path.name + ".source")


def ensure_database(path, articles, rebuild):
    """Reuse the cached database, or build it; returns the seconds the build took (or None).

    A database built from other versions of models.py or demo.py is rebuilt: the app
    would fail on a changed schema, or the figures would describe other content.
    """
    fingerprint = source_fingerprint()
    stamp = stamp_path(path)
    built_from = stamp.read_text().strip() if stamp.exists() else None
    if path.exists() and not rebuild:
        if built_from == fingerprint:
            print(
                f"Database: reusing {path.relative_to(REPO)} ({count_articles(path):,} articles;"
                " --rebuild for a fresh one)"
            )
            return None
        print(f"Database: the cached one predates a change to {'/'.join(DATABASE_SOURCES)}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Build under another name so an interrupted build is never mistaken for a cached one.
    partial = path.with_name(path.name + ".partial")
    remove_database(partial)
    print(f"Database: building {path.relative_to(REPO)} with {articles:,} demo articles...")
    started = time.monotonic()
    try:
        flask(["init-db"], partial)
        flask(["seed-demo", "--articles", str(articles)], partial)
    except BaseException:
        remove_database(partial)
        raise
    seconds = time.monotonic() - started
    remove_database(path)
    partial.replace(path)  # the WAL was checkpointed when the last connection closed
    stamp.write_text(fingerprint + "\n")
    print(f"Database: {count_articles(path):,} articles loaded in {seconds:.1f} s")
    return seconds


# --- The server ---------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http_get(url):
    """(status, body) of a plain GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def start_gunicorn(db_path, port):
    env = {**os.environ, "SECRET_KEY": BENCH_SECRET, "DATABASE_URL": database_url(db_path)}
    app, bind = "app:create_app()", f"{HOST}:{port}"
    command = [sys.executable, "-m", "gunicorn", app, "--workers", str(WORKERS), "--bind", bind]
    # Its own session: Ctrl-C reaches only this script, which then stops gunicorn in order,
    # and the whole group (master and workers) can be killed if it does not stop.
    with open(LOG_PATH, "w") as log:  # the child has its own copy of the file descriptor
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_healthy(server, base_url):
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with code {server.returncode}; see {LOG_PATH.relative_to(REPO)}"
            )
        try:
            if http_get(base_url + "/healthz")[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    raise RuntimeError(f"/healthz did not answer 200 within {HEALTH_TIMEOUT} s")


def stop_gunicorn(server):
    """SIGTERM (graceful), then SIGKILL the whole process group if it lingers."""
    if server.poll() is None:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # workers left behind by a killed master
    server.wait(timeout=10)


def cpu_ticks(master_pid):
    """User + system clock ticks of gunicorn: the master, its live workers and reaped ones.

    The master's cutime/cstime hold the time of workers it has already reaped, so a worker
    restarted during a run still counts.
    """
    total = 0
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat_path.read_text()
        except OSError:
            continue  # exited meanwhile
        # Fields after the command name, which is in parentheses and may hold spaces.
        fields = text[text.rindex(")") + 2 :].split()
        pid, ppid = int(stat_path.parent.name), int(fields[1])
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        if pid == master_pid:
            total += utime + stime + cutime + cstime
        elif ppid == master_pid:
            total += utime + stime
    return total


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
        raise RuntimeError(f"the main page answered {status}; see {LOG_PATH.relative_to(REPO)}")
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
        urls.append(("article, text version", "/text" + article))
    # Search: a word in most articles, a word in one, and a phrase.
    urls += [
        ("search, common word", "/search?q=government"),
        ("search, rare word", "/search?q=Khalilzad"),
        ("search, two-word phrase", "/search?q=%22troop+withdrawal%22"),
    ]
    return urls, notes


def warm_up(base_url, urls, rounds=10):
    """GET every URL a few times so both workers have compiled templates and warm caches."""
    for _ in range(rounds):
        for _label, path in urls:
            http_get(base_url + path)


# --- wrk ----------------------------------------------------------------------------------

DURATION_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value):
    """wrk's '12.34ms' / '850.00us' / '1.02s' in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()
    return float(number) * DURATION_UNITS[unit]


def parse_wrk(output, result):
    """Fill `result` from wrk's report; raise ValueError when the report is not there."""
    requests = re.search(r"^\s*(\d+) requests in", output, re.M)
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.M)
    if not (requests and rps):
        raise ValueError("no requests count or Requests/sec in wrk's output")
    result.requests, result.rps = int(requests.group(1)), float(rps.group(1))
    # The --latency distribution: lines like "     50%    4.20ms".
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)$", output, re.M))
    if "50" in percentiles:
        result.p50_ms = to_ms(percentiles["50"])
    if "99" in percentiles:
        result.p99_ms = to_ms(percentiles["99"])
    # Both lines are printed only when there is something to report.
    sockets = re.search(r"Socket errors: (.*)", output)
    if sockets:
        pairs = re.findall(r"(\w+) (\d+)", sockets.group(1))
        result.socket_errors = {name: int(n) for name, n in pairs if int(n)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result.non_2xx_3xx = int(non_2xx.group(1)) if non_2xx else 0


def run_wrk(url, duration, connections, timeout):
    """wrk's stdout; raises RuntimeError with its stderr when it fails."""
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout}s",
        "--latency",
        url,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"wrk did not finish within {duration + 30} s") from error
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip()[:300]}")
    return done.stdout


def measure(base_url, label, path, server, args):
    result = Result(label, path)
    url = base_url + path
    try:
        status, body = http_get(url)
        result.bytes = len(body)
        if status != 200:
            result.error = f"plain GET answered {status}"
        before = cpu_ticks(server.pid)
        output = run_wrk(url, args.duration, args.connections, args.timeout)
        ticks = cpu_ticks(server.pid) - before
        parse_wrk(output, result)
        if result.requests:
            result.cpu_ms_per_req = ticks * 1000 / CLK_TCK / result.requests
    except (OSError, RuntimeError, ValueError) as error:
        result.error = f"{type(error).__name__}: {error}"
    return result


# --- Report -------------------------------------------------------------------------------


def machine_info():
    model = "unknown"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),  # what `nproc` prints
        "cpu": model,
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": wrk_version.split(" [")[0].strip() or "unknown",
    }


def short(path, width=48):
    """The path cut to `width` characters: article slugs make the table too wide."""
    return path if len(path) <= width else path[: width - 1] + "…"


def print_table(results):
    def number(value, fmt):
        return "—" if value is None else format(value, fmt)

    header = ("URL", "bytes", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "errors")
    rows = [
        (
            short(r.path),
            number(r.bytes, ","),
            number(r.rps, ",.1f"),
            number(r.p50_ms, ".2f"),
            number(r.p99_ms, ".2f"),
            number(r.cpu_ms_per_req, ".2f"),
            "—" if r.requests is None else f"{r.errors:,}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    # Markdown-table shaped, for the README: the URL left-aligned, the figures right-aligned.
    def line(cells):
        figures = [cell.rjust(w) for cell, w in zip(cells[1:], widths[1:], strict=True)]
        return "| " + " | ".join([cells[0].ljust(widths[0]), *figures]) + " |"

    print(line(header))
    print("|" + "|".join(["-" * (widths[0] + 2)] + ["-" * (w + 1) + ":" for w in widths[1:]]) + "|")
    for row in rows:
        print(line(row))


def print_problems(results):
    for r in results:
        if r.error:
            print(f"  {r.path}: {r.error}")
        if r.non_2xx_3xx:
            print(f"  {r.path}: {r.non_2xx_3xx:,} responses neither 2xx nor 3xx")
        if r.socket_errors:
            details = ", ".join(f"{name} {n:,}" for name, n in r.socket_errors.items())
            print(f"  {r.path}: socket errors: {details}")


# --- Main ---------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 1,000-article database, 2 s per URL"
    )
    parser.add_argument("--duration", type=int, help="seconds of wrk per URL (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="open connections (default 16)")
    parser.add_argument(
        "--timeout",
        type=int,
        default=2,
        help="seconds before wrk counts a request as timed out (default 2)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build a fresh database even if a cached one exists"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args()
    if args.duration is None:
        args.duration = 2 if args.quick else 10
    args.articles = 1_000 if args.quick else 100_000
    args.db_path = DATA_DIR / ("bench-1k.db" if args.quick else "bench-100k.db")
    if args.duration < 1 or args.connections < WRK_THREADS:
        parser.error(f"--duration must be >= 1 and --connections >= {WRK_THREADS}")
    return args


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    # SIGTERM raises SystemExit like Ctrl-C raises KeyboardInterrupt, so gunicorn is stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    machine = machine_info()
    print("Newsdesk load benchmark")
    for key, value in machine.items():
        print(f"  {key}: {value}")
    print()

    seed_seconds = ensure_database(args.db_path, args.articles, args.rebuild)
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    server = start_gunicorn(args.db_path, port)
    try:
        wait_until_healthy(server, base_url)
        urls, notes = pick_urls(base_url)
        print(
            f"Server: gunicorn, {WORKERS} sync workers at {base_url}; wrk -t{WRK_THREADS} "
            f"-c{args.connections} -d{args.duration}s --latency, one URL after another"
        )
        for note in notes:
            print(f"  note: {note}")
        warm_up(base_url, urls)
        results = []
        for label, path in urls:
            print(f"  {label}: {path} ...", flush=True)
            results.append(measure(base_url, label, path, server, args))
    finally:
        stop_gunicorn(server)

    print()
    print_table(results)
    if any(r.error or r.errors for r in results):
        print("\nProblems:")
        print_problems(results)

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "machine": machine,
            "settings": {
                "articles": args.articles,
                "workers": WORKERS,
                "threads": WRK_THREADS,
                "connections": args.connections,
                "duration_s": args.duration,
                "timeout_s": args.timeout,
            },
            "seed_seconds": seed_seconds,
            "notes": notes,
            "results": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nResults written to {args.json}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # main's `finally` has already stopped gunicorn; no traceback for a Ctrl-C.
        print("\nInterrupted.", file=sys.stderr)
        sys.exit(130)
    except (RuntimeError, subprocess.SubprocessError) as error:
        sys.exit(f"load.py: {error}")
