"""Accounts and logging in: users, their logins, registrations waiting for
confirmation, and failed logins."""

import datetime as dt
import hashlib
import re
import secrets

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    TextField,
    fn,
)

from models.base import BaseModel, database, slugify, utcnow, write_transaction


class User(BaseModel):
    """An account; authors are users with a public profile (display name, slug, bio).

    Contributors who never log in have no email or password.
    """

    ROLES = ("reader", "author", "editor", "admin")  # each may do all the previous may

    email = CharField(null=True, unique=True)  # stored lower-cased
    password_hash = CharField(null=True)
    role = CharField(default="reader")
    active = BooleanField(default=True)
    display_name = CharField()
    slug = CharField(unique=True)
    bio = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    # Reset links name this token: a new password replaces it, which spends them.
    login_token = CharField(default=lambda: secrets.token_urlsafe(24), index=True)
    session_token = None  # the login (UserSession) this request came with, if any

    # Flask-Login's user protocol
    is_anonymous = False

    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        # What Flask-Login keeps in the session and remember-me cookies: the login, so the
        # server can end it, never the account itself.
        return self.session_token

    def has_role(self, role):
        return self.ROLES.index(self.role) >= self.ROLES.index(role)

    @property
    def is_staff(self):
        return self.has_role("author")

    def rotate_login_token(self):
        self.login_token = secrets.token_urlsafe(24)

    @classmethod
    def by_email(cls, email):
        return cls.get_or_none(cls.email == (email or "").strip().lower())

    @classmethod
    def unique_slug(cls, name):
        base = slugify(name, max_length=60)
        slug, n = base, 1
        while cls.select().where(cls.slug == slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    @classmethod
    def admin_count(cls):
        return cls.select().where((cls.role == "admin") & cls.active).count()


SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


class UserSession(BaseModel):
    """One login on one device, named by the token its session and remember-me cookies
    carry. Deleting the row ends that login on the server at its next request, wherever
    the cookies were copied to: logging out, logging out everywhere, a new password and
    deactivation each delete exactly the rows they end.
    """

    LIFETIME = dt.timedelta(days=30)  # as long as a remember-me cookie lives

    token = CharField(primary_key=True, default=lambda: secrets.token_urlsafe(32))
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def start(cls, user):
        """A new login for `user`, who then carries its token (User.get_id)."""
        with database.atomic():
            cls.delete().where(
                (cls.user == user) & (cls.created_at < utcnow() - cls.LIFETIME)
            ).execute()
            user.session_token = cls.create(user=user).token
        return user

    @classmethod
    def user_of(cls, token):
        """The active user whose unexpired login `token` names, or None: one indexed query."""
        if not isinstance(token, str) or not SESSION_TOKEN.fullmatch(token):
            return None  # not one this site made (and NUL would upset PostgreSQL)
        row = (
            cls.select(cls.token, User)
            .join(User)
            .where((cls.token == token) & User.active & (cls.created_at >= utcnow() - cls.LIFETIME))
            .objects(User)
            .first()
        )
        if row is not None:
            row.session_token = token
        return row

    @classmethod
    def end(cls, token):
        cls.delete().where(cls.token == token).execute()

    @classmethod
    def end_all(cls, user, keep=None):
        """End every login of `user` (but the one `keep` names); returns how many ended."""
        query = cls.delete().where(cls.user == user)
        if keep is not None:
            query = query.where(cls.token != keep)
        return query.execute()

    @classmethod
    def count_for(cls, user):
        return cls.select().where(
            (cls.user == user) & (cls.created_at >= utcnow() - cls.LIFETIME)
        ).count()


class Registration(BaseModel):
    """A registration waiting for the link mailed to its address: no account exists until
    the link is opened, so registering tells nobody whether an address has one. Only a
    hash of the link's token is kept, as for a password."""

    LIFETIME = dt.timedelta(hours=48)

    token_hash = CharField(unique=True)
    email = CharField(index=True)  # stored lower-cased
    display_name = CharField()
    password_hash = CharField()
    created_at = DateTimeField(default=utcnow)

    @staticmethod
    def hash_token(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def begin(cls, email, display_name, password_hash):
        """Keep a registration; returns the token its confirmation link carries."""
        token = secrets.token_urlsafe(32)
        with database.atomic():
            cls.delete().where(cls.created_at < utcnow() - cls.LIFETIME).execute()
            cls.create(
                token_hash=cls.hash_token(token),
                email=email,
                display_name=display_name,
                password_hash=password_hash,
            )
        return token

    @classmethod
    def pending(cls, token):
        """The unexpired registration `token` confirms, or None."""
        if not isinstance(token, str) or not SESSION_TOKEN.fullmatch(token):
            return None
        return cls.get_or_none(
            (cls.token_hash == cls.hash_token(token))
            & (cls.created_at >= utcnow() - cls.LIFETIME)
        )

    def complete(self):
        """The account, created now; None when the address got one meanwhile."""
        with write_transaction():
            cls = type(self)
            cls.delete().where(cls.email == self.email).execute()  # its other links too
            if User.by_email(self.email):
                return None
            return User.create(
                email=self.email,
                password_hash=self.password_hash,
                display_name=self.display_name,
                slug=User.unique_slug(self.display_name),
            )


class LoginFailure(BaseModel):
    """A failed login, by account and by address: the throttle counts these (and, under
    keys of their own, registration mails: blueprints/auth.py).

    Kept in the database so every worker process sees the same count.
    """

    key = CharField(index=True)  # "email:<address>" or "ip:<address>"
    at = DateTimeField(default=utcnow)

    @classmethod
    def recent(cls, key, since):
        return (
            cls.select(fn.COUNT(cls.id), fn.MAX(cls.at))
            .where((cls.key == key) & (cls.at > since))
            .tuples()
            .first()
        )

    @classmethod
    def forget(cls, key):
        cls.delete().where(cls.key == key).execute()
