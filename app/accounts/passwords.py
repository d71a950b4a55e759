"""Password hashing with argon2id."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.accounts.common_passwords import COMMON_PASSWORDS

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """A reason a new password is unacceptable ("too_short", "common"), or None."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    folded = password.strip().casefold()
    if folded in COMMON_PASSWORDS or len(set(folded)) <= 2:  # listed, or one or two characters repeated
        return "common"
    return None


def password_refusal(password: str) -> str | None:
    """The English reason for the command line, or None when the password is acceptable."""
    return {"too_short": f"the password needs at least {MIN_LENGTH} characters",
            "common": "the password is too common; choose another"}.get(password_problem(password) or "")
