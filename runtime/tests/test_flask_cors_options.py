"""flask_cors_options: Starlette's CORSMiddleware, given what Flask-CORS was given, sends the
headers Flask-CORS sent to a browser's requests (an Origin header), and refuses what it refused."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from flask import Flask
from flask_cors import CORS
from starlette.middleware.cors import CORSMiddleware

from flask2fastapi_runtime.starlette_cors import flask_cors_options

HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Vary")
PREFLIGHT = ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods")


def pair(config, **options):
    flask_app = Flask(__name__)
    flask_app.config.update(config)
    flask_app.add_url_rule("/items", "items", lambda: {"ok": True}, methods=["GET", "POST"])
    CORS(flask_app, **options)
    api = FastAPI()
    api.add_api_route("/items", lambda: {"ok": True}, methods=["GET", "POST"])
    api.add_middleware(CORSMiddleware, **flask_cors_options(config, **options))
    return flask_app.test_client(), TestClient(api)


def picked(response, names):
    return {name: response.headers.get(name) for name in names}


CASES = [
    ({}, {}),
    ({}, {"origins": ["https://app.example", "https://other.example"]}),
    ({}, {"origins": "https://APP.example", "supports_credentials": True, "expose_headers": ["X-Id", "X-Time"]}),
    ({}, {"origins": [r"https://.*\.example\.com"]}),
    ({"CORS_ORIGINS": ["https://app.example"], "CORS_SUPPORTS_CREDENTIALS": True}, {}),
    ({"CORS_ORIGINS": ["https://app.example"]}, {"origins": "*", "supports_credentials": True}),
    ({}, {"origins": "*", "send_wildcard": True}),
]
ORIGINS = ["https://app.example", "https://api.example.com", "https://evil.example"]


@pytest.mark.parametrize(("config", "options"), CASES)
@pytest.mark.parametrize("origin", ORIGINS)
def test_simple_requests_get_flask_cors_headers(config, options, origin):
    flask_client, client = pair(config, **options)
    original = flask_client.get("/items", headers={"Origin": origin})
    converted = client.get("/items", headers={"Origin": origin})
    assert converted.status_code == original.status_code == 200
    expected = picked(original, HEADERS)
    if expected["Access-Control-Allow-Origin"] is None:  # refused: no ACAO, what else Starlette sends is moot
        assert "Access-Control-Allow-Origin" not in converted.headers
        return
    if expected["Vary"] is None:
        expected["Vary"] = converted.headers.get("Vary")  # Starlette may say Vary: Origin more often: harmless
    assert picked(converted, HEADERS) == expected


@pytest.mark.parametrize(("config", "options"), CASES)
@pytest.mark.parametrize("origin", ORIGINS)
def test_preflights_allow_what_flask_cors_allowed(config, options, origin):
    flask_client, client = pair(config, **options)
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Authorization"}
    original = flask_client.options("/items", headers=headers)
    converted = client.options("/items", headers=headers)
    if "Access-Control-Allow-Origin" in original.headers:
        assert converted.status_code == 200
        assert picked(converted, PREFLIGHT) == picked(original, PREFLIGHT)
        assert converted.headers["Access-Control-Allow-Headers"].lower() == original.headers["Access-Control-Allow-Headers"].lower()
    else:  # refused: no CORS header either way (Starlette says so with a 400, see the module doc)
        assert converted.status_code == 400
        assert "Access-Control-Allow-Origin" not in converted.headers


def test_an_option_it_cannot_carry_over_is_refused():
    with pytest.raises(ValueError, match="resources"):
        flask_cors_options(resources={r"/api/*": {"origins": "*"}})
