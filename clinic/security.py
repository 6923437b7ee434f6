"""Security headers, proxy trust and the modes of the files the app keeps, in one place."""

import os
from contextlib import suppress
from pathlib import Path

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # plotly.js creates two <style> elements: an empty one it fills through the CSSOM (not governed by CSP)
        # and the fixed CSS of its map library. Their hashes allow exactly those, and no other inline style.
        "style-src 'self' "
        + " ".join(
            f"'sha256-{digest}'"
            for digest in (
                "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                "ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o=",
            )
        ),
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Files that are the same for everyone: always cacheable (each says for how long).
STATIC_ENDPOINTS = {"static", "charts.plotly_js", "treatments.form_kit"}
# Public pages with no client data may be cached when nobody is logged in; everything else may not.
PUBLIC_ENDPOINTS = {
    "knowledge.index",
    "knowledge.muscle",
    "knowledge.symptom_checker",
    "api.regions",
    "api.muscles",
    "api.muscle",
    "api.symptom_checker",
}


# Pages anyone may open that must still never be cached: the client's intake form (its URL is a one-time
# credential, and what is typed into it is health data). Not public knowledge pages: never cacheable.
NEVER_CACHED_PUBLIC = {"intake.client_form"}


class SessionCookieNotOnSharedFiles(SecureCookieSessionInterface):
    """Flask's signed-cookie session, left out of the responses that are the same for everyone (STATIC_ENDPOINTS).
    Saved there, it would add `Vary: Cookie` for a cookie signed anew on every response (no cached copy would ever
    match again) and a `Set-Cookie` with the person's session that a shared cache could hand to someone else."""

    def save_session(self, app, session, response) -> None:
        if request.endpoint not in STATIC_ENDPOINTS:
            super().save_session(app, session, response)


def init_security(app: Flask) -> None:
    app.session_interface = SessionCookieNotOnSharedFiles()
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        # Behind a proxy the client's address is in X-Forwarded-For; trust exactly that many hops, never more,
        # or anyone could dodge the login throttle by sending the header themselves.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        public = request.endpoint not in NEVER_CACHED_PUBLIC and (
            request.endpoint in STATIC_ENDPOINTS
            or (request.endpoint in PUBLIC_ENDPOINTS and not current_user.is_authenticated)
        )
        if app.config.get("HSTS_MAX_AGE"):
            response.headers["Strict-Transport-Security"] = f"max-age={app.config['HSTS_MAX_AGE']}"
        if not public:
            response.headers["Cache-Control"] = "no-store"
        elif "Set-Cookie" in response.headers:
            response.headers["Cache-Control"] = "private"
        return response


# Health records and the key that signs sessions: readable by the app's own user only.
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
SECRET_KEY_FILE = "secret_key"  # written by run.sh into instance/


def protect_instance_files(app: Flask) -> None:
    """instance/ 0700; the SQLite database 0600, created so before SQLite first opens it (SQLite gives its WAL
    and shared-memory files the database file's mode); an existing database or secret key tightened to 0600."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    _tighten(instance, PRIVATE_DIRECTORY)
    database = sqlite_file(app)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
        with suppress(FileExistsError):  # an existing database is tightened below
            os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            _tighten(path, PRIVATE_FILE)
    _tighten(instance / SECRET_KEY_FILE, PRIVATE_FILE)


def sqlite_file(app: Flask) -> Path | None:
    """The SQLite database's file (a relative path lies in instance/, as Flask-SQLAlchemy reads it); None for
    another database or an in-memory one."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or "mode=memory" in str(url):
        return None
    path = Path(url.database)
    return path if path.is_absolute() else Path(app.instance_path) / path


def _tighten(path: Path, mode: int) -> None:
    """Take away what others may do with a file of ours; a file we do not own is left to its owner."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return
    if status.st_uid == os.getuid() and status.st_mode & 0o777 & ~mode:
        path.chmod(status.st_mode & 0o777 & mode)
