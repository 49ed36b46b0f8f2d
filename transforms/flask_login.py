"""Flask-Login into FastAPI dependencies: the current user through ``Depends``, the session as
Flask wrote it.

Targets https://fastapi.tiangolo.com/tutorial/security/ and
https://fastapi.tiangolo.com/tutorial/dependencies/ . Where ``codemod/login_facts.py`` plans that
Flask-Login leaves the project:

- the manager's ``user_loader`` stays a plain function; next to it come ``current_user`` (a
  dependency that returns the session's user or an anonymous one, declaring the session cookie
  with ``APIKeyCookie`` for OpenAPI) and ``login_required_user`` (the logged-in user, else what
  Flask-Login answered: the ``unauthorized_handler``'s answer, a redirect to the ``login_view``
  with ``?next=``, or 401);
- ``LoginManager(app)`` / ``init_app(app)`` become the runtime's ``FlaskSessionMiddleware`` (Flask's
  signed session cookie, read and written as Flask did, so a cookie of the original still logs
  in) and an exception handler for the refusals;
- views take ``user: Annotated[Any, Depends(login_required_user)]`` (or ``current_user``) where
  they read ``current_user``, else ``dependencies=[Depends(login_required_user)]``;
  ``login_user(u)`` / ``logout_user()`` become the runtime's, given the request;
- ``UserMixin`` is the runtime's (the same properties, without Flask).
"""

from __future__ import annotations

import libcst as cst
from codemod.visitors import Transformer
import libcst.matchers as m
from libcst.helpers import parse_template_expression, parse_template_statement

from codemod.find import findall
from codemod.login_facts import CURRENT_USER, LOGIN_REQUIRED, LOGIN_USER, LOGOUT_USER, USER_MIXIN, ManagerFacts
from codemod.project import free_name
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME, bridge_reference, kwarg, string_literal
from transforms._views import native_plans, option, parameter_names, with_parameter, with_route_options

LOGIN = f"{RUNTIME}.login"
JSONIFY = frozenset({"flask.jsonify", "flask.json.jsonify"})
LOGIN_MESSAGE = "Please log in to access this page."


class FlaskLoginTransform(Transform):
    NAME = "flask_login"
    DESCRIPTION = "Flask-Login -> a current-user dependency (Depends) over Flask's session cookie"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, jsonify
            from flask_login import LoginManager, current_user, login_required

            app = Flask(__name__)
            app.config["SECRET_KEY"] = "k"
            login_manager = LoginManager(app)

            USERS = {}


            @login_manager.user_loader
            def load_user(user_id):
                return USERS.get(user_id)


            @app.route("/me")
            @login_required
            def me():
                return jsonify(name=current_user.name)
            """,
            """\
            from flask import Flask
            from fastapi import Depends, HTTPException, Request
            from fastapi.security import APIKeyCookie
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.login import FlaskSessionMiddleware, session_user
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.config["SECRET_KEY"] = "k"
            api.add_middleware(FlaskSessionMiddleware)

            USERS = {}


            def load_user(user_id):
                return USERS.get(user_id)


            # Flask's session cookie, declared for OpenAPI; session_user reads it (request.session)
            session_cookie = APIKeyCookie(name="session", auto_error=False)


            def current_user(request: Request, session: Annotated[str | None, Depends(session_cookie)]) -> Any:
                \"\"\"Flask-Login's current_user: the session's user (load_user), else an anonymous user.\"\"\"
                return session_user(request, load_user)


            def login_required_user(request: Request, user: Annotated[Any, Depends(current_user)]) -> Any:
                \"\"\"Flask-Login's login_required: the logged-in user, else what Flask-Login answered.\"\"\"
                if not user.is_authenticated:
                    raise HTTPException(status_code=401)
                return user


            @api.get("/me")
            def me(user: Annotated[Any, Depends(login_required_user)]):
                return {"name": user.name}
            """,
            title="a login_required view reading current_user takes the user from a dependency",
        ),
        Example(
            """\
            from flask import Flask
            from flask_login import LoginManager, login_required

            app = Flask(__name__)
            login_manager = LoginManager(app)


            @login_manager.request_loader
            def from_header(request):
                return None


            @app.route("/private")
            @login_required
            def private():
                return "secret"
            """,
            """\
            from flask import Flask
            from flask_login import LoginManager, login_required
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)
            login_manager = LoginManager(app)


            @login_manager.request_loader
            def from_header(request):
                return None


            @api.get("/private")
            @login_required
            def private():
                return "secret"
            """,
            title="a request_loader (handed Flask's request) keeps Flask-Login as it is",
        ),
        Example(
            """\
            from flask_login import LoginManager, login_user

            from accounts import current_user, login_required

            login_manager = LoginManager()


            @login_manager.user_loader
            def load_user(user_id):
                return None


            @login_required
            def promote():
                login_user(current_user, fresh=False)
            """,
            title="lookalikes from another library, and login_user outside a view, stay",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        plan = run.project.login_plan
        self.converts = plan.converts
        self.manager: ManagerFacts | None = plan.managers.get(context.filename or "") if plan.converts else None
        self.views: dict[str, tuple[bool, str | None, str | None]] = {}  # view -> (required, user, request)
        self.functions: list[str] = []
        self.after: str | None = None  # the function the dependencies follow

    # -- the module's functions -------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        manager = self.manager
        if manager is None:
            return
        order = [s.name.value for s in node.body if isinstance(s, cst.FunctionDef)]
        callbacks = [f for f in (manager.user_loader, manager.unauthorized) if f in order]
        self.after = max(callbacks, key=order.index) if callbacks else None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node.name.value)
        if self.manager is None or len(self.functions) > 1 or not native_plans(self, node):
            return
        required = any(self.names(d.decorator, *LOGIN_REQUIRED) for d in node.decorators)
        reads = any(self.names(n, *CURRENT_USER) for n in findall(node.body, m.Name() | m.Attribute()))
        writes = any(self.names(c.func, *LOGIN_USER, *LOGOUT_USER) for c in findall(node.body, m.Call()))  # type: ignore[union-attr]
        used = {n.value for n in findall(node, m.Name())} | parameter_names(node)  # type: ignore[union-attr]
        user = free_name(("user", "logged_in_user"), used) if reads else None
        request = free_name(("request", "http_request"), used) if writes else None
        if required or reads or writes:
            self.views[node.name.value] = (required, user, request)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef):
        self.functions.pop()
        if self.manager is None or self.functions:
            return updated_node
        name = original_node.name.value
        if name in self.views:
            updated_node = self._view(original_node, updated_node, *self.views[name])
        if name in (self.manager.user_loader, self.manager.unauthorized):
            updated_node = self._callback(original_node, updated_node)
        if name == self.after:
            return cst.FlattenSentinel([updated_node, *self._dependencies(original_node)])
        return updated_node

    def _view(self, original: cst.FunctionDef, updated: cst.FunctionDef, required: bool, user: str | None, request: str | None):
        gone = [d for d in original.decorators if self.names(d.decorator, *LOGIN_REQUIRED)]
        for decorator in gone:
            self.consume(decorator.decorator)
        updated = updated.with_changes(decorators=[d for d in updated.decorators if not any(d.deep_equals(g) for g in gone)])
        if request is not None:
            if request != "request" and "request" not in {n.value for n in findall(updated, m.Name())}:
                # Flask's request was read where the view began, not any more (its reads converted)
                updated = updated.visit(_Renamed(request, "request"))  # type: ignore[assignment]
                request = "request"
            updated = with_parameter(updated, request, self.import_reference(original, "fastapi", "Request", replaces=False))
        depends = self.import_reference(original, "fastapi", "Depends", replaces=False)
        dependency = cst.Name("login_required_user" if required else "current_user")
        if user is not None:
            annotation = self._annotated(original, cst.Call(depends, [cst.Arg(dependency)]))
            updated = with_parameter(updated, user, annotation)
        elif required:
            needed = cst.List([cst.Element(cst.Call(depends, [cst.Arg(dependency)]))])
            updated = with_route_options(self, original, updated, [option("dependencies", needed)])
        return updated

    def _annotated(self, anchor: cst.CSTNode, depends: cst.Call) -> cst.Subscript:
        annotated = self.import_reference(anchor, "typing", "Annotated", replaces=False)
        any_ = self.import_reference(anchor, "typing", "Any", replaces=False)
        return cst.Subscript(annotated, [cst.SubscriptElement(cst.Index(any_)), cst.SubscriptElement(cst.Index(depends))])

    def _callback(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        """The manager's decorator goes; an unauthorized_handler answers FlaskJSONResponse."""
        assert self.manager is not None
        keep = [
            d for d in updated.decorators
            if not m.matches(d.decorator, m.Attribute(m.Name(self.manager.variable)))
        ]
        return updated.with_changes(decorators=keep)

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        if self.manager is None or self.functions != [self.manager.unauthorized] or updated_node.value is None:
            return updated_node
        value, status = original_node.value, None
        if isinstance(value, cst.Tuple):
            value, status = value.elements[0].value, value.elements[1].value
        assert isinstance(value, cst.Call)
        self.consume(value.func)
        if value.args[0].keyword is None:
            data: cst.BaseExpression = value.args[0].value
        else:
            data = cst.Dict([cst.DictElement(string_literal(a.keyword.value), a.value) for a in value.args if a.keyword])
        response = self.import_reference(original_node, RUNTIME, "FlaskJSONResponse", replaces=False)
        args = [cst.Arg(data), *([kwarg("status_code", status)] if status is not None else [])]
        return updated_node.with_changes(value=cst.Call(response, args))

    # -- current_user, login_user, logout_user in views --------------------------------------------
    def _view_names(self) -> tuple[bool, str | None, str | None] | None:
        return self.views.get(self.functions[0]) if len(self.functions) == 1 else None

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._user(original_node, updated_node)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return self._user(original_node, updated_node)

    def _user(self, original, updated):
        if self.converts and self.names(original, *USER_MIXIN):
            self.consume(original)
            return self.import_reference(original, LOGIN, "UserMixin", supersedes=USER_MIXIN.__contains__)
        view = self._view_names()
        if view is None or view[1] is None or not self.names(original, *CURRENT_USER):
            return updated
        self.consume(original)
        return cst.Name(view[1])

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        view = self._view_names()
        if view is None or view[2] is None:
            return updated_node
        for names, name in ((LOGIN_USER, "login_user"), (LOGOUT_USER, "logout_user")):
            if self.names(original_node.func, *names):
                self.consume(original_node.func)
                func = self.import_reference(original_node.func, LOGIN, name, supersedes=names.__contains__)
                return updated_node.with_changes(func=func, args=[cst.Arg(cst.Name(view[2])), *updated_node.args])
        return updated_node

    # -- the manager -----------------------------------------------------------------------------
    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        manager = self.manager
        if manager is None or len(original_node.body) != 1:
            return updated_node
        statement = original_node.body[0]
        own = m.Name(manager.variable)
        if m.matches(statement, m.Assign([m.AssignTarget(own)], m.Call())) and not self.functions:
            call = statement.value  # type: ignore[attr-defined]
            self.consume(call.func)
            if not call.args:
                return cst.RemovalSentinel.REMOVE
            return self._registrations(call.args[0].value, updated_node)
        if m.matches(statement, m.Assign([m.AssignTarget(m.Attribute(own))])) and not self.functions:
            return cst.RemovalSentinel.REMOVE
        if m.matches(statement, m.Expr(m.Call(m.Attribute(own, m.Name("init_app")), [m.Arg()]))):
            return self._registrations(statement.value.args[0].value, updated_node)  # type: ignore[attr-defined]
        return updated_node

    def _registrations(self, app: cst.BaseExpression, updated: cst.SimpleStatementLine):
        """The bridge of ``app`` gets the session middleware and the refusals' handler."""
        assert self.manager is not None
        bridge = bridge_reference(self, app, app)
        middleware = self.import_reference(app, LOGIN, "FlaskSessionMiddleware", replaces=False)
        lines = [parse_template_statement("{bridge}.add_middleware({middleware})", bridge=bridge, middleware=middleware)]
        if self._refuses_with_response():
            refused = self.import_reference(app, LOGIN, "LoginRefused", replaces=False)
            answer = self.import_reference(app, LOGIN, "answer_login_refused", replaces=False)
            lines.append(parse_template_statement(
                "{bridge}.add_exception_handler({refused}, {answer})", bridge=bridge, refused=refused, answer=answer
            ))
        lines[0] = lines[0].with_changes(leading_lines=updated.leading_lines)
        return cst.FlattenSentinel(lines)

    def _refuses_with_response(self) -> bool:
        assert self.manager is not None
        return self.manager.unauthorized is not None or self.manager.settings.get("login_view") is not None

    def _dependencies(self, anchor: cst.FunctionDef) -> list[cst.BaseStatement]:
        assert self.manager is not None
        manager = self.manager
        scheme = self.import_reference(anchor, "fastapi.security", "APIKeyCookie", replaces=False)
        request = self.import_reference(anchor, "fastapi", "Request", replaces=False)
        depends = self.import_reference(anchor, "fastapi", "Depends", replaces=False)
        annotated = self.import_reference(anchor, "typing", "Annotated", replaces=False)
        any_ = self.import_reference(anchor, "typing", "Any", replaces=False)
        session_user = self.import_reference(anchor, LOGIN, "session_user", replaces=False)
        cookie = parse_template_statement(
            '{name} = {scheme}(name="session", auto_error=False)', name=cst.Name("session_cookie"), scheme=scheme
        ).with_changes(leading_lines=[
            cst.EmptyLine(), cst.EmptyLine(),
            cst.EmptyLine(comment=cst.Comment("# Flask's session cookie, declared for OpenAPI; session_user reads it (request.session)")),
        ])
        current = parse_template_statement(
            "def current_user(request: {request}, session: {annotated}[str | None, {depends}(session_cookie)]) -> {any_}:\n"
            "    {doc}\n"
            "    return {session_user}(request, {loader})\n",
            loader=cst.Name(manager.user_loader or ""), session_user=session_user, doc=cst.SimpleString(
                f'"""Flask-Login\'s current_user: the session\'s user ({manager.user_loader}), else an anonymous user."""'
            ),
            request=request, annotated=annotated, depends=depends, any_=any_,
        )
        required = parse_template_statement(
            "def login_required_user(request: {request}, user: {annotated}[{any_}, {depends}(current_user)]) -> {any_}:\n"
            '    """Flask-Login\'s login_required: the logged-in user, else what Flask-Login answered."""\n'
            "    if not user.is_authenticated:\n"
            "        raise {refusal}\n"
            "    return user\n",
            refusal=self._refusal(anchor), request=request, annotated=annotated, depends=depends, any_=any_,
        )
        spaced = [cst.EmptyLine(), cst.EmptyLine()]
        return [cookie, current.with_changes(leading_lines=spaced), required.with_changes(leading_lines=spaced)]

    def _refusal(self, anchor: cst.CSTNode) -> cst.BaseExpression:
        """What Flask-Login's unauthorized() answered: the handler's answer, the login view's
        redirect, or 401."""
        assert self.manager is not None
        settings = self.manager.settings
        refused = lambda answer: cst.Call(self.import_reference(anchor, LOGIN, "LoginRefused", replaces=False), [cst.Arg(answer)])
        if self.manager.unauthorized is not None:
            return refused(cst.Call(cst.Name(self.manager.unauthorized)))
        view = settings.get("login_view")
        if view is None:
            exception = self.import_reference(anchor, "fastapi", "HTTPException", replaces=False)
            return cst.Call(exception, [kwarg("status_code", cst.Integer("401"))])
        url: cst.BaseExpression = string_literal(view)
        if not view.startswith(("/", "http://", "https://")):
            url = parse_template_expression("request.url_for({view}).path", view=url)
        args = [cst.Arg(cst.Name("request")), cst.Arg(url)]
        message = settings.get("login_message", LOGIN_MESSAGE)
        if message != LOGIN_MESSAGE:
            args.append(kwarg("message", string_literal(message) if message is not None else cst.Name("None")))
        if settings.get("login_message_category") not in (None, "message"):
            args.append(kwarg("category", string_literal(settings["login_message_category"])))  # type: ignore[arg-type]
        redirect = self.import_reference(anchor, LOGIN, "login_redirect", replaces=False)
        return refused(cst.Call(redirect, args))



class _Renamed(Transformer):
    """Every ``old`` name of a function (one the transform chose) -> ``new``."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__()
        self.old, self.new = old, new

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return updated_node.with_changes(value=self.new) if updated_node.value == self.old else updated_node
