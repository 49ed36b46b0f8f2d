"""``app.cli`` commands and ``app.app_context()`` keep working on the FastAPI app.

Targets https://click.palletsprojects.com/ (the library Flask's CLI is built on) and
https://fastapi.tiangolo.com/advanced/events/ . The converted app keeps ``app.cli``, a click
group given to it by flask_compat.add_flask_attributes, so ``@app.cli.command("init-db")`` and
``app.cli.add_command(...)`` stay as written; ``flask --app pkg.app init-db`` becomes
``python -m pkg.flask_compat --app pkg.app:app init-db`` and the commands run in the app context,
as under ``flask``. ``with app.app_context():`` becomes ``with app_context(app):``, which makes
``current_app`` and ``g`` work outside a request (startup code, commands, tests),
``app.test_request_context(path, ...)`` becomes ``test_request_context(app, path, ...)`` (request,
session and url_for too), and
``flask.cli.with_appcontext`` / ``AppGroup`` become flask_compat's and click's. A blueprint's
``bp.cli`` becomes ``blueprint_cli("<blueprint name>")``, the group ``app.cli`` offers under that name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import bind, keyword, string_literal, string_value

WITH_APPCONTEXT = "flask.cli.with_appcontext"
APP_GROUP = "flask.cli.AppGroup"
CURRENT_APP = "flask.current_app"
APP_CONTEXT_CALL = m.Call(func=m.Attribute(attr=m.Name("app_context")), args=())
TEST_REQUEST_CONTEXT_CALL = m.Call(func=m.Attribute(attr=m.Name("test_request_context")))
# what flask_compat's test_request_context takes of werkzeug's EnvironBuilder arguments
TEST_REQUEST_OPTIONS = frozenset(
    {"path", "base_url", "query_string", "method", "headers", "data", "json", "content_type"}
)
CLI_ATTRIBUTE = m.Attribute(attr=m.Name("cli"))


class CliTransform(Transform):
    NAME = "cli"
    DESCRIPTION = "app.app_context() -> app_context(app), test_request_context(app, ...); app.cli and bp.cli kept"
    FINDINGS: ClassVar[Mapping[str, Code]] = {
        "blueprint_cli": Code(
            "F2F231",
            "a blueprint's CLI commands whose group name is not known here (a cli_group= or a blueprint "
            "defined elsewhere): use blueprint_cli(\"<group>\") from flask_compat, or app.cli.add_command(...)",
            "Flask offers a blueprint's ``bp.cli`` commands as ``flask <group> COMMAND``, the group being "
            "the blueprint's name unless ``cli_group=`` says otherwise (None: the app's own group). The "
            "converted router has no ``cli``: flask_compat's ``blueprint_cli(name)`` is the group that "
            "``app.cli`` offers under that name.",
        ),
    }
    EXAMPLES = (
        Example(
            "import click\nfrom flask import Flask, current_app\n\napp = Flask(__name__)\n\n\n"
            "@app.cli.command('init-db')\n@click.option('--drop', is_flag=True)\ndef init_db(drop):\n"
            "    click.echo(current_app.config['DATABASE'])\n\n\nwith app.app_context():\n    init_db_tables()\n",
            "import click\nfrom fastapi import FastAPI\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes, app_context, current_app\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n\n"
            "@app.cli.command('init-db')\n@click.option('--drop', is_flag=True)\ndef init_db(drop):\n"
            "    click.echo(current_app.config['DATABASE'])\n\n\nwith app_context(app):\n    init_db_tables()\n",
            title="a command stays a command of the app; the app context is flask_compat's",
        ),
        Example(
            "from flask import Blueprint\n\nbp = Blueprint('users', __name__)\n\n\n@bp.cli.command('create')\n"
            "def create():\n    pass\n",
            "from fastapi import APIRouter\nfrom flask_compat import blueprint_cli\n\nbp = APIRouter()\n\n\n"
            "@blueprint_cli(\"users\").command('create')\ndef create():\n    pass\n",
            title="a blueprint's commands: app.cli offers them under the blueprint's name, as Flask did",
        ),
        Example(
            "from flask import Blueprint\n\nbp = Blueprint('users', __name__, cli_group='people')\n\n\n"
            "@bp.cli.command('create')\ndef create():\n    pass\n",
            "from fastapi import APIRouter\n\n"
            "# TODO[F2F102]: Blueprint(cli_group=...) has no APIRouter() counterpart and was dropped: move the "
            "blueprint's CLI commands to a typer/click app\nbp = APIRouter()\n\n\n"
            "# TODO[F2F231]: a blueprint's CLI commands whose group name is not known here (a cli_group= or a "
            "blueprint defined elsewhere): use blueprint_cli(\"<group>\") from flask_compat, or app.cli.add_command(...)\n"
            "@bp.cli.command('create')\ndef create():\n    pass\n",
            codes=("F2F102", "F2F231"),
            title="a blueprint's commands under another group name are flagged",
        ),
        Example(
            "from flask.cli import AppGroup, with_appcontext\n\nuser_cli = AppGroup('user')\n\n\n"
            "@user_cli.command('list')\n@with_appcontext\ndef list_users():\n    pass\n",
            "import click\nfrom flask_compat import with_appcontext\n\nuser_cli = click.Group('user')\n\n\n"
            "@user_cli.command('list')\n@with_appcontext\ndef list_users():\n    pass\n",
            title="a command group of its own and with_appcontext",
        ),
        Example(
            "from contextlib import nullcontext as app_context\n\nclass App:\n    cli = None\n\n\n"
            "with app_context():\n    App.cli\n",
            title="lookalikes: another app_context and cli",
        ),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if m.matches(original_node, TEST_REQUEST_CONTEXT_CALL) and isinstance(updated_node, cst.Call):
            return self._test_request_context(original_node, updated_node)
        if m.matches(original_node, APP_CONTEXT_CALL) and isinstance(updated_node, cst.Call):
            receiver = original_node.func.value  # type: ignore[attr-defined]
            if self.kind_of(receiver) == "app" or self.names(receiver, CURRENT_APP):
                self.consume(original_node.func)
                self.use_support("app_context")
                app = updated_node.func.value  # type: ignore[attr-defined]
                return cst.Call(cst.Name("app_context"), [cst.Arg(app)])
        return updated_node

    def _test_request_context(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        """``app.test_request_context("/p", method="POST")`` -> ``test_request_context(app, "/p",
        method="POST")`` when flask_compat knows every argument (else unconverted flags it)."""
        receiver = original.func.value  # type: ignore[attr-defined]
        if self.kind_of(receiver) != "app" and not self.names(receiver, CURRENT_APP):
            return updated
        positional = [a for a in original.args if a.keyword is None]
        if any(a.star for a in original.args) or len(positional) > 1:
            return updated
        if any(a.keyword is not None and a.keyword.value not in TEST_REQUEST_OPTIONS for a in original.args):
            return updated
        self.consume(original.func)
        self.use_support("test_request_context")
        app = updated.func.value  # type: ignore[attr-defined]
        if not updated.args:
            return cst.Call(cst.Name("test_request_context"), [cst.Arg(app)])
        first = cst.Arg(app, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return cst.Call(cst.Name("test_request_context"), [first, *updated.args])

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if not m.matches(original_node, CLI_ATTRIBUTE) or self.kind_of(original_node.value) != "blueprint":
            return updated_node
        self.consume(original_node)  # one marker that says what to do, not also F2F192's
        name = self._blueprint_name(original_node.value)
        if name is None:
            self.flag(original_node, "blueprint_cli")
            return updated_node
        # the group app.cli offers under the blueprint's name, as Flask registered it
        self.use_support("blueprint_cli")
        return cst.Call(cst.Name("blueprint_cli"), [cst.Arg(string_literal(name))])

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if self.names(original_node, WITH_APPCONTEXT):
            self.consume(original_node)
            self.use_support("with_appcontext", asname=original_node.value)
        elif self.names(original_node, APP_GROUP) and not self._is_import_name(original_node):
            self.consume(original_node)
            AddImportsVisitor.add_needed_import(self.context, "click")
            return cst.Attribute(cst.Name("click"), cst.Name("Group"))
        return updated_node

    def _is_import_name(self, node: cst.Name) -> bool:
        from libcst.metadata import ParentNodeProvider

        return isinstance(self.get_metadata(ParentNodeProvider, node, None), cst.ImportAlias)

    def _blueprint_name(self, receiver: cst.BaseExpression) -> str | None:
        """The blueprint's CLI group name, its own name in ``Blueprint('users', __name__)`` when
        this module defines it that way without ``cli_group=`` (None otherwise)."""
        values = self.assigned_values(receiver) if isinstance(receiver, cst.Name) else []
        if len(values) != 1 or not isinstance(values[0], cst.Call) or keyword(values[0], "cli_group") is not None:
            return None
        bound = bind(values[0], ("name", "import_name"))
        return string_value(bound["name"].value) if "name" in bound else None
