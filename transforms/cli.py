"""``app.cli`` commands and ``app.app_context()`` keep working on the FastAPI app.

Targets https://click.palletsprojects.com/ (the library Flask's CLI is built on) and
https://fastapi.tiangolo.com/advanced/events/ . The converted app keeps ``app.cli``, a click
group given to it by flask_compat.add_flask_attributes, so ``@app.cli.command("init-db")`` and
``app.cli.add_command(...)`` stay as written; ``flask --app pkg.app init-db`` becomes
``python -m pkg.flask_compat --app pkg.app:app init-db`` and the commands run in the app context,
as under ``flask``. ``with app.app_context():`` becomes ``with app_context(app):``, which makes
``current_app`` and ``g`` work outside a request (startup code, commands, tests), and
``flask.cli.with_appcontext`` / ``AppGroup`` become flask_compat's and click's.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from codemod.findings import Code
from codemod.transform import Example, Transform

WITH_APPCONTEXT = "flask.cli.with_appcontext"
APP_GROUP = "flask.cli.AppGroup"
CURRENT_APP = "flask.current_app"
APP_CONTEXT_CALL = m.Call(func=m.Attribute(attr=m.Name("app_context")), args=())
CLI_ATTRIBUTE = m.Attribute(attr=m.Name("cli"))


class CliTransform(Transform):
    NAME = "cli"
    DESCRIPTION = "app.app_context() -> app_context(app); app.cli commands kept (run with python -m <pkg>.flask_compat)"
    FINDINGS = {
        "blueprint_cli": Code(
            "F2F231",
            "a blueprint's CLI commands: Flask ran them as `flask {group} COMMAND`; add them to the app's "
            "group by hand (app.cli.add_command(...)), since an APIRouter has no cli",
            "Flask registers a blueprint's ``bp.cli`` commands under a group named after the blueprint "
            "when it is registered. The converted router has no ``cli``; move the commands to a click "
            "group of your own and add it to the app's with ``app.cli.add_command(group)``.",
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
            "from fastapi import APIRouter\n\nbp = APIRouter()\n\n\n"
            "# TODO[F2F231]: a blueprint's CLI commands: Flask ran them as `flask users COMMAND`; add them to "
            "the app's group by hand (app.cli.add_command(...)), since an APIRouter has no cli\n"
            "@bp.cli.command('create')\ndef create():\n    pass\n",
            codes=("F2F231",),
            title="a blueprint's commands are flagged",
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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.blueprint_names: dict[cst.CSTNode, str] = {}

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if m.matches(original_node, APP_CONTEXT_CALL) and isinstance(updated_node, cst.Call):
            receiver = original_node.func.value  # type: ignore[attr-defined]
            if self.kind_of(receiver) == "app" or self.names(receiver, CURRENT_APP):
                self.consume(original_node.func)
                self.use_support("app_context")
                app = updated_node.func.value  # type: ignore[attr-defined]
                return cst.Call(cst.Name("app_context"), [cst.Arg(app)])
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if m.matches(original_node, CLI_ATTRIBUTE) and self.kind_of(original_node.value) == "blueprint":
            self.consume(original_node)  # one marker that says what to do, not also F2F192's
            self.flag(original_node, "blueprint_cli", group=self._blueprint_name(original_node.value))
        return updated_node

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

    def _blueprint_name(self, receiver: cst.BaseExpression) -> str:
        """The blueprint's name (Flask's default CLI group), from ``Blueprint('users', ...)``."""
        if isinstance(receiver, cst.Name):
            for value in self.assigned_values(receiver):
                if isinstance(value, cst.Call) and value.args and isinstance(value.args[0].value, cst.SimpleString):
                    evaluated = value.args[0].value.evaluated_value
                    if isinstance(evaluated, str):
                        return evaluated
        return "<blueprint>"
