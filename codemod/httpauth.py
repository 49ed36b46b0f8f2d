"""Which Flask-HTTPAuth objects become the runtime's dependencies, and how each view takes them.

Facts (one file at a time, pure): the ``HTTPBasicAuth`` / ``HTTPTokenAuth`` / ``MultiAuth``
objects a module makes, and every use of a module-level name through the attributes
Flask-HTTPAuth has (``@auth.login_required``, ``auth.current_user()``, ``@auth.verify_password``
...), with the function it is in; any other use of a name (passing the object on) is recorded
too. The plan (whole program) converts an object only with every object it is tied to through a
``MultiAuth`` (a group), and only when every use of the group converts:

- a check on a view whose routes are all native: ``@auth.login_required[(role=..., optional=...)]``
  right below the route decorators becomes a dependency (``user: Annotated[Any, Depends(...)]``
  where the view reads ``current_user()``, ``dependencies=[Depends(...)]`` where it does not);
  below a decorator of the project's (``@audited``, which Flask ran first, refused requests
  included) it stays a decorator, the runtime's, which answers as Flask-HTTPAuth's did from
  inside that decorator;
- a blueprint's ``before_request`` hook that is nothing but the check (``@bp.before_request``
  ``@auth.login_required(...)`` ``def h(): pass``) goes: each of the blueprint's views, all
  native and in the hook's module, takes the dependency;
- ``current_user()`` only in a view with one check (Flask-HTTPAuth's user is the last check's);
- callbacks among those the runtime takes (``verify_password``, ``verify_token``,
  ``get_user_roles``, ``error_handler``) whose Flask is at most ``g.x = ...`` (then
  ``request.state.x``, where every use of ``g.x`` in the project is in those callbacks or in
  views they protect) and ``return jsonify(...)[, status]`` (then the dict);
- no Flask ``before_request`` hook but those: Flask ran it before the check, a dependency runs first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from codemod.facts import ROUTE_DECORATOR
from codemod.find import findall

FLASK_HTTPAUTH = {
    "flask_httpauth.HTTPBasicAuth": "basic", "flask_httpauth.HTTPTokenAuth": "token", "flask_httpauth.MultiAuth": "multi",
}
RUNTIME_HTTPAUTH = "flask2fastapi_runtime.httpauth"
CALLBACKS = frozenset({"verify_password", "verify_token", "get_user_roles", "error_handler"})
# what Flask-HTTPAuth objects have that the runtime's do not: a use keeps the group Flask's
OTHER_ATTRIBUTES = frozenset({"get_password", "hash_password", "username", "get_auth", "authenticate", "ensure_sync"})
KNOWN = CALLBACKS | OTHER_ATTRIBUTES | {"login_required", "current_user"}
BEFORE = frozenset({"before_request", "before_app_request"})
REQUEST_HOOKS = BEFORE | {"after_request", "after_app_request", "teardown_request", "teardown_app_request"}
G = frozenset({"flask.g", "flask.globals.g"})
JSONIFY = frozenset({"flask.jsonify", "flask.json.jsonify"})


@dataclass(frozen=True)
class AuthUse:
    obj: str  # the object's qualified name
    kind: str  # "check" | "current_user" | "callback" | "other"
    function: str | None  # the module-level function it is in (or decorates)
    detail: str = ""  # check: "view" / "hook:<blueprint>"; callback: its name; other: what
    position: int = 0  # check on a view: decorators between it and the routes
    last: bool = True  # check: the decorator next to ``def``


@dataclass
class AuthFacts:
    objects: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # qualified -> (kind, members)
    uses: list[AuthUse] = field(default_factory=list)
    # functions registered as before_request hooks: qualified -> whether it is only an auth check
    before_hooks: dict[str, bool] = field(default_factory=dict)
    # callback function -> why its Flask cannot go (None: at most g writes and jsonify returns)
    callback_problems: dict[str, str | None] = field(default_factory=dict)
    # every Flask request hook of the project (the function, "?" for one registered by a call):
    # Flask runs them around a refusal of Flask-HTTPAuth's, and none around a dependency's
    request_hooks: set[str] = field(default_factory=set)

    def merge(self, other: AuthFacts) -> None:
        self.request_hooks |= other.request_hooks
        self.objects.update(other.objects)
        self.uses += other.uses
        self.before_hooks.update(other.before_hooks)
        self.callback_problems.update(other.callback_problems)


@dataclass(frozen=True)
class Check:
    obj: str
    form: str  # "param" | "dependency" | "decorator"
    hook: str | None = None  # the hook it came from (its decorator gives the options)


@dataclass
class AuthPlan:
    objects: dict[str, str] = field(default_factory=dict)  # converted object -> kind
    checks: dict[str, Check] = field(default_factory=dict)  # view (qualified) -> its check
    hooks: set[str] = field(default_factory=set)  # hook functions that go
    callbacks: set[str] = field(default_factory=set)  # callbacks whose g / jsonify convert
    state: set[str] = field(default_factory=set)  # g attributes that become request.state's
    kept: dict[str, str] = field(default_factory=dict)  # object kept Flask-HTTPAuth's -> why


def auth_facts(module: cst.Module, name: str, names: Callable[[cst.CSTNode], set[str]]) -> AuthFacts:
    """The Flask-HTTPAuth facts of one module (``names``: its qualified-name lookup)."""
    facts = AuthFacts()
    # names bound by imports are no use
    handled: set[cst.CSTNode] = set(findall(module, m.ImportAlias()))
    for alias in list(handled):
        handled |= set(findall(alias, m.Name()))
    for statement in module.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if m.matches(small, m.Assign([m.AssignTarget(m.Name())], m.Call())):
                kind = next((FLASK_HTTPAUTH[q] for q in names(small.value.func) if q in FLASK_HTTPAUTH), None)  # type: ignore[attr-defined]
                if kind is None:
                    continue
                target = small.targets[0].target  # type: ignore[attr-defined]
                members = []
                for arg in small.value.args:  # type: ignore[attr-defined]
                    if kind == "multi":  # the objects it asks; the others' arguments are options
                        members += sorted(names(arg.value)) if isinstance(arg.value, cst.Name) and arg.keyword is None else ["?"]
                        handled.add(arg.value)
                facts.objects[f"{name}.{target.value}"] = (kind, tuple(members))
                handled.add(target)
    for function in module.body:
        if isinstance(function, cst.FunctionDef):
            _function_uses(function, f"{name}.{function.name.value}", names, facts, handled)
    # anything else that names a module-level object: the plan keeps such an object Flask-HTTPAuth's
    for node in findall(module, m.Name()):
        if node in handled:
            continue
        for qualified in names(node):
            facts.uses.append(AuthUse(qualified, "other", None, "used as a value"))
    return facts


def _function_uses(
    function: cst.FunctionDef, qualified: str, names: Callable[[cst.CSTNode], set[str]], facts: AuthFacts, handled: set[cst.CSTNode],
) -> None:
    decorators = list(function.decorators)
    routes = [i for i, d in enumerate(decorators) if _is_route(d)]
    hook_owner = next((d.decorator.value for d in decorators if m.matches(d.decorator, m.Attribute(attr=m.Name(m.MatchIfTrue(lambda n: n in BEFORE))))), None)  # type: ignore[attr-defined]
    checks = 0
    for index, decorator in enumerate(decorators):
        expression = decorator.decorator
        target = expression.func if isinstance(expression, cst.Call) else expression
        if not m.matches(target, m.Attribute(value=m.Name(), attr=m.Name())):
            continue
        attr = target.attr.value  # type: ignore[attr-defined]
        owners = names(target.value)  # type: ignore[attr-defined]
        if attr in BEFORE:
            continue
        if attr == "login_required" and owners:
            handled.add(target.value)  # type: ignore[attr-defined]
            checks += 1
            if hook_owner is not None:
                body = [s for s in function.body.body if not m.matches(s, m.SimpleStatementLine([m.Expr(m.SimpleString())]))]  # type: ignore[attr-defined]
                only = len(decorators) == 2 and all(m.matches(s, m.SimpleStatementLine([m.Pass()])) for s in body)
                facts.before_hooks[qualified] = only and not function.params.params
                blueprint = sorted(names(hook_owner)) or ["?"]
                facts.uses += [AuthUse(o, "check", qualified, f"hook:{blueprint[0]}") for o in owners]
            else:
                below = index - (routes[-1] + 1) if routes and routes[-1] < index else -1
                facts.uses += [AuthUse(o, "check", qualified, "view", below, index == len(decorators) - 1) for o in owners]
        elif attr in CALLBACKS and owners and not isinstance(expression, cst.Call):
            handled.add(target.value)  # type: ignore[attr-defined]
            facts.uses += [AuthUse(o, "callback", qualified, attr) for o in owners]
            facts.callback_problems[qualified] = _callback_problem(function, names)
    if hook_owner is not None and qualified not in facts.before_hooks:
        facts.before_hooks[qualified] = False
    if checks > 1:
        facts.uses += [AuthUse(u.obj, "other", qualified, "more than one check on a view") for u in facts.uses if u.function == qualified and u.kind == "check"]
    for call in findall(function.body, m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("current_user")), args=[])):
        handled.add(call.func.value)  # type: ignore[attr-defined]
        facts.uses += [AuthUse(o, "current_user", qualified) for o in names(call.func.value)]  # type: ignore[attr-defined]
    for attribute in findall(function, m.Attribute(value=m.Name(), attr=m.Name(m.MatchIfTrue(lambda n: n in OTHER_ATTRIBUTES)))):
        handled.add(attribute.value)  # type: ignore[attr-defined]
        facts.uses += [AuthUse(o, "other", qualified, f".{attribute.attr.value}, which the runtime's objects have not") for o in names(attribute.value)]  # type: ignore[attr-defined]
    for attribute in findall(function, m.Attribute(value=m.Name(), attr=m.Name(m.MatchIfTrue(lambda n: n in KNOWN)))):
        if attribute.value not in handled:  # ``auth.login_required`` as a value, a callback called...
            facts.uses += [AuthUse(o, "other", qualified, f".{attribute.attr.value} used another way") for o in names(attribute.value)]  # type: ignore[attr-defined]
            handled.add(attribute.value)  # type: ignore[attr-defined]


def _is_route(decorator: cst.Decorator) -> bool:
    return m.matches(decorator, ROUTE_DECORATOR)


def _callback_problem(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> str | None:
    """Why the callback's Flask cannot go (None: at most ``g.x = value`` statements and
    ``return jsonify(...)[, status]``)."""
    allowed: set[cst.CSTNode] = set()
    for assign in findall(function.body, m.Assign([m.AssignTarget(m.Attribute(value=m.Name(), attr=m.Name()))])):
        value = assign.targets[0].target.value  # type: ignore[attr-defined]
        if names(value) & G:
            allowed |= {value, assign.targets[0].target}  # type: ignore[attr-defined]
    for returned in findall(function.body, m.Return()):
        value = returned.value  # type: ignore[attr-defined]
        call = value.elements[0].value if isinstance(value, cst.Tuple) and value.elements else value
        if isinstance(call, cst.Call) and names(call.func) & JSONIFY and _jsonify_convertible(call):
            allowed.add(call.func)
    if allowed and any(n.value == "request" for n in findall(function, m.Name())):  # type: ignore[union-attr]
        return f"{function.name.value} names something request, the parameter its g would come in through"
    for node in findall(function, m.Name() | m.Attribute()):
        if node in allowed:
            continue
        flask = {q for q in names(node) if q.partition(".")[0] in ("flask", "werkzeug")}
        if flask:
            return f"{function.name.value} uses {sorted(flask)[0]}"
    return None


def _jsonify_convertible(call: cst.Call) -> bool:
    """``jsonify(k=v, ...)`` or ``jsonify(value)``: the dict (or value) ``jsonify`` was given."""
    keywords = [a for a in call.args if a.keyword is not None and not a.star]
    return len(keywords) == len(call.args) > 0 or (len(call.args) == 1 and not call.args[0].star and call.args[0].keyword is None)


def plan_httpauth(project) -> AuthPlan:
    """Which objects convert, and each view's check (module doc). ``project``: codemod.project.Project."""
    facts: AuthFacts = project.auth
    plan = AuthPlan()
    if not facts.objects:
        return plan
    groups = _groups(facts.objects)
    native, bridged = project._view_levels
    blueprint_views: dict[str, set[str]] = {}
    for plans in project._plans.values():
        for route in plans:
            if route.blueprint:
                blueprint_views.setdefault(route.blueprint, set()).add(f"{project.views[(route.path, route.function)].module}.{route.function}")
    uses = [u for u in facts.uses if u.obj in facts.objects]
    problems: dict[str, tuple[int, int, str]] = {}  # group -> (rank, order, why): the best reason to show

    def keep(obj: str, why: str, rank: int = 0) -> None:
        # a view that is not native shows last: on a second run the converted views are FastAPI's
        # and read as not native, while the reason that kept the group then is still there
        found = (rank, len(problems), why)
        problems[groups[obj]] = min(problems.get(groups[obj], found), found)

    for obj, (kind, members) in facts.objects.items():
        if "?" in members or any(member not in facts.objects for member in members):
            keep(obj, "MultiAuth of objects the converter does not know")
    checking_hooks = {h for h, only in facts.before_hooks.items() if only and any(u.function == h and u.kind == "check" for u in uses)}
    for hook in sorted(facts.request_hooks - checking_hooks):
        for obj in facts.objects:
            keep(obj, f"{hook.rpartition('.')[2]} is a Flask request hook, which ran around the refusals too")
    checks: dict[str, list[AuthUse]] = {}
    for use in uses:
        if use.kind == "other":
            name = use.obj.rpartition(".")[2]
            keep(use.obj, f"{name}{use.detail}" if use.detail.startswith(".") else f"{name} {use.detail}")
        elif use.kind == "callback" and facts.callback_problems.get(use.function or ""):
            keep(use.obj, str(facts.callback_problems[use.function or ""]))
        elif use.kind == "check" and use.detail.startswith("hook:"):
            blueprint = use.detail.partition(":")[2]
            views = blueprint_views.get(blueprint, set())
            if not views or views & bridged or any(v.rpartition(".")[0] != use.function.rpartition(".")[0] for v in views):  # type: ignore[union-attr]
                keep(use.obj, f"the hook {use.function} protects routes that are not all native ones of its module")
            for view in views:
                checks.setdefault(view, []).append(use)
        elif use.kind == "check":
            if use.function in bridged or use.function not in native or use.position < 0:
                keep(use.obj, f"{(use.function or '').rpartition('.')[2]} stays a Flask view", rank=1)
            checks.setdefault(use.function or "", []).append(use)
    readers = {u.function for u in uses if u.kind == "current_user"}
    for use in (u for u in uses if u.kind == "current_user"):
        found = checks.get(use.function or "", [])
        name = (use.function or "?").rpartition(".")[2]
        if len(found) != 1:
            keep(use.obj, f"{name} reads current_user() without one check of its own")
        elif found[0].position > 0:
            keep(use.obj, f"{name} reads current_user() under a check below another decorator")
        elif groups[found[0].obj] != groups[use.obj]:  # Flask-HTTPAuth's user is the check's, whichever object asks
            keep(use.obj, f"{name} reads the current_user() of an object its check is not tied to")
            keep(found[0].obj, f"{name} reads the current_user() of an object its check is not tied to")
    for view, found in checks.items():
        if len(found) > 1:
            for use in found:
                keep(use.obj, f"{view.rpartition('.')[2]} has more than one check")
    # g attributes: request.state's where every use is in the callbacks or the views they protect
    callbacks = {u.function for u in uses if u.kind == "callback"}
    protected = set(checks)
    state: set[str] = set()
    for function in callbacks:
        facts_of = project.functions.get(function)
        state |= set(facts_of.writes) if facts_of else set()
    for attribute in sorted(state):
        for name, function_facts in project.functions.items():
            if attribute in function_facts.writes | function_facts.reads and name not in callbacks | protected:
                for obj in facts.objects:
                    keep(obj, f"g.{attribute} is used outside the checks and the views they protect")
    for obj, (kind, _) in facts.objects.items():
        if groups[obj] in problems:
            plan.kept[obj] = problems[groups[obj]][2]
        else:
            plan.objects[obj] = kind
    if not plan.objects:
        return plan
    for view, (use,) in ((v, f) for v, f in checks.items() if len(f) == 1):
        if use.obj not in plan.objects:
            continue
        hook = use.function if use.detail.startswith("hook:") else None
        if hook is None and use.position > 0:
            form = "decorator"
        else:
            form = "param" if view in readers else "dependency"
        plan.checks[view] = Check(use.obj, form, hook)
        if hook is not None:
            plan.hooks.add(hook)
    plan.callbacks = {u.function for u in uses if u.kind == "callback" and u.obj in plan.objects}  # type: ignore[misc]
    plan.state = state
    return plan


def _groups(objects: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    """Each object's group: the objects a MultiAuth ties together convert together."""
    parent = {o: o for o in objects}

    def root(o: str) -> str:
        while parent[o] != o:
            o = parent[o]
        return o

    for obj, (_, members) in objects.items():
        for member in members:
            if member in parent:
                parent[root(member)] = root(obj)
    return {o: root(o) for o in objects}
