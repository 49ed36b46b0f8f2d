"""A Flask chatbot API: users, conversations and LLM-backed replies."""

import os
import re
import time
import uuid
from collections.abc import Mapping

from flask import Flask, g, request
from flask_cors import CORS

from . import auth, chat, conversations, db, errors, health
from .config import Config

REQUEST_ID_HEADER = "X-Request-ID"
RESPONSE_TIME_HEADER = "X-Response-Time-ms"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def create_app(config=None) -> Flask:
    """Application factory.

    `config` may be a config class/object, an import string, or a mapping of
    overrides. Without it, `instance/config.py` is loaded if present.
    """
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.from_object(Config)
    if config is None:
        app.config.from_pyfile("config.py", silent=True)
    elif isinstance(config, Mapping):
        app.config.from_mapping(config)
    else:
        app.config.from_object(config)

    if not app.config.get("DATABASE_URL"):
        os.makedirs(app.instance_path, exist_ok=True)
        db_path = os.path.join(app.instance_path, "chatbot.sqlite3")
        app.config["DATABASE_URL"] = f"sqlite:///{db_path}"

    app.logger.setLevel(app.config["LOG_LEVEL"])

    CORS(
        app,
        origins=app.config["CORS_ORIGINS"],
        supports_credentials=app.config["CORS_SUPPORTS_CREDENTIALS"],
        expose_headers=[REQUEST_ID_HEADER, RESPONSE_TIME_HEADER],
    )

    db.init_app(app)
    errors.init_app(app)

    @app.before_request
    def start_request():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def finish_request(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        started = g.get("request_started")
        elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        response.headers[REQUEST_ID_HEADER] = request_id
        # For streamed responses this is the time until the headers were sent.
        response.headers[RESPONSE_TIME_HEADER] = f"{elapsed_ms:.2f}"
        app.logger.info(
            "%s %s -> %s in %.2f ms [%s]",
            request.method, request.path, response.status_code, elapsed_ms, request_id,
        )
        return response

    app.register_blueprint(auth.bp)
    app.register_blueprint(conversations.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(health.bp, url_prefix="/health")

    return app
