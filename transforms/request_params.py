"""What a view reads from flask.request into declared FastAPI parameters.

Targets https://fastapi.tiangolo.com/tutorial/query-params/ , /tutorial/header-params/ ,
/tutorial/cookie-params/ and /advanced/using-request-directly/ .
``request.args.get("page", 1, type=int)`` becomes ``page: Annotated[int, Lenient] = 1`` (Flask
falls back to the default when the value does not convert, and so does ``Lenient``);
``request.args["q"]`` a required ``q: str`` (missing: 400, through FLASK_ERRORS; a missing
``request.headers["X"]`` is a 500 in Flask, so it reads Starlette's ``request.headers["X"]``);
``request.headers.get("X-Api-Key")`` a Header parameter keeping the exact header name;
``request.cookies.get("sid")`` a Cookie parameter; ``request.form["name"]`` a Form parameter;
``request.files["doc"]`` an UploadFile read through flask_compat.FileStorage (Flask's sync API:
read, save, filename); ``request.data`` and ``request.get_data()`` a raw-body dependency;
``request.get_json()`` and ``request.json``
a dependency with Flask's 415/400 answers; ``request.method``, ``request.path`` and the like go
through a ``request: Request`` parameter. Only views are converted: a request read in a helper,
a hook or a decorator goes through flask_compat's ``request`` (the request_context transform).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import BuiltinScope, GlobalScope, ParentNodeProvider, ScopeProvider

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import bind, enclosing_function, is_view, kwarg, string_literal, string_value

REQUEST = "flask.request"
SOURCES = {"args": "Query", "headers": "Header", "cookies": "Cookie", "form": "Form", "files": "File"}
# Always declared with their marker (Cookie(), Form(), File()), which FastAPI needs to find them.
MARKED_SOURCES = frozenset({"cookies", "form", "files"})
LIST_SOURCES = frozenset({"args", "form", "files"})
STARLETTE_SOURCES = {"args": "query_params", "headers": "headers", "cookies": "cookies"}
NAME_SUFFIX = {"args": "query", "headers": "header", "cookies": "cookie", "form": "form", "files": "file"}
LENIENT_TYPES = {"int", "float", "str"}
# get_json(force=..., silent=...) -> the support dependency with Flask's behaviour
JSON_READERS = {
    (False, False): "get_json",
    (False, True): "get_json_silent",
    (True, False): "get_json_force",
    (True, True): "get_json_force_silent",
}
JSON_PARAMETERS = ("force", "silent", "cache")
UNMAPPED_ADVICE = {
    "form": "read each field with a literal key (request.form['name']) or `await request.form()`",
    "files": "read each file with a literal key (request.files['doc']) or `await request.form()`",
    "values": "read the query and form parameters separately",
    "stream": "iterate `request.stream()` in an async view",
    "full_path": "use request.url.path and request.url.query",
    "is_json": "check request.headers.get('content-type')",
    "endpoint": "use request.scope['route'].name",
    "view_args": "use request.path_params",
    "blueprint": "use the router the view belongs to",
    "environ": "use request.scope",
    "access_route": "use the X-Forwarded-For header",
    "user_agent": "use request.headers.get('user-agent')",
}


@dataclass(frozen=True)
class Param:
    name: str
    annotation: cst.BaseExpression
    default: cst.BaseExpression | None

    def node(self) -> cst.Param:
        equal = cst.AssignEqual(cst.SimpleWhitespace(" "), cst.SimpleWhitespace(" "))
        return cst.Param(
            cst.Name(self.name),
            cst.Annotation(self.annotation),
            default=self.default,
            equal=equal if self.default is not None else cst.MaybeSentinel.DEFAULT,
        )


class RequestParamsTransform(Transform):
    NAME = "request_params"
    DESCRIPTION = "request.args/headers/cookies/get_json()/method/... in views -> typed parameters and Request"
    FINDINGS = {
        "dynamic_key": Code(
            "F2F121",
            "request.{source} read with a key that is not a string literal: it now reads "
            "request.{starlette}; a missing key raises KeyError (500) where Flask answered 400",
            "Only literal keys can become declared parameters. The read goes through Starlette's "
            "request instead, which has no type= conversion and answers a missing [key] with 500.",
        ),
        "unconverted_read": Code(
            "F2F122",
            "request.{source}.{method}(...) with these arguments cannot become a parameter: convert it by hand",
            "type= with a callable other than int, float or str, getlist(type=...), or a computed "
            "default for an upload has no declared-parameter form that behaves the same.",
        ),
        "json_arguments": Code(
            "F2F123",
            "request.get_json() with arguments that are not literals: pick get_json, get_json_silent "
            "or get_json_force from flask_compat by hand",
            "force= and silent= decide Flask's answer to a bad body; they must be known.",
        ),
        "data_arguments": Code(
            "F2F125",
            "request.get_data() with parse_form_data= or arguments that are not literals: read the body by hand",
            "Only get_data() and get_data(as_text=True) have flask_compat readers; parse_form_data "
            "changes what Flask returns for form posts.",
        ),
        "unmapped_attribute": Code(
            "F2F124",
            "request.{attr} is not converted by this version: {advice}",
            "The view reads something from the request that has no declared-parameter form yet "
            "(form data, files, the raw body, ...). Until it is converted it fails at run time.",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import Flask, request\napp = Flask(__name__)\n\n@app.route('/items')\n"
            "def items():\n    page = request.args.get('page', 1, type=int)\n"
            "    return {'page': page, 'q': request.args.get('q'), 'key': request.headers.get('X-Api-Key')}\n",
            "from fastapi import FastAPI, Header\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, Lenient, add_flask_attributes\n"
            "from typing import Annotated\n\napp = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n@app.get('/items')\n"
            "def items(page: Annotated[int, Lenient] = 1, q: str | None = None, "
            'x_api_key: Annotated[str | None, Header(alias="X-Api-Key")] = None):\n'
            "    return {'page': page, 'q': q, 'key': x_api_key}\n",
            title="query strings and a header",
        ),
        Example(
            "from flask import Flask, request\napp = Flask(__name__)\n\n@app.post('/echo')\n"
            "def echo():\n    data = request.get_json(silent=True) or {}\n    return {'method': request.method, 'data': data}\n",
            "from fastapi import Depends, FastAPI, Request\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes, get_json_silent\n"
            "from typing import Annotated, Any\n\napp = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n@app.post('/echo')\n"
            "def echo(request: Request, json_body_silent: Annotated[Any, Depends(get_json_silent)]):\n"
            "    data = json_body_silent or {}\n    return {'method': request.method, 'data': data}\n",
            title="a JSON body and the request itself",
        ),
        Example(
            "from flask import request\n\ndef helper():\n    return request.args.get('q')\n",
            "from flask_compat import request\n\ndef helper():\n    return request.args.get('q')\n",
            title="a helper is not a view: it reads flask_compat's request (request_context)",
        ),
        Example(
            "from flask import Flask, request\napp = Flask(__name__)\n\n@app.route('/x')\n"
            "def x():\n    key = 'q'\n    return {'q': request.args.get(key)}\n",
            "from fastapi import FastAPI, Request\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n@app.get('/x')\ndef x(request: Request):\n    key = 'q'\n"
            "    # TODO[F2F121]: request.args read with a key that is not a string literal: it now reads "
            "request.query_params; a missing key raises KeyError (500) where Flask answered 400\n"
            "    return {'q': request.query_params.get(key)}\n",
            codes=("F2F121",),
            title="a key that is not a literal goes through Request",
        ),
        Example(
            "from werkzeug.wrappers import request\n\ndef view():\n    return request.args.get('q')\n",
            title="a lookalike",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.params: dict[cst.FunctionDef, dict[str, Param]] = {}
        self.redundant: set[str] = set()  # names of `page = page` lines with comments, left to the block

    # -- recognising reads ----------------------------------------------------------------
    def _request_attr(self, node: cst.CSTNode) -> str | None:
        """``X`` when node is ``flask.request.X`` inside a view."""
        if not isinstance(node, cst.Attribute) or not self.names(node.value, REQUEST):
            return None
        return node.attr.value if is_view(self, enclosing_function(self, node)) else None

    def _view(self, node: cst.CSTNode) -> cst.FunctionDef:
        function = enclosing_function(self, node)
        assert function is not None
        return function

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        attr = self._request_attr(original_node)
        if attr is None:
            return updated_node
        parent = self.get_metadata(ParentNodeProvider, original_node)
        if attr in SOURCES:
            if attr == "headers" and isinstance(parent, cst.Subscript) and _subscript_key(parent) is not None:
                # Flask answers a missing request.headers["X"] with 500 (a plain KeyError), and
                # so does Starlette's request.headers["X"]; a required Header parameter would 400.
                return self._via_request(original_node, None, cst.Attribute(cst.Name("request"), cst.Name("headers")))
            if self._read_pattern(original_node, parent) is not None:
                return updated_node  # the enclosing call or subscript becomes a parameter
            if attr not in STARLETTE_SOURCES:  # form data and files are async on Starlette's request
                self.flag(original_node, "unmapped_attribute", attr=attr, advice=UNMAPPED_ADVICE[attr])
                return updated_node
            return self._via_request(original_node, STARLETTE_SOURCES[attr])
        if attr == "json":
            return self._json_param(original_node, False, False)
        if attr == "data":
            return self._body_param(original_node, "get_request_data", "raw_body", "bytes")
        if attr in ("get_json", "get_data") and isinstance(parent, cst.Call):
            return updated_node  # leave_Call converts the call
        return self._request_expression(original_node, updated_node, attr)

    def _read_pattern(self, source: cst.Attribute, parent: cst.CSTNode) -> cst.CSTNode | None:
        """The call or subscript around ``request.args`` that names a literal key, if any."""
        if isinstance(parent, cst.Subscript):
            return parent if _subscript_key(parent) is not None else None
        if isinstance(parent, cst.Attribute) and parent.attr.value in ("get", "getlist"):
            call = self.get_metadata(ParentNodeProvider, parent)
            if isinstance(call, cst.Call) and call.func is parent:
                key = bind(call, ("key",)).get("key")
                return call if key is not None and string_value(key.value) is not None else None
        return None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not isinstance(func, cst.Attribute):
            return updated_node
        if self._request_attr(func) == "get_json":
            bound = bind(original_node, JSON_PARAMETERS)
            flags = []
            for name in ("force", "silent"):
                value = bound[name].value if name in bound else cst.Name("False")
                if not (isinstance(value, cst.Name) and value.value in ("True", "False")):
                    self.flag(original_node, "json_arguments")
                    return updated_node
                flags.append(value.value == "True")
            return self._json_param(original_node, *flags)
        if self._request_attr(func) == "get_data":
            bound = bind(original_node, ("cache", "as_text", "parse_form_data"))
            as_text = bound.get("as_text")
            if set(bound) - {"cache", "as_text"} or (as_text is not None and not m.matches(as_text.value, m.Name("True") | m.Name("False"))):
                self.flag(original_node, "data_arguments")
                return updated_node
            if as_text is not None and m.matches(as_text.value, m.Name("True")):
                return self._body_param(original_node, "get_data_as_text", "raw_text", "str")
            return self._body_param(original_node, "get_data", "raw_body", "bytes")
        source = self._request_attr(func.value) if isinstance(func.value, cst.Attribute) else None
        if source not in SOURCES or func.attr.value not in ("get", "getlist"):
            return updated_node
        return self._read(original_node, updated_node, source, func.attr.value)

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        source = self._request_attr(original_node.value)
        if source not in SOURCES or source == "headers":
            return updated_node
        key = _subscript_key(original_node)
        if key is None:
            return updated_node  # leave_Attribute sent it through Request
        annotation = cst.Name("UploadFile" if source == "files" else "str")
        if source == "files":
            self._import("fastapi", "UploadFile")
        param = self._param(original_node, source, key, annotation, None)
        return self._value(param.name, source, optional=False)

    # -- building parameters ------------------------------------------------------------
    def _read(self, original: cst.Call, updated: cst.Call, source: str, method: str) -> cst.BaseExpression:
        bound = bind(original, ("key", "default", "type"))
        key = string_value(bound["key"].value) if "key" in bound else None
        if key is None:
            return updated  # leave_Attribute sent it through Request
        type_name = None
        if "type" in bound:
            value = bound["type"].value
            type_name = value.value if isinstance(value, cst.Name) and self.names(value, *(f"builtins.{t}" for t in LENIENT_TYPES)) else None
            if type_name is None or method == "getlist" or source != "args":  # only args convert types
                self.flag(original, "unconverted_read", source=source, method=method)
                return updated
        if method == "getlist":
            if "default" in bound or source not in LIST_SOURCES:
                self.flag(original, "unconverted_read", source=source, method=method)
                return updated
            item = "UploadFile" if source == "files" else "str"
            if source == "files":
                self._import("fastapi", "UploadFile")
            self._import("fastapi", SOURCES[source])
            annotation = self._annotated(cst.Subscript(cst.Name("list"), [_element(cst.Name(item))]), _call(SOURCES[source]))
            name = self._param(original, source, key, annotation, cst.List([])).name
            if source != "files":
                return cst.Name(name)
            self.use_support("FileStorage")
            loop = cst.CompFor(cst.Name("upload"), cst.Name(name))
            return cst.ListComp(_call("FileStorage", [cst.Arg(cst.Name("upload"))]), loop)
        default = bound["default"].value if "default" in bound else cst.Name("None")
        # a default computed in the view (current_app.config[...]): the parameter defaults to
        # None and the view falls back to the expression, where it was (also for a bad value)
        computed = None if _is_literal(default) or self._is_module_level(default) else bind(updated, ("key", "default", "type"))["default"].value
        if computed is not None and source == "files":
            self.flag(original, "unconverted_read", source=source, method=method)
            return updated
        if computed is not None:
            default = cst.Name("None")
        value_type: cst.BaseExpression = cst.Name(type_name or ("UploadFile" if source == "files" else "str"))
        if source == "files":
            self._import("fastapi", "UploadFile")
        if _is_none(default):
            value_type = cst.BinaryOperation(value_type, cst.BitOr(), cst.Name("None"))
        if type_name and type_name != "str" and not self.run.options.native_validation:
            self.use_support("Lenient")
            annotation = self._annotated(value_type, cst.Name("Lenient"))
        else:
            annotation = value_type
        name = self._param(original, source, key, annotation, default).name
        value = self._value(name, source, optional=_is_none(default))
        if computed is None:
            return value
        present = cst.Comparison(cst.Name(name), [cst.ComparisonTarget(cst.IsNot(), cst.Name("None"))])
        return cst.IfExp(present, value, computed)

    def _value(self, name: str, source: str, optional: bool) -> cst.BaseExpression:
        """What the view reads in place of the request: the parameter, or for an upload the
        parameter with Flask's FileStorage API."""
        if source != "files":
            return cst.Name(name)
        self.use_support("FileStorage")
        wrapped = _call("FileStorage", [cst.Arg(cst.Name(name))])
        if not optional:
            return wrapped
        present = cst.Comparison(cst.Name(name), [cst.ComparisonTarget(cst.IsNot(), cst.Name("None"))])
        return cst.IfExp(present, wrapped, cst.Name("None"))

    def _is_module_level(self, node: cst.BaseExpression) -> bool:
        """A name bound only at module level (a constant, an import): it can be a default."""
        if not isinstance(node, cst.Name):
            return False
        scope = self.get_metadata(ScopeProvider, node, None)
        assignments = scope[node.value] if scope is not None else ()
        return bool(assignments) and all(isinstance(a.scope, (GlobalScope, BuiltinScope)) for a in assignments)

    def _param(self, node: cst.CSTNode, source: str, key: str, annotation: cst.BaseExpression, default) -> Param:
        """The parameter for ``key`` (made once per view and source), with alias and marker
        (Query/Header/Cookie) wrapped into ``annotation`` where needed."""
        view = self._view(node)
        params = self.params.setdefault(view, {})
        existing = params.get(f"{source}:{key}")
        if existing is not None:
            return existing
        taken = {p.name.value for p in view.params.params} | {p.name for p in params.values()}
        name = _identifier(key.lower() if source == "headers" else key, taken, source)
        marker = SOURCES[source]
        alias_needed = source == "headers" or name != key
        if alias_needed or source in MARKED_SOURCES:
            self._import("fastapi", marker)
            args = [kwarg("alias", string_literal(key))] if alias_needed else []
            if isinstance(annotation, cst.Subscript) and _is_annotated(annotation):
                # already Annotated[T, Query()] (getlist): put the alias into that Query()
                annotation = annotation.with_changes(
                    slice=[annotation.slice[0], _element(_call(marker, args))]
                )
            else:
                annotation = self._annotated(annotation, _call(marker, args))
        param = Param(name, annotation, default)
        params[f"{source}:{key}"] = param
        self._remove_request_import(node)
        return param

    def _json_param(self, node: cst.CSTNode, force: bool, silent: bool) -> cst.Name:
        reader = JSON_READERS[(force, silent)]
        return self._body_param(node, reader, "json_body" + reader.removeprefix("get_json"), "Any")

    def _body_param(self, node: cst.CSTNode, reader: str, name: str, value_type: str) -> cst.Name:
        """A parameter filled by one of flask_compat's body readers (async dependencies, so the
        view itself can stay a plain ``def``)."""
        view = self._view(node)
        params = self.params.setdefault(view, {})
        if f"body:{reader}" not in params:
            self.use_support(reader)
            self._import("fastapi", "Depends")
            if value_type == "Any":
                self._import("typing", "Any")
            annotation = self._annotated(cst.Name(value_type), _call("Depends", [cst.Arg(cst.Name(reader))]))
            params[f"body:{reader}"] = Param(name, annotation, None)
        self._remove_request_import(node)
        return cst.Name(name)

    def _request_expression(self, original: cst.Attribute, updated: cst.Attribute, attr: str) -> cst.BaseExpression:
        """``request.X`` on Starlette's Request, where it has a counterpart."""
        request = cst.Name("request")
        url = cst.Attribute(request, cst.Name("url"))
        mapped: dict[str, cst.BaseExpression] = {
            "method": cst.Attribute(request, cst.Name("method")),
            "path": cst.Attribute(url, cst.Name("path")),
            "url": _call("str", [cst.Arg(url)]),
            "base_url": _call("str", [cst.Arg(cst.Attribute(request, cst.Name("base_url")))]),
            "scheme": cst.Attribute(url, cst.Name("scheme")),
            "host": cst.Attribute(url, cst.Name("netloc")),
            "remote_addr": cst.Attribute(cst.Attribute(request, cst.Name("client")), cst.Name("host")),
            "content_type": _call(
                "request.headers.get", [cst.Arg(string_literal("content-type"))]
            ),
        }
        if attr not in mapped:
            # A view that gets a `request: Request` parameter would read this from Starlette's
            # request, which the unconverted transform cannot tell from Flask's: flag it here.
            advice = UNMAPPED_ADVICE.get(attr, "use the Starlette Request equivalent")
            self.flag(original, "unmapped_attribute", attr=attr, advice=advice)
            return updated
        return self._via_request(original, None, mapped[attr])

    def _via_request(self, node: cst.Attribute, starlette: str | None, expression: cst.BaseExpression | None = None) -> cst.BaseExpression:
        view = self._view(node)
        params = self.params.setdefault(view, {})
        if "request" not in params and "request" not in {p.name.value for p in view.params.params}:
            self._import("fastapi", "Request")
            params["request"] = Param("request", cst.Name("Request"), None)
        self._remove_request_import(node)
        if expression is None:
            parent = self.get_metadata(ParentNodeProvider, node)
            self.flag(parent if isinstance(parent, cst.CSTNode) else node, "dynamic_key", source=node.attr.value, starlette=starlette)
            expression = cst.Attribute(cst.Name("request"), cst.Name(starlette or node.attr.value))
        return expression

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        """``page = request.args.get("page")`` became ``page = page``: the line goes (the parameter
        already holds the value); one with comments goes in leave_IndentedBlock, which keeps them."""
        if len(updated_node.body) != 1 or original_node in self.run.pending:
            return updated_node
        statement, before = updated_node.body[0], original_node.body[0]
        if not (isinstance(statement, cst.Assign) and isinstance(before, cst.Assign) and len(statement.targets) == 1):
            return updated_node
        target, value = statement.targets[0].target, statement.value
        if not (isinstance(target, cst.Name) and isinstance(value, cst.Name) and target.value == value.value):
            return updated_node
        if isinstance(before.value, cst.Name):
            return updated_node
        if updated_node.trailing_whitespace.comment is not None or any(line.comment for line in updated_node.leading_lines):
            self.redundant.add(target.value)  # its comments move to the next statement
            return updated_node
        return cst.RemovalSentinel.REMOVE

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        """Drop the redundant lines that carry comments, the comments going to the next statement."""
        if not self.redundant:
            return updated_node
        body: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []
        for index, line in enumerate(updated_node.body):
            if index < len(updated_node.body) - 1 and self._redundant(line):
                assert isinstance(line, cst.SimpleStatementLine)
                carried += list(line.leading_lines)
                if line.trailing_whitespace.comment is not None:
                    carried.append(cst.EmptyLine(indent=True, comment=line.trailing_whitespace.comment))
                continue
            if carried:
                line = line.with_changes(leading_lines=[*carried, *line.leading_lines])
                carried = []
            body.append(line)
        return updated_node.with_changes(body=body)

    def _redundant(self, line: cst.BaseStatement) -> bool:
        """``page = page`` left by a read that became the parameter ``page``."""
        if not (isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and isinstance(line.body[0], cst.Assign)):
            return False
        assign = line.body[0]
        target = assign.targets[0].target if len(assign.targets) == 1 else None
        return (
            isinstance(target, cst.Name) and isinstance(assign.value, cst.Name)
            and target.value == assign.value.value and target.value in self.redundant
        )

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        params = self.params.pop(original_node, None)
        if not params:
            return updated_node
        new = [p.node() for p in params.values()]
        existing = updated_node.params
        required = sorted((p for p in new if p.default is None), key=lambda p: p.name.value != "request")
        optional = [p for p in new if p.default is not None]
        if any(p.default is not None for p in existing.params) or existing.star_arg is not cst.MaybeSentinel.DEFAULT:
            kwonly = [*existing.kwonly_params, *required, *optional]
            star = existing.star_arg if existing.star_arg is not cst.MaybeSentinel.DEFAULT else cst.ParamStar()
            return updated_node.with_changes(params=existing.with_changes(star_arg=star, kwonly_params=kwonly))
        plain = [*existing.params, *required, *optional]
        return updated_node.with_changes(params=existing.with_changes(params=_without_trailing_comma(plain)))

    # -- small builders -------------------------------------------------------------------
    def _annotated(self, value_type: cst.BaseExpression, *metadata: cst.BaseExpression) -> cst.Subscript:
        self._import("typing", "Annotated")
        return cst.Subscript(cst.Name("Annotated"), [_element(value_type), *(_element(x) for x in metadata)])

    def _import(self, module: str, name: str) -> None:
        AddImportsVisitor.add_needed_import(self.context, module, name)

    def _remove_request_import(self, node: cst.CSTNode) -> None:
        """The read was converted: its ``request`` no longer needs Flask's."""
        self.consume(node)


def _subscript_key(node: cst.Subscript) -> str | None:
    if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return string_value(node.slice[0].slice.value)
    return None


def _is_annotated(node: cst.Subscript) -> bool:
    return isinstance(node.value, cst.Name) and node.value.value == "Annotated"


def _element(value: cst.BaseExpression) -> cst.SubscriptElement:
    return cst.SubscriptElement(cst.Index(value))


def _call(name: str, args: list[cst.Arg] | None = None) -> cst.Call:
    """``name(args)`` for a dotted name such as ``request.headers.get``."""
    head, *rest = name.split(".")
    func: cst.BaseExpression = cst.Name(head)
    for part in rest:
        func = cst.Attribute(func, cst.Name(part))
    return cst.Call(func, args or [])


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    if isinstance(node, cst.Name):
        return node.value in ("None", "True", "False")
    return isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString))


def _identifier(key: str, taken: set[str], source: str) -> str:
    name = re.sub(r"\W", "_", key)
    if not name or name[0].isdigit():
        name = f"{source}_{name}"
    if keyword.iskeyword(name) or name in taken:
        name = f"{name}_{NAME_SUFFIX[source]}"
    return name


def _without_trailing_comma(params: list[cst.Param]) -> list[cst.Param]:
    if not params:
        return params
    return [*params[:-1], params[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
