"""Accounts: register, log in and out, change or reset a password; and the role guard
every staff route goes through."""

import datetime as dt
import functools
import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

import mail
from caching import site_settings
from forms import EMAIL_PATTERN, Form, strip
from models import LoginFailure, Registration, User, UserSession, database, utcnow
from passwords import MAX_LENGTH, hash_password, password_problem, verify_password

bp = Blueprint("auth", __name__, url_prefix="/auth")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
login_manager.session_protection = "basic"

RESET_LINK_HOURS = 24

# Login throttle (OWASP's "device cookies"). Failures are counted per account and client
# address, per address, and per account from clients the account has never logged in from;
# a browser that has logged in to the account before carries a signed device cookie and is
# counted on its own. So an attacker's failures, from one address or a thousand, close the
# account to untrusted clients only: its owner's devices still get in.
# Each limit is (soft, hard): after `soft` failures in the window each try waits 2, 4, 8…
# seconds; after `hard` the key is closed until the window has passed.
THROTTLE_WINDOW = dt.timedelta(minutes=15)
PAIR_LIMITS = (3, 10)  # one account from one address
ADDRESS_LIMITS = (20, 50)  # every account from one address
ACCOUNT_LIMITS = (None, 10)  # one account from all untrusted clients: no backoff, a cap
DEVICE_LIMITS = (3, 10)  # one account from one trusted device
REGISTRATION_MAIL_LIMITS = (None, 3)  # registration mails to one address
REGISTRATION_ADDRESS_LIMITS = (None, 10)  # registrations from one client address
DEVICE_COOKIE = "newsdesk_device"
DEVICE_COOKIE_DAYS = 365


@login_manager.user_loader
def load_user(session_token):
    # Cookies name a login (UserSession): once it is ended, or the account deactivated,
    # the cookie is worth nothing, wherever it was copied to.
    return UserSession.user_of(session_token)


# --- The guard ----------------------------------------------------------------------------


def require_role(role):
    """Abort unless the current user has `role` or above: log in first, else 403."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not current_user.has_role(role):
        abort(403)


def role_required(role):
    """Decorator form of `require_role`, for views outside role-guarded blueprints."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            require_role(role)
            return view(*args, **kwargs)

        return guarded

    return decorate


# --- Forms --------------------------------------------------------------------------------


class NewPasswordMixin:
    password = PasswordField("New password", validators=[DataRequired()])
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )

    def personal_words(self):
        return ()

    def validate_password(self, field):
        problem = password_problem(field.data, *self.personal_words())
        if problem:
            raise ValidationError(problem)


class LoginForm(Form):
    email = EmailField("Email", filters=[strip], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField("Remember me on this device")


class RegisterForm(NewPasswordMixin, Form):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=80)])
    email = EmailField(
        "Email",
        filters=[strip],
        validators=[
            DataRequired(),
            Length(max=254),
            Regexp(EMAIL_PATTERN, message="Enter an email address like name@example.org."),
        ],
    )
    password = PasswordField("Password", validators=[DataRequired()])

    def personal_words(self):
        return (self.email.data, self.display_name.data)


class ChangePasswordForm(NewPasswordMixin, Form):
    current = PasswordField("Current password", validators=[DataRequired()])

    def personal_words(self):
        return (current_user.email, current_user.display_name)

    def validate_current(self, field):
        if not verify_password(current_user.password_hash, field.data):
            raise ValidationError("That is not your current password.")


class ResetPasswordForm(NewPasswordMixin, Form):
    pass


class ResetRequestForm(Form):
    email = EmailField("Email", filters=[strip], validators=[DataRequired(), Length(max=254)])


# --- Helpers --------------------------------------------------------------------------------


def local_target(url):
    """`url` if it stays on this site (a path), else None: no open redirects."""
    if not url or not url.startswith("/") or url.startswith(("//", "/\\")):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in url):
        return None
    return url


def after_login_url():
    return local_target(request.values.get("next")) or url_for("public.index")


def start_session(user, remember=False):
    # A fresh session at login: nothing set before it (a planted one included) survives.
    session.clear()
    login_user(UserSession.start(user), remember=remember)


def end_session():
    """Log out here: the login ends on the server, not only in this browser."""
    if current_user.is_authenticated:
        UserSession.end(current_user.session_token)
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion


def device_serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def trusted_device(user):
    """The nonce of this browser's device cookie if it has logged in to `user` before."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if user is None or not raw:
        return None
    try:
        data = device_serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("user") != user.id:
        return None
    nonce = data.get("nonce")
    return nonce if isinstance(nonce, str) and nonce.isalnum() else None


def remember_device(response, user):
    """Mark this browser as one `user` logs in from (after a login or a new password)."""
    value = device_serializer().dumps({"user": user.id, "nonce": secrets.token_hex(16)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
        path=url_for("auth.login"),  # the only page that reads it
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def throttle_limits(email, device):
    """(key, (soft, hard)) for each count this login attempt is held to."""
    if device:
        return [(f"device:{device}", DEVICE_LIMITS)]
    email, address = email.strip().lower(), request.remote_addr
    return [
        (f"pair:{email} {address}", PAIR_LIMITS),
        (f"ip:{address}", ADDRESS_LIMITS),
        (f"email:{email}", ACCOUNT_LIMITS),
    ]


def throttle_wait(limits):
    """Seconds this login attempt must still wait, or 0."""
    now = utcnow()
    since = now - THROTTLE_WINDOW
    wait = 0
    for key, (soft, hard) in limits:
        failures, last = LoginFailure.recent(key, since)
        if not failures:
            continue
        last = LoginFailure.at.python_value(last)
        if failures >= hard:
            wait = max(wait, (last + THROTTLE_WINDOW - now).total_seconds())
        elif soft is not None and failures >= soft:
            backoff = dt.timedelta(seconds=2 ** (failures - soft + 1))
            wait = max(wait, (last + backoff - now).total_seconds())
    return max(0, int(wait + 0.999))


def record_attempt(limits):
    with database.atomic():
        for key, _ in limits:
            LoginFailure.create(key=key)


def reset_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def reset_link(user):
    """A one-time link: it names the login token, which a new password replaces."""
    token = reset_serializer().dumps({"user": user.id, "token": user.login_token})
    return url_for("auth.reset_password", token=token, _external=True)


def user_from_reset_token(token):
    try:
        data = reset_serializer().loads(token, max_age=RESET_LINK_HOURS * 3600)
    except BadSignature:  # also raised for expired links
        return None
    if not isinstance(data, dict):
        return None
    user = User.get_or_none((User.id == data.get("user")) & User.active)
    return user if user and user.login_token == data.get("token") else None


def set_password(user, password):
    """A new password: every login of the account ends, and reset links are spent."""
    with database.atomic():
        user.password_hash = hash_password(password)
        user.rotate_login_token()
        user.save()
        UserSession.end_all(user)


def send_reset_email(user, link):
    mail.send(
        user.email,
        f"Reset your password at {site_settings().name}",
        f"Someone asked to reset the password of {user.email}.\n\n"
        f"To choose a new password, open this link within {RESET_LINK_HOURS} hours:\n{link}\n\n"
        "If it was not you, ignore this message: your password stays as it is.\n",
    )


def send_registration_email(email, name, token):
    link = url_for(
        "auth.confirm_registration", token=token, next=local_target(request.args.get("next")),
        _external=True,
    )
    hours = int(Registration.LIFETIME.total_seconds() // 3600)
    mail.send(
        email,
        f"Confirm your address at {site_settings().name}",
        f"Hello {name},\n\nTo finish creating your account at {site_settings().name}, "
        f"open this link within {hours} hours:\n{link}\n\n"
        "If you did not register, ignore this message: no account is created without it.\n",
    )


def send_already_registered_email(user):
    """To the owner of an address someone registered with: no second account, no leak."""
    mail.send(
        user.email,
        f"Your account at {site_settings().name}",
        f"Someone, maybe you, tried to create an account at {site_settings().name} with "
        f"this address. It already has one.\n\n"
        f"Log in: {url_for('auth.login', _external=True)}\n"
        f"Forgot your password? {url_for('auth.request_reset', _external=True)}\n\n"
        "If it was not you, ignore this message: nothing has changed.\n",
    )


def registration_limits(email):
    # Caps on mails to one address (no mail-bombing through the form) and on registrations
    # from one client; the same for new and existing addresses, so they tell nothing.
    return [
        (f"register:{email}", REGISTRATION_MAIL_LIMITS),
        (f"register-ip:{request.remote_addr}", REGISTRATION_ADDRESS_LIMITS),
    ]


# --- Views ----------------------------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Registering mails a confirmation link; an address that has an account gets a note
    instead. The page answers the same either way, so nobody learns who has an account."""
    if not site_settings().registration_open:
        return render_template("auth/register_closed.html"), 403
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    form = RegisterForm()
    if not form.validate_on_submit():
        return render_template("auth/register.html", form=form), 400 if form.errors else 200
    email = form.email.data.strip().lower()
    limits = registration_limits(email)
    wait = throttle_wait(limits)
    if wait:
        form.form_errors.append(
            f"Too many registrations. Try again in {-(-wait // 60)} minutes."
        )
        return render_template("auth/register.html", form=form), 429, {"Retry-After": str(wait)}
    # Hash in both cases, so that the time taken tells nothing either.
    password_hash = hash_password(form.password.data)
    owner = User.by_email(email)
    try:
        if owner:
            send_already_registered_email(owner)
        else:
            name = " ".join(form.display_name.data.split())
            send_registration_email(email, name, Registration.begin(email, name, password_hash))
    except mail.MailError:
        current_app.logger.exception("could not send a registration email")
        form.form_errors.append("The email could not be sent. Try again later.")
        return render_template("auth/register.html", form=form), 503
    record_attempt(limits)
    return render_template("auth/register_sent.html", email=email)


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def confirm_registration(token):
    """GET shows a button, POST creates the account: mail scanners that open every link
    create nothing."""
    pending = Registration.pending(token)
    if pending is None:
        return render_template("auth/link_invalid.html", kind="registration"), 400
    if request.method == "GET":
        return render_template("auth/register_confirm.html", pending=pending)
    user = pending.complete()
    if user is None:
        flash("This address already has an account: log in.")
        return redirect(url_for("auth.login"))
    start_session(user)
    flash(f"Welcome, {user.display_name}. Your account is ready.")
    return remember_device(redirect(after_login_url()), user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        limits = throttle_limits(form.email.data, trusted_device(user))
        wait = throttle_wait(limits)
        if wait:
            message = (
                f"Too many failed attempts. Wait {wait} seconds before trying again."
                if wait < 120
                else f"Too many failed attempts. Try again in {-(-wait // 60)} minutes, "
                "or from a device you have logged in with before."
            )
            form.form_errors.append(message)
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(wait)}
        password_ok = verify_password(user.password_hash if user else None, form.password.data)
        if user and password_ok and user.active:
            # This client's own count starts again; the account's count of others stays.
            LoginFailure.forget(limits[0][0])
            start_session(user, remember=form.remember.data)
            return remember_device(redirect(after_login_url()), user)
        record_attempt(limits)
        # One message for unknown email, wrong password and closed account: no enumeration.
        form.form_errors.append("Wrong email or password.")
        status = 401
    elif form.errors:
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method == "POST":  # CSRF-checked: no one can log a reader out from elsewhere
        end_session()
        return redirect(url_for("public.index"))
    return render_template("auth/logout.html")


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every login of the account: other browsers, devices and copied cookies too."""
    UserSession.end_all(current_user._get_current_object())
    end_session()
    flash("You are logged out everywhere, on this device and all others.")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        set_password(user, form.password.data)
        start_session(user)  # set_password ended every login, this one included
        flash("Your password is changed. Other devices have been logged out.")
        return redirect(url_for("auth.change_password"))
    sessions = UserSession.count_for(current_user._get_current_object())
    page = render_template("auth/password.html", form=form, sessions=sessions)
    return page, 400 if form.errors else 200


@bp.route("/reset", methods=["GET", "POST"])
def request_reset():
    """Ask for a reset link by email; without a mail server, an admin makes the link."""
    form = ResetRequestForm()
    if mail.configured() and form.validate_on_submit():
        user = User.by_email(form.email.data)
        if user and user.active and user.password_hash:
            try:
                send_reset_email(user, reset_link(user))
            except mail.MailError:
                current_app.logger.exception("could not send a password reset email")
                form.form_errors.append("The email could not be sent. Try again later.")
                return render_template("auth/reset_request.html", form=form, mail=True), 503
        # The same answer whether or not the account exists.
        return render_template("auth/reset_request.html", form=None, sent=True)
    status = 400 if form.errors else 200
    return render_template("auth/reset_request.html", form=form, mail=mail.configured()), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    user = user_from_reset_token(token)
    if user is None:
        return render_template("auth/link_invalid.html", kind="reset"), 400
    form = ResetPasswordForm()
    form.personal_words = lambda: (user.email, user.display_name)
    if form.validate_on_submit():
        set_password(user, form.password.data)
        flash("Your new password is set. Log in with it.")
        # The reset link proved the owner is here: this browser is theirs, so others'
        # failed logins cannot keep them out of the account.
        return remember_device(redirect(url_for("auth.login")), user)
    return render_template("auth/reset.html", form=form, user=user), 400 if form.errors else 200


def init_app(app):
    login_manager.init_app(app)
    app.register_blueprint(bp)
