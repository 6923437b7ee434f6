"""Configuration classes. SQLite in instance/ by default; DATABASE_URL overrides.

Nothing here reads the environment at import: a config object reads it when `create_app` builds one,
so a test, or a second `create_app()`, sees the environment as it is then.
"""

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import click

from clinic.rules import SESSION_ABSOLUTE_HOURS

DEFAULT_DATABASE_URL = "sqlite:///knotwork.sqlite3"  # relative to the instance folder
DEFAULT_KNOWLEDGE_DIR = str(Path(__file__).resolve().parent.parent / "knowledge")


class ConfigError(click.ClickException, RuntimeError):
    """A setting the app cannot start with. A click exception, so a `flask` command stops with this one
    message and exit code 1 instead of a traceback; elsewhere (gunicorn, tests) a RuntimeError."""


def database_url(url: str) -> str:
    """psycopg 3 is the driver; accept the common short forms of a PostgreSQL URL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"{name} must be a whole number, 0 or more (got {raw!r})")
    return value


class Config:
    """Fixed settings are class attributes; settings from the environment are read in __init__."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # Idle timeout: the permanent session is refreshed on each request and expires after this.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=30)
    SESSION_REFRESH_EACH_REQUEST = True
    # However active, a login ends this long after it began (clinic.logins checks it on every request).
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=SESSION_ABSOLUTE_HOURS)
    # The largest request accepted (a session form with 60 points is under 20 KB); larger is a 413 page.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Strict-Transport-Security, sent only where the app is served over HTTPS (production, behind its proxy).
    HSTS_MAX_AGE: int | None = None
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime already bounds the token
    DEMO_DATA_ALLOWED = True
    CLIENTS_PER_PAGE = 25
    SESSIONS_PER_PAGE = 10
    AUDIT_PER_PAGE = 50

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.SECRET_KEY = self.secret_key(environ)
        self.SQLALCHEMY_DATABASE_URI = self.database_uri(environ)
        self.KNOWLEDGE_DIR = environ.get("KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR
        self.CLINIC_TIMEZONE = environ.get("CLINIC_TIMEZONE") or "UTC"
        # How many proxies in front of the app set X-Forwarded-For (0: none, use the connection's address).
        self.TRUSTED_PROXY_HOPS = _whole_number(environ, "TRUSTED_PROXY_HOPS", 0)
        # SMTP for sending intake links by email; without MAIL_SERVER the link is copied or shown as a QR code.
        self.MAIL_SERVER = environ.get("MAIL_SERVER", "").strip()
        self.MAIL_PORT = _whole_number(environ, "MAIL_PORT", 25)
        self.MAIL_USE_TLS = environ.get("MAIL_USE_TLS", "").strip().lower() in ("1", "true", "yes")
        self.MAIL_USERNAME = environ.get("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = environ.get("MAIL_PASSWORD", "")
        self.MAIL_FROM = environ.get("MAIL_FROM") or "knotwork@localhost"

    def secret_key(self, environ: Mapping[str, str]) -> str:
        return environ.get("SECRET_KEY") or "dev-only-not-secret"

    def database_uri(self, environ: Mapping[str, str]) -> str:
        return database_url(environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)


class DevelopmentConfig(Config):
    pass


class TestConfig(Config):
    TESTING = True

    def secret_key(self, environ: Mapping[str, str]) -> str:
        return "test-secret"

    def database_uri(self, environ: Mapping[str, str]) -> str:
        # Never DATABASE_URL: a test run must not touch a real database by accident.
        return "sqlite://"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    HSTS_MAX_AGE = 365 * 24 * 3600  # a year: browsers then refuse plain HTTP to this host
    DEMO_DATA_ALLOWED = False  # the demo logins are published
    GC_FREEZE = True  # see clinic.register_gc_freeze (off elsewhere: a test suite makes many apps)

    def secret_key(self, environ: Mapping[str, str]) -> str:
        if not environ.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY must be set in production")
        return environ["SECRET_KEY"]


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}
