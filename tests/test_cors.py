"""Flask-CORS: the converted app sends the same CORS headers as the original, for allowed and
refused origins, simple and preflight requests, with a configured origin list and with defaults."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "cors"
CORS_HEADERS = [
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
]
PREFLIGHT_HEADERS = ["Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers"]


def simple(path, origin):
    return {"method": "GET", "path": path, "headers": {"Origin": origin}, "expect_headers": CORS_HEADERS}


def preflight(path, origin):
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-token"}
    return {"method": "OPTIONS", "path": path, "headers": headers, "expect_headers": PREFLIGHT_HEADERS}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("cors") / "converted")


@pytest.mark.parametrize(
    ("spec", "requests"),
    [
        ("corsapp.app:app", [simple("/items", "https://app.example")]),
        ("openapp.app:app", [simple("/ping", "https://anyone.example")]),
        ("viewapp.app:app", [simple("/public", "https://partner.example")]),
    ],
)
def test_simple_requests_get_the_same_cors_headers(converted, spec, requests):
    original = answers_in(PROJECT / "input", spec, requests)
    assert original[0]["headers"]["Access-Control-Allow-Origin"] == requests[0]["headers"]["Origin"]
    assert answers_in(converted, spec, requests) == original


@pytest.mark.parametrize(
    ("spec", "request_"),
    [
        ("corsapp.app:app", preflight("/items", "https://admin.example")),
        ("openapp.app:app", preflight("/ping", "https://anyone.example")),
        ("viewapp.app:app", preflight("/public", "https://partner.example")),
    ],
)
def test_preflight_gets_the_same_cors_headers(converted, spec, request_):
    # The preflight's own body and Allow header differ (Flask answers OPTIONS itself); what a
    # browser checks is the status and the CORS headers.
    original, = answers_in(PROJECT / "input", spec, [request_])
    after, = answers_in(converted, spec, [request_])
    assert (after["status"], after["headers"]) == (original["status"], original["headers"])


def test_a_refused_origin_is_refused_by_both(converted):
    # Starlette still sends Allow-Credentials and Expose-Headers to a refused origin, Flask-CORS
    # nothing; without Access-Control-Allow-Origin a browser refuses the response either way.
    requests = [simple("/items", "https://evil.example")]
    for root in (PROJECT / "input", converted):
        (answer,) = answers_in(root, "corsapp.app:app", requests)
        assert answer["status"] == 200 and answer["headers"]["Access-Control-Allow-Origin"] is None


def test_cross_origin_applies_to_its_view_only(converted):
    # /too-late: @cross_origin above @app.route wrapped a function Flask did not serve
    requests = [simple(path, "https://partner.example") for path in ("/private", "/too-late")]
    requests.append(simple("/public", "https://evil.example"))
    original = answers_in(PROJECT / "input", "viewapp.app:app", requests)
    assert [a["status"] for a in original] == [200, 200, 200]
    assert all(value is None for a in original for value in a["headers"].values())
    assert answers_in(converted, "viewapp.app:app", requests) == original


def test_a_refused_origin_gets_no_cors_headers(converted):
    requests = [simple("/items", "https://evil.example"), preflight("/items", "https://evil.example")]
    original = answers_in(PROJECT / "input", "corsapp.app:app", requests)
    assert [a["status"] for a in original] == [200, 200]
    assert all(value is None for a in original for value in a["headers"].values())
    after = answers_in(converted, "corsapp.app:app", requests)
    assert after[0] == original[0]
    assert (after[1]["status"], after[1]["headers"]) == (original[1]["status"], original[1]["headers"])
