"""Flask route decorators into FastAPI path operations, where that is provably faithful.

Targets https://fastapi.tiangolo.com/tutorial/path-params/ and
https://fastapi.tiangolo.com/reference/apirouter/#fastapi.APIRouter.api_route .
``codemod/plan.py`` decides, route by route, whether the FastAPI path operation gives werkzeug
the same rule, endpoint and methods and calls the view with the same arguments. Where it does,
``@bp.route(rule, methods=[...])`` becomes ``@router.get(path, name="bp.view")`` (or
``api_route`` for several methods) and the view's path parameters get the annotations FastAPI
converts them by (``<int:id>``: ``id: int``). The view runs inside Flask's request context (the
runtime's FlaskRoute), so ``request``, ``g``, ``abort`` and what it returns mean what they meant;
the transforms after this one rewrite its body as FastAPI code where that provably answers the
same (responses, aborts, url_for). Every other route stays a Flask view, served by the real Flask app;
the report says why.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.facts import ROUTE_DECORATOR, ViewFacts
from codemod.plan import RoutePlan
from codemod.transform import Example, Transform
from transforms._flask import kwarg, last_arg, router_reference, string_literal
from codemod.names import Parents

SHORTCUT_METHODS = {"GET": "get", "POST": "post", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}
# the annotation of a path parameter, by the qualified name the plan gives it
BUILTIN_ANNOTATIONS = {"builtins.int": "int", "builtins.float": "float", "builtins.str": "str"}


class RoutesTransform(Transform):
    NAME = "routes"
    DESCRIPTION = "@x.route(rule, methods=...) -> @router.get/post/.../api_route(path, name=...) where faithful"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, g
            app = Flask(__name__)

            @app.route("/items/<int:item_id>", methods=["GET", "post"])
            def item(item_id):
                return {"id": item_id, "user": g.user}
            """,
            """\
            from flask import Flask, g
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            class ItemResponse(BaseModel):
                \"\"\"What item answers with (documents its 200 answer in OpenAPI).\"\"\"

                id: int
                user: Any

            @api.api_route("/items/{item_id}", methods=["GET", "POST"], response_model=ItemResponse)
            def item(item_id: int):
                return {"id": item_id, "user": g.user}
            """,
            title="several methods, an int converter; the body still runs in Flask's request context",
        ),
        Example(
            """\
            from flask import Flask
            app = Flask(__name__)

            @app.get("/files/<path:name>/<any(a, b):kind>")
            def get_file(name, kind):
                return name
            """,
            """\
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge
            from typing import Literal

            app = Flask(__name__)
            api = FlaskBridge(app)

            @api.get("/files/{name:path}/{kind}")
            def get_file(name: str, kind: Literal["a", "b"]):
                return name
            """,
            title="a path converter and an any converter",
        ),
        Example(
            """\
            from flask import Flask
            app = Flask(__name__)

            @app.route("/u/<string(length=2):code>", strict_slashes=False)
            def lang(code):
                return code

            @app.route("/v/<vid>")
            async def video(vid):
                return vid
            """,
            """\
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            @app.route("/u/<string(length=2):code>", strict_slashes=False)
            def lang(code):
                return code

            @app.route("/v/<vid>")
            async def video(vid):
                return vid
            """,
            title="a route option, converter arguments and an async view stay Flask's (bridged)",
        ),
        Example(
            """\
            from fastapi import FastAPI
            app = FastAPI()

            @app.get("/items/{item_id}")
            def item(item_id: int):
                return {}
            """,
            title="already FastAPI",
        ),
    )

    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator) -> cst.Decorator:
        plan = self._plan_of(original_node)
        if plan is None or plan.level != "native":
            return updated_node
        call = original_node.decorator
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        receiver = call.func.value
        if plan.blueprint is not None:
            target = router_reference(self, receiver, self.run.project.blueprints[plan.blueprint])
        else:
            target = cst.Name(plan.target)
        rule = call.args[0].value
        args = [cst.Arg(rule if plan.fastapi_path == _literal_value(rule) else _like(plan.fastapi_path, rule))]
        method = SHORTCUT_METHODS.get(plan.methods[0]) if len(plan.methods) == 1 else None
        if method is None:
            method = "api_route"
            args.append(kwarg("methods", cst.List([cst.Element(_like(method, rule)) for method in plan.methods])))
        if plan.name is not None:
            args.append(kwarg("name", _like(plan.name, rule)))
        operation = cst.Call(cst.Attribute(target, cst.Name(method)), last_arg(args))
        return updated_node.with_changes(decorator=operation)

    def _plan_of(self, decorator: cst.Decorator) -> RoutePlan | None:
        """The plan of a route decorator of a module-level view (None for anything else). The
        facts pass recorded the view's route-shaped decorators in order, each with its line."""
        function = self.get_metadata(Parents, decorator, None)
        view = self._view(function)
        if view is None or not m.matches(decorator, ROUTE_DECORATOR):
            return None
        position = [d for d in function.decorators if m.matches(d, ROUTE_DECORATOR)].index(decorator)  # type: ignore[union-attr]
        line = view.routes[position].line
        return next((p for p in self._plans(function) if p.line == line), None)  # type: ignore[arg-type]

    def _view(self, function: cst.CSTNode | None) -> ViewFacts | None:
        if not isinstance(function, cst.FunctionDef):
            return None
        return self.run.project.views.get((self.context.filename or "", function.name.value))

    def _plans(self, function: cst.FunctionDef) -> list[RoutePlan]:
        return self.run.project.plan(self.context.filename or "", function.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if self._view(original_node) is None:
            return updated_node
        native = [p for p in self._plans(original_node) if p.level == "native"]
        if not native:
            return updated_node
        params = updated_node.params
        annotations = native[0].annotations
        return updated_node.with_changes(
            params=params.with_changes(
                params=[self._annotate(p, annotations) for p in params.params],
                kwonly_params=[self._annotate(p, annotations) for p in params.kwonly_params],
            )
        )

    def _annotate(self, param: cst.Param, annotations: dict[str, tuple[str, tuple[str, ...]]]) -> cst.Param:
        if param.annotation is not None or param.name.value not in annotations:
            return param
        qualified, values = annotations[param.name.value]
        if qualified in BUILTIN_ANNOTATIONS:
            annotation: cst.BaseExpression = cst.Name(BUILTIN_ANNOTATIONS[qualified])
        elif qualified == "typing.Literal":
            literal = self.import_reference(param, "typing", "Literal", replaces=False)
            annotation = cst.Subscript(literal, [cst.SubscriptElement(cst.Index(string_literal(v))) for v in values])
        else:
            module, _, name = qualified.rpartition(".")
            annotation = self.import_reference(param, module, name, replaces=False)
        return param.with_changes(annotation=cst.Annotation(annotation))


def _literal_value(node: cst.BaseExpression) -> str | None:
    value = node.evaluated_value if isinstance(node, cst.SimpleString) else None
    return value if isinstance(value, str) else None


def _like(value: str, like: cst.BaseExpression) -> cst.SimpleString:
    """A str literal for ``value`` in the quote style of ``like`` where that needs no escape."""
    quote = like.quote if isinstance(like, cst.SimpleString) else '"'
    if len(quote) == 1 and value.isprintable() and quote not in value and "\\" not in value:
        return cst.SimpleString(f"{quote}{value}{quote}")
    return string_literal(value)
