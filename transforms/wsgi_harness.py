"""WSGI test harnesses (WebTest's ``TestApp(app)``) drive the converted app through its WSGI face.

A converted app is an ASGI app (the FlaskBridge), which a WSGI harness cannot call. The runtime's
``as_wsgi(app)`` gives the bridge's WSGI face (each request run to the end in the test's thread,
native routes included) and leaves anything that is not a bridged app as it was, so the call is
rewritten wherever it is, without knowing what ``app`` holds (a pytest fixture's parameter, most
often). See runtime/flask2fastapi_runtime/testing.py.
"""

from __future__ import annotations

import libcst as cst

from codemod.transform import Example, Transform

TEST_APPS = frozenset({"webtest.TestApp", "webtest.app.TestApp"})
RUNTIME = "flask2fastapi_runtime"
AS_WSGI = f"{RUNTIME}.as_wsgi"


class WsgiHarnessTransform(Transform):
    NAME = "wsgi_harness"
    DESCRIPTION = "webtest.TestApp(app) -> TestApp(as_wsgi(app)): WSGI test harnesses drive the ASGI app"
    # a test module need not mention Flask at all
    PREFILTER = (b"TestApp",)
    EXAMPLES = (
        Example(
            """\
            import pytest
            from webtest import TestApp


            @pytest.fixture
            def testapp(app):
                return TestApp(app)
            """,
            """\
            import pytest
            from webtest import TestApp
            from flask2fastapi_runtime import as_wsgi


            @pytest.fixture
            def testapp(app):
                return TestApp(as_wsgi(app))
            """,
            title="a fixture's app, whatever it is",
        ),
        Example(
            """\
            import webtest
            from flask2fastapi_runtime import as_wsgi

            client = webtest.TestApp(as_wsgi(app), extra_environ={"REMOTE_ADDR": "1.2.3.4"})
            """,
            title="already converted",
        ),
        Example(
            """\
            class TestApp:
                def __init__(self, app):
                    self.app = app

            harness = TestApp(app)
            """,
            title="a class of the project named TestApp",
        ),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not self.names(original_node.func, *TEST_APPS) or not original_node.args:
            return updated_node
        first = original_node.args[0]
        if first.keyword is not None or first.star or (
            isinstance(first.value, cst.Call) and self.names(first.value.func, AS_WSGI)
        ):
            return updated_node
        as_wsgi = self.import_reference(original_node.func, RUNTIME, "as_wsgi", replaces=False)
        wrapped = updated_node.args[0].with_changes(value=cst.Call(as_wsgi, [cst.Arg(updated_node.args[0].value)]))
        return updated_node.with_changes(args=[wrapped, *updated_node.args[1:]])
