"""Edits several transforms make to a native view: its plans, new parameters, route options.

A view is rewritten by more than one transform in the same traversal (the current user and the
DB session come in as parameters, a constant status becomes ``status_code=``...). Each transform
asks for what it needs here, and a parameter or an option that an earlier transform already
added is not added twice, so the transforms stay independent of their order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m

from codemod.facts import ROUTE_DECORATOR
from codemod.plan import RoutePlan
from transforms._flask import kwarg, last_arg

if TYPE_CHECKING:
    from codemod.transform import Transform


def native_plans(transform: Transform, function: cst.CSTNode) -> list[RoutePlan]:
    """The native route plans of ``function`` (an original node): empty unless it is a
    module-level view that the plan makes a FastAPI path operation."""
    if not isinstance(function, cst.FunctionDef):
        return []
    project = transform.run.project
    if (transform.context.filename or "", function.name.value) not in project.views:
        return []
    return [p for p in project.plan(transform.context.filename or "", function.name.value) if p.level == "native"]


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
        return function.with_changes(params=params.with_changes(kwonly_params=_appended(params.kwonly_params, param)))
    if default is None and any(p.default is not None for p in params.params):
        # a parameter without default cannot follow one with: keyword-only, which FastAPI reads alike
        star = params.star_arg if isinstance(params.star_arg, cst.ParamStar) else cst.ParamStar()
        return function.with_changes(
            params=params.with_changes(star_arg=star, kwonly_params=_appended(params.kwonly_params, param))
        )
    return function.with_changes(params=params.with_changes(params=_appended(params.params, param)))


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
    if items and (items[-1].comma == cst.MaybeSentinel.DEFAULT or not items[-1].comma.whitespace_after.value):
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
