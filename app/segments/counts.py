"""Counts the pages show, kept as figures instead of counted per request (issue 20).

At a million customers ``SELECT count(*) FROM customers`` reads the whole table: the
customer list and the start page paid that on every request. Two figures replace it:

* **How many customers there are** is kept by the database itself in ``customer_count``:
  triggers on ``customers`` add every insert and subtract every delete, so an import, an
  API batch, the demo or a delete by hand all keep it right, in the same transaction as the
  rows (a rolled-back import leaves it as it was).

  - PostgreSQL: one statement-level trigger per insert or delete statement *adds a row*
    holding its change (from the statement's transition table); the figure is the sum of the
    rows. Adding rows never waits for another transaction (no counter row to lock), and
    :func:`compact` folds the rows into one after an import or a run.
  - SQLite: a row trigger updates the one row (SQLite writes one transaction at a time).

  The table is not a model: it is made with ``customers`` (after_create DDL, as the search's
  trigram table) and by migration g20b01c0ffee, so deleting every model's rows (the tests do)
  leaves it counting. A later migration that rebuilds ``customers`` on SQLite
  (``batch_alter_table``) drops its triggers with it and must run :data:`SQLITE_COUNT_DDL`
  again (which also counts the customers afresh).
* **How many of a run's customers fall in each combination of classes** (ABC × potential ×
  tier × trajectory × burr, at most a few hundred combinations) is counted once from the
  run's frame and kept in the run's summary (``combinations``); a run never changes after it
  is stored. Any class filter of the customer list is a sum over them.
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from app.extensions import db
from app.segments.kinds import CLASS_COLUMNS

__all__ = ["COMBINATION_COLUMNS", "COUNT_TABLE", "POSTGRESQL_COUNT_DDL", "SQLITE_COUNT_DDL", "combinations",
           "compact", "customer_total", "held_total", "install"]

COUNT_TABLE = "customer_count"
# The class columns of a run's rows and the burr flag, in the order of a combination's entries
# (its count last).
COMBINATION_COLUMNS = (*CLASS_COLUMNS, "burr")

POSTGRESQL_COUNT_DDL = (
    "CREATE TABLE IF NOT EXISTS customer_count (n bigint NOT NULL)",
    "CREATE OR REPLACE FUNCTION customer_count_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO customer_count (n) SELECT count(*) FROM customer_count_new HAVING count(*) > 0; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION customer_count_remove() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO customer_count (n) SELECT -count(*) FROM customer_count_old HAVING count(*) > 0; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION customer_count_clear() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM customer_count; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS customer_count_insert ON customers",
    "CREATE TRIGGER customer_count_insert AFTER INSERT ON customers REFERENCING NEW TABLE AS customer_count_new "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_count_add()",
    "DROP TRIGGER IF EXISTS customer_count_delete ON customers",
    "CREATE TRIGGER customer_count_delete AFTER DELETE ON customers REFERENCING OLD TABLE AS customer_count_old "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_count_remove()",
    "DROP TRIGGER IF EXISTS customer_count_truncate ON customers",
    "CREATE TRIGGER customer_count_truncate AFTER TRUNCATE ON customers "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_count_clear()",
    # the customers already there (none when the table is new)
    "DELETE FROM customer_count",
    "INSERT INTO customer_count (n) SELECT count(*) FROM customers",
)
POSTGRESQL_COUNT_DROP = (
    "DROP TRIGGER IF EXISTS customer_count_insert ON customers",
    "DROP TRIGGER IF EXISTS customer_count_delete ON customers",
    "DROP TRIGGER IF EXISTS customer_count_truncate ON customers",
    "DROP FUNCTION IF EXISTS customer_count_add()",
    "DROP FUNCTION IF EXISTS customer_count_remove()",
    "DROP FUNCTION IF EXISTS customer_count_clear()",
    "DROP TABLE IF EXISTS customer_count",
)
SQLITE_COUNT_DDL = (
    "CREATE TABLE IF NOT EXISTS customer_count (n INTEGER NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS customer_count_insert AFTER INSERT ON customers BEGIN "
    "UPDATE customer_count SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS customer_count_delete AFTER DELETE ON customers BEGIN "
    "UPDATE customer_count SET n = n - 1; END",
    "DELETE FROM customer_count",
    "INSERT INTO customer_count (n) SELECT count(*) FROM customers",
)
SQLITE_COUNT_DROP = (
    "DROP TRIGGER IF EXISTS customer_count_insert",
    "DROP TRIGGER IF EXISTS customer_count_delete",
    "DROP TABLE IF EXISTS customer_count",
)
DDL = {"postgresql": POSTGRESQL_COUNT_DDL, "sqlite": SQLITE_COUNT_DDL}
DROP = {"postgresql": POSTGRESQL_COUNT_DROP, "sqlite": SQLITE_COUNT_DROP}


def install(conn) -> None:
    """Make the count table and its triggers on ``conn`` and count the customers already there
    (a database filled before the count existed, e.g. a kept benchmark database)."""
    for statement in DDL.get(conn.dialect.name, ()):
        conn.exec_driver_sql(statement)


def customer_total() -> int:
    """How many customers there are (one row, or a few on PostgreSQL until :func:`compact`)."""
    return int(db.session.scalar(sa.text(f"SELECT coalesce(sum(n), 0) FROM {COUNT_TABLE}")) or 0)


def compact() -> None:
    """Fold PostgreSQL's added rows into one (same sum); part of the caller's transaction.

    A row another transaction adds meanwhile is not seen, so it is not deleted either: the sum
    stays right."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(sa.text(
        f"WITH gone AS (DELETE FROM {COUNT_TABLE} RETURNING n) "
        f"INSERT INTO {COUNT_TABLE} (n) SELECT sum(n) FROM gone HAVING count(*) > 0"))


def combinations(frame: pd.DataFrame) -> list[list]:
    """A run's customers counted per combination of classes: ``[abc, potential, tier,
    trajectory, burr, n]`` each, empty classes as None (JSON for the run's summary)."""
    if frame.empty:
        return []
    keys = frame.loc[:, list(COMBINATION_COLUMNS)].astype(object)
    keys = keys.where(keys.notna(), None)
    keys["burr"] = keys["burr"].map(lambda value: None if value is None else bool(value))
    counted = keys.groupby(list(COMBINATION_COLUMNS), dropna=False, sort=True).size()
    return [[*(None if pd.isna(part) else part for part in key), int(n)] for key, n in counted.items()]


def held_total(summary: dict | None, classes: dict[str, object]) -> int | None:
    """How many of a run's customers have every class in ``classes`` (column -> value), from the
    combinations its summary keeps; None for a run stored before they were kept."""
    kept = (summary or {}).get("combinations")
    if kept is None:
        return None
    positions = [(COMBINATION_COLUMNS.index(column), value) for column, value in classes.items()]
    return sum(entry[-1] for entry in kept if all(entry[index] == value for index, value in positions))
