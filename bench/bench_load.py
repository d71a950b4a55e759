"""Load benchmark: 20 users for 2 minutes (locust, headless) against gunicorn with 2 workers.

Fills a PostgreSQL database as bench/bench_pages.py does (BENCH_LOAD_CUSTOMERS customers,
default 20,000 so that `make bench` stays short; BENCH_LOAD_CUSTOMERS=1000000 for the issue's
size; BENCH_KEEP_DATABASE=name reuses a database bench_pages.py filled), starts
``gunicorn -w 2 -b 127.0.0.1:<free port> wsgi:app`` on it, signs a manager in once and lets
BENCH_LOAD_USERS (20) locust users click through the main pages and htmx requests for
BENCH_LOAD_SECONDS (120) with 1-3 s think time (see bench/locustfile_pages.py). Prints per
request p50/p95/p99 in ms and the errors, beside the static file on the same server (the
floor; ratio = page p95 / static p95), and the peak memory of the gunicorn processes.
Everything listens on 127.0.0.1 only; locust is bounded by a timeout, gunicorn is stopped
(by its pid) at the end. The run export CSV is left out: a 170 MB download is not a click.
"""
from __future__ import annotations

import csv
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

import pandas as pd  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
import requests  # noqa: E402

PASSWORD = "bench-load-passwort-" + secrets.token_hex(4)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(url: str, customers: int) -> list[tuple[str, str, bool]]:
    """Fill (or reuse) the database; a manager with a known password; the requests to make."""
    import bench.bench_pages as pages
    from app import create_app
    from app.accounts.models import User
    from app.accounts.passwords import hash_password
    from app.extensions import db
    from config import TestConfig

    pages.OBSERVATIONS = min(pages.OBSERVATIONS, max(1000, customers // 5))
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        pages.bring_up_to_date(db)
        manager = db.session.scalar(db.select(User).where(User.username == "manager"))
        if manager is None:
            periods = [str(p) for p in pd.period_range("2025-01", periods=pages.PERIODS, freq="M")]
            started = time.perf_counter()
            pages.fill(db, customers, periods)
            manager = User(username="manager", display_name="Manager", role="manager", password_hash="-")
            db.session.add(manager)
            print(f"filled {customers:,} customers in {time.perf_counter() - started:.0f} s (not measured)", flush=True)
        manager.password_hash = hash_password(PASSWORD)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        targets = [(name, path, bool(headers)) for name, path, headers in pages.requests_to_time(db)
                   if "export" not in path and "static" not in path]
        db.session.remove()
        db.engine.dispose()
    return targets


def sign_in(base: str) -> str:
    """The session cookie of the manager, signed in through the login form."""
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    answer = session.post(f"{base}/login", data={"csrf_token": token, "username": "manager", "password": PASSWORD},
                          allow_redirects=False, timeout=30)
    if answer.status_code not in (302, 303):
        raise SystemExit(f"sign-in failed: {answer.status_code}")
    return session.cookies["session"]


def watch_memory(root: psutil.Process, stop: threading.Event, peak: list[int]) -> None:
    """The largest summed resident memory of gunicorn and its workers, sampled twice a second."""
    while not stop.wait(0.5):
        try:
            total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        except psutil.Error:
            continue
        peak[0] = max(peak[0], total)


def main() -> None:
    customers = int(os.environ.get("BENCH_LOAD_CUSTOMERS", 20_000))
    users = int(os.environ.get("BENCH_LOAD_USERS", 20))
    seconds = int(os.environ.get("BENCH_LOAD_SECONDS", 120))
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin_url = server.replace("postgresql+psycopg://", "postgresql://")
    keep = os.environ.get("BENCH_KEEP_DATABASE", "")
    if keep and not keep.replace("_", "").isalnum():
        raise SystemExit("BENCH_KEEP_DATABASE: letters, digits and _ only")
    dbname = keep or f"bench_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            admin.execute(f"CREATE DATABASE {dbname}")
    url = f"{admin_url.rsplit('/', 1)[0]}/{dbname}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    os.environ.setdefault("INSTANCE_PATH", str(workdir))
    gunicorn = None
    try:
        targets = prepare(url.replace("postgresql://", "postgresql+psycopg://", 1), customers)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "INSTANCE_PATH": str(workdir),
               "APP_ENV": "development", "PYTHONPATH": str(ROOT)}
        env.pop("REDIS_URL", None)
        gunicorn = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b",
                                     f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=open(workdir / "gunicorn.log", "w"))
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):  # the workers load the app (a minute at most)
            try:
                requests.get(f"{base}/static/app.js", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.5)
        cookie = sign_in(base)
        stop, peak = threading.Event(), [0]
        watcher = threading.Thread(target=watch_memory, args=(psutil.Process(gunicorn.pid), stop, peak), daemon=True)
        watcher.start()
        paths = "\n".join(f"{name}\t{path}\t{int(hx)}" for name, path, hx in targets)
        prefix = workdir / "locust"
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "locustfile_pages.py"),
                        "--headless", "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{seconds}s",
                        "--host", base, "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
                        "--loglevel", "WARNING"],
                       env={**os.environ, "BENCH_LOAD_COOKIE": cookie, "BENCH_LOAD_PATHS": paths},
                       timeout=seconds + 120, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        stop.set()
        report(prefix.with_name("locust_stats.csv"), customers, users, elapsed, peak[0])
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def report(stats: Path, customers: int, users: int, elapsed: float, peak: int) -> None:
    """The locust statistics as a table: p50/p95/p99, requests, errors, ratio to the static file."""
    with stats.open() as handle:
        rows = list(csv.DictReader(handle))
    floor = next((r for r in rows if r["Name"] == "static file (floor)"), None)
    floor_p95 = float(floor["95%"]) if floor and floor["95%"] not in ("", "N/A") else None
    print(f"\n{users} users, 1-3 s think time, {elapsed:.0f} s, {customers:,} customers, gunicorn -w 2; "
          f"peak memory of gunicorn and its workers {peak / 2**20:,.0f} MiB")
    print(f"{'request':<34} {'n':>6} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'p95/static':>10}")
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all requests"
        p95 = float(row["95%"]) if row["95%"] not in ("", "N/A") else float("nan")
        ratio = f"{p95 / floor_p95:>10.1f}" if floor_p95 else f"{'':>10}"
        print(f"{name:<34} {int(row['Request Count']):>6} {int(row['Failure Count']):>6} {row['50%']:>7} "
              f"{row['95%']:>7} {row['99%']:>7} {ratio}")


if __name__ == "__main__":
    main()
