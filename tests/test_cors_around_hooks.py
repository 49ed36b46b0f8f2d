"""Flask-CORS was an after_request function, and Flask ran those on every answer, a before hook's
early one included; the converted app's CORS middleware must wrap its request hooks to do the
same (transforms/leave_flask.py). A factory app with CORS, a refusing before hook and a stamping
after hook, original against converted, headers in order."""

import importlib
import sys

import pytest
from fastapi.testclient import TestClient

from codemod.testing import convert_copy

APP = '''
from flask import Flask, request
from flask_cors import CORS


def create_app():
    app = Flask(__name__)
    CORS(app, origins=["https://app.example"], expose_headers=["X-Request-ID"])

    @app.before_request
    def closed():
        if request.headers.get("X-Closed"):
            return {"error": "closed"}, 503

    @app.after_request
    def stamp(response):
        response.headers["X-Request-ID"] = "r1"
        return response

    @app.get("/ping")
    def ping():
        return {"ok": True}

    return app
'''
REQUESTS = [
    {},
    {"Origin": "https://app.example"},
    {"Origin": "https://app.example", "X-Closed": "1"},  # the before hook answers
    {"Origin": "https://evil.example", "X-Closed": "1"},
]
LEFT_OUT = {"date", "server", "content-length"}  # the servers' own; JSON bodies are compared parsed


def _load(root, name):
    sys.path.insert(0, str(root))
    try:
        for module in [m for m in sys.modules if m == "gate" or m.startswith("gate.")]:
            del sys.modules[module]
        return importlib.import_module("gate").create_app()
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    root = tmp_path_factory.mktemp("cors_hooks")
    (root / "input" / "gate").mkdir(parents=True)
    (root / "input" / "gate" / "__init__.py").write_text(APP)
    converted = convert_copy(root / "input", root / "converted")
    original = _load(root / "input", "gate")
    native = _load(converted, "gate")
    return original, native, (converted / "gate" / "__init__.py").read_text()


def _answer(status, headers, body):
    return status, [(k.lower(), v) for k, v in headers if k.lower() not in LEFT_OUT], body


@pytest.mark.parametrize("headers", REQUESTS)
def test_cors_headers_as_flask_cors_wrote_them_around_the_hooks(apps, headers):
    original, native, _ = apps
    before = original.test_client().get("/ping", headers=headers)
    with TestClient(native) as client:
        after = client.get("/ping", headers=headers)
    assert _answer(after.status_code, after.headers.multi_items(), after.json()) == _answer(
        before.status_code, list(before.headers.items()), before.get_json()
    )


def test_the_middleware_wraps_the_hooks_and_flask_left(apps):
    _, native, text = apps
    assert "from flask " not in text and "flask_cors" not in text and "FlaskBridge" not in text
    assert text.index("add_middleware(RequestHooks") < text.index("add_middleware(\n        FlaskCorsMiddleware")
    assert "# around the hooks: Flask-CORS's after_request ran on every answer" in text
