"""The one JSON shape a native view answers with, declared as its route's ``response_model=``.

Targets https://fastapi.tiangolo.com/tutorial/response-model/ . A view whose every successful
return is a dict of the same literal keys (``return {"id": i, "name": n}``, ``return jsonify(
id=i, name=n)``) gets a Pydantic model of that shape above it and ``response_model=`` on its route,
so that OpenAPI documents the answer:

    @bp.get("/items/<int:item_id>")             class GetItemResponse(BaseModel):
    def get_item(item_id):                          id: int
        if item_id not in ITEMS:                    name: Any
            return jsonify(error="no"), 404
        return jsonify(id=item_id,              @router.get("/items/{item_id}", response_model=GetItemResponse)
                       name=ITEMS[item_id])     def get_item(item_id: int): ...

Each field's type is what the code shows the value to be (``_values.json_types``: literals,
builtins, the path parameters FastAPI parsed); ``Any`` where it does not. The model documents,
and only documents: a native route's answer is the response Flask made of what the view returned
(the runtime's FlaskRoute), which FastAPI sends as it is, so not one byte of it changes (no
field is filtered, coerced or validated; the keys stay in jsonify's sorted order).

Only the 200 answer is declared: a return with another status fixes it itself (an error tuple,
a helper every return of which does, ``facts.has_own_status``) and is no part of the shape. A
view with any other return (a str, a response object, a dict of other keys, a value whose shape
the code does not show), a generator, or a key that cannot be a field name
(``model_config``, ``json``, ``not-a-name``) is left as it is.
"""

from __future__ import annotations

import keyword

import libcst as cst
from pydantic import BaseModel

from codemod.plan import LOGIN_REQUIRED
from codemod.transform import Example, Transform
from transforms._values import Parameters, json_types
from transforms._views import OwnBody, factory_views, model_name, native_plans, option, with_route_options
from transforms.responses import JSONIFY

# how a field's types are written, in this order
TYPE_ORDER = ("str", "int", "float", "bool", "list", "dict", "None")

Shape = dict[str, "frozenset[str] | None"]  # key -> its types (None: the code does not show them)


class ResponseModelsTransform(Transform):
    NAME = "response_models"
    DESCRIPTION = "native views always answering one JSON shape -> a Pydantic model as response_model= (OpenAPI only)"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, jsonify
            app = Flask(__name__)
            ITEMS = {1: "pen"}

            @app.get("/items/<int:item_id>")
            def get_item(item_id):
                if item_id not in ITEMS:
                    return jsonify(error="not found"), 404
                return jsonify(id=item_id, name=ITEMS[item_id], tags=[], sold=item_id > 9)
            """,
            """\
            from flask import Flask
            from fastapi.responses import JSONResponse
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            ITEMS = {1: "pen"}

            class GetItemResponse(BaseModel):
                \"\"\"What get_item answers with (documents its 200 answer in OpenAPI).\"\"\"

                id: int
                name: Any
                tags: list
                sold: bool

            @api.get("/items/{item_id}", response_model=GetItemResponse)
            def get_item(item_id: int):
                if item_id not in ITEMS:
                    return JSONResponse({"error": "not found"}, status_code=404)
                return {"id": item_id, "name": ITEMS[item_id], "tags": [], "sold": item_id > 9}
            """,
            title="one shape, typed where the code shows it",
        ),
        Example(
            """\
            from flask import Flask
            app = Flask(__name__)

            @app.get("/a")
            def a():
                if app.debug:
                    return {"debug": True}
                return {"status": "ok"}

            @app.get("/b")
            def b():
                return {"json": 1, "model_config": 2}

            @app.get("/c")
            def c():
                data = {"status": "ok"}
                return data

            @app.get("/d")
            def d():
                return "ok"
            """,
            """\
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            @api.get("/a")
            def a():
                if app.debug:
                    return {"debug": True}
                return {"status": "ok"}

            @api.get("/b")
            def b():
                return {"json": 1, "model_config": 2}

            @api.get("/c")
            def c():
                data = {"status": "ok"}
                return data

            @api.get("/d")
            def d():
                return "ok"
            """,
            title="no model: two shapes, keys no field can have, a shape the returns do not show, a str",
        ),
        Example(
            """\
            from fastapi import FastAPI
            api = FastAPI()

            @api.get("/status")
            def status():
                return {"status": "ok"}
            """,
            title="FastAPI's own views are the author's: their answers stay undeclared",
        ),
    )

    def __init__(self, context, run) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context, run)
        self.shapes: dict[cst.FunctionDef, Shape] = {}
        self.models: dict[str, cst.ClassDef] = {}  # view -> its model's class
        self.taken: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        plans = native_plans(self, node)
        if not plans:
            return
        view = self.run.project.views.get((self.context.filename or "", node.name.value))
        if view is None or any(d.names & (self.run.project.plain_guards | LOGIN_REQUIRED) for d in view.decorators):
            return  # a decorator may answer in the view's stead, with a body of another shape
        parameters = {name: qualified for name, (qualified, _) in plans[0].annotations.items()}
        shape = self._shape(OwnBody(node), parameters)
        if shape is not None:
            self.shapes[node] = shape

    def _shape(self, body: OwnBody, parameters: Parameters) -> Shape | None:
        """The keys and types of every 200 JSON return of the view, if they all agree."""
        if body.generator or not body.returns:
            return None
        shapes: list[Shape] = []
        for node in body.returns:
            if node.value is None:
                return None
            shape = self._returned(node.value, parameters)
            if shape is not None:
                shapes.append(shape)
            elif not self._other_status(node.value):
                return None
        if not shapes or any(s.keys() != shapes[0].keys() for s in shapes):
            return None
        return {key: _merged([s[key] for s in shapes]) for key in shapes[0]}

    def _returned(self, value: cst.BaseExpression, parameters: Parameters) -> Shape | None:
        """The shape of a returned dict of literal keys, bare or jsonify's (with status 200)."""
        if isinstance(value, cst.Tuple) and len(value.elements) == 2:
            status = value.elements[1].value
            if not (isinstance(status, cst.Integer) and status.evaluated_value == 200):
                return None
            value = value.elements[0].value
        if isinstance(value, cst.Call) and self.names(value.func, *JSONIFY):
            if value.args and all(a.keyword is not None and not a.star for a in value.args):
                return {a.keyword.value: json_types(self, a.value, parameters) for a in value.args}  # type: ignore[union-attr]
            if len(value.args) != 1 or value.args[0].keyword is not None or value.args[0].star:
                return None
            value = value.args[0].value
        if not isinstance(value, cst.Dict) or not value.elements:
            return None
        shape: Shape = {}
        for element in value.elements:
            if not isinstance(element, cst.DictElement) or not isinstance(element.key, cst.SimpleString):
                return None
            key = element.key.evaluated_value
            if not isinstance(key, str) or key in shape:
                return None
            shape[key] = json_types(self, element.value, parameters)
        return shape if all(_field_name(key) for key in shape) else None

    def _other_status(self, value: cst.BaseExpression) -> bool:
        """A return that fixes a status other than 200 itself."""
        if isinstance(value, cst.Tuple) and len(value.elements) >= 2:
            status = value.elements[1].value
            if isinstance(status, cst.Integer):
                return status.evaluated_value != 200
        if isinstance(value, cst.Call):  # a project helper every return of which fixes its status
            return bool(self.qualified_names(value.func) & self.run.project.responders)
        return False

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        shape = self.shapes.pop(original_node, None)
        if shape is None:
            return updated_node
        view = original_node.name.value
        model = self._model_name(original_node)
        self.models[view] = self._model(original_node, view, model, shape)
        return with_route_options(self, original_node, updated_node, [option("response_model", cst.Name(model))])

    def _model_name(self, function: cst.FunctionDef) -> str:
        return model_name(self, function, "Response", self.taken)

    def _model(self, anchor: cst.CSTNode, view: str, model: str, shape: Shape) -> cst.ClassDef:
        base = self.import_reference(anchor, "pydantic", "BaseModel", replaces=False)
        doc = f"What {view} answers with (documents its 200 answer in OpenAPI)."
        lines: list[cst.BaseStatement] = [cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{doc}"""'))])]
        for index, (key, types) in enumerate(shape.items()):
            annotation = self._annotation(anchor, types)
            line = cst.SimpleStatementLine([cst.AnnAssign(cst.Name(key), cst.Annotation(annotation))])
            if index == 0:
                line = line.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
            lines.append(line)
        return cst.ClassDef(cst.Name(model), cst.IndentedBlock(lines), bases=[cst.Arg(base)])

    def _annotation(self, anchor: cst.CSTNode, types: frozenset[str] | None) -> cst.BaseExpression:
        if not types:
            return self.import_reference(anchor, "typing", "Any", replaces=False)
        names = [cst.Name(t) for t in TYPE_ORDER if t in types]
        annotation: cst.BaseExpression = names[0]
        for other in names[1:]:
            annotation = cst.BinaryOperation(annotation, cst.BitOr(), other)
        return annotation

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        """Each model right above its view (a module-level function), or above the app factory
        the view is defined in."""
        if not self.models:
            return updated_node
        statements: list[cst.BaseStatement] = []
        for statement in updated_node.body:
            blank = [line for line in statement.leading_lines if line.comment is None] if isinstance(statement, cst.FunctionDef) else []
            for view in factory_views(statement):
                if view.name.value in self.models:
                    statements.append(self.models.pop(view.name.value).with_changes(leading_lines=blank))
            statements.append(statement)
        return updated_node.with_changes(body=statements)


def _merged(found: list[frozenset[str] | None]) -> frozenset[str] | None:
    return None if any(types is None for types in found) else frozenset().union(*found)  # type: ignore[arg-type]


def _field_name(key: str) -> bool:
    """A key a Pydantic field can have as its name: an identifier that is no keyword, private
    name or attribute of BaseModel (``json``, ``copy``, ``model_*``)."""
    return (
        key.isidentifier() and not keyword.iskeyword(key) and not key.startswith("_")
        and not key.startswith("model_") and not hasattr(BaseModel, key)
    )
