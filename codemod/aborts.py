"""Which ``abort(code[, description])`` calls become ``raise HTTPException(...)``.

Shared by the facts passes (codemod/state.py: a before hook that aborts converts only if each of
its aborts does) and the transforms that write the raise (transforms/aborts.py in views, helpers
and hooks; transforms/request_state.py in guards), so that what a plan counts on is exactly what
gets written. A call converts when:

- it is ``flask.abort`` / werkzeug's, alone as a statement;
- it passes the code (an int literal werkzeug has an exception for: ``abort(302)`` is Flask's
  error) and at most a description, nothing else (``abort(response)`` stays);
- the description is not the status's bare phrase (``abort(404, "Not Found")``): Starlette fills
  that in for no detail, which the runtime reads as werkzeug's default description.

Whether a ``try`` or ``with`` around the call could see the exception first is the caller's to
check: it needs the parents of the node (``transforms/_views.guarded``; ``guarded_in`` below for
a function read without metadata).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Callable

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m

from codemod.find import findall

if TYPE_CHECKING:
    from codemod.error_handlers import HandlerPlan, Registration

ABORT = frozenset({"flask.abort", "flask.helpers.abort", "werkzeug.exceptions.abort"})
# werkzeug.exceptions.default_exceptions: the codes abort() raises an exception for
CODES = frozenset(
    {400, 401, 403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424,
     428, 429, 431, 451, 500, 501, 502, 503, 504, 505}
)


def abort_arguments(call: cst.Call) -> tuple[cst.Arg, cst.Arg | None] | None:
    """(code, description) of an ``abort`` call that converts, else None (the name is the
    caller's to check)."""
    if any(a.star for a in call.args) or len(call.args) > 2:
        return None
    positional = [a for a in call.args if a.keyword is None]
    bound = dict(zip(("code", "description"), positional))
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value in bound or arg.keyword.value not in ("code", "description"):
                return None
            bound[arg.keyword.value] = arg
    code, description = bound.get("code"), bound.get("description")
    if code is None or not isinstance(code.value, cst.Integer) or int(code.value.value) not in CODES:
        return None
    if description is not None and isinstance(description.value, (cst.SimpleString, cst.ConcatenatedString)):
        value = description.value.evaluated_value
        if value == HTTPStatus(int(code.value.value)).phrase:
            return None
    return code, description


def is_abort_statement(statement: cst.BaseSmallStatement, names: Callable[[cst.CSTNode], set[str]]) -> bool:
    """``abort(...)`` as a statement of its own."""
    return isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call) and bool(names(statement.value.func) & ABORT)


def aborts_in(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]]) -> tuple[list[cst.Call], bool]:
    """The ``abort`` calls of the function's own body (nested functions excluded), and whether
    every one of them converts: a statement of its own, convertible arguments, no ``try`` with
    handlers or ``with`` around it that could see the exception before the app's handlers."""
    found: list[cst.Call] = []
    every = True

    class Reader(Visitor):
        def __init__(self) -> None:
            self.shelter = 0  # try bodies with handlers and with bodies around the node

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_Try(self, node: cst.Try) -> bool:
            self.shelter += bool(node.handlers)
            node.body.visit(self)
            self.shelter -= bool(node.handlers)
            for part in (*node.handlers, node.orelse, node.finalbody):
                if part is not None:
                    part.visit(self)
            return False

        def visit_With(self, node: cst.With) -> bool:
            for item in node.items:
                item.visit(self)
            self.shelter += 1
            node.body.visit(self)
            self.shelter -= 1
            return False

        def visit_Call(self, node: cst.Call) -> None:
            nonlocal every
            if not names(node.func) & ABORT:
                return
            found.append(node)
            if self.shelter or abort_arguments(node) is None or id(node) not in statements:
                every = False

    statements = {id(s.value) for s in findall(function.body, m.Expr(m.Call()))}
    for statement in function.body.body if isinstance(function.body, cst.IndentedBlock) else ():
        statement.visit(Reader())
    return found, every


def kept_handler(code: int, registrations: Iterable[Registration], plans: Mapping[str, HandlerPlan]) -> str | None:
    """A registered error handler that Flask could pick for ``abort(code)`` and that stays
    Flask's (its short name), else None. A before hook's raise is answered by RequestHooks from
    the FastAPI handlers alone (the matched blueprint's, then the app's), so an abort there
    converts only where no Flask handler, of any blueprint or the app, may answer that code."""
    for registration in registrations:
        plan = plans.get(registration.handler)
        if plan is not None and plan.convert:
            continue
        if any(k.kind in ("http", "exception") or (k.kind == "code" and k.code == code) for k in registration.keys) or not registration.keys:
            return registration.handler.rpartition(".")[2] or "a handler the converter cannot read"
    return None
