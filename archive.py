"""Site export and import: one portable archive with all content, users and media.

An archive is a zip file holding

* `content.json`: one JSON object, written in this order::

      {"format": "newsdesk-export", "version": 2, "exported_at": "2026-01-02T03:04:05Z",
       "site_settings": {...},
       "users": [{...}, ...], "sections": [...], "rubrics": [...], "media": [...],
       "articles": [...], "revisions": [...], "slug_redirects": [...],
       "legacy_posts": [...], "legacy_terms": [...]}

  one row per line, rows in id order, keys as in TABLES below (database column
  names: foreign keys are `section_id`, `author_id`, …). Datetimes are ISO 8601
  strings in UTC ("Z"), booleans are JSON booleans, `media.variants` is a list of
  [width, bytes]. Users carry no login token, and a `password_hash` only when the
  export was asked for them (`--with-password-hashes`). Version 2 added each
  article's (and revision's) `lead_image_alt`, `legacy_posts.path` and `legacy_terms`
  (old WordPress addresses); version 3 each article's `revised_at` (shown to readers as
  "Updated"), and no published article without `published_at`. Older archives are read
  too, their articles taking the description their lead image had and a publication
  time from their revisions (ADDED, TABLES_ADDED, FILL_IN).
* `media/<file>`: every stored image file, named as in MEDIA_ROOT:
  `<sha256>.<ext>` and its narrower copies `<sha256>-<width>.<ext>`.

Both directions stream: rows are read and written in batches, and content.json is
parsed one row at a time (`_JsonReader`), so a site of 100,000 articles moves in
bounded memory.

An import goes into an empty site only, keeping every id, slug and date, so every
old URL still works. An archive is untrusted input: it is checked whole before
anything is written (format, version, keys, types, references, file names, file
contents), every body passes through sanitize.clean_html, and the whole load is one
transaction: a failure leaves the database as it was and removes the media files
it wrote.
"""

import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
import time
import zipfile
import zlib

import click
from flask import current_app
from flask.cli import with_appcontext
from peewee import DatabaseError, IntegrityError
from PIL import Image

import dates
from media import ENCODER, SERVED_NAME
from migrations import carry_lead_image_alt, date_published_without_a_time, prepare_database
from models import (
    Article,
    ArticleIndex,
    LegacyPost,
    LegacyTerm,
    Media,
    Revision,
    Rubric,
    Section,
    SiteSettings,
    SlugRedirect,
    User,
    database,
    utcnow,
    write_transaction,
)
from sanitize import clean_html

FORMAT = "newsdesk-export"
VERSION = 3
READABLE = (1, 2, 3)  # format versions an import accepts
CONTENT = "content.json"
MEDIA_PREFIX = "media/"
BATCH = 500  # rows per SELECT on export and per INSERT on import

# Field kinds: "id" (positive integer), "int", "str", "bool", "datetime", "variants";
# a trailing "?" allows null.
SETTINGS_FIELDS = {
    "name": "str",
    "tagline": "str",
    "founded_line": "str",
    "copyright_line": "str",
    "timezone": "str",
    "registration_open": "bool",
}

# content.json key -> (model, {column: kind}). In dependency order: the export writes
# the tables in this order, so a reader may load them in file order.
TABLES = {
    "users": (User, {
        "id": "id", "email": "str?", "role": "str", "active": "bool", "display_name": "str",
        "slug": "str", "bio": "str", "created_at": "datetime",
    }),
    "sections": (Section, {"id": "id", "name": "str", "slug": "str", "position": "int"}),
    "rubrics": (Rubric, {"id": "id", "name": "str", "slug": "str", "position": "int"}),
    "media": (Media, {
        "id": "id", "hash": "str", "ext": "str", "width": "id", "height": "id", "size": "int",
        "variants": "variants", "alt": "str", "uploaded_by_id": "id?", "created_at": "datetime",
    }),
    "articles": (Article, {
        "id": "id", "title": "str", "slug": "str", "lead": "str", "body": "str",
        "section_id": "id", "rubric_id": "id", "author_id": "id", "hot": "bool",
        "status": "str", "published_at": "datetime?", "created_at": "datetime",
        "updated_at": "datetime", "version": "id", "deleted_at": "datetime?",
        "lead_image_id": "id?", "lead_image_alt": "str", "revised_at": "datetime?",
    }),
    "revisions": (Revision, {
        "id": "id", "article_id": "id", "version": "id", "editor_id": "id?", "action": "str",
        "created_at": "datetime", "title": "str", "lead": "str", "body": "str",
        "section_id": "int", "rubric_id": "int", "author_id": "int", "hot": "bool",
        "status": "str", "published_at": "datetime?", "deleted_at": "datetime?",
        "lead_image_id": "int?", "lead_image_alt": "str", "changed": "str",
    }),
    "slug_redirects": (SlugRedirect, {
        "id": "id", "kind": "str", "old_slug": "str", "target_id": "int",
    }),
    # Posts imported from WordPress: their old permalinks keep redirecting.
    "legacy_posts": (LegacyPost, {
        "id": "id", "wp_id": "int", "post_type": "str", "slug": "str", "year": "int?",
        "month": "int?", "day": "int?", "article_id": "id", "path": "str?",
    }),
    # Old category and tag archive addresses of WordPress: to a section or rubric.
    "legacy_terms": (LegacyTerm, {"id": "id", "path": "str", "kind": "str", "target_id": "int"}),
}  # fmt: skip

# Columns a format version added: (table, column) -> version. An older archive's rows
# lack them; they are loaded with the column's default, then FILL_IN sets them as the
# schema migration set them in an older database.
ADDED = {
    ("articles", "lead_image_alt"): 2,
    ("revisions", "lead_image_alt"): 2,
    ("legacy_posts", "path"): 2,
    ("revisions", "changed"): 2,
    ("articles", "revised_at"): 3,
}
TABLES_ADDED = {"legacy_terms": 2}  # table -> the version that added it (older: none)
# version -> step for archives older than it
FILL_IN = {2: carry_lead_image_alt, 3: date_published_without_a_time}

# Columns deliberately left out of an archive (tests check every other column is in it).
NOT_EXPORTED = {
    User: {"password_hash", "login_token"},  # the hash only with --with-password-hashes
    # An imported site is a real one, whatever it was exported from: no demo logins on it.
    SiteSettings: {"id", "content_version", "content_changed_at", "demo"},
}
PASSWORD_HASH = "password_hash"  # the one optional key of a user row

# (table, column) -> table whose ids it must name (null allowed where the kind says so).
REFERENCES = {
    ("media", "uploaded_by_id"): "users",
    ("articles", "section_id"): "sections",
    ("articles", "rubric_id"): "rubrics",
    ("articles", "author_id"): "users",
    ("articles", "lead_image_id"): "media",
    ("revisions", "article_id"): "articles",
    ("revisions", "editor_id"): "users",
    ("legacy_posts", "article_id"): "articles",
}
# (table, column or columns) whose values must not repeat.
UNIQUE = {
    "users": ("email", "slug"),
    "sections": ("slug",),
    "rubrics": ("slug",),
    "media": ("hash",),
    "revisions": (("article_id", "version"),),
    "slug_redirects": (("kind", "old_slug"),),
    "legacy_posts": ("wp_id",),
    "legacy_terms": ("path",),
}
STATUSES = (Article.DRAFT, Article.SUBMITTED, Article.PUBLISHED, Article.UNPUBLISHED)
CHOICES = {
    ("users", "role"): User.ROLES,
    ("media", "ext"): tuple(Media.CONTENT_TYPES),
    ("articles", "status"): STATUSES,
    ("revisions", "status"): STATUSES,
    ("slug_redirects", "kind"): ("section", "rubric"),
    ("legacy_terms", "kind"): ("section", "rubric"),
}
SANITIZED = {("articles", "body"), ("revisions", "body")}
HASH = re.compile(r"[0-9a-f]{64}")
MAX_INT = 2**63 - 1
MEDIA_SIZE_FACTOR = 4  # a stored file may exceed the upload it came from (a re-encoding)
MAX_WIDTH = 99_999  # media.SERVED_NAME allows at most five digits in a copy's width
# werkzeug's hashes. Their parameters are trusted when a password is checked (they set
# scrypt's memory and pbkdf2's rounds), so an archive's are held to sane bounds.
PASSWORD_HASH_FORMAT = re.compile(
    r"(?:scrypt:(\d{1,8}):(\d{1,3}):(\d{1,3})|pbkdf2:(?:sha256|sha512):(\d{1,8}))"
    r"\$[^$]{1,100}\$[0-9a-f]{32,256}"
)


class ArchiveError(Exception):
    """An archive that cannot be imported (or a site that cannot take one): for people."""


# --- Export -----------------------------------------------------------------------------------


def iso(value):
    """A naive UTC datetime as ISO 8601 with "Z"; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):  # a value peewee could not parse: normalise it if possible
        value = parse_datetime(value)
    return value.isoformat() + "Z"


def export_value(kind, value):
    if kind.startswith("datetime"):
        return iso(value)
    if kind == "variants":
        return sorted(json.loads(value or "[]"))
    if kind.startswith("bool") and value is not None:
        return bool(value)
    return value


def dump(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def row_count():
    """Rows an export writes (for a progress bar)."""
    return sum(model.select().count() for model, _ in TABLES.values())


def _rows(model, columns):
    """Every row of `model` as a tuple of `columns`, by id, fetched BATCH at a time."""
    fields = [model._meta.columns[column] for column in columns]
    last_id = 0
    while True:
        rows = list(
            model.select(*fields).where(model.id > last_id).order_by(model.id).limit(BATCH).tuples()
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1][0]


def _member(name):
    """A zip member written now (zipfile's default date is 1980), deflated."""
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _media_files(root, row):
    """(name, exists) of each file of a media row."""
    names = [f"{row['hash']}.{row['ext']}"]
    names += [f"{row['hash']}-{width}.{row['ext']}" for width, _ in row["variants"]]
    return [(name, os.path.isfile(os.path.join(root, name))) for name in names]


def export_site(path, with_password_hashes=False, progress=None):
    """Write the archive to `path` (through `path`.partial, renamed when complete).

    Reads one consistent snapshot of the database (a single read transaction), so
    it may run while the site serves and saves. Returns a summary dict.
    """
    started = time.monotonic()
    partial = f"{path}.partial"
    root = current_app.config["MEDIA_ROOT"]
    counts, files, missing = {}, [], []
    done = 0
    try:
        with (
            zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive,
            database.snapshot(),  # one state of every table, while the site goes on saving
        ):
            with (
                archive.open(_member(CONTENT), "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as out,
            ):
                settings = SiteSettings.get_or_none(SiteSettings.id == 1) or SiteSettings()
                header = {"format": FORMAT, "version": VERSION, "exported_at": iso(utcnow())}
                out.write(dump(header)[:-1] + ",\n")
                values = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
                out.write('"site_settings":' + dump(values))
                for table, (model, kinds) in TABLES.items():
                    columns = list(kinds)
                    if model is User and with_password_hashes:
                        columns.append(PASSWORD_HASH)
                    out.write(f',\n"{table}":[')
                    count = 0
                    for values in _rows(model, columns):
                        row = {
                            column: export_value(kinds.get(column, "str"), value)
                            for column, value in zip(columns, values, strict=True)
                        }
                        out.write(("\n" if count == 0 else ",\n") + dump(row))
                        if model is Media:
                            for name, exists in _media_files(root, row):
                                (files if exists else missing).append(name)
                        count += 1
                        done += 1
                        if progress and done % 1000 == 0:
                            progress(done)
                    out.write("\n]" if count else "]")
                    counts[table] = count
                out.write("\n}\n")
            media_bytes = 0
            for name in files:
                source = os.path.join(root, name)
                archive.write(source, MEDIA_PREFIX + name, compress_type=zipfile.ZIP_STORED)
                media_bytes += os.path.getsize(source)
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    if progress:
        progress(done)
    return {
        "counts": counts,
        "media_files": len(files),
        "media_bytes": media_bytes,
        "missing_files": missing,
        "password_hashes": with_password_hashes,
        "size": os.path.getsize(path),
        "seconds": time.monotonic() - started,
    }


# --- Reading content.json, one value at a time ------------------------------------------------


class _JsonReader:
    """A pull parser for content.json's shape: an object whose values may be long arrays.

    Each array element (a row) is decoded on its own with the standard decoder, from
    a buffer refilled as needed, so memory holds one row, not the file. A value is
    accepted only when data follows it (or the file has ended), so a row is never
    decoded from half of it.
    """

    CHUNK = 1 << 20
    MAX_VALUE = 64 * 1024 * 1024  # characters of one row: a body is at most 16 MB (a request)
    SPACE = re.compile(r"[ \t\n\r]*")

    def __init__(self, binary):
        self.text = io.TextIOWrapper(binary, encoding="utf-8-sig")  # a BOM is tolerated
        self.decoder = json.JSONDecoder()
        self.buffer, self.pos, self.dropped, self.eof = "", 0, 0, False

    def _more(self, wanted=CHUNK):
        if self.eof:
            return False
        chunk = self.text.read(max(wanted, self.CHUNK))
        if not chunk:
            self.eof = True
            return False
        self.dropped += self.pos
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def where(self):
        return f"at character {self.dropped + self.pos:,}"

    def peek(self):
        """The next character that is not white space ("" at the end), not consumed."""
        while True:
            self.pos = self.SPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._more():
                return ""

    def expect(self, allowed, what):
        char = self.peek()
        if not char or char not in allowed:
            found = f"'{char}' {self.where()}" if char else "the end (is the file cut short?)"
            raise ArchiveError(f"{CONTENT} is not valid JSON: expected {what}, found {found}.")
        self.pos += 1
        return char

    def value(self):
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
                if end < len(self.buffer) or self.eof:
                    self.pos = end
                    return value
            except json.JSONDecodeError as error:
                if self.eof:
                    raise ArchiveError(
                        f"{CONTENT} is not valid JSON: {error.msg} {self.where()}"
                    ) from None
                if len(self.buffer) - self.pos > self.MAX_VALUE:
                    raise ArchiveError(
                        f"{CONTENT} is not valid JSON {self.where()} (or holds a value of "
                        f"more than {self.MAX_VALUE:,} characters)"
                    ) from None
            self._more(len(self.buffer) - self.pos)  # double the buffer: linear in the row

    def read(self, on_value, on_row):
        """Walk the top-level object: on_value(key, value), or on_row(key, index, row)
        for each element of an array under a key of TABLES."""
        if self.peek() == "":
            raise ArchiveError(f"{CONTENT} is empty.")
        if self.peek() != "{":
            raise ArchiveError(f"{CONTENT} is not a JSON object: this is not a Newsdesk archive.")
        self.pos += 1
        if self.peek() == "}":
            self.pos += 1
        else:
            while True:
                if self.peek() != '"':
                    self.expect('"', "a key")
                key = self.value()
                self.expect(":", "':'")
                if key in TABLES and self.peek() == "[":
                    self.pos += 1
                    index = 0
                    if self.peek() == "]":
                        self.pos += 1
                    else:
                        while True:
                            on_row(key, index, self.value())
                            index += 1
                            if self.expect(",]", "',' or ']'") == "]":
                                break
                    on_value(key, _TABLE_SEEN)
                else:
                    on_value(key, self.value())
                if self.expect(",}", "',' or '}'") == "}":
                    break
        if self.peek() != "":
            raise ArchiveError(f"{CONTENT} has data after its JSON object {self.where()}.")


_TABLE_SEEN = object()  # on_value's value after all rows of a table were read


# --- Checking an archive ----------------------------------------------------------------------


def parse_datetime(text):
    """A naive UTC datetime from ISO 8601 text (with "Z", an offset, or naive UTC), for
    export: a value is written as stored. An import checks with dates.parse_iso."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _convert(kind, value):
    """The Python value of a JSON value of `kind`, or raise ValueError(what is expected)."""
    if value is None:
        if kind.endswith("?"):
            return None
        raise ValueError("must not be null")
    kind = kind.rstrip("?")
    if kind in ("id", "int"):
        if type(value) is not int:  # noqa: E721 (bool is an int subclass: not accepted)
            raise ValueError("must be an integer")
        if not (1 if kind == "id" else -MAX_INT) <= value <= MAX_INT:
            raise ValueError("must be a positive integer" if kind == "id" else "is out of range")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == "datetime":
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time string")
        return dates.parse_iso(value)
    if kind == "variants":
        ok = isinstance(value, list) and all(
            isinstance(pair, list)
            and len(pair) == 2
            and all(type(n) is int for n in pair)  # noqa: E721
            and 1 <= pair[0] <= MAX_WIDTH
            and pair[1] >= 0
            for pair in value
        )
        if not ok:
            raise ValueError("must be a list of [width, bytes] pairs of integers")
        return json.dumps(sorted(value))  # as media.store writes it
    raise AssertionError(kind)


def _short(value, limit=60):
    """repr() of a value from an archive, cut to a length a message can carry."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(table, index, row):
    row_id = row.get("id") if isinstance(row, dict) else None
    return f"{table}[{index}]" + (f" (id {row_id})" if type(row_id) is int else "")  # noqa: E721


def columns_in(table, version):
    """The columns of `table` that rows of an archive of format `version` have."""
    return [column for column in TABLES[table][1] if ADDED.get((table, column), 1) <= version]


def convert_row(table, index, row, sanitize=True, version=VERSION):
    """{column: Python value} of one row of `table`, checked; ArchiveError if it is wrong.

    Bodies come out through sanitize.clean_html (unless `sanitize` is false: checking only).
    `version` is the archive's format version; None while it is not known yet (a file
    that names it after its rows), when columns added since version 1 may be present.
    """
    label = _label(table, index, row)
    if not isinstance(row, dict):
        raise ArchiveError(f"{label}: each row must be a JSON object.")
    model, kinds = TABLES[table]
    allowed = set(columns_in(table, version or VERSION))
    allowed |= {PASSWORD_HASH} if table == "users" else set()
    unknown = sorted(set(row) - allowed)
    if unknown:
        raise ArchiveError(f"{label}: unknown key {_short(unknown[0])}.")
    missing = [column for column in columns_in(table, version or 1) if column not in row]
    if missing:
        raise ArchiveError(f"{label}: missing key {missing[0]!r}.")
    values = {}
    for column, kind in kinds.items():
        if column not in row:  # added by a later version (ADDED): FILL_IN sets it
            values[column] = model._meta.columns[column].default
            continue
        try:
            values[column] = _convert(kind, row.get(column))
        except ValueError as error:
            raise ArchiveError(f"{label}: {column} {error}.") from None
        choices = CHOICES.get((table, column))
        if choices and values[column] not in choices:
            raise ArchiveError(
                f"{label}: {column} is {_short(values[column])}, not one of {', '.join(choices)}."
            )
        if sanitize and (table, column) in SANITIZED:
            values[column] = clean_html(values[column])
    if table == "users":
        try:
            values[PASSWORD_HASH] = _convert("str?", row.get(PASSWORD_HASH))
        except ValueError as error:
            raise ArchiveError(f"{label}: {PASSWORD_HASH} {error}.") from None
        if values[PASSWORD_HASH] is not None and not sane_password_hash(values[PASSWORD_HASH]):
            raise ArchiveError(f"{label}: password_hash is not a password hash Newsdesk uses.")
        if values["email"] is not None:
            values["email"] = values["email"].strip().lower() or None
    if table in ("users", "sections", "rubrics") and not values["slug"].strip():
        raise ArchiveError(f"{label}: slug is empty.")
    if table == "media" and not HASH.fullmatch(values["hash"]):
        raise ArchiveError(f"{label}: hash is not a sha256 in hex.")
    # Older archives may hold a published article without a time: FILL_IN dates it.
    if table == "articles" and (version or 1) >= 3:
        problem = Article.state_problem(values["status"], values["published_at"])
        if problem:
            raise ArchiveError(f"{label}: {problem}.")
    return values


def sane_password_hash(value):
    match = PASSWORD_HASH_FORMAT.fullmatch(value)
    if not match:
        return False
    n, r, p, rounds = (int(group) if group else None for group in match.groups())
    if rounds is not None:
        return 1 <= rounds <= 10_000_000
    return n >= 2 and n & (n - 1) == 0 and r >= 1 and p >= 1 and 128 * n * r * p <= 2**26


def _expected_files(values):
    """Names of a media row's files, the full-width one first."""
    digest, ext = values["hash"], values["ext"]
    widths = [width for width, _ in json.loads(values["variants"])]
    return [f"{digest}.{ext}", *(f"{digest}-{width}.{ext}" for width in widths)]


class _Checker:
    """The first pass over content.json: everything that can be wrong, before any write."""

    def __init__(self):
        self.format = self.version = None
        self.header_ok = False
        self.first_error = None
        self.seen = set()
        self.counts = dict.fromkeys(TABLES, 0)
        self.ids = {table: set() for table in TABLES}
        self.unique = {(t, c): set() for t, columns in UNIQUE.items() for c in columns}
        self.references = {key: {} for key in REFERENCES}  # id -> first row naming it
        self.files = {}  # media file name -> ext
        self.full_files = set()  # full-width names: their content must hash to the name
        self.no_password = []

    def fail(self, message):
        """Raise now once format and version are known good; else report it after them."""
        if self.header_ok:
            raise ArchiveError(message)
        self.first_error = self.first_error or message

    def on_value(self, key, value):
        if key in self.seen:
            raise ArchiveError(f"{CONTENT} has the key {_short(key)} twice.")
        self.seen.add(key)
        if key == "format":
            if value != FORMAT:
                raise ArchiveError(
                    f"Not a Newsdesk export: {CONTENT} says format {_short(value)}, not {FORMAT!r}."
                )
            self.format = value
        elif key == "version":
            if type(value) is not int or value not in READABLE:  # noqa: E721 (true == 1)
                raise ArchiveError(
                    f"This archive is format version {_short(value)}; this Newsdesk reads format "
                    f"versions up to {VERSION}. Import it with the Newsdesk release that wrote it."
                )
            self.version = value
        elif key == "exported_at":
            try:
                _convert("datetime", value)
            except ValueError as error:
                self.fail(f"{CONTENT}: exported_at {error}.")
        elif key == "site_settings":
            self.settings = self.check_settings(value)
        elif key in TABLES:
            if value is not _TABLE_SEEN:
                self.fail(f"{CONTENT}: {key} must be a list of rows.")
        else:
            self.fail(f"{CONTENT} has an unknown key {_short(key)}.")
        self.header_ok = self.format is not None and self.version is not None
        if self.header_ok and self.first_error:
            raise ArchiveError(self.first_error)

    def check_settings(self, value):
        if not isinstance(value, dict):
            return self.fail(f"{CONTENT}: site_settings must be a JSON object.")
        unknown = sorted(set(value) - set(SETTINGS_FIELDS))
        missing = [name for name in SETTINGS_FIELDS if name not in value]
        if unknown or missing:
            what = f"unknown key {unknown[0]!r}" if unknown else f"missing key {missing[0]!r}"
            return self.fail(f"{CONTENT}: site_settings: {what}.")
        settings = {}
        for name, kind in SETTINGS_FIELDS.items():
            try:
                settings[name] = _convert(kind, value[name])
            except ValueError as error:
                return self.fail(f"{CONTENT}: site_settings: {name} {error}.")
        if not dates.is_timezone(settings["timezone"]):
            zone = settings["timezone"]
            return self.fail(f"{CONTENT}: site_settings: unknown timezone {zone!r}.")
        return settings

    def on_row(self, table, index, row):
        if self.first_error:
            return  # reported once format and version are known
        try:
            values = convert_row(table, index, row, sanitize=False, version=self.version)
        except ArchiveError as error:
            return self.fail(str(error))
        label = _label(table, index, row)
        self.counts[table] += 1
        if values["id"] in self.ids[table]:
            return self.fail(f"{label}: a second row with this id.")
        self.ids[table].add(values["id"])
        for columns in UNIQUE.get(table, ()):
            combined = isinstance(columns, tuple)
            key = tuple(values[c] for c in columns) if combined else values[columns]
            if key is None:
                continue
            seen = self.unique[(table, columns)]
            if key in seen:
                name = "+".join(columns) if combined else columns
                return self.fail(f"{label}: another row has the same {name} {_short(key)}.")
            seen.add(key)
        for source, column in REFERENCES:
            if source == table and values[column] is not None:
                self.references[(source, column)].setdefault(values[column], label)
        if table == "media":
            names = _expected_files(values)
            self.full_files.add(names[0])
            for name in names:
                self.files[name] = values["ext"]
        if table == "users" and values["email"] and not values[PASSWORD_HASH]:
            self.no_password.append(values["email"])

    def finish(self):
        if self.format is None:
            raise ArchiveError(f"Not a Newsdesk export: {CONTENT} has no format.")
        if self.version is None:
            raise ArchiveError(f"{CONTENT} has no format version.")
        if self.first_error:
            raise ArchiveError(self.first_error)
        tables = [table for table in TABLES if TABLES_ADDED.get(table, 1) <= self.version]
        required = ["exported_at", "site_settings", *tables]
        missing = [key for key in required if key not in self.seen]
        if missing:
            raise ArchiveError(f"{CONTENT} has no {missing[0]!r}: the archive is incomplete.")
        for (source, column), target in REFERENCES.items():
            for value, label in self.references[(source, column)].items():
                if value not in self.ids[target]:
                    raise ArchiveError(
                        f"{label}: {column} is {value}, but the archive has no {target} "
                        f"row with that id."
                    )
        del self.unique, self.references  # not needed for the load


# --- Import -----------------------------------------------------------------------------------


def site_contents():
    """What a site has that an import would collide with: [] for an empty site.

    The settings row and the tables may exist (init-db makes both); failed logins do
    not matter.
    """
    found = []
    for name, model in (
        ("articles", Article), ("revisions", Revision), ("sections", Section),
        ("rubrics", Rubric), ("users", User), ("media", Media),
        ("slug redirects", SlugRedirect), ("WordPress posts", LegacyPost),
        ("WordPress archive addresses", LegacyTerm),
    ):  # fmt: skip
        count = model.select().count()
        if count:
            found.append(f"{count:,} {name}")
    return found


def _refuse_unless_empty():
    found = site_contents()
    if found:
        raise ArchiveError(
            "This site is not empty (it has " + ", ".join(found) + "). An archive is imported "
            "into a new site only: point DATABASE_URL at a new database, run "
            "`flask --app app init-db`, then import."
        )


class Importer:
    """`Importer(path).check()` then `.load()`: see the module's docstring."""

    def __init__(self, path):
        self.path = path
        self.written = []  # media files this import wrote: removed if it fails
        self.started = time.monotonic()

    def _open(self):
        try:
            archive = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise ArchiveError(f"No such file: {self.path}") from None
        except IsADirectoryError:
            raise ArchiveError(f"{self.path} is a directory, not an archive.") from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
            raise ArchiveError(
                f"{self.path} is not a Newsdesk archive: not a readable zip file ({error}). "
                "Is it cut short?"
            ) from None
        return archive

    def _read_content(self, archive, on_value, on_row):
        try:
            with archive.open(CONTENT) as raw:
                _JsonReader(raw).read(on_value, on_row)
        except UnicodeDecodeError:
            raise ArchiveError(f"{CONTENT} is not UTF-8 text.") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise ArchiveError(f"{CONTENT} is damaged in the archive: {error}") from None

    def check(self):
        """Check the archive whole; ArchiveError, having written nothing, if it is wrong."""
        _refuse_unless_empty()  # early, to save a long check; checked again when loading
        with self._open() as archive:
            self.members = self._check_members(archive)
            checker = _Checker()
            self._read_content(archive, checker.on_value, checker.on_row)
            checker.finish()
            unexpected = sorted(set(self.members) - set(checker.files))
            if unexpected:
                raise ArchiveError(
                    f"{MEDIA_PREFIX}{unexpected[0]} belongs to no media row of the archive."
                )
            for name in sorted(self.members):
                self._check_file(archive, name, checker.files[name], name in checker.full_files)
        self.checker = checker
        self.missing_files = sorted(set(checker.files) - set(self.members))
        return checker.counts

    def _check_members(self, archive):
        """{media file name: member name}; refuses anything else in the zip."""
        names = [info.filename for info in archive.infolist()]
        if CONTENT not in names:
            raise ArchiveError(f"{self.path} is not a Newsdesk archive: it has no {CONTENT}.")
        members = {}
        for name in names:
            if name in (CONTENT, MEDIA_PREFIX):
                if names.count(name) > 1:
                    raise ArchiveError(f"The archive holds {name} twice.")
                continue
            file = name[len(MEDIA_PREFIX) :] if name.startswith(MEDIA_PREFIX) else None
            if file is None or not SERVED_NAME.fullmatch(file):
                raise ArchiveError(
                    f"The archive holds {name!r}: only {CONTENT} and media files named "
                    f"{MEDIA_PREFIX}<sha256>[-<width>].<ext> may be in it."
                )
            if file in members:
                raise ArchiveError(f"The archive holds {name} twice.")
            members[file] = name
        return members

    def _check_file(self, archive, name, ext, full_width):
        member = self.members[name]
        limit = MEDIA_SIZE_FACTOR * current_app.config["MEDIA_MAX_BYTES"]
        if archive.getinfo(member).file_size > limit:
            raise ArchiveError(
                f"{member} is larger than {limit:,} bytes ({MEDIA_SIZE_FACTOR} × MEDIA_MAX_BYTES): "
                "raise MEDIA_MAX_BYTES if the site it came from allowed larger images."
            )
        try:
            data = archive.read(member)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise ArchiveError(f"{member} is damaged in the archive: {error}") from None
        if full_width and hashlib.sha256(data).hexdigest() != name.split(".")[0]:
            raise ArchiveError(f"{member}: its content does not match its name (sha256).")
        try:
            with Image.open(io.BytesIO(data), formats=[ENCODER[ext]]) as image:
                image.verify()
        except Exception:  # Pillow raises many kinds on hostile input: all mean "not that"
            raise ArchiveError(f"{member} is not a readable {ENCODER[ext]} image.") from None

    def load(self, progress=None):
        """Write everything in one transaction; on any failure undo it all. Returns counts."""
        checker = self.checker
        settings = checker.settings
        loaded = dict.fromkeys(TABLES, 0)
        pending = {"table": None, "rows": []}

        def flush():
            table, rows = pending["table"], pending["rows"]
            if rows:
                model, _ = TABLES[table]
                columns = self._columns(table)
                fields = [model._meta.columns[column] for column in columns]
                model.insert_many(rows, fields=fields).execute()
                loaded[table] += len(rows)
                if progress:
                    progress(len(rows))
            pending["rows"] = []

        def on_row(table, index, row):
            if table != pending["table"]:
                flush()
                pending["table"] = table
            values = convert_row(table, index, row, version=checker.version)
            if table == "users":
                values["login_token"] = User.login_token.default()
            pending["rows"].append(tuple(values[column] for column in self._columns(table)))
            if len(pending["rows"]) >= BATCH:
                flush()

        def on_value(key, value):
            if value is _TABLE_SEEN:
                flush()

        root = current_app.config["MEDIA_ROOT"]
        try:
            with write_transaction():
                _refuse_unless_empty()
                # Rows go in file order; their references were all checked, and the
                # database checks them again at commit.
                database.defer_foreign_keys()
                SiteSettings.update(**settings).where(SiteSettings.id == 1).execute()
                with self._open() as archive:
                    self._read_content(archive, on_value, on_row)
                    flush()
                    for version, fill_in in FILL_IN.items():
                        if checker.version < version:
                            fill_in()
                    database.restart_sequences(model for model, _ in TABLES.values())
                    self._copy_files(archive, root)
                ArticleIndex.rebuild()
                SiteSettings.bump_content_version()
        except BaseException as error:
            for path in self.written:
                if os.path.exists(path):
                    os.remove(path)
            self.written = []
            if isinstance(error, IntegrityError):
                problem = f"The archive's rows conflict ({error})"
            elif isinstance(error, DatabaseError):
                problem = f"The database refused the import ({error})"
            elif isinstance(error, OSError):
                problem = f"A media file could not be written ({error})"
            else:
                raise
            raise ArchiveError(f"{problem}; nothing was imported.") from None
        database.optimize()  # fresh statistics for the query planner
        return loaded

    def summary(self, counts):
        return {
            "counts": counts,
            "media_files": len(self.members),
            "missing_files": self.missing_files,
            "no_password": self.checker.no_password,
            "seconds": time.monotonic() - self.started,
        }

    @staticmethod
    def _columns(table):
        columns = list(TABLES[table][1])
        return [*columns, PASSWORD_HASH, "login_token"] if table == "users" else columns

    def _copy_files(self, archive, root):
        os.makedirs(root, exist_ok=True)
        for name, member in sorted(self.members.items()):
            path = os.path.join(root, name)
            if os.path.exists(path):
                continue  # same name, same picture: a copy left by an earlier site
            fd, temporary = tempfile.mkstemp(dir=root, prefix=".import-")
            try:
                with os.fdopen(fd, "wb") as out, archive.open(member) as source:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
                os.chmod(temporary, 0o644)
                os.replace(temporary, path)
            except BaseException:
                os.remove(temporary)
                raise
            self.written.append(path)


# --- Commands ---------------------------------------------------------------------------------


def _size(count):
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,} bytes" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024


def _counts(counts):
    return ", ".join(f"{count:,} {table.replace('_', ' ')}" for table, count in counts.items())


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--with-password-hashes",
    is_flag=True,
    help="Include password hashes, so accounts keep their passwords (keep the file secret).",
)
@with_appcontext
def export_command(path, with_password_hashes):
    """Write the whole site to the archive PATH (a .zip): content, users, settings, media.

    Without --with-password-hashes, imported accounts must set a new password through
    a reset link. The site may keep running: the archive is one consistent snapshot.
    """
    prepare_database()
    with click.progressbar(length=row_count(), label="Exporting") as bar:
        try:
            summary = export_site(
                path, with_password_hashes, progress=lambda done: bar.update(done - bar.pos)
            )
        except OSError as error:
            raise click.ClickException(f"cannot write {path}: {error}") from None
    hashes = "with" if with_password_hashes else "without"
    click.echo(
        f"Exported to {path}: {_counts(summary['counts'])} (users {hashes} password hashes)."
    )
    click.echo(
        f"{summary['media_files']:,} media files ({_size(summary['media_bytes'])}); "
        f"archive {_size(summary['size'])}, in {summary['seconds']:.1f} s."
    )
    if summary["missing_files"]:
        missing = summary["missing_files"]
        click.echo(
            f"Warning: {len(missing)} media files are missing from MEDIA_ROOT and are not in "
            f"the archive: {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}",
            err=True,
        )


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def import_command(path):
    """Load the archive PATH (written by `export`) into this site, which must be empty.

    Ids, slugs and dates are kept, so every old URL works. The archive is checked
    whole first; the load is one transaction: on any failure nothing is imported.
    """
    prepare_database()
    importer = Importer(path)
    try:
        counts = importer.check()
        with click.progressbar(length=sum(counts.values()), label="Importing") as bar:
            loaded = importer.load(progress=bar.update)
    except ArchiveError as error:
        raise click.ClickException(str(error)) from None
    summary = importer.summary(loaded)
    click.echo(f"Imported from {path}: {_counts(loaded)}.")
    click.echo(
        f"{summary['media_files']:,} media files; search index rebuilt; "
        f"in {summary['seconds']:.1f} s."
    )
    if summary["no_password"]:
        click.echo(
            f"{len(summary['no_password'])} accounts have no password (the archive has no "
            "password hashes): give each a reset link with "
            "`flask --app app reset-password EMAIL`."
        )
    if summary["missing_files"]:
        missing = summary["missing_files"]
        click.echo(
            f"Warning: {len(missing)} media files of the archive's media rows are not in it: "
            f"{', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}",
            err=True,
        )
