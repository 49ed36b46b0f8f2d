"""A helper's read of the request's JSON body, and which native views can hand the body to it.

A view often leaves reading its body to a helper::

    def _read_content():
        data = request.get_json(silent=True) or {}
        if not isinstance(data, dict):
            abort(400)
        return data.get("content")

The helper is what keeps the view on Flask's request. Where ``codemod/bodies.py`` proves the
helper's uses of ``data`` hold for a model (a field per key it reads, as for a view), the view
takes the body as ``data: Annotated[ReadContentBody | None, FlaskJson(silent=True,
or_empty=True)] = None`` and passes it on, and the helper takes ``data`` as a parameter in
place of its read. Every function between the view and the helper takes it too.

The view's parameter is read right before the view runs; the helper read the body when it was
called. That is the same answer only when the read cannot answer by itself, or when nothing the
view did before the call could answer first or have effects:

- a read that is not ``silent`` answers a body that is not JSON with Flask's 415 or 400;
- a ``silent`` read still answers 413 for a body over ``MAX_CONTENT_LENGTH`` (werkzeug raises it
  when the body is read, whatever ``silent`` says), so where the project may set that limit;
- before the call: the view's decorators (they run after the read now), and any statement
  before the one calling the helper (``get_owned_conversation`` answering 404).

So such a read is threaded as a deferred one where native views call the helper directly and
the helper's read is its first statement (``bodies.py`` checks that): the view's parameter is
``FlaskJson(..., deferred=True)``, a reader, and the call passes ``data=data.read()``: the body is
read, and what reading it answers (413, 415, 400) comes, where the helper read it, after
whatever the view did before (the runtime's ``json_body.BodyReader``). Through functions in
between, such a read stays the helper's. The model is the
helper module's, so the helper and every function that passes its body are in one module. All
or nothing per
helper: one that is also called where no body can be handed over (a bridged view, module code,
a method, a test, a file the facts pass did not read, a callback, a string naming it) keeps its
read, and its callers pass nothing. This module is pure: facts in, plan out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from codemod.find import findall
from codemod.state import FunctionFacts
from codemod.view_tree import Names, Tree, parameter_names, request_references

# the names the body goes by where the helper's own variable is taken: the first that is free
NAMES = ("json_body", "request_body", "body_data")


@dataclass(frozen=True)
class BodyFacts:
    """How a module-level function reads the request's JSON, and what it calls first."""

    read: tuple[bool, bool, bool] | None = None  # (force, silent, or_empty) of a read proven for a model
    variable: str | None = None  # the name the read was assigned to
    problem: str | None = None  # why a read of the body it has stays Flask's
    quiet: bool = False  # nothing before the read can answer or fail (codemod/view_tree.py)
    first_calls: frozenset[str] = frozenset()  # called in the first statement, nothing evaluated before
    identifiers: frozenset[str] = frozenset()  # names it uses or binds


def body_facts(function: cst.FunctionDef, names: Names) -> BodyFacts:
    from codemod import bodies  # the body plan reads view_tree's Tree, as codemod/reads.py does

    tree = Tree(function)
    identifiers = frozenset(n.value for n in findall(function, m.Name()))  # type: ignore[union-attr]
    first = _first_calls(function, names)
    readers = [r for r in request_references(tree, names) if bodies._reader(tree, r) is not None]
    if not readers:
        return BodyFacts(first_calls=first, identifiers=identifiers)
    body = bodies.plan_body(function, tree, names, bool(function.decorators), readers, set(), parameter_names(function), lambda call: None)
    if body is None or not body.fields:
        return BodyFacts(problem="its uses of the body are not proven to hold for a model", first_calls=first, identifiers=identifiers)
    quiet = tree.quiet_before(bodies._reader(tree, readers[0]), set())  # type: ignore[arg-type]
    return BodyFacts((body.force, body.silent, body.or_empty), body.variable, None, quiet, first, identifiers)


def _first_calls(function: cst.FunctionDef, names: Names) -> frozenset[str]:
    """The functions called by the first statement of the body (after a docstring) when that
    call is all it evaluates before the callee runs: ``x = f(a, 1)``, ``a, b = f(k=a)``,
    ``f()``, ``return f(a)``, each argument a name or a literal."""
    statements = list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []
    if statements and m.matches(statements[0], m.SimpleStatementLine([m.Expr(m.SimpleString() | m.ConcatenatedString())])):
        statements = statements[1:]
    if not statements or not m.matches(statements[0], m.SimpleStatementLine([m.DoNotCare()])):
        return frozenset()
    small = statements[0].body[0]  # type: ignore[attr-defined]
    value = getattr(small, "value", None)
    if isinstance(small, cst.Assign) and not all(m.matches(t.target, m.Name() | m.Tuple()) for t in small.targets):
        return frozenset()
    plain = m.Name() | m.SimpleString() | m.Integer() | m.Float()
    if not (isinstance(value, cst.Call) and m.matches(value.func, m.Name() | m.Attribute(m.Name()))):
        return frozenset()
    if any(a.star or not m.matches(a.value, plain) for a in value.args):
        return frozenset()
    return frozenset(names(value.func))


@dataclass
class HelperBodyPlan:
    # helper (qualified) -> (force, silent, or_empty) of the read it no longer makes
    readers: dict[str, tuple[bool, bool, bool]] = field(default_factory=dict)
    # function (qualified) -> the name it takes the body under (native views: a FlaskJson parameter)
    params: dict[str, str] = field(default_factory=dict)
    # function (qualified) -> the reading helper whose body it takes (its model's)
    source: dict[str, str] = field(default_factory=dict)
    views: frozenset[str] = frozenset()
    # native view -> why a helper it calls keeps Flask's read
    refused: dict[str, str] = field(default_factory=dict)
    # native views whose parameter is a reader, read where they call the helper (module doc)
    deferred: frozenset[str] = frozenset()


def plan_helper_bodies(
    functions: dict[str, FunctionFacts],
    facts: dict[str, BodyFacts],
    native_views: set[str],
    bridged_views: set[str],
    decorated_views: set[str],
    limits_body: bool,
    called_outside: set[str] = frozenset(),  # type: ignore[assignment]
    unseen_calls: set[str] = frozenset(),  # type: ignore[assignment]
    referenced: set[str] = frozenset(),  # type: ignore[assignment]
    named: set[str] = frozenset(),  # type: ignore[assignment]
) -> HelperBodyPlan:
    """The plan (module doc). ``decorated_views``: native views with decorators under their
    routes. ``limits_body``: the project may set MAX_CONTENT_LENGTH (a silent read answers 413)."""
    plan = HelperBodyPlan()
    callers: dict[str, set[str]] = {}
    for f in functions.values():
        for called in f.calls | f.nested_calls:
            callers.setdefault(called, set()).add(f.qualified)

    def movable(name: str) -> bool:
        f = functions.get(name)
        return (
            f is not None and f.sync and name.rpartition(".")[0] == f.module and not f.decorators
            and not (f.getter or f.teardown or f.guard) and name not in called_outside and name not in referenced
            and name.rpartition(".")[2] not in unseen_calls and name.rpartition(".")[2] not in named
        )

    for helper in sorted(n for n, b in facts.items() if b.read is not None and n not in native_views and n not in bridged_views):
        read = facts[helper].read
        assert read is not None
        # what the read can answer by itself (None: nothing)
        why = "not silent, it answers 415/400" if not read[1] else "it answers 413 over MAX_CONTENT_LENGTH" if limits_body else None
        chain, reason = _chain(helper, callers, facts, native_views, movable, why, decorated_views)
        defer = False
        if why and reason is not None and facts[helper].quiet:
            # read before the view it would answer too early: deferred, where the views call it
            direct, direct_reason = _chain(helper, callers, facts, native_views, movable, None, decorated_views)
            if direct_reason is None and direct <= native_views:
                chain, reason, defer = direct, None, True
        if why and not facts[helper].quiet:
            reason = f"the read ({why}) would come before what {helper.rpartition('.')[2]} does first"
        views = {v for v in chain if v in native_views}
        if reason is not None or not views:
            for view in sorted(views | {c for c in callers.get(helper, set()) if c in native_views}):
                plan.refused.setdefault(view, f"{helper.rpartition('.')[2]} keeps reading the JSON body: {reason or 'no native view calls it'}; all its callers take it or none")
            continue
        module = helper.rpartition(".")[0]
        if any(c.rpartition(".")[0] != module for c in chain):
            for view in sorted(views):
                plan.refused.setdefault(view, f"{helper.rpartition('.')[2]} keeps reading the JSON body: its callers are not all in its module")
            continue
        if any(v in plan.source or (facts.get(v) and facts[v].read) for v in chain):
            for view in sorted(views):
                plan.refused.setdefault(view, "it reaches more than one read of the JSON body")
            continue
        # the helper's own variable, unless a function that passes the body on uses that name
        others = set().union(*(facts[c].identifiers if c in facts else frozenset() for c in chain))
        own = facts[helper].variable or "data"
        used = others | facts[helper].identifiers
        name = own if own not in others else next(n for n in (*NAMES, *(f"json_body_{i}" for i in range(2, 100))) if n not in used)
        plan.readers[helper] = read
        if defer:
            plan.deferred |= views
        for function in chain | {helper}:
            plan.params[function] = name
            plan.source[function] = helper
    plan.views = frozenset(v for v in plan.params if v in native_views)
    return plan


def _chain(helper, callers, facts, native_views, movable, why, decorated_views) -> tuple[set[str], str | None]:  # type: ignore[no-untyped-def]
    """The functions that take the body from the helper up to the native views, or why not.
    ``why``: what the read answers by itself (then every call must come first)."""
    if not movable(helper):
        return set(), "the helper is also called where no body can be handed over"
    chain: set[str] = set()
    todo = [helper]
    while todo:
        name = todo.pop()
        if name != helper and not callers.get(name):
            return chain, f"{name.rpartition('.')[2]} calls it and is no view nor called by one"
        for caller in sorted(callers.get(name, set())):
            if caller in chain:
                continue
            if why and name not in facts.get(caller, BodyFacts()).first_calls:
                return chain, f"the read ({why}) would come before what {caller.rpartition('.')[2]} does first"
            if caller in native_views:
                if why and caller in decorated_views:
                    return chain, f"the read ({why}) would come before the decorators of {caller.rpartition('.')[2]}"
                chain.add(caller)
                continue
            if not movable(caller) or caller not in facts:
                return chain, f"{caller.rpartition('.')[2]} calls it and cannot be given the body"
            chain.add(caller)
            todo.append(caller)
    return chain, None

