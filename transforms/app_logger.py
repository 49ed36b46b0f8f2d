"""``current_app.logger.warning(...)`` (and ``app.logger.info(...)``) into a module logger's call.

Targets https://docs.python.org/3/howto/logging.html#advanced-logging-tutorial (FastAPI has no
logger of its own: an app logs through ``logging``). Flask's ``app.logger`` is
``logging.getLogger(app.name)``; where the project shows that name (every Flask app of the
project is made with one import name, ``codemod/project.py``'s ``logger_name``), a call of one
of its logging methods becomes the same call on ``logger = logging.getLogger("<name>")``, a
module variable put after the module's imports: no Flask left on that line, the same Logger
object, so levels and handlers set on ``app.logger`` (``app.logger.setLevel(...)`` in the
factory, which stays) apply as before. What Flask adds when it makes the logger, and why it
changes no response, is ``codemod/app_logger.py``'s docstring.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.app_logger import CURRENT_APP, logger_call, logger_owner
from codemod.find import findall
from codemod.project import free_name
from codemod.transform import Example, Transform
from codemod.names import Parents

LOGGER_NAMES = ("logger", "app_logger")


class AppLoggerTransform(Transform):
    NAME = "app_logger"
    DESCRIPTION = "current_app.logger.warning(...) -> logger.warning(...), logger = logging.getLogger(app.name)"
    PREFILTER = (b".logger.",)
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, current_app

            app = Flask(__name__)
            app.logger.setLevel("INFO")


            @app.after_request
            def log_response(response):
                app.logger.info("answered %s", response.status_code)
                return response


            def check(value):
                if value < 0:
                    current_app.logger.warning("negative: %s", value)
                return max(value, 0)
            """,
            """\
            from flask import Flask
            import logging
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge, RequestHooks, ResponseHead

            logger = logging.getLogger("example")

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.logger.setLevel("INFO")


            async def log_response(request: Request, response: ResponseHead):
                logger.info("answered %s", response.status_code)
                return response


            api.add_middleware(RequestHooks, after=[log_response])


            def check(value):
                if value < 0:
                    logger.warning("negative: %s", value)
                return max(value, 0)
            """,
            title="the app's logger, logged to: the module logger of the app's name (the level set on app.logger stays);"
            " the hook, Flask-free now, runs as RequestHooks middleware",
        ),
        Example(
            """\
            import logging

            from flask import current_app

            logger = logging.getLogger(__name__)


            def check(value):
                current_app.logger.handlers.clear()
                logger.warning("checked %s", value)
            """,
            title="no app in the project (its name unknown); the logger configured, not logged to; a logger of its own",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        self.name = run.project.logger_name
        self.variable: str | None = None  # the module logger's name, once a call is converted

    def visit_Module(self, node: cst.Module) -> None:
        # the variables the module names (an attribute's or a keyword's name is none)
        not_variables = {id(a.attr) for a in findall(node, m.Attribute())} | {id(a.keyword) for a in findall(node, m.Arg())}
        self.used = {n.value for n in findall(node, m.Name()) if id(n) not in not_variables}  # type: ignore[union-attr]
        self.existing = self._existing(node)

    def _existing(self, module: cst.Module) -> str | None:
        """A module variable that is already ``logging.getLogger("<the app's name>")``."""
        getter = m.Call(args=[m.Arg(m.SimpleString(), keyword=None)])
        for statement in module.body:
            if not m.matches(statement, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())], getter)])):
                continue
            assign = statement.body[0]  # type: ignore[attr-defined]
            if "logging.getLogger" in self.qualified_names(assign.value.func) and assign.value.args[0].value.evaluated_value == self.name:
                return assign.targets[0].target.value
        return None

    def _global(self, node: cst.CSTNode, name: str) -> bool:
        """``name`` at ``node`` means the module variable of that name (or nothing yet)."""
        scope = self._scope_of(node)
        return scope is not None and all(a.scope is scope.globals for a in scope[name])

    def _logging_module(self, node: cst.CSTNode) -> bool:
        """``logging`` at module level is the logging module, or nothing yet."""
        scope = self._scope_of(node)
        if scope is None:
            return False
        return all(_imports_logging(a) for a in scope.globals["logging"])

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        owner = logger_owner(original_node)
        if owner is None or self.name is None:
            return updated_node
        call = self.get_metadata(Parents, original_node, None)
        if not isinstance(call, cst.Call) or call.func is not original_node:
            return updated_node
        if not (self.qualified_names(owner) & CURRENT_APP or self.kind_of(owner) == "app"):
            return updated_node
        variable = self.variable or self.existing or free_name(LOGGER_NAMES, self.used)
        if not self._global(owner, variable) or not self._logging_module(owner):
            return updated_node
        self.variable = variable
        self.consume(owner)
        return cst.Attribute(cst.Name(self.variable), original_node.attr)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self.variable is None or self.existing is not None:
            return updated_node
        self.run.support_imports.add(("logging", None, None))  # type: ignore[arg-type]  (import logging)
        body = list(updated_node.body)
        at = _after_imports(updated_node)
        following = body[at] if at < len(body) else None
        blank = [line for line in (following.leading_lines if following is not None else []) if line.comment is None][:2]
        assign = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name(self.variable))], logger_call(self.name))],  # type: ignore[arg-type]
            leading_lines=blank or [cst.EmptyLine()],
        )
        if following is not None and not following.leading_lines:
            body[at] = following.with_changes(leading_lines=[cst.EmptyLine()])
        body.insert(at, assign)
        return updated_node.with_changes(body=body)


def _imports_logging(assignment) -> bool:
    """The binding is ``import logging`` (not ``import logging.x as logging``, not another thing)."""
    statement = getattr(assignment, "node", None)
    if not isinstance(statement, cst.Import):
        return False
    return any(alias.evaluated_name == "logging" and alias.evaluated_alias in (None, "logging") for alias in statement.names)


def _after_imports(module: cst.Module) -> int:
    """Where a module variable goes: after the docstring and the first block of imports (where
    LibCST's AddImportsVisitor adds imports, so they stay above it)."""
    body = list(module.body)
    at = 1 if body and m.matches(body[0], m.SimpleStatementLine([m.Expr(m.SimpleString() | m.ConcatenatedString())])) else 0
    while at < len(body) and m.matches(body[at], m.SimpleStatementLine([m.Import() | m.ImportFrom()])):
        at += 1
    return at
