"""Flask-Login in a project: its ``LoginManager`` objects, their callbacks and settings, the views
that use it, and what keeps it (transforms/flask_login.py converts what this allows).

Flask-Login leaves a project all at once or not at all: its ``current_user`` is the user of the
app's one manager, and ``login_user`` writes the session that manager reads. So the plan is one
for the whole project. It converts only what the runtime's ``login`` module keeps exactly
(runtime/flask2fastapi_runtime/login.py): a manager per module with a ``user_loader``, optionally
an ``unauthorized_handler`` that answers ``jsonify(...)`` (with a status) and the settings
``login_view``, ``login_message`` and ``login_message_category`` as literals; ``current_user``,
``login_user``, ``logout_user`` and ``login_required`` in the native views of that module;
``UserMixin`` as a base class. Anything else of Flask-Login (``request_loader``, fresh logins,
signals, ``app.login_manager``, the config keys it reads), Flask's own session or flashes, or
templates (Flask-Login puts ``current_user`` in their context) keeps Flask-Login as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider
from codemod.names import FullNames, Parents

from codemod.find import findall
from codemod.vendor import canonical

MANAGER = frozenset({"flask_login.LoginManager", "flask_login.login_manager.LoginManager"})
CURRENT_USER = frozenset({"flask_login.current_user", "flask_login.utils.current_user"})
LOGIN_USER = frozenset({"flask_login.login_user", "flask_login.utils.login_user"})
LOGOUT_USER = frozenset({"flask_login.logout_user", "flask_login.utils.logout_user"})
LOGIN_REQUIRED = frozenset({"flask_login.login_required", "flask_login.utils.login_required"})
USER_MIXIN = frozenset({"flask_login.UserMixin", "flask_login.mixins.UserMixin"})
IN_VIEWS = CURRENT_USER | LOGIN_USER | LOGOUT_USER | LOGIN_REQUIRED
SETTINGS = ("login_view", "login_message", "login_message_category")
CALLBACKS = ("user_loader", "unauthorized_handler")
# Flask's session and flashes share the cookie the runtime's session middleware writes;
# templates get current_user from Flask-Login's context processor
KEEPS_LOGIN = frozenset({
    "flask.session", "flask.globals.session", "flask.flash", "flask.helpers.flash",
    "flask.get_flashed_messages", "flask.helpers.get_flashed_messages",
    "flask.render_template", "flask.templating.render_template",
    "flask.render_template_string", "flask.templating.render_template_string",
})
# config keys of Flask-Login's that the runtime does not honour
CONFIG_KEYS = (
    b"LOGIN_DISABLED", b"USE_SESSION_FOR_NEXT", b"SESSION_PROTECTION", b"REMEMBER_COOKIE_REFRESH_EACH_REQUEST",
    b"AUTH_HEADER_NAME", b"FORCE_HOST_FOR_REDIRECTS",
)
ROUTE = m.Call(m.Attribute(attr=m.OneOf(*(m.Name(n) for n in ("route", "get", "post", "put", "patch", "delete")))))
# the module-level names the transform defines next to the user_loader
GENERATED = ("session_cookie", "current_user", "login_required_user")
SUBMODULES = frozenset({"utils", "mixins", "login_manager", "config", "signals", "test_client"})


@dataclass
class ManagerFacts:
    """One ``x = LoginManager(...)`` at module level."""

    path: str
    variable: str
    user_loader: str | None = None  # the function's name
    unauthorized: str | None = None
    settings: dict[str, str | None] = field(default_factory=dict)  # login_view -> "login", ...
    bound: bool = False  # given an app: LoginManager(app) or x.init_app(app)


@dataclass
class LoginFacts:
    managers: dict[str, ManagerFacts] = field(default_factory=dict)  # by qualified name
    # (path, function) of the module-level functions that use current_user & co
    users: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # "path:line: what" that keeps Flask-Login
    uses_login: bool = False
    imported: set[str] = field(default_factory=set)  # what ``from x import y`` imports: x.y

    def merge(self, other: LoginFacts) -> None:
        self.imported |= other.imported
        self.managers.update(other.managers)
        self.users |= other.users
        self.problems += other.problems
        self.uses_login |= other.uses_login


@dataclass(frozen=True)
class LoginPlan:
    """Whether Flask-Login leaves the project, and its managers by module path."""

    converts: bool
    reason: str | None
    managers: dict[str, ManagerFacts]


class _Visitor(Visitor):
    METADATA_DEPENDENCIES = (FullNames, Parents, PositionProvider)

    def __init__(self, path: str, module: str) -> None:
        super().__init__()
        self.path, self.module = path, module
        self.facts = LoginFacts()
        self.functions: list[cst.FunctionDef] = []
        self.allowed: set[cst.CSTNode] = set()  # manager references in a form this converts

    def _names(self, node: cst.CSTNode) -> set[str]:
        return {canonical(q.name) for q in self.get_metadata(FullNames, node, set())}

    def _problem(self, node: cst.CSTNode, what: str) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        self.facts.problems.append(f"{self.path}:{line}: {what}")

    def _manager(self, node: cst.CSTNode) -> ManagerFacts | None:
        return next((self.facts.managers[n] for n in sorted(self._names(node)) if n in self.facts.managers), None)

    def visit_Module(self, node: cst.Module) -> None:
        defined = {s.name.value for s in node.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
        for statement in node.body:
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else []
                defined |= {t.value for t in targets if isinstance(t, cst.Name)}
        self.defined = defined & set(GENERATED)
        for statement in node.body:
            if m.matches(statement, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())], m.Call())])):
                assign = statement.body[0]
                if self._names(assign.value.func) & MANAGER:  # type: ignore[attr-defined]
                    self._new_manager(assign)  # type: ignore[arg-type]

    def _new_manager(self, assign: cst.Assign) -> None:
        call, name = assign.value, assign.targets[0].target
        assert isinstance(call, cst.Call) and isinstance(name, cst.Name)
        if self.defined:
            self._problem(assign, f"the module defines {sorted(self.defined)[0]}, a name the conversion needs")
        if len(call.args) > 1 or any(a.keyword is not None and a.keyword.value != "app" for a in call.args):
            self._problem(assign, "a LoginManager made with arguments other than the app")
        self.facts.managers[f"{self.module}.{name.value}"] = ManagerFacts(self.path, name.value, bound=bool(call.args))
        self.allowed.add(name)
        self.allowed.add(call.func)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)
        checks = [i for i, d in enumerate(node.decorators) if self._names(d.decorator) & LOGIN_REQUIRED]
        if checks and not all(m.matches(d.decorator, ROUTE) for d in node.decorators[: checks[0]]):
            # a decorator above the check ran before it; a dependency runs before them all
            self._problem(node, "a decorator between the route and login_required")
        for decorator in node.decorators:
            expression = decorator.decorator
            if isinstance(expression, cst.Attribute) and (manager := self._manager(expression.value)) is not None:
                self.allowed.add(expression.value)
                callback = expression.attr.value
                if callback not in CALLBACKS or len(self.functions) > 1:
                    self._problem(decorator, f"Flask-Login's {callback}")
                elif callback == "user_loader":
                    manager.user_loader = node.name.value
                else:
                    manager.unauthorized = node.name.value
                    if not _answers_jsonify(node, self._names):
                        self._problem(node, "an unauthorized_handler that answers other than with jsonify(...)")

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        if isinstance(target, cst.Attribute) and (manager := self._manager(target.value)) is not None:
            self.allowed.add(target.value)
            value = node.value
            literal = isinstance(value, cst.SimpleString) or m.matches(value, m.Name("None"))
            if target.attr.value not in SETTINGS or not literal or self.functions:
                self._problem(node, f"LoginManager.{target.attr.value} set")
            else:
                manager.settings[target.attr.value] = value.evaluated_value if isinstance(value, cst.SimpleString) else None  # type: ignore[assignment]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "init_app":
            manager = self._manager(node.func.value)
            if manager is not None and len(node.args) == 1:
                self.allowed.add(node.func.value)
                manager.bound = True

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        for base in node.bases:
            if self._names(base.value) & USER_MIXIN:
                self.allowed.add(base.value)

    def visit_Name(self, node: cst.Name) -> None:
        self._use(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._use(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = cst.Module([]).code_for_node(node.module)
        self.facts.imported |= {f"{module}.{cst.Module([]).code_for_node(a.name)}" for a in node.names}

    def _use(self, node: cst.Name | cst.Attribute) -> None:
        parent = self.get_metadata(Parents, node, None)
        if isinstance(parent, (cst.ImportAlias, cst.ImportFrom, cst.Attribute)) and not (isinstance(parent, cst.Attribute) and parent.value is node):
            return  # an import, or the attribute part of a.b (a.b itself is visited)
        names = self._names(node)
        if isinstance(node, cst.Attribute) and node.attr.value == "login_manager":
            self._problem(node, "app.login_manager")
        if names & KEEPS_LOGIN:
            self._problem(node, f"{sorted(names & KEEPS_LOGIN)[0]} (it shares Flask's session cookie or template context)")
        login = {n for n in names if _member(n)}
        if not login:
            if node in self.allowed or not self.facts.managers or not (names & set(self.facts.managers)):
                return
            self._problem(node, f"{node.value if isinstance(node, cst.Name) else 'a LoginManager'} used otherwise")
            return
        self.facts.uses_login = True
        if node in self.allowed or login & MANAGER:
            return
        if any(n.partition(".")[0] == "flask_login" for n in names) and not login:
            return  # flask_login itself, or an attribute of a member (its member is visited)
        if login & IN_VIEWS and len(self.functions) == 1:
            if login & CURRENT_USER and isinstance(parent, cst.Attribute) and parent.attr.value.startswith("_"):
                self._problem(node, "current_user's private attributes")
            self.facts.users.add((self.path, self.functions[0].name.value))
            return
        self._problem(node, f"{sorted(login)[0]}")


def _member(name: str) -> bool:
    """``name`` is a member of Flask-Login: flask_login.X or flask_login.<submodule>.X."""
    parts = name.split(".")
    return parts[0] == "flask_login" and len(parts) == (3 if len(parts) > 2 and parts[1] in SUBMODULES else 2)


def _answers_jsonify(function: cst.FunctionDef, names) -> bool:
    """Every return of ``function`` is ``jsonify(...)`` or ``jsonify(...), <int>`` (keywords or
    one positional value): FlaskJSONResponse writes the same."""
    returns = findall(function.body, m.Return())
    if not returns:
        return False
    for node in returns:
        value = node.value  # type: ignore[attr-defined]
        if isinstance(value, cst.Tuple) and len(value.elements) == 2 and isinstance(value.elements[1].value, cst.Integer):
            value = value.elements[0].value
        if not (isinstance(value, cst.Call) and names(value.func) & {"flask.jsonify", "flask.json.jsonify"}):
            return False
        keywords = [a for a in value.args if a.keyword is not None]
        if any(a.star for a in value.args) or (keywords and len(keywords) != len(value.args)) or (not keywords and len(value.args) != 1):
            return False
    return True


def login_facts(wrapper: MetadataWrapper, path: str, module: str, source: bytes) -> LoginFacts:
    visitor = login_reader(path, module)
    wrapper.visit(visitor)
    return login_read(visitor, path, source)


def login_reader(path: str, module: str) -> _Visitor:
    """The visitor of login_facts, for a walk shared with others (codemod/visitors.py)."""
    return _Visitor(path, module)


def login_read(visitor: _Visitor, path: str, source: bytes) -> LoginFacts:
    """The facts of a file ``visitor`` (from login_reader) has walked."""
    if visitor.facts.uses_login or visitor.facts.managers:
        for key in CONFIG_KEYS:
            if key in source:
                visitor.facts.problems.append(f"{path}: {key.decode()} (Flask-Login behaviour the runtime does not keep)")
    return visitor.facts


def plan_login(facts: LoginFacts, native_views: set[tuple[str, str]], endpoints: set[str]) -> LoginPlan:
    """Whether Flask-Login leaves the project (module doc). ``native_views``: (path, function)
    of every native view; ``endpoints``: the endpoints native routes serve."""
    managers = {m_.path: m_ for m_ in facts.managers.values()}

    def no(reason: str) -> LoginPlan:
        return LoginPlan(False, reason, {})

    if not facts.managers:
        return no("no LoginManager in the project")
    if facts.problems:
        return no(facts.problems[0])
    if set(facts.managers) & facts.imported:
        return no(f"a LoginManager imported by another module: {sorted(set(facts.managers) & facts.imported)[0]}")
    if len(managers) != len(facts.managers):
        return no("two LoginManagers in one module")
    for manager in facts.managers.values():
        if manager.user_loader is None or not manager.bound:
            return no(f"{manager.path}: LoginManager {manager.variable} has no user_loader or no app")
        view = manager.settings.get("login_view")
        if view is not None and not view.startswith(("/", "http://", "https://")) and view not in endpoints:
            return no(f"{manager.path}: the login view {view} is no native route")
    for path, function in sorted(facts.users):
        if path not in managers:
            return no(f"{path}: {function} uses Flask-Login without a LoginManager in its module")
        if (path, function) not in native_views:
            return no(f"{path}: {function} uses Flask-Login and is no native view")
    return LoginPlan(True, None, managers)
