"""The Flask app's command line, for a project whose app is now a FlaskBridge.

``flask --app pkg run`` / ``flask --app pkg db upgrade`` find no Flask app any more where the
factory returns the bridge. ``python -m flask2fastapi_runtime.cli --app pkg:create_app db upgrade``
loads what ``--app`` names (a bridge, a Flask app, or a factory of either), takes its Flask app
and runs Flask's own CLI on it: the project's commands, extensions' commands (Flask-Migrate's
``db``), ``routes`` and ``shell``.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from flask import Flask
from flask.cli import FlaskGroup


def load(spec: str) -> Flask:
    """The Flask app of ``module:name``: name is an app, a bridge, or a factory of either."""
    module_name, _, attribute = spec.partition(":")
    sys.path.insert(0, os.getcwd())
    target: Any = importlib.import_module(module_name)
    for part in (attribute or "app").split("."):
        target = getattr(target, part)
    if callable(target) and not isinstance(target, Flask) and not hasattr(target, "flask_app"):
        target = target()
    flask_app = getattr(target, "flask_app", target)
    if not isinstance(flask_app, Flask):
        raise SystemExit(f"{spec} is neither a Flask app nor a FlaskBridge")
    return flask_app


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    spec = os.environ.get("FLASK_APP", "app")
    if args[:1] == ["--app"] and len(args) > 1:
        spec, args = args[1], args[2:]
    flask_app = load(spec)
    FlaskGroup(create_app=lambda: flask_app).main(args=args, prog_name="flask")


if __name__ == "__main__":
    main()
