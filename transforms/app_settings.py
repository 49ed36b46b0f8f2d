"""``current_app.config`` in native views and their helpers -> ``settings: Settings``, a dependency.

Targets https://fastapi.tiangolo.com/advanced/settings/ (settings given by a dependency).
``codemod/settings.py`` plans, for the whole program, who takes the settings; this transform
writes it:

- a native view that reads ``current_app.config`` takes ``settings: Settings`` (the runtime's
  dependency: the Flask app's own ``config`` object, the one ``current_app.config`` is during the
  request) and reads ``settings["X"]``, ``settings.get("X", d)``;
- a function on its path that reads it takes ``settings`` too, and every caller passes it on as
  a keyword argument (``_read_content(settings=settings)``); a function defined inside one (a
  streamed body run after the view returned) reads it from the closure;
- where ``settings`` is a name the function uses already, ``config``, ``app_settings``...

A function also called where no settings can be handed over (a bridged view, module code, a
test, a CLI command) keeps ``current_app.config``, and so do its callers pass it nothing.
"""

from __future__ import annotations

import libcst as cst

from codemod.settings import is_config
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME, kwarg
from transforms._views import with_parameter
from codemod.names import Parents


class SettingsTransform(Transform):
    NAME = "settings"
    DESCRIPTION = "current_app.config in native views and the functions they call -> settings: Settings (Depends)"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, current_app

            app = Flask(__name__)
            app.config["PAGE_SIZE"] = 20


            def page_size(asked):
                return min(asked, current_app.config["PAGE_SIZE"])


            @app.get("/items/<int:asked>")
            def items(asked):
                return {"size": page_size(asked), "debug": current_app.config.get("DEBUG", False)}
            """,
            """\
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge, Settings
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.config["PAGE_SIZE"] = 20


            def page_size(asked, settings):
                return min(asked, settings["PAGE_SIZE"])


            class ItemsResponse(BaseModel):
                \"\"\"What items answers with (documents its 200 answer in OpenAPI).\"\"\"

                size: Any
                debug: Any


            @api.get("/items/{asked}", response_model=ItemsResponse)
            def items(asked: int, settings: Settings):
                return {"size": page_size(asked, settings=settings), "debug": settings.get("DEBUG", False)}
            """,
            title="a view takes the settings from the dependency and hands them to the helper that reads them",
        ),
        Example(
            """\
            from flask import Flask

            app = Flask(__name__)
            app.config["LIMIT"] = 5


            @app.get("/limit")
            def limit():
                return {"limit": app.config["LIMIT"], "testing": app.config.get("TESTING", False)}
            """,
            """\
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge, Settings
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.config["LIMIT"] = 5


            class LimitResponse(BaseModel):
                \"\"\"What limit answers with (documents its 200 answer in OpenAPI).\"\"\"

                limit: Any
                testing: Any


            @api.get("/limit", response_model=LimitResponse)
            def limit(settings: Settings):
                return {"limit": settings["LIMIT"], "testing": settings.get("TESTING", False)}
            """,
            title="the project's one app read as app.config in a view: the same config object, from the dependency",
        ),
        Example(
            """\
            import click
            from flask import Blueprint, current_app

            bp = Blueprint("items", __name__)


            def page_size():
                return current_app.config["PAGE_SIZE"]


            @bp.route("/items", provide_automatic_options=False)
            def items():
                return {"size": page_size()}


            @bp.cli.command("show-size")
            def show_size():
                click.echo(page_size())
            """,
            title="a bridged view, and a helper also called by a CLI command, keep current_app.config",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        self.plan = run.project.settings
        self.module = context.full_module_name or ""
        # the project's one app, made at the top of this module: its ``app.config`` is the settings
        apps = run.project.apps
        self.apps = frozenset(apps) if len(apps) == 1 and all(a.module == self.module and a.module_level for a in apps.values()) else frozenset()

    def _name_at(self, node: cst.CSTNode) -> str | None:
        """The name the settings go by at ``node`` (an original node): the parameter of the
        module-level function whose body it is in, when that function takes them."""
        child, parent = node, self.get_metadata(Parents, node, None)
        while parent is not None and not isinstance(parent, cst.Module):
            child, parent = parent, self.get_metadata(Parents, parent, None)
        if not isinstance(child, cst.FunctionDef) or not isinstance(parent, cst.Module):
            return None
        inside = self.get_metadata(Parents, node, None)
        while inside is not None and inside is not child.body and inside is not child:
            inside = self.get_metadata(Parents, inside, None)
        if inside is not child.body:
            return None  # its decorators and default values run at import
        return self.plan.params.get(f"{self.module}.{child.name.value}")

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if not self.plan.params or not is_config(original_node, self.qualified_names, self.apps):
            return updated_node
        name = self._name_at(original_node)
        if name is None:
            return updated_node
        self.consume(original_node)
        return cst.Name(name, lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if not self.plan.params:
            return updated_node
        called = sorted(self.qualified_names(original_node.func) & set(self.plan.params))
        if not called:
            return updated_node
        param = self.plan.params[called[0]]
        if any(a.keyword is not None and a.keyword.value == param for a in updated_node.args):
            return updated_node
        name = self._name_at(original_node)
        if name is None:
            return updated_node
        args = list(updated_node.args)
        if args:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return updated_node.with_changes(args=[*args, kwarg(param, cst.Name(name))])

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if not isinstance(self.get_metadata(Parents, original_node, None), cst.Module):
            return updated_node
        qualified = f"{self.module}.{original_node.name.value}"
        name = self.plan.params.get(qualified)
        if name is None:
            return updated_node
        annotation = None
        if qualified in self.plan.views:
            annotation = self.import_reference(original_node, RUNTIME, "Settings", replaces=False)
        return with_parameter(updated_node, name, annotation)
