"""Flask's ``session`` in a project: where it is used, in which forms, and what keeps it Flask's
(transforms/flask_session.py converts what this allows).

Flask's session leaves a project all at once or not at all: it is one signed cookie, and two
writers of it (Flask's ``SecureCookieSessionInterface`` and the runtime's
``FlaskSessionMiddleware``) would each send their own ``Set-Cookie`` for one request. So every
use must become Starlette's ``request.session``, which the middleware keeps in Flask's cookie
(runtime/flask2fastapi_runtime/login.py). That holds where every use of ``flask.session`` is in
the own body of a native view (every route of it native), as ``session[k]`` (read, assigned,
deleted), ``session.get(k[, d])``, ``k in session``, ``session.pop(k[, d])``, ``session.clear()``.
Anything else keeps Flask's session as it is, for the reason the plan gives:

- a use elsewhere: a bridged view, a hook or helper Flask runs, a nested function, module level;
- ``session.permanent = ...``: Flask's own interface still opens the cookie on the bridge, and it
  refreshes a permanent session's cookie on every request (``SESSION_REFRESH_EACH_REQUEST``): a
  second ``Set-Cookie`` next to the middleware's;
- flashes and templates (they read and write the same cookie through Flask), a custom
  ``session_interface``, Flask-Login (its ``login_user`` writes the session Flask-Login reads;
  codemod/login_facts.py refuses a project using Flask's session);
- a project of more than one Flask app, or one made in a factory (the middleware goes next to the
  bridge of the one module-level app).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import FullyQualifiedNameProvider, MetadataWrapper, ParentNodeProvider, PositionProvider

from codemod.vendor import canonical

SESSION = frozenset({"flask.session", "flask.globals.session"})
# what shares Flask's session cookie or puts the session in a template's context
KEEPS_SESSION = {
    "flask.flash": "flash()",
    "flask.helpers.flash": "flash()",
    "flask.get_flashed_messages": "get_flashed_messages()",
    "flask.helpers.get_flashed_messages": "get_flashed_messages()",
    "flask.render_template": "templates (Flask gives them session)",
    "flask.templating.render_template": "templates (Flask gives them session)",
    "flask.render_template_string": "templates (Flask gives them session)",
    "flask.templating.render_template_string": "templates (Flask gives them session)",
}
METHODS = frozenset({"get", "pop", "clear"})


@dataclass
class SessionFacts:
    # (path, function) of the module-level functions using flask.session, in a form this converts
    users: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # "path:line: what": a use this cannot convert
    blockers: list[str] = field(default_factory=list)  # "path:line: what": what else keeps the session Flask's

    def merge(self, other: SessionFacts) -> None:
        self.users |= other.users
        self.problems += other.problems
        self.blockers += other.blockers


@dataclass(frozen=True)
class SessionPlan:
    """Whether Flask's session leaves the project; the views whose uses convert."""

    converts: bool = False
    reason: str | None = None  # why not, where the project uses the session
    views: frozenset[tuple[str, str]] = frozenset()
    users: frozenset[tuple[str, str]] = frozenset()  # every function using it


class _Visitor(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (FullyQualifiedNameProvider, ParentNodeProvider, PositionProvider)

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.facts = SessionFacts()
        self.functions: list[cst.FunctionDef] = []
        self.lambdas = 0

    def _names(self, node: cst.CSTNode) -> set[str]:
        return {canonical(q.name) for q in self.get_metadata(FullyQualifiedNameProvider, node, set())}

    def _where(self, node: cst.CSTNode) -> str:
        return f"{self.path}:{self.get_metadata(PositionProvider, node).start.line}"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.lambdas -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "session_interface":
            self.facts.blockers.append(f"{self._where(node)}: a session_interface of the app's own")
        self._use(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._use(node)

    def _use(self, node: cst.Name | cst.Attribute) -> None:
        parent = self.get_metadata(ParentNodeProvider, node, None)
        if isinstance(parent, (cst.ImportAlias, cst.ImportFrom)) or (isinstance(parent, cst.Attribute) and parent.attr is node):
            return  # an import, or the attribute part of a.b (a.b itself is visited)
        names = self._names(node)
        kept = sorted(KEEPS_SESSION[n] for n in names if n in KEEPS_SESSION)
        if kept:
            self.facts.blockers.append(f"{self._where(node)}: {kept[0]}")
        if not names & SESSION:
            return
        form = _form(node, parent, self.get_metadata(ParentNodeProvider, parent, None) if parent is not None else None)
        if form is not None:
            self.facts.problems.append(f"{self._where(node)}: {form}")
        elif len(self.functions) != 1 or self.lambdas:
            self.facts.problems.append(f"{self._where(node)}: session used outside a module-level function's own body")
        else:
            self.facts.users.add((self.path, self.functions[0].name.value))


def _form(node: cst.CSTNode, parent: cst.CSTNode | None, grandparent: cst.CSTNode | None) -> str | None:
    """Why a use of the session is in no form Starlette's request.session keeps alike (None: it is)."""
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return None  # session[k], read, assigned or deleted
    if isinstance(parent, cst.ComparisonTarget) and parent.comparator is node and isinstance(parent.operator, (cst.In, cst.NotIn)):
        return None  # k in session
    if isinstance(parent, cst.Attribute) and parent.value is node:
        attribute = parent.attr.value
        if attribute == "permanent":
            return "session.permanent (Flask's own session interface would refresh a permanent cookie too)"
        if attribute in METHODS and isinstance(grandparent, cst.Call) and grandparent.func is parent:
            return None
        return f"session.{attribute}"
    return "session passed or kept as a value"


def session_facts(wrapper: MetadataWrapper, path: str) -> SessionFacts:
    visitor = _Visitor(path)
    wrapper.visit(visitor)
    return visitor.facts


def plan_session(facts: SessionFacts, native_views: set[tuple[str, str]], apps: list[tuple[str, bool]], uses_login: bool) -> SessionPlan:
    """Whether Flask's session leaves the project (module doc). ``native_views``: (path,
    function) of every view all of whose routes are native; ``apps``: (module, made at module
    level) of each Flask app; ``uses_login``: the project uses Flask-Login."""
    users = frozenset(facts.users)
    if not users and not facts.problems:
        return SessionPlan()

    def no(reason: str) -> SessionPlan:
        return SessionPlan(False, reason, users=users)

    if facts.problems:
        return no(facts.problems[0])
    if facts.blockers:
        return no(facts.blockers[0])
    if uses_login:
        return no("Flask-Login, which keeps its login in Flask's session")
    if len(apps) != 1 or not apps[0][1]:
        return no("not one Flask app made at module level")
    for path, function in sorted(users):
        if (path, function) not in native_views:
            return no(f"{path}: {function} uses session and is no native view")
    return SessionPlan(True, None, users, users)
