"""The imports a conversion needs, added the way LibCST's AddImportsVisitor adds them.

Transforms ask for imports with LibCST's own ``AddImportsVisitor.add_needed_import(context,
...)``; ``add_imports`` then puts them in, with the same bytes as the visitor would (a test runs
both on a matrix of module heads and requests, tests/test_add_imports.py). Why not the visitor
itself: it reads only the module's head (the first statement, the run of import lines after it),
yet building it costs about 40 ms a file. It and the visitor it builds to gather the imports
already there are matcher visitors, which look through every attribute of the instance for
decorated methods when made: about twenty times the parse of a small file, on every file that
gains an import (5.2 of 30 s in a conversion of the fixture projects).

What the visitor does, and so this:
- the head is the first statement when it is a docstring or ``__strict__ = ...``, then the import
  lines after it (a line of exactly one ``import`` or ``from ... import``); imports anywhere else
  count for nothing;
- what the head already imports is not added again (``from m import *`` covers every name of m);
- names from a module the head already imports from go into the first such statement, in front,
  sorted;
- the rest become new lines after the head's imports (``from __future__`` ones before them):
  ``import m`` sorted, ``import m as a`` in the order asked, then ``from m import ...`` per module,
  those with an alias first; the statement after them gets an empty line above it.
"""

from __future__ import annotations

from collections import defaultdict

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_absolute_module_from_package_for_import


def add_imports(module: cst.Module, context: CodemodContext) -> cst.Module:
    """``module`` with the imports asked for in ``context`` (``add_needed_import``)."""
    package = context.full_package_name
    plain, aliased_modules, names, aliased_names = _asked(context)
    body = list(module.body)
    start = 1 if _docstring_or_strict(body) else 0
    end = start
    while end < len(body) and _is_import_line(body[end]):
        end += 1
    head = [line.body[0] for line in body[start:end]]
    had_plain, had_aliased, had_names, had_aliased_names = _already(head, package)
    plain -= had_plain
    for source, alias in had_aliased.items():
        if aliased_modules.get(source, alias) == alias:
            aliased_modules.pop(source, None)
    for source, pairs in had_aliased_names.items():
        for pair in pairs:
            if pair in aliased_names.get(source, ()):
                aliased_names[source].remove(pair)
                if not aliased_names[source]:
                    del aliased_names[source]
    for source, had in had_names.items():
        if source in names:
            names[source] = set() if "*" in had else names[source] - had
            if not names[source]:
                del names[source]
    for index, statement in enumerate(head):  # into the first statement importing from the module
        if isinstance(statement, cst.ImportFrom) and not isinstance(statement.names, cst.ImportStar):
            source = get_absolute_module_from_package_for_import(package, statement)
            if source is None or (source not in names and source not in aliased_names):
                continue
            added = [cst.ImportAlias(name=cst.Name(name)) for name in sorted(names.pop(source, ()))]
            added += [cst.ImportAlias(name=cst.Name(name), asname=cst.AsName(name=cst.Name(alias))) for name, alias in sorted(aliased_names.pop(source, ()))]
            body[start + index] = body[start + index].with_changes(body=[statement.with_changes(names=[*added, *statement.names])])
    if not (plain or names or aliased_modules or aliased_names):
        return module.with_changes(body=body)

    per_module: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for source, pairs in aliased_names.items():
        per_module[source].extend(pairs)
    for source, plain_names in names.items():
        per_module[source].extend((name, None) for name in plain_names)
    config = module.config_for_parsing

    def from_line(source: str, pairs) -> cst.BaseStatement:
        listed = ", ".join(name if alias is None else f"{name} as {alias}" for name, alias in sorted(pairs))
        return cst.parse_statement(f"from {source} import {listed}", config=config)

    rest = body[end:]
    if rest:
        first = rest[0]
        if not first.leading_lines:
            rest[0] = first.with_changes(leading_lines=(cst.EmptyLine(),))
        elif first.leading_lines[0].comment is not None:
            rest[0] = first.with_changes(leading_lines=(cst.EmptyLine(), *first.leading_lines))
    return module.with_changes(body=[
        *body[:start],
        *(from_line(source, pairs) for source, pairs in per_module.items() if source == "__future__"),
        *body[start:end],
        *(cst.parse_statement(f"import {source}", config=config) for source in sorted(plain)),
        *(cst.parse_statement(f"import {source} as {alias}", config=config) for source, alias in aliased_modules.items()),
        *(from_line(source, pairs) for source, pairs in per_module.items() if source != "__future__"),
        *rest,
    ])


def _asked(context: CodemodContext):
    """What ``context`` asks for: ``import m``; ``import m as a`` (the last alias asked of m);
    per module (sorted), the names and the (name, alias) pairs, in the order asked."""
    items = [item.resolve_relative(context.full_package_name) for item in context.scratch.get(AddImportsVisitor.CONTEXT_KEY, [])]
    for item in items:
        if item.module == "__future__" and (item.obj_name is None or item.alias is not None):
            raise ValueError(f"cannot add {item} (a __future__ import is of a name, without an alias)")
    plain = {item.module for item in items if item.obj_name is None and item.alias is None}
    aliased_modules = {item.module: item.alias for item in items if item.obj_name is None and item.alias is not None}
    names: dict[str, set[str]] = {}
    aliased_names: dict[str, list[tuple[str, str]]] = {}
    for item in sorted(items, key=lambda item: item.module):
        if item.obj_name is not None and item.alias is None:
            names.setdefault(item.module, set()).add(item.obj_name)
        elif item.obj_name is not None:
            aliased_names.setdefault(item.module, []).append((item.obj_name, item.alias))
    return plain, aliased_modules, names, aliased_names


def _already(head: list[cst.Import | cst.ImportFrom], package: str | None):
    """What the head imports already: ``import m``; ``import m as a`` (the last alias of m);
    per module, the names (``*`` for a star) and the (name, alias) pairs."""
    plain, aliased = set(), {}
    names: dict[str, set[str]] = {}
    aliased_names: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for statement in head:
        if isinstance(statement, cst.Import):
            for alias in statement.names:
                if alias.asname is None:
                    plain.add(alias.evaluated_name)
                else:
                    aliased[alias.evaluated_name] = alias.evaluated_alias
            continue
        source = get_absolute_module_from_package_for_import(package, statement)
        if source is None:
            continue
        if isinstance(statement.names, cst.ImportStar):
            names[source] = {"*"}
            continue
        aliased_names[source] += [(alias.evaluated_name, alias.evaluated_alias) for alias in statement.names if alias.asname is not None]
        plain_names = {alias.evaluated_name for alias in statement.names if alias.asname is None}
        if plain_names and "*" not in names.setdefault(source, set()):
            names[source] |= plain_names
    return plain, aliased, names, aliased_names


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))


def _docstring_or_strict(body: list[cst.BaseStatement]) -> bool:
    if not body or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
        return False
    only = body[0].body[0]
    if isinstance(only, cst.Expr):
        return isinstance(only.value, cst.SimpleString)
    return (
        isinstance(only, cst.Assign) and len(only.targets) == 1
        and isinstance(only.targets[0].target, cst.Name) and only.targets[0].target.value == "__strict__"
    )
