"""The framework's own ceiling: Flask under the same gunicorn, one route, a fixed 20 KB page.

    gunicorn minimal_app:app        (bench/load.py runs it with bench/ on PYTHONPATH)

No database, no templates, no session: what any page of the site costs at the very least.
"""

from flask import Flask

PARAGRAPH = "<p>" + "Minimal Flask route: a fixed page of twenty kilobytes. " * 8 + "</p>\n"
BODY = (PARAGRAPH * (20 * 1024 // len(PARAGRAPH) + 1))[: 20 * 1024]

app = Flask(__name__)


@app.get("/")
def index():
    return BODY
