"""Knotwork: practice management for myofascial trigger point therapy."""

import gc
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from clinic import transactions
from clinic.config import CONFIGS, ConfigError
from clinic.extensions import csrf, db, login_manager, migrate


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    config_name = config_name or os.environ.get("KNOTWORK_CONFIG") or "development"
    if config_name not in CONFIGS:
        raise ConfigError(f"KNOTWORK_CONFIG must be one of {', '.join(CONFIGS)} (got {config_name!r})")
    # The config object reads the environment now, not when clinic.config was imported.
    app.config.from_object(CONFIGS[config_name]())
    app.config.update(overrides or {})
    check_config(app)
    protect_files(app)

    register_extensions(app)
    register_knowledge_base(app)
    register_params(app)
    register_blueprints(app)
    register_security(app)
    register_error_handlers(app)
    register_cli(app)
    register_template_helpers(app)
    register_gc_freeze(app)
    return app


def register_gc_freeze(app: Flask) -> None:
    """Production: move what start-up built (modules, the knowledge base, the app) out of the garbage collector's
    sight, and again after the first requests (compiled templates and statements, built-once page data).
    A long record's page allocates tens of thousands of objects; each full collection would otherwise walk
    every long-lived object too (measured: the 1,195-session summary's median 124 -> 64 ms in process)."""
    if not app.config.get("GC_FREEZE"):
        return
    gc.collect()
    gc.freeze()
    state = {"requests": 0}

    @app.teardown_request
    def _freeze_after_warm_up(_error=None) -> None:
        if state["requests"] < GC_FREEZE_AFTER_REQUESTS:
            state["requests"] += 1
            if state["requests"] == GC_FREEZE_AFTER_REQUESTS:
                gc.collect()
                gc.freeze()


GC_FREEZE_AFTER_REQUESTS = 50  # per worker process


def check_config(app: Flask) -> None:
    """Refuse to start on a setting that would otherwise fail later, on every page."""
    try:
        ZoneInfo(app.config["CLINIC_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"CLINIC_TIMEZONE {app.config['CLINIC_TIMEZONE']!r} is not a known time zone") from error


def protect_files(app: Flask) -> None:
    """instance/ 0700 and the SQLite database 0600, before anything opens it."""
    from clinic.security import protect_instance_files

    protect_instance_files(app)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    transactions.register(app)  # after db.init_app: its teardown runs before Flask-SQLAlchemy's

    from clinic.auth.services import load_user
    from clinic.errors import unauthorized

    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    """WAL lets readers and a writer work at once; the busy timeout waits for a lock instead of failing."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register_knowledge_base(app: Flask) -> None:
    """Load and validate knowledge/ now, so a broken file stops start-up with its file, line and reason."""
    from clinic.kb import load_for_app

    app.extensions["knowledge_base"] = load_for_app(Path(app.config["KNOWLEDGE_DIR"]))


def register_params(app: Flask) -> None:
    from clinic.params import init_params

    init_params(app)


def register_blueprints(app: Flask) -> None:
    from clinic.account import bp as account_bp
    from clinic.admin import bp as admin_bp
    from clinic.api import bp as api_bp
    from clinic.appointments import bp as appointments_bp
    from clinic.auth import bp as auth_bp
    from clinic.charts import bp as charts_bp
    from clinic.clients import bp as clients_bp
    from clinic.intake import bp as intake_bp
    from clinic.knowledge import bp as knowledge_bp
    from clinic.reports import bp as reports_bp
    from clinic.treatments import bp as treatments_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(treatments_bp)
    app.register_blueprint(charts_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(knowledge_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(appointments_bp)
    app.register_blueprint(intake_bp)


def register_security(app: Flask) -> None:
    from clinic.logins import init_gate
    from clinic.security import init_security

    init_security(app)
    init_gate(app)


def register_error_handlers(app: Flask) -> None:
    from clinic.errors import init_error_handlers

    init_error_handlers(app)


def register_cli(app: Flask) -> None:
    from clinic.cli import init_cli

    init_cli(app)


def register_template_helpers(app: Flask) -> None:
    from clinic.templating import init_templating

    init_templating(app)
