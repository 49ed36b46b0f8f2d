"""Liveness and readiness probes."""

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .db import get_db
from .errors import error_body

# The URL prefix is given when the blueprint is registered in create_app.
bp = Blueprint("health", __name__)


@bp.get("/live")
def live():
    return {"status": "ok"}


@bp.get("/ready")
def ready():
    try:
        get_db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("readiness check failed")
        body = error_body("database_unavailable", "the database is not reachable")
        return {"status": "unavailable", "checks": {"database": "error"}, **body}, 503
    return {"status": "ok", "checks": {"database": "ok"}}
