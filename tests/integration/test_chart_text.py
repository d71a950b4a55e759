"""User text in charts is plain text: a `$` in a metric, touchpoint or product name
is not read as mathtext (which failed to parse and broke the dashboard)."""
from __future__ import annotations

import numpy as np
import pytest

from app.extensions import db
from app.touchpoint_audit.charts import tenure_chart_svg
from tests.integration.audit_fixtures import add_observations, build_world
from tests.integration.test_audits_analysis import _planted_rows

METRIC = "Preis $x^2$ $"
PRODUCT = "P$1"


@pytest.mark.parametrize(("touchpoint", "metric", "product"), [
    ("Renewal", METRIC, PRODUCT),  # four dollars: read as a formula, drawn mangled
    ("Renewal", METRIC + " $", None),  # unbalanced: the parser fails
    ("Tarif $x^$", METRIC, "$"),
])
def test_tenure_chart_draws_dollar_signs_as_text(touchpoint, metric, product):
    series = {"touchpoint": "renewal", "metric": "price", "product_key": product, "slope": 12.0, "intercept": 700.0,
              "flagged": True, "points": [[1, 710], [3, 740], [8, 800], [12, 850]]}
    svg = str(tenure_chart_svg(series, names={("renewal", "price"): (touchpoint, metric, "eur")}))
    expected = f"{touchpoint} · {metric}" + (f" ({product})" if product else "")
    assert f">{expected}</text>" in svg


def test_dashboard_with_dollar_signs_in_names(app, as_role, users):
    from app.touchpoint_audit.models import Metric, Touchpoint

    world = build_world(app, users)
    rows = _planted_rows(world, np.random.default_rng(7))
    for row in rows:
        if row.get("product_key"):
            row["product_key"] = PRODUCT
    add_observations(app, world, rows)
    with app.app_context():
        metric = db.session.get(Metric, world.metric_ids["renewal.price"])
        metric.name_en = metric.name_de = METRIC + " $"  # unbalanced: mathtext's parser would fail
        touchpoint = db.session.get(Touchpoint, metric.touchpoint_id)
        touchpoint.name_en = touchpoint.name_de = "Tarif $x^$"
        db.session.commit()
        db.session.remove()
    client = as_role("manager")
    assert client.post(f"/audits/{world.audit_id}/analyze").status_code == 303
    response = client.get(f"/audits/{world.audit_id}/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # the price-walking chart (one per metric, over all products) titled with the names, drawn as text
    assert f"Tarif $x^$ · {METRIC} $</text>" in html


@pytest.mark.parametrize("potentials", [[0, 0, 0, 0, 0], [0, 3, 0, 2, 5]])
def test_the_potential_matrix_draws_when_no_customer_has_untapped_potential(app, potentials):
    """Every untapped potential zero (a log axis has nothing to scale by): drawn with the floor,
    no 'All-NaN slice' warning (the suite turns warnings into errors)."""
    from app.segments.charts import matrix_chart

    with app.test_request_context():
        svg = str(matrix_chart([1, 2, 3, 4, 5], potentials, ["star"] * 5, 2.0, 1.0, {"star": 5}, {"star": "Stars"}))
    assert "<svg" in svg and "Stars (5)" in svg
