"""Demo step: one user per role, all with the same password."""
from __future__ import annotations

from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.extensions import db

DEMO_PASSWORD = "demo-passwort"
DEMO_USERS = [
    ("admin", "admin", "Anna Admin"),
    ("manager", "manager", "Markus Meier (Touchpoint-Management)"),
    ("service", "service", "Sina Service (Hotline)"),
    ("service2", "service", "Tom Berger (Innendienst)"),
    ("leadership", "leadership", "Dr. Lena Lorenz (Geschäftsführung)"),
]


def load_users() -> list[tuple[str, str]]:
    created = []
    hashed = hash_password(DEMO_PASSWORD)
    for username, role, name in DEMO_USERS:
        if db.session.scalar(db.select(User.id).where(User.username == username)):
            continue
        db.session.add(User(username=username, role=role, display_name=name, password_hash=hashed))
        created.append((username, role))
    db.session.flush()
    return created


def step_users(ctx: dict) -> str:
    created = load_users()
    return f"{len(created)} users"
