"""The two databases Newsdesk runs on, and everything that differs between them.

SQLite (the default: one file, one server) and PostgreSQL (one database shared by
several app servers). Models, queries and commands are written once against peewee;
what peewee does not hide lives here, as the same methods on the two database
classes, so `models.database.<method>()` does the right thing on either:

* `write_transaction()`: a transaction whose reads and writes no other writer can
  interleave with (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped lock);
* `snapshot()`: a read transaction that sees one state of every table;
* `defer_foreign_keys()`, `restart_sequences()`, `optimize()`: for bulk loads;
* `writes()`: how many writes of this thread reached the database (CountsWrites);
* the full-text search index: an FTS5 table on SQLite, a table with a weighted
  `tsvector` on PostgreSQL, queried through `search_*` methods with the same
  meaning (models.ArticleIndex holds what the two share).
"""

import bisect
import contextlib
import re
import threading
import unicodedata
from urllib.parse import urlparse

from peewee import SQL, AutoField, Expression, Field, Value, fn
from playhouse.db_url import parseresult_to_dict
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase
from playhouse.sqlite_ext import FTS5Model


def connect(url):
    """The database of a DATABASE_URL: sqlite:///path or postgresql://user@host/name."""
    parsed = urlparse(url)
    kinds = {"sqlite": Sqlite, "postgres": Postgres, "postgresql": Postgres}
    if parsed.scheme not in kinds:
        raise ValueError(
            f"DATABASE_URL must start with sqlite:// or postgresql://, not {parsed.scheme}://"
        )
    options = parseresult_to_dict(parsed, unquote_password=True, unquote_user=True)
    return kinds[parsed.scheme](options.pop("database"), **options)


class SearchTerm:
    """One term of a reader's query: a word or a quoted phrase's words; `prefix` for word*."""

    __slots__ = ("words", "prefix")

    def __init__(self, words, prefix=False):
        self.words, self.prefix = tuple(words), prefix

    def __repr__(self):
        return f"SearchTerm({self.words!r}, prefix={self.prefix})"


HIGHLIGHT = ("\x02", "\x03")  # markers in snippets; the indexed text has no control chars
SNIPPET_WORDS = 24
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


# Connections per process. gunicorn runs many threads (gunicorn.conf.py), most of them
# waiting on slow clients; a request holds a connection only while its view runs (Flask
# hands it back before the response is sent), and one thread runs Python at a time, so
# two serve them all: one in SQLite while another renders. A request beyond them waits
# its turn (up to POOL_WAIT seconds) instead of opening another: each SQLite connection
# fills a cache of its own (up to 16 MB), and PostgreSQL allows 100 connections in all.
POOL_SIZE = 2
POOL_WAIT = 10


class CountsWrites:
    """Counts, per thread, the writes that reached the database: committed transactions,
    and writing statements outside a transaction (each commits itself). A request that
    fails can then say truthfully whether anything it did was saved (app.server_error)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writes = threading.local()

    def writes(self):
        return getattr(self._writes, "count", 0)

    def _count_write(self):
        self._writes.count = self.writes() + 1

    def commit(self):
        super().commit()
        self._count_write()

    def execute_sql(self, sql, params=None, *args, **kwargs):
        cursor = super().execute_sql(sql, params, *args, **kwargs)
        if not self.in_transaction() and sql.lstrip()[:7].upper().startswith(WRITES):
            self._count_write()
        return cursor


class Sqlite(CountsWrites, PooledSqliteDatabase):
    """SQLite, with a pool of connections in each process.

    A request still takes its thread's connection at its first query and hands it back
    at teardown, but the next request skips reopening the file, which costs more than a
    page's own query: SQLite parses the whole schema again for every new connection. A
    connection handed back inside a transaction is rolled back.
    """

    PRAGMAS = {
        "journal_mode": "wal",
        "synchronous": "normal",
        "busy_timeout": 5000,
        "foreign_keys": 1,
        "cache_size": -16000,
        "journal_size_limit": 64 * 1024 * 1024,  # a big import's WAL shrinks back afterwards
    }

    def __init__(self, database, **kwargs):
        kwargs.setdefault("pragmas", self.PRAGMAS)
        kwargs.setdefault("max_connections", POOL_SIZE)
        kwargs.setdefault("timeout", POOL_WAIT)
        # A pooled connection serves one thread at a time, but not always the same one.
        kwargs.setdefault("check_same_thread", False)
        super().__init__(database, **kwargs)

    def write_transaction(self):
        # With a deferred transaction, two writers that both read first can deadlock on
        # the upgrade, and one fails with "database is locked" instead of waiting its turn.
        return self.atomic("IMMEDIATE")

    def snapshot(self):
        return self.atomic()  # WAL: a read transaction sees the database as it began

    def defer_foreign_keys(self):
        self.execute_sql("PRAGMA defer_foreign_keys = ON")

    def restart_sequences(self, models):
        pass  # a new rowid is always past the largest one

    def optimize(self):
        """After a bulk load: fresh statistics for the planner, and the WAL's disk space back."""
        self.execute_sql("ANALYZE")
        self.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- Full-text search: FTS5 (unicode61 tokenizer, diacritics removed) ----------------------

    def search_insert(self, index, rows):
        index.insert_many(rows).execute()

    @staticmethod
    def fts5_expression(terms):
        # Only quoted word tokens: no input can be FTS5 syntax.
        return " ".join(
            '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "") for term in terms
        )

    def search_match(self, index, terms):
        return index.match(self.fts5_expression(terms))

    def search_relevance(self, index, terms):
        """Lower is better: bm25 with title, lead and body weighted 10, 4 and 1."""
        return fn.bm25(index._meta.entity, 10.0, 4.0, 1.0)

    def search_order(self, relevance, published_at, now):
        # Ten years of age cost as much as one point of bm25.
        return relevance + (fn.julianday(now) - fn.julianday(published_at)) / 3650.0

    def search_snippets(self, index, terms, ids):
        """{article id: its best passage of SNIPPET_WORDS words, matches marked}."""
        snippet = fn.snippet(index._meta.entity, -1, *HIGHLIGHT, "…", SNIPPET_WORDS)
        rows = index.select(index.rowid, snippet).where(
            self.search_match(index, terms) & index.rowid.in_(ids)
        )
        return dict(rows.tuples())


class Postgres(CountsWrites, PooledPostgresqlDatabase):
    """PostgreSQL through psycopg 3, with a pool of connections in each process.

    A request takes its worker's idle connection instead of opening one (a new one
    costs the server a process and an authentication); connections are replaced after
    five minutes, and one the server closed is noticed before use.
    """

    # Every write_transaction takes this lock, as every SQLite writer takes the one
    # write lock: a read-then-write (an edit's version check, the last-admin check,
    # reordering sections) needs no row-by-row locking to stay correct, and a second
    # editor's save waits for the first, then sees its version and reports a conflict.
    WRITE_LOCK = 0x6E657773  # "news"
    SEARCH_CONFIG = "newsdesk"
    # ts_rank weights {D, C, B, A}: body (C), lead (B), title (A) as bm25's 1, 4 and 10.
    RANK_WEIGHTS = "{0, 0.1, 0.4, 1}"
    WORD = re.compile(r"[^\W_]+")  # what SQLite's unicode61 takes as a token

    def __init__(self, database, **kwargs):
        kwargs.setdefault("prefer_psycopg3", True)
        kwargs.setdefault("max_connections", POOL_SIZE)
        kwargs.setdefault("timeout", POOL_WAIT)
        kwargs.setdefault("stale_timeout", 300)
        kwargs.setdefault("connect_timeout", 10)  # an unreachable server is an error, not a hang
        super().__init__(database, **kwargs)

    def execute_sql(self, sql, params=None, *args, **kwargs):
        # PostgreSQL text cannot hold NUL, which SQLite stores and any form field or
        # query string may carry: send U+FFFD instead, so such input finds nothing or
        # is stored with a visible mark, as on SQLite, rather than failing the request.
        if params and any(isinstance(p, str) and "\x00" in p for p in params):
            params = [p.replace("\x00", "\ufffd") if isinstance(p, str) else p for p in params]
        return super().execute_sql(sql, params, *args, **kwargs)

    @contextlib.contextmanager
    def write_transaction(self):
        with self.atomic() as transaction:
            self.execute_sql("SELECT pg_advisory_xact_lock(%s)", (self.WRITE_LOCK,))
            yield transaction

    def snapshot(self):
        # READ COMMITTED (the default) would see other transactions' commits statement
        # by statement: an export must read one state of every table.
        return self.atomic(isolation_level="REPEATABLE READ")

    def defer_foreign_keys(self):
        self.execute_sql("SET CONSTRAINTS ALL DEFERRED")  # create_tables made them deferrable

    def restart_sequences(self, models):
        """After rows were inserted with their ids: the next new row gets an id past them."""
        for model in models:
            if not isinstance(model._meta.primary_key, AutoField):
                continue  # a key the app makes (a login's token) has no sequence
            table, column = model._meta.table_name, model._meta.primary_key.column_name
            self.execute_sql(
                f'SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX("{column}"), 1), '
                f'MAX("{column}") IS NOT NULL) FROM "{table}"',
                (f'"{table}"', column),
            )

    def optimize(self):
        self.execute_sql("ANALYZE")

    def create_tables(self, models, **options):
        """As peewee's, except: an FTS5 model becomes a table with a weighted tsvector, and
        foreign keys become deferrable (an archive's tables may come in any order)."""
        indexes = [model for model in models if issubclass(model, FTS5Model)]
        super().create_tables([m for m in models if m not in indexes], **options)
        for index in indexes:
            self._create_search_table(index)
        alters = self.execute_sql(
            "SELECT format('ALTER TABLE %%I ALTER CONSTRAINT %%I DEFERRABLE', t.relname, c.conname)"
            " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'f'"
            " AND NOT c.condeferrable AND t.relnamespace = current_schema()::regnamespace"
        ).fetchall()
        for (statement,) in alters:
            self.execute_sql(statement)

    # --- Full-text search: a weighted tsvector per article, queried with a tsquery ---------------

    def _create_search_table(self, index):
        """The index table, and the text search configuration its words go through.

        Words are split and lower-cased in Python (`words`), as SQLite's unicode61
        tokenizer does, so that matching does not depend on the database's locale; the
        configuration removes diacritics with the unaccent extension (in Debian's
        postgresql package) and keeps every word (no stop words, no stemming).
        """
        self.execute_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        exists = self.execute_sql(
            "SELECT 1 FROM pg_ts_config WHERE cfgname = %s"
            " AND cfgnamespace = current_schema()::regnamespace",
            (self.SEARCH_CONFIG,),
        ).fetchone()
        if not exists:
            config = self.SEARCH_CONFIG
            self.execute_sql(f"CREATE TEXT SEARCH CONFIGURATION {config} (COPY = simple)")
            self.execute_sql(
                f"ALTER TEXT SEARCH CONFIGURATION {config} ALTER MAPPING FOR word, numword, "
                "hword, hword_part, numhword, hword_numpart WITH unaccent, simple"
            )
        table = index._meta.table_name
        self.execute_sql(
            f'CREATE TABLE IF NOT EXISTS "{table}" (rowid INTEGER PRIMARY KEY, title TEXT NOT '
            "NULL, lead TEXT NOT NULL, body TEXT NOT NULL, document TSVECTOR NOT NULL)"
        )
        self.execute_sql(
            f'CREATE INDEX IF NOT EXISTS "{table}_document" ON "{table}" USING GIN (document)'
        )

    @classmethod
    def words(cls, text):
        """`text` as lower-case words separated by spaces: what goes into a tsvector."""
        return " ".join(cls.WORD.findall(unicodedata.normalize("NFC", text).lower()))

    @staticmethod
    def _document(index):
        # The tsvector column: not a field of the model, which SQLite's FTS5 table shares.
        field = Field(column_name="document")
        field.bind(index, "document", set_attribute=False)
        return field

    def _config(self):
        return SQL(f"'{self.SEARCH_CONFIG}'::regconfig")

    def search_insert(self, index, rows):
        def vector(text, weight):
            return fn.setweight(fn.to_tsvector(self._config(), self.words(text)), weight)

        document = self._document(index)
        index.insert_many(
            {
                **row,
                document: vector(row["title"], "A")
                .concat(vector(row["lead"], "B"))
                .concat(vector(row["body"], "C")),
            }
            for row in rows
        ).execute()

    def _tsquery(self, terms):
        """The tsquery of SearchTerms: each a phrase of its words, word* a prefix, all ANDed.

        Built only from quoted runs of letters and digits: no input can be tsquery syntax.
        """
        parts = []
        for term in terms:
            quoted = [f"'{word}'" for word in self.words(" ".join(term.words)).split()]
            if quoted:
                if term.prefix:
                    quoted[-1] += ":*"
                parts.append("(" + " <-> ".join(quoted) + ")")
        return fn.to_tsquery(self._config(), " & ".join(parts))

    def search_match(self, index, terms):
        return Expression(self._document(index), "@@", self._tsquery(terms))

    def search_relevance(self, index, terms):
        """Lower is better: ts_rank (title, lead and body weighted as with bm25), negated.

        Without length normalisation: like bm25, it then ranks a long article that is
        about the word (title and many mentions) above a short one that names it once.
        """
        weights = SQL(f"'{self.RANK_WEIGHTS}'::float4[]")
        return fn.ts_rank(weights, self._document(index), self._tsquery(terms)) * -1

    def search_order(self, relevance, published_at, now):
        # Ten years of age cost about a tenth of the relevance, as a point of bm25 does.
        years = fn.date_part("epoch", Value(now) - published_at) / (365.25 * 86400)
        return relevance / (1 + years / 100)

    def search_snippets(self, index, terms, ids):
        """{article id: its best passage of SNIPPET_WORDS words, matches marked}.

        Built here as FTS5's snippet() builds it: the column (title, lead or body) and
        window with the most query words, "…" where the text goes on. (ts_headline
        would drop anything in the text that looks like an HTML tag.)
        """
        words = {self.fold(w) for term in terms for w in self.words(" ".join(term.words)).split()}
        prefixes = tuple(self.fold(term.words[-1]) for term in terms if term.prefix)

        def matches(word):
            word = self.fold(word)
            return word in words or word.startswith(prefixes)

        rows = index.select(index.rowid, index.title, index.lead, index.body)
        snippets = {}
        for rowid, *texts in rows.where(index.rowid.in_(ids)).tuples():
            passages = [self._passage(text, matches) for text in texts]
            score, passage = max(passages, key=lambda passage: passage[0])  # title wins ties
            snippets[rowid] = passage if score[0] else passages[-1][1]
        return snippets

    @staticmethod
    def fold(word):
        """A word without case or diacritics, as the unaccent configuration folds it."""
        word = word.lower()
        if word.isascii():
            return word  # nothing to fold: the common case, kept cheap
        decomposed = unicodedata.normalize("NFKD", word)
        return "".join(c for c in decomposed if not unicodedata.combining(c))

    @classmethod
    def _passage(cls, text, matches):
        """(score, passage): the SNIPPET_WORDS-word window of `text` with the most
        distinct query words, then the most matches (FTS5's order), its matches marked."""
        tokens = list(cls.WORD.finditer(text))
        hits = [i for i, token in enumerate(tokens) if matches(token.group())]
        best, start = (0, 0), 0
        for n, first in enumerate(hits):
            inside = hits[n : bisect.bisect_left(hits, first + SNIPPET_WORDS)]
            score = (len({cls.fold(tokens[i].group()) for i in inside}), len(inside))
            if score > best:
                best, start = score, first
        start = max(0, min(start - 2, len(tokens) - SNIPPET_WORDS))  # a little context before
        end = min(len(tokens), start + SNIPPET_WORDS)
        if not tokens:
            return best, text
        parts, position = [], tokens[start].start() if start else 0
        for i in range(start, end):
            token = tokens[i]
            parts.append(text[position : token.start()])
            word = token.group()
            parts.append(HIGHLIGHT[0] + word + HIGHLIGHT[1] if matches(word) else word)
            position = token.end()
        parts.append(text[position:] if end == len(tokens) else "…")
        return best, ("…" if start else "") + "".join(parts)
