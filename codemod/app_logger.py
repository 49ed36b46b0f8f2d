"""The Flask app's logger, and which of its uses are a plain ``logging.Logger``'s.

``app.logger`` (``current_app.logger`` in a request) is ``logging.getLogger(app.name)``, and
``app.name`` is the import name given to ``Flask(...)`` (``__name__`` of the module that makes
the app). So a call of one of its logging methods (``current_app.logger.warning(...)``) is
the same call on the module logger ``logging.getLogger("<that name>")``, without Flask.

What Flask adds when it makes the logger (the first ``app.logger`` of the process): in debug
mode, the DEBUG level if none is set; and its ``default_handler`` (stderr, ``[time] LEVEL in
module: message``) when no handler of the logger or its parents would take its records. A
factory that still configures ``app.logger`` (``app.logger.setLevel(...)``: it stays, acting on
the same Logger object) makes the logger with them as before; where nothing of the project
reads ``app.logger`` any more, records go to the handlers the deployment configured (or Python's
last-resort handler, WARNING and up, to stderr) and debug mode no longer lowers the level. That
changes where log lines go and how they look, never a response: no answer reads the logger.

The readers here are shared by the facts pass (``codemod/project.py``, ``codemod/handler_body.py``)
and ``transforms/app_logger.py``.
"""

from __future__ import annotations

from typing import Callable

import libcst as cst

Names = Callable[[cst.CSTNode], set[str]]

CURRENT_APP = frozenset({"flask.current_app", "flask.globals.current_app"})
# logging.Logger's methods that log a record (configuration, handlers, level: not these)
LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"})


def logger_owner(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """``x`` of ``x.logger.<log method>``, else None."""
    if not isinstance(node, cst.Attribute) or node.attr.value not in LOG_METHODS:
        return None
    inner = node.value
    if not isinstance(inner, cst.Attribute) or inner.attr.value != "logger":
        return None
    return inner.value


def current_app_log(node: cst.BaseExpression, names: Names) -> bool:
    """``current_app.logger.warning`` (flask's current_app by any import)."""
    owner = logger_owner(node)
    return owner is not None and bool(names(owner) & CURRENT_APP)


def import_name(call: cst.Call, module: str) -> str | None:
    """The name a ``Flask(...)`` call gives its app (``app.name``): its import name, a string or
    ``__name__`` (``module``); None when the code does not show it. A module run as a script has
    the ``__name__`` "__main__", and Flask names such an app after the file: ``module`` is that
    name too only for a module outside any package."""
    arg = next((a for a in call.args if a.keyword is not None and a.keyword.value == "import_name"), None)
    if arg is None:
        arg = call.args[0] if call.args and call.args[0].keyword is None and not call.args[0].star else None
    if arg is None:
        return None
    if isinstance(arg.value, cst.SimpleString):
        value = arg.value.evaluated_value
        return value if isinstance(value, str) and value != "__main__" else None
    if isinstance(arg.value, cst.Name) and arg.value.value == "__name__":
        return module
    return None


def logger_call(value: str) -> cst.Call:
    """``logging.getLogger("<value>")``."""
    return cst.Call(
        cst.Attribute(cst.Name("logging"), cst.Name("getLogger")),
        [cst.Arg(cst.SimpleString(repr(value) if '"' in value or "\\" in value else f'"{value}"'))],
    )
