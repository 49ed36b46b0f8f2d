"""httpauth: the dependencies answer every request as Flask-HTTPAuth's decorators did. The same
callbacks are registered on Flask-HTTPAuth's objects (a Flask app) and on the runtime's (a
NativeApp), and both apps are asked the same requests."""

import functools
from base64 import b64encode

import flask
import flask_httpauth
import pytest
from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from typing import Annotated, Any

from flask2fastapi_runtime import NativeApp, httpauth

USERS = {"ann": ("ann-pw", ["user"]), "root": ("root-pw", ["user", "admin"]), "zoë": ("pässword", ["user"])}
TOKENS = {"t-ann": "ann", "t-root": "root", "tok=": "ann"}


def basic(user, password, scheme="Basic", encoding="utf-8"):
    return {"Authorization": f"{scheme} " + b64encode(f"{user}:{password}".encode(encoding)).decode()}


HEADERS = [
    {},
    basic("ann", "ann-pw"),
    basic("root", "root-pw"),
    basic("ann", "nope"),
    basic("ann", "ann-pw", scheme="Token"),  # Flask-HTTPAuth's Basic reads any scheme
    basic("ann", "ann-pw", scheme="basic"),
    basic("zoë", "pässword"),
    basic("zoë", "pässword", encoding="latin1"),
    {"Authorization": "Basic not-base64!"},
    {"Authorization": "Basic"},
    {"Authorization": ""},
    {"Authorization": "Bearer t-ann"},
    {"Authorization": "bearer t-root"},
    {"Authorization": "Bearer   t-root  "},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer tok="},
    {"Authorization": "Bearer a=b"},
    {"Authorization": "Bearer t-nobody"},
    {"Authorization": "Token t-ann"},
    {"X-Key": "t-root"},
    {"X-Key": "t-ann", "Authorization": "Bearer t-root"},
]
# (path, the objects' names, login_required's options)
ROUTES = [
    ("/basic", "basic", {}),
    ("/basic-admin", "basic", {"role": "admin"}),
    ("/basic-any", "basic", {"role": ["nobody", ["user", "admin"]]}),
    ("/token", "token", {}),
    ("/token-admin", "token", {"role": "admin"}),
    ("/token-optional", "token", {"optional": True}),
    ("/token-optional-admin", "token", {"optional": True, "role": "admin"}),
    ("/header", "header", {}),
    ("/custom-scheme", "custom", {"role": "admin"}),
    ("/multi", "multi", {}),
    ("/multi-admin", "multi", {"role": "admin"}),
]


def register(module):
    """The four objects of ``module`` (Flask-HTTPAuth or the runtime's), with one set of callbacks."""
    basic_auth = module.HTTPBasicAuth(realm="People")
    token_auth = module.HTTPTokenAuth()
    header_auth = module.HTTPTokenAuth(header="X-Key")
    custom_auth = module.HTTPTokenAuth(scheme="Token")
    multi_auth = module.MultiAuth(token_auth, basic_auth, header_auth)

    @basic_auth.verify_password
    def verify_password(username, password):
        known = USERS.get(username)
        return username if known and known[0] == password else None

    def verify_token(token):
        return TOKENS.get(token)

    def roles(user):
        return USERS[user][1]

    for auth in (basic_auth, token_auth, header_auth, custom_auth):
        auth.get_user_roles(roles)
    for auth in (token_auth, header_auth, custom_auth):
        auth.verify_token(verify_token)

    @token_auth.error_handler
    def token_error(status):
        return {"error": "token refused", "status": status}, status

    @header_auth.error_handler
    def header_error():
        return "no key"

    return {"basic": basic_auth, "token": token_auth, "header": header_auth, "custom": custom_auth, "multi": multi_auth}


def flask_app():
    app = flask.Flask(__name__)
    objects = register(flask_httpauth)

    @app.errorhandler(401)
    def unauthorized(error):  # never sees Flask-HTTPAuth's refusals
        return {"error": "app handler"}, 401

    for path, name, options in ROUTES:
        auth = objects[name]

        def view(auth=auth):
            return {"user": auth.current_user()}

        app.add_url_rule(path, path, auth.login_required(**options)(view), methods=["GET", "OPTIONS"])
    return app


def fastapi_app():
    app = NativeApp(__name__, static_folder=None)
    objects = register(httpauth)

    @app.exception_handler(401)
    def unauthorized(request, error):
        return JSONResponse({"error": "app handler"}, status_code=401)  # never sees the refusals

    for path, name, options in ROUTES:

        def view(user: Annotated[Any, Depends(objects[name].login_required(**options))]):
            return {"user": user}

        app.add_api_route(path, view, methods=["GET", "OPTIONS"])
    return app


def answer(response):
    body = response.data if hasattr(response, "data") else response.content
    return response.status_code, body, response.headers.get("Content-Type"), response.headers.get("WWW-Authenticate")


@pytest.fixture(scope="module")
def clients():
    return flask_app().test_client(), TestClient(fastapi_app())


@pytest.mark.parametrize("path", [r[0] for r in ROUTES])
def test_every_header_answers_as_flask_httpauth_answered(clients, path):
    original, converted = clients
    for headers in HEADERS:
        before = original.get(path, headers=headers)
        after = converted.get(path, headers=headers)
        assert answer(after) == answer(before), (path, headers)


def test_the_comparison_sees_refusals_of_every_kind(clients):
    original, _ = clients
    seen = {(p, original.get(p, headers=h).status_code) for p, _, _ in ROUTES for h in HEADERS}
    assert {("/basic", 401), ("/basic", 200), ("/basic-admin", 403), ("/token-optional", 200), ("/multi-admin", 403)} <= seen
    refused = original.get("/token-admin", headers={"Authorization": "Bearer t-ann"})
    assert refused.get_json() == {"error": "token refused", "status": 403}
    assert original.get("/basic").headers["WWW-Authenticate"] == 'Basic realm="People"'
    assert original.get("/header").data == b"no key"


def test_options_is_not_checked(clients):
    original, converted = clients
    for path in ("/basic", "/multi-admin"):
        assert answer(converted.options(path)) == answer(original.options(path)) and original.options(path).status_code == 200


def test_the_schemes_are_declared_for_openapi():
    schema = TestClient(fastapi_app()).get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["HTTPBasic"] == {"type": "http", "scheme": "basic"}
    assert schemes["HTTPBearer"] == {"type": "http", "scheme": "bearer"}
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-Key"}
    assert schemes["HTTPBase"] == {"type": "http", "scheme": "Token"}
    multi = schema["paths"]["/multi"]["get"]["security"]
    assert multi == [{"HTTPBearer": []}, {"HTTPBasic": []}, {"APIKeyHeader": []}]


def test_a_callback_may_take_the_request():
    auth = httpauth.HTTPBasicAuth()

    @auth.verify_password
    def verify(username, password, request):
        request.state.method = "basic"
        return username or None

    app = NativeApp(__name__, static_folder=None)

    @app.get("/")
    def view(request: Request, user: Annotated[Any, Depends(auth.login_required())]):
        return {"user": user, "method": request.state.method}

    assert TestClient(app).get("/", headers=basic("ann", "x")).json() == {"user": "ann", "method": "basic"}


def test_the_same_options_give_one_dependency():
    auth = httpauth.HTTPTokenAuth()
    assert auth.login_required(role="admin") is auth.login_required(role="admin")
    assert auth.login_required(role="admin") is not auth.login_required()


def test_coroutine_callbacks_are_refused():
    auth = httpauth.HTTPTokenAuth()

    async def verify(token):
        return token

    with pytest.raises(TypeError, match="plain def"):
        auth.verify_token(verify)


def test_a_guard_answers_from_inside_the_decorators_above_it():
    seen = []

    def audited(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            seen.append(view.__name__)
            return view(*args, **kwargs)

        return wrapped

    original, converted = flask.Flask(__name__), NativeApp(__name__, static_folder=None)
    flask_objects, objects = register(flask_httpauth), register(httpauth)

    @original.route("/items/<int:item>")
    @audited
    @flask_objects["token"].login_required(role="admin")
    def flask_item(item):
        return {"item": item}

    @converted.get("/items/{item}")
    @audited
    @objects["token"].guard(role="admin")
    def item(item: int):
        return {"item": item}

    flask_client, client = original.test_client(), TestClient(converted)
    for headers in HEADERS:
        assert answer(client.get("/items/3", headers=headers)) == answer(flask_client.get("/items/3", headers=headers)), headers
    assert seen == ["item", "flask_item"] * len(HEADERS)  # refused requests went through audited too
    assert client.get("/items/3", headers={"Authorization": "Bearer t-root"}).json() == {"item": 3}
    assert client.get("/openapi.json").json()["paths"]["/items/{item}"]["get"]["security"] == [{"HTTPBearer": []}]


def test_objects_without_callbacks_refuse_as_flask_httpauth_did():
    original, converted = flask.Flask(__name__), NativeApp(__name__, static_folder=None)
    for module, app in ((flask_httpauth, original), (httpauth, converted)):
        objects = {"basic": module.HTTPBasicAuth(), "token": module.HTTPTokenAuth(scheme="Token")}
        for name, auth in objects.items():
            if app is original:
                app.add_url_rule(f"/{name}", name, auth.login_required(lambda: "in"))
            else:
                app.add_api_route(f"/{name}", lambda user=Depends(auth.login_required()): "in")
    flask_client, client = original.test_client(), TestClient(converted)
    for path in ("/basic", "/token"):
        for headers in HEADERS:
            before = flask_client.get(path, headers=headers)
            assert before.status_code == 401
            assert answer(client.get(path, headers=headers)) == answer(before), (path, headers)
