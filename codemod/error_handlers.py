"""Flask error handlers, and which of them can become FastAPI exception handlers.

A handler is one function, called by Flask as ``handler(error)``; converted, it is called by the
runtime (``flask2fastapi_runtime.handlers``) as ``handler(request, exc)`` with the exception the
FastAPI way. So a handler converts with all its registrations or not at all: every registration
must be one the bridge can take (an app's ``errorhandler``/``register_error_handler``, the app
known to have a bridge at that point), nothing else may call or hold the function, and its body
must read the exception and use Flask only in ways that have a provably equal FastAPI form.

The first pass records, per file (``ErrorFacts``): every registration (``@x.errorhandler(key)``,
``x.register_error_handler(key, f)``, also in a ``for code in (400, 401):`` loop, and
``@bp.app_errorhandler(key)``), with its keys and the receiver; how every function of one
parameter reads it and what it returns (``codemod/handler_body.py``); the project's classes;
every call with what it passes (what a function's ``app`` parameter receives); and every other
use of a name, so that a handler used in any other way stays Flask's.
``plan_handlers`` decides once every file's facts are merged. The readers of single nodes below
are shared with ``transforms/error_handlers.py``, which writes what was decided.

The exception, by the keys of the handler's registrations (the runtime's ``as_fastapi``):

- only HTTP errors (codes other than 500, werkzeug's HTTPException): Starlette's HTTPException;
  ``exc.code`` is ``exc.status_code``, ``exc.description`` ``exc.detail``; ``exc.name`` is
  ``HTTPStatus(exc.status_code).phrase`` where every key is a code whose phrase is werkzeug's
  name on every Python (not 413, 414, 416, 418, 422), else the runtime's
  ``status_name(exc.status_code)``, werkzeug's name; werkzeug's ``exc.get_headers()`` is
  ``(exc.headers or {}).items()`` in a loop that skips Content-Type, the one header it adds;
- only exception classes (the project's, Python's): the exception as raised, read as before;
- anything else (500, ``Exception``, a mix): the handler must not read it.

What its body may do is ``codemod/handler_body.py``'s to say. A function the handler hands its
exception to (``code = _error_code(exc)``) is read as part of it: its uses of the exception
count as the handler's, and it is converted with the handler (the same attributes renamed),
which it can be only when every call of it in the project is such a hand-over by a handler that
converts, all of one mode. A handler that logs through ``current_app.logger`` converts where the
project shows the app's name (the call becomes the module logger's, ``transforms/app_logger.py``);
one whose JSON needs the runtime's ``FlaskJSONResponse`` does not where the app sets its own
JSON provider (``app.json = ...``), which FlaskJSONResponse does not know.

A handler may return the answer of a project function (``return error_body("x", msg, 404)``)
every return of which is ``jsonify(x)`` or ``jsonify(x), status`` (``Responder``): that function
then answers ``FlaskJSONResponse(x, status_code=status)``, jsonify's bytes as a Starlette response,
which the handler returns as it is. It converts with its handlers, so only where every call of it
in the project is such a return of a handler that converts, and each gives its status an int
(a literal, the exception's code).
"""

from __future__ import annotations

import builtins
import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m
from codemod.names import FullNames

from codemod.blueprint_handlers import app_wide_of, blueprint_of
from codemod.find import findall
from codemod.handler_body import Body, bindings, is_flask, is_jsonify, jsonify_content, read_body
from codemod.vendor import canonical

Names = Callable[[cst.CSTNode], set[str]]
# why the template a handler renders does not render alike without Flask: (module, name, passed) -> why
Templates = Callable[[str, str, frozenset[str]], str | None]

DECORATORS = frozenset({"errorhandler", "app_errorhandler"})
REGISTER = "register_error_handler"
HTTP_EXCEPTION = frozenset({"werkzeug.exceptions.HTTPException"})
EXCEPTION = "builtins.Exception"
# werkzeug's exception classes that stand for their code in Flask's handler map (its
# default_exceptions): a handler registered for NotFound is the handler of 404
WERKZEUG_CODES = {
    "BadRequest": 400, "Unauthorized": 401, "Forbidden": 403, "NotFound": 404, "MethodNotAllowed": 405,
    "NotAcceptable": 406, "RequestTimeout": 408, "Conflict": 409, "Gone": 410, "LengthRequired": 411,
    "PreconditionFailed": 412, "RequestEntityTooLarge": 413, "RequestURITooLarge": 414,
    "UnsupportedMediaType": 415, "RequestedRangeNotSatisfiable": 416, "ExpectationFailed": 417,
    "ImATeapot": 418, "MisdirectedRequest": 421, "UnprocessableEntity": 422, "Locked": 423,
    "FailedDependency": 424, "PreconditionRequired": 428, "TooManyRequests": 429,
    "RequestHeaderFieldsTooLarge": 431, "UnavailableForLegalReasons": 451, "InternalServerError": 500,
    "NotImplemented": 501, "BadGateway": 502, "ServiceUnavailable": 503, "GatewayTimeout": 504,
    "HTTPVersionNotSupported": 505,
}
CODES = frozenset(WERKZEUG_CODES.values())
# codes whose werkzeug name (exc.name) is http.HTTPStatus's phrase on Python 3.10 to 3.13
SAME_PHRASE = CODES - {413, 414, 416, 418, 422}


@dataclass(frozen=True)
class Key:
    """One key a handler is registered for: ``code`` (an int; werkzeug's classes for one too),
    ``http`` (werkzeug's HTTPException), ``exception`` (Exception) or ``name`` (anything else,
    a class if the plan can tell, by its qualified names)."""

    kind: str
    code: int | None = None
    names: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Receiver:
    """What a registration is called on: its qualified names and, when it is a parameter of the
    function the registration is in, that function, the parameter's position and annotation."""

    names: frozenset[str]
    function: str | None = None
    index: int = -1
    param: str = ""
    annotation: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Registration:
    handler: str  # qualified name of the registered function
    method: str  # errorhandler | app_errorhandler | register_error_handler
    receiver: Receiver
    keys: tuple[Key, ...]
    problem: str | None  # why it cannot be the bridge's, from its own code


@dataclass(frozen=True)
class Call:
    """A call: the qualified names of what is called and of each argument (``starred``: an
    argument is ``*args`` or ``**kwargs``, which says nothing of what a parameter gets)."""

    callee: frozenset[str]
    positional: tuple[frozenset[str], ...]
    keywords: tuple[tuple[str, frozenset[str]], ...]
    starred: bool


@dataclass(frozen=True)
class Responder:
    """A function every return of which is ``jsonify(x)`` or ``jsonify(x), status`` (``status``
    an int literal or one of its parameters, never bound anew): ``problem`` says why it is not."""

    params: tuple[str, ...]  # its positional parameters
    statuses: frozenset[str]  # the parameters it returns as the status
    problem: str | None = None


@dataclass
class ErrorFacts:
    registrations: list[Registration] = field(default_factory=list)
    bodies: dict[str, Body] = field(default_factory=dict)
    responders: dict[str, Responder] = field(default_factory=dict)  # by qualified name
    classes: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    # names used other than called or registered as a handler (held, passed, returned...)
    references: set[str] = field(default_factory=set)

    def merge(self, other: ErrorFacts) -> None:
        self.registrations += other.registrations
        self.bodies.update(other.bodies)
        self.responders.update(other.responders)
        self.classes |= other.classes
        self.calls += other.calls
        self.references |= other.references


@dataclass(frozen=True)
class HandlerPlan:
    convert: bool
    reason: str | None = None
    mode: str = ""  # "http" | "same" | "unused" (module doc)
    path: str = ""  # the file that defines the handler ("" when the project does not)
    keys: tuple[Key, ...] = ()  # what it is registered for, every registration's
    helpers: tuple[str, ...] = ()  # the functions it hands its exception to, converted with it
    # the functions whose answer it returns (``return error_body(...)``): their ``jsonify(x),
    # status`` become the runtime's FlaskJSONResponse, converted with it
    responders: tuple[str, ...] = ()
    # the qualified name of the blueprint variable it is registered on, when it is a blueprint's:
    # handed to the runtime's ``blueprint_handlers(bp, {key: handler})`` (codemod/blueprint_handlers.py)
    blueprint: str = ""
    # a blueprint's app-wide handler (``@bp.app_errorhandler(418)``): registered with the app where
    # the project registers the blueprint (``blueprint`` is then that blueprint variable)
    app_wide: bool = False

    def to_json(self, handler: str) -> dict[str, object]:
        return {"file": self.path, "handler": handler, "fastapi": self.convert, "reason": self.reason}


# -- readers of one node, shared with the transform ------------------------------------------------
def registration_decorator(decorator: cst.Decorator) -> tuple[cst.BaseExpression, str, cst.BaseExpression | None] | None:
    """``@x.errorhandler(key)`` / ``@x.app_errorhandler(key)``: (x, method, key)."""
    call = decorator.decorator
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    if method not in DECORATORS:
        return None
    key = call.args[0].value if len(call.args) == 1 and not call.args[0].star and call.args[0].keyword is None else None
    return call.func.value, method, key


def registration_call(call: cst.Call) -> tuple[cst.BaseExpression, cst.BaseExpression | None, cst.BaseExpression | None] | None:
    """``x.register_error_handler(key, handler)``: (x, key, handler); None for anything else."""
    if not isinstance(call.func, cst.Attribute) or call.func.attr.value != REGISTER:
        return None
    args = [a for a in call.args if a.keyword is None and not a.star]
    if len(args) != 2 or len(call.args) != 2:
        return call.func.value, None, None
    return call.func.value, args[0].value, args[1].value


def loop_codes(loop: cst.For, name: str) -> tuple[int, ...] | None:
    """The codes of ``for name in (400, 401):``; None for another loop."""
    if not m.matches(loop.target, m.Name(name)) or loop.orelse is not None or loop.asynchronous is not None:
        return None
    if not isinstance(loop.iter, (cst.Tuple, cst.List)) or not loop.iter.elements:
        return None
    values = [e.value for e in loop.iter.elements]
    if not all(isinstance(v, cst.Integer) and isinstance(e, cst.Element) for v, e in zip(values, loop.iter.elements)):
        return None
    return tuple(int(v.value) for v in values)  # type: ignore[attr-defined]


def read_key(node: cst.BaseExpression | None, names: Names, loop: tuple[int, ...] | None) -> tuple[Key, ...] | str:
    """The keys ``node`` stands for, or why it cannot be read (``loop``: the codes of the loop
    variable ``node`` is, if it is one)."""
    if node is None:
        return "arguments not a key and a handler"
    if isinstance(node, cst.Integer):
        code = int(node.value)
        return (Key("code", code),) if code in CODES else f"status {code} has no werkzeug exception"
    if loop is not None:
        return tuple(Key("code", c) for c in loop) if all(c in CODES for c in loop) else "a status with no werkzeug exception"
    qualified = names(node)
    if qualified & HTTP_EXCEPTION:
        return (Key("http"),)
    for name in qualified:
        module, _, short = name.rpartition(".")
        if module == "werkzeug.exceptions" and short in WERKZEUG_CODES:
            return (Key("code", WERKZEUG_CODES[short]),)
    if EXCEPTION in qualified:
        return (Key("exception"),)
    flask = sorted(q for q in qualified if is_flask(q))
    if flask:
        return f"key {flask[0]} is Flask's"
    if not qualified or not isinstance(node, (cst.Name, cst.Attribute)):
        return "key not a status or an exception class"
    return (Key("name", names=frozenset(qualified)),)


def mode_of(keys: tuple[Key, ...], classes: set[str]) -> str:
    """How the converted handler gets its exception (module doc): http, same or unused."""
    if all(k.kind == "http" or (k.kind == "code" and k.code != 500) for k in keys):
        return "http"
    if all(k.kind == "name" and is_class(k.names, classes) for k in keys):
        return "same"
    return "unused"


def is_class(names: frozenset[str], classes: set[str]) -> bool:
    """An exception class the code shows: the project's own, or one of Python's."""
    if names & classes:
        return True
    for name in names:
        module, _, short = name.rpartition(".")
        value = getattr(builtins, short, None) if module == "builtins" else None
        if isinstance(value, type) and issubclass(value, Exception):
            return True
    return False


def allowed_uses(mode: str, keys: tuple[Key, ...]) -> frozenset[str] | None:
    """The uses of the exception the handler may make in ``mode`` (None: any)."""
    if mode == "same":
        return None
    if mode == "unused":
        return frozenset()
    return frozenset({"code", "description", "headers", "name"})


def phrase_is_name(keys: tuple[Key, ...]) -> bool:
    """Whether ``HTTPStatus(code).phrase`` is werkzeug's name of every error the keys stand for."""
    return all(k.kind == "code" and k.code in SAME_PHRASE for k in keys)


def read_responder(function: cst.FunctionDef, names: Names) -> Responder | None:
    """The function as a ``Responder`` (None where no return of its own body is a jsonify)."""
    returns = [r for r in findall(function.body, m.Return()) if r.value is not None]
    parts = [_jsonify_return(r.value, names) for r in returns]  # type: ignore[arg-type]
    if not any(part is not None for part in parts):
        return None
    params = function.params
    positional = tuple(p.name.value for p in (*params.posonly_params, *params.params))
    bound = bindings(function)
    statuses = {s.value for _, s in filter(None, parts) if isinstance(s, cst.Name)}
    problem = None
    if findall(function.body, m.FunctionDef() | m.Lambda() | m.ClassDef() | m.Yield() | m.Await()):
        problem = "it has a nested function or is a generator"
    elif function.asynchronous is not None or function.decorators:
        problem = "it is async or decorated"
    elif len(returns) != len(findall(function.body, m.Return())) or None in parts:
        problem = "it returns other than jsonify(...), alone or with a status"
    elif not isinstance(function.body, cst.IndentedBlock) or not m.matches(function.body.body[-1], m.SimpleStatementLine([m.Return()])):
        problem = "it may end without returning"
    elif any(s not in positional or s in bound for s in statuses):
        problem = "its status is not one of its parameters or an int"
    return Responder(positional, frozenset(statuses), problem)


def _jsonify_return(value: cst.BaseExpression, names: Names) -> tuple[cst.Call, cst.BaseExpression | None] | None:
    """(the jsonify call, the status or None) of ``jsonify(x)`` / ``jsonify(x), status``, the
    status an int literal or a name; None for any other value."""
    status = None
    if isinstance(value, cst.Tuple):
        if len(value.elements) != 2 or not all(isinstance(e, cst.Element) for e in value.elements):
            return None
        value, status = value.elements[0].value, value.elements[1].value
        if not isinstance(status, (cst.Integer, cst.Name)):
            return None
    if not is_jsonify(value, names) or jsonify_content(value) is None:  # type: ignore[arg-type]
        return None
    return value, status  # type: ignore[return-value]


# -- the first pass: facts of one file -------------------------------------------------------------
class ErrorFactsVisitor(Visitor):
    METADATA_DEPENDENCIES = (FullNames,)

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.facts = ErrorFacts()
        self.functions: list[tuple[str, cst.FunctionDef]] = []  # (qualified, node)
        self.defined: set[str] = set()  # functions defined so far (one defined twice: which one runs?)
        self.loops: list[cst.For] = []
        self.classes = 0
        self.skip: set[cst.CSTNode] = set()  # handler arguments of registrations: no references

    def _names(self, node: cst.CSTNode) -> set[str]:
        return {canonical(q.name) for q in self.get_metadata(FullNames, node, set())}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.skip.add(node.name)
        if not self.functions and not self.classes:
            self.facts.classes |= self._names(node.name)
        self.classes += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.skip.add(node.name)  # its definition is no use of it
        qualified = sorted(self._names(node.name))
        name = qualified[0] if qualified else ""
        if name and not self.classes:
            body = read_body(node, self._names)
            if name in self.defined:
                body = Body("", frozenset(), "the handler's name is defined more than once", self.path)
            if body is not None:
                self.facts.bodies[name] = dataclasses.replace(body, path=self.path)
            responder = read_responder(node, self._names)
            if responder is not None or name in self.facts.responders:
                problem = "its name is defined more than once" if name in self.defined else None
                responder = responder or Responder((), frozenset())
                self.facts.responders[name] = dataclasses.replace(responder, problem=problem or responder.problem)
            self.defined.add(name)
        for decorator in node.decorators:
            read = registration_decorator(decorator)
            if read is not None and name:
                receiver, method, key = read
                self._register(name, method, receiver, key, self.functions)
        self.functions.append((name, node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Decorator(self, node: cst.Decorator) -> bool:
        # the registration decorators were read with their function; others name things
        return registration_decorator(node) is None

    def visit_For(self, node: cst.For) -> None:
        self.loops.append(node)

    def leave_For(self, original_node: cst.For) -> None:
        self.loops.pop()

    def visit_Call(self, node: cst.Call) -> None:
        read = registration_call(node)
        if read is not None:
            receiver, key, handler = read
            names = sorted(self._names(handler)) if handler is not None else []
            if handler is not None:
                self.skip.add(handler)
            self._register(names[0] if len(names) == 1 else "", REGISTER, receiver, key, self.functions)
        callee = self._names(node.func)
        if callee:
            self.skip.add(node.func)
            positional = tuple(frozenset(self._names(a.value)) for a in node.args if a.keyword is None)
            keywords = tuple((a.keyword.value, frozenset(self._names(a.value))) for a in node.args if a.keyword is not None)
            self.facts.calls.append(Call(frozenset(callee), positional, keywords, any(a.star for a in node.args)))

    def _register(self, handler: str, method: str, receiver: cst.BaseExpression, key: cst.BaseExpression | None, functions: list[tuple[str, cst.FunctionDef]]) -> None:
        loop = None
        if isinstance(key, cst.Name):
            loop = next((c for c in (loop_codes(f, key.value) for f in reversed(self.loops)) if c is not None), None)
        keys = read_key(key, self._names, loop)
        problem = keys if isinstance(keys, str) else None
        if not handler:
            problem = problem or "handler not a function of the project"
        self.facts.registrations.append(
            Registration(handler, method, self._receiver(receiver, functions), keys if not isinstance(keys, str) else (), problem)
        )

    def _receiver(self, node: cst.BaseExpression, functions: list[tuple[str, cst.FunctionDef]]) -> Receiver:
        names = frozenset(self._names(node))
        if isinstance(node, cst.Name):
            for qualified, function in reversed(functions):
                params = [*function.params.posonly_params, *function.params.params]
                for index, param in enumerate(params):
                    if param.name.value == node.value and f"{qualified}.<locals>.{node.value}" in names:
                        rebound = bindings(function).get(node.value)
                        annotation = frozenset(self._names(param.annotation.annotation)) if param.annotation else frozenset()
                        return Receiver(names, qualified if not rebound else None, index, node.value, annotation)
        return Receiver(names)

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Param(self, node: cst.Param) -> None:
        self.skip.add(node.name)

    def visit_Name(self, node: cst.Name) -> None:
        if node not in self.skip:
            self.facts.references |= {n for n in self._names(node) if not n.startswith("builtins.")}

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if node in self.skip:
            return True  # a called function: its parts (the module of ``errors.init_app``) are uses
        self.facts.references |= self._names(node)
        return True


def error_facts(wrapper, path: str) -> ErrorFacts:
    """The facts of one module (``wrapper``: its MetadataWrapper, metadata shared)."""
    visitor = ErrorFactsVisitor(path)
    wrapper.visit(visitor)
    return visitor.facts


# -- the plan -------------------------------------------------------------------------------------
def plan_handlers(
    facts: ErrorFacts, kind: Callable[[frozenset[str]], str | None], unseen_calls: set[str],
    logger_known: bool = False, own_json: bool = False, registered: Callable[[str], bool] = lambda blueprint: False,
    templates: Templates = lambda module, template, passed: "templates stay Flask's",
) -> dict[str, HandlerPlan]:
    """Whether each registered handler becomes a FastAPI exception handler, and why not.
    ``kind`` says "app" or "blueprint" for the qualified names of an expression;
    ``logger_known``: the app's logger has a name the project shows (codemod/app_logger.py);
    ``own_json``: the app sets its own JSON provider; ``templates``: why a template the handler
    renders does not render alike without Flask (None: it does; codemod/template_plan.py)."""
    by_handler: dict[str, list[Registration]] = {}
    for registration in facts.registrations:
        by_handler.setdefault(registration.handler, []).append(registration)
    by_handler.pop("", None)
    reasons = {
        handler: _reason(handler, registrations, facts, kind, unseen_calls, logger_known, own_json, registered, templates)
        for handler, registrations in sorted(by_handler.items())
    }
    keys = {handler: tuple(k for r in registrations for k in r.keys) for handler, registrations in by_handler.items()}
    helpers = {handler: _helpers(facts.bodies[handler], facts) for handler, reason in reasons.items() if reason is None}
    responders = {handler: _responders(facts.bodies[handler], facts) for handler, reason in reasons.items() if reason is None}
    changed = True
    while changed:  # a helper converts with its handlers only if no other code calls it
        changed = False
        converting = sorted(h for h, reason in reasons.items() if reason is None)
        answering: dict[str, int] = {}  # responder -> the converting handlers' returns of its calls
        for handler in converting:
            for responder in responders[handler]:
                answering[responder] = answering.get(responder, 0) + 1
        for handler in converting:
            for responder in responders[handler]:
                if sum(1 for call in facts.calls if responder in call.callee) != answering[responder]:
                    reasons[handler] = f"returns {_short(responder)}(...), which other code calls too"
                    changed = True
                    break
        if changed:
            continue
        given: dict[str, list[str]] = {}  # helper -> the mode of each converting hand-over
        for handler in converting:
            for helper in helpers[handler]:
                given.setdefault(helper, []).append(mode_of(keys[handler], facts.classes))
        for handler in converting:
            for helper in helpers[handler]:
                calls = sum(1 for call in facts.calls if helper in call.callee)
                if calls != len(given[helper]) or len(set(given[helper])) != 1:
                    reasons[handler] = f"hands its exception to {_short(helper)}, which other code calls too"
                    changed = True
                    break
    plans = {}
    for handler, reason in reasons.items():
        body = facts.bodies.get(handler)
        mode = mode_of(keys[handler], facts.classes) if reason is None else ""
        plans[handler] = HandlerPlan(
            reason is None, reason, mode, body.path if body is not None else "", keys[handler],
            tuple(sorted(set(helpers[handler]))) if reason is None else (),
            tuple(sorted(set(responders[handler]))) if reason is None else (),
            (blueprint_of(handler, by_handler[handler], kind) or app_wide_of(by_handler[handler], kind)) if reason is None else "",
            reason is None and bool(app_wide_of(by_handler[handler], kind)),
        )
    return plans


def _short(qualified: str) -> str:
    return ".".join(qualified.split(".")[-2:])


def _helpers(body: Body, facts: ErrorFacts) -> list[str]:
    """The functions of the project a handler hands its exception to, one per call (module doc)."""
    return [sorted(names & set(facts.bodies))[0] for names in body.helpers if names & set(facts.bodies)]


def _responders(body: Body, facts: ErrorFacts) -> list[str]:
    """The functions whose answer the handler returns (``return error_body(...)``), one per return."""
    return [sorted(names & set(facts.responders))[0] for names, _ in body.responses if names & set(facts.responders)]


def _responder_reason(body: Body, facts: ErrorFacts, unseen_calls: set[str], own_json: bool) -> str | None:
    """Why a function whose answer the handler returns cannot answer with the runtime's
    FlaskJSONResponse (a Starlette response, which the converted handler returns as it is)."""
    for names, ints in body.responses:
        found = sorted(names & set(facts.responders))
        if not found:
            return f"returns {_short(sorted(names)[0])}(...), not a function of the project that returns jsonify(...)"
        name, responder = found[0], facts.responders[found[0]]
        if responder.problem:
            return f"returns {_short(name)}(...), where {responder.problem}"
        if name in facts.references or name.rpartition(".")[2] in unseen_calls:
            return f"returns {_short(name)}(...), which is used other than called"
        if any(r.handler == name for r in facts.registrations):
            return f"returns {_short(name)}(...), an error handler itself"
        if own_json:
            return f"returns {_short(name)}(...), whose jsonify() the app's own JSON provider writes"
        for index, param in enumerate(responder.params):
            if param in responder.statuses and str(index) not in ints and param not in ints:
                return f"returns {_short(name)}(...) with a status not known to be an int"
    return None


def _helper_reason(body: Body, facts: ErrorFacts, unseen_calls: set[str]) -> str | None:
    """Why the functions the handler hands its exception to cannot take Starlette's."""
    for names in body.helpers:
        found = sorted(names & set(facts.bodies))
        if not found:
            return f"hands its exception to {_short(sorted(names)[0])}, not a function of one parameter of the project"
        helper = facts.bodies[found[0]]
        if helper.helper_problem or helper.helpers:
            return f"hands its exception to {_short(found[0])}, which {helper.helper_problem or 'hands it on'}"
        if found[0] in facts.references or found[0].rpartition(".")[2] in unseen_calls:
            return f"hands its exception to {_short(found[0])}, which is used other than called"
        if any(r.handler == found[0] for r in facts.registrations):
            return f"hands its exception to {_short(found[0])}, an error handler itself"
    return None


def _reason(
    handler: str, registrations: list[Registration], facts: ErrorFacts, kind, unseen_calls: set[str],
    logger_known: bool = False, own_json: bool = False, registered: Callable[[str], bool] = lambda blueprint: False,
    templates: Templates = lambda module, template, passed: "templates stay Flask's",
) -> str | None:
    body = facts.bodies.get(handler)
    if body is None:
        return "handler not a function of one parameter in the project"
    if body.problem:
        return body.problem
    for template, passed in body.templates:
        why = templates(handler.rpartition(".")[0], template, passed) if template is not None else "its name or values are only known when it runs"
        if why is not None:
            return f"renders {template or 'a template'} through Flask: {why}"
    helper_problem = _helper_reason(body, facts, unseen_calls)
    if helper_problem:
        return helper_problem
    responder_problem = _responder_reason(body, facts, unseen_calls, own_json)
    if responder_problem:
        return responder_problem
    helpers = [facts.bodies[h] for h in _helpers(body, facts)]
    if (body.logs or any(h.logs for h in helpers)) and not logger_known:
        return "uses flask.current_app.logger, of an app whose name the project does not show"
    if body.flask_json and own_json:
        return "jsonify() of a value it cannot show is plain JSON data, in an app with a JSON provider of its own"
    called = any(handler in call.callee for call in facts.calls)
    if called or handler in facts.references or handler.rpartition(".")[2] in unseen_calls:
        return "the handler is called or used other than as a handler"
    on_blueprint = blueprint_of(handler, registrations, kind)
    app_wide = app_wide_of(registrations, kind)
    for registration in registrations:
        if registration.problem:
            return registration.problem
        if registration.method == "app_errorhandler" and not (app_wide and registered(app_wide)):
            return "app_errorhandler: no app at hand where the blueprint registers it"
        if app_wide and any(k.kind not in ("code", "http") for k in registration.keys):
            return "app_errorhandler for a class: registered where the blueprint is, which does not import it"
        if app_wide:
            continue
        receiver = "app" if on_blueprint else registered_on(registration.receiver, facts, kind, unseen_calls)
        if receiver != "app":
            return receiver or "registered on something not known to be an app"
    keys = tuple(k for r in registrations for k in r.keys)
    if any(key.kind == "name" and not is_class(key.names, facts.classes) for key in keys):
        return "key not known to be an exception class"
    mode = mode_of(keys, facts.classes)
    allowed = allowed_uses(mode, keys)
    uses = body.uses.union(*(h.uses for h in helpers))
    if allowed is not None and (not uses <= allowed or mode == "unused" and helpers):
        if mode == "unused":
            return "reads its exception, which a 500 or Exception handler (or one for several kinds) gets in another form"
        return "uses the error other than for its code, description, name or headers"
    return None


def registered_on(receiver: Receiver, facts: ErrorFacts, kind, unseen_calls: set[str]) -> str | None:
    """"app" when the receiver is an app the project bridges by then; else why not."""
    found = kind(receiver.names)
    if found == "blueprint":
        return "registered on a blueprint (FastAPI has no handlers per router)"
    if found == "app":
        return "app"
    if receiver.function is None:
        return None
    # a parameter: every call of the function must pass an app the project bridges
    if receiver.function in facts.references or receiver.function.rpartition(".")[2] in unseen_calls:
        return f"{receiver.param} is a parameter of a function used other than called"
    calls = [c for c in facts.calls if receiver.function in c.callee]
    if not calls:
        return f"{receiver.param} is a parameter of a function the project does not call"
    for call in calls:
        if call.starred:
            return f"{receiver.param} is given by *args or **kwargs at a call"
        given = dict(call.keywords).get(receiver.param)
        if given is None and receiver.index < len(call.positional):
            given = call.positional[receiver.index]
        if given is None or kind(given) != "app":
            return f"{receiver.param} is not an app the project bridges at every call"
    return "app"
