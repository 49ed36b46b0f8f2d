"""Flask apps and blueprints into FastAPI apps and APIRouters, registrations into include_router.

Targets https://fastapi.tiangolo.com/tutorial/bigger-applications/ .
Flask *replaces* a blueprint's url_prefix with the one given at registration; FastAPI *adds*
the include_router prefix to the router's own. The project facts say how every blueprint is
registered, so the router keeps its prefix only where that gives the same URLs.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import ParentNodeProvider

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import (
    BLUEPRINT,
    FLASK,
    bind,
    kwarg,
    last_arg,
    string_value,
)

FLASK_PARAMETERS = (
    "import_name", "static_url_path", "static_folder", "static_host", "host_matching",
    "subdomain_matching", "template_folder", "instance_path", "instance_relative_config", "root_path",
)
BLUEPRINT_PARAMETERS = (
    "name", "import_name", "static_folder", "static_url_path", "template_folder", "url_prefix",
    "subdomain", "url_defaults", "root_path", "cli_group",
)

# Flask(...) options and what to do instead; none has a FastAPI() argument.
APP_OPTION_ADVICE = {
    "static_folder": 'mount StaticFiles: app.mount("/static", StaticFiles(directory=...), name="static")',
    "static_url_path": "mount StaticFiles at that path",
    "static_host": "serve static files from that host by hand",
    "root_path": "keep the root path in your settings",
    "host_matching": "FastAPI does not match routes on the host",
    "subdomain_matching": "FastAPI does not match routes on subdomains",
}
BLUEPRINT_OPTION_ADVICE = {
    "static_folder": "mount StaticFiles for the blueprint's static files",
    "static_url_path": "mount StaticFiles at that path",
    "subdomain": "FastAPI does not match routes on subdomains",
    "url_defaults": "give the view parameters those defaults",
    "root_path": "keep the root path in your settings",
    "cli_group": "move the blueprint's CLI commands to a typer/click app",
}
REGISTER_OPTION_ADVICE = {
    "subdomain": "FastAPI does not match routes on subdomains",
    "url_defaults": "give the view parameters those defaults",
    "name": "a router included twice needs no second name; check url_for calls",
    "cli_group": "move the blueprint's CLI commands to a typer/click app",
}


class AppBlueprintTransform(Transform):
    NAME = "app_blueprint"
    DESCRIPTION = "Flask() -> FastAPI(), Blueprint() -> APIRouter(prefix=...), register_blueprint() -> include_router()"
    FINDINGS = {
        "app_option": Code(
            "F2F101",
            "Flask({option}=...) has no FastAPI() counterpart and was dropped: {advice}",
            "The Flask constructor took an option that FastAPI() does not have. The option was "
            "removed so the app starts; do what the marker says to keep its effect.",
        ),
        "blueprint_option": Code(
            "F2F102",
            "Blueprint({option}=...) has no APIRouter() counterpart and was dropped: {advice}",
            "The blueprint took an option that APIRouter() does not have. The option was removed "
            "so the module imports; do what the marker says to keep its effect.",
        ),
        "mixed_prefix": Code(
            "F2F103",
            "blueprint is registered both with and without url_prefix; FastAPI adds the "
            "include_router prefix to the router's own: pass the full prefix at every include_router",
            "Flask replaces a blueprint's url_prefix with the one given to register_blueprint; "
            "FastAPI concatenates them. This blueprint is registered both ways, so no single "
            "router prefix gives the original URLs. Move the prefix to each include_router call.",
        ),
        "register_option": Code(
            "F2F104",
            "register_blueprint({option}=...) has no include_router() counterpart and was dropped: {advice}",
            "register_blueprint took an option that include_router() does not have.",
        ),
        "unknown_blueprint": Code(
            "F2F105",
            "register_blueprint() of something that is not a blueprint defined in this project: "
            "include its routes with include_router() or mount it by hand",
            "The registered object's definition was not found among the converted files (an "
            "extension's blueprint, or one built dynamically), so it was left as it was.",
        ),
        "static_folder": Code(
            "F2F106",
            "Flask served {folder}/ at /static; FastAPI does not: "
            'app.mount("/static", StaticFiles(directory=...), name="static")',
            "A Flask app serves its static folder automatically. The folder exists beside this "
            "module, so mount StaticFiles to keep serving it.",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import Flask\napp = Flask(__name__)\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes\n\napp = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n",
            title="an app",
        ),
        Example(
            "import flask\nbp = flask.Blueprint('orders', __name__, url_prefix='/orders/')\n",
            "from fastapi import APIRouter\n\nbp = APIRouter(prefix='/orders')\n",
            title="a module import; Flask ignores the prefix's trailing slash, FastAPI refuses it",
        ),
        Example(
            "from flask import Blueprint, Flask\nbp = Blueprint('v', __name__, url_prefix='/v')\n"
            "app = Flask(__name__)\napp.register_blueprint(bp, url_prefix='/api/')\n",
            "from fastapi import APIRouter, FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes\n\nbp = APIRouter()\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\napp.include_router(bp, prefix='/api')\n",
            title="the registration's prefix replaces the blueprint's (Flask), so only it is kept",
        ),
        Example(
            "from flask import Flask\nfrom extension import admin_bp\napp = Flask(__name__)\n"
            "app.register_blueprint(admin_bp)\n",
            "from extension import admin_bp\nfrom fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes\n\napp = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n"
            "# TODO[F2F105]: register_blueprint() of something that is not a blueprint defined in this "
            "project: include its routes with include_router() or mount it by hand\n"
            "# TODO[F2F192]: `.register_blueprint` is Flask API of the app or blueprint that this version "
            "does not convert: convert it by hand\napp.register_blueprint(admin_bp)\n",
            codes=("F2F105", "F2F192"),
            title="a blueprint from elsewhere is left and flagged",
        ),
        Example(
            "from flask import Flask\napp = Flask(__name__, template_folder='tpl', static_host='cdn.example')\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes\n\n# TODO[F2F101]: Flask(static_host=...) has no FastAPI() counterpart "
            "and was dropped: serve static files from that host by hand\napp = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\n"
            "add_flask_attributes(app, __name__, template_folder='tpl')\n",
            codes=("F2F101",),
            title="an option with no counterpart is flagged; the template folder is kept for render_template",
        ),
        Example(
            "from sanic import Blueprint\nbp = Blueprint('orders', url_prefix='/orders')\n",
            title="a lookalike from another library",
        ),
        Example(
            "from flask import Flask\n\n\ndef test_instance_path(monkeypatch):\n"
            "    monkeypatch.setattr(Flask, 'auto_find_instance_path', lambda self: '/srv/instance')\n",
            "from flask_compat import FlaskApp\n\n\ndef test_instance_path(monkeypatch):\n"
            "    monkeypatch.setattr(FlaskApp, 'auto_find_instance_path', lambda self: '/srv/instance')\n",
            title="the Flask class as a value: FlaskApp, the class of every converted app",
        ),
        Example(
            "from flask import Flask\n\n\nclass MyApp(Flask):\n    pass\n",
            "from flask import Flask\n\n\n# TODO[F2F191]: `flask.Flask` is Flask API that this version does not convert: "
            "use fastapi.FastAPI\nclass MyApp(Flask):\n    pass\n",
            codes=("F2F191",),
            title="a subclass of Flask is flagged, not given FlaskApp as its base",
        ),
        Example(
            "class Flask:\n    pass\napp = Flask(__name__)\n",
            title="a local class that shadows the name",
        ),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.names(original_node.func, FLASK):
            return self._build_app(original_node, updated_node)
        if self.names(original_node.func, BLUEPRINT):
            return self._build_router(original_node, updated_node)
        func = original_node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "register_blueprint":
            if original_node.args and self.kind_of(func.value) is not None:
                return self._build_include(original_node, updated_node)
        return updated_node

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.attributes: dict[cst.SimpleStatementLine, list[cst.Arg]] = {}  # `app = Flask()` lines

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        """The Flask class used as a value (``isinstance(app, Flask)``, ``Flask.some_method``,
        ``monkeypatch.setattr(Flask, ...)``) -> flask_compat's FlaskApp, the class every
        converted app has."""
        parent = self.get_metadata(ParentNodeProvider, original_node, None)
        grandparent = self.get_metadata(ParentNodeProvider, parent, None) if isinstance(parent, cst.Arg) else None
        if isinstance(grandparent, cst.ClassDef):  # class MyApp(Flask): stays flagged, FastAPI differs
            return updated_node
        used_as_value = isinstance(parent, cst.Arg) or (isinstance(parent, cst.Attribute) and parent.value is original_node)
        if not used_as_value or not self.names(original_node, FLASK):
            return updated_node
        self.consume(original_node)
        self.use_support("FlaskApp")
        return cst.Name("FlaskApp")

    def leave_Annotation(self, original_node: cst.Annotation, updated_node: cst.Annotation) -> cst.Annotation:
        """``app: Flask`` -> ``app: FastAPI`` (and Blueprint -> APIRouter) in annotations."""
        for flask_name, fastapi_name in ((FLASK, "FastAPI"), (BLUEPRINT, "APIRouter")):
            if self.names(original_node.annotation, flask_name):
                self._swap_import(original_node.annotation, fastapi_name)
                return updated_node.with_changes(annotation=cst.Name(fastapi_name))
        return updated_node

    def _build_app(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        self._swap_import(original.func, "FastAPI")
        bound = bind(updated, FLASK_PARAMETERS)
        for option, advice in APP_OPTION_ADVICE.items():
            if option in bound and not _is_none(bound[option].value):
                self.flag(original, "app_option", option=option, advice=advice)
        if "static_folder" not in bound and self._has_static_folder():
            self.flag(original, "static_folder", folder="static")
        if self.run.options.native_validation:
            app = cst.Call(func=cst.Name("FastAPI"))
        else:
            # Flask's error pages, 400 (missing value) and 404 (converter mismatch) instead of
            # FastAPI's 422, the request context (g, hooks), the first of repeated query keys.
            self.use_support("FLASK_ERRORS")
            self.use_support("FLASK_MIDDLEWARE")
            args = [kwarg("exception_handlers", cst.Name("FLASK_ERRORS")), kwarg("middleware", cst.Name("FLASK_MIDDLEWARE"))]
            app = cst.Call(func=cst.Name("FastAPI"), args=args)
        # app.config, app.logger, app.instance_path and app.extensions, which code written for
        # the Flask app reads: a statement after `app = ...`, or around the call elsewhere.
        self.use_support("add_flask_attributes")
        extra = [cst.Arg(bound["import_name"].value if "import_name" in bound else cst.Name("__name__"))]
        # the template folder render_template reads (flask_compat), "templates" unless given
        extra += [kwarg(o, bound[o].value) for o in ("instance_path", "instance_relative_config", "template_folder") if o in bound]
        statement = self._statement_of(original)
        if statement is not None:
            self.attributes[statement] = extra
            return app
        return cst.Call(cst.Name("add_flask_attributes"), [cst.Arg(app), *extra])

    def _statement_of(self, call: cst.Call) -> cst.SimpleStatementLine | None:
        """The `x = Flask(...)` line the call is the whole value of, if it is."""
        from libcst.metadata import ParentNodeProvider

        assign = self.get_metadata(ParentNodeProvider, call, None)
        line = self.get_metadata(ParentNodeProvider, assign, None) if assign is not None else None
        if isinstance(assign, (cst.Assign, cst.AnnAssign)) and assign.value is call and isinstance(line, cst.SimpleStatementLine):
            return line if len(line.body) == 1 else None
        return None

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        extra = self.attributes.pop(original_node, None)
        if extra is None:
            return updated_node
        statement = updated_node.body[0]
        target = statement.targets[0].target if isinstance(statement, cst.Assign) else statement.target  # type: ignore[union-attr]
        call = cst.Call(cst.Name("add_flask_attributes"), [cst.Arg(target), *extra])
        return cst.FlattenSentinel([updated_node, cst.SimpleStatementLine([cst.Expr(call)])])

    def _has_static_folder(self) -> bool:
        filename = self.context.filename
        return bool(filename) and (Path(filename).parent / "static").is_dir()

    def _build_router(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        self._swap_import(original.func, "APIRouter")
        args: list[cst.Arg] = []
        bound = bind(updated, BLUEPRINT_PARAMETERS)
        prefix = bound.get("url_prefix")
        if prefix is not None and not self._prefix_replaced(original):
            args.append(kwarg("prefix", _normalised_prefix(prefix.value)))
        for option, advice in BLUEPRINT_OPTION_ADVICE.items():
            if option in bound and not _is_none(bound[option].value):
                self.flag(original, "blueprint_option", option=option, advice=advice)
        router = cst.Call(func=cst.Name("APIRouter"), args=args)
        folder = bound.get("template_folder")
        if folder is None or _is_none(folder.value) or "import_name" not in bound:
            return router
        # render_template searches the blueprint's folder after the app's, as Flask does
        self.use_support("with_template_folder")
        import_name = bound["import_name"].value
        return cst.Call(cst.Name("with_template_folder"), [cst.Arg(router), cst.Arg(import_name), cst.Arg(folder.value)])

    def _prefix_replaced(self, original: cst.Call) -> bool:
        """Whether the project's registrations override this blueprint's own prefix."""
        from libcst.metadata import ParentNodeProvider

        parent = self.get_metadata(ParentNodeProvider, original, None)
        targets = parent.targets if isinstance(parent, cst.Assign) else [parent] if isinstance(parent, cst.AnnAssign) else []
        for target in targets:
            for name in self.qualified_names(target.target):
                replaced = self.run.project.prefix_overridden(name)
                if replaced is None:
                    self.flag(original, "mixed_prefix")
                    return False
                if replaced:
                    return True
        return False

    def _build_include(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        assert isinstance(updated.func, cst.Attribute)
        if self.kind_of(original.args[0].value) != "blueprint":
            self.flag(original, "unknown_blueprint")
            return updated
        args = [updated.args[0]]
        for arg in updated.args[1:]:
            option = arg.keyword.value if arg.keyword is not None else None
            if option == "url_prefix":
                prefix = _normalised_prefix(arg.value)
                if string_value(prefix) != "":
                    args.append(kwarg("prefix", prefix))
            elif option in REGISTER_OPTION_ADVICE:
                self.flag(original, "register_option", option=option, advice=REGISTER_OPTION_ADVICE[option])
            else:
                args.append(arg)
        self.consume(original.func)
        func = updated.func.with_changes(attr=cst.Name("include_router"))
        return updated.with_changes(func=func, args=last_arg(args))

    def _swap_import(self, flask_name: cst.BaseExpression, fastapi_name: str) -> None:
        AddImportsVisitor.add_needed_import(self.context, "fastapi", fastapi_name)
        self.consume(flask_name)


def _is_none(node: cst.BaseExpression) -> bool:
    """``static_folder=None`` and the like switch a feature off: nothing to carry over."""
    return isinstance(node, cst.Name) and node.value == "None"


def _normalised_prefix(node: cst.BaseExpression) -> cst.BaseExpression:
    """Flask strips a prefix's trailing slash; FastAPI asserts there is none."""
    value = string_value(node)
    if value is None or not value.endswith("/") or not isinstance(node, cst.SimpleString):
        return node
    quote = node.quote
    body = node.value[len(node.prefix) + len(quote) : -len(quote)]
    return node.with_changes(value=f"{node.prefix}{quote}{body.rstrip('/')}{quote}")
