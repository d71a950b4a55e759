"""One rule for an observation's fields: the log form, its inline check and the bulk import
refuse the same things with the same words, and accept the same spellings."""
from __future__ import annotations

import io

import pytest

from app.extensions import db
from tests.integration.audit_fixtures import count_observations

HEADER = "Kontaktpunkt;Kennzahl;Wert;Kundenstatus;Kundennummer;Produkt;Kanal;Datum;Notiz"


def _scope_products(app, world, products):
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        db.session.get(Audit, world.audit_id).scope_products = products
        db.session.commit()
        db.session.remove()


def _log(client, world, **fields):
    data = {"metric_id": world.metric_ids["hotline.wait"], "value": "95", "customer_q": "", "customer_id": "",
            "customer_status": "", "product_key": "", "channel": "", "observed_on": "", "note": ""}
    data.update(fields)
    return client.post(f"/log/{world.audit_id}", data=data, headers={"HX-Request": "true"})


def _import(client, world, line):
    return client.post(f"/audits/{world.audit_id}/import",
                       data={"file": (io.BytesIO(f"{HEADER}\n{line}\n".encode()), "obs.csv")},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("fields,line,message", [
    ({"customer_status": "vielleicht"}, "hotline;wait;95;vielleicht;;;;;",
     "“vielleicht” is not a customer status (new/existing, Neukunde/Bestandskunde)."),
    ({"metric_id": "offer.price", "customer_status": "new", "product_key": "P9"}, "offer;price;95;new;;P9;;;",
     "This product is not in the audit&#39;s scope."),
    ({"metric_id": "offer.price", "customer_status": "new"}, "offer;price;95;new;;;;;",
     "This metric needs the product or tariff key for a like-for-like price."),
    ({"customer_status": "new", "value": "-5"}, "hotline;wait;-5;new;;;;;", "The value cannot be negative."),
])
def test_form_and_import_refuse_a_row_with_the_same_words(app, as_role, world, fields, line, message):
    _scope_products(app, world, ["P1"])
    client = as_role("manager")
    if "metric_id" in fields:
        fields = {**fields, "metric_id": world.metric_ids[fields["metric_id"]]}
    form = _log(client, world, **fields)
    assert form.status_code == 422 and message in form.get_data(as_text=True)
    imported = _import(client, world, line)
    assert imported.status_code == 422 and message in imported.get_data(as_text=True)
    assert count_observations(app) == 0


def test_only_the_form_reads_an_empty_customer_as_an_unknown_prospect(app, as_role, world):
    """The form says "empty: unknown new customer"; a file row without a status stays refused."""
    client = as_role("manager")
    imported = _import(client, world, "hotline;wait;95;;;;;;")
    assert imported.status_code == 422 and "Choose new or existing customer." in imported.get_data(as_text=True)
    assert _log(client, world).status_code == 200
    assert count_observations(app) == 1


def test_the_inline_check_says_what_the_form_says(as_role, world):
    html = as_role("service").post(f"/log/{world.audit_id}/validate",
                                   data={"metric_id": world.metric_ids["hotline.wait"], "value": "-5"},
                                   headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "The value cannot be negative." in html


def test_the_form_accepts_the_status_words_the_import_accepts(app, as_role, world):
    from app.touchpoint_audit.models import Observation

    response = _log(as_role("service"), world, customer_status="Neukunde", product_key=" P1 ", channel="phone",
                    note=" x " * 1500)
    assert response.status_code == 200
    with app.app_context():
        observation = db.session.scalars(db.select(Observation)).one()
        assert observation.customer_status == "new" and observation.product_key == "P1"
        assert observation.channel == "phone" and len(observation.note) == 2000
        db.session.remove()


def test_a_yes_no_metric_takes_the_yes_no_words_every_import_takes(as_role, world):
    from tabular import BOOLEAN_WORDS

    client = as_role("service")
    for flag, words in BOOLEAN_WORDS.items():
        for word in words:
            html = client.post(f"/log/{world.audit_id}/validate",
                               data={"metric_id": world.metric_ids["hotline.resolved"], "value": word.upper()},
                               headers={"HX-Request": "true"}).get_data(as_text=True)
            assert 'class="help"' in html, (flag, word, html)
    html = client.post(f"/log/{world.audit_id}/validate",
                       data={"metric_id": world.metric_ids["hotline.resolved"], "value": "vielleicht"},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Enter yes or no (1 or 0)." in html


def test_yes_no_words_are_stored_as_one_and_zero(app, as_role, world):
    from app.touchpoint_audit.models import Observation

    client = as_role("service")
    for word in ("✓", "NEIN"):
        response = _log(client, world, metric_id=world.metric_ids["hotline.resolved"], value=word,
                        customer_status="existing")
        assert response.status_code == 200
    with app.app_context():
        assert db.session.scalars(db.select(Observation.value).order_by(Observation.id)).all() == [1.0, 0.0]
        db.session.remove()
