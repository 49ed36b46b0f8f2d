"""Flask's ``session`` in native views -> Starlette's ``request.session``, kept in Flask's own
signed cookie.

Targets https://www.starlette.io/requests/#session (``request.session``) and
https://fastapi.tiangolo.com/advanced/middleware/ . Where ``codemod/session_facts.py`` plans that
Flask's session leaves the project (every use in a native view, in a form a dict keeps alike):

- ``session[k]``, ``session.get(k)``, ``k in session``, ``session.pop(k)``, ``del session[k]``,
  ``session.clear()`` -> the same on ``request.session``, the view taking ``request: Request``;
- ``flash(message, category)`` -> the runtime's ``flash(request, message, category)``, which
  appends to Flask's ``_flashes`` list in ``request.session`` as Flask did;
- the bridge of the app gets the runtime's ``FlaskSessionMiddleware`` (``login=False``: without
  Flask-Login's remember-cookie step), right after it is made:
  ``request.session`` holds Flask's cookie, read and written as Flask's
  ``SecureCookieSessionInterface`` did (the same signature, ``Vary: Cookie``, attributes), so a
  cookie of the original app is read by the converted one and the reverse;
- where templates call ``get_flashed_messages``, the Flask app's own templates get the runtime's
  (``flashes_in_flask_templates(app)``, after the middleware): those Flask still renders pop the
  same list as converted ones (transforms/templates.py), from ``request.session``.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.helpers import parse_template_statement

from collections.abc import Sequence

from codemod.project import AppFacts, free_name
from codemod.session_facts import FLASH, SESSION
from codemod.state import REQUEST_TOKEN
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME
from transforms._views import names_used, request_free, with_parameter

LOGIN = f"{RUNTIME}.login"
FLASHING = f"{RUNTIME}.flashing"
MIDDLEWARE = m.SimpleStatementLine([
    m.Expr(m.Call(m.Attribute(attr=m.Name("add_middleware")), [m.Arg(m.Name("FlaskSessionMiddleware")), m.ZeroOrMore()]))
])


class FlaskSessionTransform(Transform):
    NAME = "flask_session"
    DESCRIPTION = "Flask's session in native views -> request.session (Flask's signed cookie, FlaskSessionMiddleware)"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, session

            app = Flask(__name__)
            app.config["SECRET_KEY"] = "k"


            @app.route("/visit", methods=["POST"])
            def visit():
                session["visits"] = session.get("visits", 0) + 1
                if "gone" in session:
                    del session["gone"]
                session.pop("old", None)
                return {"visits": session["visits"]}


            @app.route("/forget", methods=["POST"])
            def forget():
                session.clear()
                return {}
            """,
            """\
            from flask import Flask
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.login import FlaskSessionMiddleware
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            api.add_middleware(FlaskSessionMiddleware, login=False)
            app.config["SECRET_KEY"] = "k"


            class VisitResponse(BaseModel):
                \"\"\"What visit answers with (documents its 200 answer in OpenAPI).\"\"\"

                visits: Any


            @api.post("/visit", response_model=VisitResponse)
            def visit(request: Request):
                request.session["visits"] = request.session.get("visits", 0) + 1
                if "gone" in request.session:
                    del request.session["gone"]
                request.session.pop("old", None)
                return {"visits": request.session["visits"]}


            @api.post("/forget")
            def forget(request: Request):
                request.session.clear()
                return {}
            """,
            title="the session of native views becomes request.session, over Flask's cookie",
        ),
        Example(
            """\
            from flask import Flask, session

            app = Flask(__name__)


            @app.route("/a")
            def a():
                return {"n": session.get("n")}


            @app.route("/b")
            def b():
                session.permanent = True
                return {}
            """,
            """\
            from flask import Flask, session
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            class AResponse(BaseModel):
                \"\"\"What a answers with (documents its 200 answer in OpenAPI).\"\"\"

                n: Any


            @api.get("/a", response_model=AResponse)
            def a():
                return {"n": session.get("n")}


            @api.get("/b")
            def b():
                session.permanent = True
                return {}
            """,
            title="session.permanent (Flask would refresh the cookie too) keeps every use Flask's",
        ),
        Example(
            """\
            from flask import Flask, flash, session

            app = Flask(__name__)


            @app.route("/a")
            def a():
                flash("hi")
                flash("careful", "warning")
                return {"n": session.get("n")}
            """,
            """\
            from flask import Flask
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.flashing import flash
            from flask2fastapi_runtime.login import FlaskSessionMiddleware
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            api.add_middleware(FlaskSessionMiddleware, login=False)


            class AResponse(BaseModel):
                \"\"\"What a answers with (documents its 200 answer in OpenAPI).\"\"\"

                n: Any


            @api.get("/a", response_model=AResponse)
            def a(request: Request):
                flash(request, "hi")
                flash(request, "careful", "warning")
                return {"n": request.session.get("n")}
            """,
            title="flashes live in the same cookie: they leave Flask with the session, as the runtime's flash",
        ),
        Example(
            """\
            from flask import Flask, flash, session

            app = Flask(__name__)


            def warn(message):
                flash(message, "warning")


            @app.route("/a")
            def a():
                warn("hi")
                return {"n": session.get("n")}
            """,
            """\
            from flask import Flask, flash, session
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            def warn(message):
                flash(message, "warning")


            class AResponse(BaseModel):
                \"\"\"What a answers with (documents its 200 answer in OpenAPI).\"\"\"

                n: Any


            @api.get("/a", response_model=AResponse)
            def a():
                warn("hi")
                return {"n": session.get("n")}
            """,
            title="a flash outside a native view keeps every use of the session Flask's",
        ),
        Example(
            """\
            from flask import Flask, session


            def create_app():
                app = Flask(__name__)
                app.config["SECRET_KEY"] = "k"
                visits = []

                @app.route("/visit", methods=["POST"])
                def visit():
                    session["visits"] = session.get("visits", 0) + 1
                    visits.append(session["visits"])
                    return {"visits": session["visits"]}

                return app
            """,
            """\
            from flask import Flask
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.login import FlaskSessionMiddleware
            from pydantic import BaseModel
            from typing import Any


            class VisitResponse(BaseModel):
                \"\"\"What visit answers with (documents its 200 answer in OpenAPI).\"\"\"

                visits: Any


            def create_app():
                app = Flask(__name__)
                api = FlaskBridge(app)
                api.add_middleware(FlaskSessionMiddleware, login=False)
                app.config["SECRET_KEY"] = "k"
                visits = []

                @api.post("/visit", response_model=VisitResponse)
                def visit(request: Request):
                    request.session["visits"] = request.session.get("visits", 0) + 1
                    visits.append(request.session["visits"])
                    return {"visits": request.session["visits"]}

                return api
            """,
            title="an app factory's view: request.session, the middleware right after the factory's bridge",
        ),
        Example(
            """\
            from flask import Flask, session


            def create_app():
                app = Flask(__name__)

                def remembered():
                    return session.get("n")

                @app.route("/b")
                def b():
                    return {"n": session.get("n")}

                return app
            """,
            """\
            from flask import Flask, session
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any


            class BResponse(BaseModel):
                \"\"\"What b answers with (documents its 200 answer in OpenAPI).\"\"\"

                n: Any


            def create_app():
                app = Flask(__name__)
                api = FlaskBridge(app)

                def remembered():
                    return session.get("n")

                @api.get("/b", response_model=BResponse)
                def b():
                    return {"n": session.get("n")}

                return api
            """,
            title="a factory's function that is no view keeps every use of the session Flask's",
        ),
        Example(
            """\
            from beaker import session

            def a():
                return session.get("n")
            """,
            title="a session of another library stays",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        plan = run.project.session_plan
        path = context.filename or ""
        self.converts = plan.converts
        self.views = {function for file, function in (*plan.views, *plan.flashes) if file == path}
        self.templates = plan.templates
        # view ("login", or "create_app.login" in a factory: session_facts) -> its Starlette request
        self.requests: dict[str, str] = {}
        self.functions: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node.name.value)
        if len(self.functions) > 2 or self._view() not in self.views:
            return
        # the name request_state gives the view's Starlette request, where it gives one: FastAPI
        # fills one parameter of the type, so the two must be one
        state = self.run.project.state
        qualified = f"{self.context.full_module_name or ''}.{self._view()}"
        if REQUEST_TOKEN in state.views.get(qualified, {}):
            name = state.request_param
        elif request_free(self, node):
            name = "request"
        else:  # Flask's request stays in the view
            name = free_name(("http_request", "starlette_request"), names_used(node))
        self.requests[self._view()] = name

    def _view(self) -> str:
        """The function the traversal is in, named as session_facts names it."""
        return ".".join(self.functions)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        name = self.requests.get(self._view())
        self.functions.pop()
        if name is None:
            return updated_node
        annotation = self.import_reference(original_node, "fastapi", "Request", replaces=False)
        return with_parameter(updated_node, name, annotation)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._session(original_node, updated_node)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return self._session(original_node, updated_node)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        """``flash(message, category)`` -> ``flash(request, message, category)``, the runtime's."""
        if self._view() not in self.requests or not self.names(original_node.func, *FLASH):
            return updated_node
        self.consume(original_node.func)
        flash = self.import_reference(original_node.func, FLASHING, "flash", replaces=False, supersedes=lambda imported: imported in FLASH)
        request = cst.Arg(cst.Name(self.requests[self._view()]), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return updated_node.with_changes(func=flash, args=[request, *updated_node.args])

    def _session(self, original, updated):
        if self._view() not in self.requests or not self.names(original, *SESSION):
            return updated
        self.consume(original)
        return cst.Attribute(cst.Name(self.requests[self._view()]), cst.Name("session"))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        """The middleware, once, right after the bridge of the app made in this module: in the
        module's body, or in the body of the factory that makes it."""
        apps = [a for a in self.run.project.apps.values() if a.module == self.context.full_module_name]
        if not self.converts or len(apps) != 1:
            return updated_node
        if apps[0].module_level:
            return updated_node.with_changes(body=self._middleware(original_node, apps[0], updated_node.body))
        factory = apps[0].factory.rpartition(".")[2] if apps[0].factory else None
        body = [
            s.with_changes(body=s.body.with_changes(body=self._middleware(original_node, apps[0], s.body.body)))
            if isinstance(s, cst.FunctionDef) and s.name.value == factory and isinstance(s.body, cst.IndentedBlock) else s
            for s in updated_node.body
        ]
        return updated_node.with_changes(body=body)

    def _middleware(self, module: cst.Module, app: AppFacts, statements: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """``statements`` with the middleware after the one that makes the app's bridge."""
        body = list(statements)
        made = m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name(app.bridge))], m.Call())])
        index = next((i for i, s in enumerate(body) if m.matches(s, made)), None)
        if index is None or any(m.matches(s, MIDDLEWARE) for s in body):
            return body
        middleware = self.import_reference(module, LOGIN, "FlaskSessionMiddleware", replaces=False)
        line = parse_template_statement("{bridge}.add_middleware({middleware}, login=False)", bridge=cst.Name(app.bridge), middleware=middleware)
        lines = [line]
        if self.templates:  # the app's own templates read the same flashes
            shared = self.import_reference(module, FLASHING, "flashes_in_flask_templates", replaces=False)
            name = next(n for n, a in self.run.project.apps.items() if a is app).rpartition(".")[2]
            lines.append(parse_template_statement("{shared}({app})", shared=shared, app=cst.Name(name)))
        body[index + 1:index + 1] = lines
        return body
