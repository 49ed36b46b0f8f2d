"""``return redirect(url_for("index"))`` in a native view -> the runtime's ``redirect``, a
Starlette response with werkzeug's page.

Targets https://fastapi.tiangolo.com/advanced/custom-response/#redirectresponse . Starlette's
``RedirectResponse`` sends an empty body and quotes the URL its own way; Flask's ``redirect``
(werkzeug's) sends a small HTML page linking to the location, as ``text/html; charset=utf-8``. The
runtime's ``redirect(location, code)`` (runtime/flask2fastapi_runtime/redirects.py) answers those
bytes with the same status and ``Location``.

werkzeug writes ``Location`` through its ``iri_to_uri`` as it sends the answer, and the runtime
writes it as given, so a call converts only where the location is one ``iri_to_uri`` leaves as it
is: a ``url_for(...)`` of Flask (without ``_external``, ``_scheme`` or ``_anchor``: a path and a
query werkzeug quoted; transforms/url_for.py may make it Starlette's, which writes the same), or a
literal path of plain ASCII URL characters. The code, if given, is an int literal werkzeug takes;
the call is the whole value of a ``return`` in a native view's own body, in a project whose app
keeps Flask's ``response_class``; and every use of Flask's ``redirect`` in the module converts, so
that ``redirect`` names one function there.
"""

from __future__ import annotations

import string

import libcst as cst
import libcst.matchers as m

from codemod.find import findall
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME
from transforms._views import OwnBody, factory_views, native_plans
from codemod.names import Parents

REDIRECT = frozenset({"flask.redirect", "flask.helpers.redirect", "werkzeug.utils.redirect"})
URL_FOR = frozenset({"flask.url_for", "flask.helpers.url_for"})
CODES = frozenset({301, 302, 303, 305, 307, 308})  # werkzeug's redirect codes
# url_for options that write more than a quoted path and query
URL_OPTIONS = frozenset({"_external", "_scheme", "_anchor"})
# what iri_to_uri leaves as it is in a path and a query (no "%": a literal's escape is not checked)
PLAIN = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,/:;=@?")
REDIRECTS = f"{RUNTIME}.redirects"


class RedirectsTransform(Transform):
    NAME = "redirects"
    DESCRIPTION = "native views: return redirect(url_for(...)) -> the runtime's redirect (werkzeug's page)"
    PREFILTER = (b"redirect",)
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, redirect, url_for

            app = Flask(__name__)


            @app.post("/star")
            def star():
                return redirect(url_for("index"))


            @app.get("/old")
            def old():
                return redirect("/new?page=1", 301)


            @app.get("/")
            def index():
                return "home"
            """,
            """\
            from flask import Flask
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.redirects import redirect

            app = Flask(__name__)
            api = FlaskBridge(app)


            @api.post("/star")
            def star(request: Request):
                return redirect(request.url_for("index").path)


            @api.get("/old")
            def old():
                return redirect("/new?page=1", 301)


            @api.get("/")
            def index():
                return "home"
            """,
            title="a redirect to url_for or a plain path: werkzeug's page, from the runtime",
        ),
        Example(
            """\
            from flask import Flask, redirect, url_for

            app = Flask(__name__)


            @app.get("/a")
            def a():
                return redirect(url_for("index", _external=True))


            @app.get("/b")
            def b():
                return redirect("/café")


            @app.get("/c")
            def c():
                response = redirect("/")
                response.headers["X-From"] = "c"
                return response


            @app.get("/d")
            def d():
                return redirect("/")


            @app.get("/")
            def index():
                return "home"
            """,
            """\
            from flask import Flask, redirect, url_for
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)


            @api.get("/a")
            def a():
                return redirect(url_for("index", _external=True))


            @api.get("/b")
            def b():
                return redirect("/café")


            @api.get("/c")
            def c():
                response = redirect("/")
                response.headers["X-From"] = "c"
                return response


            @api.get("/d")
            def d():
                return redirect("/")


            @api.get("/")
            def index():
                return "home"
            """,
            title="an absolute url_for, a path iri_to_uri quotes, a redirect used as a value: Flask's, and so the module's others",
        ),
        Example(
            """\
            from quart import redirect
            from flask import redirect as flask_redirect


            def go():
                return redirect("/")


            def helper():
                return flask_redirect("/")
            """,
            title="another library's redirect, and Flask's outside a view, stay",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: set[cst.Call] = set()  # every use of Flask's redirect in the module, or none

    def visit_Module(self, node: cst.Module) -> None:
        for statement in node.body:
            for view in factory_views(statement):
                self._calls(view)
        uses = [n for n in findall(node, m.Name() | m.Attribute()) if self.names(n, *REDIRECT) and not self._imported(n)]
        if len(uses) != len(self.calls):  # one redirect stays Flask's: so do the module's others, under the one name
            self.calls.clear()

    def _imported(self, node: cst.CSTNode) -> bool:
        parent = self.get_metadata(Parents, node, None)
        return isinstance(parent, (cst.ImportAlias, cst.ImportFrom)) or isinstance(parent, cst.Attribute) and parent.attr is node

    def _calls(self, node: cst.FunctionDef) -> None:
        if self.run.project.own_response_class or not native_plans(self, node):
            return
        for returned in OwnBody(node).returns:
            call = returned.value
            if isinstance(call, cst.Call) and self.names(call.func, *REDIRECT) and self._plain(call):
                self.calls.add(call)

    def _plain(self, call: cst.Call) -> bool:
        """``redirect(location[, code])`` whose location iri_to_uri leaves as it is (module doc)."""
        args = call.args
        if not 1 <= len(args) <= 2 or any(a.star or a.keyword is not None for a in args):
            return False
        if len(args) == 2 and not (isinstance(args[1].value, cst.Integer) and int(args[1].value.value) in CODES):
            return False
        location = args[0].value
        if isinstance(location, cst.SimpleString):
            text = location.evaluated_value
            return isinstance(text, str) and text.startswith("/") and not text.startswith("//") and set(text) <= PLAIN
        return isinstance(location, cst.Call) and self.names(location.func, *URL_FOR) and not any(
            a.star or a.keyword is not None and a.keyword.value in URL_OPTIONS for a in location.args
        )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node not in self.calls:
            return updated_node
        self.consume(original_node.func)
        # the name of Flask's redirect: no use of it is left
        redirect = self.import_reference(original_node.func, REDIRECTS, "redirect", replaces=False, supersedes=lambda q: q in REDIRECT)
        return updated_node.with_changes(func=redirect)
