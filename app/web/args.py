"""Reading ids and numbers from URLs, query strings and forms without trusting them.

The id columns are integers, 32-bit in PostgreSQL: a larger id in a URL or a
query string can name no row, and handing it to the database raises an error
instead of finding nothing. NUL bytes cannot be stored in PostgreSQL text.
"""
from __future__ import annotations

from flask import abort, request
from werkzeug.routing import IntegerConverter

DB_INT_MAX = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that matches only ids a database integer can hold (else 404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = DB_INT_MAX,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def db_int(value) -> int:
    """``int(value)`` that also refuses what no database integer can hold.

    Raises ValueError like ``int`` does, so ``request.args.get(name, type=db_int)``
    answers the default for it.
    """
    number = int(value)
    if not -DB_INT_MAX <= number <= DB_INT_MAX:
        raise ValueError(f"{value!r} is out of range for a database integer")
    return number


def optional_id(value) -> int | None:
    """A positive database id from user input, or None for anything else."""
    try:
        number = db_int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def refuse_nul_bytes() -> None:
    """before_request: 400 for a NUL byte in a URL part, the query string or a form field."""
    if any(isinstance(value, str) and "\x00" in value for value in (request.view_args or {}).values()):
        abort(400)
    fields = [request.args]
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        fields.append(request.form)
    for values in fields:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
