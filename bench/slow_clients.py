"""Slow clients: can a few connections that never finish their request stall the site?

For each way of serving below, on the same database, one after another:
  1. wrk -t2 -c16 on an article page (page-cached) for D seconds: nobody is slow.
  2. 50 slow clients connect, each sends the first half of a request (the request line
     and one header, never the blank line that ends the headers) and then waits.
  3. While they wait: a reader asks for /healthz and the article page in turn, one request
     at a time, each on a new connection with a 5 s timeout, for P seconds; then wrk on
     the article page again for D seconds.
  4. The slow clients hang up and the server stops.
The phase with slow clients stays under gunicorn's 30 s worker timeout, after which the
arbiter would kill stuck sync workers and so free them.

Ways of serving (gunicorn with the repository's gunicorn.conf.py, 2 workers):
  - gunicorn.conf.py as it is (what `make serve` runs);
  - sync workers; gthread workers with 16, 32 and 64 threads each;
  - gunicorn's sync, and gthread, workers behind nginx, proxying as deploy/nginx.conf
    does (requests and responses buffered).

Prints, for each: the article page's requests/s and p99 without and with the slow
clients, and how many of the reader's requests were answered within 5 s (median and
worst latency). Target: with gunicorn.conf.py as it is, every request of the reader is
answered while the slow clients wait. Exits 1 when a way of serving could not be measured.

    python bench/slow_clients.py            # 100k database, 5 s wrk runs, 8 s of reader
    python bench/slow_clients.py --quick    # 1k database, 2 s and 4 s
Needs `wrk` and `nginx` (apt-get install wrk nginx). Everything listens on 127.0.0.1 only.
"""

import argparse
import http.client
import shutil
import socket
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field

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
    machine_info,
    main_guard,
    nginx,
    print_machine,
    print_table,
    run_wrk,
    visible_articles,
    write_json,
)

SLOW_CLIENTS = 50
CONNECTIONS = 16
READER_TIMEOUT = 5  # seconds the reader waits for each answer
# A request line and a header, without the blank line that would end the request.
HALF_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-client\r\n"

CONFIGURED = "gunicorn.conf.py as it is"
SYNC = ["--worker-class", "sync", "--threads", "1"]
# (label, gunicorn arguments over gunicorn.conf.py's, behind nginx)
SERVINGS = (
    (CONFIGURED, [], False),
    ("sync", SYNC, False),
    ("gthread, 16 threads", ["--worker-class", "gthread", "--threads", "16"], False),
    ("gthread, 32 threads", ["--worker-class", "gthread", "--threads", "32"], False),
    ("gthread, 64 threads", ["--worker-class", "gthread", "--threads", "64"], False),
    ("sync, behind nginx", SYNC, True),
    ("gthread, 64 threads, behind nginx", ["--worker-class", "gthread", "--threads", "64"], True),
)


@dataclass
class Throughput:
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None  # non-2xx/3xx answers, timeouts and other socket errors
    cpu_ms_per_req: float | None = None  # the servers' CPU (gunicorn, and nginx) per request


@dataclass
class Reader:
    asked: int = 0
    answered: int = 0  # with 200, within READER_TIMEOUT
    latencies_ms: list = field(default_factory=list)
    failures: dict = field(default_factory=dict)  # what happened instead, counted

    @property
    def median_ms(self):
        return statistics.median(self.latencies_ms) if self.latencies_ms else None

    @property
    def worst_ms(self):
        return max(self.latencies_ms) if self.latencies_ms else None


@dataclass
class Result:
    serving: str
    alone: Throughput = field(default_factory=Throughput)
    with_slow: Throughput = field(default_factory=Throughput)
    reader: Reader = field(default_factory=Reader)
    slow_connected: int = 0  # slow clients whose connection and half request went through
    slow_still_open: int = 0  # … and whose connection the server had not closed at the end
    error: str | None = None


def wrk_article(server, path, args, servers):
    """wrk on the page; CPU of `servers` (pids of gunicorn's and nginx's masters) per request."""
    before = sum(cpu_ticks(pid) for pid in servers)
    try:
        found = run_wrk(server.base_url + path, args.duration, CONNECTIONS, timeout=2)
    except RuntimeError as error:
        print(f"    wrk: {error}")
        return Throughput()
    ticks = sum(cpu_ticks(pid) for pid in servers) - before
    cpu = ticks * 1000 / CLK_TCK / found.requests if found.requests else None
    return Throughput(found.rps, found.p50_ms, found.p99_ms, found.errors, cpu)


def open_slow_clients(port):
    """SLOW_CLIENTS sockets, each with half a request sent."""
    clients = []
    for _ in range(SLOW_CLIENTS):
        sock = socket.socket()
        sock.settimeout(5)
        try:
            sock.connect((HOST, port))
            sock.sendall(HALF_REQUEST)
        except OSError:
            sock.close()
            continue
        clients.append(sock)
    return clients


def still_open(sock):
    """Whether the server has not closed this connection (nothing to read, no EOF)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def read_in_turn(port, paths, seconds):
    """GET the paths in turn, each on a new connection, until `seconds` have passed."""
    reader = Reader()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        path = paths[reader.asked % len(paths)]
        reader.asked += 1
        started = time.monotonic()
        connection = http.client.HTTPConnection(HOST, port, timeout=READER_TIMEOUT)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            outcome = response.status
        except TimeoutError:
            outcome = f"no answer in {READER_TIMEOUT} s"
        except (OSError, http.client.HTTPException) as error:
            outcome = type(error).__name__
        finally:
            connection.close()
        if outcome == 200:
            reader.answered += 1
            reader.latencies_ms.append((time.monotonic() - started) * 1000)
        else:
            key = str(outcome)
            reader.failures[key] = reader.failures.get(key, 0) + 1
    return reader


def measure(server, result, article, args, servers):
    for _ in range(5):  # both workers: templates compiled, the page in the page cache
        http_get(server.base_url + article)
    print("    nobody slow: wrk ...", flush=True)
    result.alone = wrk_article(server, article, args, servers)
    clients = open_slow_clients(server.port)
    result.slow_connected = len(clients)
    try:
        time.sleep(1)  # the server accepts them and starts reading
        print(f"    {len(clients)} slow clients: reader, then wrk ...", flush=True)
        result.reader = read_in_turn(server.port, ["/healthz", article], args.reader_seconds)
        result.with_slow = wrk_article(server, article, args, servers)
        result.slow_still_open = sum(still_open(sock) for sock in clients)
    finally:
        for sock in clients:
            sock.close()


def run_serving(label, gunicorn_args, behind_nginx, article, args):
    result = Result(label)
    print(f"\n{label}: gunicorn, {WORKERS} workers" + (", behind nginx" if behind_nginx else ""))
    log = DATA_DIR / "slow-clients.log"
    try:
        with gunicorn(args.db_path, log, extra_args=gunicorn_args) as app_server:
            if behind_nginx:
                with nginx(proxy_to=app_server) as front:
                    measure(front, result, article, args, [app_server.pid, front.pid])
            else:
                measure(app_server, result, article, args, [app_server.pid])
    except RuntimeError as error:
        result.error = str(error)
        print(f"    failed: {error}")
    return result


def print_results(results, duration):
    print(
        f"\nArticle page (page-cached): wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{duration}s; reader:"
        f" /healthz and the article in turn, {READER_TIMEOUT} s timeout each, while"
        f" {SLOW_CLIENTS} slow clients wait"
    )
    header = ("serving", "req/s alone", "p99 ms alone", "CPU ms/req alone", "req/s, slow",
              "p99 ms, slow", "wrk errors, slow", "reader answered", "median ms", "worst ms",
              "slow open")  # fmt: skip
    rows = []
    for r in results:
        rows.append((
            r.serving, fmt(r.alone.rps, ",.0f"), fmt(r.alone.p99_ms, ".1f"),
            fmt(r.alone.cpu_ms_per_req, ".2f"),
            fmt(r.with_slow.rps, ",.0f"), fmt(r.with_slow.p99_ms, ".1f"),
            fmt(r.with_slow.errors, ","), f"{r.reader.answered}/{r.reader.asked}",
            fmt(r.reader.median_ms, ".1f"), fmt(r.reader.worst_ms, ".1f"),
            f"{r.slow_still_open}/{r.slow_connected}",
        ))  # fmt: skip
    print_table(header, rows)
    for r in results:
        if r.reader.failures:
            print(f"  {r.serving}: the reader got {r.reader.failures}")
        if r.error:
            print(f"  {r.serving}: FAILED: {r.error}")


def target_met(results):
    configured = next(r for r in results if r.serving == CONFIGURED)
    reader = configured.reader
    return not configured.error and reader.asked > 0 and reader.answered == reader.asked


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 1k database, short runs")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    args.db_path, args.articles = database_for(args.quick)
    args.duration, args.reader_seconds = (2, 4) if args.quick else (5, 8)
    return args


def main(argv=None):
    args = parse_args(argv)
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not (tool == "nginx" and shutil.which("/usr/sbin/nginx")):
            sys.exit(f"{tool} not found: apt-get install -y wrk nginx")
    started = time.monotonic()
    machine = machine_info()
    print("Newsdesk slow clients benchmark")
    print_machine(machine)
    ensure_database(args.db_path, args.articles, args.rebuild)
    (article_id, slug), *_ = visible_articles(args.db_path, 1)
    article = f"/articles/{article_id}/{slug}"
    results = [run_serving(*serving, article, args) for serving in SERVINGS]
    print_results(results, args.duration)
    met = target_met(results)
    print(
        f"\nTarget: with {CONFIGURED}, every request of the reader answered while"
        f" {SLOW_CLIENTS} slow clients wait: {'met' if met else 'MISSED'}"
    )
    seconds = time.monotonic() - started
    print(f"Slow clients benchmark: {seconds:.0f} s")
    if args.json:
        write_json(args.json, {
            "machine": machine,
            "settings": {"database": args.db_path.name, "workers": WORKERS,
                         "slow_clients": SLOW_CLIENTS, "connections": CONNECTIONS,
                         "duration_s": args.duration, "reader_s": args.reader_seconds,
                         "reader_timeout_s": READER_TIMEOUT},
            "seconds": seconds,
            "results": [asdict(r) for r in results],
            "target_met": met,
        })  # fmt: skip
    return 1 if any(r.error for r in results) else 0  # a missed target is reported, not failed


if __name__ == "__main__":
    main_guard(main)
