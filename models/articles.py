"""Articles, their workflow and their revisions."""

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    fn,
)

from merging import merge_body, merge_text
from models.base import BaseModel, database, slugify, utcnow, write_transaction
from models.lists import Pagination, PreparedQuery
from models.media import Media
from models.people import User
from models.search import ArticleIndex
from models.site import SiteSettings
from models.taxonomy import Rubric, Section
from sanitize import clean_html, images_missing_alt


class Article(BaseModel):
    DRAFT, SUBMITTED, PUBLISHED, UNPUBLISHED = "draft", "submitted", "published", "unpublished"

    title = CharField(max_length=300)
    slug = CharField(max_length=200)
    lead = TextField(default="")
    body = TextField(default="")  # sanitized HTML: written only through sanitize.clean_html
    section = ForeignKeyField(Section, backref="articles")
    rubric = ForeignKeyField(Rubric, backref="articles")
    author = ForeignKeyField(User, backref="articles")
    hot = BooleanField(default=False)
    status = CharField(default=DRAFT)
    # The first publication time: republishing keeps it, only "publish as new" moves it.
    published_at = DateTimeField(null=True)
    # The last save an editor chose to show readers as an update ("Updated …"); typo
    # fixes leave it alone. Shown only when later than published_at (update_shown_at).
    revised_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)
    deleted_at = DateTimeField(null=True)
    lead_image = ForeignKeyField(Media, null=True, on_delete="SET NULL")
    # This article's description of its lead image: one picture may be described
    # differently in two stories, and an edit of one never changes the other.
    lead_image_alt = TextField(default="")

    class Meta:
        # Each public list filters on (its key, status, deleted_at) and orders by
        # published_at: these indexes answer those lists and their counts alone.
        indexes = (
            (("status", "deleted_at", "published_at"), False),
            (("section", "status", "deleted_at", "published_at"), False),
            (("rubric", "status", "deleted_at", "published_at"), False),
            (("author", "status", "deleted_at", "published_at"), False),
            (("hot", "status", "deleted_at", "published_at"), False),
        )

    @classmethod
    def visible(cls, now=None):
        """What readers may see: published, publication time passed, not in the trash.

        Every public list, feed, sitemap and article URL starts from this query.
        """
        return cls.select().where(cls.published() & (cls.published_at <= (now or utcnow())))

    @classmethod
    def published(cls):
        """The condition of published articles, out of the trash: visible, or scheduled."""
        return (cls.status == cls.PUBLISHED) & cls.deleted_at.is_null()

    @classmethod
    def visible_where(cls, *conditions, now=None):
        query = cls.visible(now)
        return query.where(*conditions) if conditions else query

    @classmethod
    def newest_first(cls, query):
        return query.order_by(cls.published_at.desc(), cls.id.desc())

    @classmethod
    def summaries(cls, query):
        """`query` selecting what lists show: no body (most of a row), nothing only the
        newsroom needs. Directory.attach adds names and lead images."""
        return query.select(
            cls.id, cls.title, cls.slug, cls.lead, cls.section, cls.rubric, cls.author,
            cls.published_at, cls.lead_image,
        )  # fmt: skip

    @classmethod
    def listing(cls, *conditions, body=False, now=None):
        """Visible articles, newest first: whole, or as `summaries` for lists."""
        query = cls.visible_where(*conditions, now=now)
        return cls.newest_first(query if body else cls.summaries(query))

    @classmethod
    def page_of(cls, page, per_page, total, *conditions):
        """One page of `listing(*conditions)`, of `total` articles in all.

        The page's ids come from the covering index alone, so page 500 costs
        little more than page 1; then only those rows are read. Callers keep the
        total, which costs more than a page to count.
        """
        ids = [
            row.id
            for row in cls.newest_first(cls.visible_where(*conditions).select(cls.id)).paginate(
                page, per_page
            )
        ]
        items = cls.newest_first(cls.summaries(cls.select()).where(cls.id.in_(ids)))
        return Pagination(items, total, page, per_page)

    @classmethod
    def hot_news(cls, limit=5):
        return cls.listing(cls.hot == True).limit(limit)  # noqa: E712 (peewee expression)

    @classmethod
    def lead_stories(cls, limit=10):
        """The main page's list, as a list."""
        return LEAD_STORIES(utcnow(), limit)

    @classmethod
    def get_visible(cls, article_id):
        """The visible article with this id, or None."""
        found = VISIBLE_ARTICLE(utcnow(), article_id)
        return found[0] if found else None

    # --- The state invariant -------------------------------------------------------------

    STATUSES = (DRAFT, SUBMITTED, PUBLISHED, UNPUBLISHED)

    @classmethod
    def state_problem(cls, status, published_at):
        """Why an article with this status and publication time would be in no state, or None.

        A published article without a publication time would say "Published" while no
        reader can see it and no filter of the desk lists it: nothing may store one.
        """
        if status not in cls.STATUSES:
            return f"the status {status!r} is none of {', '.join(cls.STATUSES)}"
        if status == cls.PUBLISHED and published_at is None:
            return "a published article needs a publication time"
        return None

    def save(self, *args, **kwargs):
        """Every write of an article row goes through here (create, save_changes,
        take_action, imports): none may leave it in no state."""
        problem = self.state_problem(self.status, self.published_at)
        if problem:
            raise ArticleStateError(f"Article {self.id or '(new)'} not saved: {problem}.")
        return super().save(*args, **kwargs)

    @property
    def is_scheduled(self):
        return (
            self.status == self.PUBLISHED
            and self.published_at is not None
            and self.published_at > utcnow()
        )

    # --- Editing -------------------------------------------------------------------------

    # Authors write; what is published, when, under whose name and whether it is
    # hot are the editors' calls.
    AUTHOR_FIELDS = ("title", "lead", "body", "section", "rubric", "lead_image")
    EDITOR_FIELDS = (*AUTHOR_FIELDS, "hot", "author", "published_at")

    STATES = ("draft", "submitted", "scheduled", "published", "unpublished", "trash")

    @property
    def state(self):
        """draft, submitted, scheduled, published, unpublished or trash."""
        if self.deleted_at:
            return "trash"
        return "scheduled" if self.is_scheduled else self.status

    def may_view(self, user):
        """Staff see unpublished work: editors all of it, authors their own."""
        return user.is_authenticated and (
            user.has_role("editor") or (user.has_role("author") and self.author_id == user.id)
        )

    def editable_fields(self, user):
        if not user.is_authenticated or self.deleted_at:
            return ()
        if user.has_role("editor"):
            return self.EDITOR_FIELDS
        own_draft = self.author_id == user.id and self.status == self.DRAFT
        return self.AUTHOR_FIELDS if user.has_role("author") and own_draft else ()

    def may_take(self, name, user):
        """Whether `user` may take the workflow step `name` on this article in some state."""
        step = WORKFLOW[name]
        return user.is_authenticated and (
            user.has_role(step.role)
            or (step.own_ok and user.has_role("author") and self.author_id == user.id)
        )

    def allowed_actions(self, user):
        """The workflow steps `user` may take now, by name (see WORKFLOW)."""
        return [
            name
            for name, step in WORKFLOW.items()
            if self.state in step.states
            and (step.only_if is None or getattr(self, step.only_if))
            and self.may_take(name, user)
        ]

    @property
    def was_published(self):
        """Out of readers' sight, with a publication time already passed: published
        before (or dated so by an editor). "Publish now" keeps that date."""
        return (
            self.state in ("draft", "submitted", "unpublished")
            and self.published_at is not None
            and self.published_at <= utcnow()
        )

    @property
    def update_shown_at(self):
        """When readers are told the article was last updated, or None: the last save
        an editor marked as an update, if it came after the publication time."""
        if self.revised_at and self.published_at and self.revised_at > self.published_at:
            return self.revised_at
        return None

    @classmethod
    def new_draft(cls, title, section, rubric, author):
        with database.atomic():
            article = cls.create(
                title=title, slug=slugify(title), section=section, rubric=rubric, author=author
            )
            ArticleIndex.store(article)
            Revision.record(article, author, "created")
            SiteSettings.bump_content_version()
        return article

    def save_changes(
        self, changes, base_version, editor, action="edited", merge=True, as_update=False
    ):
        """Apply `changes` (field -> value) made from `base_version`, as one revision.

        Saves made since `base_version` are merged with, never overwritten (`rebase`):
        fields nobody else changed are saved as they are, titles, leads and bodies
        that others changed too are merged where the changes do not overlap, and only
        overlapping changes raise EditConflict, with nothing saved. `base_version`
        None (a workflow step) applies the changes to the article as it is now.
        `merge=False` (a restore: the old text, as it was) makes any field changed
        since the base a conflict, even where texts would merge.
        Fields given their current value are not changes: a save that changes
        nothing makes no revision. One transaction, with the write lock from the
        start, so no other save can come between the check and the write.

        `as_update`: the editor chose to show readers this save as an update (revised_at).

        The saved article's `merged` lists (field, revisions) whose changes were
        merged with this save's.
        """
        with write_transaction():
            current = Article.get_by_id(self.id)
            Revision.keep_baseline(current)
            merged = []
            if base_version is not None and base_version != current.version:
                changes, merged = current.rebase(changes, base_version, merge)
            changes = {
                field: value
                for field, value in changes.items()
                if not same_value(value, current.field_value(field))
            }
            current.merged = merged
            if not changes:
                return current
            for field, value in changes.items():
                setattr(current, field, value)
            if "title" in changes:
                current.slug = slugify(current.title)
            if as_update:
                current.revised_at = utcnow()
                action = f"{action} (shown as an update)"
            current.store_revision(editor, action, changed=changes)
        return current

    def store_revision(self, editor, action, now=None, changed=()):
        """Write this article, changed inside a write transaction, as its next version."""
        self.version += 1
        self.updated_at = now or utcnow()
        self.save()
        ArticleIndex.store(self)
        Revision.record(self, editor, action, changed=changed)
        SiteSettings.bump_content_version()

    def field_value(self, field):
        """A field's stored value: ids for the related rows (section, author, lead image…)."""
        return getattr(self, f"{field}_id" if field in RELATED_FIELDS else field)

    def rebase(self, changes, base_version, merge=True):
        """`changes` made from `base_version`, applied over the saves made since: (the
        changes to make now, [(field, revisions that changed it)] merged). Raises
        EditConflict when a change overlaps another's change of the same field."""
        base = Revision.get_or_none((Revision.article == self) & (Revision.version == base_version))
        since = Revision.since(self, base_version)
        if base is None:  # a version this article never had: nothing to merge from
            raise EditConflict(self, since)
        rebased, merged, conflicts = {}, [], {}
        for field, mine in changes.items():
            before, theirs = base.field_value(field), self.field_value(field)
            if same_value(mine, before):
                continue  # not this editor's change: whatever others did stands
            if same_value(theirs, before) or same_value(mine, theirs):
                rebased[field] = mine
                continue
            mergeable = merge and field in TEXT_MERGES
            result = TEXT_MERGES[field](before, mine, theirs) if mergeable else None
            if result is not None:
                # Theirs merged in, and mine where the two overlap: what a conflict's
                # "Save mine" saves, so that it replaces only the overlapping passages.
                rebased[field] = clean_html(result.text) if field == "body" else result.text
            if result is not None and result.clean:
                merged.append((field, [r for r in since if field in r.changed_fields]))
            else:
                conflicts[field] = FieldConflict(field, before, mine, theirs, result)
        if conflicts:
            # This editor's own changes only (fields they left alone stay as others
            # saved them), with their value where a choice clashed.
            resolution = {field: clash.mine for field, clash in conflicts.items()}
            raise EditConflict(self, since, conflicts, resolution={**resolution, **rebased})
        return rebased, merged

    def take_action(self, name, editor, publish_at=None):
        """Move through the workflow (see WORKFLOW): submit, publish, schedule, unpublish…

        A step acts on the article as it is once the write lock is held, whatever version
        the editor's page showed: workflow steps and content saves never conflict.
        Refused, with nothing written: PermissionError if `editor` may not take this step
        on this article at all; StepNotAllowed if its current state does not allow it
        (someone moved it meanwhile); ValueError if it is not ready for it.
        """
        if name not in WORKFLOW or not self.may_take(name, editor):
            raise PermissionError(name)
        with write_transaction():
            current = Article.get_by_id(self.id)
            if name not in current.allowed_actions(editor):
                raise StepNotAllowed(current, name)
            now = utcnow()
            if name == "schedule" and (publish_at is None or publish_at <= now):
                raise ValueError("Choose a publication time in the future.")
            if name in ("publish", "schedule", "publish_as_new"):
                current.check_alt_text()
            Revision.keep_baseline(current)
            changes = current.step_changes(name, now, publish_at)
            for field, value in changes.items():
                setattr(current, field, value)
            current.store_revision(editor, name.replace("_", " "), now, changed=changes)
        return current

    def step_changes(self, name, now, publish_at=None):
        """{field: value} that the workflow step `name` sets, taken at `now`."""
        # An article keeps its first publication time: publishing it again keeps a
        # time already passed; a time still to come (never seen by readers) gives way.
        first = self.published_at if self.published_at and self.published_at <= now else now
        return {
            "submit": {"status": self.SUBMITTED},
            "return_to_draft": {"status": self.DRAFT},
            "publish": {"status": self.PUBLISHED, "published_at": first},
            # A new publication: its earlier updates are no news to its readers.
            "publish_as_new": {"status": self.PUBLISHED, "published_at": now, "revised_at": None},
            "schedule": {"status": self.PUBLISHED, "published_at": publish_at},
            "unpublish": {"status": self.UNPUBLISHED},
            "trash": {"deleted_at": now},
            "restore": {"deleted_at": None},
        }[name]

    @property
    def is_live(self):
        """Published or scheduled: what is saved reaches readers without another step."""
        return self.state in ("published", "scheduled")

    @staticmethod
    def missing_alt_text(body, then):
        """What to tell the editor while images of `body` have no alt text, or None."""
        missing = images_missing_alt(body)
        if not missing:
            return None
        images = "An image" if missing == 1 else f"{missing} images"
        return (
            f"{images} in the text {'has' if missing == 1 else 'have'} no alt text. "
            f"Describe each image for readers who cannot see it, then {then}."
        )

    def check_alt_text(self):
        """Refuse (ValueError) while an image of the text or the lead image has no alt text."""
        problem = self.missing_alt_text(self.body, then="publish")
        if problem:
            raise ValueError(problem)
        if self.lead_image_id and not self.lead_image_alt.strip():
            raise ValueError(
                "The lead image has no alt text. Describe it for readers who cannot see it, "
                "then publish."
            )

    @classmethod
    def empty_trash(cls):
        with database.atomic():
            trashed = cls.select(cls.id).where(cls.deleted_at.is_null(False))
            Revision.delete().where(Revision.article.in_(trashed)).execute()
            ArticleIndex.delete().where(ArticleIndex.rowid.in_(trashed)).execute()
            count = cls.delete().where(cls.deleted_at.is_null(False)).execute()
            SiteSettings.bump_content_version()
        return count

    @classmethod
    def desk_list(cls, state=None, section=None, author=None, order="updated"):
        """Articles for the newsroom dashboard, filtered by state, section and author."""
        query = cls.select()
        now = utcnow()
        published = cls.published()
        state_filters = {
            "draft": (cls.status == cls.DRAFT) & cls.deleted_at.is_null(),
            "submitted": (cls.status == cls.SUBMITTED) & cls.deleted_at.is_null(),
            "scheduled": published & (cls.published_at > now),
            "published": published & (cls.published_at <= now),
            "unpublished": (cls.status == cls.UNPUBLISHED) & cls.deleted_at.is_null(),
            "trash": cls.deleted_at.is_null(False),
        }
        query = query.where(state_filters[state] if state else cls.deleted_at.is_null())
        if section:
            query = query.where(cls.section == section)
        if author:
            query = query.where(cls.author == author)
        orders = {
            "updated": (cls.updated_at.desc(), cls.id.desc()),
            "published": (cls.published_at.desc(nulls="LAST"), cls.id.desc()),
            "title": (fn.LOWER(cls.title), cls.id),
        }
        return query.order_by(*orders[order])


class Step(NamedTuple):
    """A workflow step: the states it starts from, the role that may take it."""

    states: frozenset
    role: str
    own_ok: bool = False  # the author may take it on their own article
    only_if: str | None = None  # an Article property that must be true as well


WORKFLOW = {
    "submit": Step(frozenset({"draft"}), "editor", own_ok=True),
    "return_to_draft": Step(frozenset({"submitted", "unpublished"}), "editor", own_ok=True),
    "publish": Step(frozenset({"draft", "submitted", "unpublished", "scheduled"}), "editor"),
    # Back on top of lists and feeds with today's date, instead of the first one.
    "publish_as_new": Step(
        frozenset({"draft", "submitted", "unpublished"}), "editor", only_if="was_published"
    ),
    "schedule": Step(frozenset({"draft", "submitted", "unpublished", "scheduled"}), "editor"),
    "unpublish": Step(frozenset({"published", "scheduled"}), "editor"),
    "trash": Step(
        frozenset({"draft", "submitted", "scheduled", "published", "unpublished"}), "editor"
    ),
    "restore": Step(frozenset({"trash"}), "editor"),
}


class ArticleStateError(Exception):
    """A write that would leave an article in no state (Article.state_problem): a bug in
    the code that tried it, stopped before anything was written."""


class StepNotAllowed(Exception):
    """A workflow step the article's current state does not allow; carries the article."""

    def __init__(self, current, name):
        super().__init__(f"{name} is not a step from {current.state}")
        self.current = current
        self.name = name


class EditConflict(Exception):
    """A save whose changes overlap others' changes made since its base version.

    `current` is the article now, `revisions` the saves since the base, `fields` the
    FieldConflict of each field that overlaps, and `resolution` what the editor would
    save to keep their own text: their changes, with what merged cleanly merged.
    """

    def __init__(self, current, revisions, fields=None, resolution=None):
        super().__init__(f"article {current.id} is at version {current.version}")
        self.current = current
        self.revisions = revisions
        self.fields = fields or {}
        self.resolution = resolution or {}

    def editors_of(self, field):
        """The revisions since the base that changed `field`."""
        return [revision for revision in self.revisions if field in revision.changed_fields]


@dataclass
class FieldConflict:
    """One field both editors changed: the base's value, theirs and mine; for texts, the
    merge that found the overlap (merging.Merge), else None."""

    field: str
    base: object
    mine: object
    theirs: object
    merge: object = None


# Related rows are compared and stored by id; the rest by value.
RELATED_FIELDS = ("section", "rubric", "author", "lead_image")
TEXT_MERGES = {"title": merge_text, "lead": merge_text, "body": merge_body}


def same_value(a, b):
    """Whether a form's value and a stored one are the same (ids for related rows; times
    to the minute, as forms give them)."""
    a, b = getattr(a, "id", a), getattr(b, "id", b)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)
    return a == b


class Revision(BaseModel):
    """Every save of an article, whole: who, when, and every field as it then was.

    Section, rubric and author are kept as plain ids so that a revision never
    blocks deleting or renaming them.
    """

    article = ForeignKeyField(Article, backref="revisions", on_delete="CASCADE")
    version = IntegerField()
    editor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    action = CharField(default="edited")
    created_at = DateTimeField(default=utcnow)
    title = CharField(max_length=300)
    lead = TextField()
    body = TextField()
    section_id = IntegerField()
    rubric_id = IntegerField()
    author_id = IntegerField()
    hot = BooleanField()
    status = CharField()
    published_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True)
    lead_image_id = IntegerField(null=True)
    lead_image_alt = TextField(default="")
    # The fields this save changed, comma-separated (article field names): whose change
    # a merge met, and what History shows.
    changed = TextField(default="")

    SNAPSHOT_FIELDS = (
        "title", "lead", "body", "section_id", "rubric_id", "author_id", "hot", "status",
        "published_at", "deleted_at", "lead_image_id", "lead_image_alt",
    )  # fmt: skip

    class Meta:
        indexes = ((("article", "version"), True),)

    @classmethod
    def record(cls, article, editor, action, changed=()):
        snapshot = {field: getattr(article, field) for field in cls.SNAPSHOT_FIELDS}
        return cls.create(
            article=article,
            version=article.version,
            editor=editor,
            action=action,
            changed=",".join(changed),
            **snapshot,
        )

    @property
    def changed_fields(self):
        return set(filter(None, self.changed.split(",")))

    def field_value(self, field):
        """The value an article field had in this revision (ids for related rows)."""
        return getattr(self, f"{field}_id" if field in RELATED_FIELDS else field)

    @classmethod
    def keep_baseline(cls, article):
        """Record the article as it is, if no revision has (imported or seeded articles)."""
        has_one = cls.select().where((cls.article == article) & (cls.version == article.version))
        if not has_one.exists():
            cls.record(article, None, "as imported")

    @classmethod
    def since(cls, article, version):
        return list(
            cls.select(cls, User)
            .join(User, JOIN.LEFT_OUTER, on=(cls.editor == User.id))
            .where((cls.article == article) & (cls.version > version))
            .order_by(cls.version)
        )

    @classmethod
    def history(cls, article):
        return (
            cls.select(cls, User)
            .join(User, JOIN.LEFT_OUTER, on=(cls.editor == User.id))
            .where(cls.article == article)
            .order_by(cls.version.desc())
        )

    def restorable_changes(self):
        """(fields to set back, names kept as they are).

        Content only: status, publication time and trash belong to the workflow, which
        a restore never changes (the revision of a draft restored on a live article
        keeps it live, dated as it was).

        A section, rubric or author deleted since (or an author who is no longer
        staff) cannot come back: the article keeps its current one.
        """
        changes = {
            "title": self.title,
            "lead": self.lead,
            "body": self.body,
            "hot": self.hot,
        }
        still_there = {
            "section": Section.select().where(Section.id == self.section_id),
            "rubric": Rubric.select().where(Rubric.id == self.rubric_id),
            "author": User.select().where((User.id == self.author_id) & (User.role != "reader")),
        }
        kept = []
        for name, query in still_there.items():
            if query.exists():
                changes[name] = getattr(self, f"{name}_id")
            else:
                kept.append(name)
        if self.lead_image_id is None or Media.get_or_none(Media.id == self.lead_image_id):
            changes["lead_image"] = self.lead_image_id
            changes["lead_image_alt"] = self.lead_image_alt
        else:
            kept.append("lead image")
        return changes, kept


# The main page's list and the article page's article: the most frequent reads.
LEAD_STORIES = PreparedQuery(lambda now, limit: Article.listing(now=now).limit(limit))
VISIBLE_ARTICLE = PreparedQuery(
    lambda now, article_id: Article.listing(Article.id == article_id, body=True, now=now)
)
