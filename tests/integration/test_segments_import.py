"""Customer-value import: check → report or preview → confirm → all-or-nothing write."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from app.extensions import db

GERMAN_CSV = (
    "Kundennummer;Name;Kunde seit;Periode;Umsatz;Betreuungskosten;Potenzial\n"
    "00123;Müller Haustechnik GmbH;01.02.2010;2024-01;1.234,50;200,00;5.000\n"
    "00123;Müller Haustechnik GmbH;01.02.2010;2024-02;1.000,00;100,00;5.000\n"
    "00777;Schmidt KG;;2024-01;500,00;600,00;900\n"
).encode("cp1252")


def upload(client, data: bytes, filename: str = "werte.csv", **extra):
    return client.post("/customers/import", data={"file": (io.BytesIO(data), filename), **extra},
                       content_type="multipart/form-data")


def confirm_url(html: str) -> str:
    match = re.search(r'action="(/customers/import/[^"]+)"', html)
    assert match, "no confirm form on the preview"
    return match.group(1)


def counts(app):
    from app.segments.models import Customer, CustomerValue

    with app.app_context():
        result = (db.session.scalar(db.select(db.func.count(Customer.id))),
                  db.session.scalar(db.select(db.func.count(CustomerValue.id))))
        db.session.remove()
    return result


def test_preview_then_confirm_writes_and_reimport_changes_nothing(app, as_role):
    client = as_role("manager")
    page = upload(client, GERMAN_CSV)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-figure="customers-new">2<' in html
    assert counts(app) == (0, 0), "the check must write nothing"
    done = client.post(confirm_url(html))
    assert done.status_code == 303
    assert counts(app) == (2, 3)
    from app.segments.models import Customer, CustomerValue

    with app.app_context():
        customer = db.session.scalar(db.select(Customer).where(Customer.customer_no == "00123"))
        assert customer.name == "Müller Haustechnik GmbH" and str(customer.customer_since) == "2010-02-01"
        value = db.session.scalar(db.select(CustomerValue).where(CustomerValue.customer_id == customer.id,
                                                                 CustomerValue.period == "2024-01"))
        assert value.revenue == pytest.approx(1234.5) and value.contribution == pytest.approx(1034.5)
        db.session.remove()
    # the same file again: preview says nothing changes, and nothing does
    again = upload(client, GERMAN_CSV).get_data(as_text=True)
    assert 'data-figure="values">0 / 0 / 3<' in again
    assert "imported on" in again
    client.post(confirm_url(again))
    assert counts(app) == (2, 3)
    # a later file with a new period adds it; a changed value is updated
    later = ("Kundennummer;Periode;Umsatz\n00123;2024-03;10,00\n00777;2024-01;550,00\n").encode()
    preview = upload(client, later).get_data(as_text=True)
    assert 'data-figure="values">1 / 1 / 0<' in preview
    client.post(confirm_url(preview))
    assert counts(app) == (2, 4)
    with app.app_context():
        customer = db.session.scalar(db.select(Customer).where(Customer.customer_no == "00123"))
        assert customer.name == "Müller Haustechnik GmbH", "a file without names keeps the stored name"
        db.session.remove()


def test_problems_are_reported_by_row_and_column_and_nothing_is_written(app, as_role):
    client = as_role("manager")
    bad = ("Kundennummer;Periode;Umsatz\n1;2024-01;abc\n;2024-01;5\n2;2024-13x;5\n3;2024-01;-4\n"
           "4;2024-01;1\n4;2024-01;2\n").encode()
    page = upload(client, bad)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Nothing was written" in html
    for row, text in ((2, "is not a number"), (3, "customer id is missing"), (4, "is not a period"),
                      (5, "negative"), (7, "appears twice")):
        assert re.search(rf"<td class=\"num\">{row}</td>.*?{re.escape(text)}", html, re.S), (row, text)
    assert "/customers/import/" not in html, "no confirm form for a bad file"
    assert not re.search(r"<td>(Row|Column) \d", html), "the place is in its own cells"
    assert counts(app) == (0, 0)


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize("data, filename, message", [
    (b"", "leer.csv", "The file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" + bytes(range(256)) * 20, "bild.csv", "binary data"),
    (b"%PDF-1.7\n\x00\x01\x02\x03 binary", "bericht.csv", "binary data"),
    (zip_bomb(), "werte.xlsx", "zip bomb"),
    ("Kundennummer;Name;Periode;Umsatz\n1;=HYPERLINK(\"http://x\");2024-01;5\n".encode(), "werte.csv",
     "looks like a spreadsheet formula"),
    (b"just some words\nand more words\n", "notes.csv", ""),
    (b"Kundennummer;Periode;Umsatz\n", "nur-kopf.csv", "no data rows"),
])
def test_bad_files_get_a_clear_report(app, as_role, data, filename, message):
    client = as_role("manager")
    page = upload(client, data, filename)
    html = page.get_data(as_text=True)
    assert page.status_code == 422, html[:500]
    assert "Traceback" not in html
    assert "The file cannot be imported" in html
    assert message in html
    assert "<td>Row " not in html  # a located problem's reason does not repeat its row
    assert counts(app) == (0, 0)


def test_a_50_mb_upload_gets_the_413_page(app, as_role):
    client = as_role("manager")
    # A raw multipart body (bytes, not a spooled temporary file) of 50 MB.
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"gross.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + b"a" * (50 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/customers/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "<html" in response.get_data(as_text=True)
    assert counts(app) == (0, 0)


def test_xlsx_wide_layout_by_sheet(app, as_role):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notizen"
    sheet = book.create_sheet("Umsätze")
    sheet.append(["Kundennummer", "Name", "2024-01", "2024-02"])
    sheet.append(["0042", "Becker Druckerei KG", 100.5, 200])
    buffer = io.BytesIO()
    book.save(buffer)
    client = as_role("manager")
    html = upload(client, buffer.getvalue(), "werte.xlsx", sheet="Umsätze").get_data(as_text=True)
    assert 'data-figure="rows">2<' in html
    client.post(confirm_url(html), data={"sheet": "Umsätze"})
    assert counts(app) == (1, 2)


def test_large_import_runs_as_a_job_with_progress(app, as_role, monkeypatch):
    import app.segments.customers as views

    monkeypatch.setitem(app.config, "JOBS_SYNCHRONOUS", True)
    monkeypatch.setattr(views, "BACKGROUND_BYTES", 10)
    client = as_role("manager")
    html = upload(client, GERMAN_CSV).get_data(as_text=True)
    assert "written in the background" in html
    response = client.post(confirm_url(html))
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    assert counts(app) == (2, 3)
    status = client.get(response.headers["Location"])
    assert status.status_code == 302 and "/customers/" in status.headers["Location"]


@pytest.mark.parametrize("role", ["service", "leadership"])
def test_only_managers_import(as_role, role):
    client = as_role(role)
    assert client.get("/customers/import").status_code == 403
    assert upload(client, GERMAN_CSV).status_code == 403


def test_confirm_token_of_another_user_is_refused(app, as_role, users):
    html = upload(as_role("manager"), GERMAN_CSV).get_data(as_text=True)
    url = confirm_url(html)
    assert as_role("admin").post(url).status_code == 404
    assert counts(app) == (0, 0)


def test_problem_report_in_german(app, as_role):
    client = as_role("manager")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    html = upload(client, "Kundennummer;Periode;Umsatz\n1;2024-01;zwölf\n".encode("cp1252")).get_data(as_text=True)
    # row and column stand in their own cells; the reason beside them does not repeat them
    assert re.search(r'<td class="num">2</td><td>Umsatz</td><td>.*?</td><td>&#39;zwölf&#39; ist keine Zahl</td>', html)
    assert "Zeile 2" not in html
    empty = upload(client, b"", "leer.csv").get_data(as_text=True)
    assert "Die Datei ist leer." in empty


def test_preview_shows_the_yearly_potential_once_and_the_customers_below_their_revenue(app, as_role):
    client = as_role("manager")
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    lines = ["Kundennummer;Periode;Umsatz;Außenumsatz"]
    lines += [f"0070001;{month};10.000,00;500.000,00" for month in months]
    lines += [f"0070002;{month};5.000,00;40.000,00" for month in months]  # 60.000 a year > 40.000
    html = upload(client, ("\n".join(lines) + "\n").encode()).get_data(as_text=True)
    total = re.search(r'data-figure="potential-total">([^<]+)<', html).group(1)
    assert "540,000" in total, total  # 500,000 + 40,000: the latest a year, not twelve of them
    assert 'data-figure="potential-below">1<' in html
    assert "customer 0070002: the potential a year" in html
    assert counts(app) == (0, 0)


def test_the_import_message_counts_in_german(app, as_role):
    """Thousands separated, and one row is one Zeile, one customer one Kunde."""
    client = as_role("manager")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    many = "Kundennummer;Periode;Umsatz\n" + "".join(f"{n:05d};2024-01;10\n" for n in range(1, 1002))
    done = client.post(confirm_url(upload(client, many.encode()).get_data(as_text=True)), follow_redirects=True)
    assert "1.001 Zeilen importiert: 1.001 neue Kunden, 1.001 neue und 0 geänderte Werte." in done.get_data(as_text=True)
    one = "Kundennummer;Periode;Umsatz\n09999;2024-01;10\n"
    done = client.post(confirm_url(upload(client, one.encode()).get_data(as_text=True)), follow_redirects=True)
    assert "1 Zeile importiert: 1 neuer Kunde, 1 neue und 0 geänderte Werte." in done.get_data(as_text=True)
