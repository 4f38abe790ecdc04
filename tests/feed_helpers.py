"""Reading feeds as a reader that trusts them does (test_feeds, test_sharing)."""

import html

import feedparser


def parse_unsanitized(data):
    """The feed as feedparser gives it with its HTML sanitizer off: what a reader that
    renders feed HTML as it comes would show."""
    return feedparser.parse(data, sanitize_html=False)


def shown(detail):
    """The text a reader shows of a feed text field (feedparser's `…_detail`).

    Whatever the reader takes the field for, HTML or plain text, it must hold no
    markup: no "<" at all. The text it stands for is the HTML's text, or the plain text.
    """
    value = detail["value"]
    assert "<" not in value, f"markup reaches readers: {value!r}"
    return html.unescape(value) if detail["type"] == "text/html" else value
