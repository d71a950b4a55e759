"""The customers' search key: customer number and name folded so that a search ignores
case and accents and finds "Müller" as "müller", "MÜLLER", "Muller" and "Mueller".

The key is stored on every customer (``customers.search_key``) and the user's term
is folded by the same :func:`fold` before a ``LIKE``, so SQLite and PostgreSQL
answer alike (neither folds accents on its own, and SQLite's ``LIKE`` ignores case
for ASCII letters only).

A ``LIKE '%term%'`` cannot use a B-tree index, so each database gets a trigram index
that finds the candidates without reading every customer; the ``LIKE`` still decides, so
the answer is the same with or without it:

* PostgreSQL: a GIN index with ``gin_trgm_ops`` (extension ``pg_trgm``), which serves the
  ``LIKE`` itself. Where the extension cannot be created the index is left out and the
  search reads the table (slower, same result).
* SQLite: an FTS5 table with the trigram tokenizer (``customers_search``) over
  ``customers.search_key``, kept in step by triggers; a term of three or more characters
  is looked up there first (FTS5's trigrams match nothing shorter).
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "search_key", "like_pattern", "fts_phrase", "POSTGRESQL_SEARCH_DDL", "SQLITE_SEARCH_DDL",
           "SQLITE_SEARCH_DROP", "SQLITE_SEARCH_TABLE"]

SQLITE_SEARCH_TABLE = "customers_search"
# Created with the customers table (and by migration f20a01c0ffee). A migration that rebuilds
# the customers table on SQLite (batch_alter_table) drops these triggers with it: it must run
# SQLITE_SEARCH_DDL again and rebuild the index ('rebuild').
SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS customers_search USING fts5(search_key, content='customers', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS customers_search_insert AFTER INSERT ON customers BEGIN "
    "INSERT INTO customers_search (rowid, search_key) VALUES (new.id, new.search_key); END",
    "CREATE TRIGGER IF NOT EXISTS customers_search_delete AFTER DELETE ON customers BEGIN "
    "INSERT INTO customers_search (customers_search, rowid, search_key) VALUES ('delete', old.id, old.search_key); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS customers_search_update AFTER UPDATE OF id, search_key ON customers BEGIN "
    "INSERT INTO customers_search (customers_search, rowid, search_key) VALUES ('delete', old.id, old.search_key); "
    "INSERT INTO customers_search (rowid, search_key) VALUES (new.id, new.search_key); END",
    "INSERT INTO customers_search (customers_search) VALUES ('rebuild')",
)
SQLITE_SEARCH_DROP = "DROP TABLE IF EXISTS customers_search"
# pg_trgm may be refused (no right to create extensions): then no index, and no error.
POSTGRESQL_SEARCH_DDL = (
    "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; "
    "EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm unavailable: the customer search reads the table'; END $$",
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
    "CREATE INDEX IF NOT EXISTS ix_customers_search_key_trgm ON customers USING gin (search_key gin_trgm_ops); "
    "END IF; END $$",
)

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


def like_pattern(term: str) -> str:
    """``%term%`` for a ``LIKE … ESCAPE '\\'``, with the term's own ``%``, ``_`` and ``\\`` taken literally."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def fts_phrase(term: str) -> str | None:
    """The FTS5 query that finds ``term`` as a substring with the trigram tokenizer (None: too short)."""
    if len(term) < 3:
        return None
    return '"' + term.replace('"', '""') + '"'
