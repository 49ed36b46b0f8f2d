"""A native view's ``flask.Response("text", mimetype=..., status=...)`` -> Starlette's ``Response``.

Targets https://fastapi.tiangolo.com/advanced/response-directly/#returning-a-custom-response .
``return Response("id,status\\n", mimetype="text/csv")`` becomes
``return Response("id,status\\n", media_type="text/csv")`` (FastAPI's ``Response``, Starlette's
class), and the view's ``-> flask.Response`` annotation ``-> Response``. The runtime
(responses.from_starlette) hands the returned response to Flask's request cycle with its status,
headers and body bytes, so the app's after_request hooks see what they saw. Only where both
classes provably write the same answer:

- the body is a str or bytes literal (or an f-string): both encode a str as UTF-8 and both set
  Content-Length to the bytes' length; any other value (a list, a generator, a variable of a
  type the code does not show) is served differently, or streamed (transforms/streams.py);
- ``mimetype=`` a literal type both write alike (``streams.charset_alike``: werkzeug adds
  ``; charset=utf-8`` to ``text/*`` and a few other types, Starlette to ``text/*`` only); none is
  Flask's ``text/html``, written out since Starlette's Response has no default; ``status=`` an
  int literal of a status with a body (werkzeug also takes ``"418 TEAPOT"``; 204 and 304 have
  their own Content-Length rules in each); ``headers=`` a dict of literal names (none
  of Content-Type, Content-Length, Set-Cookie) and str values; no ``content_type=`` or
  ``direct_passthrough=``;
- every route of the view is native and it has no decorator but its routes: a bridged route or
  a project decorator would get the Starlette object where it got Flask's.
"""

from __future__ import annotations

import libcst as cst
from codemod.visitors import Transformer
import libcst.matchers as m

from codemod.find import findall
from codemod.transform import Example, Transform
from transforms._flask import kwarg, string_literal
from transforms._values import is_str_literal, literal_headers
from transforms._views import OwnBody, only_native_routes
from transforms.streams import RENAMED, RESPONSE, _bound, flask_response, mimetype_alike
from codemod.names import Parents

# written where Starlette's Response goes, named once the module's names are known (leave_Module)
PLACEHOLDER = "__f2f_starlette_response__"
# what a view's ``-> Response`` annotation names: Flask's Response, or werkzeug's that it extends
ANNOTATION = RESPONSE | {"werkzeug.wrappers.Response", "werkzeug.wrappers.response.Response"}


class ResponseObjectsTransform(Transform):
    NAME = "response_objects"
    DESCRIPTION = "native views: Response(\"text\", mimetype=, status=, headers=) -> Starlette's Response(media_type=, status_code=)"
    PREFILTER = (b"Response",)
    EXAMPLES = (
        Example(
            """\
            import flask
            from flask import Flask, Response
            app = Flask(__name__)

            @app.get("/export")
            def export() -> flask.Response:
                return flask.Response("id,status\\n1,open\\n", mimetype="text/csv", headers={"X-Rows": "1"})

            @app.get("/tea")
            def tea():
                return Response("short and stout", status=418)
            """,
            """\
            from flask import Flask
            from fastapi import Response
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            @api.get("/export")
            def export() -> Response:
                return Response("id,status\\n1,open\\n", media_type="text/csv", headers={"X-Rows": "1"})

            @api.get("/tea")
            def tea():
                return Response("short and stout", media_type="text/html", status_code=418)
            """,
            title="a literal body: the same bytes, Content-Type (charset included) and Content-Length",
        ),
        Example(
            """\
            import functools
            from flask import Flask, Response
            app = Flask(__name__)
            ROWS = ["a", "b"]

            def logged(view):
                @functools.wraps(view)
                def wrapped(*args, **kwargs):
                    print(view.__name__)
                    return view(*args, **kwargs)
                return wrapped

            @app.get("/a")
            def a():
                return Response(ROWS, mimetype="text/plain")

            @app.get("/b")
            def b():
                return Response("{}", mimetype="application/javascript")

            @app.get("/c")
            @logged
            def c():
                return Response("x", mimetype="text/plain")

            @app.get("/d")
            def d():
                return Response("x", status="418 TEAPOT", content_type="text/plain")

            @app.get("/e")
            def e():
                return Response("", status=204)
            """,
            """\
            import functools
            from flask import Flask, Response
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)
            ROWS = ["a", "b"]

            def logged(view):
                @functools.wraps(view)
                def wrapped(*args, **kwargs):
                    print(view.__name__)
                    return view(*args, **kwargs)
                return wrapped

            @api.get("/a")
            def a():
                return Response(ROWS, mimetype="text/plain")

            @api.get("/b")
            def b():
                return Response("{}", mimetype="application/javascript")

            @api.get("/c")
            @logged
            def c():
                return Response("x", mimetype="text/plain")

            @api.get("/d")
            def d():
                return Response("x", status="418 TEAPOT", content_type="text/plain")

            @api.get("/e")
            def e():
                return Response("", status=204)
            """,
            title="a list body, a charset werkzeug adds alone, a project decorator, a str status, a status without a body: all stay",
        ),
        Example(
            """\
            from flask import Flask, Response
            try:
                from werkzeug.wrappers import Response
            except ImportError:
                from werkzeug.wrappers import BaseResponse as Response
            app = Flask(__name__)

            @app.get("/status")
            def status():
                return Response("Invalid status code", status=400)
            """,
            """\
            from flask import Flask, Response
            from flask2fastapi_runtime import FlaskBridge

            try:
                from werkzeug.wrappers import Response
            except ImportError:
                from werkzeug.wrappers import BaseResponse as Response
            app = Flask(__name__)
            api = FlaskBridge(app)

            @api.get("/status")
            def status():
                return Response("Invalid status code", status=400)
            """,
            title="a name werkzeug's Response rebinds (text/plain by default, not Flask's text/html) stays (httpbin)",
        ),
        Example(
            """\
            from starlette.responses import Response

            def page():
                return Response("x", media_type="text/plain")
            """,
            title="Starlette's Response, outside a view: unchanged",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rewrites: set[cst.Call] = set()  # the Response(...) calls to rewrite
        self.annotations: set[cst.Annotation] = set()  # -> flask.Response of views all of whose returns go
        self.references: list[cst.Name] = []  # the module's uses of a name it imported Flask's Response under
        self.anchor: cst.CSTNode | None = None

    def visit_Module(self, node: cst.Module) -> None:
        for name in findall(node, m.Name()):
            parent = self.get_metadata(Parents, name, None)
            if isinstance(parent, (cst.ImportAlias, cst.Attribute)):
                continue
            if self.qualified_names(name) & RESPONSE:
                self.references.append(name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not only_native_routes(self, node):
            return
        calls = [r.value for r in OwnBody(node).returns]
        convertible = [c for c in calls if isinstance(c, cst.Call) and flask_response(self, c.func) and self._convertible(c)]
        self.rewrites.update(convertible)  # type: ignore[arg-type]
        if convertible and len(convertible) == len(calls) and node.returns is not None:
            if self.names(node.returns.annotation, *ANNOTATION):
                self.annotations.add(node.returns)

    def _convertible(self, call: cst.Call) -> bool:
        bound = _bound(call)
        return bound is not None and alike(self, bound)

    # -- writing --------------------------------------------------------------------------------
    def leave_Annotation(self, original_node: cst.Annotation, updated_node: cst.Annotation) -> cst.Annotation:
        if original_node not in self.annotations:
            return updated_node
        self.consume(original_node.annotation)
        return updated_node.with_changes(annotation=cst.Name(PLACEHOLDER))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        """The call rewritten in place, each argument where and as it was written; Flask's
        default media type after the body where none was given."""
        if original_node not in self.rewrites:
            return updated_node
        self.consume(original_node.func)
        args: list[cst.Arg] = []
        for arg in updated_node.args:
            if arg.keyword is None or arg.keyword.value == "response":
                args.append(arg.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT))
                continue
            args.append(arg.with_changes(keyword=cst.Name(RENAMED[arg.keyword.value])))
        if not any(a.keyword is not None and a.keyword.value == "media_type" for a in args):
            body, rest = args[0], args[1:]
            comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            default = kwarg("media_type", string_literal("text/html"))
            if rest:
                default = default.with_changes(comma=body.comma)
            args = [body.with_changes(comma=comma), default, *rest]
        self.anchor = self.anchor or original_node
        return updated_node.with_changes(func=cst.Name(PLACEHOLDER), args=args)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        """Starlette's Response takes the name Flask's was imported under where every use of
        Flask's went (by this transform or another: streams'), else a name of its own."""
        if self.anchor is None:
            return updated_node
        gone = all(r in self.run.consumed for r in self.references)
        supersedes = (lambda q: q in RESPONSE) if gone and self.references else None
        made = self.import_reference(self.anchor, "fastapi", "Response", replaces=False, supersedes=supersedes)
        return updated_node.visit(_Named(made.value))


def alike(t: Transform, bound: dict[str, cst.BaseExpression]) -> bool:
    """flask.Response's arguments, by parameter name, that Starlette's Response writes alike
    (module doc): a literal body, a media type and a status with a body, literal headers."""
    if "response" not in bound or set(bound) - set(RENAMED) - {"response"}:
        return False
    body = bound["response"]
    if not (is_str_literal(body) or _bytes_literal(body) or isinstance(body, cst.FormattedString)):
        return False
    if not mimetype_alike(bound):
        return False
    status = bound.get("status")
    headers = bound.get("headers")
    # Starlette sends no Content-Length with a status that has no body; werkzeug decides alone
    code = status.evaluated_value if isinstance(status, cst.Integer) else None
    with_body = status is None or (code is not None and 200 <= code < 600 and code not in (204, 304))
    return with_body and (headers is None or literal_headers(t, headers, {}))


def _bytes_literal(node: cst.BaseExpression) -> bool:
    return isinstance(node, (cst.SimpleString, cst.ConcatenatedString)) and isinstance(node.evaluated_value, bytes)


class _Named(Transformer):
    def __init__(self, name: str) -> None:
        self.name = name

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return updated_node.with_changes(value=self.name) if updated_node.value == PLACEHOLDER else updated_node
