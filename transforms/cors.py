"""Flask-CORS into Starlette's CORSMiddleware with the same origins, headers and credentials.

Targets https://fastapi.tiangolo.com/tutorial/cors/ . ``CORS(app, origins=..., ...)`` becomes
``app.add_middleware(CORSMiddleware, **flask_cors_options(origins=..., ...))``: the options keep
Flask-CORS's names and meaning (flask_compat translates them, at run time, since they are often
read from the config), including Flask-CORS's answer with the request's own origin.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import last_arg

CORS = "flask_cors.CORS"
CROSS_ORIGIN = "flask_cors.cross_origin"
OPTIONS = frozenset(
    {"origins", "methods", "allow_headers", "expose_headers", "supports_credentials", "max_age", "send_wildcard", "vary_header"}
)


class CorsTransform(Transform):
    NAME = "cors"
    DESCRIPTION = "Flask-CORS CORS(app, ...) -> app.add_middleware(CORSMiddleware, ...) with the same behaviour"
    FINDINGS = {
        "cors_option": Code(
            "F2F171",
            "CORS({option}=...) has no CORSMiddleware counterpart: {advice}",
            "Flask-CORS's per-path resources and some options have no direct Starlette form.",
        ),
        "cross_origin": Code(
            "F2F172",
            "@cross_origin sets CORS on one view; CORSMiddleware applies to the whole app: decide "
            "which origins the app allows and configure the middleware once",
            "Starlette has no per-route CORS; a middleware on a sub-application can scope it.",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import Flask\nfrom flask_cors import CORS\n\napp = Flask(__name__)\n"
            "CORS(app, origins=['https://a.example'], supports_credentials=True)\n",
            "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes, flask_cors_options\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n"
            "app.add_middleware(CORSMiddleware, **flask_cors_options(origins=['https://a.example'], supports_credentials=True))\n",
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
            "from flask_cors import cross_origin\n\n\n# TODO[F2F172]: @cross_origin sets CORS on one view; "
            "CORSMiddleware applies to the whole app: decide which origins the app allows and configure the "
            "middleware once\n@cross_origin(origins='*')\ndef view():\n    return {}\n",
            codes=("F2F172",),
            title="a per-view decorator is flagged",
        ),
        Example("from starlette.middleware.cors import CORSMiddleware\nCORS = CORSMiddleware\n", title="a lookalike"),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.names(original_node.func, CROSS_ORIGIN):
            self.flag(original_node, "cross_origin")
            return updated_node
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
        AddImportsVisitor.add_needed_import(self.context, "fastapi.middleware.cors", "CORSMiddleware")
        settings = cst.Call(cst.Name("flask_cors_options"), last_arg(options))
        func = cst.Attribute(updated_node.args[0].value, cst.Name("add_middleware"))
        return cst.Call(func, [cst.Arg(cst.Name("CORSMiddleware")), cst.Arg(settings, star="**")])
