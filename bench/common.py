"""What the benchmark scripts share: the cached databases, starting and stopping servers,
wrk, CPU and memory accounting from /proc, and printing tables.

Every server is started in its own process group (session) on a free port of 127.0.0.1
and stopped in a `finally`: SIGTERM, then SIGKILL of the whole group if it lingers.
"""

import contextlib
import datetime as dt
import hashlib
import http.client
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
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
HOST = "127.0.0.1"
WORKERS = 2
WRK_THREADS = 2
HEALTH_TIMEOUT = 60  # seconds for a server to answer its health check
BUILD_TIMEOUT = 30 * 60  # seconds for init-db + seed-demo, however slow the machine
HTTP_TIMEOUT = 10  # seconds for the plain GETs that pick URLs and measure sizes
CLK_TCK = os.sysconf("SC_CLK_TCK")
BENCH_SECRET = "bench-only-secret-key-0123456789"  # gunicorn.conf.py refuses short keys
# The files a cached database depends on; it is rebuilt when one of them changes.
DATABASE_SOURCES = ("models", "migrations.py", "demo.py", "commands.py")
FULL_ARTICLES, QUICK_ARTICLES = 100_000, 1_000


def database_for(quick):
    """(path, number of generated articles) of the cached benchmark database."""
    if quick:
        return DATA_DIR / "bench-1k.db", QUICK_ARTICLES
    return DATA_DIR / "bench-100k.db", FULL_ARTICLES


class Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that every `finally` runs; not a
    SystemExit, which bench/all.py takes for the end of one step."""


def install_sigterm_handler():
    def terminate(signum, frame):
        raise Terminated()

    signal.signal(signal.SIGTERM, terminate)


# Load tools started by this process (wrk may run in a thread): stopped on the way out.
RUNNING = set()


def stop_running_tools():
    for process in list(RUNNING):
        if process.poll() is None:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        RUNNING.discard(process)


# --- The database -------------------------------------------------------------------------


def database_url(path):
    return "sqlite:///" + str(Path(path).resolve())  # an absolute path gives sqlite:////...


def app_env(db_path, **extra):
    """The environment of the app (flask commands and gunicorn) on this database."""
    env = {**os.environ, "DATABASE_URL": database_url(db_path), "SECRET_KEY": BENCH_SECRET}
    env.pop("PAGE_CACHE_MB", None)  # the default unless a run sets it
    env.update({key: str(value) for key, value in extra.items()})
    return env


def run_tracked(command, timeout, capture=True, **options):
    """subprocess.run, but the child is listed in RUNNING while it runs, so that an
    interrupted script (even one that ran it from a thread) stops it on the way out."""
    pipe = subprocess.PIPE if capture else None
    process = subprocess.Popen(
        command, stdout=pipe, stderr=pipe, stdin=subprocess.DEVNULL, text=True, **options
    )
    RUNNING.add(process)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        RUNNING.discard(process)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def flask(args, db_path, timeout=BUILD_TIMEOUT, capture=False):
    """Run `python -m flask --app app ARGS` on this database; CompletedProcess.

    CalledProcessError when it fails, TimeoutExpired when it takes longer than `timeout`.
    """
    command = [sys.executable, "-m", "flask", "--app", "app", *args]
    done = run_tracked(command, timeout, capture=capture, cwd=REPO, env=app_env(db_path))
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)
    return done


def remove_database(path):
    for suffix in ("", "-wal", "-shm", "-stamp"):  # -stamp: the content stamp (models.py)
        Path(str(path) + suffix).unlink(missing_ok=True)


def read_only(path):
    """A read-only sqlite3 connection (the caller closes it)."""
    return sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=30)


def count_articles(path):
    connection = read_only(path)
    try:
        return connection.execute("SELECT COUNT(*) FROM article").fetchone()[0]
    finally:
        connection.close()


def integrity_check(path):
    """PRAGMA integrity_check of the file: ['ok'] when it is sound."""
    connection = sqlite3.connect(str(path), timeout=30)
    try:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]
    finally:
        connection.close()


def copy_database(source, target):
    """A copy of a database that no one writes to (the cached one), its WAL folded in first."""
    connection = sqlite3.connect(str(source), timeout=30)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    remove_database(target)
    shutil.copyfile(source, target)


def source_fingerprint():
    """A hash of the code that defines the database: its schema and the demo content."""
    digest = hashlib.sha256()
    for name in DATABASE_SOURCES:
        source = REPO / name
        for path in sorted(source.glob("*.py")) if source.is_dir() else [source]:
            digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


def stamp_path(path):
    return path.with_name(path.name + ".source")


def ensure_database(path, articles, rebuild=False):
    """Reuse the cached database, or build it; returns the seconds the build took (or None).

    A database built from other versions of models/, demo.py or commands.py is rebuilt:
    the app would fail on a changed schema, or the figures would describe other content.
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
    remove_database(str(partial))
    stamp.write_text(fingerprint + "\n")
    print(f"Database: {count_articles(path):,} articles loaded in {seconds:.1f} s")
    return seconds


def visible_articles(db_path, limit, seed=None):
    """[(id, slug)] of published articles readers can see; random ones when `seed` is given."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    order = "ORDER BY id" if seed is None else "ORDER BY (id * ?) % 1000003"
    params = [now] + ([] if seed is None else [seed * 2 + 7919])
    connection = read_only(db_path)
    try:
        rows = connection.execute(
            "SELECT id, slug FROM article WHERE status = 'published' AND deleted_at IS NULL"
            f" AND published_at <= ? {order} LIMIT ?",
            [*params, limit],
        ).fetchall()
    finally:
        connection.close()
    return rows


def taxonomy_slugs(db_path):
    """{'section': [...], 'rubric': [...], 'author': [...]} slugs of the public lists."""
    connection = read_only(db_path)
    try:
        return {
            "section": [r[0] for r in connection.execute("SELECT slug FROM section ORDER BY id")],
            "rubric": [r[0] for r in connection.execute("SELECT slug FROM rubric ORDER BY id")],
            "author": [
                r[0]
                for r in connection.execute(
                    "SELECT DISTINCT u.slug FROM user u JOIN article a ON a.author_id = u.id"
                    " WHERE u.role != 'reader' ORDER BY u.id"
                )
            ],
        }
    finally:
        connection.close()


# --- HTTP ---------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http_get(url, timeout=HTTP_TIMEOUT):
    """(status, body) of a plain GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def http_get_full(url, timeout=HTTP_TIMEOUT):
    """(status, content type, body) of a plain GET."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


# --- Servers ------------------------------------------------------------------------------


class Server:
    """A server process started in its own session; a context manager that always stops it."""

    def __init__(self, command, env, log_path, health_path, cwd=REPO, name="server"):
        self.command, self.env, self.cwd = command, env, cwd
        self.log_path, self.health_path, self.name = Path(log_path), health_path, name
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.process = None

    @property
    def pid(self):
        return self.process.pid

    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [part.format(port=self.port) for part in self.command]
        # Its own session: Ctrl-C reaches only this script, which stops the server in order,
        # and the whole group (master and workers) can be killed if it does not stop.
        with open(self.log_path, "w") as log:  # the child has its own copy of the descriptor
            self.process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            self.wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_until_healthy(self, timeout=HEALTH_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {self.process.returncode}; see {self.log_path}"
                )
            with contextlib.suppress(OSError):
                if http_get(self.base_url + self.health_path, timeout=5)[0] == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: {self.health_path} did not answer 200 within {timeout} s")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=15):
        """SIGTERM (graceful), then SIGKILL the whole process group if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # workers left behind by the master
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def gunicorn(db_path, log_path, app="app:create_app()", extra_env=None, extra_args=()):
    """A Server running gunicorn with the repository's gunicorn.conf.py, 2 workers."""
    env = app_env(db_path, **(extra_env or {}))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR), env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "gunicorn", app,
        "--workers", str(WORKERS), "--bind", f"{HOST}:{{port}}", *extra_args,
    ]  # fmt: skip
    health = "/healthz" if app.startswith("app:") else "/"
    return Server(command, env, log_path, health, name="gunicorn")


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/html html; }}
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
{upstream}
    server {{
        listen {host}:{{port}};
{location}
    }}
}}
"""
STATIC_LOCATION = """\
        root {tmp}/www;
        location / {{ }}"""
# The proxying of deploy/nginx.conf: requests and responses buffered (nginx's defaults,
# said out loud), so gunicorn sees whole requests only and never waits on a slow reader.
PROXY_UPSTREAM = """\
    upstream newsdesk {{
        server {host}:{upstream_port};
        keepalive 16;
    }}"""
PROXY_LOCATION = """\
        location / {
            proxy_pass http://newsdesk;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_request_buffering on;
            proxy_buffering on;
        }"""


@contextlib.contextmanager
def nginx(files=None, proxy_to=None):
    """nginx serving `files` ({name: bytes}) from a temporary directory, or proxying to
    the Server `proxy_to` as deploy/nginx.conf does; yields the Server.

    A throwaway configuration: foreground (`daemon off`), as a child of this script, with
    its pid file, logs and temporary files in the temporary directory, no access log.
    """
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    with tempfile.TemporaryDirectory(prefix="newsdesk-nginx-") as tmp:
        os.chmod(tmp, 0o755)  # started as root, its workers run as nobody and must read it
        www = Path(tmp) / "www"
        www.mkdir(mode=0o755)
        for name, body in (files or {}).items():
            (www / name).write_bytes(body)
            os.chmod(www / name, 0o644)
        if proxy_to is None:
            upstream, location = "", STATIC_LOCATION.format(tmp=tmp)
        else:
            upstream = PROXY_UPSTREAM.format(host=HOST, upstream_port=proxy_to.port)
            location = PROXY_LOCATION
        conf = Path(tmp) / "nginx.conf"
        text = NGINX_CONF.format(
            workers=WORKERS, tmp=tmp, host=HOST, upstream=upstream, location=location
        )
        conf.write_text(text)
        command = [binary, "-p", tmp, "-e", f"{tmp}/error.log", "-c", str(conf)]
        server = Server(command, dict(os.environ), Path(tmp) / "stdout.log", "/", name="nginx")
        # The port is known only once the Server exists: write it into the configuration.
        conf.write_text(text.replace("{port}", str(server.port)))
        server.health_path = proxy_to.health_path if proxy_to else "/" + next(iter(files))
        with server:
            yield server


def children(pid):
    """Pids of the live child processes of `pid` (gunicorn's workers, nginx's workers)."""
    found = []
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat_path.read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(stat_path.parent.name))
    return sorted(found)


def cpu_ticks(master_pid):
    """User + system clock ticks of a server: the master, its live workers and reaped ones.

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


def wait_until_idle(server, quiet_ticks=1, interval=0.5, limit=90):
    """Wait until the server has finished the requests a load tool left queued.

    wrk stops at its deadline, but the requests it had sent are still in gunicorn's
    backlog: they are served afterwards. Idle = at most `quiet_ticks` of CPU over `interval`
    seconds. Returns the seconds waited.
    """
    started = time.monotonic()
    last = cpu_ticks(server.pid)
    while time.monotonic() - started < limit:
        time.sleep(interval)
        now = cpu_ticks(server.pid)
        if now - last <= quiet_ticks:
            break
        last = now
    return time.monotonic() - started


def log_size(path):
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def logged_requests(path, offset, request_path):
    """Access-log lines for GET `request_path` written after byte `offset`: the requests the
    server really served (including those wrk had stopped waiting for)."""
    with open(path, "rb") as log:
        log.seek(offset)
        text = log.read().decode("utf-8", "replace")
    return text.count(f'"GET {request_path} HTTP/1.1"')


def rss_kb(pid):
    """VmRSS of a process in KiB (from /proc/<pid>/status), or None if it is gone."""
    try:
        found = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return None
    return int(found.group(1)) if found else None


# --- wrk ----------------------------------------------------------------------------------

DURATION_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass
class WrkResult:
    requests: int | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx_3xx: int = 0
    socket_errors: dict = field(default_factory=dict)
    script_report: dict | None = None  # what a Lua script's done() printed as JSON

    @property
    def errors(self):
        return self.non_2xx_3xx + sum(self.socket_errors.values())


def to_ms(value):
    """wrk's '12.34ms' / '850.00us' / '1.02s' in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()
    return float(number) * DURATION_UNITS[unit]


def parse_wrk(output):
    """A WrkResult from wrk's report; ValueError when the report is not there."""
    result = WrkResult()
    requests = re.search(r"^\s*(\d+) requests in", output, re.M)
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.M)
    if not (requests and rps):
        raise ValueError("no requests count or Requests/sec in wrk's output")
    result.requests, result.rps = int(requests.group(1)), float(rps.group(1))
    # The --latency distribution: lines like "     50%    4.20ms".
    # wrk pads the value: "1.69s " has a trailing space where "16.90ms" has none.
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.M))
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
    report = re.search(r"^WRK-SCRIPT-REPORT (.*)$", output, re.M)
    if report:
        result.script_report = json.loads(report.group(1))
    return result


def run_wrk(url, duration, connections, timeout=2, script=None, threads=WRK_THREADS):
    """Run wrk and parse its report; RuntimeError when it fails."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout}s"]
    command += ["--latency", *(["-s", str(script)] if script else []), url]
    try:
        done = run_tracked(command, timeout=duration + 60)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"wrk did not finish within {duration + 60} s") from error
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip()[:300]}")
    return parse_wrk(done.stdout)


# A wrk script that requests the paths of a file (one a line) in turn, each thread starting
# at its own place in the list, and counts responses by status class; done() prints the
# counts as one JSON line. (No stopping after N requests: see PathDriver.)
PATHS_SCRIPT = """\
local paths_file = "{paths_file}"
local threads = {{}}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  paths = {{}}
  for line in io.lines(paths_file) do table.insert(paths, line) end
  index = (id - 1) * math.floor(#paths / {threads})
  responses, status_5xx, status_4xx, status_3xx = 0, 0, 0, 0
end

function request()
  local path = paths[(index % #paths) + 1]
  index = index + 1
  return wrk.format("GET", path)
end

function response(status, headers, body)
  responses = responses + 1
  if status >= 500 then status_5xx = status_5xx + 1
  elseif status >= 400 then status_4xx = status_4xx + 1
  elseif status >= 300 then status_3xx = status_3xx + 1 end
end

function done(summary, latency, requests)
  local total = {{responses = 0, status_5xx = 0, status_4xx = 0, status_3xx = 0}}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(total) do total[name] = total[name] + thread:get(name) end
  end
  io.write(string.format('WRK-SCRIPT-REPORT {{"responses": %d, "status_5xx": %d, ' ..
    '"status_4xx": %d, "status_3xx": %d}}\\n',
    total.responses, total.status_5xx, total.status_4xx, total.status_3xx))
end
"""


def paths_script(directory, paths, threads=WRK_THREADS):
    """Write the path list and the wrk script that walks it; returns the script's path."""
    directory = Path(directory)
    paths_file = directory / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = directory / "paths.lua"
    script.write_text(PATHS_SCRIPT.format(paths_file=paths_file, threads=threads))
    return script


class PathDriver:
    """Python threads that GET a list of paths in order, each request once (http.client).

    For runs that need an exact number of requests: wrk can only stop a thread, and the
    connections a stopped thread leaves open keep gunicorn waiting for a request that never
    comes (a sync worker until the 30 s worker timeout kills it, a gthread thread longer).
    """

    def __init__(self, base_url, threads=8, timeout=30):
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.threads, self.timeout = threads, timeout
        self.statuses = {}
        self.errors = 0
        self.lock = threading.Lock()

    def run(self, paths, deadline=None, stop=None):
        """GET every path (in order, `threads` at a time) until the deadline (time.monotonic)
        or `stop` (a threading.Event) is set; returns the seconds it took."""
        queue = iter(paths)
        started = time.monotonic()

        def work():
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                while deadline is None or time.monotonic() < deadline:
                    if stop is not None and stop.is_set():
                        return
                    with self.lock:
                        path = next(queue, None)
                    if path is None:
                        return
                    try:
                        connection.request("GET", path)
                        response = connection.getresponse()
                        response.read()
                        status = response.status
                        if response.will_close:
                            connection.close()
                    except (OSError, http.client.HTTPException):
                        connection.close()
                        status = None
                    with self.lock:
                        if status is None:
                            self.errors += 1
                        else:
                            key = f"{status // 100}xx"
                            self.statuses[key] = self.statuses.get(key, 0) + 1
            finally:
                connection.close()

        workers = [threading.Thread(target=work, daemon=True) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return time.monotonic() - started


# --- Report -------------------------------------------------------------------------------


def machine_info():
    model = "unknown"
    with contextlib.suppress(OSError):
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = found.group(1).strip() if found else model
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    except OSError:
        wrk = ""
    try:
        nginx_version = subprocess.run(
            ["nginx", "-v"], capture_output=True, text=True
        ).stderr.strip()
    except OSError:
        nginx_version = ""
    memory = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),  # what `nproc` prints
        "cpu": model,
        "memory_gb": round(int(memory.group(1)) / 2**20, 1) if memory else None,
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": wrk.split(" [")[0].strip() or "not found",
        "nginx": nginx_version.split("/")[-1] or "not found",
    }


def print_machine(machine):
    for key, value in machine.items():
        print(f"  {key}: {value}")


def fmt(value, spec):
    return "—" if value is None else format(value, spec)


def print_table(header, rows, left=1):
    """A Markdown-shaped table: the first `left` columns left-aligned, the others right."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        out = [
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(out) + " |"

    print(line(header))
    rule = ["-" * (w + 2) if i < left else "-" * (w + 1) + ":" for i, w in enumerate(widths)]
    print("|" + "|".join(rule) + "|")
    for row in rows:
        print(line(row))


def short(path, width=44):
    """The path cut to `width` characters: article slugs make tables too wide."""
    return path if len(path) <= width else path[: width - 1] + "…"


def write_json(path, report):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"Results written to {path}")


def main_guard(main):
    """Run main() as a script: exit status, no traceback for Ctrl-C, servers stopped."""
    install_sigterm_handler()
    try:
        sys.exit(main())
    except (KeyboardInterrupt, Terminated) as stop:
        # main's `finally` blocks have already stopped the servers.
        print("\nInterrupted.", file=sys.stderr)
        sys.exit(130 if isinstance(stop, KeyboardInterrupt) else 143)
    except (RuntimeError, subprocess.SubprocessError) as error:
        sys.exit(f"{Path(sys.argv[0]).name}: {error}")
    finally:
        stop_running_tools()
