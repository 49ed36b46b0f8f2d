"""A native view's streamed ``Response(gen(), mimetype=...)`` -> Starlette's ``StreamingResponse``.

Targets https://fastapi.tiangolo.com/advanced/custom-response/#streamingresponse .
``return Response(stream_with_context(generate()), mimetype="text/event-stream", headers={...})``
becomes ``return StreamingResponse(generate(), media_type="text/event-stream", headers={...})``.
The runtime (responses.from_starlette) hands the returned StreamingResponse to Flask's request
cycle with its status and headers and streams its body on the event loop, unbuffered, after the
after_request hooks; the answer keeps its bytes, its Content-Type with werkzeug's charset and
no Content-Length. Only where that provably holds:

- a ``return`` of ``flask.Response(...)`` in a native view, its body a call of a generator
  function of the module (``def`` with ``yield``, no decorator): a generator is no sequence, so
  werkzeug gave it no Content-Length either;
- ``mimetype=`` a literal type both write alike (werkzeug adds ``; charset=utf-8`` to ``text/*``,
  a few ``application/`` types and ``+xml``; Starlette to ``text/*``); none is Flask's
  ``text/html``; a literal int ``status=``; ``headers=`` a dict of literal names (none of
  Content-Type, Content-Length, Set-Cookie) and str values; nothing else;
- no after_request hook of the app reads the body (``HookFacts``: only status and headers);
- ``stream_with_context(...)`` keeps Flask's request context (g, request, session,
  current_app, url_for, the DB session its teardown closes) alive while the generator runs.
  It goes only where the generator needs none of it: its code and every function of the module
  it reaches use no name of Flask, another module of the project, or any library but Python's
  own; the values it takes from the view are literals, path parameters or query values the view
  reads as parameters (an object the view made, such as an iterator another module returned,
  could still need Flask's context: the chatbot's ``llm.stream(...)`` reads ``current_app``
  lazily). Without ``stream_with_context`` the generator ran after Flask's context was gone
  already, so any generator converts. A read of ``g.x`` where the app's converted hooks keep
  ``x`` (request_state writes ``request.state.x``, the view taking Starlette's request) needs
  no Flask context either: the request's state outlives the view as its scope does, and holds
  what the hooks wrote, as ``g`` did.
"""

from __future__ import annotations

import re
import sys

import libcst as cst
import libcst.matchers as m
from libcst.metadata import BuiltinAssignment, GlobalScope, Scope

from codemod.async_facts import streamed_generators
from codemod.find import findall
from codemod.levels import is_flask
from codemod.state import G, REQUEST_TOKEN
from codemod.transform import Example, Transform
from transforms._flask import kwarg, string_literal
from transforms._values import is_str_literal, literal_headers
from transforms._views import OwnBody, native_plans, request_reads
from codemod.names import Parents, Scopes

RESPONSE = frozenset({"flask.Response", "flask.wrappers.Response"})
STREAM_WITH_CONTEXT = frozenset({"flask.stream_with_context", "flask.helpers.stream_with_context"})
RESPONSE_PARAMETERS = ("response", "status", "headers", "mimetype", "content_type", "direct_passthrough")


def flask_response(transform: Transform, node: cst.CSTNode) -> bool:
    """Whether ``node`` is Flask's Response and nothing else: a name bound to werkzeug's too
    (``try: from werkzeug.wrappers import Response``) answers ``text/plain`` by default."""
    names = transform.qualified_names(node)
    return bool(names) and names <= RESPONSE
RENAMED = {"status": "status_code", "headers": "headers", "mimetype": "media_type"}
MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
# werkzeug.utils.get_content_type adds the charset to these besides text/* and */*+xml
WERKZEUG_CHARSET = frozenset({
    "application/ecmascript", "application/javascript", "application/sql", "application/xml",
    "application/xml-dtd", "application/xml-external-parsed-entity",
})
LITERALS = (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.Name)


def charset_alike(media_type: str) -> bool:
    """Whether werkzeug and Starlette both add ``; charset=utf-8`` to ``media_type``, or neither."""
    werkzeug = media_type.startswith("text/") or media_type in WERKZEUG_CHARSET or media_type.endswith("+xml")
    return werkzeug == media_type.startswith("text/")


def mimetype_alike(bound: dict[str, cst.BaseExpression]) -> bool:
    """Whether a ``mimetype=`` among flask.Response's bound arguments (none: True) is a literal
    media type that werkzeug and Starlette write alike."""
    media = bound.get("mimetype")
    if media is None:
        return True
    media_type = media.evaluated_value if is_str_literal(media) else None  # type: ignore[union-attr]
    return bool(media_type and MEDIA_TYPE.fullmatch(media_type) and charset_alike(media_type))


class StreamsTransform(Transform):
    NAME = "streams"
    DESCRIPTION = "native views: Response(stream_with_context(gen()), mimetype=) -> StreamingResponse(gen(), media_type=)"
    PREFILTER = (b"Response",)
    EXAMPLES = (
        Example(
            """\
            import json
            from flask import Flask, Response, stream_with_context
            app = Flask(__name__)

            def event(name, data):
                return f"event: {name}\\ndata: {json.dumps(data)}\\n\\n"

            @app.get("/count/<int:start>")
            def count(start):
                def generate():
                    for n in range(start, 0, -1):
                        yield event("tick", {"n": n})
                return Response(stream_with_context(generate()), mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})

            @app.get("/lines")
            def lines():
                def generate():
                    yield "a\\n"
                return Response(generate(), status=206)
            """,
            """\
            import json
            from flask import Flask
            from fastapi.responses import StreamingResponse
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            def event(name, data):
                return f"event: {name}\\ndata: {json.dumps(data)}\\n\\n"

            @api.get("/count/{start}")
            def count(start: int):
                def generate():
                    for n in range(start, 0, -1):
                        yield event("tick", {"n": n})
                return StreamingResponse(generate(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

            @api.get("/lines")
            def lines():
                def generate():
                    yield "a\\n"
                return StreamingResponse(generate(), media_type="text/html", status_code=206)
            """,
            title="a generator needing no Flask context; Flask's default media type written out",
        ),
        Example(
            """\
            from flask import Flask, Response, current_app, g, stream_with_context
            from mylib import upstream
            app = Flask(__name__)

            @app.get("/a")
            def a():
                def generate():
                    yield g.user
                return Response(stream_with_context(generate()), mimetype="text/plain")

            @app.get("/b")
            def b():
                chunks = upstream()
                def generate():
                    yield from chunks
                return Response(stream_with_context(generate()), mimetype="text/plain")

            @app.get("/c")
            def c():
                def generate():
                    yield "x"
                return Response(generate(), mimetype="application/javascript")

            @app.get("/d")
            def d():
                return Response(["a", "b"], mimetype="text/plain")
            """,
            """\
            from flask import Flask, Response, current_app, g, stream_with_context
            from mylib import upstream
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            @api.get("/a")
            def a():
                def generate():
                    yield g.user
                return Response(stream_with_context(generate()), mimetype="text/plain")

            @api.get("/b")
            def b():
                chunks = upstream()
                def generate():
                    yield from chunks
                return Response(stream_with_context(generate()), mimetype="text/plain")

            @api.get("/c")
            def c():
                def generate():
                    yield "x"
                return Response(generate(), mimetype="application/javascript")

            @api.get("/d")
            def d():
                return Response(["a", "b"], mimetype="text/plain")
            """,
            title="a generator using g, one streaming another library's iterator, a charset werkzeug adds alone, a list body: all stay",
        ),
        Example(
            """\
            from flask import Flask, Response, g, request, stream_with_context
            app = Flask(__name__)

            @app.before_request
            def who():
                g.user = request.headers.get("X-User", "anonymous")

            @app.get("/hello")
            def hello():
                def generate():
                    yield f"hello {g.user}\\n"
                return Response(stream_with_context(generate()), mimetype="text/plain")
            """,
            """\
            from flask import Flask
            from fastapi import Request
            from fastapi.responses import StreamingResponse
            from flask2fastapi_runtime import FlaskBridge, RequestHooks

            app = Flask(__name__)
            api = FlaskBridge(app)

            async def who(request: Request):
                request.state.user = request.headers.get("X-User", "anonymous")


            api.add_middleware(RequestHooks, before=[who])

            @api.get("/hello")
            def hello(request: Request):
                def generate():
                    yield f"hello {request.state.user}\\n"
                return StreamingResponse(generate(), media_type="text/plain")
            """,
            title="a generator reading what the converted hooks keep: request.state, which outlives the view",
        ),
        Example(
            """\
            from starlette.responses import Response

            def page():
                def generate():
                    yield "x"
                return Response(generate(), media_type="text/plain")
            """,
            title="Starlette's Response, outside a view: unchanged",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rewrites: set[cst.Call] = set()  # the Response(...) calls to rewrite
        self.functions: dict[str, cst.FunctionDef] = {}

    def visit_Module(self, node: cst.Module) -> None:
        self.functions = {s.name.value: s for s in node.body if isinstance(s, cst.FunctionDef)}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        plans = native_plans(self, node)
        if not plans or not self._hooks_keep_the_body():
            return
        for returned in OwnBody(node).returns:
            call = returned.value
            if isinstance(call, cst.Call) and flask_response(self, call.func):
                if self._convertible(node, call, plans[0].annotations):
                    self.rewrites.add(call)

    def _hooks_keep_the_body(self) -> bool:
        project = self.run.project
        return not project.other_hooks and all(
            h.kind != "after" or h.problem is None or h.problem.startswith("it uses ") for h in project.hooks
        )

    # -- reading --------------------------------------------------------------------------------
    def _convertible(self, view: cst.FunctionDef, call: cst.Call, path: dict) -> bool:
        """Whether ``Response(...)``, returned by the native ``view``, converts (module doc)."""
        bound = _bound(call)
        if bound is None or "response" not in bound or set(bound) - set(RENAMED) - {"response"}:
            return False
        body = bound["response"]
        context = isinstance(body, cst.Call) and self.names(body.func, *STREAM_WITH_CONTEXT)
        if context:
            if len(body.args) != 1 or body.args[0].keyword is not None or body.args[0].star:  # type: ignore[union-attr]
                return False
            body = body.args[0].value  # type: ignore[union-attr]
        generator = self._generator(view, body)
        if generator is None:
            return False
        if context and not self._async_streamed(view, generator) and not (self._clean(generator, view, path, set()) and self._plain_arguments(body, view, path)):  # type: ignore[arg-type]
            return False
        if not mimetype_alike(bound):
            return False
        status = bound.get("status")
        headers = bound.get("headers")
        return (status is None or isinstance(status, cst.Integer)) and (headers is None or literal_headers(self, headers, {n: q for n, (q, _) in path.items()}))

    def _generator(self, view: cst.FunctionDef, body: cst.BaseExpression) -> cst.FunctionDef | None:
        """The generator function of this module (or of the view) that ``body`` calls."""
        if not isinstance(body, cst.Call) or not isinstance(body.func, cst.Name):
            return None
        function = self._function_named(body.func, view)
        if function is None or function.decorators or function.asynchronous is not None:
            return None
        return function if OwnBody(function).generator else None

    def _function_named(self, name: cst.Name, view: cst.FunctionDef) -> cst.FunctionDef | None:
        scope = self.get_metadata(Scopes, name, None)
        assignments = list(scope[name.value]) if scope is not None else []
        if len(assignments) != 1:
            return None
        node = getattr(assignments[0], "node", None)
        if not isinstance(node, cst.FunctionDef):
            return None
        nested = node in findall(view.body, m.FunctionDef())
        return node if nested or self.functions.get(name.value) is node else None

    def _async_streamed(self, view: cst.FunctionDef, generator: cst.FunctionDef) -> bool:
        """A generator the async plan makes an async generator of its async view
        (transforms/async_routes.py): it runs on the event loop with its own async session where
        it used the request's, and the names of Flask it reads are those the other transforms
        convert (``current_app.logger``, where the app's logger becomes a module logger)."""
        plan = self.run.project.async_plan
        qualified = f"{self.context.full_module_name}.{view.name.value}"
        if qualified not in plan.functions or generator not in streamed_generators(view):
            return False
        getters = {r.getter for r in plan.resources.values()}
        logs = self.run.project.logger_name is not None
        # g attributes the view takes from a guard's dependency (``g.user``): the closure's ``user``
        state = self.run.project.state
        users = {f"{g}.{state.guards[t].primary}" for t, takes in state.views.get(qualified, {}).items() if takes and t in state.guards for g in G}
        for name in findall(generator, m.Name() | m.Attribute()):
            found = self.qualified_names(name)
            if not any(is_flask(q) for q in found) or found & getters or (found and found <= users):
                continue
            if logs and all(q.startswith("flask.current_app.logger") or q == "flask.current_app" for q in found):
                continue
            parent = self.get_metadata(Parents, name, None)
            if isinstance(parent, cst.Attribute) and parent.value is name:
                continue  # judged as part of the attribute
            return False
        return True

    # -- is the generator free of Flask's context? ----------------------------------------------------
    def _clean(self, function: cst.FunctionDef, view: cst.FunctionDef, path: dict, seen: set[cst.FunctionDef]) -> bool:
        """Whether ``function`` (the generator or a function of the module it reaches) needs no
        Flask context: every name it reads is its own, a builtin, a literal constant, Python's
        own library, a plain value of the view, or a module function that is clean too."""
        if function in seen:
            return True
        seen.add(function)
        own = self._scope_in(function)
        if own is None:
            return False
        for name in findall(function, m.Name()):
            parent = self.get_metadata(Parents, name, None)
            if _not_a_read(name, parent) or self._kept_on_state(name, parent, view):
                continue
            scope = self.get_metadata(Scopes, name, None)
            assignments = list(scope[name.value]) if scope is not None else []
            if not assignments:
                return False  # a name the scopes do not know (``global``, a NameError)
            for assignment in assignments:
                if isinstance(assignment, BuiltinAssignment) or _within(assignment.scope, own):
                    continue
                if not self._allowed(assignment, view, path, seen):
                    return False
        return True

    def _kept_on_state(self, name: cst.Name, parent: cst.CSTNode | None, view: cst.FunctionDef) -> bool:
        """``g.user`` where the app's converted hooks keep ``user`` and the view takes Starlette's
        request: request_state writes ``request.state.user``, the object the hooks wrote, which
        outlives the view's return as the request's scope does (stream_with_context kept ``g``
        alive for the same reads)."""
        if not (isinstance(parent, cst.Attribute) and parent.value is name and self.qualified_names(name) & G):
            return False
        plan = self.run.project.state
        qualified = f"{self.context.full_module_name}.{view.name.value}"
        return parent.attr.value in plan.hook_attributes and plan.views.get(qualified, {}).get(REQUEST_TOKEN, False)

    def _scope_in(self, function: cst.FunctionDef) -> Scope | None:
        body = function.body
        first = body.body[0] if isinstance(body, cst.IndentedBlock) and body.body else None
        return self.get_metadata(Scopes, first, None) if first is not None else None

    def _allowed(self, assignment, view: cst.FunctionDef, path: dict, seen: set[cst.FunctionDef]) -> bool:
        node = getattr(assignment, "node", None)
        if isinstance(assignment.scope, GlobalScope):
            if isinstance(node, cst.FunctionDef):
                return self.functions.get(node.name.value) is node and self._clean(node, view, path, seen)
            if isinstance(node, (cst.Import, cst.ImportFrom)):
                return _stdlib(node)
            return _literal(self._assigned(node))
        view_scope = self._scope_in(view)
        if assignment.scope is view_scope:
            return self._plain_in_view(assignment, view, path)
        return False

    def _assigned(self, target: cst.CSTNode | None) -> cst.BaseExpression | None:
        parent = self.get_metadata(Parents, target, None) if target is not None else None
        if isinstance(parent, cst.AssignTarget):
            parent = self.get_metadata(Parents, parent, None)
        return parent.value if isinstance(parent, (cst.Assign, cst.AnnAssign)) else None

    def _plain_in_view(self, assignment, view: cst.FunctionDef, path: dict) -> bool:
        """A value of the view that needs no context: a path parameter, a literal, or a query
        value the view reads (request_params makes it a typed parameter)."""
        node = getattr(assignment, "node", None)
        if isinstance(node, cst.Param):
            return node.name.value in path
        value = self._assigned(node)
        if _literal(value):
            return True
        reads = request_reads(self, view)
        param = reads.by_read.get(value) if reads is not None and value is not None else None
        return param is not None and param.source == "args"

    def _plain_arguments(self, call: cst.Call, view: cst.FunctionDef, path: dict) -> bool:
        for arg in call.args:
            if arg.star or not isinstance(arg.value, (cst.Name, *LITERALS)):
                return False
            if isinstance(arg.value, cst.Name):
                scope = self.get_metadata(Scopes, arg.value, None)
                assignments = list(scope[arg.value.value]) if scope is not None else []
                if not assignments or not all(self._plain_in_view(a, view, path) for a in assignments):
                    return False
        return True

    # -- writing --------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        """The call rewritten in place, each argument where and as it was written."""
        if original_node not in self.rewrites:
            return updated_node
        self.consume(original_node.func)
        args: list[cst.Arg] = []
        for index, arg in enumerate(updated_node.args):
            name = arg.keyword.value if arg.keyword is not None else RESPONSE_PARAMETERS[index]
            if name == "response":
                value = arg.value
                if isinstance(value, cst.Call) and self.names(original_node.args[index].value.func, *STREAM_WITH_CONTEXT):  # type: ignore[attr-defined]
                    self.consume(original_node.args[index].value.func)  # type: ignore[attr-defined]
                    value = value.args[0].value
                args.append(arg.with_changes(value=value, keyword=None, equal=cst.MaybeSentinel.DEFAULT))
                continue
            keyword = cst.Name(RENAMED[name])
            equal = arg.equal if arg.keyword is not None else cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
            args.append(arg.with_changes(keyword=keyword, equal=equal))
        if not any(a.keyword is not None and a.keyword.value == "media_type" for a in args):
            # Flask's default, after the body, laid out as the body's own comma lays out what follows it
            body = args[0]
            default = kwarg("media_type", string_literal("text/html"))
            if body.comma == cst.MaybeSentinel.DEFAULT:
                args = [body.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), default, *args[1:]]
            else:
                args = [body.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), default.with_changes(comma=body.comma), *args[1:]]
                if len(args) == 2:
                    args[-1] = args[-1].with_changes(comma=body.comma)
        made = self.import_reference(original_node, "fastapi.responses", "StreamingResponse", replaces=False)
        return updated_node.with_changes(func=made, args=args)


def _bound(call: cst.Call) -> dict[str, cst.BaseExpression] | None:
    """flask.Response's arguments by parameter name; None for *args, **kwargs or a TypeError."""
    bound: dict[str, cst.BaseExpression] = {}
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if arg.keyword is None:
            if index >= len(RESPONSE_PARAMETERS) or bound:
                return None
            bound[RESPONSE_PARAMETERS[index]] = arg.value
        elif arg.keyword.value in RESPONSE_PARAMETERS and arg.keyword.value not in bound:
            bound[arg.keyword.value] = arg.value
        else:
            return None
    return bound


def _within(scope: Scope | None, outer: Scope) -> bool:
    while scope is not None and not isinstance(scope, GlobalScope):
        if scope is outer:
            return True
        scope = scope.parent
    return False


def _not_a_read(name: cst.Name, parent: cst.CSTNode | None) -> bool:
    """``x.attr``'s attr (x is read), a parameter's or a def's name, a keyword, an import."""
    if isinstance(parent, cst.Attribute):
        return parent.attr is name
    if isinstance(parent, (cst.Param, cst.FunctionDef, cst.ClassDef)):
        return parent.name is name
    if isinstance(parent, cst.Arg):
        return parent.keyword is name
    return isinstance(parent, (cst.ImportAlias, cst.AsName))


def _stdlib(statement: cst.Import | cst.ImportFrom) -> bool:
    """An absolute import of Python's own library (no Flask, no project module)."""
    from libcst.helpers import get_full_name_for_node

    if isinstance(statement, cst.ImportFrom):
        if statement.relative or statement.module is None:
            return False
        module = get_full_name_for_node(statement.module) or ""
    else:
        module = get_full_name_for_node(statement.names[0].name) or ""  # type: ignore[index]
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names and not is_flask(module)


def _literal(value: cst.BaseExpression | None) -> bool:
    if isinstance(value, (cst.Tuple, cst.List)):
        return all(isinstance(e, cst.Element) and _literal(e.value) for e in value.elements)
    if isinstance(value, cst.Name):
        return value.value in ("True", "False", "None")
    return isinstance(value, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString))
