"""Configuration classes. SQLite in instance/ by default; DATABASE_URL overrides."""

import os
from datetime import timedelta
from pathlib import Path


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # psycopg 3 is the driver; accept the common short forms.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = _database_url("sqlite:///knotwork.sqlite3")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # Idle timeout: the permanent session is refreshed on each request and expires after this.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=30)
    SESSION_REFRESH_EACH_REQUEST = True
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime already bounds the token
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_ADDRESS_WINDOW_MINUTES = 15
    KNOWLEDGE_DIR = os.environ.get("KNOWLEDGE_DIR", str(Path(__file__).resolve().parent.parent / "knowledge"))
    CLINIC_TIMEZONE = os.environ.get("CLINIC_TIMEZONE", "UTC")
    # How many proxies in front of the app set X-Forwarded-For (0: none, use the connection's address).
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))
    DEMO_DATA_ALLOWED = True
    CLIENTS_PER_PAGE = 25
    SESSIONS_PER_PAGE = 10
    AUDIT_PER_PAGE = 50


class DevelopmentConfig(Config):
    pass


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    # Never DATABASE_URL: a test run must not touch a real database by accident.
    SQLALCHEMY_DATABASE_URI = "sqlite://"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    DEMO_DATA_ALLOWED = False  # the demo logins are published

    def __init__(self) -> None:
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production")
        self.SECRET_KEY = os.environ["SECRET_KEY"]


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}
