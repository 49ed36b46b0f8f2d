"""Pass 1 of `flask2fastapi lint` (codemod/lint.py): one file reduced to picklable facts.

A file's names are resolved once (codemod/names.py) and the file becomes: its functions
(async or not, a sync generator or not) with every call their body makes on the spot, written
as expressions over qualified names (``("call", ("attr", ("name", "requests"), "post"), True)``);
what each name is bound to (``s = requests.Session()``, ``db: Session``, ``self.http = ...``,
``request.state.db = ...``, ``DbDep = Annotated[...]``, the item a ``-> Iterator[Session]``
generator yields, ``from .llm import complete``); and each class's bases. Nothing here knows
what blocks: codemod/lint.py evaluates the facts of every file together.

A call is recorded only where it runs when its function's body runs: not awaited, not the call
of ``async with`` / ``async for``, not inside a nested ``def`` (that one's own call) or a
``lambda``. A function passed to ``asyncio.to_thread`` and the like is a reference, not a call,
so it is never recorded for the function that passes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from codemod.visitors import Visitor
from libcst.helpers import get_absolute_module_from_package_for_import
from libcst.metadata import PositionProvider
from codemod.names import FullNames

from codemod.blocking import CONTEXT_MANAGERS
from codemod.findings import PARSE_ERROR, TRANSFORM_ERROR, Code, ignored_codes
from codemod.project import module_of, wrap

# An expression over qualified names, as nested tuples (picklable, cheap to merge):
#   ("name", "requests.post") ("self", "pkg.llm.Client") ("cls", "pkg.llm.Client")
#   ("attr", Expr, "get") ("call", Expr, has_arguments) ("sub", Expr, (Expr, ...)) ("union", (Expr, ...))
Expr = tuple


@dataclass(frozen=True)
class Site:
    """A call that runs where its function's body runs (not awaited, not in a nested def)."""

    line: int
    col: int  # 1-based, as editors count
    func: Expr | None
    has_arguments: bool
    ignored: frozenset[str]  # codes silenced by ``# f2f: ignore[...]`` ("*": every code)
    iterated: bool = False  # the iterable of a sync ``for``


@dataclass
class Function:
    qname: str
    module: str
    path: str
    is_async: bool
    line: int
    returns: Expr | None = None
    generator: bool = False  # a sync generator: calling it runs nothing
    sites: list[Site] = field(default_factory=list)

    @property
    def local(self) -> str:
        """Its name within its module: ``send_message``, ``Client.post``."""
        local = self.qname[len(self.module) + 1:] if self.qname.startswith(self.module + ".") else self.qname
        return local.replace(".<locals>", "")

    @property
    def display(self) -> str:
        return f"{self.module.rpartition('.')[2]}.{self.local}"


@dataclass
class FileFacts:
    path: str
    functions: dict[str, Function] = field(default_factory=dict)
    bindings: dict[str, list[tuple[str, Expr]]] = field(default_factory=dict)  # ("value" | "annot", Expr)
    classes: dict[str, list[Expr]] = field(default_factory=dict)  # bases
    error: tuple[Code, str] | None = None


class _Frame:
    def __init__(self, qname: str, function: Function | None = None) -> None:
        self.qname = qname
        self.function = function  # None: a class body
        self.lambdas = 0
        self.context_manager = False


class _Collector(Visitor):
    METADATA_DEPENDENCIES = (FullNames, PositionProvider)

    def __init__(self, facts: FileFacts, module: str, package: str, lines: list[str]) -> None:
        super().__init__()
        self.facts, self.module, self.package, self.lines = facts, module, package, lines
        self.frames: list[_Frame] = []
        self.selves: dict[str, Expr] = {}  # "pkg.m.C.f.<locals>.self" -> ("self", "pkg.m.C")
        self.exempt: set[int] = set()  # ids of calls that are awaited or entered asynchronously
        self.iterated: set[int] = set()
        self.statements: list[tuple[int, int]] = []  # the simple statements around the node

    # names and expressions

    def _qualified(self, node: cst.CSTNode) -> str | None:
        names = self.get_metadata(FullNames, node, set())
        return min(n.name for n in names) if names else None

    def encode(self, node: cst.BaseExpression) -> Expr | None:
        if isinstance(node, cst.Name):
            name = self._qualified(node)
            return None if name is None else self.selves.get(name, ("name", name))
        if isinstance(node, cst.Attribute):
            return ("attr", self.encode(node.value), node.attr.value)
        if isinstance(node, cst.Call):
            return ("call", self.encode(node.func), bool(node.args))
        if isinstance(node, cst.Subscript):
            items = tuple(self.encode(e.slice.value) for e in node.slice if isinstance(e.slice, cst.Index))
            return ("sub", self.encode(node.value), items)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return ("union", (self.encode(node.left), self.encode(node.right)))
        return None

    def _bind(self, key: str | None, how: str, expr: Expr | None) -> None:
        if key is not None and expr is not None:
            self.facts.bindings.setdefault(key, []).append((how, expr))

    def _target_key(self, target: cst.BaseExpression) -> str | None:
        if isinstance(target, cst.Name):
            return self._qualified(target)
        if isinstance(target, cst.Attribute):
            owner = self.encode(target.value)
            if owner is not None and owner[0] == "self":
                return f"{owner[1]}.<self>.{target.attr.value}"
            # ``request.state.db = SessionLocal()``: the dotted name its reads resolve to
            attributes = [target.attr.value]
            while owner is not None and owner[0] == "attr":
                attributes.insert(0, owner[2])
                owner = owner[1]
            if owner is not None and owner[0] == "name":
                return ".".join((owner[1], *attributes))
        return None

    # scopes

    def _prefix(self) -> str:
        if not self.frames:
            return self.module
        top = self.frames[-1]
        return top.qname + (".<locals>" if top.function is not None else "")

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qname = f"{self._prefix()}.{node.name.value}"
        self.facts.classes[qname] = [e for e in (self.encode(b.value) for b in node.bases) if e is not None]
        self.frames.append(_Frame(qname))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.frames.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        qname = f"{self._prefix()}.{node.name.value}"
        line = self.get_metadata(PositionProvider, node).start.line
        function = Function(qname, self.module, self.facts.path, node.asynchronous is not None, line)
        decorators = {self._qualified(d.decorator) for d in node.decorators}
        owner = self.frames[-1] if self.frames else None
        params = [*node.params.posonly_params, *node.params.params]
        if owner is not None and owner.function is None and params and "builtins.staticmethod" not in decorators:
            first = self._qualified(params[0].name)
            if first is not None:
                self.selves[first] = ("cls" if "builtins.classmethod" in decorators else "self", owner.qname)
        if node.returns is not None:
            function.returns = self.encode(node.returns.annotation)
        self.facts.functions[qname] = function
        frame = _Frame(qname, function)
        frame.context_manager = bool(decorators & CONTEXT_MANAGERS)
        self.frames.append(frame)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.frames.pop()

    def visit_Param(self, node: cst.Param) -> None:
        if node.annotation is not None:
            self._bind(self._qualified(node.name), "annot", self.encode(node.annotation.annotation))

    def visit_Lambda(self, node: cst.Lambda) -> None:
        if self.frames:
            self.frames[-1].lambdas += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        if self.frames:
            self.frames[-1].lambdas -= 1

    def visit_Yield(self, node: cst.Yield) -> None:
        frame = self.frames[-1] if self.frames else None
        if frame is None or frame.function is None or frame.lambdas:
            return
        if not frame.context_manager:
            frame.function.generator = not frame.function.is_async
        if isinstance(node.value, cst.Name) and frame.function.returns is not None:
            # ``def get_db() -> Iterator[Session]: db = ...; yield db``: db is a Session
            self._bind(self._qualified(node.value), "yield", frame.function.returns)

    # bindings

    def visit_Assign(self, node: cst.Assign) -> None:
        value = self.encode(node.value)
        for target in node.targets:
            self._bind(self._target_key(target.target), "value", value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        key = self._target_key(node.target)
        self._bind(key, "annot", self.encode(node.annotation.annotation))
        if node.value is not None:
            self._bind(key, "value", self.encode(node.value))

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if node.asynchronous is not None:
                if isinstance(item.item, cst.Call):
                    self.exempt.add(id(item.item))
            elif item.asname is not None:
                self._bind(self._target_key(item.asname.name), "value", self.encode(item.item))

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.iter, cst.Call):
            (self.exempt if node.asynchronous is not None else self.iterated).add(id(node.iter))

    def visit_Await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self.exempt.add(id(node.expression))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        # ``from .llm import complete`` in a package's __init__: pkg.complete is pkg.llm.complete
        if self.frames or isinstance(node.names, cst.ImportStar):
            return
        try:
            source = get_absolute_module_from_package_for_import(self.package or None, node)
        except Exception:  # a relative import beyond the top package
            return
        if source is None:
            return
        for alias in node.names:
            name = cst.helpers.get_full_name_for_node(alias.name)
            bound = alias.evaluated_alias or name
            if name and bound:
                self._bind(f"{self.module}.{bound}", "value", ("name", f"{source}.{name}"))

    # calls

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        position = self.get_metadata(PositionProvider, node)
        self.statements.append((position.start.line, position.end.line))

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self.statements.pop()

    def visit_Call(self, node: cst.Call) -> None:
        frame = self.frames[-1] if self.frames else None
        if frame is None or frame.function is None or frame.lambdas or id(node) in self.exempt:
            return
        position = self.get_metadata(PositionProvider, node)
        site = Site(
            position.start.line,
            position.start.column + 1,
            self.encode(node.func),
            bool(node.args),
            self._silenced(position.start.line, position.end.line),
            id(node) in self.iterated,
        )
        frame.function.sites.append(site)

    def _silenced(self, first: int, last: int) -> frozenset[str]:
        """Codes silenced for a call: a ``# f2f: ignore[...]`` on its lines, at the end of its
        statement, or on the comment lines just above the statement."""
        start, end = self.statements[-1] if self.statements else (first, last)
        lines = {first, last, start, end}
        above = start - 1
        while above >= 1 and self.lines[above - 1].lstrip().startswith("#"):
            lines.add(above)
            above -= 1
        comments = [self.lines[n - 1] for n in sorted(lines) if 0 < n <= len(self.lines) and "#" in self.lines[n - 1]]
        return frozenset(ignored_codes(comments) or ())


def collect(path: str, source: bytes) -> FileFacts:
    """One file's facts (pass 1). A file that does not parse gives its error instead."""
    facts = FileFacts(path)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        facts.error = (PARSE_ERROR, " ".join(str(error).split()))
        return facts
    name = module_of(Path(path))
    lines = module.code.splitlines()
    try:
        wrap(module, Path(path)).visit(_Collector(facts, name.name, name.package, lines))
    except Exception as error:  # a bug of the lint's: say so for this file, check the others
        return FileFacts(path, error=(TRANSFORM_ERROR, f"{type(error).__name__}: {error}"))
    return facts


def collect_item(item: tuple[str, bytes]) -> FileFacts:
    return collect(*item)
