"""Importing a WordPress site: its WXR export file becomes Newsdesk articles.

`flask --app app import-wordpress FILE.xml` (commands.py) calls `import_wordpress`.
The file is read twice, streaming, so a big export never sits in memory whole:
first to check it is WXR and to note its authors, categories and attachments
(a post's featured image may come later in the file than the post), then to
import its items one by one, all in one transaction.

The XML parser is expat, with any DOCTYPE refused outright: a WXR file never has
one, and refusing it shuts out entity expansion (billion laughs) and external
entities (reading local files) before they begin.

Mapping rules (the command's help says them too):

* post -> article; page -> article with --pages (else skipped); attachment -> its
  file, when a post uses it (featured image, images and links in the body), comes
  from --uploads into the media library (class Uploads); every other post type is
  skipped.
* status: publish -> published; future -> published at its future date
  (scheduled); draft -> draft; pending -> submitted; private -> draft; a
  password-protected post -> draft (its text was not public); trash,
  auto-draft, inherit -> skipped.
* categories -> rubrics (or sections, --categories sections); the first category
  of a post wins; "Uncategorized" counts as none; no category -> the default
  (--rubric / --section); the other taxonomy is always the default. --map renames
  and merges. Tags and comments are kept out (Newsdesk has neither): counted;
  old category and tag archive addresses redirect (below).
* authors -> users with the author role and no email or password (they cannot log
  in): an existing staff user with the author's email, or else with the same
  display name, is reused.
* dates: post_date_gmt, else post_date in the site's timezone, else the RSS
  pubDate; "0000-00-00 00:00:00" is unset.
* a post already imported (by its WordPress id) is skipped: running the same file
  again, or a later export of the same site, adds only what is new.

Old addresses keep working (`moved`, asked only when a request would be a 404):
each item's own old address (its <link>, whatever the permalink structure),
/?p=ID and /?page_id=ID, /YYYY/MM/(DD/)slug/, and the old category and tag
archives (with their /feed/ and /page/N/) answer 301 with the new address.
"""

import contextlib
import datetime as dt
import email.utils
import html
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.etree.ElementTree import Element, SubElement
from xml.parsers import expat

import click
from flask.cli import with_appcontext
from werkzeug.datastructures import FileStorage

import dates
import media
from forms import MAX_ID
from migrations import prepare_database
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
    User,
    slugify,
    utcnow,
    write_transaction,
)
from sanitize import clean_html, plain_text

CHUNK = 1 << 16  # bytes fed to the parser at a time

NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}
WXR_NAMESPACE = re.compile(r"http://wordpress\.org/export/\d+\.\d+/(excerpt/)?")

STATUSES = {
    "publish": Article.PUBLISHED,
    "future": "scheduled",
    "draft": Article.DRAFT,
    "pending": Article.SUBMITTED,
    "private": Article.DRAFT,
}
SKIPPED_STATUSES = {
    "trash": "in the trash",
    "auto-draft": "an auto-draft",
    "inherit": "status inherit (a revision)",
}
TITLE_LENGTH = 300
LEAD_LENGTH = 300


class WXRError(Exception):
    """The file is not a WordPress export we can read: the message says why."""


# --- Reading the file -------------------------------------------------------------------------


def tag_name(raw):
    """'wp:post_id' for expat's 'http://wordpress.org/export/1.2/ post_id', and so on."""
    uri, separator, local = raw.rpartition(" ")
    if not separator:
        return local
    prefix = NAMESPACES.get(uri)
    if prefix is None and (match := WXR_NAMESPACE.fullmatch(uri)):
        prefix = "excerpt" if match.group(1) else "wp"
    return f"{prefix}:{local}" if prefix else f"{{{uri}}}{local}"


def refuse_doctype(*_args):
    raise WXRError(
        "the file has a DOCTYPE declaration; WordPress exports have none, and it could "
        "expand entities without end or read other files, so it was refused"
    )


def channel_elements(path):
    """Each child of <rss><channel> (an item, an author, a category…), as it closes.

    Only one child is held in memory at a time. Raises WXRError for a file that is
    not well-formed XML, has a DOCTYPE, or is not an RSS file.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    parser.ExternalEntityRefHandler = refuse_doctype
    stack, done = [], []

    def start(name, attributes):
        tag = tag_name(name)
        depth = len(stack)
        if depth == 0 and tag != "rss":
            raise WXRError(f"the file is XML but not a WordPress export (its root is <{tag}>)")
        if depth == 1 and tag != "channel":
            raise WXRError(f"the file is RSS but not a WordPress export (<{tag}> in <rss>)")
        attrs = {tag_name(key): value for key, value in attributes.items()}
        parent = stack[-1] if depth >= 3 else None
        element = SubElement(parent, tag, attrs) if parent is not None else Element(tag, attrs)
        element.text = ""
        stack.append(element)

    def end(_name):
        element = stack.pop()
        if len(stack) == 2:
            done.append(element)

    def text(data):
        if len(stack) >= 3:
            stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                parser.Parse(chunk, False)
                yield from done
                done.clear()
            parser.Parse(b"", True)
            yield from done
    except expat.ExpatError as error:
        raise WXRError(
            f"the file is not well-formed XML: {expat.ErrorString(error.code)} "
            f"at line {error.lineno}, column {error.offset + 1}"
        ) from None


def children(element, tag):
    """The children of `element` named `tag` ('wp:postmeta': our prefixes, see tag_name)."""
    return [child for child in element if child.tag == tag]


def text_of(element, tag, default=""):
    found = children(element, tag)
    return found[0].text if found and found[0].text is not None else default


def postmeta(item):
    meta = {}
    for entry in children(item, "wp:postmeta"):
        meta.setdefault(text_of(entry, "wp:meta_key"), text_of(entry, "wp:meta_value"))
    return meta


def plain(value):
    """Plain text of a WordPress title or name: tags dropped, entities decoded."""
    return plain_text(value)


def as_int(value):
    """A whole number of the export that a database column can hold (ids, widths), or None."""
    with contextlib.suppress(TypeError, ValueError):
        number = int(str(value).strip())
        if 0 <= number <= MAX_ID:
            return number
    return None


# --- What the first pass learns ---------------------------------------------------------------


@dataclass
class Attachment:
    url: str
    file: str  # _wp_attached_file: the path under wp-content/uploads/
    alt: str
    title: str
    parent: int | None


@dataclass
class Scan:
    items: int = 0
    authors: dict = field(default_factory=dict)  # login -> (display name, email)
    categories: dict = field(default_factory=dict)  # nicename -> name
    category_parents: dict = field(default_factory=dict)  # nicename -> parent's nicename
    attachments: dict = field(default_factory=dict)  # wp id -> Attachment
    upload_bases: set = field(default_factory=set)  # URL paths the uploads were served under
    home: str = ""  # the old site's path ("blog" for example.com/blog/), no slashes
    is_wxr: bool = False


def scan(path):
    """First pass: check the file and note what items refer to. Raises WXRError."""
    found = Scan()
    for element in channel_elements(path):
        tag = element.tag
        if tag.startswith("wp:") or (tag == "item" and children(element, "wp:post_id")):
            found.is_wxr = True
        if tag == "wp:author":
            login = text_of(element, "wp:author_login").strip()
            name = plain(text_of(element, "wp:author_display_name"))
            if not name:
                first = text_of(element, "wp:author_first_name")
                last = text_of(element, "wp:author_last_name")
                name = plain(f"{first} {last}")
            found.authors[login] = (name or login, text_of(element, "wp:author_email").strip())
        elif tag == "wp:category":
            nicename = unquote(text_of(element, "wp:category_nicename")).strip().lower()
            found.categories[nicename] = plain(text_of(element, "wp:cat_name"))
            parent = unquote(text_of(element, "wp:category_parent")).strip().lower()
            if parent:
                found.category_parents[nicename] = parent
        elif tag in ("wp:base_blog_url", "link") and not found.home:
            found.home = old_address(url_parts(element.text or "")[0]).strip("/")
        elif tag == "item":
            found.items += 1
            if text_of(element, "wp:post_type") == "attachment":
                wp_id = as_int(text_of(element, "wp:post_id"))
                meta = postmeta(element)
                attachment = found.attachments[wp_id] = Attachment(
                    url=text_of(element, "wp:attachment_url").strip(),
                    file=meta.get("_wp_attached_file", "").strip(),
                    alt=plain(meta.get("_wp_attachment_image_alt", "")),
                    title=plain(text_of(element, "title")),
                    parent=as_int(text_of(element, "wp:post_parent")),
                )
                # Where the site served its uploads: the file's URL minus its own path.
                url_path = url_parts(attachment.url)[0]
                if attachment.file and url_path.endswith("/" + attachment.file):
                    base = url_path[: -len(attachment.file)]
                    if len(base) > 1:
                        found.upload_bases.add(base)
    if not found.is_wxr:
        raise WXRError(
            "the file is RSS but not a WordPress export: it has no WXR (wp:) elements. "
            "Export it from WordPress under Tools › Export"
        )
    if found.items == 0:
        raise WXRError("the export is empty: its channel has no posts, pages or other items")
    return found


# --- Bodies: shortcodes and wpautop -----------------------------------------------------------

# WordPress's own shortcode pattern (get_shortcode_regex), for any name.
SHORTCODE = re.compile(
    r"\[(\[?)([A-Za-z][\w-]*)(?![\w-])"
    r"([^\]/]*(?:/(?!\])[^\]/]*)*?)"
    r"(?:(/)\]|\](?:([^\[]*(?:\[(?!/\2\])[^\[]*)*)\[/\2\])?)"
    r"(\]?)"
)
SHORTCODE_ATTRIBUTE = re.compile(
    r"""([\w-]+)\s*=\s*"([^"]*)"|([\w-]+)\s*=\s*'([^']*)'|([\w-]+)\s*=\s*([^\s'"\]]+)"""
)
# Shortcodes WordPress itself defines: taken as shortcodes even bare, like "[gallery]".
CORE_SHORTCODES = {"caption", "wp_caption", "gallery", "embed", "audio", "video", "playlist"}
IMAGE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
LINKED_IMAGE = re.compile(r"<a\b[^>]*>\s*<img\b[^>]*>\s*</a>", re.IGNORECASE)
BARE_URL_LINE = re.compile(r"^[ \t]*(https?://[^\s<>\"]+)[ \t]*$", re.MULTILINE)
MORE_TAG = re.compile(r"<!--\s*(?:more|nextpage|noteaser)\b.*?-->", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\x02(\d+)\x03")


def shortcode_attributes(text):
    attributes = {}
    for match in SHORTCODE_ATTRIBUTE.finditer(text or ""):
        name = match.group(1) or match.group(3) or match.group(5)
        value = match.group(2) if match.group(1) else match.group(4) or match.group(6) or ""
        attributes[name.lower()] = html.unescape(value) if match.group(5) else value
    return attributes


def link(url, text=None):
    url = html.unescape(url.strip())
    return f'<a href="{html.escape(url)}">{html.escape(text or url)}</a>'


class BodyConverter:
    """WordPress post content -> sanitized Newsdesk HTML, counting what it drops."""

    def __init__(self, attachments, summary, uploads):
        self.attachments = attachments
        self.summary = summary
        self.uploads = uploads
        self.by_parent = {}  # post id -> its attachments, for [gallery] without ids
        for attachment in attachments.values():
            self.by_parent.setdefault(attachment.parent, []).append(attachment)

    def convert(self, content, wp_id=None, post=""):
        """`post` names the post in reports of images that could not be imported."""
        text = (content or "").replace("\r\n", "\n").replace("\r", "\n")
        text = MORE_TAG.sub("", text)
        blocks = []  # rendered shortcodes, put back after wpautop
        text = self.shortcodes(text, wp_id, blocks)
        text = BARE_URL_LINE.sub(lambda m: link(m.group(1)), text)  # WordPress auto-embeds
        if "<!-- wp:" not in text:  # block-editor content has its paragraphs already
            text = wpautop(text)
        while PLACEHOLDER.search(text):
            text = re.sub(r"<p>\s*(\x02\d+\x03)\s*</p>", r"\1", text)
            text = PLACEHOLDER.sub(lambda m: blocks[int(m.group(1))], text)
        clean = clean_html(self.uploads.rewrite(text, post))
        clean = re.sub(r"<p>(?:\s|<br>)+", "<p>", clean)  # what a dropped <script> leaves
        clean = re.sub(r"(?:\s|<br>)+</p>", "</p>", clean)
        return re.sub(r"<p>(?:\s|&nbsp;)*</p>\s*", "", clean).strip()

    def shortcodes(self, text, wp_id, blocks):
        def replace(match):
            escape_open, name, attrs, self_closing, inner, escape_close = match.groups()
            if escape_open and escape_close:  # [[tag]] is the literal text [tag]
                return match.group(0)[1:-1]
            lower = name.lower()
            enclosing = inner is not None
            if (
                lower not in CORE_SHORTCODES
                and not enclosing
                and not self_closing
                and "=" not in attrs
            ):
                return match.group(0)  # "[sic]", "[Update: …]": prose, not a shortcode
            inner_text = self.shortcodes(inner, wp_id, blocks) if enclosing else ""
            rendered = self.render(lower, shortcode_attributes(attrs), inner_text, wp_id)
            if rendered is None:
                self.summary.shortcodes_removed[lower] += 1
                return escape_open + inner_text + escape_close
            self.summary.shortcodes_converted[lower] += 1
            blocks.append(rendered)
            return f"{escape_open}\n\n\x02{len(blocks) - 1}\x03\n\n{escape_close}"

        return SHORTCODE.sub(replace, text or "")

    def render(self, name, attributes, inner, wp_id):
        """HTML for a shortcode Newsdesk can show, or None to drop it (keeping its text)."""
        if name in ("caption", "wp_caption"):
            image = LINKED_IMAGE.search(inner) or IMAGE.search(inner)
            if image is None:
                return None
            caption = attributes.get("caption") or (inner[: image.start()] + inner[image.end() :])
            caption = caption.strip()
            figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
            return f"<figure>{image.group(0)}{figcaption}</figure>"
        if name == "embed":
            url = inner.strip() or attributes.get("src", "")
            return f"<p>{link(url)}</p>" if url.startswith(("http://", "https://")) else None
        if name in ("audio", "video"):
            url = attributes.get("src") or attributes.get("mp3") or attributes.get("mp4") or ""
            return f"<p>{link(url)}</p>" if url.startswith(("http://", "https://")) else None
        if name == "gallery":
            ids = [as_int(value) for value in attributes.get("ids", "").split(",")]
            if any(ids):
                images = [self.attachments.get(i) for i in ids if i]
            else:
                images = self.by_parent.get(wp_id, []) if wp_id else []
            items = [
                f"<li>{link(a.url, a.title or a.alt or a.url.rsplit('/', 1)[-1])}</li>"
                for a in images
                if a and a.url.startswith(("http://", "https://"))
            ]
            return f"<ul>{''.join(items)}</ul>" if items else None
        return None


# The block elements of WordPress's wpautop().
BLOCKS = (
    r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|"
    r"form|map|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|"
    r"article|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary)"
)


def wpautop(text):
    """WordPress's wpautop(): blank-line separated text -> paragraphs, single newlines -> <br>.

    A port of the PHP function (wp-includes/formatting.php), step for step, minus
    the parts for <option>, <object> and <source> that the sanitizer drops anyway.
    """
    if not text.strip():
        return ""
    text += "\n"
    pre_blocks = []

    def keep_pre(match):
        pre_blocks.append(match.group(0))
        return f"<pre wp-pre-tag-{len(pre_blocks) - 1}></pre>"

    text = re.sub(r"<pre\b.*?</pre>", keep_pre, text, flags=re.DOTALL | re.IGNORECASE)
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text)
    text = re.sub(r"(<" + BLOCKS + r"[\s/>])", r"\n\n\1", text)
    text = re.sub(r"(</" + BLOCKS + r">)", r"\1\n\n", text)
    text = re.sub(r"(<hr\s*?/?>)", r"\1\n\n", text)
    # Newlines inside tags (<img\nsrc…>) are not line breaks.
    text = re.sub(r"<[^>]*>", lambda m: m.group(0).replace("\n", " "), text)
    text = re.sub(r"\n\n+", "\n\n", text)
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p]
    text = "".join(f"<p>{p.strip(chr(10))}</p>\n" for p in paragraphs)
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(r"<p>([^<]+)</(div|address|form)>", r"<p>\1</p></\2>", text)
    text = re.sub(r"<p>\s*(</?" + BLOCKS + r"[^>]*>)\s*</p>", r"\1", text)
    text = re.sub(r"<p>(<li.+?)</p>", r"\1", text)
    text = re.sub(r"<p><blockquote([^>]*)>", r"<blockquote\1><p>", text, flags=re.IGNORECASE)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = re.sub(r"<p>\s*(</?" + BLOCKS + r"[^>]*>)", r"\1", text)
    text = re.sub(r"(</?" + BLOCKS + r"[^>]*>)\s*</p>", r"\1", text)
    text = re.sub(
        r"<(script|style|svg|math).*?</\1>",
        lambda m: m.group(0).replace("\n", "\x01"),
        text,
        flags=re.DOTALL,
    )
    text = re.sub(r"<br\s*/?>", "<br />", text)
    text = re.sub(r"(?<!<br />)\s*\n", "<br />\n", text)
    text = text.replace("\x01", "\n")
    text = re.sub(r"(</?" + BLOCKS + r"[^>]*>)\s*<br />", r"\1", text)
    text = re.sub(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text)
    text = re.sub(r"\n</p>$", "</p>", text)
    for number, block in enumerate(pre_blocks):
        text = text.replace(f"<pre wp-pre-tag-{number}></pre>", block)
    return text


def first_sentence(text, limit=LEAD_LENGTH):
    """The first sentence of plain text, at most `limit` characters (cut at a word)."""
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?…])(?=\s|$)", text)
    sentence = match.group(1) if match else text
    if len(sentence) > limit:
        sentence = sentence[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return sentence


# --- Images: the old uploads folder into the media library ------------------------------------

UPLOADS_PATH = "/wp-content/uploads/"
# WordPress's copies of an upload: name-300x200.jpg (a size), name-scaled.jpg (a big
# upload scaled down), name-rotated.jpg; the original is name.jpg.
SIZE_SUFFIX = re.compile(r"(?:-(?:[0-9]{1,5}x[0-9]{1,5}|scaled|rotated))+$")
IMAGE_SUFFIXES = (
    ".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".avif", ".bmp", ".tif", ".tiff", ".svg",
    ".heic",
)  # fmt: skip
TAG_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
LINK_ELEMENT = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
WP_IMAGE_CLASS = re.compile(r"\bwp-image-([0-9]{1,10})\b")
# A dry run checks each file but stores none: body URLs are rewritten to this stand-in.
NOT_STORED = Media(hash="dry-run", ext="jpg")


def tag_attributes(text):
    """{name: value} of the attributes in a start tag's text after its name (values
    unescaped; the first of a repeated name wins, as in browsers)."""
    attributes = {}
    for match in TAG_ATTRIBUTE.finditer(text):
        name = match.group(1).lower()
        value = next((v for v in match.group(2, 3, 4) if v is not None), "")
        attributes.setdefault(name, html.unescape(value))
    return attributes


def srcset_urls(srcset):
    """The URLs of a srcset, widest first."""
    candidates = []
    for candidate in (srcset or "").split(","):
        url, _, descriptor = candidate.strip().partition(" ")
        width = as_int(descriptor.strip().rstrip("wx").split(".")[0]) or 0
        if url:
            candidates.append((width, url))
    return [url for _, url in sorted(candidates, key=lambda c: -c[0])]


@dataclass
class ImageProblem:
    """An image a post uses that is not in the media library: for the summary."""

    post: str  # 'post 102 “Title”'
    url: str
    reason: str


class Uploads:
    """The old site's wp-content/uploads folder (--uploads): the images posts use go into the
    media library, and bodies point at them there.

    Every file passes media.py's checks, like any upload, and is imported once however
    many posts and sizes use it (a size variant counts as its original when that is in
    the folder). The paths come from the export, which is not trusted: a file is looked
    for under the folder only ("..", a symlink out, a NUL: never opened). An image that
    could not be imported is reported with its post and URL. Without a folder, nothing is
    imported and bodies keep their old URLs (counted).
    """

    def __init__(self, root, found, summary, dry_run):
        self.root = root.resolve() if root else None
        self.found = found
        self.by_file = {a.file: a for a in found.attachments.values() if a.file}
        self.summary = summary
        self.dry_run = dry_run
        self.results = {}  # resolved file -> Media (NOT_STORED in a dry run), or Refused
        self.reported = set()  # (post, original file) already reported
        self.written = []  # media files written, removed again if the import fails

    # Finding the file ---------------------------------------------------------------------

    def relative(self, url):
        """The path under uploads/ of a URL of the old uploads (any host), or None."""
        path = url_parts(html.unescape(url or "").replace("\\", "/"))[0]
        if UPLOADS_PATH in path:
            return path.split(UPLOADS_PATH, 1)[1]
        return next(
            (path[len(base) :] for base in self.found.upload_bases if path.startswith(base)),
            None,
        )

    @staticmethod
    def originals(relative):
        """The files to try for an uploads path: the original of a size copy first."""
        folder, slash, name = relative.rpartition("/")
        stem, dot, ext = name.rpartition(".")
        if not dot:
            return [relative]
        original = SIZE_SUFFIX.sub("", stem) or stem
        names = dict.fromkeys((f"{original}.{ext}", f"{original}-scaled.{ext}", name))
        return [folder + slash + name for name in names]

    def locate(self, relative):
        """The file under the folder, or None; raises media.Refused for a path that would
        leave it. The folder may be uploads/ itself, wp-content/ or the WordPress root."""
        parts = [part for part in relative.split("/") if part not in ("", ".")]
        if not parts or ".." in parts or any("\x00" in part for part in parts):
            raise media.Refused(400, "its path leaves the uploads folder: never read")
        for base in (self.root, self.root / "uploads", self.root / "wp-content" / "uploads"):
            with contextlib.suppress(OSError, ValueError, RuntimeError):
                path = base.joinpath(*parts).resolve()
                if path.is_relative_to(self.root) and path.is_file():
                    return path
        return None

    # Importing it -------------------------------------------------------------------------

    def store(self, path, alt):
        """The Media of a file (imported at its first use); raises media.Refused."""
        if path not in self.results:
            try:
                self.results[path] = self.accept(path, alt)
                self.summary.images_imported += 1
            except media.Refused as refused:
                self.results[path] = refused
        result = self.results[path]
        if isinstance(result, media.Refused):
            raise result
        return result

    def accept(self, path, alt):
        try:
            stream = open(path, "rb")  # noqa: SIM115 (closed below; open errors are refusals)
        except OSError as error:
            raise media.Refused(400, f"the file cannot be read ({error.strerror})") from None
        with stream:
            upload = FileStorage(stream=stream, filename=path.name)
            if self.dry_run:
                media.checked_image(upload)
                return NOT_STORED
            found, created = media.accept_upload(upload, alt, None)
        if created:
            root = media.media_root()
            self.written += [os.path.join(root, name) for *_, name, _ in found.renditions]
        return found

    def image(self, relatives, alt, post, url):
        """The Media of the first of these uploads paths whose file is there and accepted
        (each tried as its original first), or None, reported as missing or refused."""
        refusal = None
        tried = set()
        for relative in relatives:
            for candidate in self.originals(relative):
                try:
                    path = self.locate(candidate)
                    if path is None or path in tried:
                        continue
                    tried.add(path)
                    return self.store(path, alt)
                except media.Refused as refused:
                    refusal = refusal or refused
        key = (post, self.originals(relatives[0])[0])
        if key not in self.reported:
            self.reported.add(key)
            problems = self.summary.images_refused if refusal else self.summary.images_missing
            reason = refusal.message if refusal else "no such file in --uploads"
            problems.append(ImageProblem(post, url, reason))
        return None

    def attachment_paths(self, attachment):
        """The uploads paths of an attachment's file: its own (once absolute in WordPress,
        now relative to uploads/), then its URL's."""
        paths = (self.relative(attachment.file) or attachment.file, self.relative(attachment.url))
        return [path for path in paths if path]

    def attachment_image(self, attachment, post):
        """The Media of an attachment (a featured image), or None, reported."""
        relatives = self.attachment_paths(attachment)
        url = attachment.url or attachment.file
        if not relatives:
            self.summary.images_missing.append(ImageProblem(post, url, "not an uploads address"))
            return None
        return self.image(relatives, attachment.alt or attachment.title, post, url)

    # Bodies -------------------------------------------------------------------------------

    def rewrite(self, text, post):
        """Body HTML (before sanitizing) with the old uploads' images from the media library.

        <img> gets the local src (srcset and sizes go: pages make their own from the
        stored sizes); a link to an uploaded image (the full size around a thumbnail, a
        gallery's) gets the local URL. An image that could not be imported leaves its
        alt text as "[Image: …]", as the text version shows images; a link to one
        leaves its text.
        """
        text = IMAGE.sub(lambda match: self.body_image(match.group(0), post), text)
        return LINK_ELEMENT.sub(lambda match: self.body_link(match, post), text)

    def body_image(self, tag, post):
        attributes = tag_attributes(tag[len("<img") :])
        src = attributes.get("src", "")
        attachment = None
        if wp_image := WP_IMAGE_CLASS.search(attributes.get("class", "")):
            attachment = self.found.attachments.get(int(wp_image.group(1)))
        urls = [src, *srcset_urls(attributes.get("srcset"))]
        relatives = [relative for url in urls if (relative := self.relative(url))]
        if attachment:
            relatives += self.attachment_paths(attachment)
        if not relatives:
            return tag  # not from the old uploads: left as it is
        if self.root is None:
            self.summary.images_left += 1
            return tag
        if attachment is None:
            files = self.originals(relatives[0])
            attachment = next((self.by_file[f] for f in files if f in self.by_file), None)
        alt = " ".join(attributes.get("alt", "").split()) or (attachment.alt if attachment else "")
        found = self.image(relatives, alt, post, src or urls[-1])
        if found is None:
            return f"[Image: {html.escape(alt)}]" if alt else ""
        self.summary.body_images += 1
        title = attributes.get("title", "")
        title = f' title="{html.escape(title)}"' if title else ""
        return f'<img src="{found.url}" alt="{html.escape(alt)}"{title}>'

    def body_link(self, match, post):
        href = tag_attributes(match.group(1)).get("href", "")
        relative = self.relative(href)
        if relative is None or not relative.lower().endswith(IMAGE_SUFFIXES):
            return match.group(0)
        if self.root is None:
            self.summary.images_left += 1
            return match.group(0)
        found = self.image([relative], "", post, href)
        if found is None:
            return match.group(2)
        return f'<a href="{found.url}">{match.group(2)}</a>'

    def remove_written_files(self):
        for path in self.written:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.written.clear()


# --- Dates ------------------------------------------------------------------------------------


def wp_datetime(value):
    """A naive datetime from WordPress's 'YYYY-MM-DD HH:MM:SS', or None when unset or
    outside the dates the site keeps (dates.EARLIEST…LATEST)."""
    value = (value or "").strip()
    if not value or value.startswith("0000"):
        return None
    try:
        when = dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return when if dates.EARLIEST <= when <= dates.LATEST else None


def rss_datetime(value):
    """Naive UTC from an RSS pubDate, or None (WordPress writes year -0001 for unset)."""
    value = (value or "").strip()
    year = re.search(r"\b\d{1,2} [A-Za-z]{3} (\d{4}) ", value)
    if not year or int(year.group(1)) < 1971:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is not None:
            when = when.astimezone(dt.UTC).replace(tzinfo=None)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if dates.EARLIEST <= when <= dates.LATEST else None


def to_utc(local, zone):
    """A local time of the old site as naive UTC, or None outside the dates kept."""
    try:
        return dates.from_local(local, zone)
    except ValueError:
        return None


# --- The summary ------------------------------------------------------------------------------


@dataclass
class Summary:
    dry_run: bool = False
    imported: Counter = field(default_factory=Counter)  # post type (post, page) -> articles
    states: Counter = field(default_factory=Counter)  # draft, submitted, scheduled, published
    skipped: Counter = field(default_factory=Counter)  # reason -> items
    as_drafts: Counter = field(default_factory=Counter)  # "private" / "password-protected"
    authors_created: list = field(default_factory=list)
    sections_created: list = field(default_factory=list)
    rubrics_created: list = field(default_factory=list)
    images_imported: int = 0  # files put into the media library (each once)
    featured_images: int = 0  # articles given their featured image
    body_images: int = 0  # <img> in bodies now served from the media library
    featured_left: int = 0  # featured images not imported: no --uploads
    images_left: int = 0  # body images and links left at the old site: no --uploads
    images_missing: list = field(default_factory=list)  # ImageProblem
    images_refused: list = field(default_factory=list)  # ImageProblem
    addresses: int = 0  # articles whose own old address (<link>) redirects
    archives: Counter = field(default_factory=Counter)  # "category"/"tag" -> archives
    shortcodes_removed: Counter = field(default_factory=Counter)  # name -> count
    shortcodes_converted: Counter = field(default_factory=Counter)
    tags: set = field(default_factory=set)
    tagged_articles: int = 0
    comments: int = 0

    @property
    def imported_total(self):
        return sum(self.imported.values())

    def lines(self):
        def counted(counter, plural=""):
            return ", ".join(
                f"{count} {name}{plural if count != 1 else ''}"
                for name, count in counter.most_common()
            )

        would = "would be " if self.dry_run else ""
        lines = []
        if self.dry_run:
            lines.append("Dry run: nothing was stored.")
        lines.append(
            f"Articles {would}imported: {self.imported_total}"
            + (f" ({counted(self.imported, 's')}; {counted(self.states)})" if self.imported else "")
        )
        if self.as_drafts:
            lines.append(f"  kept as drafts: {counted(self.as_drafts)}")
        lines.append(f"Items skipped: {sum(self.skipped.values())}")
        for reason, count in sorted(self.skipped.items()):
            lines.append(f"  {count} × {reason}")
        for label, names in (
            ("Authors", self.authors_created),
            ("Sections", self.sections_created),
            ("Rubrics", self.rubrics_created),
        ):
            listed = f": {', '.join(names)}" if names else ""
            lines.append(f"{label} {would}created: {len(names)}{listed}")
        lines.append(
            f"Image files {would}imported into the media library: {self.images_imported} "
            f"(used as {self.featured_images} featured images, {self.body_images} images in "
            "bodies)"
        )
        if self.featured_left or self.images_left:
            lines.append(
                f"Images not imported (no --uploads given): {self.featured_left} featured; "
                f"{self.images_left} images and links in bodies left pointing at the old site"
            )
        for label, problems in (("missing", self.images_missing), ("refused", self.images_refused)):
            if problems:
                lines.append(f"Images {label}: {len(problems)}")
                lines += [f"  {p.post}: {p.url}: {p.reason}" for p in problems]
        lines.append(
            f"Old addresses {would}redirected: the links of {self.addresses} articles (and "
            f"/?p=ID of each), {self.archives['category']} category and "
            f"{self.archives['tag']} tag archives"
        )
        removed = sum(self.shortcodes_removed.values())
        lines.append(
            f"Shortcodes removed: {removed}"
            + (f" ({counted(self.shortcodes_removed)})" if removed else "")
        )
        if self.shortcodes_converted:
            lines.append(f"Shortcodes converted: {counted(self.shortcodes_converted)}")
        lines.append(
            f"Tags kept out (Newsdesk has no tags): {len(self.tags)}"
            + (f", on {self.tagged_articles} articles" if self.tags else "")
        )
        if self.comments:
            lines.append(f"Comments kept out (Newsdesk has none): {self.comments}")
        return lines


# --- The import -------------------------------------------------------------------------------


@dataclass
class Options:
    pages: bool = False
    categories: str = "rubrics"  # or "sections": which taxonomy WordPress categories become
    section: str = "News"  # the default section (and rubric) for what categories do not set
    rubric: str = "General"
    mapping: dict = field(default_factory=dict)  # WordPress category -> Newsdesk name
    uploads: Path | None = None  # the old site's wp-content/uploads folder
    category_base: str = ""  # WordPress's Settings › Permalinks "Category base", if set
    tag_base: str = ""
    dry_run: bool = False


def parse_mapping(pairs):
    """{'casefolded WordPress name': 'Newsdesk name'} from ["WP name=Newsdesk name", …]."""
    mapping = {}
    for pair in pairs:
        source, separator, target = pair.partition("=")
        if not separator or not source.strip() or not target.strip():
            raise ValueError(f"“{pair}” is not of the form “WordPress category=Newsdesk name”")
        mapping[source.strip().casefold()] = " ".join(target.split())
    return mapping


def has_slug_text(text):
    """Whether `text` gives a slug of its own (slugify keeps ASCII letters and digits only)."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return bool(re.search(r"[A-Za-z0-9]", folded))


class Importer:
    """Second pass: one item at a time. With `dry_run`, nothing is written anywhere."""

    def __init__(self, found, options, summary):
        self.found = found
        self.options = options
        self.summary = summary
        self.uploads = Uploads(options.uploads, found, summary, options.dry_run)
        self.body = BodyConverter(found.attachments, summary, self.uploads)
        self.now = utcnow()
        self.zone = SiteSettings.load().zone
        self.users = {}  # author login -> User (None in a dry run, for one not yet there)
        self.taxonomies = {
            model: {row.name.casefold(): row for row in model.select().order_by(model.id)}
            for model in (Section, Rubric)
        }
        self.seen = set()  # WordPress ids met in this file
        # For the old archive addresses (archive_addresses), gathered post by post:
        self.term_votes = {}  # (taxonomy, nicename) -> Counter of where its posts went
        self.fronts = Counter()  # the static start of post links (WordPress's "front")

    # Authors ------------------------------------------------------------------------------

    def author(self, login):
        login = (login or "").strip()
        if login in self.users:
            return self.users[login]
        name, address = self.found.authors.get(login, (login, ""))
        name = name or "Editorial staff"
        staff = User.select().where(User.role != "reader")
        user = None
        if address:
            user = staff.where(User.email == address.lower()).first()
        if user is None:
            user = staff.where(User.display_name == name).order_by(User.id).first()
        if user is None:
            self.summary.authors_created.append(name)
            if not self.options.dry_run:
                base = next((c for c in (name, login) if has_slug_text(c)), "author")
                user = User.create(
                    display_name=name, slug=User.unique_slug(base), role="author", email=None
                )
        self.users[login] = user
        return user

    # Sections and rubrics -----------------------------------------------------------------

    def taxonomy(self, model, name):
        known = self.taxonomies[model]
        key = name.casefold()
        if key in known:
            return known[key]
        slug = slugify(name, max_length=60) if has_slug_text(name) else model.__name__.lower()
        row = model.get_or_none(model.slug == slug) if has_slug_text(name) else None
        if row is None:
            summary = self.summary
            (summary.sections_created if model is Section else summary.rubrics_created).append(name)
            if not self.options.dry_run:
                base, number = slug, 1
                while model.select().where(model.slug == slug).exists():
                    number += 1
                    slug = f"{base}-{number}"
                last = model.select().order_by(model.position.desc()).first()
                row = model.create(
                    name=name, slug=slug, position=(last.position + 1) if last else 0
                )
        known[key] = row
        return row

    @staticmethod
    def terms(item):
        """[(taxonomy, nicename, name)] of the item's categories ("category") and tags ("tag")."""
        found = []
        for term in children(item, "category"):
            taxonomy = TAXONOMIES.get(term.get("domain", "category"))
            if taxonomy:
                nicename = unquote(term.get("nicename", "")).strip().lower()
                found.append((taxonomy, nicename, plain(term.text or "")))
        return found

    def category_target(self, nicename, name=""):
        """The Newsdesk name a WordPress category maps to; None for "Uncategorized" or a
        category without a name."""
        name = name or self.found.categories.get(nicename, "")
        for key in (name.casefold(), nicename.casefold()):
            if key and key in self.options.mapping:
                return self.options.mapping[key]
        if nicename == "uncategorized" or not name:
            return None
        return name

    def category_name(self, item):
        """The Newsdesk name the item's first category maps to, or None (no category)."""
        for taxonomy, nicename, name in self.terms(item):
            if taxonomy == "category" and (target := self.category_target(nicename, name)):
                return target
        return None

    def default_name(self):
        """The default of the taxonomy categories become."""
        if self.options.categories == "sections":
            return self.options.section
        return self.options.rubric

    def placement(self, name):
        if self.options.categories == "sections":
            section = self.taxonomy(Section, name or self.options.section)
            rubric = self.taxonomy(Rubric, self.options.rubric)
        else:
            section = self.taxonomy(Section, self.options.section)
            rubric = self.taxonomy(Rubric, name or self.options.rubric)
        return section, rubric

    # Old addresses ------------------------------------------------------------------------

    def category_path(self, nicename):
        """'parent/child' of a nested WordPress category, as its archive address has it."""
        chain = [nicename]
        parents = self.found.category_parents
        while (parent := parents.get(chain[-1])) and parent not in chain and len(chain) < 20:
            chain.append(parent)
        return "/".join(reversed(chain))

    def note_addresses(self, item, post_type, post_name, path, target):
        """What archive_addresses needs from a post: where its categories' and tags'
        posts went (`target`: the name its category became), and its link's front."""
        terms = [(taxonomy, nicename) for taxonomy, nicename, _ in self.terms(item) if nicename]
        voters = []
        for taxonomy, nicename in terms:
            if taxonomy == "category":  # its archive lists the posts of those below it too
                voters += [("category", name) for name in self.category_path(nicename).split("/")]
            else:
                voters.append((taxonomy, nicename))
        for term in dict.fromkeys(voters):
            self.term_votes.setdefault(term, Counter())[target.casefold()] += 1
        if post_type != "post" or path is None or "?" in path:
            return
        # WordPress puts archives under the static start of the permalink structure
        # (/archives/ of /archives/%post_id%): the segments before the first one that
        # is the post's own (a number, its slug, author, category).
        own = {post_name, text_of(item, "dc:creator").strip().lower()}
        for taxonomy, nicename in terms:
            if taxonomy == "category":
                own.update(self.category_path(nicename).split("/"))
        front = []
        for segment in path.strip("/").split("/")[:-1]:
            if segment.isdigit() or segment in own:
                break
            front.append(segment)
        self.fronts["/".join(front)] += 1

    def archive_addresses(self):
        """Keep the old category and tag archive addresses, each leading to the section or
        rubric its posts went to: a category to the one it became (if it became none,
        like a tag, to the one most of its posts went to). Addresses kept by an earlier
        import stay as they are."""
        model = Section if self.options.categories == "sections" else Rubric
        known = self.taxonomies[model]
        targets = {}  # (taxonomy, nicename) -> key of `known`
        for nicename in self.found.categories:
            key = (self.category_target(nicename) or self.default_name()).casefold()
            if nicename and key in known:
                targets[("category", nicename)] = key
        for term, votes in self.term_votes.items():
            targets.setdefault(term, votes.most_common(1)[0][0])

        home = self.found.home
        front = self.fronts.most_common(1)[0][0] if self.fronts else home
        addresses, aliases = {}, {}  # address -> (taxonomy, nicename, key)
        for (taxonomy, nicename), key in targets.items():
            base = self.options.category_base if taxonomy == "category" else self.options.tag_base
            base = base.strip("/") or taxonomy
            path = self.category_path(nicename) if taxonomy == "category" else nicename
            for prefix in dict.fromkeys((front, home)):
                start = f"/{prefix}/{base}" if prefix else f"/{base}"
                addresses[old_address(f"{start}/{path}")] = (taxonomy, nicename, key)
                # WordPress also answers a nested category by its own slug alone.
                aliases[old_address(f"{start}/{nicename}")] = (taxonomy, nicename, key)
        for address, target in aliases.items():
            addresses.setdefault(address, target)

        kept = {path for (path,) in LegacyTerm.select(LegacyTerm.path).tuples()}
        kind = model.__name__.lower()
        rows, counted = [], set()
        for address, (taxonomy, nicename, key) in addresses.items():
            if address in kept or len(address) > ADDRESS_LENGTH:
                continue
            counted.add((taxonomy, nicename))
            if not self.options.dry_run:
                rows.append({"path": address, "kind": kind, "target_id": known[key].id})
        self.summary.archives.update(taxonomy for taxonomy, _ in counted)
        for start in range(0, len(rows), 500):
            LegacyTerm.insert_many(rows[start : start + 500]).execute()

    # Featured images ----------------------------------------------------------------------

    def featured_image(self, item, post):
        """The post's featured image from --uploads (None in a dry run), or None, reported."""
        thumbnail = as_int(postmeta(item).get("_thumbnail_id"))
        if thumbnail is None:
            return None
        attachment = self.found.attachments.get(thumbnail)
        if attachment is None:
            problem = ImageProblem(post, f"attachment {thumbnail}", "not in the export")
            self.summary.images_missing.append(problem)
            return None
        if self.uploads.root is None:
            self.summary.featured_left += 1
            return None
        found = self.uploads.attachment_image(attachment, post)
        if found is None:
            return None
        self.summary.featured_images += 1
        return None if found is NOT_STORED else found

    # Items --------------------------------------------------------------------------------

    def skip(self, reason):
        self.summary.skipped[reason] += 1

    def item(self, item):
        post_type = text_of(item, "wp:post_type", "post").strip() or "post"
        wp_id = as_int(text_of(item, "wp:post_id"))
        status = text_of(item, "wp:status").strip()
        if post_type == "attachment":
            return self.skip("attachment: imported only where a post uses its file")
        if post_type == "page" and not self.options.pages:
            return self.skip("page: pages are imported with --pages")
        if post_type not in ("post", "page"):
            return self.skip(f"{post_type}: not a post or page")
        if wp_id is None:
            return self.skip(f"{post_type}: no wp:post_id")
        if wp_id in self.seen or LegacyPost.select().where(LegacyPost.wp_id == wp_id).exists():
            return self.skip(f"{post_type}: already imported (same WordPress id)")
        self.seen.add(wp_id)
        if status in SKIPPED_STATUSES:
            return self.skip(f"{post_type}: {SKIPPED_STATUSES[status]}")
        if status not in STATUSES:
            return self.skip(f"{post_type}: status “{status or 'none'}”")
        self.create(item, post_type, wp_id, status)

    def create(self, item, post_type, wp_id, wp_status):
        local = wp_datetime(text_of(item, "wp:post_date"))
        when = (
            wp_datetime(text_of(item, "wp:post_date_gmt"))
            or (local and to_utc(local, self.zone))
            or rss_datetime(text_of(item, "pubDate"))
        )
        modified = wp_datetime(text_of(item, "wp:post_modified_gmt"))
        status = STATUSES[wp_status]
        if wp_status == "private":
            self.summary.as_drafts["private"] += 1
        elif text_of(item, "wp:post_password") and status != Article.DRAFT:
            status = Article.DRAFT
            self.summary.as_drafts["password-protected"] += 1
        if status == "scheduled":
            status = Article.PUBLISHED if when else Article.DRAFT
        published_at = (when or self.now) if status == Article.PUBLISHED else None

        post = f"{post_type} {wp_id} “{plain(text_of(item, 'title')) or 'untitled'}”"
        body = self.body.convert(text_of(item, "content:encoded"), wp_id, post)
        body_text = plain_text(body)
        title = plain(text_of(item, "title"))[:TITLE_LENGTH].strip()
        title = title or first_sentence(body_text, 80) or f"Untitled {post_type} {wp_id}"
        lead = plain(text_of(item, "excerpt:encoded")) or first_sentence(body_text)
        post_name = unquote(text_of(item, "wp:post_name")).strip().lower()
        slug = slugify(post_name) if has_slug_text(post_name) else slugify(title)

        tags = {name.casefold() for taxonomy, _, name in self.terms(item) if taxonomy == "tag"}
        tags.discard("")
        self.summary.tags |= tags
        self.summary.tagged_articles += bool(tags)
        self.summary.comments += len(children(item, "wp:comment"))

        author = self.author(text_of(item, "dc:creator"))
        category = self.category_name(item)
        section, rubric = self.placement(category)
        lead_image = self.featured_image(item, post)
        path = link_address(text_of(item, "link"))
        self.summary.addresses += path is not None
        self.note_addresses(item, post_type, post_name, path, category or self.default_name())
        self.summary.imported[post_type] += 1
        state = "scheduled" if published_at and published_at > self.now else status
        self.summary.states[state] += 1
        if self.options.dry_run:
            return
        created = when or self.now
        article = Article.create(
            title=title,
            slug=slug,
            lead=lead,
            body=body,
            section=section,
            rubric=rubric,
            author=author,
            hot=text_of(item, "wp:is_sticky").strip() == "1",
            status=status,
            published_at=published_at,
            created_at=created,
            updated_at=max(modified or created, created),
            lead_image=lead_image,
            lead_image_alt=lead_image.alt if lead_image else "",
        )
        ArticleIndex.store(article)
        Revision.record(article, None, "imported from WordPress")
        permalink_date = local or (when and when.replace(tzinfo=dt.UTC).astimezone(self.zone))
        LegacyPost.create(
            wp_id=wp_id,
            post_type=post_type,
            slug=post_name or slug,
            year=permalink_date.year if permalink_date else None,
            month=permalink_date.month if permalink_date else None,
            day=permalink_date.day if permalink_date else None,
            article=article,
            path=path,
        )


def import_wordpress(path, options, progress=None, found=None):
    """Import the WXR file at `path`; returns the Summary. Raises WXRError for a bad file.

    Everything is one transaction: on any failure nothing is stored and the media
    files written so far are removed. `progress(item_count)` is called after each item.
    """
    found = found or scan(path)
    summary = Summary(dry_run=options.dry_run)
    importer = Importer(found, options, summary)

    def run():
        for element in channel_elements(path):
            if element.tag == "item":
                importer.item(element)
                if progress:
                    progress(1)
        importer.archive_addresses()

    if options.dry_run:
        run()
        return summary
    try:
        with write_transaction():
            run()
            SiteSettings.bump_content_version()
    except BaseException:
        importer.uploads.remove_written_files()
        raise
    return summary


# --- Old addresses ----------------------------------------------------------------------------

ADDRESS_LENGTH = 1000  # characters of LegacyPost.path and LegacyTerm.path; longer: not kept
TAXONOMIES = {"category": "category", "post_tag": "tag", "tag": "tag"}  # WXR domain -> ours
DATE_PERMALINK = re.compile(r"/([0-9]{4})/([0-9]{2})(?:/([0-9]{2}))?/([^/?]+)")
FEED_SUFFIX = re.compile(r"/feed(?:/(?:rss2?|atom|rdf))?$")
PAGE_SUFFIX = re.compile(r"/page/[0-9]{1,6}$")


def url_parts(url):
    """(percent-decoded path, raw query) of a URL or a path; the host is dropped."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:  # "http://[" and the like
        return "", ""
    return unquote(parts.path, errors="replace"), parts.query


def old_address(path, query=""):
    """An old address as it is kept and looked up: its path (percent-decoded, NFC, lower
    case, no empty segments or trailing slash) and its query parameters, sorted.

    No host: the addresses still match after the site moved to another domain.
    """
    address = "/" + "/".join(segment for segment in path.split("/") if segment)
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    if pairs:
        address += "?" + "&".join(f"{name}={value}" for name, value in pairs)
    return unicodedata.normalize("NFC", address).lower()


def link_address(url):
    """The old address of an item's <link>, or None: none, the home page, too long, or
    ?p=ID (found by the post's id, under any path)."""
    path, query = url_parts(url)
    if legacy_id(dict(parse_qsl(query))) is not None:
        return None
    address = old_address(path, query)
    return address if 1 < len(address) <= ADDRESS_LENGTH else None


def visible_legacy(condition):
    """The visible article of the first imported post meeting `condition`, or None."""
    query = Article.visible().join(LegacyPost, on=(LegacyPost.article == Article.id))
    return query.where(condition).order_by(LegacyPost.id).first()


def legacy_article(wp_id):
    """The visible article imported from the WordPress post with this id, or None."""
    return visible_legacy(LegacyPost.wp_id == wp_id)


def legacy_id(args):
    """The post id of /?p=ID or /?page_id=ID, or None."""
    for name in ("p", "page_id"):
        value = args.get(name, "")
        if re.fullmatch(r"[0-9]{1,10}", value) and 0 < int(value) < 2**31:
            return int(value)
    return None


def moved(path, query, wp_id=None):
    """Where an address of the WordPress site imported here went, or None: ("article",
    Article), ("section" or "rubric", the row), ("section_rss" or "rubric_rss", the row)
    or ("site_rss", None).

    `path` percent-decoded (as request.path is), `query` as sent, `wp_id` of ?p=ID.
    Asked only for requests that would be 404s; two indexed lookups for most.
    """
    bare = old_address(path)
    article = visible_legacy(LegacyPost.path.in_(list({old_address(path, query), bare})))
    if article is None and wp_id:
        article = legacy_article(wp_id)  # WordPress in a folder: /blog/?p=ID
    if article is None and (date := DATE_PERMALINK.fullmatch(bare)):
        # Posts imported before their links were kept, and a date permalink without the day.
        year, month, day, slug = date.groups()
        condition = (
            (LegacyPost.slug == slug)
            & (LegacyPost.year == int(year))
            & (LegacyPost.month == int(month))
        )
        article = visible_legacy(condition & (LegacyPost.day == int(day)) if day else condition)
    if article:
        return "article", article
    feed = FEED_SUFFIX.search(bare)
    archive = PAGE_SUFFIX.sub("", bare[: feed.start()] if feed else bare)
    if feed and not archive:
        return "site_rss", None
    term = LegacyTerm.get_or_none(LegacyTerm.path == archive) if archive else None
    model = {"section": Section, "rubric": Rubric}.get(term.kind) if term else None
    row = model.get_or_none(model.id == term.target_id) if model else None
    if row is None:
        return None
    return (f"{term.kind}_rss" if feed else term.kind), row


# --- The command ------------------------------------------------------------------------------


@click.command("import-wordpress")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pages", is_flag=True, help="Import pages as articles too (else they are skipped).")
@click.option(
    "--categories",
    type=click.Choice(["rubrics", "sections"]),
    default="rubrics",
    show_default=True,
    help="What WordPress categories become.",
)
@click.option(
    "--section",
    default="News",
    show_default=True,
    help="The section of every article (with --categories sections: of those without a "
    "category). Created if missing.",
)
@click.option(
    "--rubric",
    default="General",
    show_default=True,
    help="The rubric of articles without a category (with --categories sections: of every "
    "article). Created if missing.",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar='"CATEGORY=NAME"',
    help="Give the WordPress category CATEGORY (its name or slug) the Newsdesk name NAME; "
    "several categories mapped to one name are merged. Repeatable.",
)
@click.option(
    "--uploads",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A copy of the old site's wp-content/uploads folder (or of wp-content, or of the "
    "WordPress folder): the images posts use, featured and in their text, are imported "
    "from it.",
)
@click.option(
    "--category-base",
    default="",
    metavar="BASE",
    help="The old site's category base (WordPress: Settings › Permalinks), if it was set; "
    "else category archives were at …/category/SLUG/.",
)
@click.option(
    "--tag-base",
    default="",
    metavar="BASE",
    help="The old site's tag base, if it was set; else tag archives were at …/tag/SLUG/.",
)
@click.option("--dry-run", is_flag=True, help="Read the file and report; store nothing.")
@with_appcontext  # media.py reads the app's config
def import_wordpress_command(
    file, pages, categories, section, rubric, mapping, uploads, category_base, tag_base, dry_run
):
    """Import a WordPress export (WXR) FILE.xml: posts (and pages) become articles.

    \b
    Posts become articles; pages too with --pages; menus, revisions and other
    post types are skipped. Status: publish -> published, future -> scheduled,
    draft -> draft, pending -> submitted, private and password-protected ->
    draft; trash and auto-draft are skipped.

    \b
    A post's first category becomes its rubric (or section, with --categories
    sections); "Uncategorized" counts as none, and a post without a category
    gets the default. Authors become author accounts that cannot log in (an
    existing staff account with the same email or name is used instead). Tags
    and comments are left out: Newsdesk has neither. Every body is sanitized.

    \b
    With --uploads, every image a post uses (its featured image; images, their
    size variants and srcset, and links to images in its text) goes through the
    media library's checks, once per file, and the text points at the copy.
    Images missing from the folder or refused are listed with their post; in
    the text, an image that could not be imported leaves its alt text.

    \b
    Old addresses keep working (301 to the new page): each post's own old
    link whatever the permalink structure, /?p=ID and /?page_id=ID, and the
    category and tag archives (to the rubric or section their posts went to),
    with their feeds.

    \b
    Running it again is safe: posts already imported (by their WordPress id)
    are skipped, so a later export of the same site adds only new posts.
    Import one WordPress site per Newsdesk site: ids of two sites collide.
    The import is one transaction: if anything fails, nothing is stored.
    Editors' saves wait while it runs.
    """
    try:
        options = Options(
            pages=pages,
            categories=categories,
            section=" ".join(section.split()),
            rubric=" ".join(rubric.split()),
            mapping=parse_mapping(mapping),
            uploads=uploads,
            category_base=category_base.strip(),
            tag_base=tag_base.strip(),
            dry_run=dry_run,
        )
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--map") from None
    if not options.section or not options.rubric:
        raise click.BadParameter("needs a name", param_hint="--section/--rubric")
    prepare_database()
    try:
        found = scan(file)
    except WXRError as error:
        raise click.ClickException(
            f"{file} cannot be imported: {error}. Nothing was stored."
        ) from None
    try:
        with click.progressbar(length=found.items, label="Importing WordPress items") as bar:
            summary = import_wordpress(file, options, progress=bar.update, found=found)
    except WXRError as error:
        raise click.ClickException(
            f"{file} cannot be imported: {error}. Nothing was stored."
        ) from None
    except Exception as error:
        raise click.ClickException(
            f"the import failed, and nothing was stored: {type(error).__name__}: {error}"
        ) from error
    for line in summary.lines():
        click.echo(line)
