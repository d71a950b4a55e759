"""Configuration classes; the environment chooses one through ``APP_ENV``."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
# In a source checkout instance/ sits beside this file; a copy installed with pip lives in
# site-packages, where nothing should be written: there it is instance/ of the working directory.
_DEFAULT_INSTANCE = BASE_DIR / "instance" if (BASE_DIR / "pyproject.toml").exists() else Path.cwd() / "instance"
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH") or _DEFAULT_INSTANCE)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        # O_EXCL: two workers starting at once must not write two different keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        except FileExistsError:
            pass
    return key_file.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'loyalty_audit.sqlite'}"
    # Accept the common postgres:// spelling and pin the psycopg 3 driver.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _trusted_proxies(default: int) -> int:
    """TRUSTED_PROXIES from the environment: a whole number of proxies, 0 or more."""
    text = os.environ.get("TRUSTED_PROXIES", "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise SystemExit(f"TRUSTED_PROXIES={text!r} must be a whole number of proxies (0 = trust no X-Forwarded-*)")
    return int(text)

def _mail_settings(defaults: dict) -> dict:
    """MAIL_* and APP_BASE_URL from the environment (an invalid port is a start-up error)."""
    out = {}
    for name in ("MAIL_SERVER", "MAIL_FROM", "MAIL_USERNAME", "MAIL_PASSWORD", "APP_BASE_URL"):
        if os.environ.get(name):
            out[name] = os.environ[name]
    if os.environ.get("MAIL_PORT"):
        try:
            out["MAIL_PORT"] = int(os.environ["MAIL_PORT"])
        except ValueError:
            raise SystemExit(f"MAIL_PORT={os.environ['MAIL_PORT']!r} is not a port number") from None
    if os.environ.get("MAIL_STARTTLS"):
        out["MAIL_STARTTLS"] = os.environ["MAIL_STARTTLS"].lower() in ("1", "true", "yes")
    return {**{k: defaults.get(k) for k in out}, **out}


class Config:
    """Defaults for a local installation (embedded SQLite, in-process jobs)."""

    SECRET_KEY: str | None = None  # filled in by load()
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    # Uploads: a customer export of a few hundred thousand rows fits; larger
    # files go through the CLI (`flask customers import`).
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host:
    # 0 trusts none of these headers (anyone could send them); set by TRUSTED_PROXIES.
    TRUSTED_PROXIES = 0
    # Strict-Transport-Security max-age in seconds; 0 sends no HSTS header.
    HSTS_SECONDS = 0

    # A service user keeps the logging form open for a working day.
    WTF_CSRF_TIME_LIMIT = 10 * 3600
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ("de", "en")

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"
    # Failed sign-ins per account, from whatever addresses: guessing spread over many hosts.
    LOGIN_ACCOUNT_RATE_LIMIT = "10 per 15 minutes"

    REDIS_URL: str | None = None

    # Background jobs: a running job stamps its heartbeat every JOB_HEARTBEAT_SECONDS;
    # one whose heartbeat is older than JOB_LEASE_SECONDS has died with its process
    # (worker killed, server restarted) and is marked failed instead of running forever.
    JOB_LEASE_SECONDS = 120
    JOB_HEARTBEAT_SECONDS = 30
    # Seconds an SQLite connection waits for another one's write lock.
    SQLITE_BUSY_TIMEOUT = 30

    # Reminders by e-mail to the owners of actions: only when MAIL_SERVER is set
    # (otherwise the start page alone tells them). STARTTLS when MAIL_STARTTLS=1.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_FROM = "loyalty-audit@localhost"
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_STARTTLS = False
    MAIL_TIMEOUT = 10
    # The address the links in e-mails point to.
    APP_BASE_URL = "http://127.0.0.1:5000"

    @classmethod
    def load(cls) -> dict:
        """Resolve the values that come from the environment or instance/."""
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        values.update(_mail_settings(values))
        values["SECRET_KEY"] = _secret_key()
        values["SQLALCHEMY_DATABASE_URI"] = _database_url()
        redis_url = os.environ.get("REDIS_URL") or None
        values["REDIS_URL"] = redis_url
        if redis_url:
            values["RATELIMIT_STORAGE_URI"] = redis_url
        values["TRUSTED_PROXIES"] = _trusted_proxies(cls.TRUSTED_PROXIES)
        return values


class ProductionConfig(Config):
    """Served over HTTPS: secure cookies, HSTS; proxy headers only with TRUSTED_PROXIES."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS_SECONDS = 365 * 24 * 3600


class TestConfig(Config):
    """Used by the test suite; the database comes from TEST_DATABASE_URL or SQLite."""

    TESTING = True
    RATELIMIT_ENABLED = True
    # Jobs run inline unless a test chooses the thread pool or RQ: an in-memory
    # SQLite database cannot be shared safely with a background thread.
    JOBS_SYNCHRONOUS = True

    @classmethod
    def load(cls) -> dict:
        values = super().load()
        values["SQLALCHEMY_DATABASE_URI"] = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
        if values["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
            values["SQLALCHEMY_DATABASE_URI"] = values["SQLALCHEMY_DATABASE_URI"].replace(
                "postgresql://", "postgresql+psycopg://", 1
            )
        values["RATELIMIT_STORAGE_URI"] = "memory://"
        values["MAIL_SERVER"] = None  # a test that sends mail starts its own server
        return values


CONFIGS = {"development": Config, "production": ProductionConfig, "test": TestConfig}


def config_from_env() -> type[Config]:
    """The config class named by APP_ENV (default: development)."""
    name = os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise SystemExit(f"APP_ENV={name!r} is unknown; use one of {sorted(CONFIGS)}") from None
