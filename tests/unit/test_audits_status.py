"""The customer-status vocabulary that observations, the log form and the import share."""
from __future__ import annotations

import pandas as pd
import pytest

from audits import CUSTOMER_STATUSES, STATUS_ALIASES, customer_status
from audits._common import normalise_status


@pytest.mark.parametrize("word,status", [
    ("new", "new"), (" Neukunde ", "new"), ("NEU", "new"), ("existing", "existing"), ("Bestandskunde", "existing"),
    ("stammkunde", "existing"), ("bestand", "existing"), ("vielleicht", None), ("", None), ("newish", None),
])
def test_customer_status_reads_every_spelling(word, status):
    assert customer_status(word) == status


def test_every_alias_names_a_status_and_every_status_is_its_own_alias():
    assert set(STATUS_ALIASES.values()) == set(CUSTOMER_STATUSES) == {"new", "existing"}
    assert all(customer_status(status) == status for status in CUSTOMER_STATUSES)


def test_a_column_is_read_with_the_same_words():
    out = normalise_status(pd.Series(["Neukunde", "existing", " BESTAND"]))
    assert list(out) == ["new", "existing", "existing"]
    with pytest.raises(ValueError, match="unknown customer status"):
        normalise_status(pd.Series(["new", "vielleicht"]))
