"""Where one page's time goes: its SQL statements (slowest first) and its Python functions.

Runs the request twice through the Flask test client as a signed-in user of the given role
(the first to warm caches), the second under cProfile with every statement timed.

Usage: python bench/profile_page.py DATABASE_URL URL [role] [--htmx]
e.g.   python bench/profile_page.py postgresql+psycopg://postgres@127.0.0.1/bench1m /after-sales/ manager
(the database of bench/bench_pages.py kept with BENCH_KEEP_DATABASE).
"""
from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    if len(args) < 2:
        raise SystemExit(__doc__)
    url, target = args[0], args[1]
    role = args[2] if len(args) > 2 else "manager"
    headers = {"HX-Request": "true"} if "--htmx" in sys.argv else {}
    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="profile-page-"))
    import sqlalchemy as sa

    from app import create_app
    from app.accounts.models import User
    from app.extensions import db
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    statements: list[tuple[float, str]] = []
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.role == role).limit(1))
        if user is None:
            raise SystemExit(f"no user with the role {role}")
        user_id = user.get_id()

        @sa.event.listens_for(db.engine, "before_cursor_execute")
        def _start(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
            conn.info.setdefault("started", []).append(time.perf_counter())

        @sa.event.listens_for(db.engine, "after_cursor_execute")
        def _stop(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
            statements.append((time.perf_counter() - conn.info["started"].pop(), " ".join(statement.split())))
        db.session.remove()

    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    started = time.perf_counter()
    response = client.get(target, headers=headers)
    print(f"warm-up: {response.status_code}, {len(response.get_data()):,} bytes, "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")
    statements.clear()
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    response = client.get(target, headers=headers)
    profile.disable()
    took = time.perf_counter() - started
    print(f"profiled: {response.status_code}, {took * 1000:.0f} ms, {len(statements)} statements, "
          f"{sum(s for s, _ in statements) * 1000:.0f} ms in SQL\n")
    for seconds, statement in sorted(statements, reverse=True)[:12]:
        print(f"{seconds * 1000:8.1f} ms  {statement[:300]}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
    print(out.getvalue())


if __name__ == "__main__":
    main()
