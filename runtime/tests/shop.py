"""A small Flask app, written twice: ``flask_app()`` as the original, ``bridged_app()`` with the
blueprint's views converted to native routes the way flask2fastapi writes them."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, g, jsonify, request, session, url_for
from fastapi import APIRouter

from flask2fastapi_runtime import FlaskBridge, FlaskRoute


def login_required(view):
    import functools

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if request.headers.get("Authorization") != "Bearer good":
            return {"error": "unauthorized"}, 401
        return view(*args, **kwargs)

    return wrapped


def _item(item_id: int):
    if item_id == 0:
        abort(404, description="no item 0")
    session["seen"] = item_id
    return jsonify(id=item_id, trail=g.trail, url=url_for("items.get_item", item_id=item_id), q=request.args.get("q"))


def _create():
    data = request.get_json()
    if not isinstance(data, dict) or "name" not in data:
        return {"error": "name is required"}, 400
    return {"name": data["name"], "raw": request.get_data(as_text=True)}, 201


def _secret():
    return {"secret": True}


def _files(name: str):
    return {"path": name}


def _kind(kind: str):
    return {"kind": kind}


def _text():
    return "<p>hello</p>"


def _common(app: Flask, bp: Blueprint) -> None:
    app.secret_key = "test"

    @app.before_request
    def open_trail():
        g.trail = "app"

    @bp.before_request
    def blueprint_trail():
        g.trail += ">bp"

    @app.after_request
    def close_trail(response):
        response.headers["X-Trail"] = g.get("trail", "")
        return response

    @app.errorhandler(404)
    def not_found(error):
        return {"error": "not found", "description": error.description}, 404

    @bp.route("/bridged/<name>")
    def bridged(name):
        return {"bridged": name, "trail": g.trail}


def flask_app() -> Flask:
    app = Flask(__name__)
    bp = Blueprint("items", __name__)
    _common(app, bp)
    bp.add_url_rule("/<int:item_id>", "get_item", _item)
    bp.add_url_rule("/", "create", _create, methods=["POST"])
    bp.add_url_rule("/secret", "secret", login_required(_secret))
    bp.add_url_rule("/files/<path:name>", "files", _files)
    bp.add_url_rule("/kind/<any(a, b):kind>", "kind", _kind)
    bp.add_url_rule("/text", "text", _text)
    app.register_blueprint(bp, url_prefix="/items")
    return app


router = APIRouter(route_class=FlaskRoute)


@router.get("/{item_id}", name="items.get_item")
def get_item(item_id: int):
    return _item(item_id)


@router.post("/", name="items.create")
def create():
    return _create()


@router.get("/secret", name="items.secret")
@login_required
def secret():
    return _secret()


@router.get("/files/{name:path}", name="items.files")
def files(name: str):
    return _files(name)


from typing import Literal  # noqa: E402


@router.get("/kind/{kind}", name="items.kind")
def kind(kind: Literal["a", "b"]):
    return _kind(kind)


@router.get("/text", name="items.text")
def text():
    return _text()


def bridged_app() -> FlaskBridge:
    app = Flask(__name__)
    bp = Blueprint("items", __name__)
    _common(app, bp)
    app.register_blueprint(bp, url_prefix="/items")
    api = FlaskBridge(app)
    api.include_router(router, prefix="/items")
    return api
