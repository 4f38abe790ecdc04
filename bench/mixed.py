"""Mixed load: readers and editors at once, then with kill -9 of workers, then a backup
under load, then editors merging their saves; afterwards, every save that was answered with
success must be in the database.

Four phases on one copy of the benchmark database, each with its own gunicorn (the
repository's gunicorn.conf.py, 2 workers, page cache on):
  1. mixed:   32 reader connections (wrk walking a list of public pages: the main pages,
              articles, text versions, sections, feeds, searches) plus 4 editors, for 60 s.
  2. kill -9: the same, and every 10 s a random gunicorn worker gets SIGKILL.
  3. backup:  the same load (half as long); `flask --app app backup PATH` runs meanwhile.
  4. merge:   the same readers, and the 4 editors all editing the title, lead and body of
              the same 10 articles from versions others have often saved over meanwhile.
Each kill comes at the first moment after its 10 s mark when a worker is handling an
editor's save (found from /proc/net/tcp and the workers' descriptors), and goes to a random
worker: about half the kills land in the middle of a save.
Each editor is a Python thread with its own session: it logs in through the login form
(CSRF token from the form), takes the CSRF token from <meta name="csrf-token">, then saves
the lead of an article in a loop through the editor's own request (POST
/desk/articles/<id>/fields/lead with `version`, X-CSRFToken and HX-Request headers), taking
the new version from each answer. Each editor has an article of its own; one save in four
goes to an article all editors share, so they collide: 409 (conflict, nothing saved) is a
correct answer, after which the editor takes the current version from the answer.

Every save answered 200 is recorded (article, version, value). Afterwards:
  - no 5xx (the access log is read too) and no "database is locked" in gunicorn's log;
  - every recorded save has its Revision row (article, version) holding that value, and
    each article's current version and lead agree with the last save of it;
  - PRAGMA integrity_check is ok; after the kill -9 phase gunicorn still serves, with all
    its workers;
  - the backup passes integrity_check, holds every save acknowledged before it started,
    and opens as a working site (a second gunicorn on it answers / and an article).
A save whose answer never came (its worker was killed) is neither acknowledged nor lost.

The merge phase (MergeEditor, verify_merges): each text of the 10 articles is a row of
slots, one per editor and one shared; an editor opens a field's in-place editor, waits a
moment, puts a token unique to that save in a slot and saves from the version it read. Its
own slot: nobody else changes it, so a stale save must merge; the shared slot: another's
change is an overlap, 409, resolved by sending the conflict form back as it came ("Save
mine"). Afterwards, from every revision the phase made (read with sqlite3):
  - each acknowledged save's revision holds its token, changes no other slot, and replaced
    only what its form showed; one that says "merged" holds the others' changes and names
    them; the article as it is holds the last acknowledged token of every slot;
  - no 409 changed anything, and each had an overlap behind it;
  - every revision is exactly one acknowledged save.

Database: a copy of bench/data/bench-100k.db (1.5 GB; copying takes a few seconds) in
bench/data/, removed afterwards; --quick uses the 1k one.

Run from the repository root:
    python bench/mixed.py                  # 60 s a phase (the backup phase 30 s)
    python bench/mixed.py --duration 20 --quick
    python bench/mixed.py --json bench/results/mixed.json
    python bench/mixed.py --phase merge    # one phase only (repeatable)
"""

import argparse
import collections
import contextlib
import html
import http.client
import http.cookiejar
import itertools
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import common

FIELD = "lead"
EDITOR_PASSWORD = "bench-editor-password-0123"
SHARED_EVERY = 4  # one save in four goes to the shared article
REQUEST_TIMEOUT = 15
ACCESS_STATUS = re.compile(r'^\S+ \S+ \S+ \[[^\]]+\] "[^"]*" (\d{3}) ', re.M)
LOCKED = "database is locked"


# --- Editors ------------------------------------------------------------------------------


@dataclass
class Ack:
    """A save the site answered with success: it must be in the database."""

    editor: str
    article: int
    version: int
    value: str
    at: float  # time.monotonic() when the answer arrived


@dataclass
class EditorStats:
    saved: int = 0
    conflicts: int = 0  # 409: someone saved first; nothing saved, current version sent back
    unknown: int = 0  # no answer (connection lost: its worker was killed)
    server_errors: int = 0  # 5xx
    other: list = field(default_factory=list)  # any other answer: a failure of the test


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class NoAnswer(Exception):
    """No whole answer to a request: whether a save happened is unknown."""


class PortRecorder(urllib.request.HTTPHandler):
    """urllib's HTTP handler, noting the local port of each connection on `owner`: the
    killer finds with it which gunicorn worker is handling a save."""

    def __init__(self, owner):
        super().__init__()
        self.owner = owner

    def http_open(self, req):
        owner = self.owner

        class Connection(http.client.HTTPConnection):
            def connect(self):
                super().connect()
                owner.local_port = self.sock.getsockname()[1]

        return self.do_open(Connection, req)


def worker_handling(server_port, client_ports, workers):
    """{client port: pid} of the workers holding a connection from one of `client_ports`
    (from /proc/net/tcp and the workers' file descriptors)."""
    wanted = {f"0100007F:{port:04X}": port for port in client_ports if port}
    inodes = {}
    with contextlib.suppress(OSError), open("/proc/net/tcp") as table:
        for line in table:
            fields = line.split()
            ours = len(fields) > 9 and fields[1] == f"0100007F:{server_port:04X}"
            if ours and fields[2] in wanted:
                inodes[f"socket:[{fields[9]}]"] = wanted[fields[2]]
    found = {}
    for pid in workers:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target in inodes:
                        found[inodes[target]] = pid
    return found


class Editor(threading.Thread):
    """One editor: its own cookie jar, a real login, saves in a loop until `stop` is set."""

    def __init__(self, base_url, email, own, shared, stop, acks, name, password=EDITOR_PASSWORD):
        super().__init__(name=name, daemon=True)
        self.base_url, self.email, self.password = base_url, email, password
        self.own, self.shared, self.stop, self.acks = own, shared, stop, acks
        self.stats = EditorStats()
        self.versions = {}
        self.token = None
        self.rng = random.Random(name)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), PortRecorder(self)
        )
        self.error = None
        self.saving = False  # a save is on its way
        self.local_port = None  # of the connection of the latest request

    def request(self, path, data=None, headers=None):
        """(status, body); HTTP errors are answers. NoAnswer when no whole answer came (the
        connection failed, or broke in the middle of the response: its worker was killed)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            try:
                return error.code, error.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as broken:
                raise NoAnswer(broken) from broken
        except (OSError, http.client.HTTPException) as error:
            raise NoAnswer(error) from error

    def login(self):
        status, page = self.request("/auth/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or not token:
            raise RuntimeError(f"{self.name}: the login form answered {status}")
        status, page = self.request(
            "/auth/login",
            {"csrf_token": token.group(1), "email": self.email, "password": self.password},
        )
        meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
        if status != 200 or not meta:
            raise RuntimeError(f"{self.name}: logging in answered {status}, no CSRF meta tag")
        self.token = meta.group(1)

    def fetch_version(self, article):
        status, page = self.request(f"/desk/articles/{article}/fields/{FIELD}")
        found = re.search(r'data-version="(\d+)"', page)
        if status != 200 or not found:
            raise RuntimeError(f"{self.name}: the field view of {article} answered {status}")
        self.versions[article] = int(found.group(1))

    def save(self, article, counter):
        value = f"Bench save {self.name} {counter} {secrets.token_hex(4)}"
        headers = {"X-CSRFToken": self.token, "HX-Request": "true"}
        data = {"version": self.versions[article], FIELD: value}
        self.saving = True  # the killer waits for such a moment
        try:
            status, page = self.request(f"/desk/articles/{article}/fields/{FIELD}", data, headers)
        except NoAnswer:
            self.saving = False
            self.stats.unknown += 1  # the save may or may not have happened: ask
            time.sleep(0.2)
            self.resync(article)
            return
        self.saving = False
        if status == 200:
            found = re.search(r'data-version="(\d+)"', page)
            if not found:
                self.stats.other.append(f"200 without data-version for {article}")
                return
            version = int(found.group(1))
            self.acks.append(Ack(self.name, article, version, value, time.monotonic()))
            self.stats.saved += 1
            self.versions[article] = version
        elif status == 409:
            found = re.search(r'name="version" value="(\d+)"', page)
            self.stats.conflicts += 1
            if found:
                self.versions[article] = int(found.group(1))
            else:
                self.stats.other.append(f"409 without the current version for {article}")
                self.resync(article)
        elif status >= 500:
            self.stats.server_errors += 1
            self.resync(article)
        else:
            self.stats.other.append(f"{status} for a save of {article}")
            self.resync(article)

    def resync(self, article):
        for _ in range(20):
            if self.stop.is_set():
                return
            try:
                self.fetch_version(article)
                return
            except (NoAnswer, RuntimeError):
                time.sleep(0.25)

    def run(self):
        try:
            for attempt in range(20):  # a worker killed under the login: try again
                try:
                    self.login()
                    self.fetch_version(self.own)
                    self.fetch_version(self.shared)
                    break
                except (NoAnswer, RuntimeError):
                    if attempt == 19:
                        raise
                    time.sleep(0.25)
            counter = 0
            while not self.stop.is_set():
                counter += 1
                shared = self.rng.randrange(SHARED_EVERY) == 0
                self.save(self.shared if shared else self.own, counter)
        except Exception as error:  # reported by the phase, not lost in a thread
            self.error = f"{type(error).__name__}: {error}"


# --- Editors of the same articles (the merge phase) ---------------------------------------
#
# The title, lead and body of each shared article are rows of slots, one per editor and one
# shared by all ("Merge bench [e1-4] [e2-0] [e3-9] [e4-2] [e2-7]"; in the body, a paragraph
# a slot). An editor opens a field's in-place editor, waits while others save, then puts a
# token unique to this save in one slot and saves from the version it read. In its own slot
# nobody else changes anything, so a save from a stale version must merge; in the shared
# slot, another's change since is an overlap: a 409, which the editor resolves as a person
# pressing "Save mine" would, sending the conflict form as it came. As in a newsroom, an
# editor often turns to an article someone else has open at that moment (FOLLOW), and
# changes the shared slot where another is changing it: that is when saves meet.

MERGE_FIELDS = ("title", "lead", "body")
# What an editor changes, (field, the shared slot?), and how often: mostly its own slots
# (merges), sometimes the shared one (conflicts).
MERGE_MIX = {
    ("body", False): 30,
    ("title", False): 15,
    ("lead", False): 15,
    ("body", True): 25,
    ("title", True): 15,
}
TEXT_PREFIX = {"title": "Merge bench", "lead": "Slots:"}
FOLLOW = 0.5  # how often an editor turns to what another has open, when someone has
THINK_SECONDS = (0.1, 1.0)  # from opening a field's editor to saving it
RESOLVE_SECONDS = (0.05, 0.3)  # from a conflict to pressing "Save mine"
RESOLVE_TRIES = 5  # 409 after 409 (others keep changing the slot): the editor gives up
SLOT_PARAGRAPH = re.compile(r"<p>Slot [a-z0-9]+: (\[[^\]<]*\])</p>")
MERGED_WITH = re.compile(r"merged with (.+?)’s change to the")


@dataclass(frozen=True)
class SlotLayout:
    """How each text of the shared articles holds its slots: one per editor, then the
    shared one. `spaced` puts a fixed word before each slot (a subhead in the body), so
    that no two slots are neighbours: a conflict's "Save mine" then meets no neighbour's
    change (see test_merges.py: test_save_mine_keeps_a_neighbours_change)."""

    editors: int
    spaced: bool = False

    @property
    def names(self):
        return [f"e{n + 1}" for n in range(self.editors)] + ["shared"]

    @property
    def shared(self):
        """The index of the shared slot."""
        return self.editors

    def compose(self, name, tokens):
        """The text of field `name` holding these tokens, one a slot."""
        pairs = list(zip(self.names, tokens, strict=True))
        if name == "body":
            head = "<h2>Part {}</h2>\n" if self.spaced else ""
            return "\n".join(f"{head.format(s)}<p>Slot {s}: {t}</p>" for s, t in pairs)
        words = [f"{s}: {t}" if self.spaced else t for s, t in pairs]
        return " ".join([TEXT_PREFIX[name], *words])

    def tokens(self, name, text):
        """The tokens of a text `compose` made, or None when it is not one: a merge that
        dropped, doubled or garbled a slot."""
        if name == "body":
            tokens = SLOT_PARAGRAPH.findall(text or "")
        else:
            words = (text or "").split()[len(TEXT_PREFIX[name].split()) :]
            tokens = words[1::2] if self.spaced else words
        if len(tokens) != len(self.names) or self.compose(name, tokens) != text:
            return None
        return tokens


def field_form(page, name):
    """(version, text) of the in-place editor of field `name` in `page`, or None."""
    version = re.search(r'name="version" value="(\d+)"', page)
    if name == "title":
        found = re.search(r'<input[^>]*\bname="title"[^>]*\bvalue="([^"]*)"', page)
    else:
        found = re.search(rf'<textarea[^>]*\bname="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    if not version or not found:
        return None
    # A browser drops the newline that opens a textarea's text; so does this.
    text = html.unescape(found.group(1)).removeprefix("\r\n").removeprefix("\n")
    return int(version.group(1)), text


@dataclass
class MergeSave:
    """One answer to a merge editor's save: 200 with the version it made, 409 with the
    version its conflict form carries, or none (status None)."""

    editor: str
    article: int
    field: str
    slot: int
    token: str
    base: int  # the version the form was made from
    resolving: bool  # "Save mine" from a conflict form
    status: int | None = None
    version: int | None = None
    merged_with: list = field(default_factory=list)  # the names a 200 says it merged with
    at: float = 0.0


@dataclass
class MergeStats:
    saved: int = 0
    merged: int = 0  # 200s that say they merged with another's change
    conflicts: int = 0  # 409s
    resolved: int = 0  # "Save mine" after a 409, saved
    abandoned: int = 0  # still a conflict after RESOLVE_TRIES, or the phase ended meanwhile
    unknown: int = 0  # no answer
    server_errors: int = 0
    other: list = field(default_factory=list)


class MergeEditor(Editor):
    """An editor of the shared articles: its own slot (`slot`) of every text, and the
    shared one (the last). Records every answer to a save in `saves`; `desk`, shared by
    the phase's editors, says which (article, field, shared slot?) each has open."""

    def __init__(self, base_url, email, slot, articles, stop, saves, name, layout, desk):
        super().__init__(base_url, email, None, None, stop, saves, name)
        self.slot, self.articles, self.layout, self.desk = slot, articles, layout, desk
        self.stats = MergeStats()
        self.counter = 0

    def read_form(self, article, name):
        """(version, text) of a field's in-place editor, as opening it gives them."""
        status, page = self.request(f"/desk/articles/{article}/fields/{name}/edit")
        form = field_form(page, name)
        if status != 200 or form is None:
            raise RuntimeError(f"{self.name}: the {name} editor of {article} answered {status}")
        return form

    def post(self, article, name, version, text):
        headers = {"X-CSRFToken": self.token, "HX-Request": "true"}
        data = {"version": version, name: text}
        return self.request(f"/desk/articles/{article}/fields/{name}", data, headers)

    def prepare(self, articles):
        """Make each article's title, lead and body rows of slots: {article: its version}."""
        layout = self.layout
        start = [f"[{name}-0]" for name in layout.names]
        versions = {}
        for article in articles:
            for name in MERGE_FIELDS:
                version, _text = self.read_form(article, name)
                status, page = self.post(article, name, version, layout.compose(name, start))
                found = re.search(r'data-version="(\d+)"', page)
                if status != 200 or not found:
                    raise RuntimeError(f"preparing the {name} of {article} answered {status}")
                versions[article] = int(found.group(1))
        return versions

    def choose(self):
        """(article, field, slot) to edit next."""
        [(name, shared)] = self.rng.choices(list(MERGE_MIX), list(MERGE_MIX.values()))
        article = self.rng.choice(self.articles)
        others = [edit for editor, edit in list(self.desk.items()) if editor != self.name]
        sharing = [edit for edit in others if edit[2]]
        if shared and sharing:  # where another editor is changing the shared slot
            article, name, _ = self.rng.choice(sharing)
        elif others and self.rng.random() < FOLLOW:
            article = self.rng.choice(others)[0]
        return article, name, self.layout.shared if shared else self.slot

    def edit_once(self):
        article, name, slot = self.choose()
        version, text = self.read_form(article, name)
        self.desk[self.name] = (article, name, slot == self.layout.shared)
        try:
            self.edit(article, name, slot, version, text)
        finally:
            self.desk.pop(self.name, None)

    def edit(self, article, name, slot, version, text):
        """Put a new token in `slot` of the text read at `version`; save; resolve a 409."""
        tokens = self.layout.tokens(name, text)
        if tokens is None:
            self.stats.other.append(f"the {name} of {article} is not a row of slots: {text!r}")
            return
        self.counter += 1
        tokens[slot] = token = f"[e{self.slot + 1}-{self.counter}]"
        text = self.layout.compose(name, tokens)
        for attempt in range(RESOLVE_TRIES + 1):
            resolving = attempt > 0
            if self.stop.wait(self.rng.uniform(*(RESOLVE_SECONDS if resolving else THINK_SECONDS))):
                self.stats.abandoned += resolving
                return
            save = MergeSave(self.name, article, name, slot, token, version, resolving)
            self.acks.append(save)
            try:
                save.status, page = self.post(article, name, version, text)
            except NoAnswer:
                self.stats.unknown += 1
                return
            finally:
                save.at = time.monotonic()
            if save.status != 409:
                self.answered(save, page)
                return
            self.stats.conflicts += 1
            form = field_form(page, name)
            kept = form and self.layout.tokens(name, form[1])
            if not kept or kept[slot] != token:
                self.stats.other.append(f"the 409 form of {article}'s {name} lost {token}")
                return
            save.version = version = form[0]
            text = form[1]  # as the conflict form holds it: "Save mine"
        self.stats.abandoned += 1

    def answered(self, save, page):
        """Count a save's answer other than 409; a 200 gets its version and merge note."""
        found = re.search(r'data-version="(\d+)"', page)
        if save.status == 200:
            if not found:
                self.stats.other.append(f"200 without data-version for {save.article}")
                return
            save.version = int(found.group(1))
            note = MERGED_WITH.search(html.unescape(page))
            save.merged_with = note.group(1).split(" and ") if note else []
            self.stats.saved += 1
            self.stats.merged += bool(note)
            self.stats.resolved += save.resolving
        elif save.status >= 500:
            self.stats.server_errors += 1
        else:
            self.stats.other.append(f"{save.status} for a save of {save.article}'s {save.field}")

    def run(self):
        try:
            self.login()
            while not self.stop.is_set():
                try:
                    self.edit_once()
                except NoAnswer:  # a form that did not come: open another
                    time.sleep(0.25)
        except Exception as error:  # reported by the phase, not lost in a thread
            self.error = f"{type(error).__name__}: {error}"


# --- Readers ------------------------------------------------------------------------------


class PythonReaders:
    """Reader threads with http.client, for runs without wrk (the pytest version)."""

    def __init__(self, base_url, paths, threads, stop):
        self.driver = common.PathDriver(base_url, threads=threads, timeout=REQUEST_TIMEOUT)
        self.paths, self.stop = paths, stop
        self.thread = None

    def start(self):
        def forever():
            self.driver.run(itertools.cycle(self.paths), stop=self.stop)

        self.thread = threading.Thread(target=forever, daemon=True)
        self.thread.start()

    def finish(self):
        self.thread.join(timeout=REQUEST_TIMEOUT + 5)
        statuses = self.driver.statuses
        return {
            "requests": sum(statuses.values()),
            "status_5xx": statuses.get("5xx", 0),
            "status_4xx": statuses.get("4xx", 0),
            "socket_errors": self.driver.errors,
        }


class WrkReaders:
    """wrk walking the reader paths at `connections` for `duration` seconds."""

    def __init__(self, base_url, paths, connections, duration, tmp):
        self.base_url, self.paths, self.connections = base_url, paths, connections
        self.duration, self.tmp = duration, tmp
        self.result, self.error, self.thread = None, None, None

    def start(self):
        script = common.paths_script(self.tmp, self.paths)

        def run():
            try:
                self.result = common.run_wrk(
                    self.base_url, self.duration, self.connections, timeout=10, script=script
                )
            except (OSError, RuntimeError, ValueError) as error:
                self.error = f"{type(error).__name__}: {error}"

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def finish(self):
        self.thread.join(timeout=self.duration + 90)
        if self.result is None:
            return {"error": self.error or "wrk gave no result"}
        report = self.result.script_report or {}
        return {
            "requests": self.result.requests,
            "rps": self.result.rps,
            "p50_ms": self.result.p50_ms,
            "p99_ms": self.result.p99_ms,
            "status_5xx": report.get("status_5xx"),
            "status_4xx": report.get("status_4xx"),
            "socket_errors": sum(self.result.socket_errors.values()),
        }


def reader_paths(db_path, articles, seed=7):
    """Public paths for readers: the edited articles among many others."""
    rng = random.Random(seed)
    slugs = common.taxonomy_slugs(db_path)
    chosen = common.visible_articles(db_path, 400, seed=seed) + common.visible_articles(db_path, 40)
    by_id = dict(chosen)
    # No search for a word in most articles: one costs about a second of CPU at 100k articles.
    paths = ["/", "/text/", "/rss.xml", "/search?q=Khalilzad", "/search?q=%22troop+withdrawal%22"]
    paths += [f"/section/{s}" for s in slugs["section"]]
    paths += [f"/section/{s}?page={rng.randint(2, 50)}" for s in slugs["section"]]
    paths += [f"/rubric/{s}" for s in slugs["rubric"]]
    for article_id in articles:
        if article_id in by_id:
            paths += [f"/articles/{article_id}/{by_id[article_id]}"] * 5
    for article_id, slug in chosen:
        paths.append(f"/articles/{article_id}/{slug}")
        if rng.random() < 0.3:
            paths.append(f"/text/articles/{article_id}/{slug}")
    rng.shuffle(paths)
    return paths


# --- Checks -------------------------------------------------------------------------------


# What verify_acks finds wrong, by kind (each a list).
ACK_FAILURES = ("missing", "wrong", "articles_behind")


def failures(verify):
    """{kind: findings} of what verify_acks or verify_merges found wrong."""
    return {kind: verify[kind] for kind in (*ACK_FAILURES, *MERGE_FAILURES) if verify.get(kind)}


def verify_acks(db_path, acks):
    """Every acknowledged save in the database with its revision: a dict of findings."""
    connection = common.read_only(db_path)
    missing, wrong = [], []
    try:
        for ack in acks:
            row = connection.execute(
                f"SELECT {FIELD} FROM revision WHERE article_id = ? AND version = ?",
                (ack.article, ack.version),
            ).fetchone()
            if row is None:
                missing.append(asdict(ack))
            elif row[0] != ack.value:
                wrong.append({**asdict(ack), "stored": row[0]})
        last = {}
        for ack in acks:
            if ack.version > last.get(ack.article, (0, None))[0]:
                last[ack.article] = (ack.version, ack.value)
        behind = []
        for article, (version, value) in last.items():
            current = connection.execute(
                f"SELECT version, {FIELD} FROM article WHERE id = ?", (article,)
            ).fetchone()
            if current is None or current[0] < version:
                behind.append({"article": article, "acked": version, "stored": current})
            elif current[0] == version and current[1] != value:
                behind.append({"article": article, "acked": version, "value_differs": True})
    finally:
        connection.close()
    return {"checked": len(acks), "missing": missing, "wrong": wrong, "articles_behind": behind}


# What verify_merges finds wrong, by kind (each a list; all empty when the phase held).
MERGE_FAILURES = (
    "missing",  # an acknowledged save whose revision does not hold its token
    "overwritten",  # a save that changed another slot, or replaced a change it never saw
    "merge_incomplete",  # "merged" without both changes, or the wrong names; or unsaid
    "not_final",  # the last acknowledged token of a slot is not in the article as it is
    "conflict_changed",  # a 409 whose token reached a revision other than its own save's
    "false_conflicts",  # a 409 although nobody had changed that slot since its base
    "unaccounted",  # a revision that is not exactly one acknowledged save
    "malformed",  # a revision whose title, lead or body is no longer a row of slots
)


@dataclass
class Snapshot:
    """One revision of a shared article: the tokens of each text, what it changed, by whom."""

    slots: dict  # field -> [token of each slot], or None when not a row of slots
    changed: set
    editor: str | None

    def differences(self, other):
        """[(field, slot)] whose tokens differ from `other`'s (texts both can read)."""
        return [
            (name, n)
            for name in MERGE_FIELDS
            if self.slots[name] and other.slots[name]
            for n, (a, b) in enumerate(zip(self.slots[name], other.slots[name], strict=True))
            if a != b
        ]


def texts_slots(texts, layout):
    """{field: tokens} of a title, lead and body (see SlotLayout.tokens)."""
    return {name: layout.tokens(name, text) for name, text in zip(MERGE_FIELDS, texts, strict=True)}


def merge_history(db_path, prepared, layout):
    """({article: {version: Snapshot}} since the prepared version, {article: Snapshot and
    version of the article row as it is})."""
    connection = common.read_only(db_path)
    history, final = {}, {}
    try:
        for article, start in prepared.items():
            rows = connection.execute(
                "SELECT r.version, r.title, r.lead, r.body, r.changed, u.display_name"
                ' FROM revision r LEFT JOIN "user" u ON u.id = r.editor_id'
                " WHERE r.article_id = ? AND r.version >= ?",
                (article, start),
            ).fetchall()
            history[article] = {
                row[0]: Snapshot(
                    texts_slots(row[1:4], layout), set(filter(None, row[4].split(","))), row[5]
                )
                for row in rows
            }
            row = connection.execute(
                "SELECT version, title, lead, body FROM article WHERE id = ?", (article,)
            ).fetchone()
            final[article] = (row[0], Snapshot(texts_slots(row[1:], layout), set(), None))
    finally:
        connection.close()
    return history, final


def verify_merges(db_path, saves, prepared, layout):
    """The merge phase's answers against every revision it made: a dict of findings.

    Each acknowledged save (200) made the revision it named, holding its token, changing
    nothing but its slot and replacing only what its form showed; one that says "merged"
    holds the others' changes too and names whose they were. Each 409 changed nothing,
    and had an overlap to report. Every revision is one acknowledged save, and the
    article as it is holds the last acknowledged token of every slot.
    """
    history, final = merge_history(db_path, prepared, layout)
    acked = [s for s in saves if s.status == 200 and s.version is not None]
    conflicts = [s for s in saves if s.status == 409]
    found = {kind: [] for kind in MERGE_FAILURES}
    for article, revisions in history.items():
        for version, snapshot in sorted(revisions.items()):
            broken = [name for name, tokens in snapshot.slots.items() if tokens is None]
            if broken:
                found["malformed"].append(
                    {"article": article, "version": version, "fields": broken}
                )
    merges_held = sum(check_acknowledged(history[s.article], s, found) for s in acked)
    for save in conflicts:
        check_conflict(history[save.article], save, acked, found)
    found["unaccounted"] = unaccounted_revisions(history, prepared, saves, acked)
    found["not_final"] = not_final(history, final, acked)
    return {
        "checked": len(acked),
        "conflicts_checked": len(conflicts),
        "merged": sum(1 for s in acked if s.merged_with),
        "merges_held": merges_held,
        "resolved": sum(1 for s in acked if s.resolving),
        "revisions": sum(len(r) for r in history.values()) - len(history),
        **found,
    }


def token_at(snapshot, name, slot):
    tokens = snapshot.slots[name] if snapshot else None
    return tokens[slot] if tokens else None


def check_acknowledged(revisions, save, found):
    """Check one 200 (findings into `found`); True if it merged and the merge held."""
    made, before, base = (revisions.get(v) for v in (save.version, save.version - 1, save.base))
    if token_at(made, save.field, save.slot) != save.token or not before or not base:
        found["missing"].append(asdict(save))
        return False
    also = [d for d in before.differences(made) if d != (save.field, save.slot)]
    replaced = token_at(before, save.field, save.slot)
    seen = token_at(base, save.field, save.slot)
    if also or replaced != seen:
        found["overwritten"].append(
            {**asdict(save), "also_changed": also, "replaced": replaced, "had_seen": seen}
        )
    # Whose changes of this field came between the form's version and this save.
    others = {
        revisions[v].editor
        for v in range(save.base + 1, save.version)
        if v in revisions and save.field in revisions[v].changed
    }
    if not save.merged_with and not others:
        return False
    theirs = [d for d in base.differences(before) if d[0] == save.field]
    held = bool(theirs) and not also and set(save.merged_with) == others
    if not held:
        found["merge_incomplete"].append(
            {**asdict(save), "editors_between": sorted(map(str, others))}
        )
    return held and bool(save.merged_with)


def check_conflict(revisions, save, acked, found):
    """A 409: its token in no revision but that of its own later "Save mine", and an
    overlap behind it (another change of the slot since its form's version)."""
    current, base = revisions.get(save.version), revisions.get(save.base)
    own = {s.version for s in acked if s.token == save.token}
    reached = sorted(
        version
        for version, snapshot in revisions.items()
        if token_at(snapshot, save.field, save.slot) == save.token
    )
    if current is None or (reached and reached[0] not in own):
        found["conflict_changed"].append({**asdict(save), "token_in": reached})
    elif token_at(current, save.field, save.slot) == token_at(base, save.field, save.slot):
        found["false_conflicts"].append(asdict(save))


def unaccounted_revisions(history, prepared, saves, acked):
    """Revisions since the prepared versions that are not exactly one acknowledged save
    (or saves that got no answer, which may or may not have happened)."""
    unanswered = {(s.article, s.token) for s in saves if s.status is None}
    acks = collections.Counter((s.article, s.version) for s in acked)
    found = []
    for article, revisions in history.items():
        for version, snapshot in sorted(revisions.items()):
            before = revisions.get(version - 1)
            if version == prepared[article] or acks[article, version] == 1:
                continue
            differences = before.differences(snapshot) if before else []
            tokens = [token_at(snapshot, name, slot) for name, slot in differences]
            if (
                not acks[article, version]
                and tokens
                and all((article, token) in unanswered for token in tokens)
            ):
                continue
            found.append({"article": article, "version": version, "tokens": tokens})
    return found


def not_final(history, final, acked):
    """Slots whose last acknowledged token is not in the article as it is stored."""
    last = {}
    for save in sorted(acked, key=lambda s: s.version):
        last[save.article, save.field, save.slot] = save
    found = []
    for (article, name, slot), save in sorted(last.items()):
        version, snapshot = final[article]
        stored = token_at(snapshot, name, slot)
        if stored != save.token or version != max(history[article]):
            found.append({**asdict(save), "stored": stored, "article_version": version})
    return found


def log_findings(text):
    statuses = ACCESS_STATUS.findall(text)
    return {
        "logged_requests": len(statuses),
        "logged_5xx": sum(1 for s in statuses if s.startswith("5")),
        "database_locked": text.count(LOCKED),
        "tracebacks": text.count("Traceback (most recent call last)"),
        "sigkilled_workers": text.count("was sent SIGKILL"),
    }


def create_editors(db_path, count, prefix="bench-editor"):
    """Editor accounts on this database (flask create-user); their emails."""
    emails = [f"{prefix}-{i + 1}@example.org" for i in range(count)]
    for email in emails:
        common.flask(
            ["create-user", email, "--role", "editor", "--password", EDITOR_PASSWORD],
            db_path,
            timeout=120,
            capture=True,
        )
    return emails


def serves_site(db_path, log_path, article_path):
    """Start gunicorn on `db_path` for a moment: (status of /, status of the article)."""
    with common.gunicorn(db_path, log_path) as server:
        return (
            common.http_get(server.base_url + "/")[0],
            common.http_get(server.base_url + article_path)[0],
        )


# --- A phase ------------------------------------------------------------------------------


@dataclass
class PhaseSpec:
    name: str
    duration: float
    editors: int = 4
    readers: int = 32  # connections (wrk) or threads (python)
    reader_kind: str = "wrk"
    kill_every: float | None = None  # seconds between SIGKILLs of a random worker
    kill_wait: float = 2.0  # how long a kill may wait for a save being handled
    backup_at: float | None = None  # seconds into the phase
    backup_path: Path | None = None
    serve_backup: bool = True  # start a gunicorn on the backup and GET two pages
    merge: bool = False  # the editors edit the same articles (MergeEditor), not their own
    spaced_slots: bool = False  # see SlotLayout


def start_editors(spec, base_url, emails, articles, stop, acks):
    """The phase's editors, logged in and saving: (editors, {article: version} the merge
    phase prepared, or None)."""
    emails = emails[: spec.editors]
    if not spec.merge:
        own, shared = articles[: len(emails)], articles[-1]
        editors = [
            Editor(base_url, email, own[i], shared, stop, acks, name=f"editor{i + 1}")
            for i, email in enumerate(emails)
        ]
        prepared = None
    else:
        layout, desk = SlotLayout(len(emails), spec.spaced_slots), {}
        editors = [
            MergeEditor(base_url, email, i, articles, stop, acks, f"editor{i + 1}", layout, desk)
            for i, email in enumerate(emails)
        ]
        editors[0].login()
        prepared = editors[0].prepare(articles)
    for editor in editors:
        editor.start()
    return editors, prepared


def run_phase(spec, db_path, emails, articles, log_path, tmp, paths):
    """Run one phase on `db_path`: a dict of findings (see the module's doc).

    `articles`: [own article of each editor..., shared article]; for a merge phase, the
    articles all its editors edit.
    """
    stop = threading.Event()
    acks = []
    findings = {"phase": spec.name, "duration_s": spec.duration, "kills": [], "backup": None}
    findings["merge"] = spec.merge
    server = common.gunicorn(db_path, log_path)
    with server, stop_on_the_way_out(stop):
        if spec.reader_kind == "wrk":
            readers = WrkReaders(server.base_url, paths, spec.readers, int(spec.duration), tmp)
        else:
            readers = PythonReaders(server.base_url, paths, spec.readers, stop)
        editors, prepared = start_editors(spec, server.base_url, emails, articles, stop, acks)
        started = time.monotonic()
        readers.start()
        backup_thread = None
        next_kill = started + spec.kill_every if spec.kill_every else None
        rng = random.Random(spec.name)
        while time.monotonic() - started < spec.duration:
            now = time.monotonic()
            if next_kill and now >= next_kill:
                # The moment: when a worker is handling an editor's save (waiting for one up
                # to kill_wait s). The victim: a random worker: even odds of dying mid-save.
                workers = common.children(server.pid)
                ports = [e.local_port for e in editors if e.saving]
                handling = worker_handling(server.port, ports, workers) if ports else {}
                if workers and (handling or now >= next_kill + spec.kill_wait):
                    victim = rng.choice(workers)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(victim, signal.SIGKILL)
                    findings["kills"].append(
                        {
                            "pid": victim,
                            "at_s": round(now - started, 1),
                            "save_being_handled": bool(handling),
                            "killed_mid_save": victim in handling.values(),
                        }
                    )
                    next_kill += spec.kill_every
            backup_due = spec.backup_at is not None and now - started >= spec.backup_at
            if backup_due and backup_thread is None:
                backup_thread = start_backup(db_path, spec.backup_path, findings, started)
            time.sleep(0.002 if next_kill and now >= next_kill else 0.05)
        stop.set()
        for editor in editors:
            editor.join(timeout=REQUEST_TIMEOUT + 10)
        findings["readers"] = readers.finish()
        if backup_thread:
            backup_thread.join(timeout=600)
        findings["load_seconds"] = time.monotonic() - started
        # Still serving, with every worker back?
        deadline = time.monotonic() + 30
        while len(common.children(server.pid)) < common.WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        findings["workers_after"] = len(common.children(server.pid))
        findings["serving_after"] = [
            common.http_get(server.base_url + "/")[0],
            common.http_get(server.base_url + "/healthz")[0],
        ]
        findings["server_alive"] = server.alive()
    findings["log"] = log_findings(server.log_text())
    findings["editors"] = {e.name: asdict(e.stats) for e in editors}
    findings["editor_errors"] = {e.name: e.error for e in editors if e.error}
    findings["saves"] = {
        "acknowledged": len(acks),
        "conflicts": sum(e.stats.conflicts for e in editors),
        "unknown": sum(e.stats.unknown for e in editors),
        "server_errors": sum(e.stats.server_errors for e in editors),
        "other": [o for e in editors for o in e.stats.other],
    }
    if spec.merge:  # its `acks` hold every answer, 409s too
        findings["saves"]["acknowledged"] = sum(e.stats.saved for e in editors)
        for name in ("merged", "resolved", "abandoned"):
            findings["saves"][name] = sum(getattr(e.stats, name) for e in editors)
        layout = SlotLayout(spec.editors, spec.spaced_slots)
        findings["verify"] = verify_merges(db_path, acks, prepared, layout)
        findings["articles"] = list(prepared)
        findings["spaced_slots"] = spec.spaced_slots
    else:
        findings["verify"] = verify_acks(db_path, acks)
    findings["integrity"] = common.integrity_check(db_path)
    if findings["backup"] and findings["backup"].get("ok"):
        check_backup(findings, acks, log_path, spec.serve_backup)
    findings["ok"] = phase_ok(findings, spec)
    findings["acks"] = [asdict(a) for a in acks]
    return findings


@contextlib.contextmanager
def stop_on_the_way_out(stop):
    """On any exit (Ctrl-C included), stop the editors and any wrk still running."""
    try:
        yield
    finally:
        stop.set()
        common.stop_running_tools()


def start_backup(db_path, backup_path, findings, started):
    """`flask --app app backup PATH` in a thread; its outcome lands in findings['backup']."""
    common.remove_database(backup_path)
    record = {
        "path": str(backup_path),
        "started_s": round(time.monotonic() - started, 1),
        "started": time.monotonic(),
    }
    findings["backup"] = record

    def run():
        try:
            done = common.flask(["backup", str(backup_path)], db_path, timeout=600, capture=True)
            record["ok"] = True
            record["output"] = done.stdout.strip()
        except subprocess.CalledProcessError as error:
            record["ok"] = False
            record["output"] = (error.stdout or "") + (error.stderr or "")
        except subprocess.TimeoutExpired:
            record["ok"] = False
            record["output"] = "timed out"
        record["seconds"] = round(time.monotonic() - record["started"], 1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def check_backup(findings, acks, log_path, serve):
    """The backup: integrity, the saves acknowledged before it began, and a site that serves."""
    record = findings["backup"]
    backup = Path(record["path"])
    record["bytes"] = backup.stat().st_size
    record["integrity"] = common.integrity_check(backup)
    before = [a for a in acks if a.at < record["started"]]
    record["acks_before_backup"] = len(before)
    verify = verify_acks(backup, before)
    record["missing_from_backup"] = verify["missing"] + verify["wrong"]
    article = common.visible_articles(backup, 1)
    path = f"/articles/{article[0][0]}/{article[0][1]}" if article else "/"
    if record["integrity"] == ["ok"] and serve:
        try:
            record["serves"] = list(
                serves_site(backup, log_path.with_name("mixed-backup.log"), path)
            )
        except RuntimeError as error:
            record["serves"] = str(error)


def phase_ok(findings, spec):
    verify, log, saves = findings["verify"], findings["log"], findings["saves"]
    readers = findings["readers"]
    ok = (
        not failures(verify)
        and log["logged_5xx"] == 0
        and log["database_locked"] == 0
        and saves["server_errors"] == 0
        and not saves["other"]
        and not findings["editor_errors"]
        and saves["acknowledged"] > 0
        and not readers.get("error")
        and (readers.get("status_5xx") or 0) == 0
        and findings["integrity"] == ["ok"]
        and findings["serving_after"] == [200, 200]
        and findings["workers_after"] == common.WORKERS
        and (not spec.merge or verify["merged"] > 0)  # else it proved nothing about merges
    )
    if spec.backup_path is not None:
        backup = findings["backup"] or {}
        ok = ok and backup.get("ok") and backup.get("integrity") == ["ok"]
        ok = ok and not backup.get("missing_from_backup")
        ok = ok and (backup.get("serves") == [200, 200] or not spec.serve_backup)
    return bool(ok)


# --- Main ---------------------------------------------------------------------------------

PHASES = ("mixed", "kill -9", "backup", "merge")


def pick_articles(db_path, count, seed=2026):
    """Ids of `count` visible articles, in a fixed random order."""
    return [article_id for article_id, _slug in common.visible_articles(db_path, count, seed=seed)]


def yes_no(flag):
    return "yes" if flag else "NO"


def print_phases(results):
    header = ("phase", "s", "reader req", "reader req/s", "5xx", "db locked", "saves ok",
              "409", "no answer", "acks verified", "missing", "integrity", "serving after",
              "ok")  # fmt: skip
    rows = []
    for f in results:
        readers, saves, verify, log = f["readers"], f["saves"], f["verify"], f["log"]
        fivexx = max(log["logged_5xx"], saves["server_errors"] + (readers.get("status_5xx") or 0))
        missing = sum(len(found) for found in failures(verify).values())
        rows.append((
            f["phase"], f"{f['load_seconds']:.0f}", common.fmt(readers.get("requests"), ","),
            common.fmt(readers.get("rps"), ",.0f"), fivexx, log["database_locked"],
            f"{saves['acknowledged']:,}", f"{saves['conflicts']:,}", saves["unknown"],
            f"{max(0, verify['checked'] - missing):,}", missing, " ".join(f["integrity"])[:20],
            f"{f['serving_after'][0]}, {f['workers_after']} workers", yes_no(f["ok"]),
        ))  # fmt: skip
    common.print_table(header, rows)
    merges = [f for f in results if f["merge"]]
    if merges:
        print()
        print_merges(merges)
    for f in results:
        if f["kills"]:
            kills = ", ".join(f"{k['at_s']:.1f} s" for k in f["kills"])
            mid_save = sum(1 for k in f["kills"] if k.get("killed_mid_save"))
            print(f"  {f['phase']}: SIGKILL to a random worker at {kills} ({mid_save} of them"
                  f" the worker handling a save; {f['saves']['unknown']} saves got no answer);"
                  f" gunicorn logged {f['log']['sigkilled_workers']} killed workers"
                  " and started new ones")  # fmt: skip
        if f["backup"]:
            b = f["backup"]
            print(
                f"  {f['phase']}: `flask backup` started {b['started_s']:.0f} s into the load,"
                f" took {b.get('seconds', '—')} s: {b.get('output', '')[:120]}"
            )
            if b.get("ok"):
                print(
                    f"    independent integrity_check: {' '.join(b.get('integrity', []))[:60]};"
                    f" {b['acks_before_backup']:,} saves acknowledged before it began,"
                    f" {len(b.get('missing_from_backup', [])):,} missing from it;"
                    f" a gunicorn on the copy answered / and an article: {b.get('serves')}"
                )
        problems = []
        if f["editor_errors"]:
            problems.append(f"editor errors: {f['editor_errors']}")
        if f["saves"]["other"]:
            problems.append(f"unexpected answers: {f['saves']['other'][:5]}")
        if f["readers"].get("error"):
            problems.append(f"readers: {f['readers']['error']}")
        for kind, found in failures(f["verify"]).items():
            problems.append(f"{kind} ({len(found)}): {found[:3]}")
        if f["log"]["tracebacks"]:
            problems.append(f"{f['log']['tracebacks']} tracebacks in {f['log_path']}")
        for problem in problems:
            print(f"  {f['phase']}: PROBLEM: {problem}")


def print_merges(results):
    """The merge phases: what the editors were told, and what the database holds."""
    header = ("phase", "editors", "articles", "saves acknowledged", "merged",
              "merges holding both", "409", "409 that changed something", "false 409",
              "resolved (Save mine)", "missing", "overwritten", "other problems",
              "5xx")  # fmt: skip
    rows = []
    for f in results:
        verify, saves, log = f["verify"], f["saves"], f["log"]
        found = failures(verify)
        missing = len(found.get("missing", [])) + len(found.get("not_final", []))
        counted = ("missing", "not_final", "overwritten", "conflict_changed", "false_conflicts")
        other = sum(len(v) for kind, v in found.items() if kind not in counted)
        fivexx = max(log["logged_5xx"], saves["server_errors"])
        rows.append((
            f["phase"], len(f["editors"]), len(f["articles"]), f"{verify['checked']:,}",
            f"{verify['merged']:,}", f"{verify['merges_held']:,}",
            f"{verify['conflicts_checked']:,}", len(verify["conflict_changed"]),
            len(verify["false_conflicts"]), f"{verify['resolved']:,}", missing,
            len(verify["overwritten"]), other, fivexx,
        ))  # fmt: skip
    common.print_table(header, rows)
    for f in results:
        verify, saves = f["verify"], f["saves"]
        layout = "spaced" if f["spaced_slots"] else "neighbours"
        print(
            f"  {f['phase']} (slots {layout}): {verify['revisions']:,} revisions made, each"
            f" one acknowledged save: {yes_no(not verify['unaccounted'])};"
            f" {saves['abandoned']} conflicts left unresolved when the phase ended or after"
            f" {RESOLVE_TRIES} tries;"
            f" {saves['unknown']} saves got no answer"
        )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 1k database, 10 s a phase")
    parser.add_argument("--duration", type=float, help="seconds of load a phase (default 60)")
    parser.add_argument(
        "--kill-every", type=float, help="seconds between kills (default 10, or a third of a phase)"
    )
    parser.add_argument("--editors", type=int, default=4)
    parser.add_argument(
        "--shared-articles", type=int, default=10, help="articles the merge phase edits"
    )
    parser.add_argument(
        "--spaced-slots",
        action="store_true",
        help="merge phase: a fixed word between slots, so that no two are neighbours",
    )
    parser.add_argument(
        "--phase", action="append", choices=PHASES, help="run only this phase (repeatable)"
    )
    parser.add_argument("--readers", type=int, default=32, help="reader connections (wrk)")
    parser.add_argument("--keep", action="store_true", help="keep the database copy and backup")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 10 if args.quick else 60
    if args.kill_every is None:
        args.kill_every = min(10.0, args.duration / 3)
    args.db_path, args.articles = common.database_for(args.quick)
    if args.duration < 5 or args.editors < 2 or args.shared_articles < 1:
        parser.error("--duration must be >= 5, --editors >= 2 and --shared-articles >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    started = time.monotonic()
    common.ensure_database(args.db_path, args.articles)
    copy = common.DATA_DIR / "mixed.db"
    backup = common.DATA_DIR / "mixed-backup.db"
    results = []
    try:
        copy_started = time.monotonic()
        common.copy_database(args.db_path, copy)
        copy_seconds = time.monotonic() - copy_started
        emails = create_editors(copy, args.editors)
        chosen = pick_articles(copy, args.editors + 1 + args.shared_articles)
        articles, shared = chosen[: args.editors + 1], chosen[args.editors + 1 :]
        paths = reader_paths(copy, chosen)
        print(
            f"Mixed load on a copy of {args.db_path.name} ({copy.stat().st_size / 2**20:,.0f} MB,"
            f" copied in {copy_seconds:.1f} s): {args.readers} reader connections (wrk over"
            f" {len(paths)} public paths) + {args.editors} editors saving the {FIELD} of"
            f" articles {articles[:-1]} (their own) and {articles[-1]} (shared); in the merge"
            f" phase, the title, lead and body of articles {shared}"
        )
        phases = [
            PhaseSpec("mixed", args.duration, args.editors, args.readers),
            PhaseSpec("kill -9", args.duration, args.editors, args.readers,
                      kill_every=args.kill_every),
            PhaseSpec("backup", max(10.0, args.duration / 2), args.editors, args.readers,
                      backup_at=min(5.0, args.duration / 4), backup_path=backup),
            PhaseSpec("merge", args.duration, args.editors, args.readers, merge=True,
                      spaced_slots=args.spaced_slots),
        ]  # fmt: skip
        phases = [spec for spec in phases if not args.phase or spec.name in args.phase]
        with common.tempfile.TemporaryDirectory(prefix="newsdesk-mixed-") as tmp:
            for spec in phases:
                print(f"  phase {spec.name}: {spec.duration:.0f} s ...", flush=True)
                log_path = (
                    common.DATA_DIR / f"mixed-{spec.name.replace(' ', '').replace('-', '')}.log"
                )
                edited = shared if spec.merge else articles
                findings = run_phase(spec, copy, emails, edited, log_path, tmp, paths)
                findings["log_path"] = str(log_path)
                results.append(findings)
    finally:
        if not args.keep:
            common.remove_database(copy)
            common.remove_database(backup)
    print()
    print_phases(results)
    seconds = time.monotonic() - started
    ok = all(f["ok"] for f in results)
    print(f"Mixed load: {'all checks passed' if ok else 'FAILED'}; {seconds:.0f} s")
    if args.json:
        common.write_json(
            args.json,
            {
                "database": args.db_path.name,
                "copy_seconds": copy_seconds,
                "settings": vars(args) | {"db_path": str(args.db_path)},
                "phases": [{k: v for k, v in f.items() if k != "acks"} for f in results],
                "seconds": seconds,
                "ok": ok,
            },
        )
    return 0 if ok else 1


if __name__ == "__main__":
    common.main_guard(main)
