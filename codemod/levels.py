"""How far each route got: bridged, native, idiomatic (no Flask left on its code path) or async
(idiomatic, and its view ``async def`` with no blocking call on its path).

A native route is idiomatic when no code that runs for it still uses Flask: its view, the
project functions the view reaches (helpers, decorators, dependencies, transitively across
modules), and the hooks and error handlers that wrap it (the app's, and its blueprint's). That is
read from the *converted* code, after every transform had its say, so whatever a transform
converts moves routes up without this module knowing about it.

The reading is cheap and syntactic, without LibCST's metadata (which costs ten parses, see
../shared/MEASURED.md): each module's imports give the qualified names its functions refer to,
a name bound inside the function is its own. A file the engine's prefilter skipped is read as
using no Flask and calling nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from codemod.visitors import Visitor
from libcst.helpers import get_full_name_for_node

from codemod.async_facts import blocking_kind

# Registering these makes a function run around the requests of an app or a blueprint.
HOOKS = frozenset({
    "before_request", "after_request", "teardown_request", "teardown_appcontext",
    "before_app_request", "after_app_request", "teardown_app_request",
    "errorhandler", "app_errorhandler", "register_error_handler",
    "url_value_preprocessor", "url_defaults", "app_url_value_preprocessor", "app_url_defaults",
})
APP_WIDE = frozenset({"before_app_request", "after_app_request", "teardown_app_request", "app_errorhandler",
                      "app_url_value_preprocessor", "app_url_defaults", "teardown_appcontext"})
# FastAPI's registrations of an exception handler (a FlaskBridge's too): the handler runs around
# every route of the app, but registering it this way is no use of Flask
FASTAPI_HOOKS = frozenset({"exception_handler", "add_exception_handler"})
# Flask's decorators that register a function with the app's Jinja environment or template
# context and return it as it was: calling the function later runs none of Flask
REGISTERS = frozenset({
    "context_processor", "app_context_processor", "template_filter", "app_template_filter",
    "template_global", "app_template_global", "template_test", "app_template_test",
})
SHOWN = 3  # functions named in a route's reason
# Registering a function through these on an object (``@auth.verify_password``, Flask-HTTPAuth's
# or the runtime's) makes it run for every route that uses the object
CALLBACK_REGISTRATIONS = frozenset({"verify_password", "verify_token", "get_user_roles", "error_handler", "get_password", "hash_password"})


def is_flask(qualified: str) -> bool:
    package = qualified.partition(".")[0]
    return package in ("flask", "werkzeug") or package.startswith("flask_")


@dataclass
class CodeFacts:
    """What the converted code of some modules uses: per function (qualified name), the Flask
    names it still uses and the names it refers to; the hooks registered, with their owner (the
    qualified name of the blueprint variable, or "app" for the whole app)."""

    flask: dict[str, set[str]] = field(default_factory=dict)
    refers: dict[str, set[str]] = field(default_factory=dict)
    hooks: list[tuple[str, str]] = field(default_factory=list)  # (owner, function)
    blueprints: set[str] = field(default_factory=set)  # qualified names of blueprint variables
    # module variables a Flask call made (``auth = HTTPTokenAuth()``), qualified -> what made them:
    # a use from another module is a use of Flask too
    flask_objects: dict[str, str] = field(default_factory=dict)
    asynchronous: set[str] = field(default_factory=set)  # module-level ``async def`` functions, and views in a factory

    def merge(self, other: CodeFacts) -> None:
        self.asynchronous |= other.asynchronous
        for name, uses in other.flask.items():
            self.flask.setdefault(name, set()).update(uses)
        for name, refs in other.refers.items():
            self.refers.setdefault(name, set()).update(refs)
        self.hooks += other.hooks
        self.blueprints |= other.blueprints
        self.flask_objects.update(other.flask_objects)

    def path_of(self, view: str, blueprint: str | None) -> set[str]:
        """Every function that runs for a request to ``view``: what it reaches, and the hooks
        of the app and of its blueprint with what they reach."""
        # a hook whose owner is no blueprint known here is taken for the app's (the safe side)
        start = {view} | {f for owner, f in self.hooks if owner == blueprint or owner not in self.blueprints}
        seen: set[str] = set()
        todo = sorted(start)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.refers:
                continue
            seen.add(name)
            todo += sorted(self.refers[name] - seen)
        return seen

    def level(self, route: dict[str, object]) -> tuple[str, str | None]:
        """A native route's level and, below idiomatic, why."""
        path = self.path_of(str(route["view"]), route.get("blueprint"))  # type: ignore[arg-type]
        def uses(name: str) -> set[str]:
            through = {self.flask_objects[r] for r in self.refers.get(name, ()) if r in self.flask_objects}
            return self.flask.get(name, set()) | through

        using = [(name, sorted({_short(u) for u in uses(name)})) for name in sorted(path) if uses(name)]
        if not using:
            return "idiomatic", None
        shown = "; ".join(f"{_short(name)} uses {', '.join(uses)}" for name, uses in using[:SHOWN])
        more = f" (and {len(using) - SHOWN} more functions)" if len(using) > SHOWN else ""
        return "native", f"Flask left on its code path: {shown}{more}"


    def blocking(self, route: dict[str, object]) -> str | None:
        """Why an ``async def`` view's path blocks the event loop: a blocking call on it (None:
        none that codemod/async_facts.py knows)."""
        path = self.path_of(str(route["view"]), route.get("blueprint"))  # type: ignore[arg-type]
        for name in sorted(path):
            for referred in sorted(self.refers.get(name, ())):
                kind = blocking_kind(referred)
                if kind is not None:
                    return f"{_short(name)} makes {kind} ({referred})"
        return None


def _short(qualified: str) -> str:
    """``flask.request.headers.get`` -> ``request``: the Flask object a use goes through;
    ``pkg.auth.login_required`` -> ``auth.login_required``: a function, without its package."""
    parts = qualified.split(".")
    if parts[0] == "flask" and len(parts) > 1:
        return parts[1]
    if is_flask(qualified):
        return ".".join(parts[:3])
    return ".".join(parts[1:]) if len(parts) > 2 else qualified


def code_facts(module: cst.Module, name: str, package: str) -> CodeFacts:
    """The facts of one module's (converted) code; ``name`` and ``package`` as Python sees them."""
    reader = _Reader(name, package)
    module.visit(reader)
    return reader.facts


def assign_levels(
    routes: list[dict[str, object]], facts: CodeFacts, sync_reasons: dict[str, str] | None = None, kept: dict[str, str] | None = None,
    hooks_kept: str | None = None,
) -> None:
    """Raise every native route whose code path has no Flask left to idiomatic, and an idiomatic
    one whose view is ``async def`` with no blocking call on its path to async (in place). Each
    native route also says whether its view is async (``async``) and, if not, why
    (``async_reason``, from the async plan: ``sync_reasons`` by view). ``kept``: why the plan
    left a use of Flask on a view's path (a helper's body read, codemod/helper_bodies.py);
    ``hooks_kept``: why the app's request hooks stay Flask's (codemod/state.py), said where Flask
    is left on a route's path."""
    for route in routes:
        if route.get("level") != "native" or not route.get("view"):
            continue
        route["level"], route["reason"] = facts.level(route)
        view = str(route["view"])
        if route["level"] == "native" and view in (kept or {}):
            route["reason"] = f"{route['reason']} ({(kept or {})[view]})"
        if route["level"] == "native" and hooks_kept:
            route["reason"] = f"{route['reason']} (the app's hooks stay Flask's: {hooks_kept})"
        blocked = facts.blocking(route) if view in facts.asynchronous else None
        route["async"] = view in facts.asynchronous and blocked is None
        if not route["async"]:
            route["async_reason"] = blocked or (sync_reasons or {}).get(view) or "its path has no async I/O to await"
        if route["level"] == "idiomatic" and route["async"]:
            route["level"] = "async"


class _Reader(Visitor):
    def __init__(self, module: str, package: str) -> None:
        self.module, self.package = module, package
        self.facts = CodeFacts()
        self.imports: dict[str, str] = {}  # local name -> qualified name (imports anywhere)
        self.top: dict[str, str] = {}  # module-level def/class name -> qualified name
        # module-level variables: those made by a Flask call (``auth = HTTPBasicAuth()``) stand
        # for that call's qualified name, so ``@auth.login_required`` is a use of Flask
        self.variables: set[str] = set()
        self.flask_made: dict[str, str] = {}
        self.stack: list[tuple[str, set[str]]] = []  # functions being read: (qualified, own names)

    # -- the module's names -------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        for statement in node.body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                self.top[statement.name.value] = f"{self.module}.{statement.name.value}"
        node.visit(_Imports(self))
        for statement in node.body:
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if not isinstance(small, cst.Assign):
                    continue
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        self.variables.add(target.target.value)
                        made = self.resolve(small.value.func) if isinstance(small.value, cst.Call) else None
                        if isinstance(small.value, cst.Call):  # ``multi = MultiAuth(token_auth, basic_auth)`` uses them
                            given = {self._variable(a.value) for a in small.value.args if isinstance(a.value, cst.Name)} - {None}
                            if given:
                                self.facts.refers.setdefault(f"{self.module}.{target.target.value}", set()).update(given)  # type: ignore[arg-type]
                        if made is not None and is_flask(made):
                            self.flask_made[target.target.value] = made
                            self.facts.flask_objects[f"{self.module}.{target.target.value}"] = made
                            if made.rpartition(".")[2] == "Blueprint":
                                self.facts.blueprints.add(f"{self.module}.{target.target.value}")

    def _absolute(self, relative: int, module: str) -> str:
        if not relative:
            return module
        base = self.package.split(".") if self.package else []
        base = base[: len(base) - (relative - 1)] if relative > 1 else base
        return ".".join([*base, module] if module else base)

    def resolve(self, node: cst.BaseExpression) -> str | None:
        dotted = get_full_name_for_node(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if any(head in own for _, own in self.stack):
            return None
        base = self.imports.get(head) or self.top.get(head) or self.flask_made.get(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    # -- functions ----------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        hooked = [owner for owner in map(self._hook_owner, node.decorators) if owner is not None]
        routed = len(self.stack) == 1 and not hooked and any(map(_is_route, node.decorators))
        if not self.stack or hooked or routed:
            # a view an app factory declares is a route's view (``module.view``) of its own
            qualified = f"{self.stack[-1][0]}.{node.name.value}" if self.stack and not routed else f"{self.module}.{node.name.value}"
            self.stack.append((qualified, _own_names(node)))
            if (len(self.stack) == 1 or routed) and node.asynchronous is not None:
                self.facts.asynchronous.add(qualified)
            self.facts.flask.setdefault(qualified, set())
            self.facts.refers.setdefault(qualified, set())
            self.facts.hooks += [(owner, qualified) for owner in hooked]
        else:  # a nested function is part of the one that defines it
            self.stack[-1][1].update(_own_names(node))
            self.stack.append((self.stack[-1][0], self.stack[-1][1]))
        for decorator in node.decorators:  # what decorates a function runs for it
            if self._hook_owner(decorator) is not None:
                func = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
                if func.attr.value in HOOKS:  # type: ignore[union-attr]  (Flask runs it: a use of Flask's hooks)
                    self.facts.flask[self.stack[-1][0]].add(f"flask.{func.attr.value}")  # type: ignore[union-attr]
            elif not self._registers(decorator):
                self._refer(decorator.decorator)
                self._callback(decorator, self.stack[-1][0])

    def _registers(self, decorator: cst.Decorator) -> bool:
        """``@app.context_processor``, ``@bp.app_template_filter("x")``: Flask's registrations that
        leave the function as it was (REGISTERS), no part of what calling it runs."""
        target = decorator.decorator
        func = target.func if isinstance(target, cst.Call) else target
        if not isinstance(func, cst.Attribute) or func.attr.value not in REGISTERS:
            return False
        qualified = self.resolve(func)
        return qualified is not None and is_flask(qualified)

    def _callback(self, decorator: cst.Decorator, function: str) -> None:
        """``@auth.verify_password`` on ``function``: whoever uses ``auth`` runs it."""
        target = decorator.decorator
        if isinstance(target, cst.Attribute) and target.attr.value in CALLBACK_REGISTRATIONS:
            owner = self._variable(target.value) if isinstance(target.value, cst.Name) else None
            if owner is not None:
                self.facts.refers.setdefault(owner, set()).add(function)

    def _variable(self, name: cst.Name) -> str | None:
        """The qualified name of a module variable (``auth``, not the Flask class that made it)."""
        if name.value in self.imports:
            return self.imports[name.value]
        return f"{self.module}.{name.value}" if name.value in self.variables else None

    def visit_Decorator(self, node: cst.Decorator) -> bool:
        return False  # read by visit_FunctionDef

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not self.stack:
            qualified = f"{self.module}.{node.name.value}"
            self.stack.append((qualified, set()))
            self.facts.flask.setdefault(qualified, set())
            self.facts.refers.setdefault(qualified, set())
        else:
            self.stack.append(self.stack[-1])

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self.annotations = getattr(self, "annotations", 0) + 1

    def leave_Annotation(self, original_node: cst.Annotation) -> None:
        self.annotations -= 1

    def visit_Name(self, node: cst.Name) -> None:
        self._refer(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self._refer(node)
        return False  # the dotted name as a whole, not its parts (children still hold calls)

    def visit_Call(self, node: cst.Call) -> None:
        self._registration(node)

    def _refer(self, node: cst.BaseExpression) -> None:
        if not self.stack:
            return
        if isinstance(node, cst.Call):
            node = node.func
        qualified = self.resolve(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
        if qualified is None:
            if isinstance(node, cst.Attribute):  # x.y() on a value: look inside for names
                node.value.visit(self)
            return
        function = self.stack[-1][0]
        if is_flask(qualified):
            self.facts.flask[function].add(qualified)
        elif not getattr(self, "annotations", 0):  # an annotation names a type, it calls nothing
            self.facts.refers[function].add(qualified)
            # ``pkg.module.function`` may name a module attribute: refer to every prefix too
            parts = qualified.split(".")
            self.facts.refers[function].update(".".join(parts[:i]) for i in range(2, len(parts)))

    # -- hooks --------------------------------------------------------------------------------
    def _hook_owner(self, decorator: cst.Decorator) -> str | None:
        call = decorator.decorator
        func = call.func if isinstance(call, cst.Call) else call
        if not isinstance(func, cst.Attribute) or func.attr.value not in HOOKS | FASTAPI_HOOKS:
            return None
        return self._owner(func)

    def _owner(self, func: cst.Attribute) -> str:
        """Whose requests a hook registered through ``func`` runs for: the qualified name of a
        blueprint variable, or "app" (an app, or what this reading cannot tell)."""
        if func.attr.value in APP_WIDE or not isinstance(func.value, cst.Name):
            return "app"
        name = func.value.value
        if name in self.variables and name not in self.imports:
            return f"{self.module}.{name}"
        return self.imports.get(name, "app")

    def _registration(self, call: cst.Call) -> None:
        """``app.register_error_handler(404, handle)``, ``app.before_request(hook)``: Flask
        runs the function, a use of Flask's hooks; ``api.add_exception_handler(404, handle)``."""
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in HOOKS | FASTAPI_HOOKS or not call.args:
            return
        target = call.args[-1].value
        qualified = self.resolve(target) if isinstance(target, (cst.Name, cst.Attribute)) else None
        if qualified is None and isinstance(target, cst.Name) and self.stack:
            qualified = f"{self.stack[-1][0]}.{target.value}"  # a function defined in this one
        if qualified is not None:
            self.facts.hooks.append((self._owner(func), qualified))
            if func.attr.value in HOOKS:
                self.facts.flask.setdefault(qualified, set()).add(f"flask.{func.attr.value}")


class _Imports(Visitor):
    def __init__(self, reader: _Reader) -> None:
        self.reader = reader

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            if alias.asname is not None:
                self.reader.imports[alias.evaluated_alias or name] = name
            else:
                self.reader.imports.setdefault(name.partition(".")[0], name.partition(".")[0])

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = get_full_name_for_node(node.module) if node.module is not None else ""
        base = self.reader._absolute(len(node.relative), module or "")
        for alias in node.names:
            name = alias.evaluated_name
            self.reader.imports[alias.evaluated_alias or name] = f"{base}.{name}" if base else name


# what registers a path operation or a Flask view
ROUTE_METHODS = frozenset({"route", "api_route", "get", "post", "put", "patch", "delete", "head", "options"})


def _is_route(decorator: cst.Decorator) -> bool:
    call = decorator.decorator
    return isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value in ROUTE_METHODS


def _own_names(function: cst.FunctionDef) -> set[str]:
    """Names a function binds itself (parameters, assignments, loop and with targets, nested
    defs): a reference to one of them is no reference to a module's name."""
    names = {p.name.value for p in (*function.params.posonly_params, *function.params.params, *function.params.kwonly_params)}
    for star in (function.params.star_arg, function.params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    collector = _Bindings()
    function.body.visit(collector)
    return names | collector.names


class _Bindings(Visitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._targets(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._targets(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._targets(node.target)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.add(node.name.value)
        return False

    def _targets(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Name):
            self.names.add(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self._targets(element.value)
