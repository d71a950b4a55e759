"""Who may use which view: every view declares a policy, enforced in one place.

A view without a declared policy is refused for everyone (deny by default),
and the role × URL test fails for it, so a forgotten declaration is caught.
"""
from __future__ import annotations

from typing import Callable

from flask import abort, current_app, request
from flask_login import current_user

from app.extensions import login_manager

# The roles a user can have; the users table checks the same list.
ROLES = ("admin", "manager", "service", "leadership")
PUBLIC = frozenset({"*public*"})
ANY_USER = frozenset(ROLES)


def allow(*roles: str) -> Callable:
    """Declare the roles that may use a view; admin is always allowed."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; use {ROLES}")
    allowed = frozenset(roles) | {"admin"}

    def decorate(view: Callable) -> Callable:
        view.allowed_roles = allowed
        return view

    return decorate


def public(view: Callable) -> Callable:
    """Declare a view open to anonymous visitors (login page, static files)."""
    view.allowed_roles = PUBLIC
    return view


def any_user(view: Callable) -> Callable:
    """Declare a view open to every signed-in user."""
    view.allowed_roles = ANY_USER
    return view


def policy_of(endpoint: str) -> frozenset | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "allowed_roles", None)


def enforce_policy():
    """before_request: refuse what the view's policy does not allow."""
    if request.endpoint is None:  # no route matched: the 404 handler answers
        return None
    if request.endpoint == "static":
        return None
    policy = policy_of(request.endpoint)
    if policy is None:
        current_app.logger.error("view %s declares no access policy", request.endpoint)
        abort(403)
    if policy is PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in policy:
        abort(403)
    return None


def has_role(*roles: str) -> bool:
    """For templates and views: is the current user one of these roles (or admin)?"""
    return current_user.is_authenticated and (
        current_user.role == "admin" or current_user.role in roles
    )


def require(condition: bool) -> None:
    """Record-level check: 403 unless the user may see this record."""
    if not condition:
        abort(403)
