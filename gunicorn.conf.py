"""gunicorn settings for Newsdesk (read by gunicorn from the working directory).

    SECRET_KEY=… gunicorn "app:create_app()"      (or: make serve)

BIND, WORKERS and THREADS come from the environment; `kill -HUP <master pid>` reloads
the code gracefully: new workers start, old ones finish their requests.
"""

import ctypes
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WORKERS", 2 * multiprocessing.cpu_count()))
# Threads, so that a client that sends half a request, or reads its answer slowly, holds
# one thread and not a whole worker: with sync workers two such clients stalled the site
# for 30 s. gunicorn never gives up on a thread waiting for a request's headers, so a
# worker still stalls once THREADS of them are connected to it: on the open internet,
# nginx goes in front (deploy/nginx.conf) and passes on whole requests only. Threads
# waiting on clients cost little: databases.POOL_SIZE caps the database connections.
# Measured in bench/slow_clients.py. THREADS=1 runs sync workers instead: a little less
# CPU per request, and as safe, behind nginx only (README.md, "Slow clients").
threads = int(os.environ.get("THREADS", 64))
worker_class = "gthread" if threads > 1 else "sync"
# An idle kept-alive connection waits in the worker's poller (no thread) this long;
# nginx's upstream keepalive_timeout is shorter, so nginx never reuses one gunicorn closed.
keepalive = 5
accesslog = "-"
errorlog = "-"
# A worker whose main loop is stuck this long is restarted.
timeout = 30
graceful_timeout = 20
# gunicorn 27's control socket has one default path per user, so a second site on the
# host would take over the first one's; signals (HUP, TERM) are all Newsdesk needs.
control_socket_disable = True


def on_starting(server):
    secret = os.environ.get("SECRET_KEY", "")
    if len(secret) < 16 or secret == "dev":
        raise SystemExit(
            "Newsdesk: set SECRET_KEY to a long random string before serving, e.g.\n"
            "  export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )


def post_fork(server, worker):
    # The page cache keeps pages of about 20 KB. Taken from glibc's heap, the holes that
    # evicted ones leave fragment it and a worker grows by tens of MB; above this size
    # glibc maps each block on its own and gives it back to the system when freed.
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # glibc's, when there is one
    if mallopt:
        M_MMAP_THRESHOLD = -3
        mallopt(M_MMAP_THRESHOLD, 16 * 1024)
