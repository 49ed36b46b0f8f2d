"""Flask-CORS into Starlette's CORSMiddleware with the same origins, headers and credentials.

Targets https://fastapi.tiangolo.com/tutorial/cors/ . ``CORS(app, origins=..., ...)`` becomes
``app.add_middleware(FlaskCORS, **flask_cors_options(origins=..., ...))`` (Starlette's
CORSMiddleware, sending no CORS headers to an origin it refuses, as Flask-CORS): the options keep
Flask-CORS's names and meaning (flask_compat translates them, at run time, since they are often
read from the config), including Flask-CORS's answer with the request's own origin.
``@cross_origin(...)`` on a view becomes flask_compat's, which gives that view's routes their own
CORSMiddleware, so the other routes still send no CORS headers.
"""

from __future__ import annotations

import libcst as cst

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import last_arg

CORS = "flask_cors.CORS"
CROSS_ORIGIN = "flask_cors.cross_origin"
OPTIONS = frozenset(
    {"origins", "methods", "allow_headers", "expose_headers", "supports_credentials", "max_age", "send_wildcard", "vary_header"}
)
VIEW_OPTIONS = OPTIONS | {"automatic_options"}


class CorsTransform(Transform):
    NAME = "cors"
    DESCRIPTION = "Flask-CORS CORS(app, ...) / @cross_origin -> CORSMiddleware with the same behaviour"
    FINDINGS = {
        "cors_option": Code(
            "F2F171",
            "CORS({option}=...) has no CORSMiddleware counterpart: {advice}",
            "Flask-CORS's per-path resources and some options have no direct Starlette form.",
        ),
        "cross_origin": Code(
            "F2F172",
            "@cross_origin({option}=...) has no CORSMiddleware counterpart: set the view's CORS headers by hand",
            "flask_compat's cross_origin gives the view's routes a CORSMiddleware; this option has no "
            "CORSMiddleware form.",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import Flask\nfrom flask_cors import CORS\n\napp = Flask(__name__)\n"
            "CORS(app, origins=['https://a.example'], supports_credentials=True)\n",
            "from fastapi import FastAPI\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, FlaskCORS, add_flask_attributes, flask_cors_options\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n"
            "app.add_middleware(FlaskCORS, **flask_cors_options(origins=['https://a.example'], supports_credentials=True))\n",
            title="origins and credentials",
        ),
        Example(
            "from flask import Flask\nfrom flask_cors import CORS\n\napp = Flask(__name__)\n"
            "CORS(app, resources={r'/api/*': {'origins': '*'}})\n",
            "from flask_cors import CORS\nfrom fastapi import FastAPI\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n"
            "# TODO[F2F171]: CORS(resources=...) has no CORSMiddleware counterpart: allow the union of "
            "the origins app-wide, or mount the paths as a sub-application with its own CORSMiddleware\n"
            "CORS(app, resources={r'/api/*': {'origins': '*'}})\n",
            codes=("F2F171",),
            title="per-path resources are flagged",
        ),
        Example(
            "from flask_cors import cross_origin\n\n\n@cross_origin(origins='*')\ndef view():\n    return {}\n",
            "from flask_compat import cross_origin\n\n\n@cross_origin(origins='*')\ndef view():\n    return {}\n",
            title="a per-view decorator: CORS for that view's routes only",
        ),
        Example(
            "import flask_cors\n\n\n@flask_cors.cross_origin(origins='*', resources={})\ndef view():\n    return {}\n",
            "import flask_cors\n\n\n# TODO[F2F172]: @cross_origin(resources=...) has no CORSMiddleware counterpart: "
            "set the view's CORS headers by hand\n@flask_cors.cross_origin(origins='*', resources={})\ndef view():\n"
            "    return {}\n",
            codes=("F2F172",),
            title="an option with no CORSMiddleware form is flagged",
        ),
        Example("from starlette.middleware.cors import CORSMiddleware\nCORS = CORSMiddleware\n", title="a lookalike"),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.names(original_node.func, CROSS_ORIGIN):
            return self._cross_origin(original_node, updated_node)
        if not self.names(original_node.func, CORS) or not original_node.args:
            return updated_node
        app = original_node.args[0]
        if app.keyword is not None or self.kind_of(app.value) != "app":
            return updated_node
        options = list(updated_node.args[1:])
        for arg in options:
            name = arg.keyword.value if arg.keyword is not None else None
            if name not in OPTIONS:
                advice = (
                    "allow the union of the origins app-wide, or mount the paths as a sub-application with its own CORSMiddleware"
                    if name == "resources"
                    else "set the CORSMiddleware option by hand"
                )
                self.flag(original_node, "cors_option", option=name or "*", advice=advice)
                return updated_node
        self.consume(original_node.func)
        self.use_support("flask_cors_options")
        self.use_support("FlaskCORS")
        settings = cst.Call(cst.Name("flask_cors_options"), last_arg(options))
        func = cst.Attribute(updated_node.args[0].value, cst.Name("add_middleware"))
        return cst.Call(func, [cst.Arg(cst.Name("FlaskCORS")), cst.Arg(settings, star="**")])

    def _cross_origin(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        """``@cross_origin(...)`` keeps its options and becomes flask_compat's, which gives the
        view's routes their own CORSMiddleware."""
        unknown = [
            arg.keyword.value if arg.keyword is not None else "*"
            for arg in original_node.args[1:] if arg.keyword is None or arg.keyword.value not in VIEW_OPTIONS
        ]
        first = original_node.args[0] if original_node.args else None
        if first is not None and first.keyword is not None and first.keyword.value not in VIEW_OPTIONS:
            unknown.insert(0, first.keyword.value)
        if unknown or (first is not None and first.star):
            self.flag(original_node, "cross_origin", option=unknown[0] if unknown else "*")
            return updated_node
        self.consume(original_node.func)
        if isinstance(original_node.func, cst.Name):
            self.use_support("cross_origin", asname=original_node.func.value)
            return updated_node
        return updated_node.with_changes(func=self.support_reference(original_node.func, "cross_origin"))
