"""Addresses of a WordPress site imported here (wordpress.py), kept for their 301s."""

from peewee import (
    CharField,
    ForeignKeyField,
    IntegerField,
)

from models.articles import Article
from models.base import BaseModel


class LegacyPost(BaseModel):
    """A post imported from WordPress (wordpress.py): its old id and permalink, for 301s."""

    wp_id = IntegerField(unique=True)
    post_type = CharField(default="post")
    slug = CharField(index=True)  # WordPress's post_name, percent-decoded, lower-cased
    year = IntegerField(null=True)  # of the post's local date, as its permalink shows it
    month = IntegerField(null=True)
    day = IntegerField(null=True)
    article = ForeignKeyField(Article, on_delete="CASCADE")
    # Its old address (<link>) as wordpress.old_address normalises it; looked up on 404s.
    path = CharField(max_length=1000, null=True, index=True)


class LegacyTerm(BaseModel):
    """An archive address of an imported WordPress category or tag, for 301s (wordpress.py)."""

    path = CharField(max_length=1000, unique=True)  # normalised: wordpress.old_address
    kind = CharField()  # "section" or "rubric": where the archive's posts went
    target_id = IntegerField()
