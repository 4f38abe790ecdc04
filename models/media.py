"""Uploaded images (stored and served by the top-level media.py)."""

import json

from peewee import (
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.base import BaseModel, utcnow
from models.people import User


class Media(BaseModel):
    """An uploaded image, stored by media.py as `<hash>.<ext>` plus narrower copies.

    One row per distinct file: uploading the same picture again finds this row.
    `variants` is JSON: [[width, bytes], …] of the narrower copies `<hash>-<width>.<ext>`.
    `alt` is the uploader's description, offered when the image is chosen: what readers
    get is the description of each use (Article.lead_image_alt, the body's alt attributes).
    """

    CONTENT_TYPES = {
        "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
    }  # fmt: skip
    URL_PREFIX = "/media/"

    hash = CharField(max_length=64, unique=True)  # sha256 of the stored full-width file
    ext = CharField(max_length=4)  # jpg, png, webp or gif
    width = IntegerField()
    height = IntegerField()
    size = IntegerField()  # bytes of the full-width file
    variants = TextField(default="[]")
    alt = TextField(default="")
    uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    @property
    def filename(self):
        return f"{self.hash}.{self.ext}"

    @property
    def url(self):
        return self.URL_PREFIX + self.filename

    @property
    def content_type(self):
        return self.CONTENT_TYPES[self.ext]

    @property
    def renditions(self):
        """[(width, height, filename, bytes)], narrowest first, the full-width file last."""
        result = [
            (w, max(1, round(self.height * w / self.width)), f"{self.hash}-{w}.{self.ext}", size)
            for w, size in sorted(json.loads(self.variants or "[]"))
        ]
        return [*result, (self.width, self.height, self.filename, self.size)]

    @property
    def widths(self):
        return [width for width, *_ in self.renditions]

    def rendition(self, max_width):
        """The widest rendition no wider than `max_width` (else the narrowest one)."""
        fitting = [r for r in self.renditions if r[0] <= max_width]
        return fitting[-1] if fitting else self.renditions[0]

    def url_of(self, filename):
        return self.URL_PREFIX + filename

    @property
    def srcset(self):
        return ", ".join(f"{self.url_of(name)} {w}w" for w, _, name, _ in self.renditions)

    @property
    def has_alt(self):
        return bool(self.alt.strip())
