"""Observation logging: the fast form, inline validation, customer search, undo, and
every bad input refused with a clear message and nothing written."""
from __future__ import annotations

import pytest

from tests.integration.audit_fixtures import add_observations, build_world, count_observations


def _form(world, **overrides):
    data = {"metric_id": world.metric_ids["hotline.wait"], "value": "95", "customer_q": "004711", "customer_id": "",
            "customer_status": "", "product_key": "", "channel": "", "observed_on": "", "note": ""}
    data.update(overrides)
    return data


def test_service_user_sees_the_form_of_the_assigned_audit(as_role, world):
    response = as_role("service").get("/log")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="log-form"' in html and "Test audit" in html
    assert 'autofocus' in html  # the value field


def test_save_keeps_metric_and_fills_status_from_tenure(app, as_role, world):
    client = as_role("service")
    response = client.post(f"/log/{world.audit_id}", data=_form(world), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Saved:" in html
    # the metric stays selected for the next entry; the value is empty again
    assert f'value="{world.metric_ids["hotline.wait"]}" selected' in html
    assert 'name="value" value=""' in html
    from app.extensions import db
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        obs = db.session.scalars(db.select(Observation)).one()
        assert (obs.value, obs.customer_status, obs.created_by_id) == (95.0, "existing", world.staff_id)
        assert obs.customer_id == world.customer_ids["004711"]
        db.session.remove()


def test_customer_since_after_the_observation_means_new(app, as_role, world):
    client = as_role("service")
    response = client.post(f"/log/{world.audit_id}", data=_form(world, customer_q="009999"),
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    from app.extensions import db
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        assert db.session.scalars(db.select(Observation.customer_status)).one() == "new"
        db.session.remove()


def test_status_can_be_overridden(app, as_role, world):
    as_role("service").post(f"/log/{world.audit_id}", data=_form(world, customer_status="new"))
    from app.extensions import db
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        assert db.session.scalars(db.select(Observation.customer_status)).one() == "new"
        db.session.remove()


def test_empty_customer_with_the_default_status_is_an_unknown_prospect(app, as_role, world):
    response = as_role("service").post(f"/log/{world.audit_id}", data=_form(world, customer_q="", customer_status=""),
                                       headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Saved:" in response.get_data(as_text=True)
    from app.extensions import db
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        obs = db.session.scalars(db.select(Observation)).one()
        assert (obs.customer_id, obs.customer_status) == (None, "new")
        db.session.remove()


def test_plain_post_redirects_back_to_the_form(as_role, world):
    response = as_role("service").post(f"/log/{world.audit_id}", data=_form(world))
    assert response.status_code == 303
    assert f"audit_id={world.audit_id}" in response.headers["Location"]


@pytest.mark.parametrize("metric,value,message", [
    ("hotline.wait", "-5", "cannot be negative"),
    ("inside_sales.care_rating", "7", "at most 5"),
    ("inside_sales.care_rating", "3.5", "whole number"),
    ("hotline.wait", "abc", "not a number"),
    ("hotline.resolved", "maybe", "yes or no"),
    ("offer.discount", "120", "at most 100"),
])
def test_inline_validation_explains_bad_values(as_role, world, metric, value, message):
    client = as_role("service")
    response = client.post(f"/log/{world.audit_id}/validate",
                           data={"metric_id": world.metric_ids[metric], "value": value},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="value-feedback"' in html and message in html and "<html" not in html


def test_inline_validation_accepts_good_values(as_role, world):
    client = as_role("service")
    for metric, value in [("hotline.wait", "2:30"), ("offer.price", "1.234,50"), ("hotline.resolved", "ja")]:
        html = client.post(f"/log/{world.audit_id}/validate", data={"metric_id": world.metric_ids[metric], "value": value},
                           headers={"HX-Request": "true"}).get_data(as_text=True)
        assert 'class="help"' in html, (metric, value, html)


@pytest.mark.parametrize("overrides,field_message", [
    ({"value": "-5"}, "cannot be negative"),
    ({"metric_id": "rating", "value": "7"}, "at most 5"),
    ({"metric_id": "999999"}, "Choose a touchpoint and metric"),
    ({"customer_q": "000000"}, "There is no customer with the number"),
    ({"customer_id": "999999", "customer_q": ""}, "This customer does not exist"),
    ({"metric_id": "offer_price", "value": "100"}, "needs the product or tariff key"),
])
def test_bad_input_is_refused_and_nothing_written(app, as_role, world, overrides, field_message):
    overrides = dict(overrides)
    if overrides.get("metric_id") == "rating":
        overrides["metric_id"] = world.metric_ids["inside_sales.care_rating"]
    if overrides.get("metric_id") == "offer_price":
        overrides["metric_id"] = world.metric_ids["offer.price"]
    response = as_role("service").post(f"/log/{world.audit_id}", data=_form(world, **overrides),
                                       headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert count_observations(app) == 0


def test_metric_outside_the_audit_scope_is_refused(app, as_role, world):
    from app.extensions import db
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        audit = db.session.get(Audit, world.audit_id)
        audit.metrics = [m for m in audit.metrics if m.key != "wait"]
        db.session.commit()
        db.session.remove()
    response = as_role("service").post(f"/log/{world.audit_id}", data=_form(world), headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert count_observations(app) == 0


@pytest.mark.parametrize("status", ["draft", "review", "published"])
def test_observation_for_a_closed_audit_is_refused(app, as_role, users, status):
    world = build_world(app, users, status=status)
    response = as_role("service").post(f"/log/{world.audit_id}", data=_form(world))
    assert response.status_code == 409
    assert "not open" in response.get_data(as_text=True)
    assert count_observations(app) == 0


def test_unassigned_service_user_is_refused(app, as_role, users):
    world = build_world(app, users, assign_service=False)
    client = as_role("service")
    assert client.post(f"/log/{world.audit_id}", data=_form(world)).status_code == 403
    assert client.get(f"/log?audit_id={world.audit_id}").status_code == 403
    assert client.get(f"/audits/{world.audit_id}").status_code == 403
    assert count_observations(app) == 0


def test_forged_audit_id_is_404(as_role, world):
    client = as_role("service")
    assert client.post("/log/987654", data=_form(world)).status_code == 404
    assert client.get("/log?audit_id=987654").status_code == 404
    assert client.get("/audits/987654").status_code == 404


def test_undo_deletes_own_entry_only(app, as_role, users, world):
    own, other = add_observations(app, world, [
        {"metric": "hotline.wait", "value": 10, "customer_status": "new"},
        {"metric": "hotline.wait", "value": 20, "customer_status": "new"},
    ], created_by_id=None)
    from app.extensions import db
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        db.session.get(Observation, own).created_by_id = users["service"].id
        db.session.get(Observation, other).created_by_id = users["manager"].id
        db.session.commit()
        db.session.remove()
    client = as_role("service")
    assert client.post(f"/observations/{other}/delete").status_code == 403
    assert client.post(f"/observations/{other}/edit", data=_form(world)).status_code == 403
    assert client.get(f"/observations/{other}/edit").status_code == 403
    assert count_observations(app) == 2
    response = client.post(f"/observations/{own}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Entry removed" in response.get_data(as_text=True)
    assert count_observations(app) == 1
    assert client.post("/observations/424242/delete").status_code == 404


def test_own_entry_cannot_change_once_the_audit_is_closed(app, as_role, users, world):
    (own,) = add_observations(app, world, [{"metric": "hotline.wait", "value": 10, "customer_status": "new"}],
                              created_by_id=users["service"].id)
    from app.extensions import db
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        db.session.get(Audit, world.audit_id).status = "review"
        db.session.commit()
        db.session.remove()
    response = as_role("service").post(f"/observations/{own}/delete")
    assert response.status_code == 409
    assert count_observations(app) == 1


def test_edit_own_entry(app, as_role, users, world):
    (own,) = add_observations(app, world, [{"metric": "hotline.wait", "value": 10, "customer_status": "new"}],
                              created_by_id=users["service"].id)
    client = as_role("service")
    assert client.get(f"/observations/{own}/edit").status_code == 200
    response = client.post(f"/observations/{own}/edit", data=_form(world, value="42", customer_status="new",
                                                                   customer_q=""))
    assert response.status_code == 303
    bad = client.post(f"/observations/{own}/edit", data=_form(world, value="-1"))
    assert bad.status_code == 422
    from app.extensions import db
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        assert db.session.get(Observation, own).value == 42.0
        db.session.remove()


def test_customer_search_by_number_and_name(as_role, world):
    client = as_role("service")
    html = client.get(f"/log/{world.audit_id}/customers?customer_q=0047", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "004711" in html and "004712" in html and "<html" not in html
    html = client.get(f"/log/{world.audit_id}/customers?customer_q=bäck", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "009999" in html and "004711" not in html
    html = client.get(f"/log/{world.audit_id}/customers?customer_q=50%25", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "No customer found" in html
    # as the customer list searches (one owner, along its trigram index): accents and case ignored
    for typed in ("BACK", "baeck", "Bäck"):
        html = client.get(f"/log/{world.audit_id}/customers", query_string={"customer_q": typed},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "009999" in html and "004711" not in html, typed


def test_customer_pick_fills_in_the_status(as_role, world):
    client = as_role("service")
    html = client.get(f"/log/{world.audit_id}/customers/{world.customer_ids['004711']}",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'value="existing" selected' in html and "Filled in from the customer" in html
    assert client.get(f"/log/{world.audit_id}/customers/777777").status_code == 404


def test_metric_fields_show_the_product_key_for_prices(as_role, world):
    client = as_role("service")
    html = client.get(f"/log/{world.audit_id}/fields?metric_id={world.metric_ids['offer.price']}",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="product_key"' in html and "<html" not in html
    html = client.get(f"/log/{world.audit_id}/fields?metric_id={world.metric_ids['hotline.wait']}",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="product_key"' not in html


def test_leadership_cannot_log(as_role, world):
    assert as_role("leadership").get("/log").status_code == 403
    assert as_role("leadership").post(f"/log/{world.audit_id}", data=_form(world)).status_code == 403


def test_the_recent_list_shows_own_entries_only(app, as_role, users, world):
    add_observations(app, world, [{"metric": "hotline.wait", "value": 333, "customer_status": "new"}],
                     created_by_id=users["manager"].id)
    add_observations(app, world, [{"metric": "hotline.wait", "value": 444, "customer_status": "new"}],
                     created_by_id=users["service"].id)
    html = as_role("service").get(f"/log?audit_id={world.audit_id}").get_data(as_text=True)
    assert "444" in html and "333" not in html


def test_german_form_and_messages(as_role, world):
    client = as_role("service")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    html = client.get(f"/log?audit_id={world.audit_id}").get_data(as_text=True)
    assert "Beobachtungen erfassen" in html and "Kundenstatus" in html and "Neukunde" in html
    html = client.post(f"/log/{world.audit_id}/validate", data={"metric_id": world.metric_ids["hotline.wait"], "value": "-5"},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Der Wert kann nicht negativ sein." in html
    html = client.post(f"/log/{world.audit_id}/validate", data={"metric_id": world.metric_ids["offer.price"], "value": "1.234,5"},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'class="help"' in html
