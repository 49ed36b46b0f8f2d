"""What native views return, written as FastAPI does, where the answer provably stays the same.

Targets https://fastapi.tiangolo.com/tutorial/response-status-code/ ,
https://fastapi.tiangolo.com/advanced/response-headers/ and
https://fastapi.tiangolo.com/advanced/response-directly/ .
A native view still runs in Flask's request cycle (the runtime's FlaskRoute), which makes a
response of a returned dict or list exactly as ``jsonify`` does, applies the route's
``status_code`` to a plain body, the headers set on an injected ``response: Response`` and turns
a returned Starlette response into Flask's. So, only in native views:

- ``return jsonify(x)`` -> ``return x`` where x is a dict or a list (``_values.is_container``);
  ``jsonify(a=1)`` -> ``{"a": 1}``, ``jsonify(a, b)`` -> ``[a, b]`` (``jsonify()`` is ``null``:
  it stays);
- the one 2xx status all JSON returns agree on (``return x, 201``) -> ``status_code=201`` on
  the route, ``return x``; declared only where every other return fixes its own status (an
  error tuple, a response object, a project helper returning one: ``facts.has_own_status``),
  the view cannot end without returning and no guard decorator of the project may answer in
  its stead with a value that does not (``facts.answers_early``);
- headers of such a return -> ``response.headers["Location"] = loc`` before it, where the values
  are names and literals that computing the body first could not change;
- a JSON return with another status -> ``JSONResponse(x, status_code=400)`` where x is data
  JSONResponse encodes to the same JSON (``_values.is_native``) and the project leaves Flask's
  JSON provider as it is (``Project.own_json``), else the tuple stays, without its ``jsonify``;
- ``return "", 204`` -> ``return Response(status_code=204)``;
- ``return jsonify(x)`` (or ``jsonify(x), 404``) of a value the code does not show to be a dict
  or a list -> ``return FlaskJSONResponse(x)``: the runtime's JSONResponse writes what jsonify
  wrote for any value (a str too, which a bare ``return x`` would serve as HTML), where the
  project leaves Flask's JSON provider as it is.

Anything else a view returns (a str, which Flask serves as HTML, a template, a value of a type
the code does not show) stays as it is: the route is then not yet idiomatic, which the report
shows. ``jsonify`` anywhere but a return, and in bridged views or other functions, stays too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from codemod.facts import has_own_status
from codemod.find import findall
from codemod.plan import LOGIN_REQUIRED, RoutePlan
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME, kwarg, last_arg, string_literal
from transforms._values import Parameters, is_container, is_native, is_str_literal, literal_headers
from transforms._views import OwnBody, names_used, native_plans, option, with_parameter, with_route_options
from codemod.names import Parents

JSONIFY = frozenset({"flask.jsonify", "flask.json.jsonify"})
# expressions that end where they start without brackets of their own around them
SELF_CONTAINED = (
    cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Dict, cst.List, cst.Set, cst.DictComp, cst.ListComp,
    cst.SetComp, cst.GeneratorExp, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString,
)


@dataclass(frozen=True)
class Reply:
    """One ``return`` of a native view, read from the original code."""

    kind: str  # "json" (a dict or list body), "empty" ("", 204), "own" (fixes its status), "plain"
    status: int | None  # given in the tuple (None: Flask's 200, or the route's)
    headers: cst.BaseExpression | None
    jsonify: cst.Call | None  # the body is this jsonify(...) call, to unwrap
    native: bool  # the body's data encodes alike through JSONResponse


@dataclass
class Rewrite:
    # "body" | "tuple" (without jsonify) | "json" (JSONResponse) | "empty" (Response(204)) | "flask_json" (a
    # helper's FlaskJSONResponse) | "flask_json_any" (jsonify(x) of any x: FlaskJSONResponse(x))
    to: str
    reply: Reply
    header_lines: bool = False  # "body": the headers go to the injected response first


@dataclass
class ViewEdit:
    status: int = 200  # declared on the route
    response: bool = False  # needs a ``response: Response`` parameter
    rewrites: dict[cst.Return, Rewrite] = field(default_factory=dict)


class ResponsesTransform(Transform):
    NAME = "responses"
    DESCRIPTION = "native views: return jsonify(x), 201 -> status_code=201 and return x; JSONResponse; Response(204)"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, jsonify
            app = Flask(__name__)
            ITEMS = {}

            @app.post("/items/<int:item_id>")
            def create(item_id):
                if item_id in ITEMS:
                    return jsonify(error="exists"), 409
                ITEMS[item_id] = {"id": item_id}
                return jsonify(ITEMS[item_id], item_id), 201, {"Location": f"/items/{item_id}"}

            @app.delete("/items/<int:item_id>")
            def delete(item_id):
                ITEMS.pop(item_id, None)
                return "", 204
            """,
            """\
            from flask import Flask
            from fastapi import Response
            from fastapi.responses import JSONResponse
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)
            ITEMS = {}

            @api.post("/items/{item_id}", status_code=201)
            def create(item_id: int, response: Response):
                if item_id in ITEMS:
                    return JSONResponse({"error": "exists"}, status_code=409)
                ITEMS[item_id] = {"id": item_id}
                response.headers["Location"] = f"/items/{item_id}"
                return [ITEMS[item_id], item_id]

            @api.delete("/items/{item_id}")
            def delete(item_id: int):
                ITEMS.pop(item_id, None)
                return Response(status_code=204)
            """,
            title="the status all JSON returns agree on goes to the route; an error status to JSONResponse",
        ),
        Example(
            """\
            import flask
            from flask import jsonify as j
            app = flask.Flask(__name__)

            def render(item):
                return flask.jsonify(item)

            @app.get("/items/<name>")
            def item(name):
                if name == "x":
                    return render(name), 201
                return j({"name": name})
            """,
            """\
            import flask
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel

            app = flask.Flask(__name__)
            api = FlaskBridge(app)

            def render(item):
                return flask.jsonify(item)

            class ItemResponse(BaseModel):
                \"\"\"What item answers with (documents its 200 answer in OpenAPI).\"\"\"

                name: str

            @api.get("/items/{name}", response_model=ItemResponse)
            def item(name: str):
                if name == "x":
                    return render(name), 201
                return {"name": name}
            """,
            title="an aliased jsonify is Flask's; the one in a helper that is no view stays",
        ),
        Example(
            """\
            from flask import Flask, jsonify, render_template
            from mylib import jsonify as dumps
            app = Flask(__name__)

            @app.route("/a/<x>", provide_automatic_options=False)
            def bridged(x):
                return jsonify(x=x), 201

            @app.get("/b/<x>")
            def page(x):
                if x:
                    return render_template("b.html", x=x)
                body = jsonify(x=x)
                body.status_code = 202
                return body

            @app.get("/c/<x>")
            def other(x):
                return dumps({"x": x}), 201
            """,
            """\
            from flask import Flask, jsonify, render_template
            from mylib import jsonify as dumps
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            @app.route("/a/<x>", provide_automatic_options=False)
            def bridged(x):
                return jsonify(x=x), 201

            @api.get("/b/{x}")
            def page(x: str):
                if x:
                    return render_template("b.html", x=x)
                body = jsonify(x=x)
                body.status_code = 202
                return body

            @api.get("/c/{x}")
            def other(x: str):
                return dumps({"x": x}), 201
            """,
            title="a bridged view, a str body, jsonify outside a return and a lookalike keep their code",
        ),
        Example(
            """\
            from flask import Blueprint, jsonify
            bp = Blueprint("items", __name__)

            @bp.get("/items/<int:item_id>")
            def get_item(item_id):
                return jsonify(id=item_id), 201
            """,
            title="a view of a blueprint no app registers is Flask's (bridged): unchanged",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.views: dict[cst.FunctionDef, ViewEdit] = {}
        self.rewrites: dict[cst.Return, Rewrite] = {}
        self.header_lines: dict[cst.SimpleStatementLine, list[cst.SimpleStatementLine]] = {}

    # -- reading a view --------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._responder(node)
        plans = native_plans(self, node)
        if not plans:
            return
        body = OwnBody(node)
        if body.generator:
            return
        edit = self._edit(node, body, plans[0])
        self.views[node] = edit
        self.rewrites.update(edit.rewrites)

    def _edit(self, function: cst.FunctionDef, body: OwnBody, plan: RoutePlan) -> ViewEdit:
        parameters = {name: qualified for name, (qualified, _) in plan.annotations.items()}
        replies = {node: self._reply(node, parameters) for node in body.returns}
        statuses = {r.status or 200 for r in replies.values() if r.kind == "json"}
        statuses |= {200} if any(r.kind == "plain" for r in replies.values()) else set()
        success = sorted(s for s in statuses if 200 <= s < 300)
        edit = ViewEdit(status=success[0] if len(success) == 1 else 200)
        if edit.status != 200 and not _ends_in_return(function.body):
            edit.status = 200  # falling off the end is Flask's error, not a 201 with null
        if edit.status != 200 and self._guarded_by_plain_answers(function):
            edit.status = 200  # a guard's own answer would get the declared status too
        response_free = "response" not in names_used(function)
        for node, reply in replies.items():
            rewrite = self._rewrite(node, reply, edit.status, response_free, parameters)
            if rewrite is not None:
                edit.rewrites[node] = rewrite
                edit.response |= rewrite.header_lines
        return edit

    def _responder(self, function: cst.FunctionDef) -> None:
        """A project helper whose answers go straight back from native views
        (``Project.json_responders``) and every return of which is ``jsonify(...), 400``: each
        return becomes ``FlaskJSONResponse(..., status_code=400)``, the runtime's JSONResponse
        with jsonify's bytes, which FlaskRoute makes Flask's response of, as before."""
        qualified = f"{self.context.full_module_name or ''}.{function.name.value}"
        if qualified not in self.run.project.json_responders:
            return
        if not isinstance(self.get_metadata(Parents, function, None), cst.Module):
            return
        body = OwnBody(function)
        positional = [p.name.value for p in (*function.params.posonly_params, *function.params.params)]
        replies: dict[cst.Return, Rewrite] = {}
        for node in body.returns:
            parts = _parts(node.value) if node.value is not None else None
            if parts is None or len(parts) != 2:
                return
            jsonify, status = parts
            if isinstance(status, cst.Name) and status.value in positional:
                # a status parameter every caller gives an int literal (Flask also took "400 X")
                if not self.run.project.int_argument(qualified, positional.index(status.value), status.value):
                    return
                if not _every_binding_is_parameter(self, status):
                    return
            elif not isinstance(status, cst.Integer):
                return
            if not (isinstance(jsonify, cst.Call) and self.names(jsonify.func, *JSONIFY)) or _arguments(jsonify) is None:
                return
            replies[node] = Rewrite("flask_json", Reply("own", None, status, jsonify, False))
        if replies and not body.generator:
            self.rewrites.update(replies)

    def _guarded_by_plain_answers(self, function: cst.FunctionDef) -> bool:
        """Whether a decorator may answer in the view's stead with a value that does not fix its
        status: a project guard that does (facts.answers_early), or Flask-Login's
        login_required, which answers with what the app's unauthorized_handler returns."""
        view = self.run.project.views.get((self.context.filename or "", function.name.value))
        plain = self.run.project.plain_guards | LOGIN_REQUIRED
        return view is None or any(decorator.names & plain for decorator in view.decorators)

    def _reply(self, node: cst.Return, parameters: Parameters) -> Reply:
        value = node.value
        if value is None:
            return Reply("plain", None, None, None, False)
        body, status, headers = value, None, None
        parts = _parts(value)
        if parts is not None:
            body = parts[0]
            if len(parts) == 3 or isinstance(parts[1], cst.Dict):
                headers = parts[-1]
            if len(parts) == 3 or not isinstance(parts[1], cst.Dict):
                status = parts[1]
        code = int(status.value) if isinstance(status, cst.Integer) else None
        jsonify = body if isinstance(body, cst.Call) and self.names(body.func, *JSONIFY) else None
        data = _jsonify_data(self, jsonify) if jsonify is not None else [body]
        if status is None or code is not None:
            if data is not None and (jsonify is not None or is_container(self, body)):
                native = all(is_native(self, d, parameters) for d in data)
                return Reply("json", code, headers, jsonify, native)
            if code == 204 and is_str_literal(body) and body.evaluated_value == "":  # type: ignore[union-attr]
                return Reply("empty", code, headers, None, False)
            if jsonify is not None and data is None and _one_value(jsonify) and headers is None and not self.run.project.own_json:
                return Reply("any_json", code, None, jsonify, False)
        own = has_own_status(value, self.qualified_names, self.run.project.responders)
        return Reply("own" if own else "plain", code, headers, None, False)

    def _rewrite(
        self, node: cst.Return, reply: Reply, declared: int, response_free: bool, parameters: Parameters
    ) -> Rewrite | None:
        headers_ok = reply.headers is None or literal_headers(self, reply.headers, parameters)
        if reply.kind == "empty":
            return Rewrite("empty", reply) if headers_ok else None
        if reply.kind == "any_json":
            return Rewrite("flask_json_any", reply)
        if reply.kind != "json":
            return None
        unwrap = Rewrite("tuple", reply) if reply.jsonify is not None else None
        if (reply.status or 200) == declared:
            if reply.headers is None:
                return Rewrite("body", reply) if reply.jsonify is not None or reply.status is not None else None
            in_line = isinstance(self.get_metadata(Parents, node, None), cst.SimpleStatementLine)
            if headers_ok and response_free and in_line and self._movable(node, reply.headers):
                return Rewrite("body", reply, header_lines=True)
        if headers_ok and reply.native and not self.run.project.own_json:
            return Rewrite("json", reply)
        return unwrap

    def _movable(self, node: cst.Return, headers: cst.BaseExpression) -> bool:
        """Whether the header values may be computed before the body rather than after it:
        each is made of names and literals alone (``f"/items/{item_id}"``, ``location``), which
        the body cannot change short of an ``:=`` (``return jsonify(save(x)), 201,
        {"Location": url_for(..., id=x.id)}`` reads the id only after save())."""
        assert isinstance(headers, cst.Dict) and node.value is not None
        if findall(node.value, m.NamedExpr()):
            return False
        for element in headers.elements:
            value = element.value  # type: ignore[union-attr]
            parts = [value] if not isinstance(value, cst.FormattedString) else [
                p.expression for p in value.parts if isinstance(p, cst.FormattedStringExpression)
            ]
            if not all(isinstance(p, (cst.Name, cst.Integer)) or is_str_literal(p) for p in parts):
                return False
        return True

    # -- writing it ------------------------------------------------------------------------------
    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        rewrite = self.rewrites.get(original_node)
        if rewrite is None or updated_node.value is None:
            return updated_node
        reply, value = rewrite.reply, updated_node.value
        parts = _parts(value) if _parts(original_node.value) is not None else None  # type: ignore[arg-type]
        body = parts[0] if parts else value
        headers = parts[-1] if parts and reply.headers is not None else None
        if reply.jsonify is not None:
            if not isinstance(body, cst.Call):
                return updated_node  # another transform rewrote the call
            self.consume(reply.jsonify)
            body = _unwrapped(body)
        if rewrite.to == "flask_json_any":
            made = self.import_reference(original_node, RUNTIME, "FlaskJSONResponse", replaces=False)
            args = [cst.Arg(body)]
            if reply.status is not None:
                args = [args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), kwarg("status_code", cst.Integer(str(reply.status)))]
            return updated_node.with_changes(value=cst.Call(made, args))
        if rewrite.to == "flask_json":
            assert parts is not None
            made = self.import_reference(original_node, RUNTIME, "FlaskJSONResponse", replaces=False)
            args = [cst.Arg(body, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), kwarg("status_code", parts[1])]
            return updated_node.with_changes(value=cst.Call(made, args))
        if rewrite.to == "body":
            if rewrite.header_lines and isinstance(headers, cst.Dict):
                line = self.get_metadata(Parents, original_node)
                self.header_lines[line] = [_set_header(e) for e in headers.elements if isinstance(e, cst.DictElement)]
            return updated_node.with_changes(value=body)
        if rewrite.to == "tuple":
            assert parts is not None or not isinstance(value, cst.Tuple)
            if not parts:
                return updated_node.with_changes(value=body)
            elements = list(value.elements)  # type: ignore[attr-defined]
            elements[0] = elements[0].with_changes(value=body)
            return updated_node.with_changes(value=value.with_changes(elements=elements))
        args = [cst.Arg(body)] if rewrite.to == "json" else []
        if reply.status is not None and reply.status != 200 or rewrite.to == "empty":
            args.append(kwarg("status_code", cst.Integer(str(reply.status))))
        if headers is not None:
            args.append(kwarg("headers", headers))
        if rewrite.to == "json":
            made = self.import_reference(original_node, "fastapi.responses", "JSONResponse", replaces=False)
        else:
            made = self.import_reference(original_node, "fastapi", "Response", replaces=False)
        for_args = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in args]
        return updated_node.with_changes(value=cst.Call(made, last_arg(for_args)))

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        lines = self.header_lines.pop(original_node, None)
        if not lines:
            return updated_node
        lines[0] = lines[0].with_changes(leading_lines=updated_node.leading_lines)
        return cst.FlattenSentinel([*lines, updated_node.with_changes(leading_lines=[])])

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        edit = self.views.get(original_node)
        if edit is None:
            return updated_node
        if edit.response:
            annotation = self.import_reference(original_node, "fastapi", "Response", replaces=False)
            updated_node = with_parameter(updated_node, "response", annotation)
        if edit.status != 200:
            status = option("status_code", cst.Integer(str(edit.status)))
            updated_node = with_route_options(self, original_node, updated_node, [status])
        return updated_node


def _parts(value: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The elements of a returned ``(body, status)``, ``(body, headers)`` or ``(body, status,
    headers)`` tuple; None for any other value."""
    if not isinstance(value, cst.Tuple) or not 2 <= len(value.elements) <= 3:
        return None
    if any(isinstance(e, cst.StarredElement) for e in value.elements):
        return None
    return [e.value for e in value.elements]


def _jsonify_data(t: Transform, call: cst.Call) -> list[cst.BaseExpression] | None:
    """The values a ``jsonify(...)`` call serializes, where it turns into a dict or list literal
    (or its one argument, a dict or a list); None where it does not."""
    if any(a.star for a in call.args):
        return None
    positional = [a.value for a in call.args if a.keyword is None]
    keywords = [a.value for a in call.args if a.keyword is not None]
    if positional and keywords or not positional and not keywords:
        return None  # Flask's TypeError; jsonify() is null, which no returned body gives
    if any(a.keyword is not None and a.keyword.value == "self" for a in call.args):
        return None  # jsonify(self=...) is a TypeError too (app.json.response(self, ...))
    if len(positional) == 1 and not is_container(t, positional[0]):
        return None
    return positional or keywords


def _one_value(call: cst.Call) -> bool:
    """``jsonify(x)``: one positional argument, nothing else."""
    return len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star


def _unwrapped(call: cst.Call) -> cst.BaseExpression:
    """What ``jsonify(...)`` serializes, as a literal laid out like the call's arguments."""
    args = list(call.args)
    if len(args) == 1 and args[0].keyword is None:
        value = args[0].value
        multiline = "\n" in cst.Module([]).code_for_node(value)
        if multiline and not isinstance(value, SELF_CONTAINED) and not value.lpar:
            return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return value
    closing = args[-1].whitespace_after_arg
    if args[0].keyword is not None:
        elements: list = [
            cst.DictElement(
                string_literal(a.keyword.value),  # type: ignore[union-attr]
                a.value,
                comma=a.comma,
                whitespace_before_colon=cst.SimpleWhitespace(""),
            )
            for a in args
        ]
        return cst.Dict(
            elements, lbrace=cst.LeftCurlyBrace(call.whitespace_before_args), rbrace=cst.RightCurlyBrace(closing)
        )
    elements = [cst.Element(a.value, comma=a.comma) for a in args]
    return cst.List(
        elements, lbracket=cst.LeftSquareBracket(call.whitespace_before_args), rbracket=cst.RightSquareBracket(closing)
    )


def _set_header(element: cst.DictElement) -> cst.SimpleStatementLine:
    """``response.headers[name] = value``."""
    target = cst.Subscript(
        cst.Attribute(cst.Name("response"), cst.Name("headers")), [cst.SubscriptElement(cst.Index(element.key))]
    )
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(target)], element.value)])


def _ends_in_return(block: cst.BaseSuite) -> bool:
    """Whether every way through ``block`` ends in a ``return`` or a ``raise``."""
    if isinstance(block, cst.SimpleStatementSuite):
        return bool(block.body) and isinstance(block.body[-1], (cst.Return, cst.Raise))
    statements = list(block.body)  # type: ignore[attr-defined]
    last = statements[-1] if statements else None
    if isinstance(last, cst.SimpleStatementLine):
        return isinstance(last.body[-1], (cst.Return, cst.Raise))
    if isinstance(last, cst.If):
        orelse = last.orelse
        if orelse is None:
            return False
        rest = orelse.body if isinstance(orelse, cst.Else) else cst.IndentedBlock([orelse])
        return _ends_in_return(last.body) and _ends_in_return(rest)
    return False


def _arguments(call: cst.Call) -> list[cst.Arg] | None:
    """A ``jsonify(...)`` call's arguments where FlaskJSONResponse can take what it serializes:
    one positional argument (any value), or only positional ones (a list), or only keywords (a
    dict); None for ``jsonify()`` (null), a mix, a starred argument or ``self=``."""
    args = list(call.args)
    if not args or any(a.star for a in args):
        return None
    keywords = [a for a in args if a.keyword is not None]
    if keywords and len(keywords) != len(args) or any(a.keyword.value == "self" for a in keywords):  # type: ignore[union-attr]
        return None
    return args


def _every_binding_is_parameter(t: Transform, name: cst.Name) -> bool:
    """Whether ``name`` is only ever its function's parameter (never reassigned)."""
    values = t.assigned_values(name)
    return len(values) == 1 and values[0] is None  # the one binding, which is no assignment
