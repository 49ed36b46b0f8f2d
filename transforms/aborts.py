"""``abort(404)`` in native views and hooks -> ``raise HTTPException(status_code=404)``, FastAPI's way.

Targets https://fastapi.tiangolo.com/tutorial/handling-errors/ .
A native view runs in Flask's request cycle (the runtime's FlaskRoute), where a FastAPI
``HTTPException`` is answered as ``abort`` with the same code is: werkzeug's exception of that
code goes through the app's error handlers, ``detail`` as its description (none: werkzeug's
default). So ``abort(401)`` -> ``raise HTTPException(status_code=401)`` and ``abort(401, "x")`` /
``abort(401, description="x")`` -> ``raise HTTPException(status_code=401, detail="x")``, where

- the code is an int literal werkzeug has an exception for (``abort(302)`` is Flask's error);
- nothing but the code and a description is passed (``abort(response)`` stays), and the
  description is not the status's bare phrase (``abort(404, "Not Found")``): the runtime reads
  that detail as none given, werkzeug's default description (a description computed at run
  time is taken not to be exactly that phrase);
- no ``try`` with handlers and no ``with`` around it in its function could see the exception
  before Flask does (``except NotFound:`` would no longer catch it).

``name = lookup(x) or abort(404)`` (a raise is no expression) becomes ``name = lookup(x)`` and
``if not name: raise HTTPException(status_code=404)``: the value is computed once and tested for
truth as ``or`` tested it. Only for a plain local name in a function with no ``global`` or
``nonlocal`` (it now holds the falsy value before the raise, which nothing after the raise reads).

Which calls convert is ``codemod/aborts.py``'s to say, shared with the facts pass. Besides
native views' own bodies, the same goes for a module-level before hook that the state plan makes
a RequestHooks hook (codemod/state.py): there the raise is answered by the matched blueprint's
handlers, then the app's, as Flask answered the abort (hooks.RequestHooks), and the plan keeps
every hook Flask's where a handler that stays Flask's could answer the code. And for a
module-level helper of the view's module that every use in the module calls from a native view
(outside any try or with), and that the module does not export in ``__all__``: it only runs
while a native view answers a request.
Another module's calls of it are not seen (the facts pass does not record them): they answer
requests too in a web app, but a script or test calling the helper outside a request would see
Starlette's HTTPException instead of werkzeug's.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.aborts import ABORT, abort_arguments
from codemod.find import findall
from codemod.transform import Example, Transform
from transforms._flask import bind, kwarg, last_arg
from transforms._values import is_str_literal
from transforms._views import OwnBody, enclosing_function, factory_views, guarded, native_plans
from codemod.names import Parents, Scopes

# ``name = value or abort(...)``: the abort is the last operand
OR_ABORT = m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())], m.BooleanOperation(operator=m.Or(), right=m.Call()))])


class AbortsTransform(Transform):
    NAME = "aborts"
    DESCRIPTION = "native views: abort(404, description=...) -> raise HTTPException(status_code=404, detail=...)"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, abort
            app = Flask(__name__)
            ITEMS = {1: "pen"}

            def load(item_id):
                if item_id not in ITEMS:
                    abort(404, description="no such item")
                return ITEMS[item_id]

            @app.get("/items/<int:item_id>")
            def item(item_id):
                if item_id == 0:
                    abort(400)
                return {"name": load(item_id)}
            """,
            """\
            from flask import Flask
            from fastapi import HTTPException
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            ITEMS = {1: "pen"}

            def load(item_id):
                if item_id not in ITEMS:
                    raise HTTPException(status_code=404, detail="no such item")
                return ITEMS[item_id]

            class ItemResponse(BaseModel):
                \"\"\"What item answers with (documents its 200 answer in OpenAPI).\"\"\"

                name: Any

            @api.get("/items/{item_id}", response_model=ItemResponse)
            def item(item_id: int):
                if item_id == 0:
                    raise HTTPException(status_code=400)
                return {"name": load(item_id)}
            """,
            title="in a native view, and in a helper only native views call",
        ),
        Example(
            """\
            from flask import Flask, abort, make_response
            from werkzeug.exceptions import NotFound
            app = Flask(__name__)

            def load(item_id):
                abort(404)

            @app.get("/items/<int:item_id>")
            def item(item_id):
                try:
                    load(item_id)
                    abort(410)
                except NotFound:
                    abort(make_response("gone", 410))
                if item_id == 1:
                    abort(404, "Not Found")
                abort(item_id)

            @app.get("/other/<int:item_id>", provide_automatic_options=False)
            def other(item_id):
                abort(404)
            """,
            """\
            from flask import Flask, abort, make_response
            from werkzeug.exceptions import NotFound
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            def load(item_id):
                abort(404)

            @api.get("/items/{item_id}")
            def item(item_id: int):
                try:
                    load(item_id)
                    abort(410)
                except NotFound:
                    abort(make_response("gone", 410))
                if item_id == 1:
                    abort(404, "Not Found")
                abort(item_id)

            @app.get("/other/<int:item_id>", provide_automatic_options=False)
            def other(item_id):
                abort(404)
            """,
            title="under a try, with a response, the bare phrase, a code it cannot read, in a bridged view: abort stays",
        ),
        Example(
            """\
            from flask import Flask, abort
            app = Flask(__name__)
            ITEMS = {1: "pen"}
            LAST = None

            @app.get("/items/<int:item_id>")
            def item(item_id):
                name = ITEMS.get(item_id) or abort(404, "no such item")  # the item's name
                return {"name": name}

            @app.get("/last/<int:item_id>")
            def last(item_id):
                global LAST
                LAST = ITEMS.get(item_id) or abort(404)
                return {"name": LAST}
            """,
            """\
            from flask import Flask, abort
            from fastapi import HTTPException
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            ITEMS = {1: "pen"}
            LAST = None

            class ItemResponse(BaseModel):
                \"\"\"What item answers with (documents its 200 answer in OpenAPI).\"\"\"

                name: Any

            @api.get("/items/{item_id}", response_model=ItemResponse)
            def item(item_id: int):
                name = ITEMS.get(item_id)  # the item's name
                if not name:
                    raise HTTPException(status_code=404, detail="no such item")
                return {"name": name}

            class LastResponse(BaseModel):
                \"\"\"What last answers with (documents its 200 answer in OpenAPI).\"\"\"

                name: Any

            @api.get("/last/{item_id}", response_model=LastResponse)
            def last(item_id: int):
                global LAST
                LAST = ITEMS.get(item_id) or abort(404)
                return {"name": LAST}
            """,
            title="x or abort(404): assigned, then tested as or tested it; not to a global, which would keep the falsy value",
        ),
        Example(
            """\
            from flask import abort
            from myhttp import abort as fail

            def check(ok):
                if not ok:
                    abort(403)
                fail(404)
            """,
            title="no view here: a module of helpers is left alone",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.aborts: set[cst.Expr] = set()
        self.or_aborts: set[cst.SimpleStatementLine] = set()

    def visit_Module(self, node: cst.Module) -> None:
        exported = _exported(node)
        for statement in (f for s in node.body for f in factory_views(s)):
            if statement.asynchronous is not None:
                continue
            if native_plans(self, statement) or self._only_called_by_views(statement, exported) or self._before_hook(statement):
                body = OwnBody(statement)
                if not body.generator:
                    self.aborts |= {s for s in body.statements if self._convertible(s)}
                    self.or_aborts |= self._or_aborts(statement)

    def _before_hook(self, function: cst.FunctionDef) -> bool:
        """A module-level before hook the plan converts into RequestHooks middleware: what it
        raises is answered there by the blueprint's, then the app's, handlers (codemod/state.py
        converts it only where each of its aborts converts and those handlers are FastAPI's)."""
        module = self.context.full_module_name or ""
        hook = self.run.project.state.hook_functions.get(f"{module}.{function.name.value}")
        return hook is not None and hook.kind == "before"

    def _only_called_by_views(self, function: cst.FunctionDef, exported: set[str]) -> bool:
        """A helper every use of which in the module is a call from a native view that nothing
        around the call guards."""
        if function.decorators or function.name.value in exported:
            return False
        scope = self.get_metadata(Scopes, function, None)
        bindings = list(scope.assignments[function.name.value]) if scope is not None else []
        if len(bindings) != 1 or not bindings[0].references:
            return False
        for access in bindings[0].references:
            call = self.get_metadata(Parents, access.node, None)
            if not isinstance(call, cst.Call) or call.func is not access.node or guarded(self, call):
                return False
            caller = enclosing_function(self, call)
            if caller is None or not native_plans(self, caller):
                return False
        return True

    def _or_aborts(self, function: cst.FunctionDef) -> set[cst.SimpleStatementLine]:
        """``name = value or abort(...)`` lines of the function's own body (module doc)."""
        if findall(function.body, m.Global() | m.Nonlocal()):
            return set()
        found = set()
        for line in findall(function.body, OR_ABORT):
            call = line.body[0].value.right  # type: ignore[attr-defined]
            if enclosing_function(self, line) is function and self._abort_call(call) and not guarded(self, line):
                found.add(line)
        return found  # type: ignore[return-value]

    def _convertible(self, statement: cst.Expr) -> bool:
        call = statement.value
        if not isinstance(call, cst.Call) or guarded(self, statement):
            return False
        return self._abort_call(call)

    def _abort_call(self, call: cst.Call) -> bool:
        if not self.names(call.func, *ABORT):
            return False
        return abort_arguments(call) is not None

    def leave_Expr(self, original_node: cst.Expr, updated_node: cst.Expr) -> cst.BaseSmallStatement:
        if original_node not in self.aborts or not isinstance(updated_node.value, cst.Call):
            return updated_node
        return self._raise(original_node.value, updated_node.value).with_changes(semicolon=updated_node.semicolon)  # type: ignore[arg-type]

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        """``name = value or abort(404)`` -> ``name = value`` and ``if not name: raise ...``."""
        if original_node not in self.or_aborts or not m.matches(updated_node, OR_ABORT):
            return updated_node
        assign: cst.Assign = updated_node.body[0]  # type: ignore[assignment]
        operation: cst.BooleanOperation = assign.value  # type: ignore[assignment]
        raised = self._raise(original_node.body[0].value.right, operation.right)  # type: ignore[attr-defined]
        test = cst.UnaryOperation(cst.Not(), assign.targets[0].target)
        check = cst.If(test, cst.IndentedBlock([cst.SimpleStatementLine([raised])]))
        kept = updated_node.with_changes(body=[assign.with_changes(value=operation.left)])
        return cst.FlattenSentinel([kept, check])

    def _raise(self, original: cst.Call, updated: cst.Call) -> cst.Raise:
        self.consume(original)
        args = bind(updated, ("code", "description"))
        exception = self.import_reference(original, "fastapi", "HTTPException", replaces=False)
        arguments = [kwarg("status_code", args["code"].value)]
        if "description" in args:
            arguments.append(kwarg("detail", args["description"].value))
        arguments = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in arguments]
        return cst.Raise(cst.Call(exception, last_arg(arguments)))


def _exported(module: cst.Module) -> set[str]:
    """The str literals of the module's ``__all__ = [...]`` (and ``+=``)."""
    names: set[str] = set()
    for statement in module.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
            elif isinstance(small, (cst.AugAssign, cst.AnnAssign)):
                targets = [small.target]
            else:
                continue
            if any(isinstance(t, cst.Name) and t.value == "__all__" for t in targets):
                for element in getattr(small.value, "elements", ()):
                    if is_str_literal(element.value):
                        names.add(element.value.evaluated_value)
    return names
