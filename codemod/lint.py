"""`flask2fastapi lint`: the blocking calls that run on the event loop inside ``async def``.

Two passes over the paths given, as a whole program:

1. codemod/lint_facts.py reduces each file that could matter to picklable facts: its functions
   and the calls their bodies make, as expressions over qualified names, and what each name is
   bound to.
2. ``Program`` evaluates those expressions against the table in codemod/blocking.py, across
   modules: ``db.session.query(User).first()`` is a Query's ``first`` when ``db`` is a
   Flask-SQLAlchemy object made in another module. A call in an ``async def`` blocks when it is a
   blocking call itself, or a call of a sync function of the project that (transitively) makes one;
   it is reported at the call site with the chain.

Not blocking: an awaited call, the call of ``async with`` / ``async for``, a function passed to
``asyncio.to_thread`` / ``run_in_threadpool`` / ``run_in_executor`` / ``anyio.to_thread.run_sync``
(passed, not called), calls inside a nested ``def`` or a ``lambda`` (they run when those are
called), and calling a sync generator function (its body runs when it is iterated).

Metadata costs about 10x the parse (MEASURED.md), so a file is resolved only when it mentions a
blocking library (blocking.LIBRARY_WORDS), or names something found to block in the files
resolved so far (a sync project function that blocks, an object of a known type, a model class);
that repeats until no new file qualifies. A call can only block through one of those, so an
``async def`` in a file that names none of them has nothing to report. A program without any
``async def`` is not resolved at all; the files never resolved are still parsed.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import libcst as cst

from codemod.blocking import (
    ASYNC_FILES,
    BLOCKING_FUNCTIONS,
    FACTORIES,
    FILES,
    ITERATOR_TYPES,
    KINDS,
    LIBRARY_WORDS,
    PATH_IO_METHODS,
    TYPE_WRAPPERS,
)
from codemod.engine import discover
from codemod.findings import PARSE_ERROR, READ_ERROR, Code
from codemod.lint_facts import Expr, FileFacts, Function, Site, collect, collect_item

__all__ = ["LintFinding", "LintResult", "Program", "collect", "lint_paths"]

# What an expression (lint_facts.Expr) evaluates to, in Program.value:
#   ("path", dotted)         a qualified name the project does not define (a library's)
#   ("inst", kind)           an object of a blocking.KINDS type
#   ("method", kind, name)   a method of one
#   ("func", qname) ("pclass", qname) ("pinst", qname)   a project function, class, instance
#   ("type", Value)          an annotation alias: ``DbDep = Annotated[Session, ...]``
Value = tuple
IDENTIFIER = re.compile(rb"[A-Za-z_]\w*")
ASYNC_DEF = re.compile(rb"^[ \t]*async[ \t]+def\b", re.MULTILINE)
POOL_THRESHOLD = 8  # files; fewer resolve faster inline than a process pool starts


@dataclass(frozen=True)
class LintFinding:
    code: str
    path: str
    line: int
    col: int
    function: str  # the async def, within its module
    chain: tuple[str, ...]  # the project functions called, then the blocking call
    replacement: str
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code, "path": self.path, "line": self.line, "col": self.col, "function": self.function,
            "call": self.chain[-1] if self.chain else None, "chain": list(self.chain),
            "replacement": self.replacement, "message": self.message,
        }


@dataclass
class LintResult:
    findings: list[LintFinding]
    errors: list[LintFinding]  # files that could not be read or parsed (F2F001, F2F003)
    files: int  # .py files under the paths
    resolved: int  # files whose names were resolved
    async_functions: int  # ``async def`` lines in the files, resolved or not


# -- pass 2: the whole program --------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    code: Code
    replacement: str
    chain: tuple[str, ...]


class Program:
    """Evaluates the facts of every file resolved, as one program."""

    def __init__(self, facts: Iterable[FileFacts]) -> None:
        self.functions: dict[str, Function] = {}
        self.bindings: dict[str, list[tuple[str, Expr]]] = {}
        self.classes: dict[str, list[Expr]] = {}
        for file in facts:
            self.functions.update(file.functions)
            self.classes.update(file.classes)
            for key, values in file.bindings.items():
                self.bindings.setdefault(key, []).extend(values)
        self._values: dict[str, Value | None] = {}
        self._blocking: dict[str, _Hit | None] = {}

    # what expressions are

    def value(self, expr: Expr | None) -> Value | None:
        if expr is None:
            return None
        tag = expr[0]
        if tag == "name":
            return self.lookup(expr[1])
        if tag == "self":
            return ("pinst", expr[1])
        if tag == "cls":
            return ("pclass", expr[1])
        if tag == "attr":
            return self.attribute(self.value(expr[1]), expr[2])
        if tag == "call":
            return self.call(self.value(expr[1]))
        if tag == "sub":
            base = self.value(expr[1])
            if base is not None and base[0] == "path" and base[1] in TYPE_WRAPPERS:
                return self._type(expr[2])
            return None
        if tag == "union":
            return self._type(expr[1])
        return None

    def _type(self, exprs: Sequence[Expr | None]) -> Value | None:
        for expr in exprs:
            instance = self.annotation(expr)
            if instance is not None:
                return ("type", instance)
        return None

    def annotation(self, expr: Expr | None) -> Value | None:
        """The object a variable annotated with ``expr`` holds, when the lint knows its type."""
        value = self.value(expr)
        if value is None:
            return None
        if value[0] == "type":
            return value[1]
        if value[0] == "path" and value[1] in FACTORIES:
            return ("inst", FACTORIES[value[1]].kind)
        if value[0] == "pclass":
            return ("pinst", value[1])
        return None

    def lookup(self, dotted: str) -> Value:
        if dotted in self.functions:
            return ("func", dotted)
        if dotted in self.classes:
            return ("pclass", dotted)
        if dotted in self.bindings:
            bound = self._binding(dotted)
            if bound is not None:
                return bound
        return ("path", dotted)

    def _binding(self, key: str) -> Value | None:
        if key in self._values:
            return self._values[key]
        self._values[key] = None  # a binding that refers to itself means nothing known
        values = [self._bound(how, e) for how, e in self.bindings.get(key, ())]
        known = [v for v in values if v is not None]
        # an object the table knows beats a bare name: ``s = requests.Session()`` ... ``s = other``
        result = next((v for v in known if v[0] != "path"), known[0] if known else None)
        self._values[key] = result
        return result

    def _bound(self, how: str, expr: Expr) -> Value | None:
        if how == "value":
            return self.value(expr)
        if how == "annot":
            return self.annotation(expr)
        # "yield": the item type of the generator's ``Iterator[T]`` annotation
        if expr[0] == "sub" and expr[2] and self.value(expr[1]) in {("path", name) for name in ITERATOR_TYPES}:
            return self.annotation(expr[2][0])
        return None

    def attribute(self, value: Value | None, name: str) -> Value | None:
        if value is None:
            return None
        tag = value[0]
        if tag == "path":
            return self.lookup(f"{value[1]}.{name}")
        if tag == "inst":
            kind = KINDS[value[1]]
            return ("inst", kind.attributes[name]) if name in kind.attributes else ("method", value[1], name)
        if tag == "pclass":
            if name == "query" and self._is_model(value[1], set()):
                return ("inst", "sqlalchemy.orm.Query")
            return self._member(value[1], name, instance=False, seen=set())
        if tag == "pinst":
            return self._member(value[1], name, instance=True, seen=set())
        return None

    def _member(self, cls: str, name: str, instance: bool, seen: set[str]) -> Value | None:
        if cls in seen:
            return None
        seen.add(cls)
        qname = f"{cls}.{name}"
        if qname in self.functions:
            return ("func", qname)
        for key in ((f"{cls}.<self>.{name}", qname) if instance else (qname,)):
            if key in self.bindings:
                bound = self._binding(key)
                if bound is not None:
                    return bound
        for base in self.classes.get(cls, ()):
            parent = self.value(base)
            if parent is not None and parent[0] == "pclass":
                found = self._member(parent[1], name, instance, seen)
                if found is not None:
                    return found
        return None

    def _is_model(self, cls: str, seen: set[str]) -> bool:
        """A Flask-SQLAlchemy model: a class whose bases include ``db.Model``."""
        if cls in seen:
            return False
        seen.add(cls)
        for base in self.classes.get(cls, ()):
            parent = self.value(base)
            if parent == ("inst", "flask_sqlalchemy.Model"):
                return True
            if parent is not None and parent[0] == "pclass" and self._is_model(parent[1], seen):
                return True
        return False

    def call(self, value: Value | None) -> Value | None:
        """What calling ``value`` returns, when the lint knows."""
        if value is None:
            return None
        tag = value[0]
        if tag == "path":
            factory = FACTORIES.get(value[1])
            return ("inst", factory.kind) if factory else None
        if tag == "method":
            kind = KINDS[value[1]]
            made = kind.returns.get(value[2]) or (kind.chained if not kind.blocks(value[2]) else None)
            return ("inst", made) if made else None
        if tag == "inst":
            made = KINDS[value[1]].call
            return ("inst", made) if made else None
        if tag == "pclass":
            return ("pinst", value[1])
        if tag == "func":
            function = self.functions[value[1]]
            if function.returns is not None and not function.is_async and not function.generator:
                return self.annotation(function.returns)
        return None

    # what blocks

    def direct(self, site: Site) -> _Hit | None:
        """The blocking call a site makes itself, per the table in codemod/blocking.py."""
        value = self.value(site.func)
        if value is not None and value[0] == "path":
            if value[1] in BLOCKING_FUNCTIONS:
                code, replacement = BLOCKING_FUNCTIONS[value[1]]
                return _Hit(code, replacement, (value[1].removeprefix("builtins."),))
            factory = FACTORIES.get(value[1])
            if factory is not None and factory.blocks and (site.has_arguments or not factory.with_arguments):
                kind = KINDS[factory.kind]
                return _Hit(kind.code, kind.replacement, (value[1],))
        if value is not None and value[0] == "method":
            kind = KINDS[value[1]]
            if kind.blocks(value[2]):
                return _Hit(kind.code, kind.replacement, (f"{value[1]}.{value[2]}",))
        func = site.func
        if func is not None and func[0] == "attr" and func[2] in PATH_IO_METHODS:
            receiver = self.value(func[1])
            if receiver is None or receiver[0] == "path":  # not something the lint knows is no Path
                return _Hit(FILES, ASYNC_FILES, (f"pathlib.Path.{func[2]}",))
        return None

    def target(self, site: Site) -> str | None:
        """The sync project function whose body runs on the spot at this call."""
        value = self.value(site.func)
        if value is None:
            return None
        if value[0] == "pclass":
            name = f"{value[1]}.__init__"
        elif value[0] == "func":
            name = value[1]
        else:
            return None
        function = self.functions.get(name)
        if function is None or function.is_async or (function.generator and not site.iterated):
            return None
        return name

    def site(self, site: Site, stack: frozenset[str]) -> _Hit | None:
        hit = self.direct(site)
        if hit is None:
            name = self.target(site)
            inner = self.blocking(name, stack) if name is not None else None
            if inner is None:
                return None
            hit = _Hit(inner.code, inner.replacement, (self.functions[name].display, *inner.chain))
        if "*" in site.ignored or hit.code.code in site.ignored:
            return None
        return hit

    def blocking(self, name: str, stack: frozenset[str] = frozenset()) -> _Hit | None:
        """The first blocking call a sync function makes, directly or through the project's
        functions it calls; None when it makes none (that the lint can see)."""
        if name in self._blocking:
            return self._blocking[name]
        if name in stack:
            return None
        hit = None
        for site in self.functions[name].sites:
            hit = self.site(site, stack | {name})
            if hit is not None:
                break
        if not stack:  # a result inside a cycle may be partial: keep only top-level ones
            self._blocking[name] = hit
        return hit

    def findings(self) -> list[LintFinding]:
        found: dict[tuple[str, int, str], LintFinding] = {}
        for function in self.functions.values():
            if not function.is_async:
                continue
            for site in function.sites:
                hit = self.site(site, frozenset({function.qname}))
                if hit is None:
                    continue
                call = hit.chain[0]
                via = f" (calls {' -> '.join(hit.chain)})" if len(hit.chain) > 1 else ""
                message = hit.code.message(
                    call=f"{call}()", function=function.local, via=via, replacement=hit.replacement
                )
                finding = LintFinding(
                    hit.code.code, function.path, site.line, site.col, function.local, hit.chain, hit.replacement, message
                )
                key = (finding.path, finding.line, finding.code)
                # one finding a line and family: ``conn.execute(q).fetchall()`` is one fix, named
                # by the call that runs first (the innermost: visited after the calls around it)
                if key not in found or finding.col <= found[key].col:
                    found[key] = finding
        return sorted(found.values(), key=lambda f: (f.path, f.line, f.col, f.code))

    def names_found_blocking(self) -> set[bytes]:
        """The last parts of the names that make a call elsewhere block: sync functions that
        block, objects of a known type bound at module or class level, model classes."""
        names: set[str] = set()
        for name, function in self.functions.items():
            if not function.is_async and self.blocking(name) is not None:
                names.update(function.local.split("."))
        for key in self.bindings:
            if "<locals>" not in key and self._binding(key) is not None and self._binding(key)[0] in {"inst", "type"}:
                names.add(key.rpartition(".")[2])
        names.update(c.rpartition(".")[2] for c in self.classes if self._is_model(c, set()))
        return {n.encode() for n in names if n and n != "<self>"}


# -- the run --------------------------------------------------------------------------------


def _prefiltered(source: bytes) -> bool:
    lowered = source.lower()
    return any(word in lowered for word in LIBRARY_WORDS)


def _error(path: str, code: Code, text: str) -> LintFinding:
    return LintFinding(code.code, path, 0, 0, "", (), "", code.message(error=text))


def lint_paths(paths: Sequence[Path], jobs: int = 1) -> LintResult:
    files = discover(paths)
    sources: dict[str, bytes] = {}
    errors: list[LintFinding] = []
    for path in files:
        try:
            sources[str(path)] = path.read_bytes()
        except OSError as error:
            errors.append(_error(str(path), READ_ERROR, str(error)))
    facts: dict[str, FileFacts] = {}
    async_functions = sum(len(ASYNC_DEF.findall(source)) for source in sources.values())
    # only an async def can block the loop: a program without one needs no name resolved
    has_async = async_functions > 0
    pending = [p for p, source in sources.items() if has_async and _prefiltered(source)]
    identifiers: dict[str, set[bytes]] = {}
    program = Program(())
    while pending:
        for file in _collect_all([(p, sources[p]) for p in pending], jobs):
            facts[file.path] = file
        program = Program(facts.values())
        wanted = program.names_found_blocking()
        pending = []
        for path, source in sources.items():
            if path in facts:
                continue
            if path not in identifiers:
                identifiers[path] = set(IDENTIFIER.findall(source))
            if identifiers[path] & wanted:
                pending.append(path)
    errors += [_error(f.path, *f.error) for f in facts.values() if f.error is not None]
    # a file never resolved is still parsed, by the same parser as the others (a bare parse
    # costs about a tenth of a resolution, MEASURED.md), so a broken file is never passed over
    for path, source in sources.items():
        if path not in facts:
            try:
                cst.parse_module(source)
            except cst.ParserSyntaxError as error:
                errors.append(_error(path, PARSE_ERROR, " ".join(str(error).split())))
    return LintResult(program.findings(), sorted(errors, key=lambda e: e.path), len(files), len(facts), async_functions)


def _collect_all(items: list[tuple[str, bytes]], jobs: int) -> list[FileFacts]:
    if jobs <= 1 or len(items) < POOL_THRESHOLD:
        return [collect(path, source) for path, source in items]
    with ProcessPoolExecutor(max_workers=min(jobs, os.cpu_count() or 1)) as pool:
        return list(pool.map(collect_item, items, chunksize=4))
