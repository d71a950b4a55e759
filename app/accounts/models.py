"""Accounts: users and their roles."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from app.extensions import db
from app.web.models import utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, index=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(5))
    # Where reminders of assigned actions go (optional; none: the start page only).
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Bumped on password reset or deactivation: invalidates existing sessions.
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('admin', 'manager', 'service', 'leadership')", name="role_known"
        ),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader. The id carries the session version: a password
    reset or a deactivation logs out the sessions signed with the old one."""
    try:
        uid, version = (int(part) for part in user_id.split(":", 1))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version:
        return None
    return user


TOKEN_PREFIX = "la_"


def token_digest(token: str) -> str:
    """The SHA-256 of a personal API token: the only form in which it is stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class ApiToken(db.Model):
    """A personal API token: it acts as its user, with the user's role and record rights.
    Only the SHA-256 of the token is kept; the token itself is shown once, when made."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[dt.datetime | None]
    last_used_at: so.Mapped[dt.datetime | None]
    revoked_at: so.Mapped[dt.datetime | None]

    user: so.Mapped[User] = so.relationship()

    @classmethod
    def issue(cls, user: User, name: str, expires_days: int | None = None) -> tuple["ApiToken", str]:
        """A new token for ``user`` (added to the session, the caller commits) and its secret."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + dt.timedelta(days=expires_days) if expires_days else None
        token = cls(user_id=user.id, name=name.strip()[:80], token_hash=token_digest(secret), created_at=now,
                    expires_at=expires)
        db.session.add(token)
        return token, secret

    @classmethod
    def authenticate(cls, secret: str) -> "ApiToken | None":
        """The valid token with this secret: not revoked, not expired, its user active."""
        if not secret or len(secret) > 200:
            return None
        token = db.session.scalar(db.select(cls).where(cls.token_hash == token_digest(secret)))
        if token is None or not token.is_valid:
            return None
        return token

    @property
    def is_valid(self) -> bool:
        """Usable now: not revoked, not expired, and its user is active."""
        return (self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())
                and self.user is not None and self.user.active)
