"""``app.run(...)`` into ``uvicorn.run(<the bridge>, ...)`` on the same host and port.

Targets https://fastapi.tiangolo.com/deployment/manually/ and https://www.uvicorn.org/settings/ .
The server runs the FastAPI bridge, not the Flask app: the bridge's variable where the app was
created in the same module, the app itself where it came from a factory (which now returns the
bridge), else ``bridge_of(app)``. Flask's development server listens on 127.0.0.1:5000 unless
told otherwise; uvicorn's default port is 8000, so the port is always written out.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import NO_SPACE, bind, bridge_reference, kwarg, last_arg

RUN_PARAMETERS = ("host", "port", "debug", "load_dotenv")
FLASK_DEFAULT_PORT = "5000"
# app.run options uvicorn.run has no counterpart for, and what to do instead.
RUN_OPTION_ADVICE = {
    "debug": "uvicorn has no debugger; run `uvicorn module:app --reload` while developing",
    "use_reloader": "run `uvicorn module:app --reload` while developing",
    "use_debugger": "uvicorn has no debugger",
    "ssl_context": "pass ssl_certfile= and ssl_keyfile= to uvicorn.run",
    "load_dotenv": "load .env in your settings (python-dotenv or pydantic-settings)",
    "extra_files": "pass reload_includes= to uvicorn.run",
}
# Options that only tune Flask's development server and mean nothing under uvicorn.
IGNORED_OPTIONS = frozenset({"threaded", "processes", "passthrough_errors"})


class EntrypointTransform(Transform):
    NAME = "entrypoint"
    DESCRIPTION = "app.run(host=, port=, debug=) -> uvicorn.run(app, host=, port=)"
    FINDINGS = {
        "run_option": Code(
            "F2F151",
            "app.run({option}=...) has no uvicorn.run() counterpart and was dropped: {advice}",
            "Flask's development server took an option that uvicorn.run() does not have.",
        ),
        "run_kwargs": Code(
            "F2F152",
            "app.run() with **options: pass the uvicorn.run() equivalents by hand",
            "The options are not visible in the code, so they cannot be mapped.",
        ),
    }
    EXAMPLES = (
        Example(
            """\
            from flask import Flask
            app = Flask(__name__)
            if __name__ == '__main__':
                app.run(host='0.0.0.0', port=8080)
            """,
            """\
            from flask import Flask
            import uvicorn
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)
            if __name__ == '__main__':
                uvicorn.run(api, host='0.0.0.0', port=8080)
            """,
            title="host and port; the server runs the bridge",
        ),
        Example(
            """\
            from flask import Flask


            def create_app():
                app = Flask(__name__)
                return app


            app = create_app()
            app.run(debug=True)
            """,
            """\
            from flask import Flask
            import uvicorn
            from flask2fastapi_runtime import FlaskBridge


            def create_app():
                app = Flask(__name__)
                api = FlaskBridge(app)
                return api


            app = create_app()
            # TODO[F2F151]: app.run(debug=...) has no uvicorn.run() counterpart and was dropped: uvicorn has no debugger; run `uvicorn module:app --reload` while developing
            uvicorn.run(app, port=5000)
            """,
            codes=("F2F151",),
            title="a factory's app is its bridge; Flask's port is kept; debug is flagged",
        ),
        Example(
            """\
            from flask import Flask


            def serve(app: Flask) -> None:
                app.run(port=8000)
            """,
            """\
            from flask import Flask
            import uvicorn
            from flask2fastapi_runtime import bridge_of


            def serve(app: Flask) -> None:
                uvicorn.run(bridge_of(app), port=8000)
            """,
            title="an app from elsewhere: its bridge",
        ),
        Example(
            """\
            import threading
            thread = threading.Thread(target=print)
            thread.run()
            """,
            title="another run()",
        ),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "run" and self.kind_of(func.value) == "app"):
            return updated_node
        assert isinstance(updated_node.func, cst.Attribute)
        if any(a.star == "**" for a in original_node.args):
            self.flag(original_node, "run_kwargs")
        bound = bind(updated_node, RUN_PARAMETERS)
        args = [cst.Arg(self._bridge(func.value, updated_node.func.value))]
        for name in ("host", "port"):
            if name in bound:
                arg = bound[name]
                args.append(arg if arg.keyword is not None else arg.with_changes(keyword=cst.Name(name), equal=NO_SPACE))
        if "port" not in bound:
            args.append(kwarg("port", cst.Integer(FLASK_DEFAULT_PORT)))
        for name in bound:
            if name in ("host", "port") or name in IGNORED_OPTIONS:
                continue
            advice = RUN_OPTION_ADVICE.get(name, "see uvicorn's settings for an equivalent")
            self.flag(original_node, "run_option", option=name, advice=advice)
        AddImportsVisitor.add_needed_import(self.context, "uvicorn")
        return cst.Call(cst.Attribute(cst.Name("uvicorn"), cst.Name("run")), last_arg(args))

    def _bridge(self, app: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
        """What uvicorn serves: a factory's result is the bridge already."""
        factories = self.run.project.factories
        if isinstance(app, cst.Call) and self.qualified_names(app.func) & factories:
            return updated
        if isinstance(app, cst.Name) and any(
            isinstance(v, cst.Call) and self.qualified_names(v.func) & factories for v in self.assigned_values(app)
        ):
            return updated
        return bridge_reference(self, app, updated)
