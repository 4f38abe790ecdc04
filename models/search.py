"""The full-text search index of articles (FTS5 on SQLite; databases.py has the rest)."""

import re

from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

from databases import HIGHLIGHT, SearchTerm
from models.base import database, utcnow
from models.lists import Pagination
from sanitize import fold_yo, index_text


class ArticleIndex(FTS5Model):
    """Full-text index of every article: the plain text of its title, lead and body.

    Its rowid is the article's id. Searches join it to `Article.visible()`, so drafts,
    scheduled and trashed articles are indexed but never found by readers, and a
    scheduled article is found once its time comes without re-indexing.

    On SQLite an FTS5 table; on PostgreSQL a table with a weighted tsvector. What
    differs is in databases.py (`database.search_*`); what readers see is the same.
    """

    rowid = RowIDField()
    title = SearchField()
    lead = SearchField()
    body = SearchField()

    class Meta:
        database = database
        # unicode61 folds case and, with remove_diacritics 2, accents (é = e). "word*"
        # works without prefix indexes, which would triple build time and add 40% size.
        options = {"tokenize": "unicode61 remove_diacritics 2"}

    HIGHLIGHT = HIGHLIGHT  # markers around matched words in snippets

    @staticmethod
    def text_of(article):
        return {
            "title": index_text(article.title),
            "lead": index_text(article.lead),
            "body": index_text(article.body, html=True),
        }

    @classmethod
    def store(cls, article):
        cls.delete().where(cls.rowid == article.id).execute()
        database.search_insert(cls, [{"rowid": article.id, **cls.text_of(article)}])

    @classmethod
    def rebuild(cls, progress=None, batch=1000):
        """Index every article anew, in one transaction."""
        from models.articles import Article  # which imports this module
        with database.atomic():
            cls.delete().execute()
            total = Article.select().count()
            last_id, done = 0, 0
            while True:
                rows = list(
                    Article.select(Article.id, Article.title, Article.lead, Article.body)
                    .where(Article.id > last_id)
                    .order_by(Article.id)
                    .limit(batch)
                )
                if not rows:
                    break
                database.search_insert(cls, [{"rowid": a.id, **cls.text_of(a)} for a in rows])
                last_id, done = rows[-1].id, done + len(rows)
                if progress:
                    progress(done, total)
        return done

    MAX_QUERY_LENGTH = 200
    MAX_TERMS = 12

    @classmethod
    def parse(cls, text):
        """(search terms, note) for what a reader typed, or (None, note).

        Readers type words, "quoted phrases" and word* prefixes. Everything else —
        operators, parentheses, column filters, NEAR, control characters — is taken
        as plain text: the terms hold only words, and each database builds its query
        from quoted words alone, so no input can be query syntax.
        """
        text = fold_yo(text or "")
        note = None
        if len(text) > cls.MAX_QUERY_LENGTH:
            text = text[: cls.MAX_QUERY_LENGTH]
            note = f"Only the first {cls.MAX_QUERY_LENGTH} characters were searched."
        terms = []
        for phrase, word in re.findall(r'"([^"]*)"|(\w+\*?)', text):
            if phrase:
                words = re.findall(r"\w+", phrase)
                if words:
                    terms.append(SearchTerm(words))
            elif word:
                terms.append(SearchTerm([word.rstrip("*")], prefix=word.endswith("*")))
        if len(terms) > cls.MAX_TERMS:
            terms = terms[: cls.MAX_TERMS]
            note = f"Only the first {cls.MAX_TERMS} words were searched."
        return (tuple(terms) or None), note

    # Unfiltered searches rank this many best matches, not every match: a word in most
    # articles would otherwise cost a join and a sort over all of them.
    CANDIDATES = 1000

    @classmethod
    def search(cls, terms, page, per_page, *conditions):
        """One page of visible articles matching `terms` (from parse), best first.

        Relevance is bm25 on SQLite, ts_rank on PostgreSQL (title weighted above lead
        above body), nudged towards recent articles. Returns the page and whether the
        candidates were capped (then the total is a lower bound).
        """
        from models.articles import Article  # which imports this module
        matches = database.search_match(cls, terms)
        relevance = database.search_relevance(cls, terms)
        ranked = cls.select(cls.rowid, relevance.alias("relevance")).where(matches)
        # Cheap: walks the match list without ranking it.
        capped = not conditions and (
            cls.select(cls.rowid).where(matches).offset(cls.CANDIDATES).limit(1).exists()
        )
        if capped:
            ranked = ranked.order_by(relevance).limit(cls.CANDIDATES)
        best = ranked.alias("best")
        order = database.search_order(best.c.relevance, Article.published_at, utcnow())
        query = (
            Article.summaries(Article.visible_where(*conditions))
            .join_from(Article, best, on=(best.c.rowid == Article.id))
            .order_by(order, Article.id.desc())
        )
        total = query.count()
        results = Pagination(query.paginate(page, per_page), total, page, per_page)
        cls.attach_snippets(terms, results.items)
        return results, capped

    @classmethod
    def attach_snippets(cls, terms, articles):
        """Set `snippet` on each article: its best passage, matched words marked."""
        if not articles:
            return
        snippets = database.search_snippets(cls, terms, [a.id for a in articles])
        for article in articles:
            article.snippet = snippets.get(article.id, "")
