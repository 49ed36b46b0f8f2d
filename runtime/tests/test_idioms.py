"""Views written as FastAPI code answer as their Flask originals did, inside Flask's request cycle:
the app's hooks and error handlers apply to them (issue 10, "idiomatic routes")."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.testclient import TestClient
from flask import Flask

from flask2fastapi_runtime import FlaskBridge, FlaskRoute


def _app(*views: tuple[str, Any], **route_options: Any) -> tuple[Flask, FlaskBridge]:
    """A Flask app with an after_request hook, serving ``views`` as native GET routes."""
    app = Flask(__name__)
    app.after_request(_mark)
    router = APIRouter(route_class=FlaskRoute)
    for path, view in views:
        # a name no other test's route has: a bridge takes every live native route whose name
        # and path it serves as its own, whatever its methods
        router.get(path, name=f"idioms.{next(_NAMES)}", **route_options)(view)
    api = FlaskBridge(app)
    api.include_router(router)
    return app, api


_NAMES = itertools.count()


def _mark(response: Any) -> Any:
    response.headers["X-After"] = "yes"
    return response


# -- what a native view returns (responses) --------------------------------------------------------


def test_sub_response_of_a_dependency_and_a_returned_response() -> None:
    """A cookie a dependency sets on the sub-response reaches Flask's response; as under FastAPI,
    not when the view returns a response of its own."""

    def remember(response: Response) -> None:
        response.set_cookie("seen", "1", samesite=None)

    def plain(_: None = Depends(remember)):
        return {"plain": True}

    def own(_: None = Depends(remember)):
        return JSONResponse({"own": True}, status_code=200)

    app, api = _app(("/plain", plain), ("/own", own), status_code=201)
    client = TestClient(api)
    answered = client.get("/plain")
    assert (answered.status_code, answered.headers["set-cookie"], answered.headers["x-after"]) == (
        201, "seen=1; Path=/", "yes"
    )
    answered = client.get("/own")
    assert (answered.status_code, answered.json(), answered.headers.get("set-cookie")) == (200, {"own": True}, None)


def test_declared_status_only_for_plain_bodies() -> None:
    """``status_code=201`` applies to a dict, list or str; a tuple or a response keeps its own."""
    from flask import jsonify

    app, api = _app(
        ("/dict", lambda: {"a": 1}),
        ("/list", lambda: [1]),
        ("/str", lambda: "s"),
        ("/tuple", lambda: ({"a": 1}, 200)),
        ("/jsonify", lambda: jsonify(a=1)),
        status_code=201,
    )
    client = TestClient(api)
    assert [client.get(path).status_code for path in ("/dict", "/list", "/str", "/tuple", "/jsonify")] == [
        201, 201, 201, 200, 200
    ]
    _, default = _app(("/dict", lambda: {"a": 1}))
    assert TestClient(default).get("/dict").status_code == 200


def test_starlette_responses_keep_what_they_say() -> None:
    """Status, body, every header (repeated Set-Cookie, no Content-Type where none was given),
    and after_request hooks see the response."""

    def cookies():
        response = Response(b"raw", status_code=202, headers={"X-Own": "1"})
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    def empty():
        return Response(status_code=204)

    app, api = _app(("/cookies", cookies), ("/empty", empty))
    client = TestClient(api)
    answered = client.get("/cookies")
    assert (answered.status_code, answered.content, answered.headers["x-own"]) == (202, b"raw", "1")
    assert answered.headers.get_list("set-cookie") == ["a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"]
    assert "content-type" not in answered.headers and answered.headers["x-after"] == "yes"
    answered = client.get("/empty")
    assert (answered.status_code, answered.content, answered.headers.get("content-type")) == (204, b"", None)


def test_background_tasks_run_after_the_response() -> None:
    from starlette.background import BackgroundTask

    done: list[str] = []

    def returned():
        return JSONResponse({"ok": True}, background=BackgroundTask(done.append, "returned"))

    def injected(tasks: BackgroundTasks):
        tasks.add_task(done.append, "injected")
        return {"ok": True}

    _, api = _app(("/returned", returned), ("/injected", injected))
    client = TestClient(api)
    assert client.get("/returned").json() == client.get("/injected").json() == {"ok": True}
    assert done == ["returned", "injected"]


def test_a_file_response_is_a_clear_error(tmp_path: Any) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a")
    app, api = _app(("/file", lambda: FileResponse(path)))
    app.testing = True  # Flask lets the view's error through to the test
    with pytest.raises(TypeError, match="send_file"):
        TestClient(api).get("/file")


def test_a_bridged_view_returning_a_starlette_response_is_flasks_type_error() -> None:
    """Documented: bridged views are Flask code; Flask's make_response refuses the response."""
    app, api = _app()
    app.add_url_rule("/bridged", "bridged", lambda: JSONResponse({"a": 1}))
    app.testing = True
    with pytest.raises(TypeError, match="did not return a valid response"):
        TestClient(api).get("/bridged")


# -- dependencies and the Starlette request of a native view ---------------------------------------


def test_yield_dependency_open_during_the_view_and_shared() -> None:
    """A DB session of a yield dependency: one per request, the same in the view and in another
    dependency, open while Flask's cycle runs the view, closed once the response is sent."""

    class Session:
        def __init__(self) -> None:
            self.open = True

    sessions: list[Session] = []

    def get_db():
        session = Session()
        sessions.append(session)
        try:
            yield session
        finally:
            session.open = False

    def repository(db: Session = Depends(get_db)) -> Session:
        return db

    def view(db: Session = Depends(get_db), repo: Session = Depends(repository)):
        from flask import g

        g.seen = True  # inside Flask's request context
        return {"same": db is repo, "open": db.open}

    _, api = _app(("/db", view))
    client = TestClient(api)
    assert client.get("/db").json() == {"same": True, "open": True}
    assert api.test_client().get("/db").get_json() == {"same": True, "open": True}
    assert len(sessions) == 2 and not any(session.open for session in sessions)


def test_the_starlette_request_of_a_native_view() -> None:
    """``request.state`` set by a dependency, ``request.app`` the bridge (Flask's config through
    it), ``url_path_for`` a native route's path as Flask's ``url_for`` builds it."""
    from flask import url_for

    def tag(request: Request) -> None:
        request.state.tag = "from the dependency"

    router = APIRouter(route_class=FlaskRoute)

    @router.get("/items/{item_id}", name="items.get_item")
    def get_item(item_id: int, request: Request, _: None = Depends(tag)):
        return {
            "tag": request.state.tag,
            "bridge": request.app is api,
            "config": request.app.config["NAME"],
            "path": str(request.app.url_path_for("items.get_item", item_id=1)),
            "url_for": url_for("items.get_item", item_id=1),
        }

    app = Flask(__name__)
    app.config["NAME"] = "notes"
    api = FlaskBridge(app)
    api.include_router(router, prefix="/v1")
    assert TestClient(api).get("/v1/items/7").json() == {
        "tag": "from the dependency", "bridge": True, "config": "notes", "path": "/v1/items/1", "url_for": "/v1/items/1"
    }
