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

- a use elsewhere: a bridged view, a hook or helper Flask runs, a function nested deeper than an
  app factory's view (a module-level function's own nested function), module level;
- ``session.permanent = ...``: Flask's own interface still opens the cookie on the bridge, and it
  refreshes a permanent session's cookie on every request (``SESSION_REFRESH_EACH_REQUEST``): a
  second ``Set-Cookie`` next to the middleware's;
- a template that reads ``session`` (Flask gives its templates the session it opened from the
  cookie), one that cannot be known (a template folder or a ``render_template_string`` source
  that is no literal), ``get_flashed_messages()`` in Python code, Flask's ``message_flashed``
  signal, a custom ``session_interface``, Flask-Login (its ``login_user`` writes the session
  Flask-Login reads; codemod/login_facts.py refuses a project using Flask's session);
- a project of more than one Flask app, or of one made elsewhere than at module level or in the
  own body of a module-level function, its factory (the middleware goes right after the bridge of
  the one app, in the same body).

A function is named by its place in its module: ``login`` at module level, ``create_app.login``
for a view an app factory defines (where project.py's plans name it so too), so a factory's view
and a module-level function of the same name stay apart.

Flashed messages live in the same cookie (Flask's ``_flashes`` list), so they leave with it:
every ``flash(message[, category])`` must be a statement of a native view's own body (it becomes
the runtime's ``flash(request, ...)``, runtime/flask2fastapi_runtime/flashing.py). Templates that
call ``get_flashed_messages`` then get the runtime's, over ``request.session``: those that
convert through their context processor, those Flask still renders through
``flashes_in_flask_templates(app)``, so one request has one list of messages and one writer of the
cookie. A project whose templates call it leaves Flask's session for that too, with no ``flash``
of its own (Flask-Login's redirect flashes through the runtime already).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from codemod.visitors import Visitor
from libcst.metadata import MetadataWrapper, PositionProvider
from codemod.names import FullNames, Parents

from codemod.vendor import canonical

SESSION = frozenset({"flask.session", "flask.globals.session"})
FLASH = frozenset({"flask.flash", "flask.helpers.flash"})
# what reads Flask's session cookie through Flask in Python code, or hears of its flashes
KEEPS_SESSION = {
    "flask.get_flashed_messages": "get_flashed_messages()",
    "flask.helpers.get_flashed_messages": "get_flashed_messages()",
    "flask.message_flashed": "the message_flashed signal",
    "flask.signals.message_flashed": "the message_flashed signal",
}
METHODS = frozenset({"get", "pop", "clear"})
FLASH_ARGUMENTS = ("message", "category")


@dataclass
class SessionFacts:
    # (path, function) of the functions using flask.session, in a form this converts; a function
    # nested in a module-level one (an app factory's view) is named "factory.view" (module doc)
    users: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # "path:line: what": a use this cannot convert
    blockers: list[str] = field(default_factory=list)  # "path:line: what": what else keeps the session Flask's
    flashes: set[tuple[str, str]] = field(default_factory=set)  # ... of the functions that flash()

    def merge(self, other: SessionFacts) -> None:
        self.users |= other.users
        self.problems += other.problems
        self.blockers += other.blockers
        self.flashes |= other.flashes


@dataclass(frozen=True)
class SessionPlan:
    """Whether Flask's session leaves the project; the views whose uses convert."""

    converts: bool = False
    reason: str | None = None  # why not, where the project uses the session
    views: frozenset[tuple[str, str]] = frozenset()
    users: frozenset[tuple[str, str]] = frozenset()  # every function using it
    flashes: frozenset[tuple[str, str]] = frozenset()  # the views whose flash() calls convert
    templates: bool = False  # templates call get_flashed_messages: the runtime's, everywhere


class _Visitor(Visitor):
    METADATA_DEPENDENCIES = (FullNames, Parents, PositionProvider)

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.facts = SessionFacts()
        self.functions: list[cst.FunctionDef] = []
        self.scopes: list[str] = []  # the names of the functions and classes the node is in
        self.lambdas = 0

    def _names(self, node: cst.CSTNode) -> set[str]:
        return {canonical(q.name) for q in self.get_metadata(FullNames, node, set())}

    def _where(self, node: cst.CSTNode) -> str:
        return f"{self.path}:{self.get_metadata(PositionProvider, node).start.line}"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)
        self.scopes.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    def _function(self) -> str | None:
        """The name of the function whose own body the node is in (module doc): a module-level
        function or one nested in it; None elsewhere (deeper, in a lambda, at module level)."""
        if not 1 <= len(self.functions) <= 2 or self.lambdas or len(self.scopes) != len(self.functions):
            return None
        return ".".join(self.scopes)

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
        parent = self.get_metadata(Parents, node, None)
        if isinstance(parent, (cst.ImportAlias, cst.ImportFrom)) or (isinstance(parent, cst.Attribute) and parent.attr is node):
            return  # an import, or the attribute part of a.b (a.b itself is visited)
        names = self._names(node)
        kept = sorted(KEEPS_SESSION[n] for n in names if n in KEEPS_SESSION)
        if kept:
            self.facts.blockers.append(f"{self._where(node)}: {kept[0]}")
        if names & FLASH:
            self._flash(node, parent)
        if not names & SESSION:
            return
        form = _form(node, parent, self.get_metadata(Parents, parent, None) if parent is not None else None)
        if form is not None:
            self.facts.problems.append(f"{self._where(node)}: {form}")
        elif (function := self._function()) is None:
            self.facts.problems.append(f"{self._where(node)}: session used outside a module-level function's or a factory view's own body")
        else:
            self.facts.users.add((self.path, function))


    def _flash(self, node: cst.CSTNode, parent: cst.CSTNode | None) -> None:
        """``flash(message[, category])`` as a statement of a module-level function's own body."""
        statement = self.get_metadata(Parents, parent, None) if parent is not None else None
        if not isinstance(parent, cst.Call) or parent.func is not node or not isinstance(statement, cst.Expr):
            self.facts.problems.append(f"{self._where(node)}: flash used other than as a statement flash(...)")
        elif not _flash_arguments(parent):
            self.facts.problems.append(f"{self._where(node)}: flash() given other than a message and a category")
        elif (function := self._function()) is None:
            self.facts.problems.append(f"{self._where(node)}: flash() outside a module-level function's or a factory view's own body")
        else:
            self.facts.flashes.add((self.path, function))


def _flash_arguments(call: cst.Call) -> bool:
    """One or two arguments, the message and the category, by position or by name."""
    args = call.args
    if not 1 <= len(args) <= 2 or any(a.star for a in args):
        return False
    return all(a.keyword is None or a.keyword.value == FLASH_ARGUMENTS[i] for i, a in enumerate(args)) and (
        args[0].keyword is None or all(a.keyword is not None for a in args)
    )


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
    visitor = session_reader(path)
    wrapper.visit(visitor)
    return visitor.facts


def session_reader(path: str) -> _Visitor:
    """The visitor of session_facts, for a walk shared with others (its ``facts`` once walked)."""
    return _Visitor(path)


def plan_session(
    facts: SessionFacts, native_views: set[tuple[str, str]], apps: list[tuple[str, bool]], uses_login: bool,
    template_reads: frozenset[str] = frozenset(), template_unknown: tuple[str, ...] = (),
) -> SessionPlan:
    """Whether Flask's session leaves the project (module doc). ``native_views``: (path,
    function, named as in the module doc) of every view all of whose routes are native; ``apps``:
    (module, made at module level or in its factory's own body) of each Flask app; ``uses_login``: the project uses Flask-Login; ``template_reads``:
    what the project's templates read of ``session`` and ``get_flashed_messages``, and
    ``template_unknown``, why that cannot be known where it cannot (codemod/template_plan.py)."""
    users = frozenset(facts.users)
    flashes = frozenset(facts.flashes)
    templates = "get_flashed_messages" in template_reads
    if not users and not flashes and not facts.problems and not templates:
        return SessionPlan()

    def no(reason: str) -> SessionPlan:
        return SessionPlan(False, reason, users=users)

    if facts.problems:
        return no(facts.problems[0])
    if facts.blockers:
        return no(facts.blockers[0])
    if "session" in template_reads:
        return no("a template reads Flask's session, which Flask gives it from the cookie")
    if template_unknown:
        return no(f"what its templates read is not known: {template_unknown[0]}")
    if uses_login:
        return no("Flask-Login, which keeps its login in Flask's session")
    if len(apps) != 1 or not apps[0][1]:
        return no("not one Flask app made at module level or in an app factory's own body")
    for path, function in sorted(users | flashes):
        if (path, function) not in native_views:
            return no(f"{path}: {function} uses {'session' if (path, function) in users else 'flash'} and is no native view")
    return SessionPlan(True, None, users, users, flashes, templates)
