"""The app as bench/pages.py serves it under gunicorn: the production config (DATABASE_URL and SECRET_KEY from the
environment), except that the session cookie is allowed over plain HTTP on 127.0.0.1 (no TLS proxy here)."""

from clinic import create_app

app = create_app("production", {"SESSION_COOKIE_SECURE": False})
