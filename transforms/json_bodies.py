"""The JSON body of a native view into a Pydantic model instance the view reads attributes of.

Targets https://fastapi.tiangolo.com/tutorial/body/ . ``codemod/bodies.py`` proves which views
can take their body as a model and still answer every request as before (a missing key, a wrong
type, a body that is no object, malformed JSON, another content type, an empty body); this
transform writes it:

    data = request.get_json(silent=True) or {}          def create(data: Annotated[CreateBody | None,
    if not isinstance(data, dict):                 ->              FlaskJson(silent=True, or_empty=True)] = None):
        abort(400)                                          if data is None:
    title = data.get("title")                                   abort(400)
                                                            title = data.title

with ``class CreateBody(BaseModel)`` above the view: a field per key the view reads, typed by
the view's own checks (``isinstance``, a literal default), so that OpenAPI documents the body.
The runtime's ``FlaskJson`` gives the view what the read gave it (the model with each value as
sent, or None for anything but an object), so the view's checks answer as they did. With
``--native-validation`` the model is strict, the keys a check refuses to do without are required,
and FastAPI answers a body that does not fit with 422.

Where no model is proven (a key read no check refused a body without, the body used whole), the
view takes the value ``get_json`` gave: ``data: Annotated[Any, FlaskJson()] = None`` and its code
as it was (``data["name"]`` raises the KeyError Flask's view raised); a read inline becomes the
parameter's name. Where Flask could answer before the read, ``FlaskJson(deferred=True)`` and
``body.read()`` read it there. There is no model for ``--native-validation`` to make strict: such
a body is ``FlaskJson``'s with it too.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.bodies import Body, Field
from codemod.facts import literal
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME, kwarg, string_literal
from transforms._views import factory_views, model_name, request_reads, with_parameter, without_statements
from codemod.names import Parents


class JsonBodiesTransform(Transform):
    NAME = "json_bodies"
    DESCRIPTION = "request.get_json() in native views -> a Pydantic model parameter (FlaskJson keeps the answers)"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, abort, request
            app = Flask(__name__)

            @app.post("/notes")
            def create_note():
                data = request.get_json(silent=True) or {}
                if not isinstance(data, dict):
                    abort(400, description="body must be an object")
                title = data.get("title")
                if title is not None and not isinstance(title, str):
                    return {"error": "title must be a string"}, 400
                return {"title": title, "sent": "title" in data}, 201
            """,
            """\
            from flask import Flask
            from fastapi import HTTPException
            from fastapi.responses import JSONResponse
            from flask2fastapi_runtime import FlaskBridge, FlaskJson
            from pydantic import BaseModel
            from typing import Annotated

            app = Flask(__name__)
            api = FlaskBridge(app)

            class CreateNoteBody(BaseModel):
                \"\"\"The JSON body create_note reads, each value as sent (the view checks them).\"\"\"

                title: str | None = None

            @api.post("/notes", status_code=201)
            def create_note(
                data: Annotated[CreateNoteBody | None, FlaskJson(silent=True, or_empty=True)] = None,
            ):
                if data is None:
                    raise HTTPException(status_code=400, detail="body must be an object")
                title = data.title
                if title is not None and not isinstance(title, str):
                    return JSONResponse({"error": "title must be a string"}, status_code=400)
                return {"title": title, "sent": "title" in data.model_fields_set}
            """,
            title="silent, or {}, an object check, a key and a presence test",
        ),
        Example(
            """\
            from flask import Flask, request
            app = Flask(__name__)

            @app.post("/items")
            def create_item():
                data = request.get_json()
                if not isinstance(data, dict) or not isinstance(data.get("name"), str):
                    return {"error": "name is required"}, 400
                return {"name": data["name"], "price": data.get("price", 0)}, 201
            """,
            """\
            from flask import Flask
            from fastapi.responses import JSONResponse
            from flask2fastapi_runtime import FlaskBridge, FlaskJson
            from pydantic import BaseModel
            from typing import Annotated

            app = Flask(__name__)
            api = FlaskBridge(app)

            class CreateItemBody(BaseModel):
                \"\"\"The JSON body create_item reads, each value as sent (the view checks them).\"\"\"

                name: str | None = None
                price: int = 0

            @api.post("/items", status_code=201)
            def create_item(data: Annotated[CreateItemBody | None, FlaskJson()] = None):
                if data is None or not isinstance(data.name, str):
                    return JSONResponse({"error": "name is required"}, status_code=400)
                return {"name": data.name, "price": data.price}
            """,
            title="Flask's 415/400 from its own get_json; data['name'] where a check proved it sent",
        ),
        Example(
            """\
            from flask import Flask, request
            app = Flask(__name__)

            @app.post("/echo")
            def echo():
                return {"echo": request.get_json()}

            @app.post("/authors")
            def create_author():
                data = request.get_json(silent=True) or {}
                return {"name": data["name"], "all": data}
            """,
            """\
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge, FlaskJson
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            class EchoResponse(BaseModel):
                \"\"\"What echo answers with (documents its 200 answer in OpenAPI).\"\"\"

                echo: Any

            @api.post("/echo", response_model=EchoResponse)
            def echo(data: Annotated[Any, FlaskJson()] = None):
                return {"echo": data}

            class CreateAuthorResponse(BaseModel):
                \"\"\"What create_author answers with (documents its 200 answer in OpenAPI).\"\"\"

                name: Any
                all: Any

            @api.post("/authors", response_model=CreateAuthorResponse)
            def create_author(data: Annotated[Any, FlaskJson(silent=True, or_empty=True)] = None):
                return {"name": data["name"], "all": data}
            """,
            title="no model proven (the body used whole, a key no check proved sent): the value get_json gave",
        ),
        Example(
            """\
            from flask import Flask, request
            from .auth import login_required
            app = Flask(__name__)

            @app.post("/raw")
            def raw():
                log = len(request.headers)
                data = request.get_json()
                return {"name": data["name"]}

            @app.post("/maybe")
            def maybe():
                return {"data": request.args.get("a") and request.get_json()}

            @app.post("/twice")
            def twice():
                return {"a": request.get_json(), "b": request.json}

            @app.post("/guarded")
            @login_required
            def guarded():
                return {"echo": request.get_json(silent=True)}
            """,
            """\
            from flask import Flask, request
            from .auth import login_required
            from flask2fastapi_runtime import FlaskBridge, FlaskJson
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            class RawResponse(BaseModel):
                \"\"\"What raw answers with (documents its 200 answer in OpenAPI).\"\"\"

                name: Any

            @api.post("/raw", response_model=RawResponse)
            def raw(body: Annotated[Any, FlaskJson(deferred=True)] = None):
                log = len(request.headers)
                data = body.read()
                return {"name": data["name"]}

            class MaybeResponse(BaseModel):
                \"\"\"What maybe answers with (documents its 200 answer in OpenAPI).\"\"\"

                data: Any

            @api.post("/maybe", response_model=MaybeResponse)
            def maybe(a: str | None = None, body: Annotated[Any, FlaskJson(deferred=True)] = None):
                return {"data": a and body.read()}

            class TwiceResponse(BaseModel):
                \"\"\"What twice answers with (documents its 200 answer in OpenAPI).\"\"\"

                a: Any
                b: Any

            @api.post("/twice", response_model=TwiceResponse)
            def twice():
                return {"a": request.get_json(), "b": request.json}

            @app.post("/guarded")
            @login_required
            def guarded():
                return {"echo": request.get_json(silent=True)}
            """,
            title="read where Flask read it (a call could answer first, a read that may not happen): deferred, body.read(); "
            "two reads, a decorator of the project: Flask's",
        ),
        Example(
            """\
            from flask import request as rq

            def read_body():
                data = rq.get_json(silent=True) or {}
                if not isinstance(data, dict):
                    return None
                return data.get("a")
            """,
            title="a helper, not a view, keeps Flask's read (an aliased import)",
        ),
        Example(
            """\
            from fastapi import FastAPI, Request
            app = FastAPI()

            @app.post("/x")
            async def x(request: Request):
                data = await request.json()
                if not isinstance(data, dict):
                    return {}
                return {"a": data.get("a")}
            """,
            title="a lookalike: Starlette's request in a FastAPI app",
        ),
    )

    def __init__(self, context, run) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context, run)
        self.bodies: dict[cst.FunctionDef, Body] = {}
        self.blocks: dict[cst.CSTNode, Body] = {}
        self.key_reads: dict[cst.CSTNode, tuple[Body, str]] = {}
        self.checks: dict[cst.CSTNode, tuple[Body, bool]] = {}
        self.presence: dict[cst.CSTNode, tuple[Body, str]] = {}
        self.inline: dict[cst.CSTNode, Body] = {}  # a read in place (raw) -> its body
        self.models: dict[str, tuple[str, cst.ClassDef]] = {}  # view -> (model, its class)
        self.helpers: dict[str, Body] = {}  # view -> its body, read through a helper
        self.taken: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        plan = request_reads(self, node)
        body = plan.body if plan is not None else None
        if not isinstance(body, Body):
            return
        self.bodies[node] = body
        self.blocks[node.body] = body
        self.key_reads.update({read: (body, name) for read, name in body.key_reads.items()})
        self.checks.update({check: (body, negated) for check, negated in body.checks.items()})
        self.presence.update({test: (body, name) for test, name in body.presence.items()})
        if body.inline is not None:
            self.inline[body.inline] = body

    # -- the view's uses of its body ------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node in self.inline:
            return self._inline(original_node, updated_node)
        if original_node in self.key_reads:
            return self._field(original_node)
        if original_node in self.checks:
            body, _ = self.checks[original_node]
            test = _is(body.variable, cst.IsNot())
            parent = self.get_metadata(Parents, original_node, None)
            if isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.BinaryOperation, cst.UnaryOperation, cst.Attribute, cst.Subscript)):
                test = test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])  # x == (data is not None)
            return test
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return self._inline(original_node, updated_node) if original_node in self.inline else updated_node  # request.json

    def leave_BooleanOperation(self, original_node: cst.BooleanOperation, updated_node: cst.BooleanOperation) -> cst.BaseExpression:
        return self._inline(original_node, updated_node) if original_node in self.inline else updated_node  # <read> or {}

    def _inline(self, original_node: cst.BaseExpression, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        """The read in place -> the parameter, or ``body.read()`` where it reads there (deferred)."""
        body = self.inline.pop(original_node)  # a name or a call: the read's parentheses go
        if body.deferred:
            return cst.Call(cst.Attribute(cst.Name(body.variable), cst.Name("read")))
        return cst.Name(body.variable)

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        return self._field(original_node) if original_node in self.key_reads else updated_node

    def leave_UnaryOperation(self, original_node: cst.UnaryOperation, updated_node: cst.UnaryOperation) -> cst.BaseExpression:
        if original_node not in self.checks:
            return updated_node
        body, _ = self.checks[original_node]
        return _is(body.variable, cst.Is())

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        if original_node not in self.presence:
            return updated_node
        body, name = self.presence[original_node]  # "k" in data -> "k" in data.model_fields_set
        sent = cst.Attribute(cst.Name(body.variable), cst.Name("model_fields_set"))
        target = updated_node.comparisons[0].with_changes(comparator=sent)
        left = updated_node.left if literal(original_node.left) == name else string_literal(name)
        return updated_node.with_changes(left=left, comparisons=[target])

    def _field(self, read: cst.CSTNode) -> cst.Attribute:
        body, name = self.key_reads[read]
        return cst.Attribute(cst.Name(body.variable), cst.Name(name))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        body = self.blocks.get(original_node)
        if body is None or body.helper is not None or body.statement is None:  # ``data = helper()``: see leave_Module; an inline read
            return updated_node
        return without_statements(updated_node, body.statement.deep_equals)

    # -- the parameter and the model ------------------------------------------------------------
    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        body = self.bodies.pop(original_node, None)
        if body is None:
            return updated_node
        if body.reference is not None:
            self.consume(body.reference)
        if body.raw:
            return self._raw(original_node, updated_node, body)
        view = original_node.name.value
        model = self._model_name(original_node)
        self.models[view] = (model, self._model(original_node, view, model, body))
        if body.helper is not None:
            self.helpers[view] = body
        if self.run.options.native_validation:
            return with_parameter(updated_node, body.variable, cst.Name(model))
        flask_json = self.import_reference(original_node, RUNTIME, "FlaskJson", replaces=False)
        options = [kwarg(o, cst.Name("True")) for o in ("force", "silent", "or_empty") if getattr(body, o)]
        annotated = self.import_reference(original_node, "typing", "Annotated", replaces=False)
        optional = cst.BinaryOperation(cst.Name(model), cst.BitOr(), cst.Name("None"))
        annotation = cst.Subscript(annotated, [cst.SubscriptElement(cst.Index(optional)), cst.SubscriptElement(cst.Index(cst.Call(flask_json, options)))])
        return with_parameter(updated_node, body.variable, annotation, cst.Name("None"))

    def _raw(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef, body: Body) -> cst.FunctionDef:
        """``data: Annotated[Any, FlaskJson(...)] = None``: the value get_json gave, no model (so
        also with --native-validation: there is no model for FastAPI to validate)."""
        annotated = self.import_reference(original_node, "typing", "Annotated", replaces=False)
        any_ = self.import_reference(original_node, "typing", "Any", replaces=False)
        flask_json = self.import_reference(original_node, RUNTIME, "FlaskJson", replaces=False)
        options = ("force", "silent", "or_empty", "deferred")
        marker = cst.Call(flask_json, [kwarg(o, cst.Name("True")) for o in options if getattr(body, o)])
        annotation = cst.Subscript(annotated, [cst.SubscriptElement(cst.Index(any_)), cst.SubscriptElement(cst.Index(marker))])
        return with_parameter(updated_node, body.variable, annotation, cst.Name("None"))

    def _model_name(self, function: cst.FunctionDef) -> str:
        return model_name(self, function, "Body", self.taken)

    def _model(self, anchor: cst.CSTNode, view: str, model: str, body: Body) -> cst.ClassDef:
        native = self.run.options.native_validation
        base = self.import_reference(anchor, "pydantic", "BaseModel", replaces=False)
        doc = f"The JSON body {view} reads." if native else f"The JSON body {view} reads, each value as sent (the view checks them)."
        lines: list[cst.BaseStatement] = [cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{doc}"""'))])]
        if native:  # FastAPI validates: no coercion the view's isinstance checks would have refused
            config = self.import_reference(anchor, "pydantic", "ConfigDict", replaces=False)
            strict = cst.Call(config, [kwarg("strict", cst.Name("True"))])
            lines.append(_line(cst.Assign([cst.AssignTarget(cst.Name("model_config"))], strict)))
        fields = [_line(self._field_line(anchor, entry, native)) for entry in body.fields.values()]
        fields[0] = fields[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        return cst.ClassDef(cst.Name(model), cst.IndentedBlock([*lines, *fields]), bases=[cst.Arg(base)])

    def _field_line(self, anchor: cst.CSTNode, entry: Field, native: bool) -> cst.AnnAssign:
        types = [cst.Name(t) for t in entry.types] or [self.import_reference(anchor, "typing", "Any", replaces=False)]
        required = native and entry.required and entry.default is None
        if entry.default is None and not required and entry.types:
            types.append(cst.Name("None"))
        annotation = types[0]
        for other in types[1:]:
            annotation = cst.BinaryOperation(annotation, cst.BitOr(), other)
        default: cst.BaseExpression | None = None if required else (entry.default or cst.Name("None"))
        if entry.name != entry.key:
            field = self.import_reference(anchor, "pydantic", "Field", replaces=False)
            args = ([kwarg("default", default)] if default is not None else []) + [kwarg("alias", string_literal(entry.key))]
            default = cst.Call(field, args)
        return cst.AnnAssign(cst.Name(entry.name), cst.Annotation(annotation), value=default)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        """Each model right above its view (views are module-level functions); in a view that
        read its body through a helper, the helper's object check where the call was, as the
        other transforms left it (an abort converted there is converted here too)."""
        if not self.models:
            return updated_node
        functions = {s.name.value: s for s in updated_node.body if isinstance(s, cst.FunctionDef)}
        statements: list[cst.BaseStatement] = []
        for statement in updated_node.body:
            for view in factory_views(statement)[1:]:  # an app factory's views: the model above the factory
                if view.name.value in self.models:
                    _, model = self.models.pop(view.name.value)
                    blank = [line for line in statement.leading_lines if line.comment is None]
                    statements.append(model.with_changes(leading_lines=blank))
                    body = self.helpers.get(view.name.value)
                    if body is not None:
                        checked = _with_check(view, functions[body.helper], body)  # type: ignore[index]
                        statement = statement.deep_replace(view, checked)  # type: ignore[assignment]
            if isinstance(statement, cst.FunctionDef) and statement.name.value in self.models:
                _, model = self.models.pop(statement.name.value)
                blank = [line for line in statement.leading_lines if line.comment is None]
                statements.append(model.with_changes(leading_lines=blank))
                body = self.helpers.get(statement.name.value)
                if body is not None:
                    statement = _with_check(statement, functions[body.helper], body)  # type: ignore[index]
            statements.append(statement)
        return updated_node.with_changes(body=statements)


def _with_check(view: cst.FunctionDef, helper: cst.FunctionDef, body: Body) -> cst.FunctionDef:
    """``view`` with the helper's object check (``if data is None: ...``) for ``data = helper()``."""
    own = [s for s in helper.body.body if not m.matches(s, m.SimpleStatementLine([m.Expr(m.SimpleString())]))]
    check = own[1]
    assert isinstance(check, cst.If)
    call = m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name(body.variable))], m.Call(func=m.Name(body.helper)))])
    block = view.body
    lines = [
        check.with_changes(test=_is(body.variable, cst.Is()), leading_lines=s.leading_lines) if m.matches(s, call) else s
        for s in block.body
    ]
    return view.with_changes(body=block.with_changes(body=lines))


def _is(variable: str, operator: cst.BaseCompOp) -> cst.Comparison:
    return cst.Comparison(cst.Name(variable), [cst.ComparisonTarget(operator, cst.Name("None"))])


def _line(small: cst.BaseSmallStatement) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([small])
