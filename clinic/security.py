"""Security headers, the idle timeout and the one-transaction-per-request rule, in one place."""
from flask import Flask, Response, request, session
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# Public pages with no client data may be cached; everything else may not.
PUBLIC_CACHEABLE_ENDPOINTS = {
    "static", "knowledge.index", "knowledge.muscle", "knowledge.symptom_checker",
    "api.regions", "api.muscles", "api.muscle", "api.symptom_checker",
}


def init_security(app: Flask) -> None:
    @app.before_request
    def keep_session_alive() -> None:
        # A permanent session expires PERMANENT_SESSION_LIFETIME after the last request: the idle timeout.
        session.permanent = True

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if request.endpoint not in PUBLIC_CACHEABLE_ENDPOINTS or current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response
