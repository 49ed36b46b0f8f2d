"""What a function does that blocks the event loop, and what it reads of ORM objects.

Gathered by the facts pass for every module-level function (codemod/project.py) and read by the
async plan (codemod/async_plan.py), which decides the functions that become ``async def``:

- **blocking calls**, by qualified name, from codemod/blocking.py (the lint's table): the
  libraries of issue 11 (``requests``, ``sqlite3``, ``time.sleep``, file reads...). ``time.sleep`` has an async twin the converter writes (``asyncio.sleep``);
  the others keep their function in the thread pool, with the call named as the reason;
- **ORM reads**: an ``async`` SQLAlchemy session cannot load a relationship on attribute access
  (it raises ``MissingGreenlet``). So the plan needs, for each attribute read and method call on a
  local variable, what the variable holds when the code shows it: a model selected by
  ``session.scalar(select(Model)...)`` or ``session.get(Model, ...)``, built by ``Model(...)``,
  given by a function annotated ``-> Model``, or a parameter annotated ``Model``;
- **models**: the classes with ``relationship()`` attributes, their methods' reads of
  ``self.<relationship>`` (and the parameter an ``if`` tests before one, ``include_messages``),
  and the declarative base they derive from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m

from codemod.blocking import BLOCKING_FUNCTIONS, DATABASE, FACTORIES, FILES, HTTP, KINDS, NETWORK, SUBPROCESS
from codemod.blocking import SLEEP as SLEEP_CODE
from codemod.find import findall
from codemod.http_io import HttpFacts
from codemod.sqlite_io import SqliteFacts

Names = Callable[[cst.CSTNode], set[str]]

SLEEP = "time.sleep"  # the one the converter writes as asyncio.sleep
SELECT = frozenset({"sqlalchemy.select", "sqlalchemy.sql.select", "sqlalchemy.sql.expression.select", "sqlalchemy.future.select"})
RELATIONSHIP = frozenset({"sqlalchemy.orm.relationship", "sqlalchemy.orm.relationships.relationship", "sqlalchemy.orm.relation"})
DECLARATIVE = frozenset({"sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.decl_api.DeclarativeBase"})
SESSION_TYPES = frozenset({"sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session"})
G = frozenset({"flask.g", "flask.globals.g"})
SESSIONMAKER = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})
# session methods that return one object of the model they are given
ONE_OBJECT = frozenset({"scalar", "get", "get_one", "merge"})


def blocking_kind(qualified: str) -> str | None:
    """What a call of ``qualified`` blocks on (None: it does not block), read from the one table
    of blocking calls, codemod/blocking.py, which ``flask2fastapi lint`` reports from too: a
    blocking function (``requests.post``, ``time.sleep``, ``open``), a call that makes a
    connection (``sqlite3.connect``), or a method of a blocking library's object reached by its
    qualified name (``redis.Redis.get``)."""
    found = BLOCKING_FUNCTIONS.get(qualified)
    if found is not None:
        return _FAMILY[found[0].code]
    factory = FACTORIES.get(qualified)
    if factory is not None:
        return _FAMILY[KINDS[factory.kind].code.code] if factory.blocks else None
    owner, _, method = qualified.rpartition(".")
    kind = KINDS.get(owner) or (KINDS.get(FACTORIES[owner].kind) if owner in FACTORIES else None)
    if kind is not None and kind.blocks(method):
        return _FAMILY[kind.code.code]
    return None


# the lint's families, as a reason says them
_FAMILY = {
    HTTP.code: "an HTTP request", SLEEP_CODE.code: "a sleep", DATABASE.code: "a database call",
    NETWORK.code: "a network call", SUBPROCESS.code: "a subprocess waited for", FILES.code: "file I/O",
}


@dataclass(frozen=True)
class Read:
    """``local.attr`` (a method call when ``given`` is not None: the parameters given a value
    that may be true)."""

    local: str
    types: frozenset[str]  # what the local holds: models, or "call:<function>" for a return value
    attr: str
    given: frozenset[str] | None = None
    line_statement: bool = True  # the read is in a simple statement (a preload can go before it)


@dataclass(frozen=True)
class AsyncFacts:
    blocking: tuple[str, ...] = ()  # qualified names of blocking calls, in order
    reads: tuple[Read, ...] = ()
    returns: frozenset[str] = frozenset()  # the return annotation's qualified names
    # its requests calls, when it makes any: whether they can run on the shared aiohttp client
    http: HttpFacts | None = None
    generator: bool = False  # a ``yield`` in its own body: it becomes an async generator
    # the body of a streamed generator defined in it (``def generate(): ... yield``, used only as
    # ``return Response(generate(), ...)``) runs as part of it: the qualified names it calls
    streamed: frozenset[str] = frozenset()
    streamed_generators: tuple[str, ...] = ()  # their names
    # qualified names of functions it calls other than as the iterable of a ``for`` or a
    # ``yield from``, the value of a ``return`` or an assignment, or an awaited value
    # (``list(words(text))``): a generator called so cannot become an async generator
    consumed: frozenset[str] = frozenset()
    value_returns: bool = False  # a ``return`` of something other than a call (``return []``)
    # for each function its own body calls with no argument (a getter is called so): how its use
    # of what that call gives would run on the async sqlite3 connection, should the function be a
    # getter that opens one (codemod/sqlite_io.py; the plan knows which)
    sqlite: tuple[tuple[str, SqliteFacts], ...] = ()
    # a function that opens sqlite3: why the async twin cannot be written from its opening (a getter's)
    sqlite_opening: str | None = None


@dataclass(frozen=True)
class ModelFacts:
    qualified: str
    relationships: frozenset[str]
    # method -> the relationships it reads of self: (relationship, the parameter a test guards it by)
    methods: dict[str, tuple[tuple[str, str | None], ...]] = field(default_factory=dict)
    # method -> the methods it calls on something else (``m.to_dict()`` for m in self.messages):
    # their reads of relationships happen too
    other_calls: dict[str, frozenset[str]] = field(default_factory=dict)
    bases: frozenset[str] = frozenset()
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)  # method -> its parameters after self
    backrefs: frozenset[str] = frozenset()  # relationships its relationships' backref= give other models

    def active_reads(self, method: str, given: frozenset[str]) -> list[str]:
        """The relationships ``obj.method(...)`` reads, given the parameters (names or positions) the
        call gives a value that may be true."""
        params = self.params.get(method, ())
        named = {params[int(g)] if g.isdigit() and int(g) < len(params) else g for g in given}
        return [r for r, guard in self.methods.get(method, ()) if guard is None or guard in named]


def async_facts(function: cst.FunctionDef, names: Names, http: HttpFacts | None = None) -> AsyncFacts:
    reader = _Reader(names)
    types: dict[str, frozenset[str]] = {}
    for param in (*function.params.params, *function.params.kwonly_params, *function.params.posonly_params):
        if param.annotation is not None:
            types[param.name.value] = frozenset(names(param.annotation.annotation))
    reader.types = types
    function.body.visit(reader)
    streamed: set[str] = set()
    generators = streamed_generators(function)
    for nested in generators:
        before = len(reader.calls)
        reader.depth += 1
        nested.body.visit(reader)
        reader.depth -= 1
        streamed |= {q for call in reader.calls[before:] for q in call}
    returns = frozenset(names(function.returns.annotation)) if function.returns is not None else frozenset()
    return AsyncFacts(
        tuple(reader.blocking), tuple(reader.reads), returns, http, is_generator(function),
        frozenset(streamed), tuple(g.name.value for g in generators), frozenset(reader.consumed),
        reader.value_returns,
    )


def is_generator(function: cst.FunctionDef) -> bool:
    """A ``yield`` in the function's own body (not in a nested function or lambda)."""

    class Finder(Visitor):
        found = False

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_Yield(self, node: cst.Yield) -> None:
            self.found = True

    finder = Finder()
    function.body.visit(finder)
    return finder.found


def streamed_generators(function: cst.FunctionDef) -> list[cst.FunctionDef]:
    """The generator functions defined in ``function``'s body whose only use is a call inside a
    ``return`` of it (``return Response(stream_with_context(generate()), ...)``): their body runs
    as the answer's, so an async ``function`` can make them async generators."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    found = []
    for statement in body:
        if not isinstance(statement, cst.FunctionDef) or statement.decorators or statement.asynchronous or not is_generator(statement):
            continue
        name = statement.name.value
        uses = [n for n in findall(function.body, m.Name(name))]
        in_returns = [
            c for r in findall(function.body, m.Return()) for c in findall(r, m.Call(func=m.Name(name), args=[]))
        ]
        # every use: its def's name and one call with no arguments in a return
        if len(in_returns) == 1 and len(uses) == 2:
            found.append(statement)
    return found


def _local(names: Names, node: cst.BaseExpression) -> bool:
    """A variable of the function (or of a comprehension), not a module-level or imported name."""
    found = names(node)
    return not found or any("<locals>" in q or "<comprehension>" in q for q in found)


class _Reader(Visitor):
    def __init__(self, names: Names) -> None:
        self.names = names
        self.types: dict[str, frozenset[str]] = {}
        self.blocking: list[str] = []
        self.calls: list[set[str]] = []  # the qualified names of each call, in order
        self.iterated: set[cst.CSTNode] = set()  # values a for, return, assignment or await takes whole
        self.consumed: set[str] = set()
        self.value_returns = False
        self.reads: list[Read] = []
        self.depth = 0
        self.simple = 0  # inside a simple statement

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.simple += 1

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self.simple -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function runs where it is called: its own facts, if any

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_For(self, node: cst.For) -> None:
        self.iterated.add(node.iter)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.iterated.add(node.value)
        if not isinstance(node.value, cst.Call):
            self.value_returns = True

    def visit_Await(self, node: cst.Await) -> None:
        self.iterated.add(node.expression)

    def visit_From(self, node: cst.From) -> None:
        self.iterated.add(node.item)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.iterated.add(node.value)
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            held = self._holds(node.value)
            if held:
                self.types[node.targets[0].target.value] = held

    def _holds(self, value: cst.BaseExpression) -> frozenset[str]:
        if not isinstance(value, cst.Call):
            return frozenset()
        func = value.func
        if isinstance(func, cst.Attribute) and func.attr.value in ONE_OBJECT and value.args:
            first = value.args[0].value
            # select(Model).where(...).order_by(...): the model is select's
            while isinstance(first, cst.Call) and isinstance(first.func, cst.Attribute) and isinstance(first.func.value, cst.Call):
                first = first.func.value
            if isinstance(first, cst.Call) and self.names(first.func) & SELECT and first.args:
                return frozenset(self.names(first.args[0].value))
            if func.attr.value != "scalar":
                return frozenset(self.names(first))
            return frozenset()
        called = self.names(func)
        return frozenset(called) | frozenset(f"call:{q}" for q in called)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(self.names(node.func))
        if node not in self.iterated:
            self.consumed |= self.calls[-1]
        for qualified in self.names(node.func):
            if blocking_kind(qualified):
                self.blocking.append(qualified)
        func = node.func
        local = self._receiver(func.value) if isinstance(func, cst.Attribute) else None
        if local is not None:
            given = frozenset(
                a.keyword.value if a.keyword is not None else str(i)
                for i, a in enumerate(node.args)
                if not m.matches(a.value, m.Name("False") | m.Name("None") | m.Integer("0") | m.SimpleString('""') | m.SimpleString("''"))
            )
            self.reads.append(Read(local, self.types.get(local, frozenset()), func.attr.value, given, self.simple > 0))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        local = self._receiver(node.value)
        if local is not None:
            self.reads.append(Read(local, self.types.get(local, frozenset()), node.attr.value, None, self.simple > 0))

    def _receiver(self, node: cst.BaseExpression) -> str | None:
        """``x`` for a local variable, ``g.user`` for an attribute of flask.g, else None."""
        if isinstance(node, cst.Name) and _local(self.names, node):
            return node.value
        if isinstance(node, cst.Attribute) and self.names(node.value) & G:
            return f"g.{node.attr.value}"
        return None


def model_facts(node: cst.ClassDef, qualified: str, names: Names) -> ModelFacts | None:
    """A class with ``relationship()`` attributes (else None)."""
    relationships = set()
    backrefs: set[str] = set()
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                target, value = None, None
                if isinstance(small, cst.AnnAssign):
                    target, value = small.target, small.value
                elif isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target, value = small.targets[0].target, small.value
                if isinstance(target, cst.Name) and isinstance(value, cst.Call) and _relationship(names(value.func)):
                    relationships.add(target.value)
                    backrefs |= _backrefs(value, names)
    bases = frozenset(q for base in node.bases for q in names(base.value))
    methods: dict[str, tuple[tuple[str, str | None], ...]] = {}
    method_params: dict[str, tuple[str, ...]] = {}
    other_calls: dict[str, frozenset[str]] = {}
    for statement in body:
        if not isinstance(statement, cst.FunctionDef):
            continue
        params = statement.params.params
        if not params:
            continue
        self_name = params[0].name.value
        falsy = {p.name.value for p in params[1:] if p.default is not None and m.matches(p.default, m.Name("False") | m.Name("None"))}
        reads = _self_reads(statement, self_name, relationships, falsy)
        method_params[statement.name.value] = tuple(p.name.value for p in params[1:])
        if reads:
            methods[statement.name.value] = tuple(reads)
        other_calls[statement.name.value] = frozenset(
            c.func.attr.value  # type: ignore[attr-defined]
            for c in findall(statement, m.Call(func=m.Attribute()))
            if not m.matches(c.func.value, m.Name(self_name))  # type: ignore[attr-defined]
        )
    if not relationships and not (bases & DECLARATIVE) and not _flask_model(bases):
        return None
    return ModelFacts(qualified, frozenset(relationships), methods, other_calls, bases, method_params, frozenset(backrefs))


def _relationship(called: set[str]) -> bool:
    """``relationship(...)``, or Flask-SQLAlchemy's ``db.relationship(...)`` (whose ``db`` the
    facts pass knows only by its module: any ``x.relationship`` counts, which can only keep
    more code sync)."""
    return bool(called & RELATIONSHIP) or any(q.endswith(".relationship") for q in called)


def _flask_model(bases: frozenset[str]) -> bool:
    """A Flask-SQLAlchemy model (``class Author(db.Model)``), relationships or not."""
    return any(b.endswith(".Model") for b in bases)


def _backrefs(call: cst.Call, names: Names) -> set[str]:
    """The attributes a relationship's ``backref=`` puts on the other model (``backref="author"``,
    ``backref=db.backref("books", lazy=True)``): relationships too, of a class this one is not."""
    found = set()
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value != "backref":
            continue
        value = arg.value
        if isinstance(value, cst.Call) and value.args:
            value = value.args[0].value
        if isinstance(value, cst.SimpleString):
            found.add(value.evaluated_value)
    return found


def _self_reads(function: cst.FunctionDef, self_name: str, relationships: set[str], falsy: set[str]) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []

    class Finder(Visitor):
        def __init__(self) -> None:
            self.guards: list[str | None] = []

        def visit_If(self, node: cst.If) -> None:
            test = node.test  # (an ``else`` runs when the test is false: no guard then)
            guarded = isinstance(test, cst.Name) and test.value in falsy and node.orelse is None
            self.guards.append(test.value if guarded else None)

        def leave_If(self, original_node: cst.If) -> None:
            self.guards.pop()

        def visit_Attribute(self, node: cst.Attribute) -> None:
            if m.matches(node.value, m.Name(self_name)) and node.attr.value in relationships:
                guard = next((g for g in reversed(self.guards) if g is not None), None)
                found.append((node.attr.value, guard))

    function.body.visit(Finder())
    return found
