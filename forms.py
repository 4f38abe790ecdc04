"""Reading what requests send: the base of every form, row ids and page numbers.

Numbers from a request are bounded here, once: an id beyond what an INTEGER column
holds would make the database driver fail (SQLite: "int too large to convert"), so it
is no id at all, like any other id that names no row.
"""

import re

from flask import abort, request
from flask_wtf import FlaskForm

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
MAX_ID = 2**31 - 1  # the largest id every database's INTEGER column holds (app.IdConverter)


def strip(value):
    return value.strip() if isinstance(value, str) else value


def row_id(value):
    """`value` (a request's text, or an int) as a row id, or None when it cannot be one."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}", value.strip()):
        value = int(value)
    if type(value) is int and 1 <= value <= MAX_ID:  # noqa: E721 (True is no id)
        return value
    return None


def page_number():
    """The ?page= number; anything but a plain positive integer is a 404."""
    raw = request.args.get("page", "1")
    if not re.fullmatch(r"[0-9]{1,6}", raw) or int(raw) < 1:
        abort(404)
    return int(raw)


class Form(FlaskForm):
    """A FlaskForm that reads `request.form` alone.

    Flask-WTF would also feed it uploaded files and JSON bodies, whose values are
    not strings: a file where a text field belongs must be a validation error, not
    a crash.
    """

    def __init__(self, *args, **kwargs):
        if not args and "formdata" not in kwargs:
            kwargs["formdata"] = request.form if self.is_submitted() else None
        super().__init__(*args, **kwargs)
