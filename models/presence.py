"""Who has an article open in an editor now: advice for the others, never a lock.

Browsers say so themselves (static/js/presence.js): a heartbeat while an editor is
open, and a last word when it closes. Rows live in the database, so every worker and
every app server sees the same; a row not heard from for FRESH is gone, whatever
happened to the browser that wrote it. Nothing here bumps the content version: pages
readers get never show it.
"""

import datetime as dt

from peewee import CharField, DateTimeField, ForeignKeyField

from models.articles import Article
from models.base import BaseModel, database, utcnow
from models.people import User


class Presence(BaseModel):
    """One person with one editor open on an article: one field in place, or the whole
    article in the full edit form (WHOLE). One row per (article, user, field): an editor
    may have the title and the text open at once."""

    WHOLE = "article"
    FIELDS = (*Article.EDITOR_FIELDS, WHOLE)  # what a heartbeat may name
    FRESH = dt.timedelta(seconds=60)  # not heard from for longer: gone
    KEPT = dt.timedelta(minutes=5)  # rows older than this are deleted by the next beat

    article = ForeignKeyField(Article, on_delete="CASCADE")
    user = ForeignKeyField(User, on_delete="CASCADE")
    field = CharField(max_length=20)
    since = DateTimeField()  # when this editor was opened
    seen_at = DateTimeField()  # its last heartbeat

    class Meta:
        indexes = ((("article", "user", "field"), True),)

    @classmethod
    def beat(cls, article, user, field):
        """`user` has `field` of `article` open now. Keeps `since` while the editor stays
        open; after a silence longer than FRESH it counts as opened again."""
        now = utcnow()
        with database.atomic():
            cls.delete().where(
                (cls.seen_at < now - cls.KEPT)
                | ((cls.seen_at < now - cls.FRESH) & (cls.article == article) & (cls.user == user))
            ).execute()
            cls.insert(article=article, user=user, field=field, since=now, seen_at=now).on_conflict(
                conflict_target=[cls.article, cls.user, cls.field],
                update={cls.seen_at: now},
            ).execute()

    @classmethod
    def leave(cls, article, user, field):
        """`user` closed their editor of `field` of `article`."""
        cls.delete().where(
            (cls.article == article) & (cls.user == user) & (cls.field == field)
        ).execute()

    @classmethod
    def _open(cls, viewer):
        """Rows heard from lately, other people's than `viewer`'s, with their users."""
        return (
            cls.select(cls, User)
            .join(User)
            .where((cls.seen_at >= utcnow() - cls.FRESH) & (cls.user != viewer.id))
            .order_by(cls.since, cls.id)
        )

    @classmethod
    def others(cls, article, viewer):
        """Who else is editing `article` now, longest first."""
        return list(cls._open(viewer).where(cls.article == article))

    @classmethod
    def on_articles(cls, article_ids, viewer):
        """{article id: others editing it now} for many articles (a desk list), in one query."""
        found = {}
        for row in cls._open(viewer).where(cls.article.in_(list(article_ids))):
            found.setdefault(row.article_id, []).append(row)
        return found

    def covers(self, name):
        """Whether this editor may change field `name`: its own, or any in the full form."""
        return self.field in (name, self.WHOLE)
