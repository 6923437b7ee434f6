"""Error pages: HTML for pages, JSON for the API and .json URLs."""

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Conflict, HTTPException

from clinic.audit import store_denied
from clinic.concurrency import StaleRecordError
from clinic.extensions import db


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json") or request.is_json


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if error.code == 404:
            store_denied()
        if wants_json():
            return jsonify(error=error.name, message=error.description), error.code
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(StaleRecordError)
    @app.errorhandler(StaleDataError)
    def handle_stale(_error):
        """A conflict no view answered itself (the edit views do, keeping the typed changes): never a 500."""
        db.session.rollback()
        return handle_http_error(Conflict("This record was changed by someone else; nothing was saved."))

    @app.errorhandler(500)
    def handle_server_error(error):
        db.session.rollback()
        if wants_json():
            return jsonify(error="Internal Server Error", message="Something went wrong; nothing was saved."), 500
        return render_template("errors/error.html", error=None), 500


def unauthorized():
    """Not logged in: JSON asks for a login with 401; a page goes to the login form and comes back."""
    if wants_json():
        return jsonify(error="Unauthorized", message="Log in first."), 401
    flash("Please log in to continue.", "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
