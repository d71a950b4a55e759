"""Texts longer than their database column are named in the import check (row, column,
maximum length): never cut (two product keys cut to the same 64 characters would merge
two products), never an error on confirm."""
from __future__ import annotations

import io
import re

from app.extensions import db
from tests.integration.audit_fixtures import count_observations, problem_texts

LONG_NO = "7" * 65
LONG_NAME = "Müller " + "N" * 194  # 201 characters
KEY_A = "TARIF-" + "X" * 58 + "-A"  # 66 characters; the first 64 equal KEY_B's
KEY_B = "TARIF-" + "X" * 58 + "-B"


def _post(client, url, text, name="file.csv"):
    return client.post(url, data={"file": (io.BytesIO(text.encode("utf-8")), name)}, content_type="multipart/form-data")


def _customer_count(app) -> int:
    from app.segments.models import Customer

    with app.app_context():
        n = db.session.scalar(db.select(db.func.count()).select_from(Customer))
        db.session.remove()
    return n


def test_customer_values_with_too_long_number_and_name(app, as_role):
    text = ("Kundennummer;Name;Periode;Umsatz\n"
            f"{LONG_NO};Kurz GmbH;2024-01;100\n"
            f"0002;{LONG_NAME};2024-01;100\n"
            "0003;Plain AG;2024-01;100\n")
    response = _post(as_role("manager"), "/customers/import", text)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    # the problem table: row, column, severity, reason
    assert re.search(r'<td class="num">2</td><td>Kundennummer</td>.*?too long \(65 characters; at most 64 fit\)', html)
    assert re.search(r'<td class="num">3</td><td>Name</td>.*?too long \(201 characters; at most 200 fit\)', html)
    assert 'action="/customers/import/' not in html  # nothing to confirm
    assert _customer_count(app) == 0


def test_customer_values_length_problem_in_german(as_role):
    client = as_role("manager")
    client.post("/language", data={"lang": "de", "next": "/"})
    text = f"Kundennummer;Periode;Umsatz\n{LONG_NO};2024-01;100\n"
    html = _post(client, "/customers/import", text).get_data(as_text=True)
    assert "zu lang (65 Zeichen; höchstens 64 passen)" in html


def test_customer_values_at_the_limits_are_accepted(app, as_role):
    text = f"Kundennummer;Name;Periode;Umsatz\n{'7' * 64};{'N' * 200};2024-01;100\n"
    response = _post(as_role("manager"), "/customers/import", text)
    assert response.status_code == 200 and "too long" not in response.get_data(as_text=True)


def test_observations_with_too_long_product_key_and_channel(app, as_role, world):
    text = ("touchpoint;metric;value;customer_status;product_key;channel\n"
            f"renewal;price;100;new;{KEY_A};online\n"
            f"renewal;price;110;new;{KEY_B};online\n"
            f"renewal;price;120;new;P1;{'c' * 33}\n")
    response = _post(as_role("manager"), f"/audits/{world.audit_id}/import", text)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert problem_texts(html) == [
        "error: Row 2, column product_key: too long (66 characters; at most 64 fit)",
        "error: Row 3, column product_key: too long (66 characters; at most 64 fit)",
        "error: Row 4, column channel: too long (33 characters; at most 32 fit)",
    ]
    assert count_observations(app) == 0


def test_observation_form_refuses_a_too_long_product_key(app, as_role, world):
    response = as_role("manager").post(f"/log/{world.audit_id}", data={
        "metric_id": world.metric_ids["renewal.price"], "value": "100", "customer_status": "new",
        "product_key": KEY_A, "channel": "c" * 40})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "too long (66 characters; at most 64 fit)" in html and "too long (40 characters; at most 32 fit)" in html
    assert count_observations(app) == 0


def test_outcomes_with_too_long_customer_number(app, as_role):
    text = ("Kundennummer;Datum;Zufriedenheit Verkauf;Zufriedenheit After-Sales;Wiederkauf\n"
            f"{LONG_NO};01.10.2026;ja;ja;ja\n")
    response = _post(as_role("manager"), "/after-sales/import", text)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Row 2, column Kundennummer: too long (65 characters; at most 64 fit)" in html
    assert "is unknown" not in html  # named once, for what it is

