"""A native view's ``response = make_response("text")``, its ``response.set_cookie(...)`` and
``response.headers[name] = value``, then ``return response`` -> Starlette's ``Response``.

Targets https://fastapi.tiangolo.com/advanced/response-cookies/ and
https://fastapi.tiangolo.com/advanced/response-headers/ . ``make_response(body[, status][,
headers])`` makes the ``flask.Response(body, status=, headers=)`` that transforms/response_objects.py
already writes as ``Response(body, media_type="text/html", ...)`` where both classes write the same
answer (``response_objects.alike``: a literal or f-string body, a status with a body, literal
headers). The variable it is bound to must be used only so:

- ``response.set_cookie(...)`` as a statement: both classes take the same parameters in the same
  order, but write the attributes in another order (werkzeug's ``dump_cookie``: Domain, Expires,
  Max-Age, Secure, HttpOnly, Path, SameSite; ``http.cookies``: sorted by name) and quote values
  otherwise, and Starlette's ``samesite`` defaults to ``"lax"`` where werkzeug writes none. So
  only what reads alike converts: a literal name and a non-empty literal value of characters
  neither quotes, a literal ``path`` and ``domain`` neither rewrites, ``httponly``, and
  ``samesite`` (written title-cased, as werkzeug does; ``samesite=None`` where none was given).
  ``secure``, ``max_age`` (werkzeug adds Expires), ``expires`` and ``partitioned`` stay Flask's;
- ``response.headers[<literal name>] = <a str>``, none of Content-Type, Content-Length or
  Set-Cookie (both replace the header of that name, case-insensitively);
- ``return response``.

Every route of the view is native and it has no decorator but its routes (``only_native_routes``).
"""

from __future__ import annotations

import string

import libcst as cst
import libcst.matchers as m

from codemod.find import findall
from codemod.transform import Example, Transform
from transforms._flask import bind, kwarg, string_literal, string_value
from transforms._values import OWN_HEADERS, is_str_literal, is_text
from transforms._views import enclosing_function, only_native_routes
from transforms.response_objects import alike
from codemod.names import Parents

MAKE_RESPONSE = ("flask.make_response", "flask.helpers.make_response")
SET_COOKIE = ("key", "value", "max_age", "expires", "path", "domain", "secure", "httponly", "samesite")
COOKIE_OPTIONS = frozenset({"key", "value", "path", "domain", "httponly", "samesite"})
# what neither werkzeug nor http.cookies quotes in a cookie's name or value
COOKIE_CHARACTERS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
PATH_CHARACTERS = frozenset(string.ascii_letters + string.digits + "/_.-~")
DOMAIN_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + ".-")
# names http.cookies takes for an attribute, not a cookie (werkzeug would send the cookie)
ATTRIBUTES = frozenset({"expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version", "samesite", "partitioned"})
SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


class MadeResponsesTransform(Transform):
    NAME = "made_responses"
    DESCRIPTION = "native views: make_response(\"text\") + set_cookie + headers[...] = -> Starlette's Response"
    PREFILTER = (b"make_response",)
    METADATA_DEPENDENCIES = (*Transform.METADATA_DEPENDENCIES, Parents)
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, make_response

            def create_app():
                app = Flask(__name__)

                @app.get("/form")
                def form():
                    response = make_response(f"<form>{len(app.name)}</form>")
                    response.set_cookie("seen", "yes", httponly=True)
                    response.set_cookie("theme", value="dark", path="/form", samesite="strict")
                    response.headers["X-Page"] = "form"
                    return response

                return app
            """,
            """\
            from flask import Flask
            from fastapi import Response
            from flask2fastapi_runtime import FlaskBridge

            def create_app():
                app = Flask(__name__)
                api = FlaskBridge(app)

                @api.get("/form")
                def form():
                    response = Response(f"<form>{len(app.name)}</form>", media_type="text/html")
                    response.set_cookie("seen", "yes", httponly=True, samesite=None)
                    response.set_cookie("theme", value="dark", path="/form", samesite="Strict")
                    response.headers["X-Page"] = "form"
                    return response

                return api
            """,
            title="a factory's view: Starlette's Response, its cookies written as werkzeug wrote them",
        ),
        Example(
            """\
            from flask import Flask, make_response

            app = Flask(__name__)

            @app.get("/a")
            def a():
                response = make_response("a", 201)
                response.set_cookie("token", "x", secure=True)
                return response

            @app.get("/b")
            def b():
                response = make_response("b")
                response.set_cookie("token", TOKEN)
                return response

            @app.get("/c")
            def c():
                response = make_response("c")
                response.mimetype = "text/plain"
                return response

            @app.get("/d")
            def d():
                response = make_response({"d": 1})
                return response
            """,
            """\
            from flask import Flask, make_response
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            @api.get("/a")
            def a():
                response = make_response("a", 201)
                response.set_cookie("token", "x", secure=True)
                return response

            @api.get("/b")
            def b():
                response = make_response("b")
                response.set_cookie("token", TOKEN)
                return response

            @api.get("/c")
            def c():
                response = make_response("c")
                response.mimetype = "text/plain"
                return response

            @api.get("/d")
            def d():
                response = make_response({"d": 1})
                return response
            """,
            title="Secure (werkzeug writes it before HttpOnly and Path), a value not known, another use, a JSON body: all stay",
        ),
        Example(
            """\
            from other import make_response

            def page():
                response = make_response("x")
                response.set_cookie("a", "b")
                return response
            """,
            title="another library's make_response, outside a view: unchanged",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.made: set[cst.Call] = set()  # the make_response(...) calls to rewrite
        self.cookies: set[cst.Call] = set()  # the set_cookie(...) calls on what they made

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not only_native_routes(self, node):
            return
        for assign in findall(node.body, m.Assign([m.AssignTarget(m.Name())], m.Call())):
            call = assign.value  # type: ignore[attr-defined]
            if enclosing_function(self, assign) is node and self.names(call.func, *MAKE_RESPONSE) and self._body_alike(call):
                cookies = self._uses(node, assign.targets[0].target.value)  # type: ignore[attr-defined]
                if cookies is not None:
                    self.made.add(call)
                    self.cookies.update(cookies)

    def _body_alike(self, call: cst.Call) -> bool:
        """make_response(body[, status][, headers]), as flask.Response's arguments alike."""
        args = [a.value for a in call.args]
        if not 1 <= len(args) <= 3 or any(a.keyword is not None or a.star for a in call.args):
            return False
        # Flask's rule for (body, x): x is the headers where it is a dict, else the status
        second = "headers" if len(args) == 2 and isinstance(args[1], cst.Dict) else "status"
        bound = dict(zip(("response", second, "headers"), args))
        return alike(self, bound)

    def _uses(self, function: cst.FunctionDef, name: str) -> list[cst.Call] | None:
        """The set_cookie calls on ``name``, where every use of it in ``function`` is one the
        module doc allows (None where one is not)."""
        cookies, made = [], 0
        for use in findall(function, m.Name(name)):
            parent = self.get_metadata(Parents, use, None)
            grandparent = self.get_metadata(Parents, parent, None) if parent is not None else None
            if isinstance(parent, cst.AssignTarget):
                made += 1
            elif isinstance(parent, cst.Return):
                continue
            elif m.matches(parent, m.Attribute(attr=m.Name("set_cookie"))) and m.matches(grandparent, m.Call()):
                if not isinstance(self.get_metadata(Parents, grandparent, None), cst.Expr) or not self._cookie_alike(grandparent):
                    return None
                cookies.append(grandparent)
            elif not (m.matches(parent, m.Attribute(attr=m.Name("headers"))) and self._header_alike(grandparent)):
                return None
        return cookies if made == 1 else None

    def _header_alike(self, subscript: cst.CSTNode | None) -> bool:
        """``response.headers[<literal name>] = <a str>`` (module doc)."""
        target = self.get_metadata(Parents, subscript, None) if subscript is not None else None
        assign = self.get_metadata(Parents, target, None) if target is not None else None
        if not (isinstance(subscript, cst.Subscript) and isinstance(target, cst.AssignTarget) and isinstance(assign, cst.Assign)):
            return False
        if len(assign.targets) != 1 or len(subscript.slice) != 1 or not isinstance(subscript.slice[0].slice, cst.Index):
            return False
        header = string_value(subscript.slice[0].slice.value)
        return header is not None and header.lower() not in OWN_HEADERS and is_text(self, assign.value, {})

    def _cookie_alike(self, call: cst.Call) -> bool:
        """A set_cookie(...) whose Set-Cookie werkzeug and http.cookies write alike (module doc)."""
        bound = {name: arg.value for name, arg in bind(call, SET_COOKIE).items()}
        if any(a.star for a in call.args) or set(bound) - COOKIE_OPTIONS or len(bound) != len(call.args):
            return False
        key, value = string_value(bound.get("key", cst.Name("None"))), string_value(bound.get("value", cst.Name("None")))
        texts = {"path": PATH_CHARACTERS, "domain": DOMAIN_CHARACTERS}
        for option, characters in texts.items():
            text = string_value(bound[option]) if option in bound else ""
            if text is None or not set(text) <= characters or text.startswith("."):
                return False
        samesite = bound.get("samesite")
        return bool(
            key and value and set(key) <= COOKIE_CHARACTERS and set(value) <= COOKIE_CHARACTERS and key.lower() not in ATTRIBUTES
            and m.matches(bound.get("httponly", cst.Name("False")), m.Name("True") | m.Name("False"))
            and (samesite is None or m.matches(samesite, m.Name("None")) or (string_value(samesite) or "").lower() in SAMESITE)
        )

    # -- writing --------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node in self.made:
            return self._response(original_node, updated_node)
        if original_node in self.cookies:
            return _samesite(updated_node)
        return updated_node

    def _response(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        """``Response(body, media_type="text/html"[, status_code=][, headers=])``."""
        self.consume(original_node.func)
        made = self.import_reference(original_node.func, "fastapi", "Response", replaces=False)
        body, *rest = updated_node.args
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args = [body.with_changes(comma=comma), kwarg("media_type", string_literal("text/html"))]
        for arg in rest:
            args[-1] = args[-1].with_changes(comma=comma)
            args.append(kwarg("headers" if isinstance(arg.value, cst.Dict) else "status_code", arg.value))
        return updated_node.with_changes(func=made, args=args)


def _samesite(call: cst.Call) -> cst.Call:
    """werkzeug's SameSite: none unless given, then title-cased."""
    args = list(call.args)
    for index, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == "samesite":
            if is_str_literal(arg.value):
                args[index] = arg.with_changes(value=string_literal(SAMESITE[string_value(arg.value).lower()]))  # type: ignore[union-attr]
            return call.with_changes(args=args)
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    args[-1] = args[-1].with_changes(comma=comma)
    return call.with_changes(args=[*args, kwarg("samesite", cst.Name("None"))])
