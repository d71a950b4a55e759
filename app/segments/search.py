"""The customers' search key: customer number and name folded so that a search ignores
case and accents and finds "Müller" as "müller", "MÜLLER", "Muller" and "Mueller".

The key is stored on every customer (``customers.search_key``) and the user's term
is folded by the same :func:`fold` before a ``LIKE``, so SQLite and PostgreSQL
answer alike (neither folds accents on its own, and SQLite's ``LIKE`` ignores case
for ASCII letters only).
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "search_key"]

# Letters that do not decompose into a base letter and a mark.
_LETTERS = str.maketrans({"ß": "ss", "ẞ": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ı": "i"})
# The umlaut written out: ae, oe, ue fold to the base letter like ä, ö, ü do. Not after a
# vowel or q, where the pair is a sound of its own (Feuer, Bauer, Treue, Quelle).
_WRITTEN_UMLAUT = re.compile(r"(?<![aeiouqy])([aou])e")
_SPACE = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """Lower case, accents removed, ß → ss, ä/ae → a, ö/oe → o, ü/ue → u, spaces collapsed."""
    if not text:
        return ""
    lowered = str(text).casefold().translate(_LETTERS)  # casefold turns ß into ss as well
    decomposed = unicodedata.normalize("NFKD", lowered)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACE.sub(" ", _WRITTEN_UMLAUT.sub(r"\1", plain)).strip()


def search_key(customer_no: str | None, name: str | None) -> str:
    """The stored key of a customer: its folded number and name, separated by a space."""
    return f"{fold(customer_no)} {fold(name)}".strip()
