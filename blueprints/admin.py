"""Admins only: users and their roles, reset links, site settings."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

import dates
from blueprints.auth import require_role, reset_link
from forms import Form, page_number
from models import Pagination, SiteSettings, User, UserSession, database, write_transaction

bp = Blueprint("admin", __name__, url_prefix="/admin")

USERS_PER_PAGE = 50


@bp.before_request
def admins_only():
    require_role("admin")


class RoleForm(Form):
    role = SelectField(
        "Role", choices=[SelectChoice(role, role.capitalize()) for role in User.ROLES]
    )


class SettingsForm(Form):
    name = StringField("Site name", validators=[DataRequired(), Length(max=80)])
    tagline = StringField("Tagline", validators=[Length(max=160)])
    founded_line = StringField("Founding line", validators=[Length(max=160)])
    copyright_line = StringField("Copyright line", validators=[Length(max=160)])
    timezone = StringField("Timezone", validators=[DataRequired(), Length(max=64)])
    registration_open = BooleanField("Readers may register")

    def validate_timezone(self, field):
        if not dates.is_timezone(field.data):
            raise ValidationError("Unknown timezone. Use a name like Europe/Moscow or UTC.")


def target_user(user_id):
    return User.get_or_none(User.id == user_id) or abort(404)


def user_row_response(user, message=None, reset_url=None, status=200):
    """The user's row for htmx, or back to the list for a plain form post."""
    if request.htmx:
        html = render_template(
            "partials/user_row.html", user=user, message=message, reset_url=reset_url
        )
        return html, status
    if message:
        flash(message)
    if reset_url:
        flash(f"Reset link for {user.email} (valid 24 hours, once): {reset_url}")
    return redirect(url_for("admin.users", page=request.args.get("page", 1)))


def would_remove_last_admin(user, role=None, active=None):
    """Whether the change leaves no active admin: the site would lose its keys."""
    stays_admin = (role or user.role) == "admin" and (user.active if active is None else active)
    return user.role == "admin" and user.active and not stays_admin and User.admin_count() <= 1


@bp.route("/users")
def users():
    number = page_number()
    query = User.select().where(User.email.is_null(False)).order_by(User.created_at, User.id)
    page = Pagination(query.paginate(number, USERS_PER_PAGE), query.count(), number, USERS_PER_PAGE)
    if not page.exists:
        abort(404)
    return render_template("admin/users.html", page=page)


@bp.post("/users/<id:user_id>/role")
def change_role(user_id):
    user = target_user(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return user_row_response(user, "Choose one of the listed roles.", status=422)
    with write_transaction():
        if would_remove_last_admin(user, role=form.role.data):
            return user_row_response(user, "The last admin cannot stop being admin.", status=409)
        user.role = form.role.data
        user.save()
    return user_row_response(user, f"{user.display_name} is now {user.role}.")


@bp.post("/users/<id:user_id>/active")
def set_active(user_id):
    user = target_user(user_id)
    active = request.form.get("active") == "1"
    with write_transaction():
        if would_remove_last_admin(user, active=active):
            return user_row_response(user, "The last admin cannot be deactivated.", status=409)
        user.active = active
        if not active:
            user.rotate_login_token()  # spends reset links
            UserSession.end_all(user)
        user.save()
    state = "active again" if active else "deactivated; their sessions have ended"
    return user_row_response(user, f"{user.display_name} is {state}.")


@bp.post("/users/<id:user_id>/reset-link")
def make_reset_link(user_id):
    user = target_user(user_id)
    if not user.active or not user.email:
        return user_row_response(user, "Only active accounts get reset links.", status=409)
    return user_row_response(user, reset_url=reset_link(user))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    site = SiteSettings.load()
    form = SettingsForm(obj=site)
    if form.validate_on_submit():
        with database.atomic():
            form.populate_obj(site)
            site.save()
            SiteSettings.bump_content_version()  # every public page shows these
        flash("Settings saved.")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form), 400 if form.errors else 200
