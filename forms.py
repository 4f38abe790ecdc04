"""The base of every form: fields come from the posted form only."""

from flask import request
from flask_wtf import FlaskForm

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def strip(value):
    return value.strip() if isinstance(value, str) else value


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
