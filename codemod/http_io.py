"""What a function's ``requests`` use needs to run on the app's shared aiohttp client (facts, pure).

``analyse(function, names, module)`` reads one function and says, node by node, what changes:
each ``requests.get/post/...`` call (or a module-level ``requests.Session()``'s) and how its
arguments map, each use of a response it made (or got as a parameter, or from a function of the
module that returns ``requests.Response``), each ``except`` clause naming requests' exceptions.
Or it says why the function cannot convert: an argument, a use of the response or an ``except``
order with no faithful aiohttp form. ``http_facts`` is the summary the whole-program plan reads.

An ``except`` list is checked, not just renamed: for each error a call can meet (a connect or a
read timeout, a refused connection, a truncated body, an HTTP error status, a body that is no
JSON...), the clause that caught requests' exception must be the one that catches aiohttp's.
``except requests.ConnectionError`` before ``except requests.Timeout`` fails that: aiohttp's read
timeout is a connection error too, and the first clause would take it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import libcst as cst

Names = Callable[[cst.CSTNode], set[str]]

VERBS = frozenset({"get", "options", "head", "post", "put", "patch", "delete", "request"})
# the parameters after the url that requests takes by position (request: the method comes first)
MODULE_POSITIONAL = {"get": ("params",), "post": ("data", "json"), "put": ("data",), "patch": ("data",)}
SESSION_POSITIONAL = {"post": ("data", "json"), "put": ("data",), "patch": ("data",)}
# keyword -> how it is written for aiohttp (see transforms/http_client.py)
KEYWORDS = {
    "params": "params", "data": "as is", "json": "as is", "headers": "as is", "allow_redirects": "as is",
    "timeout": "timeout", "auth": "auth", "verify": "verify", "stream": "stream",
}
SESSION_CLASS = "requests.Session"
RESPONSE_CLASS = "requests.Response"
BASIC_AUTH = "requests.auth.HTTPBasicAuth"
# response attributes: requests' name -> what the transform writes
ATTRIBUTES = {"status_code": "status", "ok": "ok", "headers": "headers", "reason": "reason", "url": "url", "text": "text", "content": "content"}
METHODS = frozenset({"json", "close", "raise_for_status", "iter_lines"})

# requests' exceptions -> what catches the same errors from aiohttp and the runtime (its http module)
RUNTIME = "flask2fastapi_runtime"
EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "requests.Timeout": ("asyncio.TimeoutError",),
    "requests.ConnectTimeout": ("aiohttp.ConnectionTimeoutError",),
    "requests.ReadTimeout": ("aiohttp.SocketTimeoutError",),
    "requests.ConnectionError": ("aiohttp.ClientConnectionError",),
    "requests.HTTPError": (f"{RUNTIME}.HTTPStatusError",),
    "requests.TooManyRedirects": ("aiohttp.TooManyRedirects",),
    "requests.ChunkedEncodingError": ("aiohttp.ClientPayloadError",),
    "requests.JSONDecodeError": (f"{RUNTIME}.InvalidJSON",),
    "requests.RequestException": ("aiohttp.ClientError", "asyncio.TimeoutError"),
}

# The errors a converted call can meet: the classes requests' exception is an instance of, and
# aiohttp's (a set per Python version where they differ: asyncio.TimeoutError is the builtin
# TimeoutError, an OSError, from 3.11 on only).
_ANY = frozenset({"builtins.Exception", "builtins.BaseException"})
_REQUESTS = _ANY | {"requests.RequestException", "builtins.OSError", "builtins.IOError", "builtins.EnvironmentError"}
_OS = frozenset({"builtins.OSError", "builtins.IOError", "builtins.EnvironmentError"})
_CLIENT = _ANY | {"aiohttp.ClientError"}
_CONNECTION = _CLIENT | {"aiohttp.ClientConnectionError"}
_TIMEOUT = _CONNECTION | {"aiohttp.ServerConnectionError", "aiohttp.ServerTimeoutError", "asyncio.TimeoutError", "asyncio.exceptions.TimeoutError"}
_VALUE = frozenset({"builtins.ValueError"})
_JSON = frozenset({"json.JSONDecodeError", "json.decoder.JSONDecodeError"})
EVENTS: dict[str, tuple[frozenset[str], tuple[frozenset[str], ...]]] = {
    "a connect timeout": (
        _REQUESTS | {"requests.ConnectTimeout", "requests.ConnectionError", "requests.Timeout"},
        (_TIMEOUT | {"aiohttp.ConnectionTimeoutError"}, _TIMEOUT | _OS | {"aiohttp.ConnectionTimeoutError", "builtins.TimeoutError"}),
    ),
    "a read timeout": (
        _REQUESTS | {"requests.ReadTimeout", "requests.Timeout"},
        (_TIMEOUT | {"aiohttp.SocketTimeoutError"}, _TIMEOUT | _OS | {"aiohttp.SocketTimeoutError", "builtins.TimeoutError"}),
    ),
    "a body that stalls": (
        _REQUESTS | {"requests.ConnectionError"},
        (_CONNECTION | _OS | {"aiohttp.ClientOSError", f"{RUNTIME}.BodyReadTimeout"},),
    ),
    "a refused connection": (
        _REQUESTS | {"requests.ConnectionError"},
        (_CONNECTION | _OS | {"aiohttp.ClientOSError", "aiohttp.ClientConnectorError"},),
    ),
    "a dropped connection": (
        _REQUESTS | {"requests.ConnectionError"},
        (_CONNECTION | {"aiohttp.ServerConnectionError", "aiohttp.ServerDisconnectedError"},),
    ),
    "a truncated body": (_REQUESTS | {"requests.ChunkedEncodingError"}, (_CLIENT | {"aiohttp.ClientPayloadError"},)),
    "an HTTP error status": (
        _REQUESTS | {"requests.HTTPError"}, (_CLIENT | {"aiohttp.ClientResponseError", f"{RUNTIME}.HTTPStatusError"},),
    ),
    "too many redirects": (
        _REQUESTS | {"requests.TooManyRedirects"},
        (_CLIENT | {"aiohttp.ClientResponseError", "aiohttp.TooManyRedirects"},),
    ),
    "a body that is no JSON": (
        _REQUESTS | _VALUE | _JSON | {"requests.JSONDecodeError", "requests.InvalidJSONError"},
        (_CLIENT | _VALUE | _JSON | {f"{RUNTIME}.InvalidJSON"},),
    ),
    "an invalid URL": (
        _REQUESTS | _VALUE | {"requests.InvalidURL", "requests.MissingSchema", "requests.InvalidSchema"},
        (_CLIENT | _VALUE | {"aiohttp.InvalidURL"}, _CLIENT | {"aiohttp.NonHttpUrlClientError"}),
    ),
}

# the errors reading a body may meet, and what each use of a response reads
_READ = frozenset({"a body that stalls", "a truncated body"})
_BODY = _READ | {"a dropped connection"}
USE_EVENTS = {
    "text": _BODY, "content": _BODY, "iter_lines": _BODY, "json": _BODY | {"a body that is no JSON"},
    "raise_for_status": frozenset({"an HTTP error status"}),
}


def normal(name: str) -> str:
    """requests' names as the package exports them: ``requests.exceptions.Timeout`` ->
    ``requests.Timeout``, ``requests.api.get`` -> ``requests.get``."""
    for inner in ("exceptions.", "api.", "models.", "sessions."):
        if name.startswith("requests." + inner):
            return "requests." + name[len("requests." + inner):]
    return name


@dataclass(frozen=True)
class CallPlan:
    """A requests call as aiohttp's: the verb, its arguments (keyword or None for a positional
    one, how to write it, the value) and ``stream`` (True, False, or the name it depends on)."""

    verb: str
    args: tuple[tuple[str | None, str, cst.BaseExpression], ...]
    stream: bool | cst.Name


@dataclass
class Analysis:
    calls: dict[cst.Call, CallPlan] = field(default_factory=dict)
    # ``x = <call>`` lines whose answer is read whole right away, as requests did: line -> (x, stream)
    reads_after: dict[cst.SimpleStatementLine, tuple[str, bool | cst.Name]] = field(default_factory=dict)
    read_statements: set[cst.Call] = field(default_factory=set)  # calls that are a statement of their own
    uses: dict[cst.CSTNode, str] = field(default_factory=dict)  # response.text, .json(), a ``for`` over .iter_lines()
    annotations: set[cst.CSTNode] = field(default_factory=set)  # requests.Response references
    exceptions: dict[cst.CSTNode, tuple[str, ...]] = field(default_factory=dict)  # an except type -> aiohttp's
    consumed: list[cst.CSTNode] = field(default_factory=list)  # requests references converted away
    partners: set[str] = field(default_factory=set)  # functions it exchanges responses with
    problem: tuple[cst.CSTNode, str] | None = None


@dataclass(frozen=True)
class HttpFacts:
    """What the whole-program plan needs: how many requests calls a function makes, why they
    cannot convert (None: they can), and the functions of its module that hand it a
    ``requests.Response`` or take one from it (they convert together or not at all)."""

    calls: int
    problem: str | None
    partners: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ModuleFacts:
    """The module-level facts a function's analysis reads."""

    sessions: frozenset[str] = frozenset()  # ``x = requests.Session()`` used only for its verbs
    returns: frozenset[str] = frozenset()  # functions annotated ``-> requests.Response``
    takes: frozenset[str] = frozenset()  # functions with a parameter annotated ``requests.Response``


def http_facts(function: cst.FunctionDef, names: Names, module: ModuleFacts = ModuleFacts()) -> HttpFacts:
    analysis = analyse(function, names, module)
    problem = analysis.problem[1] if analysis.problem else None
    return HttpFacts(len(analysis.calls), problem, frozenset(analysis.partners))


def module_facts(module: cst.Module, names: Names) -> ModuleFacts:
    sessions, returns, takes = set(), set(), set()
    parents = _parents(module)
    for statement in module.body:
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
        if (
            isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name)
            and isinstance(small.value, cst.Call) and not small.value.args and _is(names, small.value.func, SESSION_CLASS)
        ):
            sessions |= names(small.targets[0].target)
    for node in parents:
        if isinstance(node, cst.FunctionDef):
            if node.returns is not None and _mentions(names, node.returns.annotation, RESPONSE_CLASS):
                returns |= names(node.name)
            if any(p.annotation is not None and _mentions(names, p.annotation.annotation, RESPONSE_CLASS) for p in _params(node)):
                takes |= names(node.name)
    for node, parent in parents.items():  # a session used other than for a verb call: configured, not ours
        if isinstance(node, cst.Name) and names(node) & sessions and not _verb_of_session(node, parent, parents):
            if not (isinstance(parent, cst.AssignTarget) and parent.target is node):
                sessions -= names(node)
    return ModuleFacts(frozenset(sessions), frozenset(returns), frozenset(takes))


def _verb_of_session(node: cst.Name, parent: cst.CSTNode, parents: dict) -> bool:
    return (
        isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in VERBS
        and isinstance(parents.get(parent), cst.Call) and parents[parent].func is parent
    )


def _is(names: Names, node: cst.CSTNode, name: str) -> bool:
    return name in {normal(n) for n in names(node)}


def _mentions(names: Names, annotation: cst.CSTNode, name: str) -> bool:
    return any(_is(names, n, name) for n in _walk(annotation) if isinstance(n, (cst.Name, cst.Attribute)))


def _params(function: cst.FunctionDef) -> list[cst.Param]:
    p = function.params
    return [*p.posonly_params, *p.params, *p.kwonly_params, *(x for x in (p.star_arg, p.star_kwarg) if isinstance(x, cst.Param))]


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _parents(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            parents[child] = node
            stack.append(child)
    return parents


class _Problem(Exception):
    def __init__(self, node: cst.CSTNode, message: str) -> None:
        super().__init__(message)
        self.node, self.message = node, message


def analyse(function: cst.FunctionDef, names: Names, module: ModuleFacts = ModuleFacts()) -> Analysis:
    analysis = Analysis()
    try:
        _Analyser(function, names, module, analysis).run()
    except _Problem as problem:
        return Analysis(problem=(problem.node, problem.message))
    return analysis


def _code(node: cst.CSTNode) -> str:
    text = " ".join(cst.Module([]).code_for_node(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _dotted(node: cst.BaseExpression) -> bool:
    """``a.b.c``: names and attributes only (not ``f(x).attr``)."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


class _Analyser:
    def __init__(self, function: cst.FunctionDef, names: Names, module: ModuleFacts, analysis: Analysis) -> None:
        self.function, self.names, self.module, self.out = function, names, module, analysis
        self.parents = _parents(function.body)
        self.own = [n for n in self._own(function.body)]
        returns = function.returns
        self.returns_response = returns is not None and _mentions(names, returns.annotation, RESPONSE_CLASS)

    def _own(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """The nodes of the function's body, nested functions, lambdas and classes left out."""
        for child in node.children:
            yield child
            if not isinstance(child, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                yield from self._own(child)

    def _names(self, node: cst.CSTNode) -> set[str]:
        return {normal(n) for n in self.names(node)}

    def run(self) -> None:
        for param in _params(self.function):
            if param.annotation is not None:
                self._retype(param.annotation.annotation)
        if self.function.returns is not None:
            self._retype(self.function.returns.annotation)
        responses: set[str] = {
            p.name.value for p in _params(self.function)
            if p.annotation is not None and _mentions(self.names, p.annotation.annotation, RESPONSE_CLASS)
        }
        sources: list[cst.Call] = []
        for node in self.own:
            if isinstance(node, cst.Call):
                plan = self._call(node)
                if plan is not None:
                    self.out.calls[node] = plan
                    sources.append(node)
                elif self._names(node.func) & self.module.returns:
                    self.out.partners |= self._names(node.func) & self.module.returns
                    sources.append(node)
                elif self._names(node.func) & self.module.takes:
                    self.out.partners |= self._names(node.func) & self.module.takes
        if responses or self.returns_response:
            self.out.partners |= self.names(self.function.name)
        self._references()
        for source in sources:
            bound = self._source_use(source)
            if bound is not None:
                responses.add(bound)
        self._responses(responses)
        self._tries()

    # -- requests' names ----------------------------------------------------------------------
    def _references(self) -> None:
        """Every reference to requests is a converted call, an except type or an annotation."""
        handled = {call.func for call in self.out.calls} | set(self.out.annotations)
        for node in self.own:
            if not isinstance(node, (cst.Name, cst.Attribute)) or not _dotted(node):
                continue
            parent = self.parents.get(node)
            if isinstance(parent, cst.Attribute) and parent.value is node:
                continue  # the outer expression is the reference
            found = {n for n in self._names(node) if n == "requests" or n.startswith("requests.")}
            if not found:
                continue
            if node in handled or self._in_handled(node, handled):
                self.out.consumed.append(node)
                continue
            if self._except_type(node):
                (name,) = sorted(found)
                if name not in EXCEPTIONS:
                    raise _Problem(node, f"`except {_code(node)}` has no aiohttp equivalent")
                self.out.exceptions[node] = EXCEPTIONS[name]
                self.out.consumed.append(node)
                continue
            if found == {RESPONSE_CLASS} and self._in_annotation(node):
                self.out.annotations.add(node)
                self.out.consumed.append(node)
                continue
            raise _Problem(node, f"`{_code(node)}` is used other than as a call, an except clause or an annotation")

    def _in_handled(self, node: cst.CSTNode, handled: set[cst.CSTNode]) -> bool:
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, cst.BaseStatement):
            if parent in handled:
                return True
            if isinstance(parent, cst.Call) and parent.func is node and parent in self._auth_calls:
                return True
            node, parent = parent, self.parents.get(parent)
        return False

    @property
    def _auth_calls(self) -> set[cst.Call]:
        return {value for plan in self.out.calls.values() for _, how, value in plan.args if how == "auth call"}

    def _except_type(self, node: cst.CSTNode) -> bool:
        parent = self.parents.get(node)
        if isinstance(parent, cst.Element) and isinstance(self.parents.get(parent), cst.Tuple):
            parent = self.parents.get(self.parents[parent])
        return isinstance(parent, cst.ExceptHandler) and parent.type is not None

    def _in_annotation(self, node: cst.CSTNode) -> bool:
        while node is not None:
            if isinstance(node, cst.Annotation):
                return True
            node = self.parents.get(node)
        return False

    def _retype(self, annotation: cst.CSTNode) -> None:
        for node in _walk(annotation):
            if isinstance(node, (cst.Name, cst.Attribute)) and _is(self.names, node, RESPONSE_CLASS):
                self.out.annotations.add(node)
                self.out.consumed.append(node)

    # -- the calls ----------------------------------------------------------------------------
    def _call(self, call: cst.Call) -> CallPlan | None:
        func = call.func
        verb = next((n.rpartition(".")[2] for n in self._names(func) if n.rpartition(".")[0] == "requests" and n.rpartition(".")[2] in VERBS), None)
        session = False
        if verb is None:
            if not (isinstance(func, cst.Attribute) and func.attr.value in VERBS and self.names(func.value) & self.module.sessions):
                return None
            verb, session = func.attr.value, True
        positional = ("method", "url") if verb == "request" else ("url",)
        positional += (SESSION_POSITIONAL if session else MODULE_POSITIONAL).get(verb, ())
        args: list[tuple[str | None, str, cst.BaseExpression]] = []
        stream: bool | cst.Name = False
        for index, arg in enumerate(call.args):
            if arg.star:
                raise _Problem(call, f"`{_code(call)}`: arguments given with {arg.star}")
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword is None:
                if index >= len(positional):
                    raise _Problem(call, f"`{_code(call)}`: more positional arguments than requests.{verb} takes")
                name = positional[index]
                if name in ("method", "url"):
                    args.append((None, "as is", arg.value))
                    continue
            else:
                name = keyword
            how = KEYWORDS.get(name)
            if how is None:
                raise _Problem(call, f"`{_code(call)}`: requests' {name}= has no aiohttp form here")
            if how == "stream":
                stream = self._stream(call, arg.value)
                continue
            if how == "auth":
                how = self._auth(call, arg.value)
            if how == "verify":
                if not isinstance(arg.value, cst.Name) or arg.value.value not in ("True", "False"):
                    raise _Problem(call, f"`{_code(call)}`: verify= other than True or False")
                if arg.value.value == "True":
                    continue
            if how == "params" and _plain_params(arg.value):
                how = "as is"
            args.append((name, how, arg.value))
        return CallPlan(verb, tuple(args), stream)

    def _stream(self, call: cst.Call, value: cst.BaseExpression) -> bool | cst.Name:
        if isinstance(value, cst.Name) and value.value in ("True", "False"):
            return value.value == "True"
        if isinstance(value, cst.Name):
            return value
        raise _Problem(call, f"`{_code(call)}`: stream= other than True, False or a name")

    def _auth(self, call: cst.Call, value: cst.BaseExpression) -> str:
        if isinstance(value, cst.Tuple) and len(value.elements) == 2 and not any(e.star if isinstance(e, cst.StarredElement) else False for e in value.elements):
            return "auth tuple"
        if isinstance(value, cst.Call) and _is(self.names, value.func, BASIC_AUTH) and len(value.args) == 2 and not any(a.star for a in value.args):
            return "auth call"
        raise _Problem(call, f"`{_code(call)}`: auth= other than a (user, password) pair or HTTPBasicAuth(user, password)")

    # -- the responses ------------------------------------------------------------------------
    def _source_use(self, source: cst.Call) -> str | None:
        """Check how the answer of a call is used; the name it is bound to, if any."""
        converted = source in self.out.calls
        stream = self.out.calls[source].stream if converted else True
        node = source
        parent = self.parents.get(node)
        if isinstance(parent, cst.Await) and not converted:
            node, parent = parent, self.parents.get(parent)
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is node:
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            line = self.parents.get(parent)
            if len(targets) != 1 or not isinstance(targets[0], cst.Name) or not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
                raise _Problem(source, f"`{_code(source)}`: its answer is assigned to something other than a name")
            if converted and stream is not True:
                self.out.reads_after[line] = (targets[0].value, stream)
            return targets[0].value
        if isinstance(parent, cst.Expr):
            if converted and stream is not True:
                self.out.read_statements.add(source)
            return None
        if converted and stream is not True and not (isinstance(parent, cst.Attribute) and parent.value is node):
            raise _Problem(source, f"`{_code(source)}`: its answer goes where it is not read whole first")
        self._use(node, source)
        return None

    def _responses(self, responses: set[str]) -> None:
        if not responses:
            return
        for node in self.own:
            if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                inner = {n.value for n in _walk(node) if isinstance(n, cst.Name)}
                if inner & responses:
                    raise _Problem(node, f"a response ({', '.join(sorted(inner & responses))}) is used in a nested function")
            if not isinstance(node, cst.Name) or node.value not in responses:
                continue
            parent = self.parents.get(node)
            if isinstance(parent, cst.AssignTarget) or (isinstance(parent, cst.AnnAssign) and parent.target is node):
                value = parent.value if isinstance(parent, cst.AnnAssign) else self.parents[parent].value  # type: ignore[union-attr]
                if isinstance(value, cst.Await):
                    value = value.expression
                if value not in self.out.calls and not (isinstance(value, cst.Call) and self._names(value.func) & self.module.returns):
                    raise _Problem(node, f"`{node.value}` is bound to a response and to something else")
                continue
            if isinstance(parent, cst.Param) or (isinstance(parent, cst.Attribute) and parent.attr is node):
                continue  # the parameter itself; another object's attribute of that name
            if isinstance(parent, cst.Arg) and parent.keyword is node:
                continue
            self._use(node, node)

    def _use(self, node: cst.CSTNode, what: cst.CSTNode) -> None:
        parent = self.parents.get(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            attr = parent.attr.value
            outer = self.parents.get(parent)
            if isinstance(outer, cst.Call) and outer.func is parent:
                self._method(attr, outer, what)
                return
            if attr in ATTRIBUTES and not isinstance(outer, cst.AssignTarget):
                self.out.uses[parent] = attr
                return
            raise _Problem(parent, f"`{_code(parent)}`: response.{attr} has no aiohttp form here")
        if isinstance(parent, cst.Return) and self.returns_response:
            return
        if isinstance(parent, cst.Arg) and isinstance(self.parents.get(parent), cst.Call):
            call = self.parents[parent]
            if self._names(call.func) & self.module.takes:
                return
        raise _Problem(node, f"`{_code(node)}`: a response is passed on, kept or tested, where its new type is not known")

    def _method(self, name: str, call: cst.Call, what: cst.CSTNode) -> None:
        if name not in METHODS:
            raise _Problem(call, f"`{_code(call)}`: response.{name}() has no aiohttp form here")
        if name == "iter_lines":
            loop = self.parents.get(call)
            if not isinstance(loop, cst.For) or loop.iter is not call or loop.asynchronous is not None:
                raise _Problem(call, f"`{_code(call)}`: iter_lines() other than as what a for loop goes over")
            if any(a.keyword is None or a.keyword.value != "chunk_size" for a in call.args):
                raise _Problem(call, f"`{_code(call)}`: iter_lines() with decode_unicode= or delimiter=")
            self.out.uses[loop] = name
            return
        if name == "json" and any(a.keyword is None for a in call.args):
            raise _Problem(call, f"`{_code(call)}`: json() with positional arguments")
        if name != "json" and call.args:
            raise _Problem(call, f"`{_code(call)}`: {name}() with arguments")
        self.out.uses[call] = name

    # -- except clauses -----------------------------------------------------------------------
    def _tries(self) -> None:
        """The try statements around what converts, each with the errors that may reach it: all
        of them where its clauses name requests' exceptions (a function it calls may raise them)."""
        watched: dict[cst.CSTNode, frozenset[str]] = {}
        for call, plan in self.out.calls.items():
            watched[call] = frozenset(EVENTS) - {"a body that is no JSON"} - (_READ if plan.stream is True else frozenset())
        for node, kind in self.out.uses.items():
            watched[node] = USE_EVENTS.get(kind, frozenset())
        for node in self.out.exceptions:
            watched[node] = frozenset(EVENTS)
        tries: dict[cst.Try, set[str]] = {}
        for node, events in watched.items():
            child, parent = node, self.parents.get(node)
            while parent is not None:
                if isinstance(parent, cst.Try) and (child is parent.body or child in parent.handlers):
                    tries.setdefault(parent, set()).update(events)
                if isinstance(parent, cst.TryStar) and child is parent.body:
                    raise _Problem(parent, "a call in a try with except* clauses")
                child, parent = parent, self.parents.get(parent)
        for statement, events in tries.items():
            self._check_order(statement, events)

    def _check_order(self, statement: cst.Try, events: set[str]) -> None:
        before: list[set[str] | None] = []
        after: list[set[str] | None] = []
        for handler in statement.handlers:
            if handler.type is None:
                before.append(None)
                after.append(None)
                continue
            types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
            old, new = set(), set()
            for node in types:
                found = self._names(node) or {"?"}
                old |= found
                new |= set(self.out.exceptions.get(node, found))
            before.append(old)
            after.append(new)
        for event, (theirs, ours) in EVENTS.items():
            if event not in events:
                continue
            expected = _catcher(before, theirs)
            for classes in ours:
                got = _catcher(after, classes)
                if got != expected:
                    raise _Problem(
                        statement.handlers[min(x for x in (expected, got) if x is not None)],
                        f"aiohttp's error for {event} would reach another except clause than requests' did",
                    )


def _catcher(handlers: list[set[str] | None], classes: frozenset[str]) -> int | None:
    for index, types in enumerate(handlers):
        if types is None or types & classes:
            return index
    return None


def _plain_params(value: cst.BaseExpression) -> bool:
    """A dict of string and number literals: aiohttp takes it as requests did."""
    return isinstance(value, cst.Dict) and all(
        isinstance(e, cst.DictElement) and isinstance(e.value, (cst.SimpleString, cst.Integer, cst.Float, cst.FormattedString))
        for e in value.elements
    )
