"""The ``routes`` command: every route an app serves, with its endpoint and the level it reached.

The table is the app's own, loaded in a process of its own inside its folder as ``verify`` loads it
(codemod/verify.py ``in_folder``) and normalised as verify normalises it (codemod/routes.py), so
``routes --compare`` and ``verify`` agree on what "the same routes" means. What serves a route is
read off the running app:

- a Flask app: every route is ``flask``;
- a FlaskBridge (flask2fastapi_runtime): a rule of its url_map whose endpoint is none of the
  bridge's native ones is served by the Flask app inside it, ``bridged``;
- a route FastAPI serves (the runtime's FlaskRoute or NativeRoute, or a plain APIRoute): its level
  is read from the code of the folder, with the reading the converter's report uses
  (codemod/levels.py): ``native`` while Flask is left on its path (the view, what it calls, its
  dependencies, the hooks and handlers around it), ``idiomatic`` once none is, ``async`` when the
  view is also ``async def`` with no blocking call on its path. A view whose code is not in the
  folder is levelled by what serves it alone, and its reason says so: ``native`` in Flask's request
  cycle (FlaskRoute), else ``idiomatic`` (``async`` for an ``async def`` view).

Which route object serves an OpenAPI operation is found through the public ``operation_id``: in
the app's process (thrown away afterwards) each APIRoute gets a token of its own as its id, and
the document FastAPI generates names, per operation, the route it came from, whatever the FastAPI
version does with included routers.
"""

from __future__ import annotations

import gc
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import libcst as cst

from codemod.discovery import discover
from codemod.levels import CodeFacts, assign_levels, code_facts
from codemod.project import module_of
from codemod.routes import flask_rules, load_app, openapi_operations
from codemod.verify import in_folder, is_flask

LEVELS = ("flask", "bridged", "native", "idiomatic", "async")
_TOKEN = "flask2fastapi-route-"


# -- in the app's process --------------------------------------------------------------------


def describe(app: Any) -> list[dict[str, Any]]:
    """Each route of ``app`` (method, path, endpoint, what serves it, where its view is)."""
    if is_flask(app):
        return [_row(method, path, rule.endpoint, "Flask", app.view_functions.get(rule.endpoint), level="flask")
                for method, path, rule in flask_rules(app)]
    if hasattr(app, "url_map"):  # a FlaskBridge: its url_map routes every request (codemod/routes.py)
        return _bridge_rows(app)
    return _fastapi_rows(app)


def _bridge_rows(bridge: Any) -> list[dict[str, Any]]:
    from flask2fastapi_runtime import routing

    native = {route.name: route for route, _ in routing.full_paths(bridge, routing.native_routes())}
    rows = []
    for method, path, rule in flask_rules(bridge):
        route = native.get(rule.endpoint) if method in bridge.native_methods(rule.endpoint) else None
        if route is None:
            rows.append(_row(method, path, rule.endpoint, "Flask", bridge.view_functions.get(rule.endpoint), level="bridged"))
        else:
            rows.append(_row(method, path, rule.endpoint, type(route).__name__, route.view, blueprints=_blueprint_names(bridge, rule.endpoint)))
    return rows


def _fastapi_rows(app: Any) -> list[dict[str, Any]]:
    from fastapi.routing import APIRoute

    routes = {f"{_TOKEN}{index}": o for index, o in enumerate(gc.get_objects()) if isinstance(o, APIRoute)}
    for token, route in routes.items():
        route.operation_id = token
    app.openapi_schema = None  # made again, with the tokens (FastAPI's documented cache)
    rows = []
    for method, path, operation in openapi_operations(app.openapi()):
        route = routes[operation["operationId"]]
        rows.append(_row(method, path, route.name, type(route).__name__, getattr(route, "view", route.endpoint)))
    return rows


def _row(method: str, path: str, endpoint: str, served_by: str, view: Any, level: str | None = None,
         blueprints: list[str] | None = None) -> dict[str, Any]:
    function = inspect.unwrap(view) if callable(view) else None
    code = getattr(function, "__code__", None)
    return {
        "method": method, "path": path, "endpoint": endpoint, "served_by": served_by, "level": level,
        "view": getattr(function, "__qualname__", None), "file": code.co_filename if code else None,
        "async_def": inspect.iscoroutinefunction(function), "blueprints": blueprints or [],
    }


def _blueprint_names(bridge: Any, endpoint: str) -> list[str]:
    """The module variables (``pkg.views.bp``) that hold the Flask blueprint of ``endpoint``."""
    blueprint = bridge.flask_app.blueprints.get(endpoint.rpartition(".")[0])
    if blueprint is None:
        return []
    here = Path.cwd()
    return sorted(
        f"{name}.{variable}"
        for name, module in list(sys.modules.items())
        if Path(getattr(module, "__file__", None) or "/").resolve().is_relative_to(here)
        for variable, value in list(vars(module).items())
        if value is blueprint
    )


def main(argv: list[str]) -> None:
    sys.path.insert(0, ".")
    print(json.dumps(describe(load_app(argv[1]))))  # argv[0]: "table"


# -- in the command's process ----------------------------------------------------------------


def route_rows(root: Path, spec: str, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The app's routes with their levels (a VerifyError where the app does not load)."""
    rows = in_folder(root, "table", spec, env=env, module="codemod.route_report")
    served = [row for row in rows if row["level"] is None]
    if served:
        _assign(served, _read(root))
    return [_public(row) for row in sorted(rows, key=lambda row: (row["path"], row["method"]))]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the command shows it: the view by its module-qualified name."""
    view = f"{module_of(Path(row['file'])).name}.{row['view'].replace('<locals>.', '')}" if row["file"] and row["view"] else row["view"]
    kept = {k: row[k] for k in ("method", "path", "endpoint", "level", "served_by")}
    return {**kept, "view": view, **{k: row[k] for k in ("reason", "async_reason") if row.get(k)}}


def _read(root: Path) -> CodeFacts:
    """What the code of the folder uses, as codemod/levels.py reads converted code."""
    facts = CodeFacts()
    for path in discover([root]):
        try:
            module = cst.parse_module(path.read_bytes())
        except (OSError, cst.ParserSyntaxError):
            continue  # not the code of a route the app serves: it imported
        name = module_of(path)
        facts.merge(code_facts(module, name.name, name.package))
    return facts


def _assign(rows: list[dict[str, Any]], facts: CodeFacts) -> None:
    for row in rows:
        view = _qualified(row, facts)
        if view is None:
            row["level"] = "native" if row["served_by"] == "FlaskRoute" else "async" if row["async_def"] else "idiomatic"
            row["reason"] = f"its view's code is not in the folder: level of a {row['served_by']}"
            continue
        route = {"level": "native", "view": view, "blueprint": _blueprint(row, facts)}
        if route["blueprint"] is None and "." in row["endpoint"]:  # on a blueprint not told apart:
            candidates = [{**route, "blueprint": b} for b in sorted(facts.blueprints)] or [route]
            assign_levels(candidates, facts)  # the lowest level any of them gives (the safe side)
            route = min(candidates, key=lambda r: LEVELS.index(str(r["level"])))
        else:
            assign_levels([route], facts)
        row["level"] = route["level"]
        row.update({k: route[k] for k in ("reason", "async_reason") if k in route})


def _qualified(row: dict[str, Any], facts: CodeFacts) -> str | None:
    """The view's name as codemod/levels.py reads it (a view an app factory declares is
    ``module.view``), or None where its code was not read."""
    if not row["file"] or not row["view"] or not Path(row["file"]).exists():
        return None
    module = module_of(Path(row["file"])).name
    parts = [part for part in row["view"].split(".") if part != "<locals>"]
    names = [".".join([module, *parts])] + ([f"{module}.{parts[-1]}"] if "<locals>" in row["view"] else [])
    return next((name for name in names if name in facts.refers), None)


def _blueprint(row: dict[str, Any], facts: CodeFacts) -> str | None:
    return next((name for name in row["blueprints"] if name in facts.blueprints), None)


def differences(rows: list[dict[str, Any]], other: list[dict[str, Any]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(in ``other`` only, in ``rows`` only): the routes by method and normalised path."""
    mine = {(row["method"], row["path"]) for row in rows}
    theirs = {(row["method"], row["path"]) for row in other}
    return sorted(theirs - mine, key=_by_path), sorted(mine - theirs, key=_by_path)


def _by_path(route: tuple[str, str]) -> tuple[str, str]:
    return route[1], route[0]


if __name__ == "__main__":
    main(sys.argv[1:])
