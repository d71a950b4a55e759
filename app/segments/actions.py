"""The segmentation's writes a second way in (the HTTP API) makes exactly as the import page
does: a batch of customer values is read as the rows of a file, checked with the import's rules
(:func:`app.segments.importing.check_table`) and written by the import, all or nothing."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.segments.importing import ImportCheck, ImportConflict, check_table, import_customer_values
from app.segments.models import ImportLog
from segmentation.customer_values import CUSTOMER_VALUE_OUTPUT
from tabular import ROW_COLUMN, records_table

__all__ = ["BATCH_KIND", "ImportCheck", "ImportConflict", "VALUE_COLUMNS", "batch_log", "check_value_batch",
           "store_value_batch"]

BATCH_KIND = "customer_values"
#: the columns of a batch, named as the import's canonical columns
VALUE_COLUMNS = tuple(name for name in CUSTOMER_VALUE_OUTPUT if name != ROW_COLUMN)


def batch_log(kind: str, external_id: str) -> ImportLog | None:
    """The import log of the batch of ``kind`` stored earlier under ``external_id``, if any."""
    return db.session.scalar(sa.select(ImportLog).where(ImportLog.kind == kind, ImportLog.external_id == external_id))


def check_value_batch(records: list[dict], external_id: str, sha256: str) -> ImportCheck:
    """The batch's records (keys of :data:`VALUE_COLUMNS`) checked as the rows of an uploaded file;
    a problem's row minus 2 is the record's index. Reads only."""
    check = check_table(records_table(records, VALUE_COLUMNS), f"api:{external_id}", sha256)
    db.session.rollback()  # the customer-number repair read the database: end that transaction
    return check


def store_value_batch(check: ImportCheck, user_id: int | None, external_id: str) -> dict:
    """Write a clean batch with the import (one transaction, committed) and log it under
    ``external_id``; :class:`ImportConflict` when a concurrent write collided twice."""
    return import_customer_values(check, user_id, external_id=external_id)
