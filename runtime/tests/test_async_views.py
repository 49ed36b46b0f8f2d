"""Async native views: run on the event loop before Flask's cycle, answered by it (routing)."""

import asyncio
import threading

from fastapi import APIRouter, HTTPException
from fastapi.testclient import TestClient
from flask import Flask, jsonify

from flask2fastapi_runtime import FlaskBridge, FlaskRoute


def make(before_hook: bool = False):
    app = Flask(__name__)
    bridge = FlaskBridge(app)
    router = APIRouter(route_class=FlaskRoute)
    seen = {}

    @router.get("/slow/{n}", name="slow")
    async def slow(n: int):
        seen["thread"] = threading.get_ident()
        await asyncio.sleep(0)
        if n == 0:
            raise HTTPException(status_code=404, detail="nothing")
        return jsonify(n=n)  # a helper on its path may still use Flask: its context is there

    @app.after_request
    def stamp(response):
        response.headers["X-After"] = "1"
        return response

    @app.errorhandler(404)
    def not_found(error):
        return {"error": error.description}, 404

    if before_hook:
        @app.before_request
        def hook():
            return None

    bridge.include_router(router)
    return bridge, seen


def test_an_async_view_runs_on_the_loop_and_flask_answers_with_what_it_returned():
    bridge, seen = make()
    with TestClient(bridge) as client:
        response = client.get("/slow/3")
        assert response.status_code == 200 and response.json() == {"n": 3}
        assert response.headers["X-After"] == "1"  # Flask's after_request hook still ran
        loop_thread = client.portal.call(lambda: threading.get_ident())
    assert seen["thread"] == loop_thread  # not a thread-pool thread


def test_what_an_async_view_raises_is_answered_by_flask_error_handlers():
    bridge, _ = make()
    with TestClient(bridge) as client:
        response = client.get("/slow/0")
    assert response.status_code == 404
    assert response.json() == {"error": "nothing"}
    assert response.headers["X-After"] == "1"


def test_an_app_with_before_request_hooks_refuses_async_views_by_name(caplog):
    """The hooks would run after the view: the request fails (500) and the log says why."""
    bridge, seen = make(before_hook=True)
    with TestClient(bridge, raise_server_exceptions=False) as client:
        response = client.get("/slow/3")
    assert response.status_code == 500
    assert "thread" not in seen  # the view never ran
    assert "slow is an async view" in caplog.text and "before_request" in caplog.text
