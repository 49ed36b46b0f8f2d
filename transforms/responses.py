"""jsonify, tuple returns, str returns and abort() into what FastAPI sends the same way.

Targets https://fastapi.tiangolo.com/advanced/response-directly/ and
https://fastapi.tiangolo.com/tutorial/handling-errors/ .
Flask decides at run time what a view's return value means: a dict or list is JSON, a str is
text/html, a tuple carries a status and/or headers. FastAPI JSON-encodes whatever it gets, so a
str, or a status other than 200, has to become an explicit Response. The kind of each returned
value is read from the code (literals, jsonify, the view's own assignments); a value whose kind
cannot be told is flagged rather than guessed.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import ParentNodeProvider

from codemod.findings import Code
from codemod.transform import SUPPORT_MODULE, Example, Transform
from transforms._flask import (
    ABORT,
    JSONIFY,
    RENDER_TEMPLATE,
    bind,
    enclosing_function,
    is_view,
    kwarg,
    last_arg,
    string_literal,
    string_value,
)

JSON, HTML, EMPTY, UNKNOWN = "json", "html", "empty", "unknown"
STATUS, HEADERS = "status", "headers"
RESPONSE_CLASS = {JSON: "JSONResponse", HTML: "HTMLResponse", EMPTY: "HTMLResponse"}
NO_BODY_STATUSES = frozenset({204, 304})
JSON_LITERALS = (cst.Dict, cst.List, cst.DictComp, cst.ListComp)
STR_LITERALS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


class ResponsesTransform(Transform):
    NAME = "responses"
    DESCRIPTION = "jsonify(), (body, status, headers) returns, str returns and abort() -> FastAPI responses and HTTPException"
    FINDINGS = {
        "unknown_body": Code(
            "F2F131",
            "could not tell whether {body} is JSON or text: assumed JSON; use HTMLResponse if it is a str",
            "The view returns (body, status) and the body's type is not visible in the view. "
            "Flask sends a str as text/html and a dict or list as JSON.",
        ),
        "response_tuple": Code(
            "F2F132",
            "a Response object returned with a status or headers: set response.status_code / "
            "response.headers on it instead",
            "Flask applied the tuple's status and headers to the Response object. FastAPI would "
            "JSON-encode the tuple; set the attributes on the response by hand.",
        ),
        "abort_expression": Code(
            "F2F133",
            "abort() inside an expression cannot become a raise: raise HTTPException(status_code=...) by hand",
            "abort() raises; in an expression (x or abort(404)) it cannot be rewritten to a raise "
            "statement. Split the expression and raise fastapi.HTTPException.",
        ),
        "abort_response": Code(
            "F2F134",
            "abort() with a Response object: return that response (or raise HTTPException) by hand",
            "abort(response) sends the given Response. In FastAPI return it from the view.",
        ),
        "jsonify_args": Code(
            "F2F135",
            "jsonify() with both positional and keyword arguments raises TypeError in Flask: fix the call",
            "jsonify accepts either positional or keyword arguments, not both.",
        ),
        "status_text": Code(
            "F2F136",
            "a status given as text ({status}): use the number in status_code=",
            "Flask accepts '201 CREATED'; Starlette needs an int status code.",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import Flask, jsonify\napp = Flask(__name__)\n\n@app.route('/a', methods=['POST'])\n"
            "def a():\n    return jsonify(id=1), 201\n",
            "from fastapi import FastAPI\nfrom fastapi.responses import JSONResponse\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes\n\napp = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n"
            "@app.post('/a')\ndef a():\n    return JSONResponse({\"id\": 1}, status_code=201)\n",
            title="jsonify with a status",
        ),
        Example(
            "from flask import Flask, abort\napp = Flask(__name__)\n\n@app.route('/b/<int:n>')\n"
            "def b(n):\n    if n > 3:\n        abort(404, description='no such b')\n    return '<p>b</p>'\n",
            "from fastapi import FastAPI, HTTPException\nfrom fastapi.responses import HTMLResponse\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, IntRule, add_flask_attributes\nfrom typing import Annotated\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n"
            "@app.get('/b/{n}')\ndef b(n: Annotated[int, IntRule]):\n    if n > 3:\n        raise HTTPException(status_code=404, detail='no such b')\n"
            "    return HTMLResponse('<p>b</p>')\n",
            title="abort and a text body",
        ),
        Example(
            "def helper():\n    return 'text', 200\n",
            title="a tuple returned by a plain function is not a response",
        ),
    )

    # -- jsonify and abort anywhere ---------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.names(original_node.func, *JSONIFY) and not self._in_return(original_node):
            content = self._jsonify_content(original_node, updated_node)
            return updated_node if content is None else self._build_response(JSON, content, [])
        if self.names(original_node.func, *ABORT):
            parent = self.get_metadata(ParentNodeProvider, original_node)
            if not isinstance(parent, cst.Expr):
                self.flag(original_node, "abort_expression")
        return updated_node

    def leave_Expr(self, original_node: cst.Expr, updated_node: cst.Expr) -> cst.BaseSmallStatement:
        call = original_node.value
        if not isinstance(call, cst.Call) or not self.names(call.func, *ABORT):
            return updated_node
        bound = bind(call, ("code", "description"))
        code = bound.get("code")
        if code is None or isinstance(code.value, (cst.Call, cst.Name)) and self._is_response(code.value):
            self.flag(original_node, "abort_response")
            return updated_node
        args = [kwarg("status_code", code.value)]
        if "description" in bound:
            args.append(kwarg("detail", bound["description"].value))
        AddImportsVisitor.add_needed_import(self.context, "fastapi", "HTTPException")
        self.consume(call.func)
        return cst.Raise(exc=cst.Call(cst.Name("HTTPException"), args))

    # -- returns ------------------------------------------------------------------------------
    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        value, new_value = original_node.value, updated_node.value
        if value is None or new_value is None:
            return updated_node
        function = enclosing_function(self, original_node)
        view = is_view(self, function)
        if isinstance(value, cst.Tuple) and isinstance(new_value, cst.Tuple) and 2 <= len(value.elements) <= 3:
            first = value.elements[0].value
            if view or self._is_jsonify(first):
                built = self._build_tuple(original_node, function, value, new_value)
                return updated_node if built is None else updated_node.with_changes(value=built)
            return updated_node
        if self._is_jsonify(value):
            assert isinstance(value, cst.Call) and isinstance(new_value, cst.Call)
            content = self._jsonify_content(value, new_value)
            if content is None:
                return updated_node
            # a view's value is JSON unless it is a str (FlaskResponse): jsonify(text) stays JSON
            single = [a.value for a in value.args if a.keyword is None and not a.star]
            text = len(single) == 1 and len(value.args) == 1 and self._kind(single[0], function) in (HTML, EMPTY)
            plain = view and not text
            return updated_node.with_changes(value=content if plain else self._build_response(JSON, content, []))
        if view and self._kind(value, function) in (HTML, EMPTY):
            return updated_node.with_changes(value=self._build_response(HTML, new_value, []))
        return updated_node

    def _build_tuple(self, statement: cst.Return, function, value: cst.Tuple, new_value: cst.Tuple) -> cst.BaseExpression | None:
        body, new_body = value.elements[0].value, new_value.elements[0].value
        rest = [(e.value, n.value) for e, n in zip(value.elements[1:], new_value.elements[1:])]
        status = headers = None
        for position, (part, new_part) in enumerate(rest):
            role = HEADERS if position == 1 else self._role(part, function)
            if role == STATUS:
                if string_value(part) is not None:
                    self.flag(statement, "status_text", status=string_value(part))
                    return None
                status = new_part
            else:
                headers = self._build_headers(part, new_part, function)
        kind = self._kind(body, function)
        if self._is_jsonify(body):
            assert isinstance(body, cst.Call) and isinstance(new_body, cst.Call)
            new_body = self._jsonify_content(body, new_body)
            if new_body is None:
                return None
        elif kind == UNKNOWN:
            if self._is_response(body):
                self.flag(statement, "response_tuple")
                return None
            self.flag(statement, "unknown_body", body=cst.Module([]).code_for_node(body))
            kind = JSON
        keywords = []
        if status is not None:
            keywords.append(kwarg("status_code", status))
        if headers is not None:
            keywords.append(kwarg("headers", headers))
        if kind == EMPTY and isinstance(status, cst.Integer) and int(status.value) in NO_BODY_STATUSES:
            return self._build_call("Response", keywords)
        return self._build_response(kind, new_body, keywords)

    def _build_response(self, kind: str, content: cst.BaseExpression, keywords: list[cst.Arg]) -> cst.Call:
        return self._build_call(RESPONSE_CLASS.get(kind, "JSONResponse"), [cst.Arg(content), *keywords])

    def _build_call(self, cls: str, args: list[cst.Arg]) -> cst.Call:
        AddImportsVisitor.add_needed_import(self.context, "fastapi.responses", cls)
        return cst.Call(cst.Name(cls), last_arg(args))

    def _build_headers(self, part: cst.BaseExpression, new_part: cst.BaseExpression, function) -> cst.BaseExpression:
        if isinstance(part, cst.List) and all(
            isinstance(e.value, cst.Tuple) and len(e.value.elements) == 2 for e in part.elements
        ) and isinstance(new_part, cst.List):
            pairs = [e.value.elements for e in new_part.elements]  # type: ignore[attr-defined]
            return cst.Dict([cst.DictElement(k.value, v.value) for k, v in pairs])
        if isinstance(part, cst.Dict) or self._assigned_kinds(part, function) == {HEADERS}:
            return new_part
        return cst.Call(cst.Name("dict"), [cst.Arg(new_part)])

    # -- what a value is --------------------------------------------------------------------------
    def _jsonify_content(self, call: cst.Call, updated: cst.Call) -> cst.BaseExpression | None:
        positional = [a for a in updated.args if a.keyword is None and not a.star]
        named = [a for a in updated.args if a.keyword is not None or a.star == "**"]
        if positional and named or any(a.star == "*" for a in updated.args):
            self.flag(call, "jsonify_args")
            return None
        self.consume(call.func)
        # The new literal keeps the call's line breaks: "(" -> "{" or "[", each comma as it was.
        opening = updated.whitespace_before_args
        if named:
            if any(a.star for a in named):
                return cst.Call(cst.Name("dict"), named, whitespace_before_args=opening)
            elements = [
                cst.DictElement(string_literal(a.keyword.value), a.value, comma=a.comma)  # type: ignore[union-attr]
                for a in named
            ]
            return cst.Dict(elements, lbrace=cst.LeftCurlyBrace(whitespace_after=opening))
        if not positional:
            return cst.Name("None")
        if len(positional) == 1:
            return positional[0].value
        elements = [cst.Element(a.value, comma=a.comma) for a in positional]
        return cst.List(elements, lbracket=cst.LeftSquareBracket(whitespace_after=opening))

    def _is_jsonify(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and self.names(node.func, *JSONIFY)

    def _is_rendered(self, node: cst.BaseExpression) -> bool:
        """render_template(...): a str, which Flask sends as text/html."""
        return isinstance(node, cst.Call) and self.names(node.func, *RENDER_TEMPLATE)

    def _in_return(self, call: cst.Call) -> bool:
        parent = self.get_metadata(ParentNodeProvider, call)
        if isinstance(parent, cst.Element):
            tuple_node = self.get_metadata(ParentNodeProvider, parent)
            grand = self.get_metadata(ParentNodeProvider, tuple_node)
            return isinstance(tuple_node, cst.Tuple) and isinstance(grand, cst.Return) and tuple_node.elements[0] is parent
        return isinstance(parent, cst.Return)

    def _is_response(self, node: cst.BaseExpression) -> bool:
        """A call that builds a Response object (make_response, Response(...), redirect)."""
        if isinstance(node, cst.Call):
            return any(
                n.startswith(("flask.", "werkzeug.", "fastapi.", "starlette.")) or SUPPORT_MODULE in n.split(".")
                for n in self.qualified_names(node.func)
            )
        return False

    def _kind(self, node: cst.BaseExpression, function) -> str:
        if self._is_jsonify(node) or isinstance(node, JSON_LITERALS):
            return JSON
        if isinstance(node, STR_LITERALS):
            return EMPTY if string_value(node) == "" else HTML
        if self._is_rendered(node):
            return HTML
        if isinstance(node, cst.Name):
            kinds = {JSON if k == HEADERS else k for k in self._assigned_kinds(node, function)}
            if len(kinds) == 1 and kinds <= {JSON, HTML, EMPTY}:
                return next(iter(kinds))
            if kinds <= {HTML, EMPTY} and kinds:
                return HTML
        return UNKNOWN

    def _role(self, node: cst.BaseExpression, function) -> str:
        """Whether the second element of a returned tuple is a status or headers."""
        if isinstance(node, (cst.Dict, cst.List)):
            return HEADERS
        if isinstance(node, cst.Name) and self._assigned_kinds(node, function) == {HEADERS}:
            return HEADERS
        return STATUS

    def _assigned_kinds(self, node: cst.BaseExpression, function) -> set[str]:
        """Kinds of the values a local name is assigned in the view ({} when not local)."""
        if not isinstance(node, cst.Name) or function is None:
            return set()
        kinds = set()
        for value in self.assigned_values(node):
            if value is None:
                return {UNKNOWN}
            if isinstance(value, cst.Dict):
                kinds.add(HEADERS if _header_like(value) else JSON)
            elif isinstance(value, JSON_LITERALS) or self._is_jsonify(value):
                kinds.add(JSON)
            elif isinstance(value, STR_LITERALS):
                kinds.add(EMPTY if string_value(value) == "" else HTML)
            elif self._is_rendered(value):
                kinds.add(HTML)
            else:
                kinds.add(UNKNOWN)
        return kinds


def _header_like(value: cst.Dict) -> bool:
    """A dict whose keys are all header names (contain a dash or start with X-/Content)."""
    keys = [string_value(e.key) for e in value.elements if isinstance(e, cst.DictElement)]
    return bool(keys) and all(k is not None and ("-" in k or k.lower() in {"location", "etag", "vary", "allow"}) for k in keys)
