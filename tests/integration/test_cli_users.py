"""`flask users …` and the configuration switches."""
from __future__ import annotations

from app.accounts.models import User
from app.extensions import db


def test_users_create_and_list(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "ina", "--role", "service", "--password", "ein-langes-pw"])
    assert result.exit_code == 0, result.output
    assert "created ina (service)" in result.output
    listing = runner.invoke(args=["users", "list"])
    assert "ina" in listing.output and "service" in listing.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "ina"))
        assert user.role == "service" and user.password_hash.startswith("$argon2id$")
        db.session.remove()


def test_users_create_refuses_bad_input(app):
    runner = app.test_cli_runner()
    bad_role = runner.invoke(args=["users", "create", "x", "--role", "boss", "--password", "ein-langes-pw"])
    assert bad_role.exit_code != 0 and "boss" in bad_role.output
    short = runner.invoke(args=["users", "create", "x", "--role", "service", "--password", "kurz"])
    assert short.exit_code != 0 and "at least 12" in short.output
    runner.invoke(args=["users", "create", "x", "--role", "service", "--password", "ein-langes-pw"])
    again = runner.invoke(args=["users", "create", "X", "--role", "service", "--password", "ein-langes-pw"])
    assert again.exit_code != 0 and "exists already" in again.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1
        db.session.remove()


def test_set_password_bumps_session_version(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create", "y", "--role", "manager", "--password", "ein-langes-pw"])
    result = runner.invoke(args=["users", "set-password", "y", "--password", "noch-ein-langes-pw"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(db.select(User.session_version).where(User.username == "y")) == 2
        db.session.remove()


def test_production_switch(monkeypatch, tmp_path):
    from app import create_app
    from config import ProductionConfig

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite'}")
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    app = create_app(ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.wsgi_app.__class__.__name__ != "ProxyFix"  # proxy headers only from configured proxies
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    assert create_app(ProductionConfig).wsgi_app.__class__.__name__ == "ProxyFix"


def test_secret_key_is_generated_once(monkeypatch, tmp_path):
    import config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    first = config._secret_key()
    assert len(first) == 64 and first == config._secret_key()
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_url_spellings(monkeypatch):
    import config

    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert config._database_url() == "postgresql+psycopg://u@h/db"
