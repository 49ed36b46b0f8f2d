"""The project's Flask app handed to a FastAPI bridge; routers next to blueprints with native routes.

Targets https://fastapi.tiangolo.com/tutorial/bigger-applications/ and the runtime package
``flask2fastapi_runtime``. The ``Flask(...)`` call stays, and so does everything the project does
with the app (config, extensions, hooks, error handlers, ``register_blueprint``): the real Flask
app serves every route that is not converted. Right after the statement that creates it comes
``api = FlaskBridge(app)``, the FastAPI app that wraps it; a factory returns the bridge. A
blueprint some of whose routes became native (codemod/plan.py) gets ``router =
APIRouter(route_class=FlaskRoute)`` after it, and its registration an ``include_router`` of that
router with the prefix Flask gives the blueprint.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.transform import Example, Transform
from transforms._flask import BLUEPRINT, FLASK, RUNTIME, bridge_reference, kwarg, router_reference, string_literal
from codemod.names import Parents

REGISTER_CALL = m.Call(func=m.Attribute(attr=m.Name("register_blueprint")))
ASSIGN_CALL = m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())], m.Call()) | m.AnnAssign(m.Name(), value=m.Call())])
INCLUDE = m.SimpleStatementLine([m.Expr(m.Call(func=m.Attribute(attr=m.Name("include_router"))))])


class AppBlueprintTransform(Transform):
    NAME = "app_blueprint"
    DESCRIPTION = "app = Flask(...) gets api = FlaskBridge(app); blueprints with native routes get an APIRouter"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask
            app = Flask(__name__)
            app.config["DEBUG"] = False
            """,
            """\
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.config["DEBUG"] = False
            """,
            title="a module's app: the Flask app stays, the bridge wraps it",
        ),
        Example(
            """\
            from flask import Flask


            def create_app() -> Flask:
                api = Flask(__name__)
                api.config.from_object("settings")
                return api
            """,
            """\
            from flask import Flask
            from fastapi import FastAPI
            from flask2fastapi_runtime import FlaskBridge


            def create_app() -> FastAPI:
                api = Flask(__name__)
                fastapi_app = FlaskBridge(api)
                api.config.from_object("settings")
                return fastapi_app
            """,
            title="a factory returns the bridge, under a name free in its module",
        ),
        Example(
            """\
            from flask import Blueprint, Flask
            bp = Blueprint("v", __name__, url_prefix="/v")

            @bp.get("/<int:n>")
            def show(n):
                return {"n": n}

            app = Flask(__name__)
            app.register_blueprint(bp, url_prefix="/api/")
            """,
            """\
            from flask import Blueprint, Flask
            from fastapi import APIRouter
            from flask2fastapi_runtime import FlaskBridge, FlaskRoute
            from pydantic import BaseModel

            bp = Blueprint("v", __name__, url_prefix="/v")
            router = APIRouter(route_class=FlaskRoute)

            class ShowResponse(BaseModel):
                \"\"\"What show answers with (documents its 200 answer in OpenAPI).\"\"\"

                n: int

            @router.get("/{n}", name="v.show", response_model=ShowResponse)
            def show(n: int):
                return {"n": n}

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.register_blueprint(bp, url_prefix="/api/")
            api.include_router(router, prefix="/api")
            """,
            title="a blueprint with a native route: a router, included with the prefix Flask uses",
        ),
        Example(
            """\
            from flask import Flask
            from extension import admin_bp
            app = Flask(__name__)
            app.register_blueprint(admin_bp)
            """,
            """\
            from flask import Flask
            from extension import admin_bp
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.register_blueprint(admin_bp)
            """,
            title="a blueprint from elsewhere stays Flask's, registered as before",
        ),
        Example(
            """\
            from sanic import Blueprint, Sanic
            bp = Blueprint("orders", url_prefix="/orders")
            app = Sanic("shop")
            app.blueprint(bp)
            """,
            title="lookalikes from another library",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.added: dict[cst.SimpleStatementLine, list[cst.SimpleStatementLine]] = {}

    # -- the statements that come after ---------------------------------------------------------
    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        added = self._after(original_node)
        if not added or self._already_after(original_node, added[0]):
            return updated_node
        return cst.FlattenSentinel([updated_node, *added])

    def _after(self, line: cst.SimpleStatementLine) -> list[cst.SimpleStatementLine]:
        if m.matches(line, ASSIGN_CALL):
            assign = line.body[0]
            target = assign.targets[0].target if isinstance(assign, cst.Assign) else assign.target  # type: ignore[union-attr]
            called = self.qualified_names(assign.value.func)  # type: ignore[union-attr]
            if called & FLASK:
                return self._build_bridge(target)
            if called & BLUEPRINT:
                return self._build_router(target)
        if len(line.body) == 1 and m.matches(line.body[0], m.Expr(REGISTER_CALL)):
            return self._build_include(line.body[0].value)  # type: ignore[attr-defined]
        return []

    def _already_after(self, line: cst.SimpleStatementLine, added: cst.SimpleStatementLine) -> bool:
        """Whether the statement after ``line`` is already what would be added (a rerun)."""
        parent = self.get_metadata(Parents, line, None)
        body = list(getattr(parent, "body", ()))
        index = body.index(line) if line in body else -1
        following = body[index + 1] if 0 <= index < len(body) - 1 else None
        if following is None:
            return False
        if m.matches(added, INCLUDE):
            return m.matches(following, INCLUDE)
        return m.matches(following, ASSIGN_CALL) and m.matches(added, ASSIGN_CALL) and isinstance(
            following.body[0], cst.Assign
        ) and following.body[0].value.deep_equals(added.body[0].value)  # type: ignore[union-attr]

    def _build_bridge(self, target: cst.BaseExpression) -> list[cst.SimpleStatementLine]:
        facts = next((self.run.project.apps[n] for n in sorted(self.qualified_names(target)) if n in self.run.project.apps), None)
        if facts is None or facts.bridged:
            return []
        bridge = self.import_reference(target, RUNTIME, "FlaskBridge", replaces=False)
        args = [cst.Arg(target)]
        if self.run.options.native_validation:
            args.append(kwarg("flask_errors", cst.Name("False")))
        return [_assign(facts.bridge, cst.Call(bridge, args))]

    def _build_router(self, target: cst.BaseExpression) -> list[cst.SimpleStatementLine]:
        facts = next((self.run.project.native_blueprints[n] for n in sorted(self.qualified_names(target)) if n in self.run.project.native_blueprints), None)
        if facts is None or facts.router_exists:
            return []
        router = self.import_reference(target, "fastapi", "APIRouter", replaces=False)
        route = self.import_reference(target, RUNTIME, "FlaskRoute", replaces=False)
        return [_assign(facts.router, cst.Call(router, [kwarg("route_class", route)]))]

    def _build_include(self, call: cst.Call) -> list[cst.SimpleStatementLine]:
        assert isinstance(call.func, cst.Attribute)
        blueprint = call.args[0].value
        native = self.run.project.native_blueprints
        name = next((n for n in sorted(self.qualified_names(blueprint)) if n in native), None)
        if name is None:
            return []
        facts, (registration,) = native[name], self.run.project.registrations[name]
        prefix = registration.prefix if registration.prefix is not None else facts.prefix
        args = [cst.Arg(router_reference(self, blueprint, facts))]
        if prefix and prefix.rstrip("/"):
            args.append(kwarg("prefix", string_literal(prefix.rstrip("/"))))
        bridge = bridge_reference(self, call.func.value, call.func.value)
        include = cst.Call(cst.Attribute(bridge, cst.Name("include_router")), args)
        return [cst.SimpleStatementLine([cst.Expr(include)])]

    # -- a factory hands out the bridge ---------------------------------------------------------
    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        value = original_node.value
        if not isinstance(value, cst.Name):
            return updated_node
        apps = self.run.project.apps
        facts = next((apps[n] for n in sorted(self.qualified_names(value)) if n in apps), None)
        if facts is None or facts.module_level or facts.module != self.context.full_module_name:
            return updated_node
        return updated_node.with_changes(value=cst.Name(facts.bridge))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        returns = original_node.returns
        if returns is None or not self.names(returns.annotation, *FLASK):
            return updated_node
        if not self.qualified_names(original_node.name) & self.run.project.factories:
            return updated_node
        fastapi = self.import_reference(returns.annotation, "fastapi", "FastAPI", replaces=False)
        return updated_node.with_changes(returns=updated_node.returns.with_changes(annotation=fastapi))  # type: ignore[union-attr]


def _assign(name: str, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], value)])
