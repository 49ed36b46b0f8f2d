"""Per-request state kept on ``flask.g``, and the dependencies that take its place.

Flask apps keep two kinds of per-request state on ``g``:

- a **resource** opened on first use and closed at teardown: ``get_db()`` doing
  ``if "db" not in g: g.db = connect(...)``, with ``close_db`` popping and closing it;
- the **current user**, which a guard decorator stores (``g.user = ...``) before calling the view.

FastAPI gives both as dependencies: a yield dependency that opens the resource and closes it
after the response, and a dependency that checks the request and returns the user. Whoever used
``g`` gets the value as a parameter instead: views from ``Depends``, the project functions on
their path as a keyword argument, threaded from the view.

This module reads the facts of every module-level function (the ``g`` attributes it reads and
writes, what it calls) and plans, for the whole program, what may change. The plan is all or
nothing per piece of state wherever a half-done change would alter behaviour:

- A guard becomes a dependency only when each attribute it sets is read nowhere but in the
  views it guards (native ones, the guard the first decorator under the route) and in the
  functions they alone reach: once it is a dependency, ``g.user`` is no longer set.
- A resource stays reachable through its getter, so a function that cannot take a parameter
  (a bridged view, a nested function that runs after the view returned, a method) keeps calling
  ``get_db()`` and hands that to the functions it calls: every function still uses one
  connection per request, the one Flask's ``g`` or FastAPI's dependency cache holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m

from codemod.aborts import abort_arguments, aborts_in
from codemod.find import findall
from codemod.hook_calls import cannot_block
from codemod.jwt_facts import uses_jwt, verification_problem

G = frozenset({"flask.g", "flask.globals.g"})
CURRENT_APP = frozenset({"flask.current_app", "flask.globals.current_app"})
ABORT = frozenset({"flask.abort", "werkzeug.exceptions.abort", "flask.helpers.abort"})
JSONIFY = frozenset({"flask.jsonify", "flask.json.jsonify"})
REQUEST_HEADERS = ("flask.request.headers", "flask.globals.request.headers")
REQUEST = frozenset({"flask.request", "flask.globals.request"})
# what a converted hook may read of the request: Starlette's request has it under that name, or
# (REQUEST_RENAMED) under another
REQUEST_SAME = ("headers", "method")
REQUEST_RENAMED = {"path": ("url", "path")}
HOOK_KINDS = {"before_request": "before", "after_request": "after", "teardown_request": "teardown"}
# a blueprint's hooks that Flask runs for every request, among the app's
APP_WIDE_HOOKS = {"before_app_request": "before", "after_app_request": "after", "teardown_app_request": "teardown"}
# names a guard's primary attribute goes by: the one that becomes the dependency's value
USER_ATTRIBUTES = ("user", "current_user", "account", "identity", "principal", "member")
AUTHORIZATION = "authorization"


@dataclass(frozen=True)
class GuardFacts:
    sets: tuple[str, ...]  # g attributes it stores, in order
    problem: str | None  # why it cannot become a dependency, from its own code
    scheme: str | None  # "bearer" | "basic" | an API key header's name
    calls: frozenset[str]  # project functions its checks call
    # g attributes its checks read and do not set (``g.user`` a before hook keeps): a dependency
    # only where the app's hooks convert and keep them on request.state (plan_state)
    outside_reads: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FunctionFacts:
    """A module-level function, as far as ``g`` goes."""

    qualified: str
    module: str
    reads: frozenset[str]  # g attributes read (nested functions included)
    writes: frozenset[str]
    calls: frozenset[str]  # qualified names called in its own body
    nested_calls: frozenset[str]  # ... and in nested functions and lambdas
    locals: frozenset[str]  # names it binds (parameters included)
    assigned_from: tuple[tuple[str, str], ...]  # (local, called) for ``local = called()``
    sync: bool
    getter: str | None = None  # the g attribute it opens on first use and returns
    getter_problem: str | None = None
    teardown: str | None = None  # the g attribute it pops and closes
    guard: GuardFacts | None = None
    decorators: tuple[frozenset[str], ...] = ()  # qualified names, top to bottom
    flask_request: bool = False  # refers to flask.request (a ``request`` parameter would hide it)
    uses_flask: bool = False  # refers to any name of flask, werkzeug or a flask_* extension
    # qualified names its own body calls as the whole value of a ``return`` (``return f(x)``), and
    # those it calls anywhere else in its own body
    returned_calls: frozenset[str] = frozenset()
    bare_calls: frozenset[str] = frozenset()
    # for each such returned call: (called, the positions and keywords given an int literal)
    int_arguments: tuple[tuple[str, frozenset[str]], ...] = ()
    # (called, i): a call that is element i of a returned tuple (``return None, error(...)``)
    tuple_returns: frozenset[tuple[str, int]] = frozenset()
    # (called, i): ``a, b = called(...)`` whose element i is only tested and returned whole
    # (``if b: return b``)
    unpacked_returns: frozenset[tuple[str, int]] = frozenset()
    # (local, called): the first statement (after a docstring) is ``local = called()``, and the
    # function calls ``called`` nowhere else (a start-up user of a getter: ``conn = get_db()``)
    opens_with: tuple[str, str] | None = None


def _unpacked_returns(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> frozenset[tuple[str, int]]:
    """``content, error = helper(...)`` in the function's own body, each element whose name is
    used only as a whole ``return error`` or the test of an ``if`` (``if error:``, ``if not error:``)."""
    found: set[tuple[str, int]] = set()
    own = [n for n in findall(function.body, m.Assign([m.AssignTarget(m.Tuple())], m.Call()))]
    nested = {n for f in findall(function.body, m.FunctionDef() | m.Lambda()) for n in findall(f, m.Assign())}
    for assign in own:
        if assign in nested or len([a for a in own if a.targets[0].target.deep_equals(assign.targets[0].target)]) != 1:  # type: ignore[attr-defined]
            continue
        called = names(assign.value.func)  # type: ignore[attr-defined]
        for index, element in enumerate(assign.targets[0].target.elements):  # type: ignore[attr-defined]
            if not isinstance(element.value, cst.Name):
                continue
            name = element.value.value
            uses = [n for n in findall(function.body, m.Name(name)) if n is not element.value]
            whole = set(findall(function.body, m.Return(m.Name(name)))) | set(
                findall(function.body, m.If(test=m.Name(name) | m.UnaryOperation(m.Not(), m.Name(name))))
            )
            allowed = {id(n) for w in whole for n in ([w.value] if isinstance(w, cst.Return) else findall(w.test, m.Name(name)))}  # type: ignore[attr-defined]
            if uses and all(id(u) in allowed for u in uses):
                found.update((c, index) for c in called)
    return frozenset(found)


def function_facts(function: cst.FunctionDef, qualified: str, module: str, names: Callable[[cst.CSTNode], set[str]]) -> FunctionFacts:
    reader = _Reader(names)
    for statement in function.body.body if isinstance(function.body, cst.IndentedBlock) else ():
        statement.visit(reader)
    params = function.params
    own = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    own |= {p.name.value for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)}
    getter, getter_problem = _getter(function, names)
    return FunctionFacts(
        qualified, module, frozenset(reader.reads), frozenset(reader.writes), frozenset(reader.calls),
        frozenset(reader.nested_calls), frozenset(own | reader.bound), tuple(sorted(reader.assigned_from)),
        function.asynchronous is None, getter, getter_problem, _teardown(function, names),
        _guard(function, names), tuple(frozenset(names(d.decorator if not isinstance(d.decorator, cst.Call) else d.decorator.func)) for d in function.decorators),
        reader.flask_request, reader.uses_flask, frozenset(reader.returned_calls), frozenset(reader.bare_calls),
        tuple(sorted(reader.int_arguments)), frozenset(reader.tuple_returns), _unpacked_returns(function, names),
        _opens_with(function, names),
    )


def _opens_with(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> tuple[str, str] | None:
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    statements = [s for s in body if not m.matches(s, m.SimpleStatementLine([m.Expr(m.SimpleString())]))]
    first = statements[0] if statements else None
    pattern = m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())], m.Call(func=m.Name() | m.Attribute(), args=[]))])
    if first is None or not m.matches(first, pattern):
        return None
    assign = first.body[0]  # type: ignore[attr-defined]
    called = names(assign.value.func)
    if len(called) != 1:
        return None
    (qualified,) = called
    if sum(1 for c in findall(function, m.Call()) if qualified in names(c.func)) != 1:
        return None
    return assign.targets[0].target.value, qualified


class _Reader(Visitor):
    def __init__(self, names: Callable[[cst.CSTNode], set[str]]) -> None:
        self.names = names
        self.reads: set[str] = set()
        self.writes: set[str] = set()
        self.calls: set[str] = set()
        self.nested_calls: set[str] = set()
        self.bound: set[str] = set()
        self.assigned_from: set[tuple[str, str]] = set()
        self.depth = 0  # nested functions and lambdas around the node
        self.flask_request = False
        self.uses_flask = False
        self.returned_calls: set[str] = set()
        self.bare_calls: set[str] = set()
        self.returned: set[cst.Call] = set()
        self.tuple_returns: set[tuple[str, int]] = set()
        self.int_arguments: set[tuple[str, frozenset[str]]] = set()

    def visit_Return(self, node: cst.Return) -> None:
        if self.depth == 0 and isinstance(node.value, cst.Tuple):
            for index, element in enumerate(node.value.elements):
                if isinstance(element.value, cst.Call) and not isinstance(element, cst.StarredElement):
                    self.returned.add(element.value)  # (not a bare call: what it gives is returned)
                    self.tuple_returns.update((called, index) for called in self.names(element.value.func))
        if self.depth == 0 and isinstance(node.value, cst.Call):
            call = node.value
            self.returned.add(call)
            called = self.names(call.func)
            self.returned_calls.update(called)
            given = frozenset(
                a.keyword.value if a.keyword is not None else str(index)
                for index, a in enumerate(call.args)
                if isinstance(a.value, cst.Integer) and not a.star
            )
            self.int_arguments.update((name, given) for name in called)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1
        if self.depth == 1:
            self.bound.add(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.depth += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.depth -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            for name in target_names(target.target):
                if self.depth == 0:
                    self.bound.add(name)
            if self.depth == 0 and isinstance(target.target, cst.Name) and isinstance(node.value, cst.Call):
                for called in self.names(node.value.func):
                    self.assigned_from.add((target.target.value, called))
            for attribute in self._g_attributes(target.target):
                self.writes.add(attribute)

    def visit_For(self, node: cst.For) -> None:
        if self.depth == 0:
            self.bound.update(target_names(node.target))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if self.depth == 0 and node.asname is not None:
            self.bound.update(target_names(node.asname.name))

    def visit_Call(self, node: cst.Call) -> None:
        called = self.names(node.func)
        (self.calls if self.depth == 0 else self.nested_calls).update(called)
        if self.depth == 0 and node not in self.returned:
            self.bare_calls.update(called)
        func = node.func
        # g.get("x"), g.pop("x"), getattr(g, "x"), setattr(g, "x", v)
        if isinstance(func, cst.Attribute) and self.names(func.value) & G and node.args:
            key = _string(node.args[0].value)
            if key is not None:
                (self.writes if func.attr.value in ("pop", "setdefault") else self.reads).add(key)
                if func.attr.value in ("pop", "setdefault"):
                    self.reads.add(key)
        if m.matches(func, m.Name("getattr") | m.Name("setattr") | m.Name("hasattr") | m.Name("delattr")) and len(node.args) >= 2:
            if self.names(node.args[0].value) & G and _string(node.args[1].value) is not None:
                attribute = _string(node.args[1].value)
                (self.reads if func.value in ("getattr", "hasattr") else self.writes).add(attribute)  # type: ignore[union-attr, arg-type]

    def visit_Comparison(self, node: cst.Comparison) -> None:
        # "x" in g
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)) and self.names(target.comparator) & G:
                key = _string(node.left)
                if key is not None:
                    self.reads.add(key)

    def visit_Name(self, node: cst.Name) -> None:
        names = self.names(node)
        if node.value == "request" and names & REQUEST:
            self.flask_request = True
        if any(q.partition(".")[0] in ("flask", "werkzeug") or q.startswith("flask_") for q in names):
            self.uses_flask = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.names(node.value) & G and node.attr.value not in ("get", "pop", "setdefault"):
            self.reads.add(node.attr.value)  # writes are counted too (visit_Assign): harmless

    def _g_attributes(self, target: cst.BaseExpression) -> list[str]:
        if isinstance(target, cst.Attribute) and self.names(target.value) & G:
            return [target.attr.value]
        if isinstance(target, (cst.Tuple, cst.List)):
            return [a for e in target.elements for a in self._g_attributes(e.value)]
        return []


def target_names(target: cst.BaseExpression) -> list[str]:
    """The names a binding target binds (``a``, ``a, (b, c)``; none for ``x.y`` or ``x[0]``)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in target_names(e.value)]
    return []


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _statements(function: cst.FunctionDef) -> list[cst.BaseStatement]:
    body = list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []
    if body and m.matches(body[0], m.SimpleStatementLine([m.Expr(m.SimpleString() | m.ConcatenatedString())])):
        body = body[1:]
    return body


def missing_test(test: cst.BaseExpression, names: Callable[[cst.CSTNode], set[str]]) -> str | None:
    """The attribute of ``"x" not in g`` / ``not hasattr(g, "x")``, else None."""
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(target.operator, cst.NotIn) and names(target.comparator) & G:
            return _string(test.left)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        call = test.expression
        if m.matches(call, m.Call(func=m.Name("hasattr"))) and len(call.args) == 2 and names(call.args[0].value) & G:  # type: ignore[attr-defined]
            return _string(call.args[1].value)  # type: ignore[attr-defined]
    return None


def _getter(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> tuple[str | None, str | None]:
    """``if "x" not in g: g.x = <open>; ...`` then ``return g.x``: the attribute, and why the
    opening code cannot move into a dependency (None when it can)."""
    body = _statements(function)
    if function.params.params or function.params.kwonly_params or len(body) != 2 or not isinstance(body[0], cst.If):
        return None, None
    attribute = missing_test(body[0].test, names)
    if attribute is None or body[0].orelse is not None:
        return None, None
    returned = m.SimpleStatementLine([m.Return(m.Attribute(attr=m.Name(attribute)))])
    if not m.matches(body[1], returned) or not names(body[1].body[0].value.value) & G:  # type: ignore[attr-defined]
        return None, None
    opening = list(body[0].body.body)  # type: ignore[union-attr]
    first = opening[0] if opening else None
    if not m.matches(first, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Attribute(attr=m.Name(attribute)))])])):
        return None, None
    problem = None
    for statement in opening:
        for q in sorted(_flask_names(statement, names)):
            if not q.startswith(tuple(f"{a}." for a in G | CURRENT_APP)) and q not in G | CURRENT_APP:
                problem = problem or f"opening {attribute} uses {q}"
    return attribute, problem


def _flask_names(node: cst.CSTNode, names: Callable[[cst.CSTNode], set[str]]) -> set[str]:
    """The Flask and werkzeug names used under ``node``, each by its longest dotted form:
    ``request.headers.get`` is one use, not three."""
    found: set[str] = set()
    for expression in findall(node, m.Name() | m.Attribute()):
        found |= {q for q in names(expression) if q.startswith(("flask.", "werkzeug."))}
    return {q for q in found if not any(other.startswith(q + ".") for other in found)}


def _teardown(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> str | None:
    """``x = g.pop("x", None)`` then ``if x is not None: <close x>``: the attribute."""
    body = _statements(function)
    if len(body) != 2:
        return None
    popped = m.Call(func=m.Attribute(attr=m.Name("pop")), args=[m.Arg(m.SimpleString()), m.Arg(m.Name("None"))])
    pop = m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())], popped) | m.AnnAssign(m.Name(), value=popped)])
    if not m.matches(body[0], pop):
        return None
    assign = body[0].body[0]  # type: ignore[attr-defined]
    if not names(assign.value.func.value) & G:
        return None
    local = (assign.targets[0].target if isinstance(assign, cst.Assign) else assign.target).value
    check = m.If(test=m.Comparison(left=m.Name(local), comparisons=[m.ComparisonTarget(m.IsNot(), m.Name("None"))]), orelse=None)
    if not m.matches(body[1], check):
        return None
    return _string(assign.value.args[0].value)


def _guard(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> GuardFacts | None:
    """The facts of a check-then-call guard (``codemod.facts.is_guard``): the g attributes its
    checks store, its security scheme, and why they cannot move into a dependency."""
    from codemod.facts import is_guard

    if not is_guard(function, names):
        return None
    wrapped = next(s for s in _statements(function) if isinstance(s, cst.FunctionDef))
    checks = _statements(wrapped)[:-1]
    reader = _Reader(names)
    sets: list[str] = []
    problem = None
    for statement in checks:
        statement.visit(reader)
        if any(refusal(r.value, names) is None for r in findall(statement, m.Return())):  # type: ignore[attr-defined]
            problem = problem or "it refuses by returning a response (a dependency can only raise)"
        for assign in findall(statement, m.Assign()):
            for target in assign.targets:  # type: ignore[attr-defined]
                sets += [a for a in reader._g_attributes(target.target) if a not in sets]
    # the app's settings come from the Settings dependency (codemod/settings.py plans it for guards)
    allowed = tuple(f"{a}." for a in G) + REQUEST_HEADERS + tuple(f"{a}.config." for a in CURRENT_APP)
    config = {f"{a}.config" for a in CURRENT_APP}
    for statement in checks:
        # jsonify only as the call a refusal returns (the dependency raises what it serializes)
        refusals = [refusal(r.value, names) for r in findall(statement, m.Return())]  # type: ignore[attr-defined]
        returned = sum(1 for r in refusals if r is not None and isinstance(r[0], cst.Call))
        called = sum(1 for n in findall(statement, m.Name() | m.Attribute()) if names(n) & JSONIFY)
        for q in sorted(_flask_names(statement, names)):
            if q in JSONIFY and called == returned:
                continue
            if not (q.startswith(allowed) or q in ABORT or q in REQUEST_HEADERS or q in config):
                problem = problem or f"its checks use {q}"
    scheme = _scheme(checks)
    return GuardFacts(tuple(sets), problem, scheme, frozenset(reader.calls), frozenset(reader.reads - set(sets)))


def refusal(value: cst.BaseExpression | None, names: Callable[[cst.CSTNode], set[str]]) -> tuple[cst.BaseExpression, cst.BaseExpression | None] | None:
    """A guard's answer in the view's place that its dependency can raise as the same JSON
    (runtime refusals.GuardRefused): ``jsonify(k=v, ...)``, ``jsonify({...})`` or a dict literal,
    alone or with an int status; (what jsonify serializes, the status), else None."""
    status = None
    if isinstance(value, cst.Tuple) and len(value.elements) == 2 and not any(isinstance(e, cst.StarredElement) for e in value.elements):
        value, status = value.elements[0].value, value.elements[1].value
        if not isinstance(status, cst.Integer):
            return None
    if isinstance(value, cst.Dict) and status is not None:
        return value, status
    if not isinstance(value, cst.Call) or not names(value.func) & JSONIFY or any(a.star for a in value.args):
        return None
    keywords = [a for a in value.args if a.keyword is not None]
    if value.args and len(keywords) == len(value.args) and all(a.keyword.value != "self" for a in keywords):  # type: ignore[union-attr]
        return value, status
    if len(value.args) == 1 and not keywords and isinstance(value.args[0].value, cst.Dict):
        return value, status
    return None


def _scheme(checks: list[cst.BaseStatement]) -> str | None:
    """The security scheme the checks implement, from the header they read and the scheme
    word they compare with: "bearer", "basic", or an API key header's name."""
    strings = [s.evaluated_value for c in checks for s in findall(c, m.SimpleString())]  # type: ignore[attr-defined]
    words = {s.lower() for s in strings if isinstance(s, str)}
    if AUTHORIZATION in words:
        if "bearer" in words or "bearer " in words:
            return "bearer"
        if "basic" in words or "basic " in words:
            return "basic"
        return None
    headers = [s for s in strings if isinstance(s, str) and s.lower().startswith("x-")]
    return headers[0] if headers else None


@dataclass(frozen=True)
class HookFacts:
    """An app's ``@app.before_request`` / ``@app.after_request`` / ``@app.teardown_request`` function."""

    qualified: str  # module.function, or module.factory.function for one defined in a factory
    kind: str  # "before" | "after" | "teardown"
    app: str  # the app's qualified name
    line: int
    problem: str | None  # why it cannot run as RequestHooks middleware
    answers: bool = False  # a before hook that may answer in the view's place (``return {...}, 503``)
    # a blueprint's own hook (``@bp.before_request``): the blueprint's Flask name (its endpoints'
    # prefix), run by RequestHooks for its views only (hooks.BlueprintHooks); None: the app's
    blueprint: str | None = None
    # a blueprint's app-wide hook (``@bp.before_app_request``), planned as one of the app's: its
    # ``line`` is then the blueprint's registration, ``rank`` its own line (the order among them)
    app_wide: bool = False
    rank: int = 0
    # the statuses its ``abort(code)`` calls raise, converted to ``raise HTTPException`` (codemod/aborts.py)
    raises: frozenset[int] = frozenset()
    jwt: bool = False  # it verifies or reads a token with Flask-JWT-Extended (transforms/jwt_hooks.py)
    # every call it makes cannot block (codemod/hook_calls.py): it becomes ``async def``, on the loop
    loop_safe: bool = False


def hook_facts(
    function: cst.FunctionDef, kind: str, qualified: str, app: str, line: int, names: Callable[[cst.CSTNode], set[str]],
    receivers: dict[str, str] | None = None,
) -> HookFacts:
    """``receivers``: the module's loggers and compiled patterns (codemod/hook_calls.py)."""
    body = _statements(function)
    params = [p.name.value for p in function.params.params]
    problem = None
    if function.params.star_arg != cst.MaybeSentinel.DEFAULT or function.params.kwonly_params or len(params) != (kind != "before"):
        problem = "its parameters are not Flask's hook parameters"
    elif function.asynchronous is not None:
        problem = "an async hook"
    returns = findall(function.body, m.Return())
    response = params[0] if params else None
    # a before hook's answer (``return {"error": "maintenance"}, 503``) is made a response by
    # RequestHooks as make_response made it; one that Flask builds (jsonify, redirect) stays
    # Flask's through the check of its names below
    if problem is None and kind == "teardown" and findall(function.body, m.Name(params[0])):
        # RequestHooks hands a teardown hook no exception: the app's handlers answered it inside
        problem = "it reads the exception Flask hands it"
    if problem is None and kind == "after":
        last = body[-1] if body else None
        if len(returns) != 1 or not m.matches(last, m.SimpleStatementLine([m.Return(m.Name(response))])):
            problem = "it does not return the response it was given"
        elif any(
            not m.matches(use, m.Attribute(value=m.Name(response), attr=m.Name("headers") | m.Name("status_code")))
            for use in _uses_of(function, response)
        ):
            problem = "it reads the response beyond its status and headers"
    # abort() in a before hook: a raise RequestHooks answers by the blueprint's, then the app's,
    # handlers (project.py refuses the hooks where one of those stays Flask's)
    aborts, every_abort_converts = aborts_in(function, names) if kind == "before" else ([], False)
    jwt = uses_jwt(function, names)
    if problem is None and jwt:
        problem = "it uses Flask-JWT-Extended after the view" if kind != "before" else verification_problem(function, names)
    for statement in body if problem is None else ():
        for q in sorted(_flask_names(statement, names)):
            if q.startswith(tuple(f"{a}." for a in G)) or (jwt and q in JSONIFY):  # a JWT hook's answers: checked above
                continue
            if q in ABORT and aborts and every_abort_converts:
                continue
            attribute = next((q[len(r) + 1:].partition(".")[0] for r in REQUEST if q.startswith(r + ".")), None)
            if attribute in REQUEST_SAME or attribute in REQUEST_RENAMED:
                continue
            problem = problem or f"it uses {q}"
    answers = kind == "before" and any(r.value is not None for r in returns)  # type: ignore[attr-defined]
    raises = frozenset(int(abort_arguments(a)[0].value.value) for a in aborts if every_abort_converts)  # type: ignore[index, attr-defined]
    loop_safe = problem is None and not jwt and cannot_block(function, names, receivers or {})
    return HookFacts(qualified, kind, app, line, problem, answers, raises=raises, jwt=jwt, loop_safe=loop_safe)


def _uses_of(function: cst.FunctionDef, name: str) -> list[cst.CSTNode]:
    """How the body uses a parameter: ``response.headers`` counts as a use of ``response``,
    through the attribute around it (the bare name where it is used alone, ``return response``
    excepted)."""
    uses: list[cst.CSTNode] = []
    for attribute in findall(function.body, m.Attribute(value=m.Name(name))):
        uses.append(attribute)
    bare = [n for n in findall(function.body, m.Name(name))]
    as_value = {id(a.value) for a in uses}  # type: ignore[attr-defined]
    returned = {id(r.value) for r in findall(function.body, m.Return(m.Name(name)))}  # type: ignore[attr-defined]
    uses += [n for n in bare if id(n) not in as_value and id(n) not in returned]
    return uses


# -- the plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    getter: str  # qualified
    attribute: str
    param: str  # the parameter name functions get it under
    dependency: str  # the yield dependency's name, next to the getter
    alias: str  # Annotated[..., Depends(dependency)], next to it
    teardown: str  # qualified

    @property
    def opener(self) -> str:
        """The context manager next to the dependency that a sync view's streamed body opens it
        with, for as long as it runs (codemod/sync_streams.py)."""
        return f"open_{self.getter.rpartition('.')[2].removeprefix('get_')}"


@dataclass(frozen=True)
class Guard:
    guard: str  # qualified
    primary: str | None  # the attribute the dependency returns (None: a guard that only checks)
    others: tuple[str, ...]  # the others, kept on request.state
    param: str
    alias: str  # the Annotated alias of what it returns ("" for one that only checks)
    scheme: str | None
    # the guard whose g attributes it checks (``admin_required`` reading the ``g.role`` that
    # ``token_required`` set): its dependency depends on that one's, which runs first
    base: str | None = None


REQUEST_TOKEN = "request"


@dataclass
class StatePlan:
    resources: dict[str, Resource] = field(default_factory=dict)
    guards: dict[str, Guard] = field(default_factory=dict)
    # app -> its hooks, converted together into RequestHooks middleware (registration order)
    hooks: dict[str, list[HookFacts]] = field(default_factory=dict)
    # app -> blueprint name -> the blueprint's own hooks, converted with the app's (line order)
    blueprint_hooks: dict[str, dict[str, list[HookFacts]]] = field(default_factory=dict)
    hook_attributes: frozenset[str] = frozenset()  # g attributes the hooks keep, now on request.state
    request_param: str = "request"
    # converted hooks whose body runs in ``with app.app_context():`` (``db.create_all()``)
    app_context_hooks: frozenset[str] = frozenset()
    # why the app's hooks stay Flask's, for the report (None: converted, or none to convert)
    hooks_kept: str | None = None
    # functions that have Starlette's request as ``request`` already (converted exception handlers)
    request_sources: frozenset[str] = frozenset()
    # function -> the state it takes as keyword parameters: resource getters, guards (qualified)
    threaded: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # native view -> the state it gets from dependencies (getters and guards) and whether the
    # view takes the value (False: dependencies=[...])
    views: dict[str, dict[str, bool]] = field(default_factory=dict)
    # native view -> the guards whose secondary attributes it reads (a request parameter)
    state_readers: dict[str, set[str]] = field(default_factory=dict)

    def token_param(self, token: str) -> str:
        if token == REQUEST_TOKEN:
            return self.request_param
        return self.resources[token].param if token in self.resources else self.guards[token].param

    @property
    def hook_functions(self) -> dict[str, HookFacts]:
        own = {h.qualified: h for hooks in self.hooks.values() for h in hooks}
        return {**own, **{h.qualified: h for by_bp in self.blueprint_hooks.values() for hooks in by_bp.values() for h in hooks}}


def plan_state(
    functions: dict[str, FunctionFacts], native_views: set[str], bridged_views: set[str],
    called_outside: set[str] = frozenset(), unseen_calls: set[str] = frozenset(),  # type: ignore[assignment]
    hooks: list[HookFacts] = (),  # type: ignore[assignment]
    request_sources: frozenset[str] = frozenset(),
    flask_objects: frozenset[str] = frozenset(),
    app_logs: frozenset[str] = frozenset(),
    async_getters: frozenset[str] = frozenset(),
    sync_guards: frozenset[str] = frozenset(),
    context_objects: frozenset[str] = frozenset(),
) -> StatePlan:
    """The plan (module doc). ``app_logs``: calls of an app's logger (``app.logger.info``) that
    become a module logger's (transforms/app_logger.py): no use of the Flask app.
    ``context_objects``: extension objects that need only the app's context, not a request's
    (Flask-SQLAlchemy's ``db``): a hook of its own that calls them runs them in
    ``with app.app_context():`` as middleware (``StatePlan.app_context_hooks``); a blueprint's,
    which names no app, in the context of the app serving the request (``request.app``)."""
    plan = StatePlan(request_sources=frozenset(request_sources))
    teardowns = {f.teardown: f.qualified for f in functions.values() if f.teardown}
    touched: dict[str, set[str]] = {}  # attribute -> functions that read or write it
    for f in functions.values():
        for attribute in f.reads | f.writes:
            touched.setdefault(attribute, set()).add(f.qualified)

    # resources
    for f in sorted(functions.values(), key=lambda f: f.qualified):
        if f.getter is None or f.getter_problem or f.getter not in teardowns:
            continue
        if touched.get(f.getter, set()) - {f.qualified, teardowns[f.getter]}:
            continue  # g.db used elsewhere too: the getter is not the only way in
        locals_ = [local for g in functions.values() for local, called in g.assigned_from if called == f.qualified]
        param = max(set(locals_), key=locals_.count) if locals_ else f.getter
        camel = "".join(part.capitalize() for part in f.getter.split("_"))
        name = f.qualified.rpartition(".")[2]
        dependency = f"{name}_dependency" if not name.startswith("get_") else f"provide_{name.removeprefix('get_')}"
        twin = f"provide_async_{name.removeprefix('get_')}"  # its async twin (codemod/async_plan.py)
        resource = Resource(f.qualified, f.getter, param, dependency, f"{camel}Dep", teardowns[f.getter])
        if any(f"{f.module}.{made}" in functions for made in (dependency, twin, resource.opener)):
            continue  # converted before: the dependency is there
        plan.resources[f.qualified] = resource

    # guards; one that reads what a before hook of the app keeps (``g.user``) is pending: a
    # dependency reading request.state where the hooks convert
    hook_writes = set().union(*(functions[h.qualified].writes for h in hooks if h.kind == "before" and h.qualified in functions))
    pending: set[str] = set()
    based: dict[str, str] = {}  # a guard checking what another guard set -> that guard
    for f in sorted(functions.values(), key=lambda f: f.qualified):
        facts = f.guard
        if facts is None or facts.problem or any(c in functions and c not in plan.resources and functions[c].reads | functions[c].writes for c in facts.calls):
            continue
        if facts.outside_reads:
            base = _base_guard(functions, f)
            if base is not None:
                based[f.qualified] = base
            elif not facts.outside_reads <= hook_writes or facts.sets:
                continue
            else:
                pending.add(f.qualified)
        # FastAPI runs a sync dependency in a thread-pool call of its own: a guard that reads the
        # database there would hold a connection while its request waits for the view's call, and
        # enough such requests exhaust the pool while holding every thread (the deadlock in
        # ../shared/MEASURED.md). It stays a decorator, in Flask's one call, unless it can be async
        # (an async session: ``async_getters``, and the async plan kept it: not ``sync_guards``).
        getters = {g for g, fn in functions.items() if fn.getter}
        used = (facts.calls | set().union(*(functions[c].calls for c in _reach(functions, facts.calls & set(functions))))) & getters
        if used and (not used <= async_getters or not used <= facts.calls or f.qualified in sync_guards):
            continue
        if not facts.sets:  # it only checks: views take it as ``dependencies=[Depends(guard)]``
            plan.guards[f.qualified] = Guard(f.qualified, None, (), "", "", facts.scheme, based.get(f.qualified))
            continue
        primary = next((a for a in USER_ATTRIBUTES if a in facts.sets), facts.sets[0])
        alias = "CurrentUser" if primary in ("user", "current_user") else "".join(p.capitalize() for p in primary.split("_")) + "Dep"
        plan.guards[f.qualified] = Guard(f.qualified, primary, tuple(a for a in facts.sets if a != primary), primary, alias, facts.scheme)

    def guarded_by(view: FunctionFacts) -> str | None:
        # the guard has to be the first decorator under the route decorators
        for names in view.decorators:
            if names & set(plan.guards):
                return sorted(names & set(plan.guards))[0]
        return None

    tokens = [*plan.resources, *plan.guards]
    for token in sorted(plan.guards, key=lambda t: plan.guards[t].base is not None):  # the based ones last
        guard = plan.guards[token]
        users = [f for f in functions.values() if token in {n for d in f.decorators for n in d}]
        if guard.base is not None:
            # right under its base guard, which is right under the route decorators: the base's
            # checks run first, as its dependency's do
            if guard.base not in plan.guards or any(
                u.qualified not in native_views or not _first_below_routes(u, guard.base) or not _right_under(u, guard.base, token)
                for u in users
            ):
                del plan.guards[token]
            continue
        if any(u.qualified not in native_views or not _first_below_routes(u, token) for u in users):
            del plan.guards[token]
            continue
        readers = touched.get(guard.primary, set()) | set().union(*(touched.get(a, set()) for a in guard.others))
        builders = {t for t, g in plan.guards.items() if g.base == token}  # they read it in their dependency
        readers -= {token} | builders
        guarded = {u.qualified for u in users}
        reaches = _reach(functions, guarded)
        others_readers = set().union(*(touched.get(a, set()) for a in guard.others)) - {token} - builders
        if not readers <= reaches or not others_readers <= guarded or any(
            functions[r].writes & ({guard.primary} | set(guard.others)) for r in readers if r in functions
        ):
            del plan.guards[token]
    for token in set(based) - set(plan.guards):  # a guard left a decorator reads what its base set on g
        plan.guards.pop(based[token], None)
    for token in [t for t, g in plan.guards.items() if g.base is not None and g.base not in plan.guards]:
        del plan.guards[token]
    by_app: dict[str, list[HookFacts]] = {}
    for hook in sorted(hooks, key=lambda h: (h.app, h.blueprint or "", h.line, h.rank)):
        by_app.setdefault(hook.app, []).append(hook)
    if len(by_app) > 1:
        plan.hooks_kept = f"the hooks of {len(by_app)} apps"
    if len(by_app) == 1:  # one app: its hooks run for every request the project answers
        (app, app_hooks), = by_app.items()
        written = set().union(*(functions[h.qualified].writes for h in app_hooks if h.qualified in functions))
        def needs_flask(hook: HookFacts) -> bool:
            """Whether the hook, or what it calls, needs Flask's context: an extension object
            (``db.create_all()`` of Flask-SQLAlchemy) or a function using Flask. As middleware it
            runs outside Flask's request context."""
            reached = _reach(functions, functions[hook.qualified].calls & set(functions))
            calls = set().union(*(functions[f].calls for f in reached | {hook.qualified})) - app_logs
            in_context = {c for c in functions[hook.qualified].calls if any(c.startswith(o + ".") for o in context_objects)}
            if in_context and not functions[hook.qualified].uses_flask:
                calls -= in_context
                context_hooks.add(hook.qualified)
            return any(functions[f].uses_flask for f in reached) or any(
                c == o or c.startswith(o + ".") for c in calls for o in flask_objects
            )

        context_hooks: set[str] = set()
        def problem(hook: HookFacts) -> str | None:
            if hook.problem is not None:
                return hook.problem
            if hook.qualified not in functions:
                return "it is not read"
            if needs_flask(hook):
                return "it needs Flask's context"
            return None

        # a teardown hook that cannot convert stays Flask's, run inside the app where the
        # converted ones run after it: Flask's order (last registered, first run) when it was
        # registered after them, and when it touches no g attribute of the hooks (checked below
        # with every function that reads them)
        kept = [h for h in app_hooks if h.kind == "teardown" and h.blueprint is None and problem(h) is not None]
        converted = [h for h in app_hooks if h.kind == "teardown" and h.blueprint is None and h not in kept]
        if kept and converted and min(h.line for h in kept) < max(h.line for h in converted):
            kept = []
        app_hooks = [h for h in app_hooks if h not in kept]
        written = set().union(*(functions[h.qualified].writes for h in app_hooks if h.qualified in functions))
        read = set().union(*(functions[h.qualified].reads for h in app_hooks if h.qualified in functions))
        refused = next(((h, p) for h in app_hooks for p in [problem(h)] if p is not None), None)
        # what the hooks read and none of them sets, another function may set: it then gets the
        # request too (a helper of the exception handlers, checked with every reader below)
        hook_names = {h.qualified for h in app_hooks}
        elsewhere = set().union(*(f.writes for f in functions.values() if f.qualified not in hook_names))
        if refused is not None:
            plan.hooks_kept = f"{refused[0].qualified.rpartition('.')[2]}: {refused[1]}"
        elif not read <= written | elsewhere:
            plan.hooks_kept = f"they read g.{sorted(read - written - elsewhere)[0]}, which no hook sets"
        elif app_hooks and all(h.blueprint is not None or h.app_wide for h in app_hooks):
            # RequestHooks is added after the app's last hook: where it has none, it has no place
            # (a blueprint's teardown hooks alone stay Flask's, as they did, silently)
            first = next((h for h in app_hooks if h.kind != "teardown"), None)
            if first is not None:
                plan.hooks_kept = f"{first.qualified.rpartition('.')[2]} is a blueprint's hook, and the app has none of its own"
        elif app_hooks:
            plan.hooks[app] = [h for h in app_hooks if h.blueprint is None]
            for hook in app_hooks:
                if hook.blueprint is not None:
                    plan.blueprint_hooks.setdefault(app, {}).setdefault(hook.blueprint, []).append(hook)
            plan.hook_attributes = frozenset(written | read)
            plan.app_context_hooks = frozenset(context_hooks)
    tokens = [*plan.resources, *plan.guards, *([REQUEST_TOKEN] if plan.hooks else [])]

    # who needs what: direct needs, then through the functions they call (a fixed point)
    def direct(f: FunctionFacts, token: str) -> bool:
        if token == REQUEST_TOKEN:
            return bool((f.reads | f.writes) & plan.hook_attributes) and f.qualified not in plan.hook_functions
        if token in plan.resources:
            return token in f.calls
        return plan.guards[token].primary in f.reads

    def threadable(f: FunctionFacts, token: str) -> bool:
        if f.qualified in bridged_views or not f.sync or f.qualified in plan.resources or f.qualified in plan.guards:
            return False
        if f.getter or f.teardown or f.guard:
            return False
        if token == REQUEST_TOKEN and (f.qualified in plan.hook_functions or f.qualified in plan.request_sources):
            return False  # a hook or an exception handler has the request already
        param = plan.token_param(token)
        mine = {local for local, called in f.assigned_from if called == token}
        return param not in f.locals or param in mine

    needs: dict[str, set[str]] = {t: set() for t in tokens}
    for token in tokens:
        changed = True
        while changed:
            changed = False
            for f in functions.values():
                if f.qualified in needs[token] or not threadable(f, token):
                    continue
                if direct(f, token) or f.calls & needs[token]:
                    needs[token].add(f.qualified)
                    changed = True
    for token in tokens:
        # only what native views reach takes a parameter: other code keeps calling the getter
        views = {v for v in needs[token] if v in native_views}
        sources = views | (set(plan.hook_functions) | plan.request_sources if token == REQUEST_TOKEN else set())
        needs[token] &= _reach(functions, sources) | sources
    if REQUEST_TOKEN in needs:
        # every function that reads what the hooks keep must get the request: else they stay
        # (a factory that defines the hooks has their reads and writes among its own)
        # (and one whose nested exception handlers convert: ``register_error_handlers(app)``)
        around = {h.rpartition(".")[0] for h in plan.hook_functions} | {s.partition(".<locals>.")[0] for s in plan.request_sources}
        readers = {f.qualified for f in functions.values() if f.reads & plan.hook_attributes} - set(plan.hook_functions) - around - plan.request_sources
        # a function that sets what they keep sets request.state where it gets the request (a
        # helper of the exception handlers); else Flask's g, which they no longer read
        writers = {f.qualified for f in functions.values() if f.writes & plan.hook_attributes} - set(plan.hook_functions) - around
        writers -= needs[REQUEST_TOKEN]
        helpers = needs[REQUEST_TOKEN] - native_views
        hook_callers = set(plan.hook_functions) | plan.request_sources
        readers -= pending & set(plan.guards)  # a dependency: it takes the request
        stranded = sorted(readers - needs[REQUEST_TOKEN])

        def callers(h: str) -> set[str]:
            """Its callers, but a function around hooks or handlers that calls it only through them."""
            return {c for c in callers_of(functions, h) if c not in around or h in functions[c].calls}

        uncalled = sorted(h for h in helpers if callers(h) - needs[REQUEST_TOKEN] - hook_callers)
        unseen = sorted(helpers & called_outside | {f for f in helpers if f.rpartition(".")[2] in unseen_calls})
        if stranded or writers or uncalled or unseen:
            if stranded:
                first = functions[stranded[0]]
                why = f"reads g.{sorted(first.reads & plan.hook_attributes)[0]} and cannot be given the request"
            elif writers:
                first = functions[sorted(writers)[0]]
                why = f"sets g.{sorted(first.writes & plan.hook_attributes)[0]} too"
            elif uncalled:
                first, why = functions[uncalled[0]], "reads what they keep and has callers that cannot pass the request"
            else:
                first, why = functions[unseen[0]], "reads what they keep and is called where the request cannot be passed"
            plan.hooks_kept = f"{first.qualified.rpartition('.')[2]} {why}"
            plan.hooks.clear()
            plan.blueprint_hooks.clear()
            plan.hook_attributes = frozenset()
            del needs[REQUEST_TOKEN]
        elif any(functions[f].flask_request for f in needs[REQUEST_TOKEN] if f in functions):
            plan.request_param = "http_request"  # ``request`` still means Flask's there
    if not plan.hooks:
        for token in pending & set(plan.guards):  # g.user stays Flask's: the guard stays a decorator
            del plan.guards[token]
            needs.pop(token, None)
    callers: dict[str, set[str]] = {}
    for f in functions.values():
        for called in f.calls | f.nested_calls:
            callers.setdefault(called, set()).add(f.qualified)
    for token in list(needs):
        # a function that code the facts pass did not read may call cannot get a new parameter
        if any(f.rpartition(".")[2] in unseen_calls for f in needs[token] | {token}):
            plan.guards.pop(token, None)
            plan.resources.pop(token, None)
            del needs[token]
    for token in list(plan.guards):
        readers = touched.get(plan.guards[token].primary, set()) - {token}
        views = {v for v in needs[token] if v in native_views}
        helpers = needs[token] - views
        # the user comes from the guard's dependency only: every view that needs it is one the
        # guard protects (else the conversion would add an auth check), and every caller of a
        # function that needs it can hand it over
        if (
            not readers <= needs[token]
            or any(guarded_by(functions[v]) != token for v in views)
            or any(callers.get(h, set()) - needs[token] for h in helpers)
            or helpers & called_outside
        ):
            del plan.guards[token]
            del needs[token]
    for token in plan.resources:
        for view in sorted(v for v in needs[token] if v in native_views):
            # a function on the view's path that opens the resource itself, and cannot be given
            # it, would hold a second connection next to the dependency's: the view keeps the getter
            # (a decorator that stays one runs on the view's path too, its wrapper's calls included)
            decorators = {n for names in functions[view].decorators for n in names if n in functions and n not in plan.guards}
            if any(token in functions[f].calls and f not in needs[token] for f in _reach(functions, {view})) or any(
                token in functions[d].calls | functions[d].nested_calls for d in _reach(functions, decorators) | decorators
            ):
                needs[token].discard(view)
        kept = {v for v in needs[token] if v in native_views}
        needs[token] &= _reach(functions, kept) | kept  # helpers only the views that keep the getter reach: as they were
    for token, functions_ in needs.items():
        for name in sorted(functions_):
            if name in native_views:
                plan.views.setdefault(name, {})[token] = True
            else:
                plan.threaded[name] = (*plan.threaded.get(name, ()), token)
    for token, guard in plan.guards.items():
        for f in functions.values():
            if guard.base is not None and token in {n for d in f.decorators for n in d}:
                # ``dependencies=[Depends(admin_required)]``: it depends on its base's dependency
                state = plan.views.setdefault(f.qualified, {})
                if not state.get(guard.base, True):
                    del state[guard.base]
                state[token] = False
                continue
            if guarded_by(f) == token and not any(g.base == token and g.guard in {n for d in f.decorators for n in d} for g in plan.guards.values()):
                plan.views.setdefault(f.qualified, {}).setdefault(token, False)
                if touched and any(f.qualified in touched.get(a, set()) for a in guard.others):
                    plan.state_readers.setdefault(f.qualified, set()).add(token)
    if any(functions[v].flask_request for v in plan.state_readers if v in functions):
        plan.request_param = "http_request"
    return plan


def callers_of(functions: dict[str, FunctionFacts], name: str) -> set[str]:
    return {f.qualified for f in functions.values() if name in f.calls | f.nested_calls}


def _base_guard(functions: dict[str, FunctionFacts], f: FunctionFacts) -> str | None:
    """The guard whose stored attributes ``f``'s checks read, where ``f`` stores none itself and
    every view it decorates has that guard too (the one setting them all, with no problem)."""
    facts = f.guard
    if facts is None or facts.sets:
        return None
    setters = {
        g.qualified for g in functions.values()
        if g.guard is not None and not g.guard.problem and facts.outside_reads <= set(g.guard.sets)
    }
    if len(setters) != 1:
        return None
    return setters.pop()


def _right_under(view: FunctionFacts, above: str, below: str) -> bool:
    """Whether the decorator ``below`` comes right after ``above`` on the view."""
    names = list(view.decorators)
    return any(above in first and below in second for first, second in zip(names, names[1:]))


def _first_below_routes(view: FunctionFacts, guard: str) -> bool:
    from codemod.facts import SHORTCUTS

    for names in view.decorators:
        if guard in names:
            return True
        if not any(n.rpartition(".")[2] in (*SHORTCUTS, "route") for n in names) and names:
            return False
    return False


def _reach(functions: dict[str, FunctionFacts], start: set[str]) -> set[str]:
    seen, todo = set(), sorted(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += sorted(c for c in functions.get(name, _EMPTY).calls if c in functions and c not in seen)
    return seen


_EMPTY = FunctionFacts("", "", frozenset(), frozenset(), frozenset(), frozenset(), frozenset(), (), True)
