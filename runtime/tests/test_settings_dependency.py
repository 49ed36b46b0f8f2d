"""``settings: Settings`` gives a native view the mapping Flask's ``current_app.config`` was: the
Flask app's live config, changes made after the app was built included; an app without Flask
gives its own through ``app.state.settings``."""

from __future__ import annotations

import inspect

import pytest
from a2wsgi import WSGIMiddleware
from fastapi import APIRouter, FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from flask import Flask, Response, current_app, stream_with_context

from flask2fastapi_runtime import FlaskBridge, FlaskRoute, Settings, app_settings, settings_of


class Config:
    GREETING = "hello"
    PAGE_SIZE = 20


def flask_app() -> Flask:
    app = Flask(__name__)
    app.config.from_object(Config)

    @app.get("/greet")
    def greet():
        return {"greeting": current_app.config["GREETING"], "size": current_app.config.get("PAGE_SIZE", 10)}

    @app.get("/stream")
    def stream():
        def generate():  # runs after the view returned
            yield current_app.config["GREETING"]

        return Response(stream_with_context(generate()), mimetype="text/plain")

    return app


def converted_app() -> FlaskBridge:
    app = Flask(__name__)
    app.config.from_object(Config)
    api = FlaskBridge(app)
    router = APIRouter(route_class=FlaskRoute)

    @router.get("/greet", name="greet")
    def greet(settings: Settings):
        return {"greeting": settings["GREETING"], "size": settings.get("PAGE_SIZE", 10)}

    @router.get("/stream", name="stream")
    def stream(settings: Settings):
        def generate():
            yield settings["GREETING"]

        return StreamingResponse(generate(), media_type="text/plain; charset=utf-8")

    @router.get("/same", name="same")
    def same(settings: Settings):
        return {"same": settings is current_app.config}  # the view runs in Flask's context

    api.include_router(router)
    return api


def answers(client: TestClient) -> list[tuple[int, str]]:
    return [(r.status_code, r.text) for r in (client.get("/greet"), client.get("/stream"))]


def test_a_view_reads_what_current_app_config_gave() -> None:
    original, converted = flask_app(), converted_app()
    flask_client, bridge_client = TestClient(WSGIMiddleware(original)), TestClient(converted)
    assert answers(bridge_client) == answers(flask_client)
    assert bridge_client.get("/greet").json() == {"greeting": "hello", "size": 20}
    # changed after the app was built, as a test does: both see it, streamed bodies too
    for app in (original, converted):
        app.config.update(GREETING="bonjour")
        del app.config["PAGE_SIZE"]
    assert answers(bridge_client) == answers(flask_client)
    assert bridge_client.get("/greet").json() == {"greeting": "bonjour", "size": 10}
    assert bridge_client.get("/stream").text == "bonjour"


def test_the_mapping_is_the_flask_apps_config_object() -> None:
    api = converted_app()
    assert TestClient(api).get("/same").json() == {"same": True}
    assert settings_of(api) is api.flask_app.config


def test_an_app_gives_its_own_settings_through_its_state() -> None:
    app = FastAPI()
    app.state.settings = {"GREETING": "hi"}

    @app.get("/greet")
    def greet(settings: Settings):
        return {"greeting": settings["GREETING"]}

    assert TestClient(app).get("/greet").json() == {"greeting": "hi"}
    bridge = converted_app()
    bridge.state.settings = {"GREETING": "its own"}  # chosen over the Flask app's config
    assert TestClient(bridge).get("/greet").json() == {"greeting": "its own", "size": 10}


def test_an_app_without_settings_says_so() -> None:
    with pytest.raises(LookupError, match="app.state.settings"):
        settings_of(FastAPI())


def test_the_dependency_takes_no_thread_pool_call() -> None:
    # FastAPI runs a plain def dependency in the thread pool; a coroutine function on the loop
    assert inspect.iscoroutinefunction(app_settings)
