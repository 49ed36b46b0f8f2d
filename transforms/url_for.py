"""``url_for`` of a native route, in a native view -> ``request.url_for(...).path``.

Targets https://fastapi.tiangolo.com/reference/request/#fastapi.Request.url_for .
Every native route is a FastAPI route named after its Flask endpoint ("items.get_item"), so
Starlette builds its URL from the FastAPI path: ``url_for(".get_item", item_id=item_id)`` ->
``request.url_for("items.get_item", item_id=item_id).path``, with a ``request: Request``
parameter added to the view. ``.path`` is what Flask's ``url_for`` gives inside a request: the
path under the app's root (SCRIPT_NAME / ASGI ``root_path``), without scheme and host.

The two agree only where werkzeug and Starlette write the same text, so the call converts only:

- in a native view's own body, where the name ``request`` is free for Starlette's request: the
  view does not use it, or only for reads of Flask's request that request_params and json_bodies
  convert (``request.get_json()`` -> a body parameter); its decorators (a guard such as
  ``login_required``) play no part;
- for a string literal endpoint of the only route of a native view (``.x``: of the view's
  blueprint), in a project of one Flask app whose module registers no ``url_defaults``;
- with exactly the route's variables as keyword arguments (werkzeug appends others as a query
  string; Starlette refuses them), and no ``_external``, ``_anchor``, ``_method``, ``_scheme``;
- with values both write alike: werkzeug quotes a str and writes ``str(int(v))`` for an int
  variable where Starlette writes ``str(v)``. So an int variable takes an int literal, ``int()``
  or ``len()``, or an int path parameter of the view; a float or a uuid one, such a parameter;
  an ``any`` one, one of its values or a parameter of the view with no others; a str one, a
  literal that quoting leaves alone. An int or float variable given any other value (an
  attribute: ``conversation.id``) is written ``int(value)`` / ``float(value)``: the text werkzeug
  wrote for every value, and the same error for one that is no number.
"""

from __future__ import annotations

import re
from collections import defaultdict

import libcst as cst
import libcst.matchers as m
from libcst.metadata import BuiltinAssignment

from codemod.find import findall
from codemod.plan import RoutePlan
from codemod.state import REQUEST_TOKEN
from codemod.transform import Example, Transform
from transforms._flask import string_literal
from transforms._values import is_parameter, is_str_literal
from transforms._views import OwnBody, native_plans, request_free, with_parameter
from codemod.names import Scopes

URL_FOR = frozenset({"flask.url_for", "flask.helpers.url_for"})
INT_CALLS = frozenset({"builtins.int", "builtins.len"})
# werkzeug's number converters write str(int(value)) / str(float(value)): so does Starlette of
# int(value) / float(value), whatever value is (and both raise alike where it is no number)
NUMBERS = {"builtins.int": "int", "builtins.float": "float"}
# what werkzeug's quote(value, safe="!$&'()*+,/:;=@") leaves as it is, but "/" (Starlette refuses it)
UNQUOTED = re.compile(r"[A-Za-z0-9_.~!$&'()*+,:;=@-]+")
Annotations = dict[str, tuple[str, tuple[str, ...]]]  # RoutePlan.annotations


class UrlForTransform(Transform):
    NAME = "url_for"
    DESCRIPTION = "native views: url_for('.view', id=id) -> request.url_for('bp.view', id=id).path"
    EXAMPLES = (
        Example(
            """\
            from flask import Blueprint, Flask, url_for
            bp = Blueprint("items", __name__)

            @bp.get("/items/<int:item_id>")
            def get_item(item_id):
                return {"self": url_for(".get_item", item_id=item_id), "all": url_for("items.list_items")}

            @bp.get("/items")
            def list_items():
                return {"first": url_for(".get_item", item_id=1)}

            app = Flask(__name__)
            app.register_blueprint(bp)
            """,
            """\
            from flask import Blueprint, Flask
            from fastapi import APIRouter, Request
            from flask2fastapi_runtime import FlaskBridge, FlaskRoute
            from pydantic import BaseModel
            from typing import Any

            bp = Blueprint("items", __name__)
            router = APIRouter(route_class=FlaskRoute)

            class GetItemResponse(BaseModel):
                \"\"\"What get_item answers with (documents its 200 answer in OpenAPI).\"\"\"

                self: Any
                all: Any

            @router.get("/items/{item_id}", name="items.get_item", response_model=GetItemResponse)
            def get_item(item_id: int, request: Request):
                return {"self": request.url_for("items.get_item", item_id=item_id).path, "all": request.url_for("items.list_items").path}

            class ListItemsResponse(BaseModel):
                \"\"\"What list_items answers with (documents its 200 answer in OpenAPI).\"\"\"

                first: Any

            @router.get("/items", name="items.list_items", response_model=ListItemsResponse)
            def list_items(request: Request):
                return {"first": request.url_for("items.get_item", item_id=1).path}

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.register_blueprint(bp)
            api.include_router(router)
            """,
            title="a relative endpoint resolves against the view's blueprint",
        ),
        Example(
            """\
            from flask import Flask, request, url_for
            app = Flask(__name__)

            @app.get("/items/<name>")
            def item(name):
                return {"self": url_for("item", name=name), "page": url_for("item", name="a", page=2)}

            @app.get("/search")
            def search():
                return {"next": url_for("item", name=request.path)}
            """,
            """\
            from flask import Flask, request, url_for
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            class ItemResponse(BaseModel):
                \"\"\"What item answers with (documents its 200 answer in OpenAPI).\"\"\"

                self: Any
                page: Any

            @api.get("/items/{name}", response_model=ItemResponse)
            def item(name: str):
                return {"self": url_for("item", name=name), "page": url_for("item", name="a", page=2)}

            class SearchResponse(BaseModel):
                \"\"\"What search answers with (documents its 200 answer in OpenAPI).\"\"\"

                next: Any

            @api.get("/search", response_model=SearchResponse)
            def search():
                return {"next": url_for("item", name=request.path)}
            """,
            title="a str werkzeug would quote, a query argument, a view using Flask's request: url_for stays",
        ),
        Example(
            """\
            from flask import url_for

            def link(item_id):
                return url_for("items.get_item", item_id=item_id)
            """,
            title="outside a view url_for stays",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # url_for call -> the endpoint, absolute, and the arguments to write through int()/float()
        self.calls: dict[cst.Call, tuple[str, dict[str, str]]] = {}
        self.views: set[cst.FunctionDef] = set()
        self.request_names: dict[cst.CSTNode, str] = {}  # view or call -> its request parameter
        self.endpoints: dict[str, list[RoutePlan]] | None = None

    def visit_Module(self, node: cst.Module) -> None:
        project = self.run.project
        url_defaults = m.Attribute(attr=m.Name("url_defaults") | m.Name("app_url_defaults"))
        if len(project.apps) > 1 or findall(node, url_defaults):
            self.endpoints = {}
            return
        endpoints: dict[str, list[RoutePlan]] = defaultdict(list)
        for path, function in sorted(project.views):
            for plan in project.plan(path, function):
                endpoints[plan.endpoint].append(plan)
        self.endpoints = dict(endpoints)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        plans = native_plans(self, node)
        if not plans or not request_free(self, node):
            return
        blueprint = plans[0].endpoint.rpartition(".")[0] if plans[0].blueprint else None
        # the name request_state gives the view's Starlette request, where it gives one: FastAPI
        # fills one parameter of the type, so the two must be one
        state = self.run.project.state
        qualified = f"{self.context.full_module_name or ''}.{node.name.value}"
        name = state.request_param if REQUEST_TOKEN in state.views.get(qualified, {}) else "request"
        for call in OwnBody(node).calls:
            if self.names(call.func, *URL_FOR):
                found = self._endpoint(call, blueprint, plans[0].annotations)
                if found is not None:
                    self.calls[call] = found
                    self.views.add(node)
                    self.request_names[call] = self.request_names[node] = name

    def _endpoint(self, call: cst.Call, blueprint: str | None, own: Annotations) -> tuple[str, dict[str, str]] | None:
        """The absolute endpoint ``call`` builds a URL of, where Starlette builds the same, and
        the arguments to pass through ``int()`` / ``float()`` for that."""
        if not call.args or call.args[0].keyword is not None or not is_str_literal(call.args[0].value):
            return None
        endpoint = call.args[0].value.evaluated_value  # type: ignore[union-attr]
        if endpoint.startswith("."):
            endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
        targets = (self.endpoints or {}).get(endpoint, [])
        if len(targets) != 1 or targets[0].level != "native":
            return None
        variables = targets[0].annotations
        given = {a.keyword.value: a.value for a in call.args[1:] if a.keyword is not None}
        if any(a.star or a.keyword is None for a in call.args[1:]) or set(given) != set(variables):
            return None
        converted: dict[str, str] = {}
        for name, value in given.items():
            qualified, values = variables[name]
            if self._written_alike(value, qualified, values, own):
                continue
            if qualified not in NUMBERS or not self._builtin(call, NUMBERS[qualified]):
                return None
            converted[name] = NUMBERS[qualified]  # werkzeug writes str(int(value)), Starlette str(value)
        return endpoint, converted

    def _builtin(self, node: cst.CSTNode, name: str) -> bool:
        """Whether ``name`` is the builtin where ``node`` is."""
        scope = self.get_metadata(Scopes, node, None)
        return scope is not None and all(isinstance(a, BuiltinAssignment) for a in scope[name])

    def _written_alike(
        self, value: cst.BaseExpression, qualified: str, values: tuple[str, ...], own: Annotations
    ) -> bool:
        """Whether werkzeug's converter for the variable and Starlette write ``value`` alike;
        ``own``: the view's path parameters, as the plan annotates them."""
        parameters = {name: annotation for name, (annotation, _) in own.items()}
        if qualified == "builtins.int":
            if isinstance(value, cst.Integer) or isinstance(value, cst.Call) and self.names(value.func, *INT_CALLS):
                return True
        if qualified in ("builtins.int", "builtins.float", "uuid.UUID"):
            return is_parameter(self, value, parameters, frozenset({qualified}))
        text = value.evaluated_value if is_str_literal(value) else None  # type: ignore[attr-defined]
        if qualified == "typing.Literal":
            if is_parameter(self, value, parameters, frozenset({qualified})):
                return set(own[value.value][1]) <= set(values)  # type: ignore[attr-defined]
            return text in values
        return text is not None and bool(UNQUOTED.fullmatch(text))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        found = self.calls.get(original_node)
        if found is None:
            return updated_node
        endpoint, converted = found
        self.consume(original_node)
        first = updated_node.args[0]
        if first.value.evaluated_value != endpoint:  # type: ignore[attr-defined]
            first = first.with_changes(value=string_literal(endpoint))
        args = [first]
        for arg in updated_node.args[1:]:
            number = converted.get(arg.keyword.value) if arg.keyword is not None else None
            if number is not None:
                arg = arg.with_changes(value=cst.Call(cst.Name(number), [cst.Arg(arg.value)]))
            args.append(arg)
        url_for = cst.Attribute(cst.Name(self.request_names[original_node]), cst.Name("url_for"))
        call = updated_node.with_changes(func=url_for, args=args)
        return cst.Attribute(call, cst.Name("path"))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if original_node not in self.views:
            return updated_node
        annotation = self.import_reference(original_node, "fastapi", "Request", replaces=False)
        return with_parameter(updated_node, self.request_names[original_node], annotation)
