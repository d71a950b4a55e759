"""An audit round's analysis settings: materiality per metric in its effect's unit (catalog,
overridden per round), alpha, minimum n and the case tolerance; used by the next analysis and
stored with it."""
from __future__ import annotations

import numpy as np
import pytest

from app.extensions import db
from tests.integration.audit_fixtures import add_observations, build_world
from tests.integration.test_audits_analysis import _planted_rows


@pytest.fixture
def world(app, users):
    world = build_world(app, users)
    add_observations(app, world, _planted_rows(world, np.random.default_rng(7)))
    return world


def _renewal_flagged(app, audit_id) -> tuple[bool, dict]:
    from app.touchpoint_audit.analysis import latest_snapshot

    with app.app_context():
        snapshot = latest_snapshot(audit_id)
        row = next(r for r in snapshot.comparisons if r["touchpoint"] == "renewal" and r["metric"] == "price"
                   and r["segment_kind"] == "overall")
        params = dict(snapshot.params)
        db.session.remove()
    return bool(row["flagged"]), params


def test_a_rounds_materiality_decides_the_flag_and_is_stored_with_the_analysis(app, as_role, world):
    manager = as_role("manager")
    assert manager.post(f"/audits/{world.audit_id}/analyze").status_code == 303
    flagged, params = _renewal_flagged(app, world.audit_id)
    assert flagged and params["materiality_abs"] == {}  # +20 % against the default 5 %

    metric_id = world.metric_ids["renewal.price"]
    page = manager.get(f"/audits/{world.audit_id}/settings")
    assert page.status_code == 200 and f'name="materiality-{metric_id}"' in page.get_data(as_text=True)
    saved = manager.post(f"/audits/{world.audit_id}/settings", data={f"materiality-{metric_id}": "50", "alpha": "0,01"})
    assert saved.status_code == 303
    assert manager.post(f"/audits/{world.audit_id}/analyze").status_code == 303
    flagged, params = _renewal_flagged(app, world.audit_id)
    assert not flagged  # a 20 % gap is below the round's 50 %
    assert params["materiality_abs"] == {"renewal.price": 50.0} and params["alpha"] == 0.01


def test_the_catalogs_materiality_applies_unless_the_round_overrides_it(app, world):
    from app.touchpoint_audit.analysis import audit_params
    from app.touchpoint_audit.models import Audit, Metric

    with app.app_context():
        metric = db.session.get(Metric, world.metric_ids["hotline.wait"])
        metric.materiality = 25.0
        audit = db.session.get(Audit, world.audit_id)
        assert audit_params(audit)["materiality_abs"]["hotline.wait"] == 25.0
        audit.settings = {"materiality": {str(metric.id): 10.0}}
        assert audit_params(audit)["materiality_abs"]["hotline.wait"] == 10.0
        db.session.rollback()
        db.session.remove()


@pytest.mark.parametrize("field,value,message", [
    ("alpha", "abc", "Enter a number."),
    ("alpha", "5", "Between 0.001 and 0.200."),
    ("min_n", "2", "Between 3 and 1,000."),
    ("min_n", "1.5", "Enter a number."),
    ("tolerance", "nan", "Enter a number."),
    ("materiality", "-1", "The materiality cannot be negative."),
    ("materiality", "1e999", "Enter a number."),
])
def test_bad_settings_are_named_and_nothing_is_stored(app, as_role, world, field, value, message):
    from app.touchpoint_audit.models import Audit

    if field == "materiality":
        field = f"materiality-{world.metric_ids['renewal.price']}"
    response = as_role("manager").post(f"/audits/{world.audit_id}/settings", data={field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'href="#{field}"' in html
    with app.app_context():
        assert not (db.session.get(Audit, world.audit_id).settings or {}).get("alpha")
        db.session.remove()


def test_who_may_read_and_change_the_settings(app, as_role, world):
    from app.touchpoint_audit.models import Audit

    assert as_role("leadership").get(f"/audits/{world.audit_id}/settings").status_code == 200
    assert as_role("leadership").post(f"/audits/{world.audit_id}/settings", data={"alpha": "0.01"}).status_code == 403
    assert as_role("service").get(f"/audits/{world.audit_id}/settings").status_code == 403
    with app.app_context():
        db.session.get(Audit, world.audit_id).status = "published"
        db.session.commit()
        db.session.remove()
    assert as_role("manager").post(f"/audits/{world.audit_id}/settings", data={"alpha": "0.01"}).status_code == 403


def test_the_settings_page_speaks_german_numbers(app, as_role, world):
    client = as_role("manager")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = client.get(f"/audits/{world.audit_id}/settings").get_data(as_text=True)
    assert 'placeholder="0,050"' in page and "erlaubt 0,001 bis 0,200" in page
    assert "0.05" not in page
