"""`flask users create|list|set-password`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts.models import User
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
