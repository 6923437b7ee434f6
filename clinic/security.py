"""Security headers and proxy trust, in one place."""
from flask import Flask, Response, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

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

# Public pages with no client data may be cached when nobody is logged in; everything else may not.
PUBLIC_ENDPOINTS = {
    "knowledge.index", "knowledge.muscle", "knowledge.symptom_checker",
    "api.regions", "api.muscles", "api.muscle", "api.symptom_checker",
}


def init_security(app: Flask) -> None:
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
        public = request.endpoint == "static" or (
            request.endpoint in PUBLIC_ENDPOINTS and not current_user.is_authenticated)
        if not public:
            response.headers["Cache-Control"] = "no-store"
        elif "Set-Cookie" in response.headers:
            response.headers["Cache-Control"] = "private"
        return response
