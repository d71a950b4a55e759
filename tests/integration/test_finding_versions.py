"""Two people edit the same finding: the second save, made on the version both opened,
is refused and names who changed it; the first change survives."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from tests.integration.audit_fixtures import build_world


@pytest.fixture
def finding_id(app, users):
    from app.touchpoint_audit.models import Finding

    world = build_world(app, users)
    with app.app_context():
        finding = Finding(audit_id=world.audit_id, key="manual:versions", kind="manual", source="manual",
                          title="Hotline waits", severity="high", figures={})
        db.session.add(finding)
        db.session.commit()
        found = finding.id
        db.session.remove()
    return found


def _opened_form(client, finding_id) -> dict:
    """The action form's fields as the browser would send them back, unchanged."""
    html = client.get(f"/findings/{finding_id}").get_data(as_text=True)
    version = re.search(r'name="upd-version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="upd-version"', html)
    assert version, "the action form carries the finding's version"
    return {"upd-version": version.group(1) or version.group(2), "upd-status": "open", "upd-owner_id": "0",
            "upd-due_date": "", "upd-recommended_action": ""}


def _state(app, finding_id):
    from app.touchpoint_audit.models import Finding

    with app.app_context():
        f = db.session.get(Finding, finding_id)
        state = (f.status, f.recommended_action, f.version, f.updated_by_id)
        db.session.remove()
    return state


def test_second_save_on_the_same_version_is_refused(app, as_role, users, finding_id):
    first, second = as_role("manager"), as_role("admin")
    form_first, form_second = _opened_form(first, finding_id), _opened_form(second, finding_id)

    saved = first.post(f"/findings/{finding_id}/update",
                       data={**form_first, "upd-status": "resolved", "upd-recommended_action": "Hire two agents."})
    assert saved.status_code == 303

    refused = second.post(f"/findings/{finding_id}/update",
                          data={**form_second, "upd-recommended_action": "Something else."})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "This finding was changed by Manager since you opened it" in html
    assert "Hire two agents." in html  # the form shows the current state
    assert _state(app, finding_id) == ("resolved", "Hire two agents.", 2, users["manager"].id)


def test_save_after_reopening_works(app, as_role, users, finding_id):
    first, second = as_role("manager"), as_role("admin")
    first.post(f"/findings/{finding_id}/update", data={**_opened_form(first, finding_id), "upd-status": "resolved"})
    reopened = _opened_form(second, finding_id)
    assert reopened["upd-version"] == "2"
    response = second.post(f"/findings/{finding_id}/update", data={**reopened, "upd-status": "acknowledged"})
    assert response.status_code == 303
    assert _state(app, finding_id)[0::2] == ("acknowledged", 3)


@pytest.mark.parametrize("version", ["", "abc", "99999999999999999999999", "0"])
def test_save_without_a_valid_version_is_refused(app, as_role, finding_id, version):
    response = as_role("manager").post(f"/findings/{finding_id}/update",
                                       data={"upd-version": version, "upd-status": "resolved"})
    assert response.status_code == 409
    assert "someone else" in response.get_data(as_text=True)
    assert _state(app, finding_id)[0] == "open"


def test_refusal_in_german(app, as_role, finding_id):
    first, second = as_role("manager"), as_role("admin")
    form_second = _opened_form(second, finding_id)
    first.post(f"/findings/{finding_id}/update", data={**_opened_form(first, finding_id), "upd-status": "resolved"})
    second.post("/language", data={"lang": "de", "next": "/"})
    html = second.post(f"/findings/{finding_id}/update", data=form_second).get_data(as_text=True)
    assert "Dieser Befund wurde von Manager geändert, seit Sie ihn geöffnet haben" in html
