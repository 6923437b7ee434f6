"""Security headers and proxy trust, in one place."""

from flask import Flask, Response, request
from flask_login import current_user
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

# Files that are the same for everyone: always cacheable.
STATIC_ENDPOINTS = {"static", "charts.plotly_js"}
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
        public = request.endpoint not in NEVER_CACHED_PUBLIC and (
            request.endpoint in STATIC_ENDPOINTS
            or (request.endpoint in PUBLIC_ENDPOINTS and not current_user.is_authenticated)
        )
        if not public:
            response.headers["Cache-Control"] = "no-store"
        elif "Set-Cookie" in response.headers:
            response.headers["Cache-Control"] = "private"
        return response
