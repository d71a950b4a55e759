"""Files the customer-value import refuses at once, with a message naming what is wrong."""
from __future__ import annotations

import io

from app.extensions import db


def upload(client, data: bytes, filename: str = "werte.csv"):
    return client.post("/customers/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def customer_count(app) -> int:
    from app.segments.models import Customer

    with app.app_context():
        count = db.session.scalar(db.select(db.func.count(Customer.id)))
        db.session.remove()
    return count


def test_a_file_of_too_many_columns_is_refused(app, as_role):
    client = as_role("manager")
    # 200,003 columns in 400 kB (a larger upload would go through a temporary file; the unit
    # tests refuse a million)
    header = "Kundennummer;Periode;Umsatz" + ";x" * 200_000
    page = upload(client, (header + "\n00123;2024-01;12,50\n").encode())
    html = page.get_data(as_text=True)
    assert page.status_code == 422  # the form again, with the problem
    assert "The file has 200003 columns, more than the limit of 1000" in html
    assert customer_count(app) == 0


def test_a_file_mixing_two_text_encodings_is_refused_naming_the_row(app, as_role):
    client = as_role("manager")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    data = (
        "Kundennummer;Name;Periode;Umsatz\n00123;Müller GmbH;2024-01;12,50\n00124;Größe KG;2024-01;3,00\n".encode()
        + "00125;Jäger AG;2024-01;4,00\n".encode("cp1252")
    )
    html = upload(client, data).get_data(as_text=True)
    assert "Zeile 4 ist die erste in Windows-1252" in html
    assert "MÃ¼ller" not in html
    assert customer_count(app) == 0
