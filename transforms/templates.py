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
- what they read of Flask's template context the converted module's ``Jinja2Templates`` gives
  too: ``config`` (``app.config``, a global as in Flask), ``request.path`` and ``url_for`` of a
  native route given exactly its variables (the runtime's ``flask_template_context``, a context
  processor, where the view passes neither name), the filters, tests and globals the project
  registers (``@app.template_filter``, a blueprint's ``app_template_filter``,
  ``app.jinja_env.globals["x"] = <literal>``: registered by name on ``templates.env``), and the
  app's context processors (``{**site_context(), ...}`` in each context: Starlette's processors
  would win over the view's values, Flask's lose). ``session``, ``g``, ``get_flashed_messages``,
  Flask's ``tojson`` and what is registered in another way keep the template Flask's; a name no
  one gives is Jinja's undefined in both, unless a Flask extension may add it;
- the app changes nothing of its Jinja environment's syntax (``jinja_options``...).

Any other ``render_template`` of a native view stays Flask's, with a finding that says why.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ScopeProvider

from codemod.discovery import discover
from codemod.findings import Code
from codemod.state import REQUEST_TOKEN
from codemod.plan import RoutePlan
from codemod.templates import FLASK_FILTERS, FLASK_NAMES, Needs, Registered, UrlFor, needs, registered
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
RUNTIME = "flask2fastapi_runtime.templating"
# the names of Flask's template context the runtime's context processor gives
CONTEXT = frozenset({"request", "url_for"})
# the route variables whose werkzeug converter writes what the runtime's url_for writes
URL_VARIABLES = frozenset({"builtins.str", "builtins.int", "typing.Literal"})


class TemplatesTransform(Transform):
    NAME = "templates"
    DESCRIPTION = "native views: return render_template(name, **ctx) -> templates.TemplateResponse(request, name, ctx)"
    PREFILTER = (b"render_template",)
    FINDINGS = {
        "flask template": Code(
            "F2F621",
            "render_template({template}) stays Flask's: {why}",
            "The template (or one it extends, includes or imports) needs what only Flask's Jinja "
            "environment gives: session, g, get_flashed_messages, request beyond request.path, a "
            "url_for the converted app's routes do not build alike (a query argument, a blueprint-"
            "relative or bridged endpoint), Flask's tojson, a filter, test, global or context "
            "processor registered in a way not converted, or a file outside the app's template "
            "folder. Pass the values from the view, register filters on templates.env.filters, "
            "and convert again.",
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
        self.app: str | None = None  # the app's variable in this module
        self.registered = Registered({}, {}, {}, {}, (), frozenset(), ())
        self.imported: set[str] = set()  # the project modules this module imports names from
        self.endpoints: dict[str, list[RoutePlan]] = {}
        self.found: dict[cst.Call, Needs] = {}  # what the converted calls' templates read
        self.used: dict[str, set[str]] = {"filters": set(), "tests": set(), "functions": set(), "globals": set()}

    def visit_Module(self, node: cst.Module) -> None:
        module = self.context.full_module_name or ""
        apps = [a for a in self.run.project.apps.values() if a.module == module and a.module_level]
        own = m.Call(args=[m.Arg(value=m.Name("__name__"), keyword=None)])
        made = [c for c in m.findall(node, own) if isinstance(c, cst.Call) and self.names(c.func, *FLASK)]
        scope = self.get_metadata(ScopeProvider, node, None)
        if (
            len(apps) == 1 and len(self.run.project.apps) == 1 and len(made) == 1 and self.context.filename
            and Path(self.context.filename).is_file()  # a module on disk, next to its templates
            and not ENVIRONMENT.search(node.code) and (scope is None or NAME not in scope)
        ):
            self.folder = Path(self.context.filename).parent / "templates"
            self.app = next(name for name, a in self.run.project.apps.items() if a.module == module).rpartition(".")[2]
            package = module.rpartition(".")[0]
            self.registered = registered(self.folder.parent, package, module, self.app)
            self.imported = {
                cst.Module([]).code_for_node(i.module) for i in m.findall(node, m.ImportFrom(relative=[]))
                if isinstance(i, cst.ImportFrom) and i.module is not None
            }
            endpoints: dict[str, list[RoutePlan]] = defaultdict(list)
            if not m.findall(node, m.Attribute(attr=m.Name("url_defaults") | m.Name("app_url_defaults"))):
                for path, function in sorted(self.run.project.views):
                    for plan in self.run.project.plan(path, function):
                        endpoints[plan.endpoint].append(plan)
            self.endpoints = dict(endpoints)

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
        found = self.found[call] = needs(self.folder, template)
        if not found.found:  # a blueprint's template, or none: Flask's loader decides, not a person
            return Why(f"{template} is not in the app's template folder")
        passed = {a.keyword.value for a in args[1:]}  # type: ignore[union-attr]
        blockers = self._flask_names(found, passed) + self._registered(found) + list(found.blockers)
        env = self.registered
        known = passed | FLASK_NAMES | set(env.globals) | set(env.functions) | env.given
        missing = sorted(found.names - known)
        # a name no one passes is Jinja's undefined in both, unless the app adds values to
        # templates in a way not understood
        if missing and (env.opaque or _extension(self.folder.parent)):
            blockers.append(f"reads {', '.join(missing)}, which the view does not pass")
            blockers.extend(env.opaque)
        return Why("; ".join(blockers), analysed=True) if blockers else None

    def _flask_names(self, found: Needs, passed: set[str]) -> list[str]:
        """Why the names of Flask's context the template reads are not given alike (empty: they are)."""
        given = set()
        if self.app is not None:
            given.add("config")  # Flask's env.globals["config"] is app.config: so is the converted one
        if found.request <= {"path"} and "request" not in passed:
            given.add("request")
        if all(self._url_alike(u) for u in found.url_fors) and "url_for" not in passed:
            given.add("url_for")
        left = sorted((found.names & FLASK_NAMES) - passed - given)
        return [f"uses Flask's {', '.join(left)}"] if left else []

    def _url_alike(self, call: UrlFor) -> bool:
        """Whether the runtime's url_for writes what Flask's wrote for this template call: a
        literal endpoint of one native route, given exactly its variables, of types both write alike."""
        if not call.plain or call.endpoint is None or call.endpoint.startswith("."):
            return False
        targets = self.endpoints.get(call.endpoint, [])
        if len(targets) != 1 or targets[0].level != "native":
            return False
        variables = targets[0].annotations
        return set(variables) == call.values and all(q in URL_VARIABLES for q, _ in variables.values())

    def _registered(self, found: Needs) -> list[str]:
        """Why a filter or test the template uses is not registered alike (empty: they all are)."""
        blockers = []
        env = self.registered
        for kind, names, known in (("filter", found.filters, env.filters), ("test", found.tests, env.tests)):
            for name in sorted(names):
                where = known.get(name)
                if name in FLASK_FILTERS or where is None:
                    blockers.append(f"uses the {name} {kind}, Flask's or one registered in a way not converted")
                elif where[0] != self.context.full_module_name and where[0] not in self.imported:
                    blockers.append(f"uses the {name} {kind} of {where[0]}, which the app's module does not import")
        return blockers

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
        # Flask runs the app's context processors for every template; the view's values win
        processors = [
            cst.StarredDictElement(cst.Call(self._reference(original_node, module, name)))
            for module, name in self.registered.processors
        ]
        context = cst.Dict([
            *processors,
            *(cst.DictElement(string_literal(a.keyword.value), a.value) for a in value.args[1:]),  # type: ignore[union-attr]
        ])
        args = [cst.Arg(cst.Name(request)), cst.Arg(value.args[0].value)]
        if context.elements:
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
        found = [self.found[call] for _, call in self.returns.values()]
        names = set().union(*(f.names for f in found))
        env = self.registered
        local = {name for module, name in (*env.filters.values(), *env.tests.values(), *env.functions.values())
                 if module == self.context.full_module_name}
        # before the first function or class: after the app and the module's constants, and
        # after the functions it registers
        index = next((i for i, s in enumerate(statements) if isinstance(s, (cst.FunctionDef, cst.ClassDef))), len(statements))
        for i, statement in enumerate(statements):
            if isinstance(statement, cst.FunctionDef) and statement.name.value in local:
                index = max(index, i + 1)
        node = next(iter(self.views))
        block = [self._templates_object(node, context=bool(names & CONTEXT))]
        registrations = [
            ("filters", {n: env.filters[n] for f in found for n in f.filters}),
            ("tests", {n: env.tests[n] for f in found for n in f.tests}),
        ]
        values: dict[str, cst.BaseExpression] = {}
        if "config" in names and self.app is not None:
            values["config"] = cst.Attribute(cst.Name(self.app), cst.Name("config"))
        values |= {n: env.globals[n] for n in sorted(names & set(env.globals))}
        values |= {n: self._reference(node, *env.functions[n]) for n in sorted(names & set(env.functions))}
        for kind, functions in registrations:
            if functions:
                block.append(_update(kind, {
                    n: self._reference(node, module, name) for n, (module, name) in sorted(functions.items())
                }))
        if values:
            block.append(_update("globals", values))
        statements[index:index] = block
        return updated_node.with_changes(body=statements)

    def _reference(self, node: cst.CSTNode, module: str, name: str) -> cst.Name:
        """The name of a function the project registers, imported where it is another module's."""
        if module == self.context.full_module_name:
            return cst.Name(name)
        return self.import_reference(node, module, name, replaces=False)

    def _templates_object(self, node: cst.CSTNode, context: bool) -> cst.BaseStatement:
        """``templates = Jinja2Templates(env=Environment(...))`` over the app's template folder;
        ``context``: with the runtime's context processor for Flask's ``request`` and ``url_for``."""
        names = {
            name: self.import_reference(node, module, name, replaces=False).value
            for module, name in (
                ("fastapi.templating", "Jinja2Templates"), ("jinja2", "Environment"), ("jinja2", "FileSystemLoader"),
                ("jinja2", "select_autoescape"), ("pathlib", "Path"),
                *([(RUNTIME, "flask_template_context")] if context else []),
            )
        }
        extensions = ", ".join(f'"{e}"' for e in EXTENSIONS)
        processors = f"    context_processors=[{names['flask_template_context']}],\n" if context else ""
        # only names the tool chose are put in this text, no text of the project
        statement = cst.parse_statement(
            f"{NAME} = {names['Jinja2Templates']}(\n"
            f"    env={names['Environment']}(\n"
            f"        loader={names['FileSystemLoader']}({names['Path']}(__file__).parent / \"templates\"),\n"
            f"        autoescape={names['select_autoescape']}(({extensions})),\n"
            f"    ){',' if context else ''}\n{processors}"
            ")\n"
        )
        said = "# the app's template folder, autoescaped as Flask did"
        if context:
            said += ", with Flask's request.path and url_for"
        comment = cst.EmptyLine(comment=cst.Comment(said))
        return statement.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), comment])


def _update(kind: str, values: dict[str, cst.BaseExpression]) -> cst.SimpleStatementLine:
    """``templates.env.<kind>.update({"name": value, ...})``: what Flask's environment had."""
    statement = cst.parse_statement(f"{NAME}.env.{kind}.update({{}})\n")
    assert isinstance(statement, cst.SimpleStatementLine)
    mapping = cst.Dict([cst.DictElement(string_literal(name), value) for name, value in values.items()])
    call = statement.body[0].value  # type: ignore[attr-defined]
    return statement.with_changes(body=[cst.Expr(call.with_changes(args=[cst.Arg(mapping)]))])


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


def _extension(folder: Path) -> bool:
    """Whether the project's code next to the app imports a Flask extension, which may add
    values to every template (Flask-Login's ``current_user``, Flask-WTF's ``csrf_token``)."""
    for path in discover([folder]):  # the project's files: not a virtual environment's
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return True
        if EXTENSION.search(text):
            return True
    return False
