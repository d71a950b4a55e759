"""A run made before the latest customer-value import says so wherever its results show."""
from __future__ import annotations

import io
import re

from app.extensions import db

PERIODS = [f"2024-{month:02d}" for month in range(1, 13)]


def values_file(bump: float = 0.0) -> bytes:
    lines = ["Kundennummer;Name;Periode;Umsatz;Betreuungskosten;Potenzial"]
    for number in range(1, 9):
        for period in PERIODS:
            revenue = number * 1000 + (bump if number == 3 else 0)
            lines.append(f"0000{number};Kunde {number};{period};{revenue:.2f};{number * 300:.2f};{number * 20000}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def import_file(client, data: bytes):
    page = client.post("/customers/import", data={"file": (io.BytesIO(data), "werte.csv")},
                       content_type="multipart/form-data")
    action = re.search(r'action="(/customers/import/[^"]+)"', page.get_data(as_text=True)).group(1)
    done = client.post(action, follow_redirects=True)
    assert done.status_code == 200
    return done.get_data(as_text=True)


def start_run(client) -> None:
    response = client.post("/segments/run", data={"window_start": PERIODS[0], "window_end": PERIODS[-1],
                                                  "abc_a": "80", "abc_b": "95", "trajectory_value": "revenue"})
    assert response.status_code == 303, response.get_data(as_text=True)


def pages(client, customer_id: int) -> dict[str, str]:
    return {url: client.get(url).get_data(as_text=True)
            for url in ("/segments/", "/customers/", f"/customers/{customer_id}")}


def test_an_import_that_changes_values_after_a_run_shows_a_hint_until_the_next_run(app, as_role):
    from app.segments.models import Customer, SegmentationRun

    manager = as_role("manager")
    import_file(manager, values_file())
    start_run(manager)
    with app.app_context():
        run_id = db.session.scalar(db.select(SegmentationRun.id))
        customer_id = db.session.scalar(db.select(Customer.id).where(Customer.customer_no == "00003"))
        db.session.remove()
    for url, html in pages(manager, customer_id).items():
        assert "data-stale" not in html, url
    # the same file again changes nothing: the run still matches
    message = import_file(manager, values_file())
    assert "no longer matches" not in message
    assert "data-stale" not in manager.get("/segments/").get_data(as_text=True)

    message = import_file(manager, values_file(bump=250.0))
    assert f"Segmentation run {run_id} was made before these values and no longer matches the data" in message
    for url, html in pages(manager, customer_id).items():
        assert f'data-stale="{run_id}"' in html, url
        assert f'href="/segments/run?again={run_id}"' in html, url
    leadership = pages(as_role("leadership"), customer_id)
    assert all(f'data-stale="{run_id}"' in html and "again=" not in html for html in leadership.values())
    assert f'data-stale="{run_id}"' in manager.get(f"/segments/runs/{run_id}").get_data(as_text=True)
    german = as_role("service")
    german.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    assert "passen nicht mehr zu den Daten" in german.get("/customers/").get_data(as_text=True)

    # "Run it again" opens the form with the run's window and thresholds; the new run is current
    form = manager.get(f"/segments/run?again={run_id}").get_data(as_text=True)
    assert re.search(r'name="window_start"[^>]*value="2024-01"', form)
    assert re.search(r'name="abc_a"[^>]*value="80', form)
    start_run(manager)
    for url, html in pages(manager, customer_id).items():
        assert "data-stale" not in html, url
    assert manager.get("/segments/run?again=abc").status_code == 200
    assert manager.get("/segments/run?again=999999").status_code == 200


def test_a_run_made_before_import_markers_existed_compares_times(app, as_role):
    """Runs stored without the last import they saw are judged by the import's time."""
    import datetime as dt

    from app.segments.models import ImportLog, SegmentationRun
    from app.segments.runs import newer_import

    with app.app_context():
        run = SegmentationRun(window_start="2024-01", window_end="2024-12", status="done", summary={},
                              created_at=dt.datetime(2026, 1, 1, 12))
        before = ImportLog(filename="a.csv", sha256="a", values_new=5, created_at=dt.datetime(2026, 1, 1, 11))
        db.session.add_all([run, before])
        db.session.commit()
        assert newer_import(run) is None
        after = ImportLog(filename="b.csv", sha256="b", values_changed=1, created_at=dt.datetime(2026, 1, 2))
        unchanged = ImportLog(filename="c.csv", sha256="c", created_at=dt.datetime(2026, 1, 3))
        db.session.add_all([after, unchanged])
        db.session.commit()
        assert newer_import(run).filename == "b.csv"
        db.session.remove()
