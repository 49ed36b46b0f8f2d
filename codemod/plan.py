"""The level of every route: native (a FastAPI path operation) or bridged (served by Flask).

A route becomes native only where that is provably faithful. The runtime registers each native
route back into Flask's url_map as a werkzeug rule derived from its FastAPI path and its view's
annotations (``{x}`` with ``x: int`` is ``<int:x>``); werkzeug keeps matching, redirecting,
answering 404 and 405 and building URLs, so the derived rule must equal the original one. So
must the endpoint, the methods and the arguments the view is called with. Everything else stays
a Flask view, which keeps working because the real Flask app serves it; the reason is reported.
This module is pure: facts in, plans out, the same in every worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codemod.facts import RouteFacts, ViewFacts

# werkzeug's rule syntax: <converter(args):name> or <name>
VARIABLE = re.compile(r"<(?:(?P<converter>[a-zA-Z_]\w*)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[a-zA-Z_]\w*)>")
FASTAPI_VARIABLE = re.compile(r"\{(?P<name>[a-zA-Z_]\w*)(?P<path>:path)?\}")
# converter -> the annotation that gives FastAPI's parameter the same type (qualified name)
ANNOTATIONS = {
    "default": "builtins.str", "string": "builtins.str", "path": "builtins.str",
    "int": "builtins.int", "float": "builtins.float", "uuid": "uuid.UUID", "any": "typing.Literal",
}
# annotation -> the converter the runtime derives from it
CONVERTERS = {"builtins.int": "int", "builtins.float": "float", "uuid.UUID": "uuid", "builtins.str": "default"}
SHORTCUT_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
LOGIN_REQUIRED = frozenset(
    f"flask_login{module}.{name}" for module in ("", ".utils") for name in ("login_required", "fresh_login_required")
)
CALLED_DECORATORS = frozenset({"flask_jwt_extended.jwt_required", "flask_jwt_extended.view_decorators.jwt_required"})
# Decorators that keep the signature but also set what Flask's add_url_rule reads from the view
# (provide_automatic_options, required_methods): the rule derived for a native route would not
# have them. Flask-CORS's cross_origin answers the preflight OPTIONS in the view this way.
RULE_DECORATORS = {
    "flask_cors.cross_origin": "its OPTIONS answer",
    "flask_cors.decorator.cross_origin": "its OPTIONS answer",
}


@dataclass(frozen=True)
class RoutePlan:
    path: str
    line: int
    function: str
    methods: tuple[str, ...]
    rule: str  # the rule Flask serves (the blueprint's prefix applied)
    endpoint: str
    level: str  # "native" | "bridged"
    reason: str | None = None
    target: str = ""  # native: the bridge or router the operation is added to
    fastapi_path: str = ""
    name: str | None = None  # native: name= to write (None: FastAPI's default, the function)
    annotations: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # x -> (qualified, values)
    blueprint: str | None = None  # the blueprint's qualified name
    slash_twin: bool = False  # native: also served at fastapi_path + "/" (strict_slashes=False)

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.path, "line": self.line, "methods": list(self.methods), "rule": self.rule,
            "endpoint": self.endpoint, "level": self.level, "reason": self.reason,
        }


class Bridged(Exception):
    """Why a route stays Flask's (raised while planning it)."""


def split_rule(rule: str) -> list[tuple[str, str | None, tuple[str, ...], str]] | None:
    """``(static text before, converter, args, variable)`` per variable, then the tail as
    ``(text, None, (), "")``; converter "default" for ``<x>`` and ``<string:x>`` alike (werkzeug
    maps both to UnicodeConverter), ``any``'s args as values. None: a variable it cannot read."""
    parts, position = [], 0
    for match in VARIABLE.finditer(rule):
        converter = match["converter"] or "default"
        args = tuple(v.strip().strip("'\"") for v in (match["args"] or "").split(",") if v.strip())
        parts.append((rule[position : match.start()], "default" if converter == "string" else converter, args, match["name"]))
        position = match.end()
    tail = rule[position:]
    if "<" in tail or ">" in tail:
        return None
    return [*parts, (tail, None, (), "")]


def flask_rule(prefix: str | None, rule: str) -> str:
    """The rule Flask registers for a blueprint's ``rule`` (BlueprintSetupState.add_url_rule)."""
    if prefix is None:
        return rule
    return "/".join((prefix.rstrip("/"), rule.lstrip("/"))) if rule else prefix


def fastapi_path(rule: str) -> str:
    """``/a/<int:x>/<path:p>`` -> ``/a/{x}/{p:path}``."""
    return VARIABLE.sub(lambda v: "{" + v["name"] + (":path" if v["converter"] == "path" else "") + "}", rule)


def derived_rule(path: str, annotations: dict[str, tuple[str, tuple[str, ...]]]) -> str:
    """The werkzeug rule the runtime registers for a FastAPI path and the view's annotations."""

    def variable(match: re.Match[str]) -> str:
        name = match["name"]
        if match["path"]:
            return f"<path:{name}>"
        qualified, values = annotations.get(name, ("builtins.str", ()))
        if qualified == "typing.Literal":
            return f"<any({', '.join(values)}):{name}>"
        converter = CONVERTERS.get(qualified, "default")
        return f"<{name}>" if converter == "default" else f"<{converter}:{name}>"

    return FASTAPI_VARIABLE.sub(variable, path)


def plan_view(project, view: ViewFacts) -> list[RoutePlan]:
    """One plan per route decorator of the project on ``view``, in order; native only when all
    of them can be (a view is one function: it is either FastAPI's or Flask's)."""
    plans, reason = [], view.problem
    for route in view.routes:
        kind = project.receiver_kind(route.receiver)
        if kind is None:
            continue  # a lookalike (a FastAPI router, another library)
        try:
            plans.append(_plan_route(project, view, route, kind))
        except Bridged as why:
            reason = reason or str(why)
            plans.append(_bridged(project, view, route, kind, str(why)))
    if reason is None:
        reason = _check_decorators(project, view) or _check_annotations(view, plans)
    if reason is None:
        return plans
    return [_bridged(project, view, r, project.receiver_kind(r.receiver), reason) for r in view.routes if project.receiver_kind(r.receiver)]


def _bridged(project, view: ViewFacts, route: RouteFacts, kind: str | None, reason: str) -> RoutePlan:
    prefix, name = None, None
    blueprint = _blueprint_of(project, route) if kind == "blueprint" else None
    if blueprint is not None:
        facts, registrations = blueprint
        name = facts.name
        given = [r.prefix for r in registrations if r.prefix is not None]
        prefix = given[0] if len(registrations) == 1 and given else facts.prefix
    endpoint = route.endpoint or view.function
    return RoutePlan(
        view.path, route.line, view.function, route.methods or (), flask_rule(prefix, route.rule or "?"),
        f"{name}.{endpoint}" if name else endpoint, "bridged", reason,
    )


def _blueprint_of(project, route: RouteFacts):
    for name in sorted(route.receiver):
        if name in project.blueprints:
            return project.blueprints[name], project.registrations.get(name, [])
    return None


def _plan_route(project, view: ViewFacts, route: RouteFacts, kind: str) -> RoutePlan:
    if route.problem:
        raise Bridged(route.problem)
    if route.rule is None:
        raise Bridged("route rule not a string literal")
    if route.methods is None:
        raise Bridged("methods= not a literal list of strings")
    endpoint, prefix, blueprint = route.endpoint or view.function, None, None
    if kind == "app":
        app = next((project.apps[n] for n in sorted(route.receiver) if n in project.apps), None)
        if app is None or app.module != view.module or not app.module_level and view.factory is None:
            raise Bridged("the app's bridge is not in the view's module")
        if view.factory is not None and not _local_to(route.receiver, view.factory):
            raise Bridged("view defined in a function, on an app not made in that function")
        target, name = app.bridge, route.endpoint
    else:
        blueprint = next(n for n in sorted(route.receiver) if n in project.blueprints)
        facts, registrations = project.blueprints[blueprint], project.registrations.get(blueprint, [])
        if facts.problem:
            raise Bridged(facts.problem)
        if not registrations:
            raise Bridged("blueprint never registered by the project")
        if len(registrations) > 1:
            raise Bridged("blueprint registered more than once")
        registration = registrations[0]
        if registration.problem:
            raise Bridged(registration.problem)
        if project.kind(set(registration.receiver)) == "blueprint":
            raise Bridged("nested blueprint")
        if view.factory is not None and not _local_to(route.receiver, view.factory):
            raise Bridged("view defined in a function, on a blueprint not made in that function")
        prefix = registration.prefix if registration.prefix is not None else facts.prefix
        endpoint = name = f"{facts.name}.{endpoint}"
        target = facts.router
    rule = flask_rule(prefix, route.rule)
    parts = split_rule(route.rule)
    if parts is None:
        raise Bridged(f"rule {route.rule!r} not readable")
    variables = {}
    for _, converter, args, variable in parts[:-1]:
        if converter not in ANNOTATIONS:
            raise Bridged(f"URL converter {converter}")
        if args and converter != "any":
            raise Bridged(f"URL converter {converter} with arguments")
        if converter == "any" and not all(re.fullmatch(r"[\w.-]+", v) for v in args):
            raise Bridged("URL converter any with values it cannot write")
        variables[variable] = (ANNOTATIONS[converter], args)
    if {p for p, _ in view.params} != set(variables):
        raise Bridged("view parameters differ from the rule's variables")
    local = route.rule if "<" not in route.rule else fastapi_path(route.rule)
    base = (prefix or "").rstrip("/")
    if base and not base.startswith("/") or not base and not local.startswith("/"):
        raise Bridged("rule without a leading slash")
    if split_rule(derived_rule(base + local, variables)) != split_rule(rule):
        raise Bridged("FastAPI's path would give werkzeug another rule")
    return RoutePlan(
        view.path, route.line, view.function, route.methods, rule, endpoint, "native",
        target=target, fastapi_path=local, name=name, annotations=variables, blueprint=blueprint,
        slash_twin=route.slash_twin,
    )


def _local_to(receiver: frozenset[str], factory: str) -> bool:
    """Whether the app or blueprint a route is on is a variable of the function ``factory``."""
    return any(name.startswith(f"{factory}.<locals>.") and "." not in name.removeprefix(f"{factory}.<locals>.") for name in receiver)


def _check_decorators(project, view: ViewFacts) -> str | None:
    for decorator in view.decorators:
        names = decorator.names
        for name in sorted(names & set(RULE_DECORATORS)):
            return f"decorator {decorator.text} gives the route {RULE_DECORATORS[name]}"
        known = (
            (not decorator.called and bool(names & (project.guards | project.passthroughs | LOGIN_REQUIRED)))
            or (decorator.called and bool(names & (project.guard_factories | CALLED_DECORATORS)))
            or (decorator.text.endswith((".login_required", ".guard")) and bool(decorator.owner & project.auth_objects))
        )
        if not known:
            return f"decorator {decorator.text} not known to keep the signature"
    return None


def _check_annotations(view: ViewFacts, plans: list[RoutePlan]) -> str | None:
    annotations = dict(view.params)
    for name in annotations if plans else ():
        implied = {p.annotations[name] for p in plans if name in p.annotations}
        if len(implied) > 1:
            return f"the view's routes give {name} different converters"
        (qualified, _), = implied
        given = annotations[name]
        if given and (qualified == "typing.Literal" or qualified not in given):
            return f"annotation of {name} differs from its URL converter"
    return None
