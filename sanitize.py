"""The one HTML sanitizer. Every piece of HTML that enters the database passes here.

Built on nh3 (bindings to the Rust crate ammonia); bleach is unmaintained since
2026-06, see DESIGN.md. The allowlist is what an article needs and nothing
else: no classes, styles, ids or data-/hx- attributes, so stored HTML can
neither restyle the page nor drive htmx.
"""

import html

import nh3

ARTICLE_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "blockquote", "q", "cite", "code", "pre", "ul", "ol", "li", "a", "img", "figure",
    "figcaption", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
}  # fmt: skip

ARTICLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}

URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(dirty):
    """Sanitized article HTML: allowlisted tags and attributes, safe URL schemes only."""
    return nh3.clean(
        dirty or "",
        tags=ARTICLE_TAGS,
        attributes=ARTICLE_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def plain_text(markup):
    """The text of an HTML fragment, without tags or entities (for feeds, snippets, meta)."""
    return " ".join(html.unescape(nh3.clean(markup or "", tags=set())).split())
