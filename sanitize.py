"""The one HTML sanitizer. Every piece of HTML that enters the database passes here.

Built on nh3 (bindings to the Rust crate ammonia); bleach is unmaintained since
2026-06, see DESIGN.md. The allowlist is what an article needs and nothing
else: no classes, styles, ids or data-/hx- attributes, so stored HTML can
neither restyle the page nor drive htmx.
"""

import html
import re

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


BLOCK_BOUNDARY = re.compile(
    r"<(/?(?:p|h[1-6]|li|br|hr|div|blockquote|pre|ul|ol|table|tr|td|th|figure|figcaption)\b)",
    re.IGNORECASE,
)
# nh3 writes every attribute value in double quotes, with " escaped inside.
IMAGE_TAG = re.compile(r'<img(?:\s+[\w-]+(?:="[^"]*")?)*\s*/?>')
ALT_ATTRIBUTE = re.compile(r'\salt="([^"]*)"')


def plain_text(markup):
    """The text of an HTML fragment, without tags or entities (for feeds, snippets, meta)."""
    spaced = BLOCK_BOUNDARY.sub(r" <\1", markup or "")
    return " ".join(html.unescape(nh3.clean(spaced, tags=set())).split())


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def index_text(value, html=False):
    """Text for the search index: no tags, no control characters (snippets use those)."""
    text = plain_text(value) if html else " ".join((value or "").split())
    return fold_yo(CONTROL_CHARACTERS.sub(" ", text))


def fold_yo(text):
    """ё as е: Russian writes either, and the tokenizer does not fold them."""
    return text.replace("ё", "е").replace("Ё", "Е")


def without_images(clean):
    """Sanitized HTML with each image replaced by its alt text, for the text version."""

    def alt_text(match):
        alt = ALT_ATTRIBUTE.search(match.group(0))
        return f"[Image: {alt.group(1)}]" if alt and alt.group(1).strip() else ""

    return IMAGE_TAG.sub(alt_text, clean)


def images_missing_alt(clean):
    """How many images of sanitized HTML have no alt text, or only blanks."""
    return sum(
        1
        for tag in IMAGE_TAG.findall(clean or "")
        if not (alt := ALT_ATTRIBUTE.search(tag)) or not html.unescape(alt.group(1)).strip()
    )
