"""Edits several transforms make to a native view: its plans, new parameters, route options.

A view is rewritten by more than one transform in the same traversal (the current user and the
DB session come in as parameters, a constant status becomes ``status_code=``...). Each transform
asks for what it needs here, and a parameter or an option that an earlier transform already
added is not added twice, so the transforms stay independent of their order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m
from libcst.metadata import GlobalScope

from codemod.facts import ROUTE_DECORATOR
from codemod.find import findall
from codemod.plan import RoutePlan
from codemod.reads import ViewReads, view_reads
from transforms._flask import kwarg, last_arg
from codemod.names import Parents, Scopes

if TYPE_CHECKING:
    from codemod.transform import Transform


def native_plans(transform: Transform, function: cst.CSTNode) -> list[RoutePlan]:
    """The native route plans of ``function`` (an original node): empty unless it is a
    view (module-level, or an app factory's) that the plan makes a FastAPI path operation."""
    if not isinstance(function, cst.FunctionDef):
        return []
    project = transform.run.project
    if (transform.context.filename or "", function.name.value) not in project.views:
        return []
    return [p for p in project.plan(transform.context.filename or "", function.name.value) if p.level == "native"]


def only_native_routes(transform: Transform, function: cst.FunctionDef) -> bool:
    """Every route of the view is native and it has no decorator but its routes: what it returns
    goes to FastAPI alone (a bridged route or a project decorator would get the Starlette
    response where it got Flask's)."""
    plans = native_plans(transform, function)
    if not plans:
        return False
    every = transform.run.project.plan(transform.context.filename or "", function.name.value)
    return len(every) == len(plans) == len(function.decorators)


def factory_views(statement: cst.CSTNode) -> list[cst.FunctionDef]:
    """The functions a module-level statement defines that may be views: a function, and the
    functions defined directly in its body (an app factory's ``@app.route`` views, which the plan
    makes native as module-level ones, codemod/plan.py)."""
    if not isinstance(statement, cst.FunctionDef):
        return []
    body = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
    return [statement, *(s for s in body if isinstance(s, cst.FunctionDef))]


def parameter_names(function: cst.FunctionDef) -> set[str]:
    params = function.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


def with_parameter(
    function: cst.FunctionDef, name: str, annotation: cst.BaseExpression | None, default: cst.BaseExpression | None = None
) -> cst.FunctionDef:
    """``function`` with a parameter ``name: annotation [= default]`` after its others (keyword-
    only when the function takes ``*args``); unchanged when it already has one of that name."""
    if name in parameter_names(function):
        return function
    params = function.params
    param = cst.Param(
        cst.Name(name),
        cst.Annotation(annotation) if annotation is not None else None,
        default=default,
        equal=cst.AssignEqual() if default is not None else cst.MaybeSentinel.DEFAULT,
    )
    # the new parameter goes last (before **kwargs): it takes the whitespace before ``)`` of a
    # signature written over several lines
    last = _last(params)
    if last is not None and params.star_kwarg is None and isinstance(last.whitespace_after_param, cst.ParenthesizedWhitespace):
        param = param.with_changes(whitespace_after_param=last.whitespace_after_param)
        params = _replaced(params, last, last.with_changes(whitespace_after_param=cst.SimpleWhitespace("")))
    if isinstance(params.star_arg, cst.Param) or params.kwonly_params:
        params = params.with_changes(kwonly_params=_appended(params.kwonly_params, param))
    elif default is None and any(p.default is not None for p in params.params):
        # a parameter without default cannot follow one with: keyword-only, which FastAPI reads alike
        star = params.star_arg if isinstance(params.star_arg, cst.ParamStar) else cst.ParamStar()
        params = params.with_changes(star_arg=star, kwonly_params=_appended(params.kwonly_params, param))
    else:
        params = params.with_changes(params=_appended(params.params, param))
    return _laid_out(function.with_changes(params=params))


WIDTH = 100  # a signature longer than this gets one parameter per line


def _laid_out(function: cst.FunctionDef) -> cst.FunctionDef:
    """``function`` with one parameter per line (and a trailing comma) when its signature is
    longer than WIDTH or was already written that way; as it is when its parameters hold a
    comment (a layout would move it)."""
    params = function.params
    if "#" in cst.Module([]).code_for_node(params):
        return function
    header = function.with_changes(decorators=[], leading_lines=[], body=cst.SimpleStatementSuite([cst.Pass()]))
    wrapped = isinstance(function.whitespace_before_params, cst.ParenthesizedWhitespace)
    if not wrapped and len(cst.Module([]).code_for_node(header).splitlines()[0]) <= WIDTH:
        return function

    def line(indent: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=True, last_line=cst.SimpleWhitespace(indent))

    slots: list[cst.CSTNode] = [*params.posonly_params]
    if isinstance(params.posonly_ind, cst.ParamSlash):
        slots.append(params.posonly_ind)
    slots += params.params
    if isinstance(params.star_arg, (cst.Param, cst.ParamStar)):
        slots.append(params.star_arg)
    slots += params.kwonly_params
    if isinstance(params.star_kwarg, cst.Param):
        slots.append(params.star_kwarg)
    laid: dict[cst.CSTNode, cst.CSTNode] = {}
    for index, slot in enumerate(slots):
        comma = cst.Comma(whitespace_after=line("" if index == len(slots) - 1 else "    "))
        changes: dict[str, object] = {"comma": comma}
        if isinstance(slot, cst.Param):
            changes["whitespace_after_param"] = cst.SimpleWhitespace("")
        laid[slot] = slot.with_changes(**changes)
    params = params.with_changes(
        posonly_params=[laid[p] for p in params.posonly_params],
        posonly_ind=laid.get(params.posonly_ind, params.posonly_ind),
        params=[laid[p] for p in params.params],
        star_arg=laid.get(params.star_arg, params.star_arg),
        kwonly_params=[laid[p] for p in params.kwonly_params],
        star_kwarg=laid.get(params.star_kwarg, params.star_kwarg),
    )
    return function.with_changes(params=params, whitespace_before_params=line("    "))


def _last(params: cst.Parameters) -> cst.Param | None:
    for candidate in (params.star_kwarg, *reversed(params.kwonly_params), params.star_arg, *reversed(params.params)):
        if isinstance(candidate, cst.Param):
            return candidate
    return None


def _replaced(params: cst.Parameters, old: cst.Param, new: cst.Param) -> cst.Parameters:
    return params.with_changes(
        params=[new if p is old else p for p in params.params],
        kwonly_params=[new if p is old else p for p in params.kwonly_params],
        star_arg=new if params.star_arg is old else params.star_arg,
    )


def _appended(existing: tuple[cst.Param, ...] | list[cst.Param], param: cst.Param) -> list[cst.Param]:
    """``existing`` and ``param``, without a trailing comma left dangling in the middle."""
    items = list(existing)
    if items and (items[-1].comma == cst.MaybeSentinel.DEFAULT or not getattr(items[-1].comma.whitespace_after, "value", "\n")):
        items[-1] = items[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return [*items, param]


def with_route_options(
    transform: Transform, original: cst.FunctionDef, updated: cst.FunctionDef, options: list[cst.Arg]
) -> cst.FunctionDef:
    """``updated`` with ``options`` (keyword arguments) added to each of its native route
    decorators; an option the decorator already has is left as it is."""
    plans = native_plans(transform, original)
    if not plans:
        return updated
    decorators = list(updated.decorators)
    for index, decorator in enumerate(original.decorators):
        if not m.matches(decorator, ROUTE_DECORATOR):
            continue
        call = decorators[index].decorator
        if not isinstance(call, cst.Call):
            continue
        given = {a.keyword.value for a in call.args if a.keyword is not None}
        added = [o for o in options if o.keyword is not None and o.keyword.value not in given]
        if added:
            args = [*call.args[:-1], call.args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))]
            decorators[index] = decorators[index].with_changes(decorator=call.with_changes(args=last_arg([*args, *added])))
    return updated.with_changes(decorators=decorators)


def option(name: str, value: cst.BaseExpression) -> cst.Arg:
    """A route option ``name=value`` for ``with_route_options``."""
    return kwarg(name, value)


def request_reads(transform: Transform, function: cst.CSTNode) -> ViewReads | None:
    """What a native view reads from Flask's request and which reads become parameters
    (codemod/reads.py); None for any other function. Pure, so every transform that asks gets
    the same plan."""
    if not native_plans(transform, function):
        return None
    assert isinstance(function, cst.FunctionDef)
    view = transform.run.project.views[(transform.context.filename or "", function.name.value)]

    def helper_of(call: cst.Call) -> cst.FunctionDef | None:
        """The plain module-level function of this module that ``f()`` calls."""
        if call.args or not isinstance(call.func, cst.Name):
            return None
        scope = transform.get_metadata(Scopes, call.func, None)
        bindings = list(scope[call.func.value]) if scope is not None else []
        node = getattr(bindings[0], "node", None) if len(bindings) == 1 else None
        if not isinstance(node, cst.FunctionDef) or not isinstance(bindings[0].scope, GlobalScope):
            return None
        return node if not node.decorators and node.asynchronous is None else None

    return view_reads(function, transform.qualified_names, bool(view.decorators), helper_of)


def request_free(transform: Transform, view: cst.FunctionDef) -> bool:
    """Whether the name ``request`` may be Starlette's request in the converted view: every
    use of it is a read of Flask's request that request_params and json_bodies convert
    (``request.get_json()`` -> a body parameter), or none is left."""
    uses = set(findall(view, m.Name("request")))
    if not uses:
        return True
    reads = request_reads(transform, view)
    return reads is not None and not reads.left and uses <= set(reads.references)


def without_statements(block: cst.IndentedBlock, drop: Callable[[cst.BaseStatement], bool]) -> cst.IndentedBlock:
    """``block`` without the statements ``drop`` picks; their comments go to the statement after."""
    kept: list[cst.BaseStatement] = []
    carried: list[cst.EmptyLine] = []
    for index, statement in enumerate(block.body):
        if drop(statement) and index < len(block.body) - 1:
            carried += [line for line in statement.leading_lines if line.comment is not None]
            trailing = statement.trailing_whitespace.comment if isinstance(statement, cst.SimpleStatementLine) else None
            if trailing is not None:
                carried.append(cst.EmptyLine(indent=True, comment=trailing))
            continue
        if carried:
            statement = statement.with_changes(leading_lines=[*carried, *statement.leading_lines])
            carried = []
        kept.append(statement)
    return block.with_changes(body=kept)


class OwnBody(Visitor):
    """The returns, expression statements and calls of a function's own body: not those of the
    functions, lambdas or classes defined in it, which run when and where those are called.
    ``generator``: the body yields (its returns are no response)."""

    def __init__(self, function: cst.FunctionDef) -> None:
        super().__init__()
        self.function = function
        self.returns: list[cst.Return] = []
        self.statements: list[cst.Expr] = []
        self.calls: list[cst.Call] = []
        self.generator = False
        function.visit(self)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.function

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        self.returns.append(node)

    def visit_Expr(self, node: cst.Expr) -> None:
        self.statements.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.generator = True


def guarded(transform: Transform, node: cst.CSTNode) -> bool:
    """Whether an exception raised at ``node`` may be caught or inspected before it leaves its
    function: ``node`` is in the body of a ``try`` with handlers or of a ``with`` (a context
    manager sees the exception: ``contextlib.suppress``)."""
    child, parent = node, transform.get_metadata(Parents, node, None)
    while parent is not None and not isinstance(parent, (cst.FunctionDef, cst.Lambda, cst.Module)):
        if isinstance(parent, (cst.Try, cst.TryStar)) and child is parent.body and parent.handlers:
            return True
        if isinstance(parent, cst.With) and child is parent.body:
            return True
        child, parent = parent, transform.get_metadata(Parents, parent, None)
    return False


def enclosing_function(transform: Transform, node: cst.CSTNode) -> cst.FunctionDef | None:
    """The function whose own body ``node`` is in (None at module level, in a class body or
    in a lambda)."""
    parent = transform.get_metadata(Parents, node, None)
    while parent is not None and not isinstance(parent, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
        parent = transform.get_metadata(Parents, parent, None)
    return parent if isinstance(parent, cst.FunctionDef) else None


def names_used(function: cst.FunctionDef) -> set[str]:
    """Every identifier in a function (its own and nested code): a parameter added by that name
    could shadow one of them."""
    return {n.value for n in findall(function, m.Name())}  # type: ignore[union-attr]


def model_name(transform: Transform, function: cst.FunctionDef, suffix: str, taken: set[str]) -> str:
    """A class name for a model of ``function`` (``create_item`` -> ``CreateItemBody``) that no
    module-level name of its module and none in ``taken`` (names given in this run) has; it is
    added to ``taken``."""
    base = "".join(part.capitalize() for part in function.name.value.split("_")) + suffix
    scope = transform.get_metadata(Scopes, function, None)
    used = set(taken)
    if scope is not None:
        used |= {a.name for a in scope.globals.assignments} | {a.node.value for a in scope.globals.accesses if isinstance(a.node, cst.Name)}
    name, index = base, 2
    while name in used:
        name, index = f"{base}{index}", index + 1
    taken.add(name)
    return name
