"""``return render_template("page.html", x=x)`` in a native view or a converted error handler ->
``templates.TemplateResponse``; ``render_template_string`` -> the same environment's ``from_string``.

Targets https://fastapi.tiangolo.com/advanced/templates/ : the module gets a ``Jinja2Templates``
over the app's template folder, with Flask's autoescape rule (``.html``, ``.htm``, ``.xml``,
``.xhtml``, ``.svg``; a template given as a string always), and the view returns
``templates.TemplateResponse(request, "page.html", {"x": x})`` (``status_code=404`` for ``return
render_template(...), 404``): the same bytes, as ``text/html; charset=utf-8``. ``return
render_template_string(source, x=x)`` returns ``HTMLResponse(templates.env.from_string(source)
.render({...}))``, what Flask made of the str it rendered.

A call converts only where the template renders the same outside Flask, which
codemod/template_plan.py decides for the project (the error handler plan asks it too): the
templates are the app's (its module's ``templates`` folder, searched first by Flask's loader), and
what they read of Flask's template context the converted module gives. That is ``config`` (a
global), ``request.path``, ``url_for`` and ``get_flashed_messages`` (the runtime's
``flask_template_context``, a context processor), the filters, tests and globals the project
registers (``templates.env.filters.update(...)``...), and the app's context processors
(``{**site_context(), ...}`` in each context: Starlette's processors would win over the view's
values, Flask's lose). The view must be a native one whose ``request`` may be Starlette's, its
template name and values literal keywords; a converted error handler is given its Request.

Any other ``render_template`` of a native view stays Flask's, with a finding that says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from codemod.findings import Code
from codemod.state import REQUEST_TOKEN
from codemod.template_plan import CONTEXT, NAME
from codemod.templates import Needs
from codemod.transform import Example, Transform
from transforms._flask import kwarg, string_literal
from transforms._values import is_str_literal
from transforms._views import OwnBody, native_plans, request_free, with_parameter
from transforms.error_handlers import handler_request

RENDER_TEMPLATE = frozenset({"flask.render_template", "flask.templating.render_template"})
RENDER_STRING = frozenset({"flask.render_template_string", "flask.templating.render_template_string"})
EXTENSIONS = ("html", "htm", "xml", "xhtml", "svg")  # Flask's select_jinja_autoescape
RUNTIME = "flask2fastapi_runtime.templating"
STRING = ""  # needs()'s name for a template given as a string: no file is called so


@dataclass(frozen=True)
class Rendered:
    """A call that converts: the name of its Request, whether its template is a string, what it reads."""

    request: str
    string: bool
    found: Needs


class TemplatesTransform(Transform):
    NAME = "templates"
    DESCRIPTION = "native views: return render_template(name, **ctx) -> templates.TemplateResponse(request, name, ctx)"
    PREFILTER = (b"render_template",)
    FINDINGS = {
        "flask template": Code(
            "F2F621",
            "render_template({template}) stays Flask's: {why}",
            "The template (or one it extends, includes or imports) needs what only Flask's Jinja "
            "environment gives: session, g, get_flashed_messages where Flask's session stays, "
            "request beyond request.path, a url_for the converted app's routes do not build alike "
            "(a query argument, a blueprint-relative or bridged endpoint), Flask's tojson, a "
            "filter, test, global or context processor registered in a way not converted, or a "
            "file outside the app's template folder. Pass the values from the view, register "
            "filters on templates.env.filters, and convert again.",
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
        self.plan = self.run.project.template_plan
        self.module = self.context.full_module_name or ""
        self.returns: dict[cst.Return, tuple[cst.Call, Rendered]] = {}
        self.views: dict[cst.FunctionDef, str] = {}  # -> the request parameter a view gets
        self.anchor: cst.CSTNode | None = None  # a converting function: where imports are asked for

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.plan.module != self.module:
            return
        handler = self.run.project.error_handlers.get(f"{self.module}.{node.name.value}")
        if handler is not None and handler.convert:
            request = handler_request(self, node)
        elif native_plans(self, node):
            state = self.run.project.state
            qualified = f"{self.module}.{node.name.value}"
            request = state.request_param if REQUEST_TOKEN in state.views.get(qualified, {}) else "request"
        else:
            return
        for returned in OwnBody(node).returns:
            call = _rendered(returned.value)
            string = call is not None and self.names(call.func, *RENDER_STRING)
            if call is None or not (string or self.names(call.func, *RENDER_TEMPLATE)):
                continue
            found, why = self._why_not(call, node, string, handler is not None)
            if found is not None and why is None:
                self.returns[returned] = (call, Rendered(request, string, found))
                self.anchor = self.anchor or node
                if handler is None and (not string or found.names & CONTEXT):
                    self.views[node] = request
            elif why is not None and found is not None and not string:
                self.flag(call, "flask template", template=string_literal(call.args[0].value.evaluated_value).value, why=why)

    def _why_not(self, call: cst.Call, function: cst.FunctionDef, string: bool, handler: bool) -> tuple[Needs | None, str | None]:
        """What the call's template reads and why it cannot convert (None: it can); without
        what it reads, the reason is none a person acts on (no finding)."""
        args = call.args
        if not args or args[0].keyword is not None or not is_str_literal(args[0].value):
            return None, "the template is only known when it runs"
        if any(a.keyword is None or a.star for a in args[1:]):
            return None, "the values it is given are only known when it runs"
        if not handler and not request_free(self, function):
            return None, "Flask's request is still read"
        value = args[0].value.evaluated_value  # type: ignore[union-attr]
        passed = frozenset(a.keyword.value for a in args[1:])  # type: ignore[union-attr]
        found, blockers = self.plan.blockers(self.module, STRING if string else value, passed, value if string else None)
        return found, "; ".join(blockers) or None

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        found = self.returns.get(original_node)
        if found is None:
            return updated_node
        original_call, rendered = found
        self.consume(original_call)
        value = updated_node.value
        status = None
        if isinstance(value, cst.Tuple):
            status = value.elements[1].value
            value = value.elements[0].value
        assert isinstance(value, cst.Call)
        # Flask runs the app's context processors for every template; the view's values win
        elements: list[cst.BaseDictElement] = [
            cst.StarredDictElement(cst.Call(self._reference(original_node, module, name)))
            for module, name in self.plan.registered.processors
        ]
        elements += [cst.DictElement(string_literal(a.keyword.value), a.value) for a in value.args[1:]]  # type: ignore[union-attr]
        request = cst.Name(rendered.request)
        if rendered.string:
            return updated_node.with_changes(value=self._from_string(original_node, value, elements, rendered, status))
        args = [cst.Arg(request), cst.Arg(value.args[0].value)]
        if elements:
            args.append(cst.Arg(cst.Dict(elements)))
        if status is not None:
            args.append(kwarg("status_code", status))
        response = cst.Attribute(cst.Name(NAME), cst.Name("TemplateResponse"))
        return updated_node.with_changes(value=cst.Call(response, _spaced(args)))

    def _from_string(
        self, anchor: cst.CSTNode, call: cst.Call, elements: list[cst.BaseDictElement], rendered: Rendered,
        status: cst.BaseExpression | None,
    ) -> cst.Call:
        """``HTMLResponse(templates.env.from_string(source).render({...}))``; the runtime's
        context first where the template reads Flask's request, url_for or get_flashed_messages."""
        if rendered.found.names & CONTEXT:
            context = self.import_reference(anchor, RUNTIME, "flask_template_context", replaces=False)
            elements = [cst.StarredDictElement(cst.Call(context, [cst.Arg(cst.Name(rendered.request))])), *elements]
        template = cst.Call(cst.Attribute(cst.Attribute(cst.Name(NAME), cst.Name("env")), cst.Name("from_string")), [cst.Arg(call.args[0].value)])
        page = cst.Call(cst.Attribute(template, cst.Name("render")), [cst.Arg(cst.Dict(elements))] if elements else [])
        response = self.import_reference(anchor, "fastapi.responses", "HTMLResponse", replaces=False, same=lambda q: q == "starlette.responses.HTMLResponse")
        return cst.Call(response, _spaced([cst.Arg(page), *([kwarg("status_code", status)] if status is not None else [])]))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        name = self.views.get(original_node)
        if name is None:
            return updated_node
        annotation = self.import_reference(original_node, "fastapi", "Request", replaces=False)
        return with_parameter(updated_node, name, annotation)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.returns or self.anchor is None:
            return updated_node
        statements = list(updated_node.body)
        found = [rendered.found for _, rendered in self.returns.values()]
        names = set().union(*(f.names for f in found))
        env = self.plan.registered
        local = {name for module, name in (*env.filters.values(), *env.tests.values(), *env.functions.values())
                 if module == self.module}
        # before the first function or class: after the app and the module's constants, and
        # after the functions it registers
        index = next((i for i, s in enumerate(statements) if isinstance(s, (cst.FunctionDef, cst.ClassDef))), len(statements))
        for i, statement in enumerate(statements):
            if isinstance(statement, cst.FunctionDef) and statement.name.value in local:
                index = max(index, i + 1)
        node = self.anchor
        context = set().union(*(r.found.names & CONTEXT for _, r in self.returns.values() if not r.string))
        block = [self._templates_object(node, context)]
        values: dict[str, cst.BaseExpression] = {}
        if "config" in names:
            values["config"] = cst.Attribute(cst.Name(self.plan.app), cst.Name("config"))
        values |= {n: env.globals[n] for n in sorted(names & set(env.globals))}
        values |= {n: self._reference(node, *env.functions[n]) for n in sorted(names & set(env.functions))}
        for kind, known in (("filters", env.filters), ("tests", env.tests)):
            used = {n: known[n] for f in found for n in (f.filters if kind == "filters" else f.tests)}
            if used:
                block.append(_update(kind, {n: self._reference(node, module, name) for n, (module, name) in sorted(used.items())}))
        if values:
            block.append(_update("globals", values))
        statements[index:index] = block
        return updated_node.with_changes(body=statements)

    def _reference(self, node: cst.CSTNode, module: str, name: str) -> cst.Name:
        """The name of a function the project registers, imported where it is another module's."""
        if module == self.module:
            return cst.Name(name)
        return self.import_reference(node, module, name, replaces=False)

    def _templates_object(self, node: cst.CSTNode, context: set[str]) -> cst.BaseStatement:
        """``templates = Jinja2Templates(env=Environment(...))`` over the app's template folder;
        with the runtime's context processor where the templates read ``context``, Flask's names."""
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
            said += ", with Flask's request.path" + (", url_for and get_flashed_messages" if "get_flashed_messages" in context else " and url_for")
        comment = cst.EmptyLine(comment=cst.Comment(said))
        return statement.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), comment])


def _spaced(args: list[cst.Arg]) -> list[cst.Arg]:
    return [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in args[:-1]] + args[-1:]


def _update(kind: str, values: dict[str, cst.BaseExpression]) -> cst.SimpleStatementLine:
    """``templates.env.<kind>.update({"name": value, ...})``: what Flask's environment had."""
    statement = cst.parse_statement(f"{NAME}.env.{kind}.update({{}})\n")
    assert isinstance(statement, cst.SimpleStatementLine)
    mapping = cst.Dict([cst.DictElement(string_literal(name), value) for name, value in values.items()])
    call = statement.body[0].value  # type: ignore[attr-defined]
    return statement.with_changes(body=[cst.Expr(call.with_changes(args=[cst.Arg(mapping)]))])


def _rendered(value: cst.BaseExpression | None) -> cst.Call | None:
    """The call of ``return render_template(...)`` or ``return render_template(...), 404`` (an int
    literal status)."""
    if isinstance(value, cst.Call):
        return value
    if (
        isinstance(value, cst.Tuple) and len(value.elements) == 2 and isinstance(value.elements[0].value, cst.Call)
        and isinstance(value.elements[1].value, cst.Integer) and all(isinstance(e, cst.Element) for e in value.elements)
    ):
        return value.elements[0].value
    return None
