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
# The combining marks that NFKD splits off Latin letters (accents, umlaut dots, cedillas …).
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# The umlaut written out: ae, oe, ue fold to the base letter like ä, ö, ü do. Not after a
# vowel or q, where the pair is a sound of its own (Feuer, Bauer, Treue, Quelle).
_WRITTEN_UMLAUT = re.compile(r"(?<![aeiouqy])([aou])e")


def fold(text: str | None) -> str:
    """Lower case, accents removed, ß → ss, ä/ae → a, ö/oe → o, ü/ue → u, spaces collapsed."""
    if not text:
        return ""
    text = str(text)
    if text.isascii():  # most names: no accents to remove (a few times faster)
        plain = text.lower()
    else:
        lowered = text.casefold().translate(_LETTERS)  # casefold turns ß into ss as well
        plain = _MARKS.sub("", unicodedata.normalize("NFKD", lowered))
    return " ".join(_WRITTEN_UMLAUT.sub(r"\1", plain).split())


def search_key(customer_no: str | None, name: str | None) -> str:
    """The stored key of a customer: its folded number and name, separated by a space."""
    return f"{fold(customer_no)} {fold(name)}".strip()
