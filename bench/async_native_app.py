"""A tiny app for the CPU benchmark of an async native route (issue 11, the runtime's fast path).

``flask_app()`` is the original: a blueprint's plain Flask view, a path and a query parameter, a
dict as JSON. ``bridged_app()`` is the shape a conversion leaves: the same app behind a
FlaskBridge, the view an ``async def`` native route. The Flask app registers nothing that acts on
the request, so the runtime may answer it without Flask's cycle; ``bridged_app_with_hook()``
adds one after_request hook (it only sets a header, on both shapes), which keeps the slow path.
"""

from __future__ import annotations

from fastapi import APIRouter
from flask import Blueprint, Flask

from flask2fastapi_runtime import FlaskBridge, FlaskRoute


def _answer(item_id: int, q: str | None) -> dict:
    return {"id": item_id, "q": q, "name": f"item {item_id}", "tags": ["a", "b"]}


def flask_app(hook: bool = False) -> Flask:
    from flask import request

    app = Flask(__name__)
    bp = Blueprint("items", __name__)
    bp.add_url_rule("/<int:item_id>", "get_item", lambda item_id: _answer(item_id, request.args.get("q")))
    app.register_blueprint(bp, url_prefix="/items")
    _hook(app, hook)
    app.add_url_rule("/ready", "ready", lambda: "ok")
    return app


router = APIRouter(route_class=FlaskRoute)


@router.get("/{item_id}", name="items.get_item")
async def get_item(item_id: int, q: str | None = None):
    return _answer(item_id, q)


def bridged_app(hook: bool = False) -> FlaskBridge:
    app = Flask(__name__)
    app.register_blueprint(Blueprint("items", __name__), url_prefix="/items")
    _hook(app, hook)
    app.add_url_rule("/ready", "ready", lambda: "ok")
    api = FlaskBridge(app)
    api.include_router(router, prefix="/items")
    return api


def flask_app_with_hook() -> Flask:
    return flask_app(hook=True)


def bridged_app_with_hook() -> FlaskBridge:
    return bridged_app(hook=True)


def _hook(app: Flask, hook: bool) -> None:
    if hook:
        @app.after_request
        def stamp(response):
            response.headers["X-Stamp"] = "1"
            return response
