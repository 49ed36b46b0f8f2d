"""FlaskCorsMiddleware answers as Flask-CORS did, byte for byte: the same app built twice (Flask with
``CORS(app, **options)``, NativeApp with the middleware given the same options and config), the
same requests, and the CORS headers (names without case, values, order), the status, the body and
its type compared, over a matrix of options and requests."""

import re
from datetime import timedelta
from functools import cache

import pytest
from fastapi import APIRouter
from flask import Flask
from flask_cors import CORS

from flask2fastapi_runtime import FlaskCorsMiddleware, NativeApp, NativeRoute

OPTIONS = {
    "defaults": ({}, {}),
    "two origins": ({}, {"origins": ["https://app.example", "https://other.example"]}),
    "one origin, credentials, exposed": ({}, {"origins": "https://APP.example", "supports_credentials": True, "expose_headers": ["X-Time", "X-Id"]}),
    "regex origin": ({}, {"origins": [r"https://.*\.example\.com"]}),
    "compiled origin and a literal": ({}, {"origins": [re.compile(r"https://api\."), "https://app.example"]}),
    "config": ({"CORS_ORIGINS": ["https://app.example"], "CORS_SUPPORTS_CREDENTIALS": True, "CORS_MAX_AGE": 600}, {}),
    "config, a None key": ({"CORS_ORIGINS": None, "CORS_EXPOSE_HEADERS": "X-Id"}, {}),
    "options over config": ({"CORS_ORIGINS": ["https://app.example"]}, {"origins": "*", "supports_credentials": True}),
    "wildcard sent": ({}, {"origins": "*", "send_wildcard": True, "expose_headers": "X-Id"}),
    "max_age int": ({}, {"origins": ["https://app.example"], "max_age": 3600}),
    "max_age timedelta": ({}, {"max_age": timedelta(minutes=2)}),
    "max_age str": ({}, {"max_age": "30"}),
    "max_age 0": ({}, {"max_age": 0}),
    "some methods": ({}, {"methods": ["get", "POST"]}),
    "some headers": ({}, {"allow_headers": ["Content-Type", r"X-Custom-.*"]}),
    "not always_send": ({}, {"origins": ["https://app.example"], "always_send": False}),
    "no Vary": ({}, {"origins": ["https://app.example", "https://other.example"], "vary_header": False}),
    "private network": ({}, {"allow_private_network": True}),
    "no origin allowed": ({}, {"origins": []}),
    "harmless options": ({}, {"automatic_options": False, "intercept_exceptions": False, "resources": r"/*"}),
}
ORIGINS = [None, "https://app.example", "https://API.example.com", "https://evil.example"]
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-Custom-Id, authorization,Content-Type"}
REQUESTS = {
    "get": ("GET", "/items", {}),
    "post": ("POST", "/items", {}),
    "head": ("HEAD", "/items", {}),
    "preflight": ("OPTIONS", "/items", PREFLIGHT),
    "preflight, a method not allowed": ("OPTIONS", "/items", {"Access-Control-Request-Method": "DELETE"}),
    "preflight, a method within the list's text": ("OPTIONS", "/items", {"Access-Control-Request-Method": "et"}),
    "preflight, no headers asked": ("OPTIONS", "/items", {"Access-Control-Request-Method": "get"}),
    "preflight, private network": ("OPTIONS", "/items", {**PREFLIGHT, "Access-Control-Request-Private-Network": "true"}),
    "options, no preflight": ("OPTIONS", "/items", {}),
    "preflight elsewhere": ("OPTIONS", "/nowhere", PREFLIGHT),
    "not found": ("GET", "/nowhere", {}),
    "own CORS": ("GET", "/own", {}),
    "server error": ("GET", "/boom", {}),
}


def boom():
    raise RuntimeError("boom")


@cache
def pair(name: str):
    config, options = OPTIONS[name]
    flask_app = Flask(__name__)
    flask_app.config.update(config)
    flask_app.add_url_rule("/items", "items", lambda: {"ok": True}, methods=["GET", "POST"])
    flask_app.add_url_rule("/own", "own", lambda: ({"own": True}, {"Access-Control-Allow-Origin": "https://own.example"}))
    flask_app.add_url_rule("/boom", "boom", boom)
    CORS(flask_app, **options)
    app = NativeApp(__name__)
    app.config.from_mapping(config)
    router = APIRouter(route_class=NativeRoute)
    router.add_api_route("/items", lambda: {"ok": True}, methods=["GET", "POST"], name="items")
    router.add_api_route("/own", lambda: ({"own": True}, {"Access-Control-Allow-Origin": "https://own.example"}), name="own")
    router.add_api_route("/boom", boom, name="boom")
    app.include_router(router)
    app.add_middleware(FlaskCorsMiddleware, config=app.config, **options)
    return flask_app.test_client(), app.test_client()


def cors_headers(pairs) -> list[tuple[str, str]]:
    return [(name.lower(), value) for name, value in pairs if name.lower().startswith("access-control-") or name.lower() == "vary"]


def answer(response) -> dict:
    return {
        "status": response.status_code,
        "body": response.get_data(),
        "content-type": response.headers.get("Content-Type"),
        "allow": sorted(response.headers.get("Allow", "").split(", ")),  # Flask builds it from a set
        "cors": cors_headers(response.headers.items()),
    }


@pytest.mark.parametrize("request_name", REQUESTS)
@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize("options", OPTIONS)
def test_the_answer_is_flask_cors_byte_for_byte(options, origin, request_name):
    flask_client, client = pair(options)
    method, path, headers = REQUESTS[request_name]
    headers = {**headers, **({"Origin": origin} if origin else {})}
    original = flask_client.open(path, method=method, headers=headers)
    converted = client.open(path, method=method, headers=headers)
    assert answer(converted) == answer(original)


def test_the_origin_sent_to_a_request_without_one_is_the_first_literal_in_order():
    flask_client, client = pair("two origins")
    original, converted = flask_client.get("/items"), client.get("/items")
    assert cors_headers(converted.headers.items()) == cors_headers(original.headers.items()) == [
        ("access-control-allow-origin", "https://app.example"), ("vary", "Origin")]


@pytest.mark.parametrize(
    "options, error",
    [
        ({"resources": {r"/api/*": {"origins": "*"}}}, "resources"),
        ({"origins": "*", "supports_credentials": True, "send_wildcard": True}, "supports_credentials"),
        ({"origin": "*"}, "no option origin"),
        ({"origins": ["https://(unclosed"]}, "no regular expression"),
    ],
)
def test_what_it_cannot_honour_is_refused_when_built(options, error):
    with pytest.raises(ValueError, match=error):
        FlaskCorsMiddleware(NativeApp(__name__), **options)
