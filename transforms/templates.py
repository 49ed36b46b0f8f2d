"""``return render_template("page.html", x=x)`` in a native view -> ``templates.TemplateResponse``.

Targets https://fastapi.tiangolo.com/advanced/templates/ : the module gets a ``Jinja2Templates``
over the app's template folder, with Flask's autoescape rule (``.html``, ``.htm``, ``.xml``,
``.xhtml``, ``.svg``), and the view returns ``templates.TemplateResponse(request, "page.html",
{"x": x})`` (``status_code=404`` for ``return render_template(...), 404``): the same bytes, as
``text/html; charset=utf-8``.

A call converts only where the template renders the same outside Flask, which
codemod/templates.py proves by parsing it and every template it extends, includes or imports:

- they are all in the app's ``templates`` folder, the first one Flask's loader searches (a
  blueprint's folder only serves a name the app's folder lacks), next to the module that makes
  the app as ``Flask(__name__)``, whose views these are;
- they read no name Flask adds (``request``, ``session``, ``g``, ``config``, ``url_for``,
  ``get_flashed_messages``) and no name the view does not pass (a context processor's or a
  global's), and use only Jinja's own filters and tests (not Flask's ``tojson`` nor the app's);
- the app changes nothing of its Jinja environment's syntax (``jinja_options``...).

Any other ``render_template`` of a native view stays Flask's, with a finding that says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ScopeProvider

from codemod.findings import Code
from codemod.state import REQUEST_TOKEN
from codemod.templates import needs
from codemod.transform import Example, Transform
from transforms._flask import kwarg, string_literal
from transforms._values import is_str_literal
from transforms._views import OwnBody, native_plans, request_free, with_parameter

RENDER_TEMPLATE = frozenset({"flask.render_template", "flask.templating.render_template"})
FLASK = frozenset({"flask.Flask", "flask.app.Flask"})
NAME = "templates"
# what changes the Jinja environment beyond names a template reads
ENVIRONMENT = re.compile(r"jinja_options|jinja_environment|create_jinja_environment|jinja_env\.(?!globals\b|filters\b|tests\b)")
EXTENSION = re.compile(r"^\s*(?:from|import)\s+flask_", re.MULTILINE)  # a Flask extension's package
EXTENSIONS = ("html", "htm", "xml", "xhtml", "svg")  # Flask's select_jinja_autoescape


class TemplatesTransform(Transform):
    NAME = "templates"
    DESCRIPTION = "native views: return render_template(name, **ctx) -> templates.TemplateResponse(request, name, ctx)"
    PREFILTER = (b"render_template",)
    FINDINGS = {
        "flask template": Code(
            "F2F621",
            "render_template({template}) stays Flask's: {why}",
            "The template (or one it extends, includes or imports) needs what only Flask's Jinja "
            "environment gives: a name Flask adds (request, session, g, config, url_for, "
            "get_flashed_messages), a context processor's or a global's value, a filter or test the "
            "app registers, or a file outside the app's template folder. Pass the values from the "
            "view (or a Jinja2Templates context processor), register the filters on "
            "templates.env.filters, and convert again.",
        ),
    }
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, render_template
            app = Flask(__name__)

            @app.get("/")
            def index():
                return render_template("index.html", title="Hi")
            """,
            """\
            from flask import Flask, render_template
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            @api.get("/")
            def index():
                return render_template("index.html", title="Hi")
            """,
            title="a template not in the app's folder (a blueprint's, or none) stays Flask's; see fixtures/templates/",
        ),
        Example(
            """\
            from flask import render_template

            def page(title):
                return render_template("page.html", title=title)
            """,
            title="outside a view render_template stays",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.folder: Path | None = None
        self.returns: dict[cst.Return, tuple[str, cst.Call]] = {}  # -> its view's request name
        self.views: dict[cst.FunctionDef, str] = {}
        self.first: cst.CSTNode | None = None  # the first module statement with a converted view

    def visit_Module(self, node: cst.Module) -> None:
        module = self.context.full_module_name or ""
        apps = [a for a in self.run.project.apps.values() if a.module == module and a.module_level]
        own = m.Call(args=[m.Arg(value=m.Name("__name__"), keyword=None)])
        made = [c for c in m.findall(node, own) if isinstance(c, cst.Call) and self.names(c.func, *FLASK)]
        scope = self.get_metadata(ScopeProvider, node, None)
        if (
            len(apps) == 1 and len(self.run.project.apps) == 1 and len(made) == 1 and self.context.filename
            and not ENVIRONMENT.search(node.code) and (scope is None or NAME not in scope)
        ):
            self.folder = Path(self.context.filename).parent / "templates"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not native_plans(self, node):
            return
        state = self.run.project.state
        qualified = f"{self.context.full_module_name or ''}.{node.name.value}"
        request = state.request_param if REQUEST_TOKEN in state.views.get(qualified, {}) else "request"
        for returned in OwnBody(node).returns:
            call = _rendered(returned.value)
            if call is None or not self.names(call.func, *RENDER_TEMPLATE):
                continue
            why = self._why_not(call, node)
            if why is None:
                self.returns[returned] = (request, call)
                self.views[node] = request
            elif self.folder is not None and why.analysed:
                self.flag(call, "flask template", template=string_literal(call.args[0].value.evaluated_value).value, why=why.text)

    def _why_not(self, call: cst.Call, view: cst.FunctionDef) -> Why | None:
        """Why ``call`` cannot become a TemplateResponse (None: it can); only a reason found in
        the templates is one a person can act on (a finding)."""
        args = call.args
        if not args or args[0].keyword is not None or not is_str_literal(args[0].value):
            return Why("the template's name is only known when it runs")
        if any(a.keyword is None or a.star for a in args[1:]):
            return Why("the values it is given are only known when it runs")
        if self.folder is None or not request_free(self, view):
            return Why("not the app module's view, or Flask's request is still read")
        template = args[0].value.evaluated_value  # type: ignore[union-attr]
        found = needs(self.folder, template)
        if not found.found:  # a blueprint's template, or none: Flask's loader decides, not a person
            return Why(f"{template} is not in the app's template folder")
        missing = sorted(found.names - {a.keyword.value for a in args[1:]} - _flask_names(found.blockers))  # type: ignore[union-attr]
        blockers = list(found.blockers)
        # a name no one passes is Jinja's undefined in both, unless the app adds values to templates
        if missing and _adds_values(self.folder.parent):
            blockers.append(f"reads {', '.join(missing)}, which the view does not pass")
        return Why("; ".join(blockers), analysed=True) if blockers else None

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        found = self.returns.get(original_node)
        if found is None:
            return updated_node
        request, original_call = found
        self.consume(original_call)
        value = updated_node.value
        status = None
        if isinstance(value, cst.Tuple):
            status = value.elements[1].value
            value = value.elements[0].value
        assert isinstance(value, cst.Call)
        context = cst.Dict([
            cst.DictElement(string_literal(a.keyword.value), a.value)  # type: ignore[union-attr]
            for a in value.args[1:]
        ])
        args = [cst.Arg(cst.Name(request)), cst.Arg(value.args[0].value)]
        if value.args[1:]:
            args.append(cst.Arg(context))
        if status is not None:
            args.append(kwarg("status_code", status))
        args = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in args[:-1]] + args[-1:]
        response = cst.Attribute(cst.Name(NAME), cst.Name("TemplateResponse"))
        return updated_node.with_changes(value=cst.Call(response, args))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        name = self.views.get(original_node)
        if name is None:
            return updated_node
        annotation = self.import_reference(original_node, "fastapi", "Request", replaces=False)
        return with_parameter(updated_node, name, annotation)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.views:
            return updated_node
        statements = list(updated_node.body)
        # before the first function or class: after the app and the module's constants
        index = next((i for i, s in enumerate(statements) if isinstance(s, (cst.FunctionDef, cst.ClassDef))), len(statements))
        statements.insert(index, self._templates_object(next(iter(self.views))))
        return updated_node.with_changes(body=statements)

    def _templates_object(self, node: cst.CSTNode) -> cst.BaseStatement:
        """``templates = Jinja2Templates(env=Environment(...))`` over the app's template folder."""
        names = {
            name: self.import_reference(node, module, name, replaces=False).value
            for module, name in (
                ("fastapi.templating", "Jinja2Templates"), ("jinja2", "Environment"), ("jinja2", "FileSystemLoader"),
                ("jinja2", "select_autoescape"), ("pathlib", "Path"),
            )
        }
        extensions = ", ".join(f'"{e}"' for e in EXTENSIONS)
        # only names the tool chose are put in this text, no text of the project
        statement = cst.parse_statement(
            f"{NAME} = {names['Jinja2Templates']}(\n"
            f"    env={names['Environment']}(\n"
            f"        loader={names['FileSystemLoader']}({names['Path']}(__file__).parent / \"templates\"),\n"
            f"        autoescape={names['select_autoescape']}(({extensions})),\n"
            "    )\n"
            ")\n"
        )
        comment = cst.EmptyLine(comment=cst.Comment("# the app's template folder, autoescaped as Flask did"))
        return statement.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), comment])


@dataclass(frozen=True)
class Why:
    """Why a call stays Flask's; ``analysed``: found in the templates, a finding says it."""

    text: str
    analysed: bool = False


def _rendered(value: cst.BaseExpression | None) -> cst.Call | None:
    """The ``render_template(...)`` call of ``return render_template(...)`` or ``return
    render_template(...), 404`` (an int literal status)."""
    if isinstance(value, cst.Call):
        return value
    if (
        isinstance(value, cst.Tuple) and len(value.elements) == 2 and isinstance(value.elements[0].value, cst.Call)
        and isinstance(value.elements[1].value, cst.Integer) and all(isinstance(e, cst.Element) for e in value.elements)
    ):
        return value.elements[0].value
    return None


def _adds_values(folder: Path) -> bool:
    """Whether the project's code next to the app may add values to every template: a context
    processor, a Jinja global, or a Flask extension (Flask-Login's ``current_user``, Flask-WTF's
    ``csrf_token``), read as text: a mention is enough."""
    words = ("context_processor", "template_global", "jinja_env", "add_template_global")
    for path in sorted(folder.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return True
        if any(word in text for word in words) or EXTENSION.search(text):
            return True
    return False


def _flask_names(blockers: tuple[str, ...]) -> set[str]:
    """The names a "uses Flask's ..." blocker already names (not listed twice)."""
    for blocker in blockers:
        if blocker.startswith("uses Flask's "):
            return set(blocker.removeprefix("uses Flask's ").split(", "))
    return set()
