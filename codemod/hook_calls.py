"""Whether a request hook can run on the event loop: every call it makes is one that cannot block.

RequestHooks (the runtime's hooks.py) awaits an ``async def`` hook on the loop and sends a ``def``
one to the thread pool: two thread hops per request for a before and an after hook, on every
route, which costs an async app a few per cent of its CPU and the hooks' latency a queue wait
under load. A FastAPI engineer writes a hook that only stamps a request id, times the request
and logs a line as ``async def``.

The test is a list of what may be called, not of what blocks: a hook whose calls are all
builtins, clocks, id makers, reads of the request's headers and ``g``, the response's headers,
a module-level compiled pattern or logger (logging is the one I/O every async app does on the
loop), or ``str`` methods, cannot block; any other call (a project helper, a cache client, a
file) keeps the hook ``def``, in the thread pool, as it was.

The same test makes a view an app factory defines ``async def`` where the project's views go
async (the async plan follows module-level functions only): one that answers from the request
and ``g`` with ``jsonify`` has nothing to send to the thread pool either.
"""

from __future__ import annotations

from typing import Callable

import libcst as cst
import libcst.matchers as m

from codemod.app_logger import LOG_METHODS
from codemod.find import findall

Names = Callable[[cst.CSTNode], set[str]]

SAFE_FUNCTIONS = frozenset({
    *(f"builtins.{name}" for name in (
        "abs", "all", "any", "bool", "dict", "enumerate", "float", "format", "frozenset", "getattr", "hasattr",
        "int", "isinstance", "len", "list", "max", "min", "repr", "round", "set", "setattr", "sorted", "str",
        "sum", "tuple", "zip",
    )),
    "time.perf_counter", "time.perf_counter_ns", "time.monotonic", "time.monotonic_ns", "time.time",
    "time.time_ns", "uuid.uuid4", "uuid.uuid1", "secrets.token_hex", "secrets.token_urlsafe",
    "datetime.datetime.now", "datetime.datetime.utcnow",
})
# reads of the request and of g (``request.headers.get``, ``g.get``, ``g.pop``)
READ_METHODS = frozenset({"get", "getlist", "get_all", "pop", "setdefault", "items", "keys", "values"})
READ_ROOTS = ("flask.request.headers.", "flask.request.args.", "flask.request.cookies.", "flask.g.")
HEADER_METHODS = READ_METHODS | {"set", "add", "update", "extend"}
PATTERN_METHODS = frozenset({"match", "fullmatch", "search", "sub", "subn", "findall", "finditer", "split"})
STR_METHODS = frozenset({
    "strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title", "startswith", "endswith", "replace",
    "format", "encode", "decode", "split", "rsplit", "partition", "rpartition", "isdigit", "isalnum",
    "isascii", "removeprefix", "removesuffix", "zfill",
})
LOGGER, PATTERN = "logger", "pattern"


def module_receivers(module: cst.Module, qualified: str, names: Names) -> dict[str, str]:
    """The module-level names bound once to ``logging.getLogger(...)`` (a logger) or
    ``re.compile(...)`` (a pattern), by their qualified names."""
    bound: dict[str, list[str | None]] = {}
    for statement in module.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if not isinstance(small, (cst.Assign, cst.AnnAssign)):
                continue
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            kind = None
            if isinstance(small.value, cst.Call):
                called = names(small.value.func)
                kind = LOGGER if "logging.getLogger" in called else PATTERN if "re.compile" in called else None
            for target in targets:
                if isinstance(target, cst.Name):
                    bound.setdefault(f"{qualified}.{target.value}", []).append(kind)
    return {name: kinds[0] for name, kinds in bound.items() if len(kinds) == 1 and kinds[0] is not None}


def cannot_block(function: cst.FunctionDef, names: Names, receivers: dict[str, str], also: frozenset[str] = frozenset()) -> bool:
    """Every call in the function is one of those the module docstring lists, or named in ``also``."""
    params = {p.name.value for p in function.params.params}
    return all(_safe(call.func, names, receivers, params, also) for call in findall(function.body, m.Call()))  # type: ignore[attr-defined]


def _safe(func: cst.BaseExpression, names: Names, receivers: dict[str, str], params: set[str], also: frozenset[str]) -> bool:
    called = names(func)
    if called & (SAFE_FUNCTIONS | also):
        return True
    if not isinstance(func, cst.Attribute):
        return False
    method = func.attr.value
    if method in READ_METHODS and any(q.startswith(READ_ROOTS) for q in called):
        return True
    value = func.value
    if method in STR_METHODS or (method == "join" and isinstance(value, cst.SimpleString)):  # ",".join(...)
        return True
    if method in LOG_METHODS and isinstance(value, cst.Attribute) and value.attr.value == "logger":
        return True  # app.logger, current_app.logger: Flask's app logger
    kinds = {receivers.get(q) for q in names(value)}
    if (method in LOG_METHODS and LOGGER in kinds) or (method in PATTERN_METHODS and PATTERN in kinds):
        return True
    # the after hook's response: ``response.headers.setdefault(...)``
    return (
        method in HEADER_METHODS and isinstance(value, cst.Attribute) and value.attr.value == "headers"
        and isinstance(value.value, cst.Name) and value.value.value in params
    )
