"""The newsroom (staff only): editing articles in place, the workflow, revisions,
the dashboard, sections and rubrics.

Each article field is edited on the live article page: htmx swaps the field's
view (partials/field_view.html) for its form (partials/field_form.html) and back.
Without JavaScript the same edit links open /desk/articles/<id>/edit, a plain form
that saves through the same code.
"""

import hashlib
import re

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

import dates
import media
from blueprints.auth import require_role
from caching import named, site_settings
from forms import Form, page_number, row_id
from merging import word_diff
from models import (
    WORKFLOW,
    Article,
    EditConflict,
    Media,
    Pagination,
    Presence,
    Revision,
    Rubric,
    Section,
    StepNotAllowed,
    User,
    slugify,
)
from sanitize import clean_html, plain_text

bp = Blueprint("desk", __name__, url_prefix="/desk")

DESK_PAGE_SIZE = 25
LEAD_IMAGE_CHOICES = 30  # latest uploads offered as lead images
FIELD_LABELS = {
    "title": "title",
    "lead": "lead",
    "body": "text",
    "section": "section",
    "rubric": "rubric",
    "hot": "hot flag",
    "author": "author",
    "published_at": "publication time",
    "lead_image": "lead image",
    "lead_image_alt": "alt text of the lead image",  # saved with the lead image
}
# What readers read: a save of these on a published article may be shown as an update.
UPDATE_FIELDS = ("title", "lead", "body", "lead_image")
ACTION_LABELS = {
    "submit": "Submit for review",
    "return_to_draft": "Back to draft",
    "publish": "Publish now",
    "publish_as_new": "Publish as new",
    "schedule": "Schedule",
    "unpublish": "Unpublish",
    "trash": "Move to trash",
    "restore": "Restore from trash",
}


@bp.app_context_processor
def editing_labels():
    return {
        "field_labels": FIELD_LABELS,
        "action_labels": ACTION_LABELS,
        "others_editing": others_editing,
        "presence_key": presence_key,
        "presence_poll_seconds": current_app.config["PRESENCE_POLL_SECONDS"],
    }


@bp.before_request
def staff_only():
    require_role("author")


# --- Forms ----------------------------------------------------------------------------------


def to_local_input(value):
    """A stored time as a datetime-local field shows it (dates.format_local)."""
    return dates.format_local(value, site_settings().zone, dates.INPUT_FORMAT)


def shown_time(value):
    """A stored time as the site shows it, in messages: 21.07.19 08:16."""
    return dates.format_local(value, site_settings().zone, dates.SHORT_FORMAT)


def optional_id(value):
    """A row id from a form, or None for "none"; anything else fails validation."""
    if value in (None, ""):
        return None
    number = row_id(value)
    if number is None:
        raise ValueError("not a row id")
    return number


class ArticleForm(Form):
    """Every editable field of `article`; a single-field save validates just its field.

    The lead image comes with its alt text (`lead_image_alt`): saving one saves both.
    """

    class Meta:
        csrf = False  # CSRFProtect checks every POST before any view runs

    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    lead = TextAreaField("Lead", validators=[Length(max=2000)])
    body = TextAreaField("Text", validators=[Length(max=1_000_000)])
    # row_id: an id no row can have is None, which validation refuses like an unknown one.
    section = SelectField("Section", coerce=row_id)
    rubric = SelectField("Rubric", coerce=row_id)
    hot = BooleanField("Hot news")
    author = SelectField("Author", coerce=row_id)
    published_at = StringField("Publication time")
    lead_image = SelectField(
        "Lead image",
        coerce=optional_id,
        invalid_value_message="Choose one of the uploaded images, or none.",
    )
    lead_image_alt = StringField("Alt text of the lead image", validators=[Length(max=1000)])
    # Not a field of the article: the editor's choice at save (Article.revised_at).
    as_update = BooleanField("Show readers this as an update")

    def __init__(self, article, formdata=None):
        self.article = article
        super().__init__(formdata=formdata, data=article_form_data(article))
        self.section.choices = [SelectChoice(s.id, s.name) for s in Section.ordered()]
        self.rubric.choices = [SelectChoice(r.id, r.name) for r in Rubric.ordered()]
        staff = User.select().where(User.role != "reader").order_by(User.display_name, User.id)
        self.author.choices = [SelectChoice(u.id, u.display_name) for u in staff]
        self.section.validate_choice = self.rubric.validate_choice = False
        self.author.validate_choice = False
        self.lead_image.choices = lead_image_choices(self.lead_image.data, article)
        self.lead_image.validate_choice = False

    @property
    def live(self):
        """Published or scheduled: saves reach readers, so they are held to publishing's checks."""
        return self.article.is_live

    def validate_title(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("The title cannot be empty.")

    def validate_section(self, field):
        if not Section.get_or_none(Section.id == field.data):
            raise ValidationError("Choose one of the sections.")

    def validate_rubric(self, field):
        if not Rubric.get_or_none(Rubric.id == field.data):
            raise ValidationError("Choose one of the rubrics.")

    def validate_author(self, field):
        if not User.get_or_none((User.id == field.data) & (User.role != "reader")):
            raise ValidationError("Choose one of the listed authors.")

    def validate_body(self, field):
        # A live article's text reaches readers as it is saved: publishing checked its
        # images' descriptions, and so must every later save.
        problem = self.live and Article.missing_alt_text(clean_html(field.data), then="save")
        if problem:
            raise ValidationError(problem)

    def validate_lead_image(self, field):
        if field.data is not None and not Media.get_or_none(Media.id == field.data):
            raise ValidationError("Choose one of the uploaded images, or none.")

    def validate_lead_image_alt(self, field):
        image = self.live and Media.get_or_none(Media.id == self.lead_image.data)
        if image and not self.value_of("lead_image_alt"):
            raise ValidationError(
                "The lead image has no alt text. Describe it for readers who cannot see it, "
                "then save."
            )

    def validate_published_at(self, field):
        raw = (field.data or "").strip()
        if not raw and self.live:
            raise ValidationError(
                "A published or scheduled article needs a publication time. "
                "To take it off the site, unpublish it."
            )
        try:
            field.parsed = dates.parse_local(raw, site_settings().zone) if raw else None
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def offers_update(self, names):
        """Whether a save of `names` may be shown to readers as an update: what they read,
        of an article they can read now."""
        return self.article.state == "published" and any(n in UPDATE_FIELDS for n in names)

    def shown_as_update(self, names):
        """The editor chose to show this save of `names` to readers as an update."""
        return self.offers_update(names) and self.as_update.data

    def value_of(self, name):
        """The validated field as the article stores it."""
        if name == "body":
            return clean_html(self.body.data)
        if name == "lead":
            return " ".join((self.lead.data or "").split())
        if name == "published_at":
            return self.published_at.parsed
        if name == "lead_image_alt":
            return self.chosen_alt()
        return self[name].data

    def chosen_alt(self):
        """The article's description of the chosen lead image: as sent; else the same
        image keeps the article's own, and another starts with its uploader's."""
        image_id = self.lead_image.data
        if image_id is None:
            return ""
        if self.lead_image_alt.raw_data:
            return " ".join((self.lead_image_alt.data or "").split())
        if image_id == self.article.lead_image_id:
            return self.article.lead_image_alt
        image = Media.get_or_none(Media.id == image_id)
        return " ".join(image.alt.split()) if image else ""

    def validate_fields(self, names):
        """Validate these fields (the lead image with its alt text); True if all are valid."""
        names = [*names, "lead_image_alt"] if "lead_image" in names else names
        results = [self[name].validate(self, extra_validators=self.inline(name)) for name in names]
        return all(results)

    def inline(self, name):
        """The form's validate_<name> as an extra validator of that field alone."""
        method = getattr(self, f"validate_{name}", None)
        return [lambda _form, field: method(field)] if method else []

    def changes(self, names):
        """{field: value to store} of these fields; the lead image brings its alt text."""
        changes = {name: self.value_of(name) for name in names}
        if "lead_image" in changes:
            changes["lead_image_alt"] = self.value_of("lead_image_alt")
        return changes


def article_form_data(article):
    return {
        "title": article.title,
        "lead": article.lead,
        "body": article.body,
        "section": article.section_id,
        "rubric": article.rubric_id,
        "hot": article.hot,
        "author": article.author_id,
        "published_at": to_local_input(article.published_at),
        "lead_image": article.lead_image_id,
        "lead_image_alt": article.lead_image_alt,
    }


def lead_image_choices(current_id, article):
    """No image, the current one, and the latest uploads, newest first.

    The library is shared: every member of staff may use any upload. Each option
    carries the description the alt text field takes when it is chosen (editor.js):
    the article's own for its image, else the uploader's.
    """
    recent = list(Media.select().order_by(Media.id.desc()).limit(LEAD_IMAGE_CHOICES))
    if current_id and all(m.id != current_id for m in recent):
        recent.insert(0, Media.get_or_none(Media.id == current_id))
    choices = [SelectChoice("", "No lead image")]
    for item in filter(None, recent):
        alt = article.lead_image_alt if item.id == article.lead_image_id else item.alt
        label = f"{alt or 'No alt text yet'} ({item.width}×{item.height})"
        kw = {"data-alt": alt, "data-src": item.url_of(item.rendition(480)[2])}
        choices.append(SelectChoice(item.id, label, render_kw=kw))
    return choices


class NewArticleForm(Form):
    class Meta:
        csrf = False

    title = StringField("Working title", validators=[DataRequired(), Length(max=300)])
    section = SelectField("Section", coerce=row_id)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.section.choices = [SelectChoice(s.id, s.name) for s in Section.ordered()]


class TaxonomyForm(Form):
    class Meta:
        csrf = False

    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    slug = StringField(
        "Slug",
        validators=[
            Length(max=80),
            Regexp(r"^[a-z0-9-]*$", message="Use lower-case letters, digits and hyphens."),
        ],
    )


# --- Helpers --------------------------------------------------------------------------------


def article_for(article_id, field=None):
    """The article the user may see (404 otherwise), and 403 if they may not edit `field`."""
    article = Article.get_or_none(Article.id == article_id)
    if article is None or not article.may_view(current_user):
        abort(404)
    if field is not None:
        if field not in Article.EDITOR_FIELDS:
            abort(404)
        if field not in article.editable_fields(current_user):
            abort(403)
    return article


def base_version():
    raw = request.form.get("version", "")
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        abort(400, description="The form did not say which version it edits.")
    return int(raw)


def in_place(template, article, status=200, message=None, **context):
    """An in-place answer for htmx: the fragment of `template`, and what else on the page
    shows the article (partials/article_updates.html: the document's title, the panel's
    state line), with `message` said once, in the page's message region."""
    fragment = render_template(template, article=article, **context)
    updates = render_template("partials/article_updates.html", article=article, message=message)
    return fragment + updates, status


def field_view(article, name, status=200, message=None):
    return in_place("partials/field_view.html", article, status, message, name=name)


def field_form(article, name, form, status=200, conflict=None, version=None, message=None):
    return in_place(
        "partials/field_form.html",
        article,
        status,
        message,
        name=name,
        form=form,
        version=article.version if version is None else version,
        **conflict_context(conflict),
    )


def conflict_context(conflict):
    """What an editor needs to resolve a conflict: for each field both changed, who
    changed it and when, and both changes against the text they began from."""
    if conflict is None:
        return {"conflict": None}
    return {
        "conflict": conflict,
        "conflict_fields": [conflict_view(conflict, field) for field in conflict.fields.values()],
    }


def conflict_view(conflict, field):
    name = field.field
    if field.merge is not None:  # a text: only the passages both changed
        passages = [(c.base, c.theirs, c.mine) for c in field.merge.conflicts]
        shown = [tuple(passage_text(name, units) for units in p) for p in passages]
    else:
        shown = [tuple(readable_value(name, v) for v in (field.base, field.theirs, field.mine))]
    return {
        "name": name,
        "label": FIELD_LABELS.get(name, name),
        "revisions": conflict.editors_of(name) or conflict.revisions,
        "passages": [
            {"theirs": word_diff(base, theirs), "mine": word_diff(base, mine)}
            for base, theirs, mine in shown
        ],
    }


def passage_text(name, units):
    """Merge units as a person reads them: words joined, blocks of a body as paragraphs."""
    if name == "body":
        return "\n\n".join(filter(None, (plain_text(block) for block in units)))
    return "".join(units)


def saved_message(saved, what="Article"):
    """"<What> saved.", and whose changes the save was merged with."""
    if not saved.merged:
        return f"{what} saved."
    merges = []
    for name, revisions in saved.merged:
        names = sorted({r.editor.display_name for r in revisions if r.editor}) or ["another"]
        merges.append(f"{' and '.join(names)}’s change to the {FIELD_LABELS.get(name, name)}")
    return f"{what} saved, merged with {'; '.join(merges)}."


def changed_fields(revision, previous):
    if previous is None:
        return ["created"]
    names = [
        name
        for name in Revision.SNAPSHOT_FIELDS
        if getattr(revision, name) != getattr(previous, name)
    ]
    return [name.removesuffix("_id") for name in names]


def readable(revision, name):
    """A revision's field (by its snapshot name) as a person reads it."""
    return readable_value(name.removesuffix("_id"), getattr(revision, name))


def readable_value(name, value):
    """A value of an article field as a person reads it: names for ids, text for HTML."""
    if name == "body":
        blocks = re.split(r"</(?:p|h[1-6]|li|blockquote|figcaption|tr)>", value or "")
        return "\n\n".join(filter(None, (plain_text(block) for block in blocks)))
    if name in ("section", "rubric", "author"):
        model = {"section": Section, "rubric": Rubric, "author": User}[name]
        item = model.get_or_none(model.id == value)
        return (item.name if hasattr(item, "name") else item.display_name) if item else "(deleted)"
    if name in ("published_at", "deleted_at"):
        return to_local_input(value).replace("T", " ") if value else "—"
    if name == "lead_image":
        return f"image {getattr(value, 'id', value)}" if value else "(none)"
    return str(value)


# --- Dashboard ------------------------------------------------------------------------------


@bp.route("/")
def dashboard():
    args = request.args
    state = args.get("state") if args.get("state") in Article.STATES else None
    order = (
        args.get("order") if args.get("order") in ("updated", "published", "title") else "updated"
    )
    # An unknown id, or one no row can have, filters nothing.
    section = Section.get_or_none(Section.id == (row_id(args.get("section")) or 0))
    author = User.get_or_none(User.id == (row_id(args.get("author")) or 0))
    if not current_user.has_role("editor"):
        author = current_user  # authors see their own pieces
    query = Article.desk_list(state, section, author, order)
    number = page_number()
    page = Pagination(query.paginate(number, DESK_PAGE_SIZE), query.count(), number, DESK_PAGE_SIZE)
    page.items = named(page.items)
    context = {
        "page": page,
        "editing": Presence.on_articles([a.id for a in page.items], current_user),
        "state": state,
        "order": order,
        "section": section,
        "author": author,
        "sections": Section.ordered(),
        "authors": User.select().where(User.role != "reader").order_by(User.display_name, User.id),
        "states": Article.STATES,
    }
    if request.htmx and request.htmx.target == "desk-results":
        return render_template("partials/desk_results.html", **context)
    return render_template("desk/dashboard.html", **context)


@bp.route("/articles/new", methods=["GET", "POST"])
def new_article():
    form = NewArticleForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        section = Section.get_or_none(Section.id == form.section.data)
        rubric = Rubric.ordered().first()
        if section is None or rubric is None:
            form.section.errors.append("Create a section and a rubric first.")
        else:
            article = Article.new_draft(form.title.data.strip(), section, rubric, current_user)
            return redirect(url_for("public.article", article_id=article.id, slug=article.slug))
    status = 422 if form.errors else 200
    return render_template("desk/new.html", form=form), status


@bp.post("/media")
def upload_media():
    """An image for the body or the lead (multipart: file, alt), as JSON for editor.js."""
    try:
        upload = request.files.get("file")
        alt = request.form.get("alt", "")
    except RequestEntityTooLarge:
        limit = media.human_size(current_app.config["MAX_CONTENT_LENGTH"])
        return {"error": f"The file is larger than {limit}: make it smaller."}, 413
    try:
        item, created = media.accept_upload(upload, alt, current_user)
    except media.Refused as refusal:
        return {"error": refusal.message}, refusal.status
    return media.upload_answer(item, " ".join(alt.split())), 201 if created else 200


# --- Editing in place -----------------------------------------------------------------------


@bp.get("/articles/<id:article_id>/fields/<name>")
def show_field(article_id, name):
    if name not in Article.EDITOR_FIELDS:
        abort(404)
    return field_view(article_for(article_id), name)


@bp.get("/articles/<id:article_id>/fields/<name>/edit")
def edit_field(article_id, name):
    article = article_for(article_id, name)
    return field_form(article, name, ArticleForm(article))


@bp.post("/articles/<id:article_id>/fields/<name>")
def save_field(article_id, name):
    article = article_for(article_id, name)
    version = base_version()
    form = ArticleForm(article, request.form)
    label = FIELD_LABELS[name].capitalize()
    if not form.validate_fields([name]):
        message = f"{label} not saved: correct the marked field."
        return field_form(article, name, form, status=422, version=version, message=message)
    try:
        saved = article.save_changes(
            form.changes([name]), version, current_user, as_update=form.shown_as_update([name])
        )
    except EditConflict as conflict:
        # The editor's text stays in the form, with the others' changes that did not clash
        # merged in, now based on the current version: saving it again replaces only the
        # other change the form shows, as its button says.
        clash = conflict.fields.get(name)
        if clash is not None and clash.merge is not None:
            form[name].data = conflict.resolution[name]
        message = f"{label} not saved: someone else changed it in the same place meanwhile."
        return field_form(
            conflict.current, name, form, status=409, conflict=conflict, message=message
        )
    return field_view(saved, name, message=saved_message(saved, label))


def whole_article_presence(article):
    """For the full edit form's answer: the form shown (again) is an open editor of the
    whole article, which nothing else says without JavaScript; saved, it is closed.
    Counted once the answer is made, so that a failure before has written nothing
    (app.server_error tells the editor whether anything was saved)."""

    def count(response):
        if response.status_code in (200, 409, 422):
            Presence.beat(article, current_user, Presence.WHOLE)
        elif response.status_code == 302:
            Presence.leave(article, current_user, Presence.WHOLE)
        return response

    return count


@bp.route("/articles/<id:article_id>/edit", methods=["GET", "POST"])
def edit_article(article_id):
    """The whole article in one plain form: editing without JavaScript."""
    article = article_for(article_id)
    fields = article.editable_fields(current_user)
    if not fields:
        abort(403)
    after_this_request(whole_article_presence(article))
    if request.method == "GET":
        form = ArticleForm(article)
        return render_template("desk/edit.html", article=article, form=form, fields=fields)
    version = base_version()
    form = ArticleForm(article, request.form)
    if not form.validate_fields(fields):  # every field is checked: all errors show at once
        return render_template(
            "desk/edit.html", article=article, form=form, fields=fields, version=version
        ), 422
    # "Keep theirs" on a conflict page: those fields are left as the others saved them.
    kept = set(request.form.get("keep_theirs", "").split(","))
    if "lead_image_alt" in kept:  # saved with its image: keep both as they are
        kept.add("lead_image")
    try:
        changes = form.changes([name for name in fields if name not in kept])
        saved = article.save_changes(
            changes, version, current_user, as_update=form.shown_as_update(fields)
        )
    except EditConflict as conflict:
        # The form comes back as the article is now with this editor's changes over it
        # (merged where they merged), based on the current version: saving it replaces
        # only the conflicting changes, which the page shows and its button says.
        resolved = Article(**{**conflict.current.__data__, **conflict.resolution})
        return render_template(
            "desk/edit.html",
            article=conflict.current,
            form=ArticleForm(resolved),
            fields=fields,
            **conflict_context(conflict),
        ), 409
    flash(saved_message(saved))
    return redirect(url_for("public.article", article_id=saved.id, slug=saved.slug))


@bp.post("/articles/<id:article_id>/actions/<action>")
def take_action(article_id, action):
    """A workflow step, on the article as it is now: no version, no conflict with saves."""
    article = article_for(article_id)
    if action not in WORKFLOW:
        abort(404)
    publish_at = None
    if action == "schedule":
        form = ArticleForm(article, request.form)
        try:
            form.validate_published_at(form.published_at)
        except ValidationError as error:
            return action_result(article, str(error), 422)
        publish_at = form.published_at.parsed
    try:
        saved = article.take_action(action, current_user, publish_at)
    except PermissionError:
        abort(403)
    except StepNotAllowed as refusal:
        return action_result(refusal.current, step_not_allowed(refusal), 409)
    except ValueError as error:
        return action_result(Article.get_by_id(article.id), str(error), 422)
    done = {
        "submit": "Submitted for review.",
        "return_to_draft": "Back to draft.",
        "publish": "Published.",
        "publish_as_new": "Published as new: dated now, at the top of lists and feeds.",
        "schedule": "Scheduled.",
        "unpublish": "Unpublished: readers no longer see it.",
        "trash": "Moved to the trash.",
        "restore": "Restored from the trash.",
    }[action]
    if action == "publish" and saved.published_at < saved.updated_at:  # kept its first date
        done = f"Published again, dated {shown_time(saved.published_at)} as first published."
    return action_result(saved, done)


def step_not_allowed(refusal):
    """Why a step was refused: the article moved on, and who moved it last."""
    article = refusal.current
    last = Revision.history(article).first()
    by = ""
    if last is not None:
        who = last.editor.display_name if last.editor else "someone"
        by = f" ({last.action} by {who}, {shown_time(last.created_at)})"
    return (
        f"“{ACTION_LABELS[refusal.name]}” was not done: the article is {article.state} "
        f"now{by}. The steps below are those it allows."
    )


def action_result(article, message, status=200):
    """The staff panel for htmx, `message` in the page's message region (out of band).
    Without htmx, a step taken goes back to the article with the message; a refused one
    answers with the article page itself, saying why where htmx says it."""
    if request.htmx:
        panel = render_template("partials/article_status.html", article=article)
        said = render_template("partials/flashes.html", messages=[message], oob=True)
        return panel + said, status
    if status >= 400:
        named([article])
        return render_template("public/article.html", article=article, messages=[message]), status
    flash(message)
    if article.may_view(current_user) and article.state != "trash":
        return redirect(url_for("public.article", article_id=article.id, slug=article.slug))
    return redirect(url_for("desk.dashboard", state="trash" if article.deleted_at else None))


@bp.post("/trash/empty")
def empty_trash():
    require_role("editor")
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm: articles in the trash are deleted for good.")
        return redirect(url_for("desk.dashboard", state="trash"))
    count = Article.empty_trash()
    flash(f"Deleted {count} articles for good.")
    return redirect(url_for("desk.dashboard", state="trash"))


# --- Who is editing -------------------------------------------------------------------------
# Advice, never a lock: browsers with an editor open say so (static/js/presence.js), and
# the article page and the edit page poll who else is editing. See models.Presence.


def presence_field():
    """The field a heartbeat names (`field` in the form; Presence.WHOLE for the full form)."""
    field = request.form.get("field", "")
    if field not in Presence.FIELDS:
        abort(400, description="The heartbeat did not name a field of the article.")
    return field


@bp.post("/articles/<id:article_id>/editing")
def editing_beat(article_id):
    """`field` of the article is open in this user's editor (sent every few seconds)."""
    article = article_for(article_id)
    field = presence_field()
    editable = article.editable_fields(current_user)
    if field not in editable and not (field == Presence.WHOLE and editable):
        abort(403)
    Presence.beat(article, current_user, field)
    return "", 204


@bp.post("/articles/<id:article_id>/editing/done")
def editing_done(article_id):
    """This user's editor of `field` closed. Needs no right to edit: it may have gone since."""
    article = article_for(article_id)
    Presence.leave(article, current_user, presence_field())
    return "", 204


def others_editing(article, field=None):
    """Who else is editing `article` now (models.Presence.others), or just those who may
    change `field`; asked once per request, however many notices show it."""
    cache = g.setdefault("others_editing", {})
    if article.id not in cache:
        cache[article.id] = Presence.others(article, current_user)
    return [row for row in cache[article.id] if field is None or row.covers(field)]


def presence_key(rows):
    """What a notice shows, in short: the same key, the same notice."""
    shown = ",".join(f"{row.user_id}:{row.field}:{row.since.isoformat()}" for row in rows)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


@bp.get("/articles/<id:article_id>/editors")
def who_is_editing(article_id):
    """The notice of who else is editing, polled by partials/presence.html; with it, out
    of band, the notice of each field in `spots` (the ones the page shows). 204 when the
    page shows it already (`shown`): no swap, and screen readers hear nothing again."""
    article = article_for(article_id)
    rows = others_editing(article)
    if request.args.get("shown") == presence_key(rows):
        return "", 204
    names = request.args.get("spots", "").split(",")
    spots = [name for name in names if name in Article.EDITOR_FIELDS]
    return render_template("partials/presence_list.html", article=article, oob_spots=spots)


# --- History --------------------------------------------------------------------------------


@bp.get("/articles/<id:article_id>/history")
def history(article_id):
    article = article_for(article_id)
    revisions = list(Revision.history(article))
    if not revisions:  # imported or seeded, never edited: its first save records it
        return render_template("desk/history.html", article=article, revisions=[])
    by_version = {r.version: r for r in revisions}
    newer = by_version.get(row_id(request.args.get("to"))) or revisions[0]
    older = by_version.get(row_id(request.args.get("from")))
    if older is None:
        older = by_version.get(newer.version - 1, newer)
    diffs = [
        (name.removesuffix("_id"), word_diff(readable(older, name), readable(newer, name)))
        for name in Revision.SNAPSHOT_FIELDS
        if readable(older, name) != readable(newer, name)
    ]
    changes = {r.version: changed_fields(r, by_version.get(r.version - 1)) for r in revisions}
    return render_template(
        "desk/history.html",
        article=article,
        revisions=revisions,
        older=older,
        newer=newer,
        diffs=diffs,
        changes=changes,
    )


@bp.post("/articles/<id:article_id>/revisions/<id:version>/restore")
def restore_revision(article_id, version):
    article = article_for(article_id)
    if not set(Article.EDITOR_FIELDS) <= set(article.editable_fields(current_user)):
        abort(403)
    revision = Revision.get_or_none((Revision.article == article) & (Revision.version == version))
    if revision is None:
        abort(404)
    changes, kept = revision.restorable_changes()
    if article.is_live:  # what is restored reaches readers: held to publishing's checks
        try:
            Article(**{**article.__data__, **changes}).check_alt_text()
        except ValueError:
            flash(
                f"Version {version} was not restored: it has an image without alt text, and "
                "this article is live. Copy what you need from it by hand, or unpublish first."
            )
            return redirect(url_for("desk.history", article_id=article.id)), 303
    try:
        saved = article.save_changes(
            changes,
            base_version(),
            current_user,
            action=f"restored version {version}",
            merge=False,
        )
    except EditConflict:
        flash("Someone saved this article meanwhile. Look at the newest version, then restore.")
        return redirect(url_for("desk.history", article_id=article.id)), 303
    note = f" The current {', '.join(kept)} stayed: the old one is gone." if kept else ""
    flash(
        f"Version {version} restored as version {saved.version}: its content; the article "
        f"stays {saved.state}{dated(saved)}.{note}"
    )
    return redirect(url_for("public.article", article_id=saved.id, slug=saved.slug))


def dated(article):
    """The date after "the article stays published" in a message: ", first published
    21.07.19 08:16"; nothing for an article without a publication time."""
    if article.published_at is None:
        return ""
    verb = "to be published" if article.is_scheduled else "first published"
    return f", {verb} {shown_time(article.published_at)}"


# --- Sections and rubrics ------------------------------------------------------------------

TAXONOMIES = {"section": Section, "rubric": Rubric}


def taxonomy_model(kind):
    require_role("editor")
    return TAXONOMIES.get(kind) or abort(404)


def taxonomy_page(status=200, form=None, kind=None):
    return render_template(
        "desk/taxonomy.html",
        sections=Section.ordered(),
        rubrics=Rubric.ordered(),
        form=form,
        failed_kind=kind,
    ), status


def taxonomy_row(item, kind, message=None, form=None, status=200):
    if request.htmx:
        return render_template(
            "partials/taxonomy_row.html", item=item, kind=kind, message=message, form=form
        ), status
    if message:
        flash(message)
    return redirect(url_for("desk.taxonomy"))


def slug_taken(model, slug, item=None):
    query = model.select().where(model.slug == slug)
    if item is not None:
        query = query.where(model.id != item.id)
    return query.exists()


@bp.get("/taxonomy")
def taxonomy():
    require_role("editor")
    return taxonomy_page()


@bp.post("/taxonomy/<kind>")
def add_taxonomy(kind):
    model = taxonomy_model(kind)
    form = TaxonomyForm(formdata=request.form)
    if form.validate():
        slug = form.slug.data or slugify(form.name.data, max_length=60)
        if slug_taken(model, slug):
            form.slug.errors.append("Another one has this slug.")
        else:
            last = model.select().order_by(model.position.desc()).first()
            model.create(
                name=form.name.data.strip(),
                slug=slug,
                position=(last.position + 1) if last else 0,
            )
            flash(f"Added {form.name.data.strip()}.")
            return redirect(url_for("desk.taxonomy"))
    return taxonomy_page(422, form=form, kind=kind)


@bp.post("/taxonomy/<kind>/<id:item_id>")
def update_taxonomy(kind, item_id):
    model = taxonomy_model(kind)
    item = model.get_or_none(model.id == item_id) or abort(404)
    form = TaxonomyForm(formdata=request.form)
    if form.validate():
        slug = form.slug.data or item.slug
        if slug_taken(model, slug, item):
            form.slug.errors.append("Another one has this slug.")
        else:
            item.rename(form.name.data.strip(), slug)
            return taxonomy_row(item, kind, "Saved. Old links redirect to the new address.")
    return (
        taxonomy_row(item, kind, form=form, status=422)
        if request.htmx
        else taxonomy_page(422, form=form, kind=kind)
    )


@bp.post("/taxonomy/<kind>/<id:item_id>/move")
def move_taxonomy(kind, item_id):
    model = taxonomy_model(kind)
    item = model.get_or_none(model.id == item_id) or abort(404)
    item.move(-1 if request.form.get("direction") == "up" else 1)
    flash(f"Moved {item.name}.")
    return redirect(url_for("desk.taxonomy"))


@bp.post("/taxonomy/<kind>/<id:item_id>/delete")
def delete_taxonomy(kind, item_id):
    model = taxonomy_model(kind)
    item = model.get_or_none(model.id == item_id) or abort(404)
    if item.in_use():
        return taxonomy_row(
            item, kind, "Articles are filed here: move them elsewhere first.", status=409
        )
    item.delete_instance()
    if request.htmx:
        return ""  # the row goes away
    flash(f"Deleted {item.name}.")
    return redirect(url_for("desk.taxonomy"))
