"""Flask test-client tests into tests against the converted app, unchanged otherwise.

Targets https://fastapi.tiangolo.com/tutorial/testing/ . ``app.test_client()`` becomes
``FlaskTestClient(app)`` (also for an ``app`` fixture passed to a test or fixture in a test module,
or an app that a factory fixture returns: ``app = make_app(...)``);
flask_compat's client keeps the Flask test client's API (``get``,
``post(json=...)``, ``response.get_json()``, ``response.data``, ``status_code``...) over FastAPI's
TestClient, so the converted test suite keeps testing what it tested.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ScopeProvider

from codemod.transform import Example, Transform

TEST_CLIENT_CALL = m.Call(func=m.Attribute(attr=m.Name("test_client")), args=[])


class TestClientTransform(Transform):
    __test__ = False  # a transform, not a pytest test class

    NAME = "test_client"
    DESCRIPTION = "app.test_client() -> FlaskTestClient(app): Flask's test client API over FastAPI's TestClient"
    FINDINGS = {}
    EXAMPLES = (
        Example(
            "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef test_ping():\n    client = app.test_client()\n"
            "    assert client.get('/ping').status_code == 404\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, FlaskTestClient, "
            "add_flask_attributes\n\napp = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\n"
            "add_flask_attributes(app, __name__)\n\n\ndef test_ping():\n    client = FlaskTestClient(app)\n"
            "    assert client.get('/ping').status_code == 404\n",
            title="a test client",
        ),
        Example("def test_other(thing):\n    client = thing.test_client()\n", title="something that is not a Flask app"),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not m.matches(original_node, TEST_CLIENT_CALL):
            return updated_node
        func = original_node.func
        assert isinstance(func, cst.Attribute) and isinstance(updated_node.func, cst.Attribute)
        if self.kind_of(func.value) != "app" and not self._app_fixture(func.value):
            return updated_node
        self.consume(func)
        self.use_support("FlaskTestClient")
        return cst.Call(cst.Name("FlaskTestClient"), [cst.Arg(updated_node.func.value)])

    def _app_fixture(self, receiver: cst.BaseExpression) -> bool:
        """``def client(app): return app.test_client()`` in a test module: pytest passes the
        app fixture, whose type no annotation tells; in a test module of a Flask project that
        is the app."""
        filename = Path(self.context.filename or "").name
        if not (filename == "conftest.py" or filename.startswith("test_")) or not isinstance(receiver, cst.Name):
            return False
        if self._parameter(receiver):
            return True
        # app = make_app(TESTING=True): what a factory fixture passed to the test returns
        values = self.assigned_values(receiver)
        return bool(values) and all(
            isinstance(v, cst.Call) and isinstance(v.func, cst.Name) and self._parameter(v.func) for v in values
        )

    def _parameter(self, name: cst.Name) -> bool:
        scope = self.get_metadata(ScopeProvider, name, None)
        bindings = [a.node for a in scope[name.value]] if scope is not None else []
        return bool(bindings) and all(isinstance(b, cst.Param) for b in bindings)
