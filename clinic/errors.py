"""Error pages: HTML for pages, JSON for the API and .json URLs."""
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from clinic.extensions import db


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if wants_json():
            return jsonify(error=error.name, message=error.description), error.code
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(500)
    def handle_server_error(error):
        db.session.rollback()
        if wants_json():
            return jsonify(error="Internal Server Error", message="Something went wrong; nothing was saved."), 500
        return render_template("errors/error.html", error=None), 500
