"""Sections (kinds of piece) and rubrics (topics), and their old slugs."""

from dataclasses import dataclass

from peewee import (
    CharField,
    IntegerField,
)

from models.base import BaseModel, database, write_transaction
from models.site import SiteSettings

SIDEBAR_SIZE = 8  # titles in each section's sidebar list, as on the seed page


class Taxonomy(BaseModel):
    """Fields shared by sections (kind of piece) and rubrics (topic)."""

    name = CharField()
    slug = CharField(unique=True)
    position = IntegerField(default=0)

    @classmethod
    def ordered(cls):
        return cls.select().order_by(cls.position, cls.name, cls.id)

    def rename(self, name, slug):
        """New name and slug; the old slug keeps redirecting to this one."""
        kind = type(self).__name__.lower()
        with database.atomic():
            if slug != self.slug:
                SlugRedirect.delete().where(
                    (SlugRedirect.kind == kind) & (SlugRedirect.old_slug == slug)
                ).execute()
                SlugRedirect.insert(kind=kind, old_slug=self.slug, target_id=self.id).on_conflict(
                    conflict_target=[SlugRedirect.kind, SlugRedirect.old_slug],
                    update={SlugRedirect.target_id: self.id},
                ).execute()
            self.name, self.slug = name, slug
            self.save()
            SiteSettings.bump_content_version()

    @classmethod
    def by_slug(cls, slug):
        """(item, None) for a current slug, (None, item) for an old one, else (None, None)."""
        item = cls.get_or_none(cls.slug == slug)
        if item:
            return item, None
        old = SlugRedirect.get_or_none(
            (SlugRedirect.kind == cls.__name__.lower()) & (SlugRedirect.old_slug == slug)
        )
        return None, (cls.get_or_none(cls.id == old.target_id) if old else None)

    def move(self, offset):
        """Swap places with the neighbour above (-1) or below (+1)."""
        with write_transaction():
            siblings = list(type(self).ordered())
            index = next(i for i, item in enumerate(siblings) if item.id == self.id)
            other = index + offset
            if not 0 <= other < len(siblings):
                return
            for position, item in enumerate(siblings):
                item.position = position
            siblings[index].position, siblings[other].position = other, index
            for item in siblings:
                item.save()
            SiteSettings.bump_content_version()

    def in_use(self):
        from models.articles import Article  # which imports this module
        field = Article.section if isinstance(self, Section) else Article.rubric
        return Article.select().where(field == self).exists()


class Section(Taxonomy):
    def latest(self, page=1, per_page=SIDEBAR_SIZE):
        """One page of this section's newest titles, for its sidebar list."""
        from models.articles import Article  # which imports this module
        rows = list(
            Article.newest_first(
                Article.visible_where(Article.section == self).select(
                    Article.id, Article.title, Article.slug, Article.published_at
                )
            )
            .limit(per_page + 1)
            .offset((page - 1) * per_page)
        )
        return SidebarList(self, rows[:per_page], page, has_next=len(rows) > per_page)

    @classmethod
    def sidebar_lists(cls):
        return [section.latest() for section in cls.ordered()]


class Rubric(Taxonomy):
    pass


class SlugRedirect(BaseModel):
    """An old section or rubric slug, so its URLs keep working after a rename."""

    kind = CharField()  # "section" or "rubric"
    old_slug = CharField()
    target_id = IntegerField()

    class Meta:
        indexes = ((("kind", "old_slug"), True),)


@dataclass
class SidebarList:
    section: Section
    items: list
    page: int
    has_next: bool

    @property
    def has_previous(self):
        return self.page > 1
