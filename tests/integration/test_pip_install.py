"""A deployment made with `pip install .` (no source tree) has its templates, static files,
compiled German catalogs and migrations, and runs from any working directory."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Building the wheel sets up an isolated build environment and compiles the catalogs.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (found,) = out.glob("loyalty_audit-*.whl")
    return found


def test_the_wheel_carries_what_the_app_reads_besides_code(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    areas = sorted(p.parent.name for p in (ROOT / "app").glob("*/translations"))
    assert len(areas) >= 7
    for area in areas:
        assert f"app/{area}/translations/de/LC_MESSAGES/messages.po" in names, area
        assert f"app/{area}/translations/de/LC_MESSAGES/messages.mo" in names, area
    templates = {str(p.relative_to(ROOT)) for p in (ROOT / "app").glob("*/templates/**/*") if p.is_file()}
    static = {str(p.relative_to(ROOT)) for p in (ROOT / "app/web/static").rglob("*") if p.is_file()}
    assert templates and static
    assert not templates - names, sorted(templates - names)
    assert not static - names, sorted(static - names)
    migrations = {f"app/migrations/{p.relative_to(ROOT / 'migrations')}" for p in (ROOT / "migrations").rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts}
    assert "app/migrations/env.py" in migrations and not migrations - names, sorted(migrations - names)
    assert {"config.py", "wsgi.py"} <= names


RUN_INSTALLED = """
import json, sys
import app, config
from app import create_app
from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.extensions import db

flask_app = create_app()
with flask_app.app_context():
    user = User(username="chefin", display_name="Chefin", role="manager", password_hash=hash_password("x" * 12))
    db.session.add(user)
    db.session.commit()
    user_id = user.get_id()
client = flask_app.test_client()
login = client.get("/login", headers={"Accept-Language": "de"})
css = client.get("/static/css/app.css")
with client.session_transaction() as sess:
    sess["_user_id"], sess["_fresh"] = user_id, True
start = client.get("/", headers={"Accept-Language": "de"})
touchpoints = client.get("/touchpoints/", headers={"Accept-Language": "de"})
print(json.dumps({
    "app": app.__file__, "config": config.__file__, "instance": str(config.INSTANCE_DIR),
    "login": [login.status_code, login.get_data(as_text=True)],
    "css": css.status_code,
    "start": [start.status_code, start.get_data(as_text=True)],
    "touchpoints": [touchpoints.status_code, touchpoints.get_data(as_text=True)],
}))
"""


def test_the_installed_app_speaks_german_and_finds_its_templates(wheel, tmp_path):
    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                                str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    workdir = tmp_path / "deploy"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FLASK_APP", "APP_ENV", "INSTANCE_PATH")}
    env["PYTHONPATH"] = str(target)  # ahead of the source tree's editable install

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, *args], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
        return done.stdout

    run("-m", "flask", "--app", "wsgi:app", "db", "upgrade")  # the migrations ship with the package
    assert "Added" in run("-m", "flask", "--app", "wsgi:app", "touchpoints", "seed")
    result = json.loads(run("-c", RUN_INSTALLED).strip().splitlines()[-1])

    assert result["app"].startswith(str(target)) and result["config"].startswith(str(target)), result["app"]
    # Without INSTANCE_PATH an installed copy keeps its SQLite file and secret in ./instance, not site-packages.
    assert result["instance"] == str(workdir / "instance")
    assert (workdir / "instance" / "loyalty_audit.sqlite").exists()
    status, login = result["login"]
    assert status == 200 and "Anmelden" in login and 'lang="de"' in login  # accounts' template and catalog
    assert result["css"] == 200
    status, start = result["start"]
    assert status == 200 and "Übersicht" in start and "Erste Schritte" in start  # the overview area's
    status, touchpoints = result["touchpoints"]
    assert status == 200 and "Vertragsverlängerung" in touchpoints and "Kennzahl" in touchpoints
