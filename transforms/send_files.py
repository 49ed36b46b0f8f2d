"""``send_file`` / ``send_from_directory`` in native views -> the runtime's ``file_response``.

Targets https://fastapi.tiangolo.com/advanced/custom-response/#fileresponse : a view that sent a
file returns a Starlette response of it. Starlette's ``FileResponse`` answers conditional and
range requests otherwise than werkzeug (its own ETag, no 304 or 412, multi-part ranges), so the
view returns the runtime's ``file_response(request, ...)`` (runtime/files.py), a
``StreamingResponse`` with werkzeug's headers and answers:

- ``send_file(f, mimetype=t, ...)`` -> ``file_response(request, f, root=Path(__file__).parent,
  media_type=t, ...)``: a relative path is read under ``root``, what Flask's ``app.root_path``
  was (no ``root`` where ``f`` is an ``io.BytesIO``);
- ``send_from_directory(d, name, ...)`` -> ``file_response(request, safe_path(d, name,
  root=Path(__file__).parent), ...)``: ``safe_path`` refuses, with a 404, what werkzeug's
  ``safe_join`` refused and a name that is no file.

A call converts only

- in a native view's own body, outside any ``try`` with handlers or ``with`` (``except
  NotFound`` would no longer see the 404), where the name ``request`` is free for Starlette's;
- in the module that makes the app as ``Flask(__name__)`` (its folder is ``app.root_path``);
- with ``send_file``'s own options as keywords, and in an app whose module sets no
  ``SEND_FILE_MAX_AGE_DEFAULT``, ``USE_X_SENDFILE`` or ``response_class`` and loads no config
  from elsewhere (``from_object``, ``from_pyfile``...), which would change Flask's answer.

What stays is Flask's ``send_file``, which still works in the native view.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.find import findall
from codemod.state import REQUEST_TOKEN
from codemod.transform import Example, Transform
from transforms._flask import kwarg
from transforms._views import OwnBody, guarded, native_plans, request_free, with_parameter

SEND_FILE = frozenset({"flask.send_file", "flask.helpers.send_file"})
SEND_FROM_DIRECTORY = frozenset({"flask.send_from_directory", "flask.helpers.send_from_directory"})
FLASK = frozenset({"flask.Flask", "flask.app.Flask"})
BYTES_IO = frozenset({"io.BytesIO", "_io.BytesIO"})
RUNTIME = "flask2fastapi_runtime.files"
# send_file's options, as file_response names them
OPTIONS = {
    "mimetype": "media_type", "as_attachment": "as_attachment", "download_name": "download_name",
    "conditional": "conditional", "etag": "etag", "last_modified": "last_modified", "max_age": "max_age",
}
# what changes send_file's answer app-wide: the converter does not know their values
APP_WIDE = ("SEND_FILE_MAX_AGE_DEFAULT", "USE_X_SENDFILE", "response_class", "get_send_file_max_age")
CONFIG_LOADS = frozenset({"from_object", "from_pyfile", "from_envvar", "from_file", "from_prefixed_env"})


class SendFilesTransform(Transform):
    NAME = "send_files"
    DESCRIPTION = "native views: send_file / send_from_directory -> file_response(request, ...)"
    PREFILTER = (b"send_file", b"send_from_directory")
    EXAMPLES = (
        Example(
            """\
            import io
            from flask import Flask, send_file, send_from_directory
            app = Flask(__name__)

            @app.get("/manual")
            def manual():
                return send_file("downloads/manual.txt", max_age=60)

            @app.get("/report.csv")
            def report():
                return send_file(io.BytesIO(b"a,b"), mimetype="text/csv", download_name="report.csv")

            @app.get("/files/<path:name>")
            def download(name):
                return send_from_directory("downloads", name, as_attachment=True)
            """,
            """\
            import io
            from flask import Flask
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.files import file_response, safe_path
            from pathlib import Path

            app = Flask(__name__)
            api = FlaskBridge(app)

            @api.get("/manual")
            def manual(request: Request):
                return file_response(request, "downloads/manual.txt", root=Path(__file__).parent, max_age=60)

            @api.get("/report.csv")
            def report(request: Request):
                return file_response(request, io.BytesIO(b"a,b"), media_type="text/csv", download_name="report.csv")

            @api.get("/files/{name:path}")
            def download(name: str, request: Request):
                return file_response(request, safe_path("downloads", name, root=Path(__file__).parent), as_attachment=True)
            """,
            title="a path under the app's folder, an in-memory file, a file of a folder",
        ),
        Example(
            """\
            from flask import Flask, send_file
            from werkzeug.exceptions import NotFound
            app = Flask(__name__)
            app.config.from_object("settings")

            @app.get("/manual")
            def manual():
                return send_file("downloads/manual.txt")

            @app.get("/guarded")
            def guarded():
                try:
                    return send_file("downloads/manual.txt")
                except NotFound:
                    return "gone"
            """,
            """\
            from flask import Flask, send_file
            from werkzeug.exceptions import NotFound
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.config.from_object("settings")

            @api.get("/manual")
            def manual():
                return send_file("downloads/manual.txt")

            @api.get("/guarded")
            def guarded():
                try:
                    return send_file("downloads/manual.txt")
                except NotFound:
                    return "gone"
            """,
            title="a config from elsewhere may set SEND_FILE_MAX_AGE_DEFAULT; a try sees the 404: send_file stays",
        ),
        Example(
            """\
            from flask import send_file

            def download(path):
                return send_file(path)
            """,
            title="outside a view send_file stays",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: dict[cst.Call, str] = {}  # call -> the request parameter of its view
        self.views: dict[cst.FunctionDef, str] = {}
        self.allowed = False

    def visit_Module(self, node: cst.Module) -> None:
        module = self.context.full_module_name or ""
        apps = [app for app in self.run.project.apps.values() if app.module == module and app.module_level]
        own = m.Call(args=[m.Arg(value=m.Name("__name__"), keyword=None), m.ZeroOrMore()])
        made = [call for call in findall(node, own) if isinstance(call, cst.Call) and self.names(call.func, *FLASK)]
        loads = m.Call(func=m.Attribute(attr=m.OneOf(*(m.Name(n) for n in CONFIG_LOADS))))
        self.allowed = (
            len(apps) == 1 and len(self.run.project.apps) == 1 and len(made) == 1 and not findall(node, loads)
        )
        if self.allowed:  # the module's code is made again for this test: only where it decides
            text = node.code
            self.allowed = not any(word in text for word in APP_WIDE)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self.allowed or not native_plans(self, node) or not request_free(self, node):
            return
        state = self.run.project.state
        qualified = f"{self.context.full_module_name or ''}.{node.name.value}"
        name = state.request_param if REQUEST_TOKEN in state.views.get(qualified, {}) else "request"
        for call in OwnBody(node).calls:
            if self.names(call.func, *SEND_FILE, *SEND_FROM_DIRECTORY) and self._convertible(call):
                self.calls[call] = self.views[node] = name

    def _convertible(self, call: cst.Call) -> bool:
        positional = 2 if self.names(call.func, *SEND_FROM_DIRECTORY) else 1
        args = call.args
        if guarded(self, call) or len(args) < positional or any(a.star for a in args):
            return False
        if any(a.keyword is not None for a in args[:positional]):
            return False
        return all(a.keyword is not None and a.keyword.value in OPTIONS for a in args[positional:])

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        request = self.calls.get(original_node)
        if request is None:
            return updated_node
        self.consume(original_node)
        args = updated_node.args
        root = kwarg("root", self._root(original_node))
        if self.names(original_node.func, *SEND_FROM_DIRECTORY):
            safe_path = self.import_reference(original_node.func, RUNTIME, "safe_path", replaces=False)
            directory, name = (a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args[:2])
            file = cst.Arg(cst.Call(safe_path, [self._comma(directory), self._comma(name), root]))
            rest = args[2:]
        else:
            file, rest = args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT), args[1:]
            if not self._in_memory(original_node.args[0].value):
                rest = (root, *rest)
        options = [
            a.with_changes(keyword=cst.Name(OPTIONS.get(a.keyword.value, a.keyword.value))) if a.keyword else a for a in rest
        ]
        function = self.import_reference(original_node.func, RUNTIME, "file_response", replaces=False)
        new_args = [self._comma(cst.Arg(cst.Name(request))), *(self._comma(a) for a in [file, *options])]
        new_args[-1] = new_args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return cst.Call(function, new_args)

    @staticmethod
    def _comma(arg: cst.Arg) -> cst.Arg:
        return arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))

    def _root(self, node: cst.CSTNode) -> cst.BaseExpression:
        path = self.import_reference(node, "pathlib", "Path", replaces=False)
        return cst.Attribute(cst.Call(path, [cst.Arg(cst.Name("__file__"))]), cst.Name("parent"))

    def _in_memory(self, value: cst.BaseExpression) -> bool:
        """``io.BytesIO(...)``, or a name only ever bound to one: no path, no root."""
        if isinstance(value, cst.Call):
            return self.names(value.func, *BYTES_IO)
        if isinstance(value, cst.Name):
            values = self.assigned_values(value)
            return bool(values) and all(v is not None and self._in_memory(v) for v in values)
        return False

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        name = self.views.get(original_node)
        if name is None:
            return updated_node
        annotation = self.import_reference(original_node, "fastapi", "Request", replaces=False)
        return with_parameter(updated_node, name, annotation)
