"""Customer numbers a spreadsheet stripped of their leading zeros (70001 for 0070001) or that carry stray
spaces are matched to the known customer with a warning, in all three imports; never created anew."""
from __future__ import annotations

import io
import re

from app.extensions import db
from tests.integration.audit_fixtures import build_world


def _known(app, *numbers) -> dict[str, int]:
    from app.segments.models import Customer

    with app.app_context():
        rows = [Customer(customer_no=number, name=f"Kunde {number}") for number in numbers]
        db.session.add_all(rows)
        db.session.commit()
        ids = {c.customer_no: c.id for c in rows}
        db.session.remove()
    return ids


def _customer_count(app) -> int:
    from app.segments.models import Customer

    with app.app_context():
        n = db.session.scalar(db.select(db.func.count(Customer.id)))
        db.session.remove()
    return n


def _post(client, url, text, name="datei.csv"):
    return client.post(url, data={"file": (io.BytesIO(text.encode("utf-8")), name)}, content_type="multipart/form-data")


def test_matcher_adds_zeros_removes_spaces_and_leaves_the_rest(app):
    from app.segments.loaders import match_customer_numbers

    _known(app, "0070001", "0070002", "070003", "0070003", "12345", "AB 7")
    with app.app_context():
        repairs = match_customer_numbers(["70001", "0070002", "70002 ", "0070 001", "70003", "12345", "99", "AB7",
                                          "80001"])
        db.session.remove()
    assert repairs == {
        "70001": ("0070001", "zeros"),
        "70002 ": ("0070002", "zeros"),  # both: the space goes, the zeros come back
        "0070 001": ("0070001", "spaces"),
        # 70003 fits 070003 and 0070003: ambiguous, left alone; 12345 is itself a customer
    }


def test_customer_value_import_matches_lost_zeros_with_a_warning(app, as_role):
    ids = _known(app, "0070001", "0070002")
    client = as_role("manager")
    text = "Kundennummer;Periode;Umsatz\n70001;2024-01;10\n70002;2024-01;20\n0070009;2024-01;5\n"
    html = _post(client, "/customers/import", text).get_data(as_text=True)
    assert 'data-figure="customers-known">2<' in html and 'data-figure="customers-new">1<' in html
    assert "after adding the leading zeros the spreadsheet dropped: 2 (e.g. 70001 → 0070001, 70002 → 0070002)" in html
    confirm = re.search(r'action="(/customers/import/[^"]+)"', html).group(1)
    assert client.post(confirm).status_code == 303
    assert _customer_count(app) == 3  # 0070009 is new; 70001 and 70002 were not created anew
    from app.segments.models import CustomerValue

    with app.app_context():
        stored = dict(db.session.execute(db.select(CustomerValue.customer_id, CustomerValue.revenue)).all())
        db.session.remove()
    assert stored[ids["0070001"]] == 10 and stored[ids["0070002"]] == 20


def test_observation_import_matches_lost_zeros_and_spaces_with_a_note(app, as_role, users):
    world = build_world(app, users)  # knows 004711 and 004712
    client = as_role("manager")
    text = ("Kontaktpunkt;Kennzahl;Wert;Kundenstatus;Kundennummer;Produkt;Kanal;Datum;Notiz\n"
            "hotline;wait;95;Bestandskunde;4711;;phone;15.11.2026;\n"
            "hotline;wait;90;Bestandskunde;0047 12;;phone;15.11.2026;\n")
    html = _post(client, f"/audits/{world.audit_id}/import", text).get_data(as_text=True)
    assert "2 new observations" in html, html
    assert "after adding the leading zeros the spreadsheet dropped: 1 (e.g. 4711 → 004711)" in html
    assert "after removing stray spaces: 1 (e.g. 0047 12 → 004712)" in html
    token = html.split('name="token" value="')[1].split('"')[0]
    client.post(f"/audits/{world.audit_id}/import/confirm", data={"token": token})
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        stored = sorted(db.session.scalars(db.select(Observation.customer_id)).all())
        db.session.remove()
    assert stored == sorted([world.customer_ids["004711"], world.customer_ids["004712"]])


def test_after_sales_import_matches_lost_zeros_with_a_warning(app, as_role):
    ids = _known(app, "004711")
    client = as_role("manager")
    text = "Kundennummer;Datum;Zufriedenheit Verkauf;Zufriedenheit After-Sales;Wiederkauf\n4711;15.03.2025;5;2;ja\n"
    html = _post(client, "/after-sales/import", text).get_data(as_text=True)
    assert "after adding the leading zeros the spreadsheet dropped: 1 (e.g. 4711 → 004711)" in html, html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert client.post("/after-sales/import/confirm", data={"token": token}).status_code == 303
    from app.aftersales.models import Outcome

    with app.app_context():
        assert db.session.scalars(db.select(Outcome.customer_id)).all() == [ids["004711"]]
        db.session.remove()
