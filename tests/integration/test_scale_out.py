"""Two app servers and an RQ worker that share nothing but PostgreSQL and Redis.

Each gunicorn server and the worker run from a copy of the code of their own with an
instance folder of their own (as on separate machines, where nothing on a local disk is
seen by the others); they have the same SECRET_KEY, database and Redis, as the README's
"Scaling out" asks. A browser session (one cookie
jar, as behind a load balancer) checks files on server A and confirms them on server B;
an audit published through A is downloaded from B with the hash the report page shows.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.web.jobs import QUEUE_NAME

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "scale-out-passwort"
START_TIMEOUT = 240  # seconds for a server to answer at all (imports are heavy on a busy machine)
JOB_TIMEOUT = 300

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("REDIS_TEST_URL")),
                       reason="needs PostgreSQL and Redis: set TEST_DATABASE_URL and REDIS_TEST_URL (.ci/run does)"),
]
requests = pytest.importorskip("requests")

SEED = """
from app import create_app
from app.accounts.passwords import hash_password
from app.accounts.models import User
from app.extensions import db
from app.touchpoint_audit.analysis import run_analysis
from app.touchpoint_audit.models import Audit, Metric

app = create_app()
with app.app_context():
    user = User(username="chefin", display_name="Chefin", role="manager", password_hash=hash_password(%(password)r))
    audit = Audit(title="Runde 2026/Q4", status="review", metrics=list(db.session.scalars(db.select(Metric))))
    db.session.add_all([user, audit])
    db.session.commit()
    run_analysis(audit, user_id=user.id)
    db.session.commit()
    print(audit.id)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def shared_database():
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    base = os.environ["TEST_DATABASE_URL"]
    admin_url = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    name = f"scale_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name)
    engine = sa.create_engine(url)
    yield url.set(drivername="postgresql").render_as_string(hide_password=False), engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def machine(tmp_path: Path, name: str) -> Path:
    """A copy of the code for one "machine": what it writes beside its code stays its own."""
    home = tmp_path / f"machine-{name}"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("app", "audits", "segmentation", "tabular", "migrations"):
        shutil.copytree(ROOT / package, home / package, ignore=ignore)
    for module in ("config.py", "wsgi.py"):
        shutil.copy2(ROOT / module, home / module)
    return home


class Processes:
    """The servers and the worker this test starts; stopped by their own handles."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("wb") as log:  # the child keeps its own descriptor
            process = subprocess.Popen(args, cwd=env["PYTHONPATH"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.running.append((name, process))
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop_all(self) -> None:
        for _name, process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _name, process in self.running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.stop_all()


def machines(tmp_path: Path, **settings: str):
    """``env_of(name)``: the environment of one "machine", a copy of the code of its own with its
    own instance folder, all of them sharing ``settings`` (the database, Redis, one secret key)."""
    common = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "APP_ENV", "INSTANCE_PATH", "REDIS_URL")}
    common.update(SECRET_KEY=secrets.token_hex(32), FLASK_APP="wsgi:app", **settings)

    def env_of(name: str) -> dict:
        # PYTHONPATH puts the machine's copy ahead of the source tree's editable install.
        return {**common, "PYTHONPATH": str(machine(tmp_path, name)), "INSTANCE_PATH": str(tmp_path / f"instance-{name}")}

    return env_of


def start_app_servers(processes: Processes, env_of, names=("a", "b")) -> dict[str, tuple[str, subprocess.Popen]]:
    """``gunicorn -w 1`` on a free port of 127.0.0.1 for each name: {name: (base URL, process)}."""
    servers = {}
    for name in names:
        port = free_port()
        process = processes.start(name, [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                                  env_of(name))
        servers[name] = (f"http://127.0.0.1:{port}", process)
    return servers


def signed_in(base: str) -> requests.Session:
    """A browser session of the seeded manager (chefin), signed in on ``base`` through the form."""
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    login = browser.get(f"{base}/login", timeout=30)
    answer = browser.post(f"{base}/login", data={"csrf_token": csrf_token(login.text), "username": "chefin",
                                                 "password": PASSWORD}, allow_redirects=False, timeout=30)
    assert answer.status_code in (302, 303), answer.text[-2000:]
    return browser


def run_cli(env: dict, *args: str) -> str:
    done = subprocess.run(args, cwd=env["PYTHONPATH"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
    return done.stdout


def wait_until_serving(processes: Processes, name: str, process: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{name} exited:\n{processes.log(name)}"
        try:
            if requests.get(f"{base}/login", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{name} did not answer within {START_TIMEOUT} s:\n{processes.log(name)}")


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def wait_for_job(session, base: str, job_url: str, engine, processes: Processes) -> str:
    """Poll the job's page until it redirects to its result; the redirect target."""
    job_id = int(job_url.rstrip("/").rsplit("/", 1)[-1])
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        page = session.get(f"{base}/jobs/{job_id}", allow_redirects=False, timeout=30)
        if page.status_code == 302:
            return page.headers["Location"]
        assert page.status_code == 200, page.status_code
        with engine.connect() as conn:
            status, error = conn.execute(sa.text("SELECT status, error FROM jobs WHERE id = :id"),
                                         {"id": job_id}).one()
        assert status != "failed", f"job {job_id} failed: {error}\n{processes.log('worker')}"
        time.sleep(0.5)
    pytest.fail(f"job {job_id} not done within {JOB_TIMEOUT} s:\n{processes.log('worker')}")


def test_two_app_servers_and_a_worker_share_only_postgresql_and_redis(shared_database, processes, tmp_path):
    from redis import Redis
    from rq import Queue

    database_url, engine = shared_database
    redis_url = os.environ["REDIS_TEST_URL"]
    Queue(QUEUE_NAME, connection=Redis.from_url(redis_url)).empty()  # nothing left over from other runs
    env_of = machines(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url)
    cli = env_of("cli")
    run_cli(cli, str(BIN / "flask"), "db", "upgrade")
    servers = start_app_servers(processes, env_of)
    processes.start("worker", [str(BIN / "rq"), "worker", "--url", redis_url, QUEUE_NAME], env_of("worker"))
    assert "Added" in run_cli(cli, str(BIN / "flask"), "touchpoints", "seed")
    audit_id = int(run_cli(cli, sys.executable, "-c", SEED % {"password": PASSWORD}).split()[-1])
    for name, (base, process) in servers.items():
        wait_until_serving(processes, name, process, base)
    server_a, server_b = servers["a"][0], servers["b"][0]

    # One browser session; the load balancer sends its requests to either server.
    browser = signed_in(server_a)
    assert browser.get(f"{server_b}/", timeout=30).url == f"{server_b}/", "server B knows the session"

    # A small customer-values file: checked on A, confirmed (and written at once) on B.
    small = "customer_id;name;period;revenue\n00123;Müller GmbH;2026-01;1.234,50\n00777;Schmidt KG;2026-01;99\n"
    form = browser.get(f"{server_a}/customers/import", timeout=30)
    checked = browser.post(f"{server_a}/customers/import", data={"csrf_token": csrf_token(form.text)},
                           files={"file": ("werte.csv", small.encode("utf-8"))}, timeout=60)
    assert checked.status_code == 200, checked.text[-2000:]
    confirm = re.search(r'action="(/customers/import/[^"]+)"', checked.text).group(1)
    done = browser.post(f"{server_b}{confirm}", data={"csrf_token": csrf_token(checked.text)},
                        allow_redirects=False, timeout=60)
    assert done.status_code == 303 and done.headers["Location"].endswith("/customers/"), done.status_code
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar() == 2

    # A large one (over the background threshold): checked on A, confirmed on B, written by the worker.
    rows = [f"K{c:05d};Kunde {c:05d} Haustechnik und Söhne GmbH;2025-{m:02d};{c * 3 + m},50"
            for c in range(1500) for m in range(1, 13)]
    large = ("customer_id;name;period;revenue\n" + "\n".join(rows) + "\n").encode("utf-8")
    assert len(large) > 1_000_000
    checked = browser.post(f"{server_a}/customers/import", data={"csrf_token": csrf_token(form.text)},
                           files={"file": ("gross.csv", large)}, timeout=120)
    assert checked.status_code == 200, checked.text[-2000:]
    confirm = re.search(r'action="(/customers/import/[^"]+)"', checked.text).group(1)
    started = browser.post(f"{server_b}{confirm}", data={"csrf_token": csrf_token(checked.text)},
                           allow_redirects=False, timeout=60)
    assert started.status_code == 303 and "/jobs/" in started.headers["Location"], started.status_code
    wait_for_job(browser, server_a, started.headers["Location"], engine, processes)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar() == 1502
        assert conn.execute(sa.text("SELECT count(*) FROM staged_uploads")).scalar() == 0

    # Publish through A (the worker renders and freezes both PDFs), download from B.
    report_page = browser.get(f"{server_a}/reports/audits/{audit_id}", timeout=60)
    published = browser.post(f"{server_a}/reports/audits/{audit_id}/publish",
                             data={"csrf_token": csrf_token(report_page.text), "confirm": "yes"},
                             allow_redirects=False, timeout=60)
    assert published.status_code == 303 and "/jobs/" in published.headers["Location"], published.status_code
    target = wait_for_job(browser, server_b, published.headers["Location"], engine, processes)
    assert target.endswith(f"/reports/audits/{audit_id}")
    page = browser.get(f"{server_b}/reports/audits/{audit_id}", timeout=60).text
    for lang in ("de", "en"):
        shown = re.search(rf'<code class="hash" data-lang="{lang}">([0-9a-f]{{64}})</code>', page)
        assert shown, f"no SHA-256 for {lang} on the report page"
        pdf = browser.get(f"{server_b}/reports/audits/{audit_id}/pdf/{lang}", timeout=60)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert hashlib.sha256(pdf.content).hexdigest() == shown.group(1), lang
