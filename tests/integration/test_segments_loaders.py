"""The database → frame loaders agree with each other and with the pure package."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.extensions import db
from bench import reference_loaders


@pytest.fixture
def values_with_gaps(app):
    from app.segments.models import Customer, CustomerValue

    with app.app_context():
        customers = [Customer(customer_no=f"{i:04d}", name=f"K{i}") for i in range(1, 6)]
        db.session.add_all(customers)
        db.session.flush()
        rows = []
        for c in customers:
            for m in range(1, 13):
                if c.customer_no == "0002" and m in (3, 4):
                    continue  # a gap
                if c.customer_no == "0003" and m > 6:
                    continue  # stopped buying
                rows.append(CustomerValue(
                    customer_id=c.id, period=f"2024-{m:02d}", revenue=100.0 * c.id + m + 0.125,
                    cost_to_serve=None if c.customer_no == "0004" and m == 5 else 40.0,
                    potential=None if c.customer_no == "0005" else 1000.0,
                    potential_rating=(m % 5) + 1 if c.customer_no != "0001" else None))
        db.session.add_all(rows)
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("value", ["revenue", "contribution"])
def test_one_pass_loader_equals_group_by_and_pivot(app, values_with_gaps, value):
    from app.segments import loaders

    with app.app_context():
        totals, matrix = loaders.load_window("2024-01", "2024-12", value)
        reference = reference_loaders.window_totals("2024-01", "2024-12")
        pivot = reference_loaders.value_matrix("2024-01", "2024-12", value)
        rows = reference_loaders.value_matrix_from_rows("2024-01", "2024-12", value)
        in_pandas = reference_loaders.window_totals_in_pandas("2024-01", "2024-12")
        db.session.remove()
    pd.testing.assert_frame_equal(matrix, pivot)
    pd.testing.assert_frame_equal(matrix, rows)
    assert np.isnan(matrix.iloc[1, 2]) and np.isnan(matrix.iloc[2, 11])
    columns = ["customer_id", "revenue", "cost_to_serve", "contribution", "potential", "potential_rating",
               "n_periods"]
    pd.testing.assert_frame_equal(totals[columns], reference[columns])
    np.testing.assert_allclose(in_pandas["revenue"].to_numpy(), totals["revenue"].to_numpy())
    # the latest rating in the window; none for the customer without ratings
    assert pd.isna(totals.loc[0, "potential_rating"]) and totals.loc[1, "potential_rating"] == (12 % 5) + 1
