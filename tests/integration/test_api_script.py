"""The documented script (docs/examples/hotline_waits.py) run as its own process against a live
server: it pushes a day's hotline waits, pushed again it stores nothing twice, and it pulls the
findings; a token whose role may not read findings is refused that read, nothing else."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.integration.api_tokens import make_token
from tests.integration.audit_fixtures import build_world, count_observations

pytest.importorskip("requests")
SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "hotline_waits.py"


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def call_log(path: Path) -> Path:
    """A day's call log: five calls, one of a customer whose number lost its leading zeros."""
    rows = [("c1", "2026-11-10T08:01:00", "95", "004711", "existing"),
            ("c2", "2026-11-10T08:05:00", "30", "", "new"),
            ("c3", "2026-11-10T09:12:00", "610", "4712", "existing"),
            ("c4", "2026-11-10T10:40:00", "45", "", "new"),
            ("c5", "2026-11-10T11:02:00", "1290", "004711", "existing")]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["call_id", "started_at", "wait_seconds", "customer_no", "status"])
        writer.writerows(rows)
    return path


def run_script(server: str, token: str, audit_id: int, log: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOYALTY_API": server, "LOYALTY_TOKEN": token}
    return subprocess.run([sys.executable, str(SCRIPT), str(audit_id), str(log)], env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_script_pushes_a_day_twice_without_duplicates_and_pulls_findings(app, users, live_server, tmp_path):
    world = build_world(app, users)
    log = call_log(tmp_path / "calls.csv")
    token = make_token(app, users["manager"].id)
    first = run_script(live_server, token, world.audit_id, log)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "5 stored, 0 were stored before" in first.stdout
    assert "note on call tel-c3" in first.stdout and "004712" in first.stdout
    assert "findings: 0" in first.stdout
    assert count_observations(app) == 5
    again = run_script(live_server, token, world.audit_id, log)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 stored, 5 were stored before" in again.stdout
    assert count_observations(app) == 5


def test_a_service_token_pushes_but_may_not_read_the_findings(app, users, live_server, tmp_path):
    world = build_world(app, users)  # the service user is assigned to the audit
    result = run_script(live_server, make_token(app, users["service"].id), world.audit_id,
                        call_log(tmp_path / "calls.csv"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 stored" in result.stdout and "findings not read: 403" in result.stdout
    leadership = run_script(live_server, make_token(app, users["leadership"].id), world.audit_id,
                            call_log(tmp_path / "again.csv"))
    assert leadership.returncode == 1 and "not stored: 403" in leadership.stdout
    assert count_observations(app) == 5
