"""send_file, send_from_directory, render_template(_string), flash and app.root_path into flask_compat's.

Targets https://fastapi.tiangolo.com/advanced/custom-response/#fileresponse and
https://fastapi.tiangolo.com/advanced/templates/ . The calls keep their arguments: flask_compat's
send_file answers with Starlette's FileResponse and Flask's headers (Content-Type with its
charset, Content-Disposition, Cache-Control, ETag, Last-Modified) and conditional answers (304,
a byte range); its send_from_directory refuses what werkzeug's safe_join refuses and answers a
missing file with a 404 through the app's own handlers, both resolving relative paths against
the app's folder as Flask does. render_template renders with a Jinja2Templates environment over
the app's template folder, with Flask's autoescaping and template globals, and returns the text,
which the responses transform sends as HTML as Flask did; ``flash`` keeps its messages in the
session for ``get_flashed_messages``, as Flask does. ``@app.template_filter`` (global, test),
``@app.context_processor``, ``app.jinja_env`` and a blueprint's ``@bp.app_template_filter`` & co.
reach that same environment. ``app.root_path`` and ``current_app.root_path``, the folder these
paths are relative to, become ``.flask_root_path``: FastAPI's own ``root_path`` is a URL prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ParentNodeProvider

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import FLASH, RENDER_TEMPLATE, SEND_FILE, SEND_FROM_DIRECTORY, Supported, last_arg

CURRENT_APP = "flask.current_app"
TEMPLATE_REGISTRARS = frozenset({"template_filter", "template_global", "template_test", "context_processor"})
APP_WIDE_REGISTRARS = frozenset(
    {"app_template_filter", "app_template_global", "app_template_test", "app_context_processor"}
)
# flask names flask_compat has under the same name
SUPPORTED = Supported(
    "flask",
    sorted({q.rpartition(".")[2] for q in SEND_FILE | SEND_FROM_DIRECTORY | RENDER_TEMPLATE | FLASH}),
    modules=("helpers", "templating"),
)


class FilesTemplatesTransform(Transform):
    NAME = "files_templates"
    DESCRIPTION = "send_file / send_from_directory / render_template -> flask_compat's (FileResponse, Jinja2Templates)"
    FINDINGS: ClassVar[Mapping[str, Code]] = {}
    EXAMPLES = (
        Example(
            "from flask import Flask, send_from_directory\n\napp = Flask(__name__)\n\n\n@app.route('/files/<path:name>')\n"
            "def download(name):\n    return send_from_directory('uploads', name, as_attachment=True)\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, PathRule, "
            "add_flask_attributes, send_from_directory\nfrom typing import Annotated\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n\n"
            "@app.get('/files/{name:path}')\ndef download(name: Annotated[str, PathRule]):\n"
            "    return send_from_directory('uploads', name, as_attachment=True)\n",
            title="a download named by the client keeps werkzeug's path checks",
        ),
        Example(
            "import flask\n\napp = flask.Flask(__name__)\n\n\n@app.route('/')\ndef index():\n"
            "    return flask.render_template('index.html', name='ann'), 201\n",
            "from fastapi import FastAPI\nfrom fastapi.responses import HTMLResponse\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes, render_template\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n\n"
            "@app.get('/')\ndef index():\n    return HTMLResponse(render_template('index.html', name='ann'), status_code=201)\n",
            title="a rendered page with a status is HTML, as Flask sent it",
        ),
        Example(
            "from fastapi.responses import FileResponse\nfrom helpers import send_file\n\n\ndef report():\n"
            "    return send_file('report.pdf')\n",
            title="a lookalike send_file from another module",
        ),
    )

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return SUPPORTED.reference(self, original_node, updated_node) or updated_node

    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator) -> cst.Decorator:
        """``@app.context_processor`` / ``@app.template_filter`` -> ``@context_processor(app)`` & co."""
        target = original_node.decorator
        app_wide = self._app_wide(target.func if isinstance(target, cst.Call) else target)
        if app_wide is not None:  # @bp.app_template_filter("x") -> @app_template_filter("x")
            decorator = updated_node.decorator
            if isinstance(decorator, cst.Call):
                return updated_node.with_changes(decorator=decorator.with_changes(func=cst.Name(app_wide)))
            return updated_node.with_changes(decorator=cst.Name(app_wide))
        name = self._registrar(target) if isinstance(target, cst.Attribute) else None
        if name is None:
            return updated_node
        assert isinstance(updated_node.decorator, cst.Attribute)
        return updated_node.with_changes(decorator=cst.Call(cst.Name(name), [cst.Arg(updated_node.decorator.value)]))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        """``app.template_filter("name")`` -> ``template_filter(app, "name")``;
        ``app.add_template_filter(f, "name")`` -> ``template_filter(app, "name")(f)``."""
        func = original_node.func
        if not isinstance(func, cst.Attribute) or not m.matches(updated_node, m.Call(func=m.Attribute())):
            return updated_node  # an earlier transform may have made it something else
        receiver = updated_node.func.value
        added = func.attr.value.startswith("add_template_")
        name = self._registrar(func, adding=added)
        if name is None:
            return updated_node
        if not added:
            return cst.Call(cst.Name(name), [cst.Arg(receiver), *updated_node.args])
        function, *rest = updated_node.args
        names = [a.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT) for a in rest]  # name= or positional
        registrar = cst.Call(cst.Name(name), last_arg([cst.Arg(receiver), *names]))
        return cst.Call(registrar, [function.with_changes(comma=cst.MaybeSentinel.DEFAULT)])

    def _registrar(self, target: cst.Attribute, adding: bool = False) -> str | None:
        """flask_compat's registrar for a template attribute of an app, or None."""
        attr = target.attr.value
        name = attr.removeprefix("add_") if adding else attr
        if name not in TEMPLATE_REGISTRARS or (adding and name == "context_processor"):
            return None
        if self.kind_of(target.value) != "app":
            return None
        self.consume(target)
        self.use_support(name)
        return name

    def _app_wide(self, target: cst.BaseExpression) -> str | None:
        """flask_compat's registrar for a blueprint's ``app_template_filter`` & co., or None."""
        if not isinstance(target, cst.Attribute) or target.attr.value not in APP_WIDE_REGISTRARS:
            return None
        if self.kind_of(target.value) != "blueprint":
            return None
        self.consume(target)
        self.use_support(target.attr.value)
        return target.attr.value

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if original_node.attr.value == "jinja_env" and self.kind_of(original_node.value) == "app":
            self.consume(original_node)  # the environment render_template uses
            self.use_support("templates_of")
            return cst.Attribute(cst.Call(cst.Name("templates_of"), [cst.Arg(updated_node.value)]), cst.Name("env"))
        name = original_node.attr.value
        if name == "root_path" and self._is_app(original_node.value) and not self._is_target(original_node):
            # FastAPI's app.root_path is the URL prefix behind a proxy; Flask's is the app's folder
            self.consume(original_node)
            return updated_node.with_changes(attr=cst.Name("flask_root_path"))
        return SUPPORTED.reference(self, original_node, updated_node) or updated_node  # flask.send_file

    def _is_app(self, node: cst.BaseExpression) -> bool:
        return self.kind_of(node) == "app" or self.names(node, CURRENT_APP)

    def _is_target(self, node: cst.CSTNode) -> bool:
        """``app.root_path = ...``: an assignment, which stays (and is flagged) as it was."""
        parent = self.get_metadata(ParentNodeProvider, node, None)
        if isinstance(parent, cst.AnnAssign):
            return parent.target is node
        return isinstance(parent, (cst.AssignTarget, cst.AugAssign))
