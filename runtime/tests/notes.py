"""A small notes API, written twice: ``flask_app()`` the Flask way (abort, jsonify, tuple returns,
``g.user`` set by a decorator) and ``bridged_app()`` with its blueprint's views rewritten as a
FastAPI engineer writes them (dependencies raising HTTPException, ``status_code=`` on the route,
``response: Response``, Starlette responses, ``request: Request``), served by a FlaskBridge.
The app's hooks, error handlers and one bridged view are Flask's in both."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from flask import Blueprint, Flask, abort, current_app, g, jsonify, make_response, redirect, request, url_for
from flask import Response as FlaskResponse
from werkzeug.exceptions import HTTPException as WerkzeugHTTPException

from flask2fastapi_runtime import FlaskBridge, FlaskRoute

USERS = {"ann-token": "ann", "bob-token": "bob"}
CSV_HEADERS = {"Content-Disposition": "attachment; filename=notes.csv"}


def _common(app: Flask, bp: Blueprint, forbid: Callable[[], Any], find: Callable[[int], dict]) -> None:
    app.secret_key = "test"
    app.config["NOTES"] = {1: {"id": 1, "owner": "ann", "text": "hello"}, 2: {"id": 2, "owner": "bob", "text": "hi"}}
    app.config["PAGE_SIZE"] = 5

    @app.before_request
    def maintenance():
        if request.headers.get("X-Maintenance"):
            return {"error": "down for maintenance"}, 503
        g.trail = "app"
        return None

    @app.before_request
    def banned():
        if request.headers.get("X-Banned"):
            forbid()

    @bp.before_request
    def blueprint_trail():
        g.trail += ">bp"

    @app.after_request
    def close_trail(response):
        response.headers["X-Trail"] = g.get("trail", "-")
        return response

    @app.errorhandler(401)
    def unauthorized(error):
        return {"error": "unauthorized", "description": error.description}, 401

    @app.errorhandler(404)
    def not_found(error):
        return {"error": "not found", "description": error.description}, 404

    @bp.errorhandler(Exception)
    def anything_else(error):  # the pattern of Flask's docs: an HTTP error answers as itself
        if isinstance(error, WerkzeugHTTPException):
            return error
        return {"error": "internal"}, 500

    def public(note_id: int):  # stays a Flask view in both apps
        return {"text": find(note_id)["text"]}

    bp.add_url_rule("/<int:note_id>/public", "public", public)


def _add(store: dict, owner: str, text: str) -> dict:
    note = {"id": max(store, default=0) + 1, "owner": owner, "text": text}
    store[note["id"]] = note
    return note


# -- the Flask original ------------------------------------------------------------------------


def _find(note_id: int) -> dict:
    note = current_app.config["NOTES"].get(note_id)
    if note is None:
        abort(404, description=f"no note {note_id}")
    return note


def _owned(note_id: int) -> dict:
    note = _find(note_id)
    if note["owner"] != g.user:
        abort(403)
    return note


def login_required(view):
    @functools.wraps(view)
    def wrapped(**kwargs):
        user = USERS.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if user is None:
            abort(401, description="a token is required")
        g.user = user
        return view(**kwargs)

    return wrapped


@login_required
def _list_notes():
    mine = [n for n in current_app.config["NOTES"].values() if n["owner"] == g.user]
    return jsonify(notes=mine[: current_app.config["PAGE_SIZE"]], user=g.user)


@login_required
def _me():
    return jsonify(user=g.user)


@login_required
def _get_note(note_id):
    return jsonify(_owned(note_id))


@login_required
def _create_note():
    data = request.get_json()
    if not data.get("text"):
        abort(400, description="text is required")
    store = current_app.config["NOTES"]
    if any(n["text"] == data["text"] for n in store.values()):
        abort(409, description="a note with this text exists")
    note = _add(store, g.user, data["text"])
    return jsonify(note), 202 if data.get("draft") else 201, {"Location": url_for("notes.get_note", note_id=note["id"])}


@login_required
def _delete_note(note_id):
    _owned(note_id)
    del current_app.config["NOTES"][note_id]
    return "", 204


@login_required
def _note_text(note_id):
    response = make_response(_owned(note_id)["text"])
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie("last_note", str(note_id))
    response.set_cookie("last_user", g.user)
    return response


@login_required
def _note_plain(note_id):
    return _owned(note_id)["text"], {"Content-Type": "text/plain; charset=utf-8"}


@login_required
def _go(note_id):
    return redirect(url_for("notes.get_note", note_id=note_id))


@login_required
def _export():
    rows = [f"{n['id']},{n['text']}\n" for n in current_app.config["NOTES"].values() if n["owner"] == g.user]
    return FlaskResponse(iter(rows), mimetype="text/csv", headers=CSV_HEADERS)


@login_required
def _count():
    count = sum(n["owner"] == g.user for n in current_app.config["NOTES"].values())
    return jsonify(user=g.user, count=count), {"X-Count": str(count)}


def flask_app() -> Flask:
    app = Flask(__name__)
    bp = Blueprint("notes", __name__)
    _common(app, bp, lambda: abort(403), _find)
    bp.add_url_rule("/", "list_notes", _list_notes)
    bp.add_url_rule("/me", "me", _me)
    bp.add_url_rule("/<int:note_id>", "get_note", _get_note)
    bp.add_url_rule("/", "create_note", _create_note, methods=["POST"])
    bp.add_url_rule("/<int:note_id>", "delete_note", _delete_note, methods=["DELETE"])
    bp.add_url_rule("/<int:note_id>/text", "note_text", _note_text)
    bp.add_url_rule("/<int:note_id>/plain", "note_plain", _note_plain)
    bp.add_url_rule("/<int:note_id>/go", "go", _go)
    bp.add_url_rule("/export", "export", _export)
    bp.add_url_rule("/export-async", "export_async", _export)
    bp.add_url_rule("/count", "count", _count)
    app.register_blueprint(bp, url_prefix="/notes")
    return app


# -- the same views, written as FastAPI code -----------------------------------------------------


def current_user(request: Request) -> str:
    user = USERS.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
    if user is None:
        raise HTTPException(status_code=401, detail="a token is required")
    request.state.user = user
    return user


def get_store(request: Request) -> dict:
    return request.app.config["NOTES"]


def find(store: dict, note_id: int) -> dict:
    note = store.get(note_id)
    if note is None:
        raise HTTPException(status_code=404, detail=f"no note {note_id}")
    return note


def owned(store: dict, note_id: int, user: str) -> dict:
    note = find(store, note_id)
    if note["owner"] != user:
        raise HTTPException(status_code=403)
    return note


def _forbid() -> None:
    raise HTTPException(status_code=403)


router = APIRouter(route_class=FlaskRoute)


@router.get("/", name="notes.list_notes")
def list_notes(request: Request, user: str = Depends(current_user), store: dict = Depends(get_store)):
    mine = [n for n in store.values() if n["owner"] == request.state.user]
    return {"notes": mine[: request.app.config["PAGE_SIZE"]], "user": user}


@router.get("/me", name="notes.me")
def me(user: str = Depends(current_user)):
    return {"user": user}


@router.get("/{note_id}", name="notes.get_note")
def get_note(note_id: int, user: str = Depends(current_user), store: dict = Depends(get_store)):
    return owned(store, note_id, user)


@router.post("/", name="notes.create_note", status_code=201)
def create_note(
    request: Request,
    response: Response,
    payload: dict = Body(...),
    user: str = Depends(current_user),
    store: dict = Depends(get_store),
):
    if not payload.get("text"):
        raise HTTPException(status_code=400, detail="text is required")
    if any(n["text"] == payload["text"] for n in store.values()):
        raise HTTPException(status_code=409, detail="a note with this text exists")
    note = _add(store, user, payload["text"])
    if payload.get("draft"):
        response.status_code = 202
    response.headers["Location"] = request.app.url_path_for("notes.get_note", note_id=note["id"])
    return note


@router.delete("/{note_id}", name="notes.delete_note", status_code=204)
def delete_note(note_id: int, user: str = Depends(current_user), store: dict = Depends(get_store)) -> None:
    owned(store, note_id, user)
    del store[note_id]


@router.get("/{note_id}/text", name="notes.note_text")
def note_text(note_id: int, response: Response, user: str = Depends(current_user), store: dict = Depends(get_store)):
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie("last_note", str(note_id), samesite=None)  # werkzeug's default: no SameSite
    response.set_cookie("last_user", user, samesite=None)
    return owned(store, note_id, user)["text"]


@router.get("/{note_id}/plain", name="notes.note_plain")
def note_plain(note_id: int, user: str = Depends(current_user), store: dict = Depends(get_store)):
    return PlainTextResponse(owned(store, note_id, user)["text"])


@router.get("/{note_id}/go", name="notes.go")
def go(note_id: int, request: Request, user: str = Depends(current_user)):
    return RedirectResponse(request.app.url_path_for("notes.get_note", note_id=note_id), status_code=302)


def _rows(store: dict, user: str) -> list[str]:
    return [f"{n['id']},{n['text']}\n" for n in store.values() if n["owner"] == user]


@router.get("/export", name="notes.export")
def export(user: str = Depends(current_user), store: dict = Depends(get_store)):
    return StreamingResponse(iter(_rows(store, user)), media_type="text/csv", headers=CSV_HEADERS)


@router.get("/export-async", name="notes.export_async")
def export_async(user: str = Depends(current_user), store: dict = Depends(get_store)):
    rows = _rows(store, user)

    async def generate() -> AsyncIterator[str]:
        for row in rows:
            yield row

    return StreamingResponse(generate(), media_type="text/csv", headers=CSV_HEADERS)


@router.get("/count", name="notes.count")
def count(user: str = Depends(current_user), store: dict = Depends(get_store)):
    number = sum(n["owner"] == user for n in store.values())
    return JSONResponse({"user": user, "count": number}, headers={"X-Count": str(number)})


def bridged_app() -> FlaskBridge:
    app = Flask(__name__)
    bp = Blueprint("notes", __name__)
    _common(app, bp, _forbid, lambda note_id: find(current_app.config["NOTES"], note_id))
    app.register_blueprint(bp, url_prefix="/notes")
    api = FlaskBridge(app)
    api.include_router(router, prefix="/notes")
    return api
