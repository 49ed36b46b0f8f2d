"""Qualified names of the Flask API, and helpers shared by several transforms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from codemod.facts import BlueprintFacts, stem
from codemod.project import BLUEPRINT, FLASK  # noqa: F401  (the names the transforms match)
from codemod.names import Scopes

if TYPE_CHECKING:
    from codemod.transform import Transform

RUNTIME = "flask2fastapi_runtime"


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def bind(call: cst.Call, parameters: tuple[str, ...]) -> dict[str, cst.Arg]:
    """Arguments by parameter name, positional ones placed by ``parameters``' order."""
    bound: dict[str, cst.Arg] = {}
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for name, arg in zip(parameters, positional):
        bound[name] = arg
    for arg in call.args:
        if arg.keyword is not None:
            bound[arg.keyword.value] = arg
    return bound


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain (non f-) string literal, else None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


NO_SPACE = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """``name=value`` written the way PEP 8 writes keyword arguments."""
    return cst.Arg(value, keyword=cst.Name(name), equal=NO_SPACE)


def string_literal(value: str) -> cst.SimpleString:
    """A str literal node for ``value`` (double quotes unless that needs escapes)."""
    text = f'"{value}"' if value.isprintable() and '"' not in value and "\\" not in value else repr(value)
    return cst.SimpleString(text)


def last_arg(args: list[cst.Arg]) -> list[cst.Arg]:
    """Arguments with the trailing comma of the last one removed (so nothing dangles)."""
    if not args:
        return args
    return [*args[:-1], args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]



# -- references to what the converter adds -------------------------------------------------------
def bridge_reference(transform: Transform, app: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
    """The FlaskBridge of the Flask app ``app`` (original node; ``updated`` is its new form):
    the bridge's variable when the app was created in this module (where the bridge is, in the
    same scope), else ``bridge_of(app)``."""
    facts = transform.run.project.apps
    module = transform.context.full_module_name
    for name in sorted(transform.qualified_names(app)):
        if name in facts and facts[name].module == module:
            return cst.Name(facts[name].bridge)
    bridge_of = transform.import_reference(app, RUNTIME, "bridge_of", replaces=False)
    return cst.Call(bridge_of, [cst.Arg(updated)])


def router_reference(transform: Transform, blueprint: cst.BaseExpression, facts: BlueprintFacts) -> cst.BaseExpression:
    """The router of a blueprint, referred to the way ``blueprint`` refers to the blueprint:
    ``items.bp`` -> ``items.router``; ``bp`` of this module -> ``router``; ``bp`` imported from
    another module -> the router imported from it too, under a name free here."""
    if isinstance(blueprint, cst.Attribute):
        return blueprint.with_changes(attr=cst.Name(facts.router))
    assert isinstance(blueprint, cst.Name)
    if facts.module == transform.context.full_module_name:
        return cst.Name(facts.router)
    key = (facts.module, facts.router)
    if key not in transform.run.local_names:
        base = stem(blueprint.value)
        base = base if base != blueprint.value else facts.module.rpartition(".")[2]
        used = _used_names(transform, blueprint)
        local, index = f"{base}_router", 2
        while local in used or local in transform.run.local_names.values():
            local, index = f"{base}_router_{index}", index + 1
        transform.run.local_names[key] = local
        asname = local if local != facts.router else None
        statement = _import_statement(transform, blueprint)
        if statement is not None:  # next to the blueprint, in the same statement and scope
            module = cst.Module([]).code_for_node(statement.module) if statement.module is not None else ""
            for alias in statement.names if not isinstance(statement.names, cst.ImportStar) else ():
                if (alias.evaluated_alias or alias.evaluated_name) == blueprint.value:
                    imported = (module, len(statement.relative), alias.evaluated_name, alias.evaluated_alias)
                    transform.run.sibling_imports.add((*imported, facts.router, asname))
        else:
            module, relative = _import_of(transform, blueprint, facts.module)
            AddImportsVisitor.add_needed_import(transform.context, module, facts.router, asname, relative)
    return cst.Name(transform.run.local_names[key])


def _used_names(transform: Transform, node: cst.CSTNode) -> set[str]:
    scope = transform.get_metadata(Scopes, node, None)
    if scope is None:
        return set()
    globals_ = scope.globals
    return {a.name for a in globals_.assignments} | {a.node.value for a in globals_.accesses if isinstance(a.node, cst.Name)}


def _import_statement(transform: Transform, name: cst.Name) -> cst.ImportFrom | None:
    """The ``from m import bp`` that binds ``name``, where it is the only binding: the router is
    imported in the same statement, so in the same scope (an import inside an app factory is
    there to avoid a circular import at module level)."""
    scope = transform.get_metadata(Scopes, name, None)
    bindings = [getattr(a, "node", None) for a in scope[name.value]] if scope is not None else []
    if len(bindings) == 1 and isinstance(bindings[0], cst.ImportFrom):
        return bindings[0]
    return None


def _import_of(transform: Transform, name: cst.Name, module: str) -> tuple[str, int]:
    """(module, relative level) to import from, as the code imported ``name``: ``from .items
    import bp`` gives ("items", 1); anything else the absolute ``module``."""
    scope = transform.get_metadata(Scopes, name, None)
    for assignment in scope[name.value] if scope is not None else ():
        statement = getattr(assignment, "node", None)
        if isinstance(statement, cst.ImportFrom) and statement.relative:
            source = cst.Module([]).code_for_node(statement.module) if statement.module is not None else ""
            return source, len(statement.relative)
    return module, 0
