"""The facts recorded about one blueprint, registration or view, read from its own code.

What a single definition shows is recorded here, as plain data: a blueprint's Flask name and
own prefix, a registration's prefix and options, a view's route decorators, parameters and other
decorators. Whether a route can be native also depends on facts from other modules (how its
blueprint is registered, where a guard decorator comes from); ``codemod/plan.py`` decides that
once every file's facts are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node
from libcst.metadata import PositionProvider

from codemod.find import findall
from codemod.hook_calls import cannot_block

# Flask's route decorators: route(), and the shortcuts for one method.
SHORTCUTS = ("get", "post", "put", "patch", "delete")
ROUTE_DECORATOR = m.Decorator(m.Call(func=m.Attribute(attr=m.Name(m.MatchIfTrue(lambda n: n == "route" or n in SHORTCUTS)))))
BLUEPRINT_PARAMETERS = (
    "name", "import_name", "static_folder", "static_url_path", "template_folder", "url_prefix",
    "subdomain", "url_defaults", "root_path", "cli_group",
)
ROUTE_OPTIONS = frozenset({"methods", "endpoint"})  # any other keeps the route bridged
VIEW_CALLS = frozenset({"flask.jsonify"})  # what a factory's view may call besides a hook's (ViewFacts.loop_safe)


def literal(node: cst.BaseExpression | None) -> str | None:
    """The value of a plain (non f-) string literal, else None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def keywords(call: cst.Call) -> dict[str, cst.BaseExpression]:
    return {a.keyword.value: a.value for a in call.args if a.keyword is not None}


def stem(variable: str) -> str:
    """``auth_bp`` -> ``auth``: the part of a blueprint's variable that names its concern."""
    for suffix in ("_blueprint", "_bp", "blueprint", "bp"):
        if variable.endswith(suffix) and variable != suffix:
            return variable.removesuffix(suffix).rstrip("_")
    return variable


@dataclass(frozen=True)
class BlueprintFacts:
    """A ``bp = Blueprint(...)`` of the project."""

    name: str | None  # its Flask name (the endpoint prefix); None when not a literal
    module: str
    variable: str
    prefix: str | None  # its own url_prefix
    problem: str | None  # why its routes stay Flask's, from its definition alone
    router: str  # the router's variable next to it (one a run before inserted, or a new name)
    router_exists: bool

    @classmethod
    def of(cls, call: cst.Call, module: str, target: cst.BaseExpression, module_level: bool, existing: str | None, used: set[str]) -> "BlueprintFacts":
        variable = target.value if isinstance(target, cst.Name) else ""
        positional = [a.value for a in call.args if a.keyword is None]
        options = {**dict(zip(BLUEPRINT_PARAMETERS, positional)), **keywords(call)}
        name = literal(options.get("name"))
        prefix_node = options.get("url_prefix")
        prefix = literal(prefix_node)
        problem = None
        if not module_level or not variable:
            problem = "blueprint not defined at module level"
        elif name is None:
            problem = "blueprint name not a string literal"
        elif any(a.star for a in call.args):
            problem = "blueprint arguments not literal"
        elif prefix_node is not None and prefix is None and not m.matches(prefix_node, m.Name("None")):
            problem = "blueprint url_prefix not a string literal"
        for option in ("subdomain", "url_defaults"):
            if option in options and not m.matches(options[option], m.Name("None")):
                problem = f"blueprint option {option}"
        router = existing
        if router is None:
            router = "router" if "router" not in used else _numbered(f"{stem(variable) or 'bp'}_router", used)
            used.add(router)
        return cls(name, module, variable, prefix, problem, router, existing is not None)


def _numbered(name: str, used: set[str]) -> str:
    candidate, index = name, 2
    while candidate in used:
        candidate, index = f"{name}_{index}", index + 1
    return candidate


@dataclass(frozen=True)
class Registration:
    """One ``X.register_blueprint(bp, ...)`` call."""

    receiver: frozenset[str]  # qualified names of X
    module: str
    prefix: str | None  # url_prefix given here
    problem: str | None  # why the blueprint's routes stay Flask's, from this call alone
    line: int = 0  # where it is: Flask adds the blueprint's app-wide hooks to the app's there

    @classmethod
    def of(cls, call: cst.Call, receiver: set[str], module: str) -> "Registration":
        options = keywords(call)
        problem = None
        if any(a.star for a in call.args) or len([a for a in call.args if a.keyword is None]) > 1:
            problem = "blueprint registered with options not literal"
        for option in sorted(set(options) - {"url_prefix"}):
            problem = f"blueprint registered with {option}="
        prefix = literal(options.get("url_prefix"))
        if "url_prefix" in options and prefix is None and not m.matches(options["url_prefix"], m.Name("None")):
            problem = "registration url_prefix not a string literal"
        return cls(frozenset(receiver), module, prefix, problem)


@dataclass(frozen=True)
class RouteFacts:
    """One ``@x.route(rule, ...)`` / ``@x.get(rule)`` decorator."""

    receiver: frozenset[str]  # qualified names of x
    line: int
    rule: str | None  # None: not a string literal
    methods: tuple[str, ...] | None  # upper case, in order; None: not a literal list
    endpoint: str | None  # endpoint= given
    problem: str | None  # why it stays Flask's, from the decorator alone
    # ``strict_slashes=False`` on a rule without a trailing slash: werkzeug also serves the URL
    # with one there, unredirected (the native route gets a twin at that URL)
    slash_twin: bool = False


@dataclass(frozen=True)
class DecoratorFacts:
    """A decorator below a view's route decorators: what FastAPI would see the signature of."""

    text: str  # its dotted name, for the report
    names: frozenset[str]  # qualified names of the decorator (of its function when called)
    called: bool
    owner: frozenset[str]  # qualified names of ``x`` in ``@x.login_required``


@dataclass(frozen=True)
class ViewFacts:
    path: str
    module: str
    function: str
    routes: tuple[RouteFacts, ...]
    problem: str | None  # why the view stays Flask's, from its definition alone
    params: tuple[tuple[str, frozenset[str]], ...]  # name, qualified names of its annotation
    decorators: tuple[DecoratorFacts, ...]
    # the module-level function it is defined in directly (an app factory's view), else None: such
    # a view is native only on an app or blueprint of that same function (codemod/plan.py)
    factory: str | None = None
    # a factory's view with no decorator but its routes, every call of which cannot block
    # (codemod/hook_calls.py, jsonify allowed): async where the project's views go async
    loop_safe: bool = False


def _route(visitor, decorator: cst.Decorator, names: Callable[[cst.CSTNode], set[str]]) -> RouteFacts:
    call = decorator.decorator
    assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
    options = keywords(call)
    positional = [a.value for a in call.args if a.keyword is None]
    shortcut = call.func.attr.value
    methods: tuple[str, ...] | None = (shortcut.upper(),) if shortcut != "route" else ("GET",)
    problem = None
    rule = literal(positional[0]) if positional else None
    strict = options.get("strict_slashes")
    slash_twin = bool(rule) and not rule.endswith("/") and strict is not None and m.matches(strict, m.Name("False"))  # type: ignore[union-attr]
    if any(a.star for a in call.args) or len(positional) != 1:
        problem = "route arguments not literal"
    for option in sorted(set(options) - ROUTE_OPTIONS - ({"strict_slashes"} if slash_twin else set())):
        problem = f"route option {option}"
    if "methods" in options:
        value = options["methods"]
        elements = value.elements if isinstance(value, (cst.List, cst.Tuple, cst.Set)) else None
        strings = [literal(e.value) for e in elements] if elements is not None else [None]
        methods = None if None in strings or not strings else tuple(dict.fromkeys(s.upper() for s in strings))  # type: ignore[union-attr]
        if shortcut != "route":
            problem = "methods= on a shortcut decorator"
    endpoint = literal(options.get("endpoint"))
    if "endpoint" in options and endpoint is None:
        problem = "endpoint not a string literal"
    line = visitor.get_metadata(PositionProvider, decorator).start.line
    return RouteFacts(frozenset(names(call.func.value)), line, rule, methods, endpoint, problem, slash_twin)


def _decorator(decorator: cst.Decorator, names: Callable[[cst.CSTNode], set[str]]) -> DecoratorFacts:
    expression = decorator.decorator
    called = isinstance(expression, cst.Call)
    target = expression.func if isinstance(expression, cst.Call) else expression
    owner = target.value if isinstance(target, cst.Attribute) else None
    return DecoratorFacts(
        get_full_name_for_node(target) or "(expression)",
        frozenset(names(target)),
        called,
        frozenset(names(owner)) if owner is not None else frozenset(),
    )


def view_facts(
    visitor, function: cst.FunctionDef, path: str, module: str, module_level: bool, factory: str | None = None
) -> ViewFacts | None:
    """The facts of a function with route decorators (None for any other function); ``factory``:
    the module-level function it is defined in directly, if it is."""
    decorators = list(function.decorators)
    is_route = [m.matches(d, ROUTE_DECORATOR) for d in decorators]
    if not any(is_route):
        return None

    def names(node: cst.CSTNode) -> set[str]:
        return visitor._names(node)

    first = is_route.index(True)
    routes = tuple(_route(visitor, d, names) for d, r in zip(decorators, is_route) if r)
    below = tuple(_decorator(d, names) for d, r in zip(decorators[first:], is_route[first:]) if not r)
    params = function.params
    problem = None
    if not module_level and factory is None:
        problem = "view not defined at module level"
    elif function.asynchronous is not None:
        problem = "async view"
    elif params.posonly_params or isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
        problem = "view takes positional-only, *args or **kwargs parameters"
    elif any(p.default is not None for p in (*params.params, *params.kwonly_params)):
        problem = "view parameter with a default"
    annotated = tuple(
        (p.name.value, frozenset(names(p.annotation.annotation)) if p.annotation is not None else frozenset())
        for p in (*params.params, *params.kwonly_params)
    )
    unreadable = [p.name.value for p in (*params.params, *params.kwonly_params) if p.annotation is not None and not names(p.annotation.annotation)]
    if problem is None and unreadable:
        problem = f"annotation of {unreadable[0]} not a plain type"
    loop_safe = factory is not None and not below and cannot_block(function, names, visitor.receivers, VIEW_CALLS)
    return ViewFacts(path, module, function.name.value, routes, problem, annotated, below, factory, loop_safe)


def guard_kind(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> str | None:
    """'guard' for a check-then-call decorator, 'factory' for a function that returns one."""
    if is_guard(function, names):
        return "guard"
    body = _body(function)
    inner = body[0] if len(body) == 2 and _returns_name(body[1], body[0]) else None
    if isinstance(inner, cst.FunctionDef) and is_guard(inner, names):
        return "factory"
    return None


# What a decorator may read of the view it wraps and still see the same in a converted view
# (the same ``def``, in the same module)
VIEW_NAMES = frozenset({"__name__", "__qualname__", "__module__", "__doc__"})


def is_passthrough(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> bool:
    """A decorator shaped as ``is_guard`` whose statements before the call also read the view's
    name (``AUDIT.append(view.__name__)``): it keeps the signature and arguments too, but it is
    no check that could become a dependency."""
    return is_guard(function, names, VIEW_NAMES)


def is_guard(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]], view_attributes: frozenset[str] = frozenset()) -> bool:
    """``def deco(view)`` whose body is ``@functools.wraps(view) def wrapped(*args, **kwargs):
    <checks>; return view(*args, **kwargs)`` and ``return wrapped``, the checks using neither
    the view nor its arguments: the view keeps its signature (``__wrapped__``) and arguments.
    ``view_attributes``: attributes of the view the checks may read all the same."""
    params = function.params
    if len(params.params) != 1 or isinstance(params.star_arg, cst.Param):
        return False
    if params.kwonly_params or params.star_kwarg is not None or params.posonly_params:
        return False
    view = params.params[0].name.value
    body = _without_wraps_import(_body(function))
    if len(body) != 2 or not isinstance(body[0], cst.FunctionDef) or not _returns_name(body[1], body[0]):
        return False
    wrapped = body[0]
    if len(wrapped.decorators) != 1 or not isinstance(wrapped.decorators[0].decorator, cst.Call):
        return False
    wraps = wrapped.decorators[0].decorator
    if "functools.wraps" not in names(wraps.func) or not m.matches(wraps, m.Call(args=[m.Arg(m.Name(view))])):
        return False
    inner = wrapped.params
    if inner.params or inner.posonly_params or inner.kwonly_params:
        return False
    if not isinstance(inner.star_arg, cst.Param) or not isinstance(inner.star_kwarg, cst.Param):
        return False
    args, kwargs = inner.star_arg.name.value, inner.star_kwarg.name.value
    statements = list(wrapped.body.body)  # type: ignore[union-attr]
    call = m.Call(func=m.Name(view), args=[m.Arg(m.Name(args), star="*"), m.Arg(m.Name(kwargs), star="**")])
    if not statements or not m.matches(statements[-1], m.SimpleStatementLine([m.Return(call)])):
        return False
    read = m.Attribute(value=m.Name(view), attr=m.Name(m.MatchIfTrue(lambda n: n in view_attributes)))
    allowed = {a.value for s in statements[:-1] for a in findall(s, read)}  # type: ignore[union-attr]
    used = {n.value for s in statements[:-1] for n in findall(s, m.Name()) if n not in allowed}  # type: ignore[union-attr]
    return not used & {view, args, kwargs} and not any(findall(s, m.Yield() | m.Await()) for s in statements[:-1])


def _without_wraps_import(body: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """The statements after a leading ``from functools import wraps`` (or ``import functools``):
    a decorator that imports what it wraps with locally is the same decorator, the import binds
    one name and runs nothing of the project's."""
    functools_import = m.SimpleStatementLine([
        m.ImportFrom(module=m.Name("functools"), names=[m.ImportAlias(m.Name("wraps"), asname=None)], relative=[])
        | m.Import([m.ImportAlias(m.Name("functools"), asname=None)])
    ])
    while body and m.matches(body[0], functools_import):
        body = body[1:]
    return body


def _body(function: cst.FunctionDef) -> list[cst.BaseStatement]:
    """A function's statements, its docstring left out."""
    body = list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []
    if body and m.matches(body[0], m.SimpleStatementLine([m.Expr(m.SimpleString() | m.ConcatenatedString())])):
        body = body[1:]
    return body


def _returns_name(statement: cst.BaseStatement, function: cst.BaseStatement) -> bool:
    """``return f`` for the function ``f`` defined just before."""
    return isinstance(function, cst.FunctionDef) and m.matches(
        statement, m.SimpleStatementLine([m.Return(m.Name(function.name.value))])
    )


# What a Flask view may return that fixes its own status, whatever status its route declares:
# a response object (make_response keeps its status) or a tuple that gives one.
FLASK_RESPONSES = frozenset(
    {
        "flask.jsonify", "flask.json.jsonify", "flask.make_response", "flask.helpers.make_response",
        "flask.redirect", "flask.helpers.redirect", "werkzeug.utils.redirect", "flask.Response",
        "flask.wrappers.Response", "werkzeug.Response", "werkzeug.wrappers.Response",
        "werkzeug.wrappers.response.Response", "flask.send_file", "flask.helpers.send_file",
        "flask.send_from_directory", "flask.helpers.send_from_directory", "flask.abort",
        "flask.helpers.abort", "werkzeug.exceptions.abort",
    }
)


def has_own_status(
    value: cst.BaseExpression, names: Callable[[cst.CSTNode], set[str]], responders: frozenset[str] | set[str] = frozenset()
) -> bool:
    """Whether a returned ``value`` fixes its status in Flask's make_response: a call of
    ``FLASK_RESPONSES`` or of a project function in ``responders``, ``(body, 201)``,
    ``(body, status, headers)``, or ``(response, anything)``."""
    if isinstance(value, cst.Call):
        called = names(value.func)
        return bool(called & FLASK_RESPONSES or called & responders)
    if not isinstance(value, cst.Tuple) or any(isinstance(e, cst.StarredElement) for e in value.elements):
        return False
    elements = [e.value for e in value.elements]
    if len(elements) == 3:
        return True
    if len(elements) != 2:
        return False
    return isinstance(elements[1], cst.Integer) or has_own_status(elements[0], names, responders)


def responder(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> bool:
    """A function every return of which fixes its status (``return jsonify(error=m), 400``): a
    view returning what it returns answers with that status whatever its route declares."""
    returns, generator = _returns(function, nested=False)
    if not returns or generator:
        return False
    return all(r.value is not None and has_own_status(r.value, names) for r in returns)


def answers_early(guard: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> bool:
    """Whether a guard decorator (or a factory of one) may answer in the view's stead with a value
    that does not fix its status: under the route's ``status_code=201`` that answer's 200 would
    become 201. Its structural returns (``return view(*args, **kwargs)``, ``return wrapped``) are
    not answers."""
    structural = m.Return(m.Name() | m.Call(args=[m.Arg(star="*"), m.Arg(star="**")]))
    returns, _ = _returns(guard, nested=True)
    return any(r.value is None or not m.matches(r, structural) and not has_own_status(r.value, names) for r in returns)


def _returns(function: cst.FunctionDef, nested: bool) -> tuple[list[cst.Return], bool]:
    """The returns of a function (and of the functions in it with ``nested``), and whether it
    yields."""
    returns: list[cst.Return] = []
    generator = False

    class Returns(Visitor):
        def visit_Return(self, node: cst.Return) -> None:
            returns.append(node)

        def visit_Yield(self, node: cst.Yield) -> None:
            nonlocal generator
            generator = True

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return nested or node is function

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

    function.visit(Returns())
    return returns, generator
