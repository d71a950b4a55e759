"""Paired test calls: scenarios, the pair form, forged and replayed pairs, the analysis of
pairs beside the unpaired comparison, in English and German."""
from __future__ import annotations

import re

import numpy as np
import pytest

from app.extensions import db
from tests.integration.audit_fixtures import count_observations


def add_scenario(app, world, metric="renewal.price", audit_id=None, **fields):
    from app.touchpoint_audit.models import Scenario

    with app.app_context():
        scenario = Scenario(audit_id=audit_id or world.audit_id, metric_id=world.metric_ids[metric],
                            title=fields.pop("title", "Renewal, tariff Basis 12"),
                            product_key=fields.pop("product_key", "basis12"), channel=fields.pop("channel", None),
                            script=fields.pop("script", "Ask for the renewal price of Basis 12."), **fields)
        db.session.add(scenario)
        db.session.commit()
        scenario_id = scenario.id
        db.session.remove()
    return scenario_id


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def pair_form(client, world, scenario, **overrides):
    page = client.get(f"/audits/{world.audit_id}/pairs")
    data = {"scenario_id": scenario, "value_new": "400", "value_existing": "452,50", "customer_q": "004711",
            "observed_on_new": "", "observed_on_existing": "", "note": "", "form_token": form_token(page.get_data(as_text=True))}
    data.update(overrides)
    return data


def stored_pairs(app):
    from app.touchpoint_audit.models import ObservationPair

    with app.app_context():
        rows = [(p.scenario_id, p.new_observation.value, p.new_observation.customer_status, p.existing_observation.value,
                 p.existing_observation.customer_status, p.existing_observation.customer_id,
                 p.new_observation.product_key, p.new_observation.metric_id)
                for p in db.session.scalars(db.select(ObservationPair))]
        db.session.remove()
    return rows


def test_staff_log_a_pair_as_two_linked_observations_of_the_scenario(app, as_role, world):
    scenario_id = add_scenario(app, world)
    client = as_role("service")
    page = client.get(f"/audits/{world.audit_id}/pairs")
    assert page.status_code == 200 and 'id="pair-form"' in page.get_data(as_text=True)
    response = client.post(f"/audits/{world.audit_id}/pairs", data=pair_form(client, world, scenario_id))
    assert response.status_code == 303
    [row] = stored_pairs(app)
    assert row == (scenario_id, 400.0, "new", 452.5, "existing", world.customer_ids["004711"], "basis12",
                   world.metric_ids["renewal.price"])
    assert "Renewal, tariff Basis 12" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_replayed_form_stores_one_pair(app, as_role, world):
    scenario_id = add_scenario(app, world)
    client = as_role("service")
    data = pair_form(client, world, scenario_id)
    assert client.post(f"/audits/{world.audit_id}/pairs", data=data).status_code == 303
    again = client.post(f"/audits/{world.audit_id}/pairs", data=data)
    assert again.status_code == 409 and "already saved" in again.get_data(as_text=True)
    assert len(stored_pairs(app)) == 1 and count_observations(app) == 2


@pytest.mark.parametrize("token", ["", "short", "x" * 65, "bad token with spaces!!", "\x00" * 20])
def test_a_form_without_a_valid_id_is_refused(app, as_role, world, token):
    scenario_id = add_scenario(app, world)
    client = as_role("service")
    response = client.post(f"/audits/{world.audit_id}/pairs", data=pair_form(client, world, scenario_id, form_token=token))
    assert response.status_code == 400 and count_observations(app) == 0


@pytest.mark.parametrize("overrides, field", [
    ({"value_existing": ""}, "value_existing"),               # one side missing
    ({"value_new": ""}, "value_new"),
    ({"value_new": "-5"}, "value_new"),                       # out of range
    ({"value_existing": "1e400"}, "value_existing"),
    ({"value_existing": "zwölf"}, "value_existing"),
    ({"value_new": "9" * 5000}, "value_new"),                 # oversized
    ({"observed_on_new": "2026-13-45"}, "observed_on_new"),
    ({"observed_on_existing": "2999-01-01"}, "observed_on_existing"),
    ({"customer_q": "nobody"}, "customer"),
    ({"scenario_id": "999999"}, "scenario_id"),               # unknown scenario
    ({"scenario_id": "99999999999999999999"}, "scenario_id"),
    ({"scenario_id": "abc"}, "scenario_id"),
])
def test_bad_input_is_refused_with_nothing_written(app, as_role, world, overrides, field):
    scenario_id = add_scenario(app, world)
    client = as_role("service")
    response = client.post(f"/audits/{world.audit_id}/pairs", data=pair_form(client, world, scenario_id, **overrides))
    assert response.status_code == 422, field
    assert 'class="error"' in response.get_data(as_text=True)
    assert count_observations(app) == 0


def test_a_scenario_of_another_audit_is_refused(app, as_role, users, world):
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        other = Audit(title="Other", status="open")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        db.session.remove()
    foreign = add_scenario(app, world, audit_id=other_id)
    add_scenario(app, world)  # the audit's own, so the form is shown
    client = as_role("service")
    response = client.post(f"/audits/{world.audit_id}/pairs", data=pair_form(client, world, foreign))
    assert response.status_code == 422 and count_observations(app) == 0


def test_the_form_cannot_change_the_scenarios_metric_or_product(app, as_role, world):
    scenario_id = add_scenario(app, world)
    client = as_role("service")
    data = pair_form(client, world, scenario_id, metric_id=world.metric_ids["hotline.wait"], product_key="other")
    assert client.post(f"/audits/{world.audit_id}/pairs", data=data).status_code == 303
    [row] = stored_pairs(app)
    assert row[6:] == ("basis12", world.metric_ids["renewal.price"])


def test_forged_pairs_are_refused_by_the_record_rule(app, users, world):
    from app.touchpoint_audit.models import Audit, Observation, Scenario
    from app.touchpoint_audit.pairs import link_pair

    scenario_id = add_scenario(app, world)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        audit = db.session.get(Audit, world.audit_id)
        scenario = db.session.get(Scenario, scenario_id)
        other = Audit(title="Other", status="open")
        db.session.add(other)
        db.session.flush()

        def obs(status, metric="renewal.price", audit_id=None):
            o = Observation(audit_id=audit_id or audit.id, metric_id=world.metric_ids[metric], value=400.0,
                            customer_status=status, product_key="basis12")
            db.session.add(o)
            db.session.flush()
            return o

        cases = {
            "other audit": (obs("new"), obs("existing", audit_id=other.id)),
            "other metric": (obs("new"), obs("existing", metric="hotline.wait")),
            "one side missing": (obs("new"), None),
            "same status": (obs("existing"), obs("existing")),
        }
        for name, (new, existing) in cases.items():
            with pytest.raises(ValueError):
                link_pair(audit, scenario, new, existing)
            assert name
        new, existing = obs("new"), obs("existing")
        link_pair(audit, scenario, new, existing)
        db.session.flush()
        with pytest.raises(ValueError, match="another pair"):  # a side that belongs to another pair
            link_pair(audit, scenario, obs("new"), existing)
        foreign_scenario = Scenario(audit_id=other.id, metric_id=scenario.metric_id, title="x", script="")
        db.session.add(foreign_scenario)
        db.session.flush()
        with pytest.raises(ValueError, match="does not belong"):
            link_pair(audit, foreign_scenario, obs("new"), obs("existing"))
        db.session.rollback()


def test_closed_audit_and_unassigned_staff_cannot_log_pairs(app, as_role, users, world):
    scenario_id = add_scenario(app, world)
    client = as_role("service")
    data = pair_form(client, world, scenario_id)
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        db.session.get(Audit, world.audit_id).status = "review"
        db.session.commit()
        db.session.remove()
    assert client.post(f"/audits/{world.audit_id}/pairs", data=data).status_code == 409
    with app.app_context():
        audit = db.session.get(Audit, world.audit_id)
        audit.status, audit.staff = "open", []
        db.session.commit()
        db.session.remove()
    assert client.post(f"/audits/{world.audit_id}/pairs", data=data).status_code == 403
    assert count_observations(app) == 0


def test_undo_removes_both_sides_and_only_the_own_pair(app, as_role, world):
    from app.touchpoint_audit.models import ObservationPair

    scenario_id = add_scenario(app, world)
    client = as_role("service")
    client.post(f"/audits/{world.audit_id}/pairs", data=pair_form(client, world, scenario_id))
    with app.app_context():
        pair_id = db.session.scalar(db.select(ObservationPair.id))
        db.session.remove()
    assert as_role("manager").post(f"/audits/{world.audit_id}/pairs/{pair_id}/delete").status_code == 403
    assert client.post(f"/audits/{world.audit_id}/pairs/{pair_id}/delete").status_code == 303
    assert stored_pairs(app) == [] and count_observations(app) == 0
    assert client.post(f"/audits/{world.audit_id}/pairs/{pair_id}/delete").status_code == 404


def test_manager_defines_scenarios_and_bad_ones_are_refused(app, as_role, world):
    manager = as_role("manager")
    url = f"/audits/{world.audit_id}/scenarios/new"
    good = {"title": "Hotline, contract question", "metric_id": world.metric_ids["hotline.wait"], "product_key": "",
            "channel": "Telefon", "script": "Ask when the contract ends."}
    assert manager.post(url, data=good).status_code == 303
    for bad in ({"title": ""}, {"metric_id": "999999"}, {"metric_id": "x"}, {"channel": "Brieftaube"},
                {"script": "x" * 4001}, {"title": "t" * 201},
                {"metric_id": world.metric_ids["renewal.price"], "product_key": ""}):
        assert manager.post(url, data={**good, **bad}).status_code == 422, bad
    html = manager.get(f"/audits/{world.audit_id}/scenarios").get_data(as_text=True)
    assert html.count("data-scenario=") == 1 and "Ask when the contract ends." in html
    from app.touchpoint_audit.models import Scenario

    with app.app_context():
        scenario = db.session.scalars(db.select(Scenario)).one()
        assert scenario.channel == "phone"
        db.session.remove()
    assert as_role("service").post(url, data=good).status_code == 403
    assert as_role("leadership").post(url, data=good).status_code == 403


def test_retired_scenario_is_not_offered_and_not_accepted(app, as_role, world):
    scenario_id = add_scenario(app, world)
    manager = as_role("manager")
    assert manager.post(f"/audits/{world.audit_id}/scenarios/{scenario_id}/active", data={"active": "0"}).status_code == 303
    client = as_role("service")
    page = client.get(f"/audits/{world.audit_id}/pairs").get_data(as_text=True)
    assert "no scenarios yet" in page
    response = client.post(f"/audits/{world.audit_id}/pairs", data={
        "scenario_id": scenario_id, "value_new": "1", "value_existing": "2", "form_token": "a" * 32})
    assert response.status_code == 422 and count_observations(app) == 0


def log_pairs(app, world, scenario_id, values, user_id=None):
    from app.touchpoint_audit.models import Audit, Observation, Scenario
    from app.touchpoint_audit.pairs import link_pair

    with app.test_request_context():
        audit = db.session.get(Audit, world.audit_id)
        scenario = db.session.get(Scenario, scenario_id)
        for new_value, existing_value in values:
            sides = [Observation(audit_id=audit.id, metric_id=scenario.metric_id, value=float(v), customer_status=s,
                                 product_key=scenario.product_key, created_by_id=user_id)
                     for v, s in ((new_value, "new"), (existing_value, "existing"))]
            db.session.add_all(sides)
            db.session.flush()
            link_pair(audit, scenario, *sides, user_id=user_id)
        db.session.commit()
        db.session.remove()


def test_the_analysis_shows_the_pairs_beside_the_unpaired_comparison(app, as_role, world):
    scenario_id = add_scenario(app, world)
    rng = np.random.default_rng(5)
    base = np.exp(rng.normal(np.log(400), 0.3, 14))
    log_pairs(app, world, scenario_id, zip(base, base * 1.12 * np.exp(rng.normal(0, 0.01, 14))))
    manager = as_role("manager")
    assert manager.post(f"/audits/{world.audit_id}/analyze").status_code == 303
    from app.touchpoint_audit.analysis import latest_snapshot

    with app.app_context():
        snapshot = latest_snapshot(world.audit_id)
        [paired] = snapshot.paired
        unpaired = next(r for r in snapshot.comparisons if (r["touchpoint"], r["metric"], r["segment_kind"])
                        == ("renewal", "price", "overall"))
        db.session.remove()
    assert paired["n_pairs"] == 14 and paired["flagged"] and 10 < paired["effect"] < 14
    # the pairs joined the unpaired comparisons' Benjamini–Hochberg family
    assert unpaired["p_adjusted"] >= unpaired["p"] and paired["p_adjusted"] >= paired["p"]
    html = manager.get(f"/audits/{world.audit_id}/dashboard").get_data(as_text=True)
    assert 'id="paired"' in html and "14 pairs" in html and 'data-unpaired="renewal.price"' in html
    page = manager.get(f"/audits/{world.audit_id}/comparisons/renewal/price/overall/all").get_data(as_text=True)
    assert 'data-paired="renewal.price"' in page
    german = manager.get(f"/audits/{world.audit_id}/dashboard", headers={"Accept-Language": "de"})
    text = german.get_data(as_text=True)
    assert "Gepaarte Testanrufe" in text and "14 Paare" in text


def test_too_few_pairs_say_so_before_and_in_the_analysis(app, as_role, world):
    scenario_id = add_scenario(app, world)
    log_pairs(app, world, scenario_id, [(400, 450)] * 4)
    manager = as_role("manager")
    page = manager.get(f"/audits/{world.audit_id}").get_data(as_text=True)
    assert 'id="shortfall"' in page and "4 of 10 pairs" in page and "short of" in page
    response = manager.post(f"/audits/{world.audit_id}/analyze", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "fell short of their minimum n" in html and 'data-verdict="insufficient"' in html


def test_the_last_pairs_show_yes_no_in_words_and_amounts_with_their_unit(app, as_role, users, world):
    yes_no = add_scenario(app, world, metric="hotline.resolved", title="Tariff change on the first call",
                          product_key=None)
    price = add_scenario(app, world)
    log_pairs(app, world, yes_no, [(1, 0)], user_id=users["service"].id)
    log_pairs(app, world, price, [(400, 452.5)], user_id=users["service"].id)
    html = as_role("service").get(f"/audits/{world.audit_id}/pairs").get_data(as_text=True)
    listed = html[html.index('class="pair-list"'):]
    assert re.search(r"Prospect: yes ·\s*Existing: no", listed)
    assert re.search(r"Prospect: 400\.00 € ·\s*Existing: 452\.50 €", listed)
