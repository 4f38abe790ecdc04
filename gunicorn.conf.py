"""gunicorn settings for Newsdesk (read by gunicorn from the working directory).

    SECRET_KEY=… gunicorn "app:create_app()"      (or: make serve)

BIND and WORKERS come from the environment; `kill -HUP <master pid>` reloads the
code gracefully: new workers start, old ones finish their requests.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WORKERS", 2 * multiprocessing.cpu_count()))
accesslog = "-"
errorlog = "-"
# Slow clients are nginx's job; a worker stuck this long is restarted.
timeout = 30
graceful_timeout = 20


def on_starting(server):
    secret = os.environ.get("SECRET_KEY", "")
    if len(secret) < 16 or secret == "dev":
        raise SystemExit(
            "Newsdesk: set SECRET_KEY to a long random string before serving, e.g.\n"
            "  export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
