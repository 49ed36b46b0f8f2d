"""Route tables of Flask and FastAPI apps in one comparable form: {(METHOD, /path/{var})}.

Flask adds HEAD and OPTIONS to every rule by itself and FastAPI adds neither, so both are
left out on both sides; Flask's ``static`` rule and FastAPI's docs routes are not the app's own
(routes with include_in_schema=False are not seen on the FastAPI side; on the Flask side, the
twin ``/x/`` of a rule ``/x`` of the same endpoint is not listed either).
Converter syntax is dropped: ``/items/<int:id>`` and ``/items/{id}`` are the same route.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "TRACE"})
FLASK_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
FASTAPI_VARIABLE = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")

Route = tuple[str, str]


def load_app(spec: str) -> Any:
    """``package.module:app`` or ``package.module:create_app()`` -> the app object. A Flask app
    that a FlaskBridge serves (a converted module-level ``app``, next to its ``api``) stands for
    that bridge: the bridge is what the converted project deploys."""
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    factory = attribute.endswith("()")
    value = getattr(module, (attribute or "app").removesuffix("()"))
    app = value() if factory else value
    bridge = getattr(app, "extensions", {}).get("flask2fastapi") if not hasattr(app, "openapi") else None
    return bridge if bridge is not None else app


def route_table(app: Any) -> set[Route]:
    """The routes an app serves. A FlaskBridge (flask2fastapi_runtime) routes every request
    with its Flask app's url_map, native routes included: its ``url_map`` is its route table."""
    if hasattr(app, "url_map"):
        return _flask_routes(app)
    return _fastapi_routes(app)


def _flask_routes(app: Any) -> set[Route]:
    return {(method, path) for method, path, _ in flask_rules(app)}


def flask_rules(app: Any) -> list[tuple[str, str, Any]]:
    """(METHOD, /path/{var}, werkzeug rule) for each route of a Flask app's (or a bridge's) url_map."""
    found = []
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    # a rule ``/x/`` next to ``/x`` of the same endpoint and methods is the URL with a slash
    # that ``strict_slashes=False`` served: one route (a converted one serves it by a second
    # operation, left out of the docs: transforms/slash_twins.py)
    plain = {(r.endpoint, r.rule, frozenset(r.methods)) for r in rules}
    for rule in rules:
        if rule.rule.endswith("/") and (rule.endpoint, rule.rule[:-1], frozenset(rule.methods)) in plain:
            continue
        path = FLASK_VARIABLE.sub(r"{\1}", rule.rule)
        found += [(method, path, rule) for method in sorted(rule.methods - IMPLICIT_METHODS)]
    return found


def _fastapi_routes(app: Any) -> set[Route]:
    # The OpenAPI document is the public, version-stable view of every route, included routers
    # too (recent FastAPI versions include routers lazily, so app.routes does not list theirs).
    return {(method, path) for method, path, _ in openapi_operations(app.openapi())}


def openapi_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, /path/{var}, operation) for each operation of an OpenAPI document."""
    found = []
    for path, operations in document.get("paths", {}).items():
        path = FASTAPI_VARIABLE.sub(r"{\1}", path)
        found += [(method.upper(), path, operation) for method, operation in operations.items() if method.upper() in HTTP_METHODS]
    return found
