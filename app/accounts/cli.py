"""`flask users create|list|set-password|token`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts.models import ApiToken, User
from app.accounts.passwords import MIN_LENGTH, hash_password, password_refusal
from app.extensions import db
from app.web.security import ROLES

users = AppGroup("users", help="Manage user accounts.")


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--name", "display_name", default="", help="Full name shown in the app.")
@click.password_option(help=f"At least {MIN_LENGTH} characters, not a common one; asked for when not given.")
def create(username: str, role: str, display_name: str, password: str) -> None:
    """Create a user with a role."""
    if (refusal := password_refusal(password)) is not None:
        raise click.UsageError(refusal)
    if db.session.scalar(db.select(User.id).where(db.func.lower(User.username) == username.lower())):
        raise click.UsageError(f"a user named {username!r} exists already")
    user = User(username=username, role=role, display_name=display_name or username,
                password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    click.echo(f"created {username} ({role}), id {user.id}")


@users.command("list")
def list_users() -> None:
    """List users with their roles."""
    for user in db.session.scalars(db.select(User).order_by(User.username)):
        state = "" if user.active else "  (deactivated)"
        click.echo(f"{user.id:>4}  {user.username:<24} {user.role}{state}")


@users.command("set-password")
@click.argument("username")
@click.password_option()
def set_password(username: str, password: str) -> None:
    """Set a user's password and sign them out everywhere."""
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None:
        raise click.UsageError(f"no user named {username!r}")
    if (refusal := password_refusal(password)) is not None:
        raise click.UsageError(refusal)
    user.password_hash = hash_password(password)
    user.session_version += 1
    db.session.commit()
    click.echo(f"password of {username} changed")


@users.command("token")
@click.argument("username")
@click.option("--name", "token_name", default="", help="What the token is for (default: cli).")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None, help="Valid this many days (default: until revoked).")
def token(username: str, token_name: str, expires_days: int | None) -> None:
    """Make a personal API token for a user; the token is printed once, as the last line."""
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None:
        raise click.UsageError(f"no user named {username!r}")
    if not user.active:
        raise click.UsageError(f"{username} is deactivated")
    record, secret = ApiToken.issue(user, token_name or "cli", expires_days)
    db.session.commit()
    until = record.expires_at.strftime("%Y-%m-%d %H:%M UTC") if record.expires_at else "until revoked"
    click.echo(f"token {record.id} for {username} ({user.role}), valid {until}; it is shown only now:")
    click.echo(secret)
