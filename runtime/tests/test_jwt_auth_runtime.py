"""jwt_auth: a FastAPI app with ``JWTAuth`` and a Flask app with Flask-JWT-Extended, under the
same settings and loaders, verify each other's tokens and refuse the same requests with the same
status, body and Content-Type, wherever the token is looked for."""


from datetime import timedelta
from typing import Annotated

import jwt as pyjwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from flask import Flask, jsonify, request
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token, get_current_user, get_jwt, jwt_required

from flask2fastapi_runtime import FlaskJSONResponse
from flask2fastapi_runtime.jwt_auth import JWT, JWTAuth

SECRET = "runtime-jwt-test-secret-of-at-least-32-bytes"
USERS = {"ann": {"name": "Ann"}, "bob": {"name": "Bob"}}
REVOKED = {"revoked-jti"}
ROUTES = {  # path -> jwt_required's arguments
    "/plain": {},
    "/optional": {"optional": True},
    "/fresh": {"fresh": True},
    "/refresh": {"refresh": True},
    "/any-type": {"verify_type": False},
    "/cookies": {"locations": ["cookies"]},
    "/query": {"locations": "query_string"},
    "/json": {"locations": ["json"]},
    "/headers-or-cookies": {"locations": ["headers", "cookies"]},
}
SETTINGS = {
    "JWT_SECRET_KEY": SECRET, "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=5),
    "JWT_TOKEN_LOCATION": ["headers", "cookies", "query_string", "json"], "JWT_ERROR_MESSAGE_KEY": "message",
}


def loaders(manager, custom: bool) -> None:
    """The same loaders on both managers; ``custom``: refusal loaders of the app's own too."""
    manager.additional_claims_loader(lambda identity: {"name": USERS.get(identity, {}).get("name")})
    manager.user_lookup_loader(lambda _header, data: USERS.get(data["sub"]))
    manager.token_in_blocklist_loader(lambda _header, data: data["jti"] in REVOKED)
    if custom:
        manager.expired_token_loader(lambda _header, data: ({"error": "expired", "kind": data["type"]}, 401, {"X-Why": "expired"}))
        manager.unauthorized_loader(lambda reason: ({"error": "unauthorized", "why": reason}, 401))


def flask_app(custom: bool) -> Flask:
    app = Flask(__name__)
    app.config.update(SETTINGS)
    manager = JWTManager(app)
    loaders(manager, custom)

    @app.post("/login/<name>")
    def login(name):
        return jsonify(access=create_access_token(name, fresh=True), refresh=create_refresh_token(name))

    for path, arguments in ROUTES.items():
        def view(path=path):
            claims = get_jwt()
            return jsonify(path=path, sub=claims.get("sub"), type=claims.get("type"), user=get_current_user())

        app.add_url_rule(path, path, jwt_required(**arguments)(view), methods=["GET", "POST"])
    return app


def fastapi_app(custom: bool) -> FastAPI:
    app = FastAPI()
    app.state.settings = dict(SETTINGS)
    auth = JWTAuth(app)
    loaders(auth, custom)

    @app.post("/login/{name}")
    def login(name: str):
        return {"access": auth.create_access_token(name, fresh=True), "refresh": auth.create_refresh_token(name)}

    for path, arguments in ROUTES.items():
        def view(token: Annotated[JWT, Depends(auth.required(**arguments))], path: str = path):
            return FlaskJSONResponse({"path": path, "sub": token.identity, "type": token.claims.get("type"), "user": token.user})

        app.add_api_route(path, view, methods=["GET", "POST"])
    return app


def token(**claims) -> str:
    data = {"sub": "ann", "type": "access", "fresh": False, "jti": "j", "exp": 4102444800, "iat": 1700000000, "nbf": 1700000000}
    data.update(claims)
    return pyjwt.encode({k: v for k, v in data.items() if v is not None}, SECRET, "HS256")


ACCESS, REFRESH, FRESH = token(), token(type="refresh"), token(fresh=True)
REQUESTS = [
    {},
    {"headers": {"Authorization": "Bearer"}},
    {"headers": {"Authorization": "Token abc"}},
    {"headers": {"Authorization": f"Bearer {ACCESS} x"}},
    {"headers": {"Authorization": "Bearer not.a.jwt"}},
    {"headers": {"Authorization": f"Bearer {ACCESS}"}},
    {"headers": {"Authorization": f"Bearer {FRESH}"}},
    {"headers": {"Authorization": f"Bearer {REFRESH}"}},
    {"headers": {"Authorization": f"Bearer {token(exp=1700000100)}"}},
    {"headers": {"Authorization": f"Bearer {token(jti='revoked-jti')}"}},
    {"headers": {"Authorization": f"Bearer {token(sub='nobody')}"}},
    {"headers": {"Authorization": f"Bearer {token(sub=None)}"}},
    {"headers": {"Authorization": f"Bearer {token(fresh=4102444800)}"}},
    {"headers": {"Authorization": f"Bearer {pyjwt.encode({'sub': 'ann'}, 'another-secret-of-at-least-32-bytes!', 'HS256')}"}},
    {"cookies": {"access_token_cookie": ACCESS}},
    {"cookies": {"access_token_cookie": token(csrf="c1")}, "method": "POST", "headers": {"X-CSRF-TOKEN": "c1"}},
    {"cookies": {"access_token_cookie": token(csrf="c1")}, "method": "POST", "headers": {"X-CSRF-TOKEN": "c2"}},
    {"cookies": {"access_token_cookie": token(csrf="c1")}, "method": "POST"},
    {"cookies": {"refresh_token_cookie": REFRESH}},
    {"query": f"jwt={ACCESS}"},
    {"query": "jwt="},
    {"method": "POST", "json": {"access_token": ACCESS}},
    {"method": "POST", "json": {"refresh_token": REFRESH}},
    {"method": "POST", "json": {"other": 1}},
    {"method": "POST", "data": "{not json", "headers": {"Content-Type": "application/json"}},
    {"method": "POST", "data": "x"},
]


def answers(app, flask: bool) -> list[tuple]:
    seen = []
    for path in ROUTES:
        for request in REQUESTS:
            url = f"{path}?{request['query']}" if "query" in request else path
            kwargs = {k: request[k] for k in ("headers", "json", "data") if k in request}
            client = app.test_client() if flask else TestClient(app)  # no cookie left from the last request
            for name, value in request.get("cookies", {}).items():
                client.set_cookie(name, value) if flask else client.cookies.set(name, value)
            answer = client.open(url, method=request.get("method", "GET"), **kwargs) if flask else client.request(request.get("method", "GET"), url, **kwargs)
            body = answer.get_data() if flask else answer.content
            seen.append((path, str(request)[:80], answer.status_code, body, answer.headers.get("Content-Type"), answer.headers.get("X-Why")))
    return seen


@pytest.mark.parametrize("custom", [False, True], ids=["default loaders", "the app's loaders"])
def test_every_refusal_and_acceptance_is_flask_jwt_extended_s(custom):
    original = answers(flask_app(custom), flask=True)
    converted = answers(fastapi_app(custom), flask=False)
    statuses = {status for _, _, status, *_ in original}
    assert {200, 401, 422} <= statuses  # the comparison is of refusals and acceptances both
    assert [a for a in original if a[2] == 401 and b'"why"' in a[3]] or not custom
    assert [(o, c) for o, c in zip(original, converted) if o != c] == []


def test_tokens_of_either_app_open_the_other():
    flask_client, fastapi_client = flask_app(False).test_client(), TestClient(fastapi_app(False))
    issued = {"flask": flask_client.post("/login/bob").get_json(), "fastapi": fastapi_client.post("/login/bob").json()}
    flask_claims, fastapi_claims = (pyjwt.decode(i["access"], SECRET, algorithms=["HS256"]) for i in issued.values())
    assert set(flask_claims) == set(fastapi_claims) == {"sub", "fresh", "type", "jti", "iat", "nbf", "exp", "csrf", "name"}
    assert flask_claims["exp"] - flask_claims["iat"] == fastapi_claims["exp"] - fastapi_claims["iat"] == 300
    for made_by, other in (("flask", fastapi_client), ("fastapi", flask_client)):
        tokens = issued[made_by]
        fresh = other.get("/fresh", headers={"Authorization": f"Bearer {tokens['access']}"})
        refreshed = other.get("/refresh", headers={"Authorization": f"Bearer {tokens['refresh']}"})
        assert (fresh.status_code, refreshed.status_code) == (200, 200), made_by
        assert (fresh.get_json() if hasattr(fresh, "get_json") else fresh.json()) == {"path": "/fresh", "sub": "bob", "type": "access", "user": {"name": "Bob"}}


def test_the_dependency_declares_its_security_scheme():
    schema = fastapi_app(False).openapi()
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schema["components"]["securitySchemes"]["APIKeyCookie"]["name"] == "access_token_cookie"
    assert schema["paths"]["/plain"]["get"]["security"] == [{"HTTPBearer": []}]


def hooked(app: Flask) -> None:
    """A before_request hook that may answer first, an after_request hook that marks every answer."""

    @app.before_request
    def maintenance():
        if request.args.get("down"):
            return jsonify(down=True), 503

    @app.after_request
    def stamp(response):
        response.headers["X-Seen"] = "yes"
        return response


def test_on_a_bridge_refusals_go_through_flask_s_hooks_and_flask_code_left_checks_alike():
    """``init_app(flask_app)``: a native route's refusal is answered in Flask's cycle (hooks
    first, after_request on it), and Flask-JWT-Extended's own manager with the same loaders
    serves the Flask code left (a bridged view calling verify_jwt_in_request)."""
    from flask_jwt_extended import verify_jwt_in_request

    from flask2fastapi_runtime import FlaskBridge

    original = Flask(__name__)
    original.config.update(SETTINGS)
    loaders(JWTManager(original), custom=True)
    hooked(original)
    original.add_url_rule("/native", "native", jwt_required()(lambda: jsonify(user=get_current_user())))

    app = Flask(__name__)
    app.config.update(SETTINGS)
    hooked(app)
    api = FlaskBridge(app)
    auth = JWTAuth()
    loaders(auth, custom=True)
    auth.init_app(app)

    @api.get("/native")
    def native(token: Annotated[JWT, Depends(auth.required())]):
        return {"user": token.user}

    @app.route("/bridged")
    def bridged():
        verify_jwt_in_request()
        return jsonify(user=get_current_user())

    requests = [
        ("", {}), ("?down=1", {}), ("?down=1", {"Authorization": f"Bearer {ACCESS}"}), ("", {"Authorization": "Bearer x.y"}),
        ("", {"Authorization": f"Bearer {token(jti='revoked-jti')}"}), ("", {"Authorization": f"Bearer {token(exp=1700000100)}"}),
        ("", {"Authorization": f"Bearer {ACCESS}"}),
    ]
    before, after = original.test_client(), TestClient(api)
    seen = []
    for query, headers in requests:
        expected = before.get(f"/native{query}", headers=headers)
        seen.append(expected.status_code)
        for path in ("/native", "/bridged"):
            answer = after.get(f"{path}{query}", headers=headers)
            assert (answer.status_code, answer.content, answer.headers.get("X-Seen"), answer.headers.get("X-Why")) == (
                expected.status_code, expected.get_data(), "yes", expected.headers.get("X-Why")
            ), (path, query, headers)
    assert seen == [401, 503, 503, 422, 401, 401, 200]


def test_a_hook_verifies_for_the_views_after_it_as_verify_jwt_in_request_did():
    """``await jwt.verify(request)`` in a RequestHooks hook: its refusal answered by the app's
    handler (before any view), the token left on request.state for ``Depends(jwt.current)``;
    OPTIONS is exempt (no token), and reading a token no one verified is an error, as get_jwt()'s."""
    from flask2fastapi_runtime import RequestHooks

    manager = JWTAuth()
    loaders(manager, custom=True)
    app = FastAPI()
    app.state.settings = {**SETTINGS, "JWT_TOKEN_LOCATION": ["headers"]}
    manager.init_app(app)
    seen = []

    async def needs_a_token(request):
        if request.url.path.startswith("/api/"):
            request.state.jwt = await manager.verify(request)
            seen.append(request.state.jwt)

    app.add_middleware(RequestHooks, before=[needs_a_token])

    @app.api_route("/api/me", methods=["GET", "OPTIONS"])
    def me(token: Annotated[JWT, Depends(manager.current)]):
        return {"user": token.identity, "name": token.user["name"]}

    @app.get("/open")
    def open_(token: Annotated[JWT, Depends(manager.current)]):
        return {"user": token.identity}

    client = TestClient(app, raise_server_exceptions=False)
    access = pyjwt.encode({"sub": "ann", "type": "access", "fresh": False, "jti": "j"}, SECRET, "HS256")
    refused = client.get("/api/me")
    assert (refused.status_code, refused.json()) == (401, {"error": "unauthorized", "why": "Missing Authorization Header"})
    assert client.get("/api/nothing-here").status_code == 401  # the hook runs where no route matches
    answer = client.get("/api/me", headers={"Authorization": f"Bearer {access}"})
    assert (answer.status_code, answer.json()) == (200, {"user": "ann", "name": "Ann"})
    assert seen[-1].identity == "ann"
    assert client.options("/api/me").status_code == 500 and seen[-1] is None  # exempt: no token to read
    assert client.get("/open", headers={"Authorization": f"Bearer {access}"}).status_code == 500  # no hook verified it
