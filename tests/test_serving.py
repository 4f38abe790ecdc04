"""The site as `make serve` runs it: the real gunicorn with the repository's gunicorn.conf.py
on a free port of 127.0.0.1, spoken to with raw bytes over sockets.

Malformed requests get a 400 whoever notices (gunicorn's parser, or the body read inside
Flask), never a 500. Clients that send half a request and wait do not stall the site
(bench/slow_clients.py measures it), and the threads that wait for them share a few
database connections.
"""

import contextlib
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import databases
import models

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "bench"))

import common  # noqa: E402  (bench/common.py: starting and stopping gunicorn)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn serving an empty site (its own SQLite file, whatever the test database)."""
    folder = tmp_path_factory.mktemp("serving")
    path = folder / "site.db"
    common.flask(["init-db"], path, timeout=60, capture=True)
    with common.gunicorn(path, folder / "gunicorn.log") as running:
        yield running


def exchange(server, raw, close_write=False, timeout=10):
    """Send raw bytes, read until the server closes: (the response's bytes, what gunicorn
    logged meanwhile)."""
    logged = len(server.log_text())
    with socket.create_connection((common.HOST, server.port), timeout=timeout) as sock:
        sock.sendall(raw)
        if close_write:
            sock.shutdown(socket.SHUT_WR)  # the client has nothing more to send
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received, server.log_text()[logged:]


def status(response):
    return int(response.split(b" ", 2)[1])


FORM_POST = (
    b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n"
)
CHUNKED = FORM_POST + b"Transfer-Encoding: chunked\r\n\r\n"

# Bodies the app reads (the login form's CSRF check reads it) whose framing gunicorn
# rejects only then: these were answered 500.
MALFORMED_BODIES = {
    "chunk size not hex": CHUNKED + b"zz\r\n",
    "chunk longer than its size": CHUNKED + b"5\r\nabcdefgh\r\n0\r\n\r\n",
    "bad chunk extension": CHUNKED + b"5;=x\r\nabcde\r\n0\r\n\r\n",
    "last chunk without its CRLF": CHUNKED + b"3\r\nabc\r\n0\r\n",
}

# Framing gunicorn rejects before the app runs, or a body cut short by the client.
MALFORMED_FRAMING = {
    "Content-Length not a number": FORM_POST + b"Content-Length: abc\r\n\r\n",
    "negative Content-Length": FORM_POST + b"Content-Length: -5\r\n\r\n",
    "two Content-Lengths": FORM_POST + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "Content-Length and chunked": FORM_POST
    + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "unknown transfer coding": FORM_POST + b"Transfer-Encoding: gzip\r\n\r\nabc",
    "body shorter than its Content-Length": FORM_POST + b"Content-Length: 100\r\n\r\nemail=a",
    "chunked body cut short": CHUNKED + b"10\r\nabc",
}


@pytest.mark.parametrize("raw", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_a_malformed_chunked_body_gets_400(server, raw):
    response, logged = exchange(server, raw, close_write=True)

    assert status(response) == 400
    assert b"The request&#39;s body is malformed" in response
    assert "Traceback" not in logged


@pytest.mark.parametrize("raw", MALFORMED_FRAMING.values(), ids=MALFORMED_FRAMING.keys())
def test_malformed_framing_gets_400(server, raw):
    response, logged = exchange(server, raw, close_write=True)

    assert status(response) == 400
    assert "Traceback" not in logged


def test_a_well_formed_chunked_form_is_read(server):
    # The form arrives whole: what stops it is the missing CSRF token, as for any form.
    body = b"email=a%40example.org&password=x"
    raw = CHUNKED + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)

    response, _ = exchange(server, raw)

    assert status(response) == 400
    assert b"The form had expired" in response


# --- Slow clients ----------------------------------------------------------------------------


def test_half_requests_left_open_do_not_stall_the_site(server):
    # Each sends a request line and a header, never the blank line that ends the request.
    with contextlib.ExitStack() as stack:
        for _ in range(20):
            sock = stack.enter_context(socket.create_connection((common.HOST, server.port)))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        time.sleep(0.5)  # the workers have taken them up

        for _ in range(4):  # on new connections, whichever worker takes them
            # Generous: answered in milliseconds; with sync workers, not before 30 s.
            with urllib.request.urlopen(server.base_url + "/healthz", timeout=10) as response:
                assert response.status == 200


def test_threads_beyond_the_pool_wait_for_a_database_connection(app):
    """Many threads, few connections: the rest wait their turn rather than fail or open more."""
    database = models.database.obj
    lock = threading.Lock()
    busy, most, errors = [0], [0], []

    def request():
        try:
            database.connect(reuse_if_open=True)
            with lock:
                busy[0] += 1
                most[0] = max(most[0], busy[0])
            time.sleep(0.02)  # a view's work
            with lock:
                busy[0] -= 1
        except Exception as error:  # any error is the finding
            errors.append(repr(error))
        finally:
            database.close()

    threads = [threading.Thread(target=request) for _ in range(3 * databases.POOL_SIZE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert most[0] == databases.POOL_SIZE
