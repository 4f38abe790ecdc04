"""Dates and times: the range the site accepts, reading what people type, showing what is stored.

The database keeps naive UTC datetimes; people type and read them in the site's
timezone. Python's datetime runs from year 1 to year 9999, so a time near either end
cannot be shown in every timezone: 9999-12-31 23:00 UTC is in year 10000 in Moscow.
Every way a time gets in (the desk's forms, search filters, imports) therefore keeps
it within EARLIEST..LATEST, as typed in its own timezone: stored in UTC, it is then at
most a day off (no UTC offset reaches a day), which every timezone and every format
can show. A time stored before this range existed is shown as stored, in UTC, never an
error, and an editor can correct it through the desk.
"""

import datetime as dt
import functools
import zoneinfo

EARLIEST = dt.datetime(1900, 1, 1)
LATEST = dt.datetime(2999, 12, 31, 23, 59)
RANGE = f"between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}"
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
SHORT_FORMAT = "%d.%m.%y %H:%M"  # how the site shows times: 21.07.19 08:16
_DAY = dt.timedelta(days=1)


def zone(name):
    """The timezone called `name`; UTC for a name this system does not know, so that a
    stored setting can never break a page (settings and imports check with is_timezone)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, TypeError, zoneinfo.ZoneInfoNotFoundError):
        return dt.UTC


def is_timezone(name):
    """Whether the site may use the timezone called `name`: a known name, in which any
    time of the range, stored in UTC, can be shown."""
    return isinstance(name, str) and name in _known_timezones() and _shows_the_range(name)


@functools.cache
def _known_timezones():
    return frozenset(zoneinfo.available_timezones())  # reads the disk: once per process


@functools.cache
def _shows_the_range(name):
    try:
        for end in (EARLIEST - _DAY, LATEST + _DAY):
            end.replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(name)).strftime("%c")
    except (OverflowError, ValueError):
        return False
    return True


def from_local(value, tz):
    """A naive time people gave in `tz`, as naive UTC; ValueError outside the range."""
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"Enter a time {RANGE}.")
    return value.replace(tzinfo=tz).astimezone(dt.UTC).replace(tzinfo=None)


def parse_local(text, tz):
    """What a datetime-local field sent ('2026-11-26T14:30', in `tz`), as naive UTC;
    ValueError with a message for people."""
    try:
        value = dt.datetime.strptime((text or "").strip(), INPUT_FORMAT)
    except ValueError:
        raise ValueError("Enter a date and time like 2026-11-26T14:30.") from None
    return from_local(value, tz)


def day_span(day, tz):
    """(start, end) in naive UTC of the day `day` in `tz`. A day beyond either end of the
    range counts as that end: a search 'from 0001-01-01' means from the start."""
    day = min(max(day, EARLIEST.date()), LATEST.date())
    start = dt.datetime.combine(day, dt.time())
    return from_local(start, tz), from_local(min(start + _DAY, LATEST), tz)


def parse_iso(text):
    """A naive-UTC datetime from ISO 8601 text ('Z', an offset, or none: UTC), within the
    range as written; ValueError otherwise, saying what the value "is not". For imports."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"is not an ISO 8601 date-time: {text[:40]!r}") from None
    if not EARLIEST <= value.replace(tzinfo=None) <= LATEST:
        raise ValueError(f"is not {RANGE}")
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _can_show(value):
    """Whether `value` (naive UTC) can be shown in any timezone: within a day of the range."""
    return isinstance(value, dt.datetime) and EARLIEST - _DAY <= value <= LATEST + _DAY


def _as_stored(value, fmt):
    """`value` as the database holds it, in ISO digits whatever the year ('%Y' of year 1
    is '1'): for a datetime-local field as it is, otherwise marked UTC."""
    if not isinstance(value, dt.datetime):
        return str(value)
    if fmt == INPUT_FORMAT:
        return value.isoformat(timespec="minutes")
    return value.isoformat(sep=" ", timespec="minutes") + " UTC"


def format_local(value, tz, fmt):
    """A stored naive-UTC time in `tz`, formatted; never an error. A time outside the range
    (stored before the range existed) is shown as stored, so an editor can see it and fix it."""
    if value is None:
        return ""
    if not _can_show(value):
        return _as_stored(value, fmt)
    return value.replace(tzinfo=dt.UTC).astimezone(tz).strftime(fmt)
