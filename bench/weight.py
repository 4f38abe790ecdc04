"""Page weight of the first view: HTML + CSS + JS + fonts, gzip-compressed, per page.

A first view downloads the page and every stylesheet, script and font it links (nothing is
cached yet); `first_view` fetches them all, compresses each with gzip at the level of the
nginx site in deploy/nginx.conf (as nginx would send them) and adds them up. For an article
the gzip size of its own text (the plain text of its body) is subtracted: the targets are
about what the site adds to the text. Images are listed apart and not counted.

Targets: main and article pages 40 KB or less beyond the article's text; the text version's
4 KB or less.

Importable by tests: `first_view(get, path)` takes any `get(path) -> (status, content_type,
body)`, for instance a Flask test client:

    def get(path):
        response = client.get(path)
        return response.status_code, response.content_type, response.data

Run from the repository root (starts its own gunicorn on the benchmark database):
    python bench/weight.py [--quick] [--json PATH]
"""

import argparse
import gzip
import re
import sys
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

REPO = Path(__file__).resolve().parent.parent
KB = 1024
FULL_TARGET, TEXT_TARGET = 40 * KB, 4 * KB


def nginx_gzip_level(default=6):
    """gzip_comp_level of deploy/nginx.conf (what readers get), else `default`."""
    try:
        found = re.search(r"^\s*gzip_comp_level\s+(\d+)\s*;", (REPO / "deploy" / "nginx.conf")
                          .read_text(), re.M)  # fmt: skip
    except OSError:
        return default
    return int(found.group(1)) if found else default


GZIP_LEVEL = nginx_gzip_level()


def gzip_size(data, level=GZIP_LEVEL):
    if isinstance(data, str):
        data = data.encode()
    return len(gzip.compress(data, compresslevel=level, mtime=0))


class LinkedResources(HTMLParser):
    """Stylesheets, scripts, preloaded fonts and images of a page; the text of its article."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.resources = []  # (kind, url)
        self.images = []
        self.body_depth = 0  # > 0 while inside <div class="article-body">
        self.body_text = []
        self.found_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        rel = (attrs.get("rel") or "").lower().split()
        if tag == "link" and attrs.get("href"):
            if "stylesheet" in rel:
                self.resources.append(("css", attrs["href"]))
            elif "preload" in rel or "modulepreload" in rel:
                kind = {"style": "css", "script": "js", "font": "font"}.get(attrs.get("as"), "js")
                self.resources.append((kind, attrs["href"]))
        elif tag == "script" and attrs.get("src"):
            self.resources.append(("js", attrs["src"]))
        elif tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if self.body_depth:
            if tag not in VOID_ELEMENTS:
                self.body_depth += 1
            if tag in BLOCK_ELEMENTS:
                self.body_text.append("\n")
        elif (
            tag == "div"
            and "article-body" in (attrs.get("class") or "").split()
            and not self.found_body  # the article's own text, not a later excerpt
        ):
            self.body_depth, self.found_body = 1, True

    def handle_endtag(self, tag):
        if self.body_depth and tag not in VOID_ELEMENTS:
            self.body_depth -= 1

    def handle_data(self, data):
        if self.body_depth:
            self.body_text.append(data)


VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                 "source", "track", "wbr"}  # fmt: skip
BLOCK_ELEMENTS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                  "figure", "figcaption", "tr", "br"}  # fmt: skip
CSS_URL = re.compile(r"""(?:@import\s+(?:url\()?|url\()\s*['"]?([^'")\s]+)['"]?""")
FONT_EXTENSIONS = (".woff2", ".woff", ".ttf", ".otf", ".eot")


@dataclass
class Resource:
    kind: str  # html, css, js, font
    path: str
    raw: int
    gzip: int
    status: int


@dataclass
class FirstView:
    path: str
    target: int
    resources: list = field(default_factory=list)
    text_raw: int = 0  # the article's plain text, bytes
    text_gzip: int = 0
    images: list = field(default_factory=list)  # listed, not counted
    external: list = field(default_factory=list)  # other sites: not fetched (there should be none)
    problems: list = field(default_factory=list)

    @property
    def total_gzip(self):
        return sum(r.gzip for r in self.resources)

    @property
    def beyond_text(self):
        return self.total_gzip - self.text_gzip

    @property
    def met(self):
        return not self.problems and self.beyond_text <= self.target

    def gzip_of(self, kind):
        return sum(r.gzip for r in self.resources if r.kind == kind)

    def as_dict(self):
        return {
            **asdict(self),
            "total_gzip": self.total_gzip,
            "beyond_text": self.beyond_text,
            "met": self.met,
        }


def same_site(url):
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def first_view(get, path, target=FULL_TARGET):
    """The FirstView of `path`: the page, its stylesheets (and their imports and fonts),
    scripts and preloads, each fetched once with `get(path) -> (status, type, body)`."""
    view = FirstView(path, target)
    status, _type, html = get(path)
    view.resources.append(Resource("html", path, len(html), gzip_size(html), status))
    if status != 200:
        view.problems.append(f"{path} answered {status}")
        return view
    parser = LinkedResources()
    parser.feed(html.decode("utf-8", "replace"))
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.body_text))
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    view.text_raw, view.text_gzip = len(text.encode()), gzip_size(text) if text else 0
    view.images = [urljoin(path, src) for src in parser.images]

    queue = [(kind, urljoin(path, url)) for kind, url in parser.resources]
    seen = {path}
    while queue:
        kind, url = queue.pop(0)
        if not same_site(url):
            view.external.append(url)
            continue
        if url in seen:
            continue
        seen.add(url)
        status, _type, body = get(url)
        if urlsplit(url).path.lower().endswith(FONT_EXTENSIONS):
            kind = "font"
        # Fonts are compressed already: nginx sends them as they are.
        size = len(body) if kind == "font" else gzip_size(body)
        view.resources.append(Resource(kind, url, len(body), size, status))
        if status != 200:
            view.problems.append(f"{url} answered {status}")
        elif kind == "css":
            for found in CSS_URL.findall(body.decode("utf-8", "replace")):
                if found.startswith("data:"):
                    continue
                target_url = urljoin(url, found)
                is_font = urlsplit(target_url).path.lower().endswith(FONT_EXTENSIONS)
                if is_font or found.endswith(".css"):
                    queue.append(("font" if is_font else "css", target_url))
    return view


def article_path(get):
    """The first article linked from the main page, or None."""
    status, _type, body = get("/")
    found = re.search(rb'href="(/articles/\d+/[^"/?#]+)"', body) if status == 200 else None
    return found.group(1).decode() if found else None


def measure_site(get):
    """FirstViews of the main page, an article, and their text versions."""
    article = article_path(get)
    pages = [("main page", "/", FULL_TARGET), ("text main page", "/text/", TEXT_TARGET)]
    if article:
        pages[1:1] = [("article", article, FULL_TARGET)]
        pages.append(("text article", "/text" + article, TEXT_TARGET))
    return [(label, first_view(get, path, target)) for label, path, target in pages]


def print_weights(views):
    from common import print_table  # only for printing: tests need not have bench/ on the path

    def kb(n):
        return f"{n / KB:.1f}"

    header = ("page", "HTML", "CSS", "JS", "fonts", "total", "article text", "beyond text",
              "target", "met")  # fmt: skip
    rows = [
        (label, kb(v.gzip_of("html")), kb(v.gzip_of("css")), kb(v.gzip_of("js")),
         kb(v.gzip_of("font")), kb(v.total_gzip), kb(v.text_gzip), kb(v.beyond_text),
         f"<= {v.target / KB:.0f}", "yes" if v.met else "NO")
        for label, v in views
    ]  # fmt: skip
    print(f"\nPage weight of the first view, KB gzip-compressed (level {GZIP_LEVEL}, as nginx):")
    print_table(header, rows)
    for label, v in views:
        files = ", ".join(f"{r.path} {kb(r.raw)}→{kb(r.gzip)}" for r in v.resources[1:])
        print(f"  {label}: {v.path}: {files or 'no linked files'}")
        if v.images:
            print(f"    images (not counted): {len(v.images)}")
        for problem in v.problems + [f"external, not fetched: {u}" for u in v.external]:
            print(f"    problem: {problem}")


def main(argv=None):
    import common

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 1,000-article database")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    db_path, articles = common.database_for(args.quick)
    common.ensure_database(db_path, articles)
    with common.gunicorn(db_path, common.DATA_DIR / "weight.log") as server:

        def get(path):
            return common.http_get_full(server.base_url + path)

        views = measure_site(get)
    print_weights(views)
    if args.json:
        common.write_json(args.json, {"pages": {label: v.as_dict() for label, v in views}})
    return 0 if all(v.met for _label, v in views) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import main_guard

    main_guard(main)
