"""What a function's use of the request's sqlite3 connection needs to run on the async one (facts, pure).

A Flask-tutorial app reaches its sqlite3 connection through a getter (``get_db()``, kept on
``flask.g``). In a function that becomes ``async def``, the request's connection is the runtime's
``AsyncSqlite`` instead (runtime/flask2fastapi_runtime/async_sqlite.py): the same calls, awaited,
and what they answer is a cursor whose rows are already read, so its own reads stay as they were.
``get_db().execute(sql, args).fetchone()[0]`` -> ``(await db.execute(sql, args)).fetchone()[0]``.

``analyse(function, names, getters)`` says, node by node, which calls become awaits, or why the
function cannot convert: a use of the connection with no async form here (``db.cursor()``,
``with db:``, ``db.create_function``...), the connection handed to code that would use it
synchronously (an argument, a return value, a nested function), or a cursor used for more than
its answer (``cursor.execute`` again, ``cursor.description``, which the async reads do not
keep). ``sqlite_facts`` is the summary the whole-program plan reads; ``sqlite_uses`` gives it
for every function the body calls with no argument, since the facts pass, one file at a time,
cannot know yet which of them is a getter that opens sqlite3 (the plan picks those).

The receivers are what the function's own body gets from a getter: the call itself
(``get_db().execute``) and a local bound to it (``db = get_db()``). A connection a function
takes as a parameter is its caller's business: passing one is a problem at the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping

import libcst as cst

Names = Callable[[cst.CSTNode], set[str]]

CONNECT = "sqlite3.connect"
# connection methods that do I/O: awaited on the async connection, same arguments
AWAITED = frozenset({"execute", "executemany", "executescript", "commit", "rollback", "close"})
# connection attributes read as they are (sqlite3's exception classes, the transaction state)
KEPT = frozenset({
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError", "IntegrityError",
    "InternalError", "ProgrammingError", "NotSupportedError", "in_transaction",
})
# connection attributes a getter sets that the async connection takes as they are
SETTABLE = frozenset({"row_factory"})
# what a cursor's answer is read with: the async answer has every row already
CURSOR_READS = frozenset({"fetchone", "fetchall", "fetchmany", "lastrowid", "rowcount", "close", "arraysize"})


@dataclass
class Analysis:
    awaits: list[cst.Call] = field(default_factory=list)  # calls of the connection to await, in order
    problem: tuple[cst.CSTNode, str] | None = None


@dataclass(frozen=True)
class SqliteFacts:
    """What the whole-program plan needs: how many calls of the request's sqlite3 connection
    become awaits, and why the function cannot take the async connection (None: it can)."""

    calls: int
    problem: str | None


def sqlite_getters(getters: Iterable[str], blocking: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """The request-resource getters (qualified) whose own code opens ``sqlite3.connect``;
    ``blocking``: each function's blocking calls (codemod/async_facts.py ``AsyncFacts.blocking``)."""
    return frozenset(g for g in getters if CONNECT in set(blocking.get(g, ())))


def sqlite_facts(function: cst.FunctionDef, names: Names, getters: frozenset[str]) -> SqliteFacts:
    analysis = analyse(function, names, getters)
    return SqliteFacts(len(analysis.awaits), analysis.problem[1] if analysis.problem else None)


def opening_problem(function: cst.FunctionDef, names: Names) -> str | None:
    """Why the async twin of a sqlite3 getter cannot be written from the block that opens its
    connection (None: it can; transforms/request_state.py writes it). The block is the getter's
    ``if "db" not in g:`` (codemod/state.py checked that form): one ``x = sqlite3.connect(...)``,
    settings the async connection takes as sqlite3's did (``x.row_factory = ...``) and calls of
    the connection that become awaits (``x.execute("PRAGMA foreign_keys = ON")``)."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    block = body[-2] if len(body) >= 2 else None
    if not isinstance(block, cst.If) or not isinstance(block.body, cst.IndentedBlock):
        return f"{function.name.value} opens its connection other than in an if block"
    connected = False
    for statement in block.body.body:
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            value, target = small.value, small.targets[0].target
            if not connected and isinstance(value, cst.Call) and CONNECT in names(value.func):
                connected = True
                continue
            if connected and isinstance(target, cst.Attribute) and target.attr.value in SETTABLE:
                continue
        elif connected and isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            func = small.value.func
            if isinstance(func, cst.Attribute) and func.attr.value in AWAITED - {"close"}:
                continue
        return f"`{_code(statement)}` in {function.name.value}: the async connection has no form for it here"
    return None if connected else f"{function.name.value} opens no sqlite3 connection in its if block"


def sqlite_uses(function: cst.FunctionDef, names: Names) -> tuple[tuple[str, SqliteFacts], ...]:
    """``sqlite_facts`` for each qualified name the function's own body calls with no argument
    (a getter is called so), builtins left out; sorted by name."""
    called = {
        q for node in _own(function.body) if isinstance(node, cst.Call) and not node.args
        for q in names(node.func) if not q.startswith("builtins.") and "<locals>" not in q
    }
    if not called:
        return ()
    analyser = _Analyser(function, names, frozenset(), Analysis())
    found = []
    for getter in sorted(called):
        analysis = analyser.analyse(frozenset({getter}))
        found.append((getter, SqliteFacts(len(analysis.awaits), analysis.problem[1] if analysis.problem else None)))
    return tuple(found)


def analyse(function: cst.FunctionDef, names: Names, getters: frozenset[str]) -> Analysis:
    if not getters:
        return Analysis()
    return _Analyser(function, names, getters, Analysis()).analyse(getters)


class _Problem(Exception):
    def __init__(self, node: cst.CSTNode, message: str) -> None:
        super().__init__(message)
        self.node, self.message = node, message


def _code(node: cst.CSTNode) -> str:
    text = " ".join(cst.Module([]).code_for_node(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _own(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes of a function's body, nested functions, lambdas and classes left out."""
    for child in node.children:
        yield child
        if not isinstance(child, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            yield from _own(child)


def _bound_name(value: cst.CSTNode, parents: dict) -> str | None:
    """``x`` for ``x = value`` standing alone, else None."""
    parent = parents.get(value)
    if isinstance(parent, cst.Assign) and parent.value is value and len(parent.targets) == 1:
        target = parent.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    return None


class _Analyser:
    def __init__(self, function: cst.FunctionDef, names: Names, getters: frozenset[str], out: Analysis) -> None:
        self.function, self.names, self.getters, self.out = function, names, getters, out
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        for node in _walk(function.body):
            for child in node.children:
                self.parents[child] = node
        self.own = list(_own(function.body))

    def analyse(self, getters: frozenset[str]) -> Analysis:
        """The analysis for these getters (the parents and nodes, built once, serve any)."""
        self.getters, self.out = getters, Analysis()
        try:
            self.run()
        except _Problem as problem:
            return Analysis(problem=(problem.node, problem.message))
        return self.out

    def run(self) -> None:
        getter_calls = [n for n in self.own if isinstance(n, cst.Call) and self.names(n.func) & self.getters]
        connections = {name for call in getter_calls if (name := _bound_name(call, self.parents))}
        self._check_bindings(connections, getter_calls)
        cursors: set[str] = set()
        for call in getter_calls:
            if _bound_name(call, self.parents) is None:
                self._use(call, cursors)
        for node in self._references(connections):
            self._use(node, cursors)
        self._check_nested(connections | cursors)
        for node in self._references(cursors):
            self._cursor_use(node)

    def _references(self, locals_: set[str]) -> Iterator[cst.Name]:
        for node in self.own:
            if not isinstance(node, cst.Name) or node.value not in locals_:
                continue
            parent = self.parents.get(node)
            if isinstance(parent, cst.AssignTarget) or (isinstance(parent, cst.Attribute) and parent.attr is node):
                continue
            if isinstance(parent, cst.Arg) and parent.keyword is node:
                continue
            yield node

    def _check_bindings(self, connections: set[str], getter_calls: list[cst.Call]) -> None:
        """A local that holds the connection holds nothing else, and is no parameter."""
        params = self.function.params
        taken = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
        for name in connections & taken:
            raise _Problem(self.function, f"`{name}` is a parameter and the request's connection")
        sources = set(getter_calls)
        for node in self.own:
            targets: list[cst.BaseExpression] = []
            if isinstance(node, cst.Assign):
                if node.value in sources:
                    continue
                targets = [t.target for t in node.targets]
            elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
                targets = [node.target]
            elif isinstance(node, (cst.For, cst.CompFor)):
                targets = [node.target]
            elif isinstance(node, cst.WithItem) and node.asname is not None:
                targets = [node.asname.name]
            elif isinstance(node, cst.NamedExpr):
                targets = [node.target]
            for target in targets:
                for name in (n.value for n in _walk(target) if isinstance(n, cst.Name)):
                    if name in connections:
                        raise _Problem(node, f"`{name}` is bound to the request's connection and to something else")

    def _check_nested(self, locals_: set[str]) -> None:
        for node in self.own:
            if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                inner = {n.value for n in _walk(node) if isinstance(n, cst.Name)} & locals_
                if inner:
                    raise _Problem(node, f"the connection or its cursor ({', '.join(sorted(inner))}) is used in a nested function")

    def _use(self, node: cst.BaseExpression, cursors: set[str]) -> None:
        """One use of the connection: a call that becomes an await, or a kept attribute."""
        parent = self.parents.get(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            attr = parent.attr.value
            outer = self.parents.get(parent)
            if attr in AWAITED and isinstance(outer, cst.Call) and outer.func is parent:
                if not isinstance(self.parents.get(outer), cst.Await):  # (converted already)
                    self.out.awaits.append(outer)
                if attr in ("execute", "executemany", "executescript"):
                    self._answer(outer, cursors)
                return
            if attr in KEPT and not isinstance(outer, cst.AssignTarget):
                return
            raise _Problem(parent, f"`{_code(parent)}`: the async connection has no {attr} here")
        if isinstance(parent, (cst.WithItem,)):
            raise _Problem(parent, f"`{_code(node)}` as a context manager (sqlite3 commits or rolls back there)")
        raise _Problem(node, f"`{_code(node)}`: the connection is passed on, kept or tested, where it would be used synchronously")

    def _answer(self, call: cst.Call, cursors: set[str]) -> None:
        """What the answer of ``execute`` goes to: read at once, bound to a local, or iterated."""
        if isinstance(self.parents.get(call), cst.Await):
            call = self.parents[call]
        parent = self.parents.get(call)
        name = _bound_name(call, self.parents)
        if name is not None:
            cursors.add(name)
            return
        if isinstance(parent, cst.Attribute) and parent.value is call:
            self._cursor_attribute(parent)
        # anything else (a statement, a for loop, an argument, a return): the answer is a cursor
        # read whole, which iterates and reads as sqlite3's did

    def _cursor_use(self, node: cst.Name) -> None:
        parent = self.parents.get(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            self._cursor_attribute(parent)

    def _cursor_attribute(self, attribute: cst.Attribute) -> None:
        if attribute.attr.value not in CURSOR_READS:
            raise _Problem(attribute, f"`{_code(attribute)}`: a cursor's {attribute.attr.value} has no async form here")
