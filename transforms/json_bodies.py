"""A Pydantic model per JSON body a view reads, so the OpenAPI schema documents it.

Targets https://fastapi.tiangolo.com/tutorial/body/ and
https://fastapi.tiangolo.com/advanced/path-operation-advanced-configuration/#openapi-extra .
Runs after ``request_params`` (which turned ``request.get_json()`` into a ``get_json``
dependency) and reads the view: ``data["name"]`` is a required field, ``data.get("price", 0)``
an optional one with that default; types come from evidence (``int(...)``, ``float(...)``,
``str(...)``, ``isinstance(..., T)``, a comparison with a literal, a literal default) and are
``Any`` without it.

The model *documents* the body (``openapi_extra=json_body_schema(Model)``); the view still gets
the body as it came and validates it itself, as it did in Flask, so its own 400 answers and
bodies stay the same. A view that uses the body as a whole (passes it on, iterates it) gets no
model: its keys are not visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from codemod.transform import Example, Transform
from transforms._flask import kwarg, route_decorator, string_value

READERS = ("get_json", "get_json_force")
BODY_PARAM = m.Param(
    annotation=m.Annotation(
        m.Subscript(
            value=m.Name("Annotated"),
            slice=[
                m.SubscriptElement(m.Index(m.Name("Any"))),
                m.SubscriptElement(m.Index(m.Call(func=m.Name("Depends"), args=[m.Arg(m.Name(m.MatchIfTrue(lambda n: n in READERS)))]))),
            ],
        )
    )
)
CASTS = frozenset({"int", "float", "str", "bool"})
LITERAL_TYPES = ((cst.Integer, "int"), (cst.Float, "float"), (cst.SimpleString, "str"), (cst.List, "list"), (cst.Dict, "dict"))


@dataclass
class Key:
    required: bool = False
    types: list[str] = field(default_factory=list)
    default: cst.BaseExpression | None = None


class _BodyReads(cst.CSTVisitor):
    """Which keys a view reads from its body variables; ``whole`` when it uses them otherwise."""

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names
        self.keys: dict[str, Key] = {}
        self.whole = False
        self.stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Name) and node.value in self.names:
            self._use(node)
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()

    def _parent(self, depth: int = 1) -> cst.CSTNode | None:
        return self.stack[-depth] if len(self.stack) >= depth else None

    def _use(self, name: cst.Name) -> None:
        parent = self._parent()
        if isinstance(parent, cst.Subscript) and parent.value is name:
            key = string_value(parent.slice[0].slice.value) if isinstance(parent.slice[0].slice, cst.Index) else None
            if key is None:
                self.whole = True
                return
            self.keys.setdefault(key, Key()).required = True
            self._evidence(key, parent, 2)
        elif isinstance(parent, cst.Attribute) and parent.value is name and parent.attr.value == "get":
            call = self._parent(2)
            key = string_value(call.args[0].value) if isinstance(call, cst.Call) and call.args else None
            if key is None:
                self.whole = True
                return
            entry = self.keys.setdefault(key, Key())
            if len(call.args) > 1 and entry.default is None:
                entry.default = call.args[1].value
                entry.types += [t for kind, t in LITERAL_TYPES if isinstance(call.args[1].value, kind)]
            self._evidence(key, call, 3)
        elif isinstance(parent, cst.ComparisonTarget) and isinstance(parent.operator, (cst.In, cst.NotIn)):
            comparison = self._parent(2)
            key = string_value(comparison.left) if isinstance(comparison, cst.Comparison) else None
            if key is None:
                self.whole = True
            else:
                self.keys.setdefault(key, Key())
        elif not self._harmless(name, parent):
            self.whole = True

    def _harmless(self, name: cst.Name, parent: cst.CSTNode | None) -> bool:
        """Uses that read no key and pass nothing on: truthiness, None checks, isinstance(x, dict),
        and the assignment that names the body."""
        if isinstance(parent, (cst.If, cst.UnaryOperation, cst.BooleanOperation, cst.AssignTarget, cst.Assign)):
            return True
        if isinstance(parent, cst.Comparison) and all(isinstance(t.operator, (cst.Is, cst.IsNot)) for t in parent.comparisons):
            return True
        if isinstance(parent, cst.Arg):
            call = self._parent(2)
            return isinstance(call, cst.Call) and m.matches(call.func, m.Name("isinstance")) and call.args[0].value is name
        return False

    def _evidence(self, key: str, access: cst.CSTNode, depth: int) -> None:
        """int(data["k"]) or isinstance(data.get("k"), (int, float)) around an access."""
        arg, call = self._parent(depth), self._parent(depth + 1)
        if isinstance(arg, cst.Comparison) and arg.left is access:  # data["age"] >= 18
            others = [t.comparator for t in arg.comparisons]
        elif isinstance(arg, cst.ComparisonTarget) and isinstance(call, cst.Comparison):  # 0 < data["n"]
            others = [call.left]
        else:
            others = []
        self.keys[key].types += [t for other in others for kind, t in LITERAL_TYPES[:3] if isinstance(other, kind)]
        if not (isinstance(arg, cst.Arg) and isinstance(call, cst.Call) and isinstance(call.func, cst.Name)):
            return
        if call.func.value in CASTS and len(call.args) == 1:
            self.keys[key].types.append(call.func.value)
        elif call.func.value == "isinstance" and len(call.args) == 2 and call.args[0].value is access:
            kinds = call.args[1].value
            elements = kinds.elements if isinstance(kinds, cst.Tuple) else [cst.Element(kinds)]
            self.keys[key].types += [e.value.value for e in elements if isinstance(e.value, cst.Name)]


class JsonBodiesTransform(Transform):
    NAME = "json_bodies"
    DESCRIPTION = "a Pydantic model per JSON body a view reads, documenting it in the OpenAPI schema"
    FINDINGS = {}
    EXAMPLES = (
        Example(
            "from flask import Flask, request\napp = Flask(__name__)\n\n@app.post('/items')\ndef create_item():\n"
            "    data = request.get_json()\n    if not isinstance(data.get('name'), str):\n        return {'error': 'name'}, 400\n"
            "    return {'name': data['name'], 'price': float(data.get('price', 0))}\n",
            "from fastapi import Depends, FastAPI\nfrom fastapi.responses import JSONResponse\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes, get_json, json_body_schema\nfrom pydantic import BaseModel\n"
            "from typing import Annotated, Any\n\napp = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n"
            'class CreateItemBody(BaseModel):\n    """The JSON body create_item reads (it documents the API; the view '
            'still checks the body itself)."""\n\n    name: str\n    price: int | float = 0\n\n'
            "@app.post('/items', openapi_extra=json_body_schema(CreateItemBody))\n"
            "def create_item(json_body: Annotated[Any, Depends(get_json)]):\n"
            "    data = json_body\n    if not isinstance(data.get('name'), str):\n"
            "        return JSONResponse({'error': 'name'}, status_code=400)\n"
            "    return {'name': data['name'], 'price': float(data.get('price', 0))}\n",
            title="keys, casts and isinstance checks document the body",
        ),
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n@app.post('/items')\ndef create_item(data: dict):\n    return data\n",
            title="already FastAPI",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.models: dict[tuple, str] = {}  # field signature -> model name, shared in a module

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef):
        routes = [i for i, d in enumerate(original_node.decorators) if route_decorator(self, d)]
        params = [p for p in (*updated_node.params.params, *updated_node.params.kwonly_params) if m.matches(p, BODY_PARAM)]
        if not routes or len(params) != 1:
            return updated_node
        names = {params[0].name.value}
        for statement in updated_node.body.body:
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if m.matches(small, m.Assign(targets=[m.AssignTarget(m.Name())], value=m.Name(params[0].name.value) | m.BooleanOperation(left=m.Name(params[0].name.value)))):
                    names.add(small.targets[0].target.value)
        reads = _BodyReads(names)
        updated_node.body.visit(reads)
        if reads.whole or not reads.keys:
            return updated_node
        fields = [self._field(key, entry) for key, entry in reads.keys.items()]
        if any(f is None for f in fields):
            return updated_node
        signature = tuple(cst.Module([]).code_for_node(f) for f in fields)
        model = self.models.get(signature)
        new_class = None
        if model is None:
            model = "".join(part.capitalize() for part in original_node.name.value.split("_")) + "Body"
            self.models[signature] = model
            new_class = self._build_model(model, original_node.name.value, fields)
        self.use_support("json_body_schema")
        decorators = list(updated_node.decorators)
        for index in routes:
            call = decorators[index].decorator
            if isinstance(call, cst.Call):
                extra = kwarg("openapi_extra", cst.Call(cst.Name("json_body_schema"), [cst.Arg(cst.Name(model))]))
                decorators[index] = decorators[index].with_changes(decorator=call.with_changes(args=[*call.args, extra]))
        function = updated_node.with_changes(decorators=decorators)
        if new_class is None:
            return function
        # the model stands where the view stood, separated from it as the view was from its neighbour
        return cst.FlattenSentinel([new_class.with_changes(leading_lines=function.leading_lines), function])

    def _field(self, key: str, entry: Key) -> cst.AnnAssign | None:
        if not key.isidentifier() or key.startswith("_"):
            return None  # needs an alias: left undocumented rather than guessed
        types = list(dict.fromkeys(entry.types)) or ["Any"]
        if "Any" in types:
            AddImportsVisitor.add_needed_import(self.context, "typing", "Any")
        annotation: cst.BaseExpression = cst.Name(types[0])
        for extra in types[1:]:
            annotation = cst.BinaryOperation(annotation, cst.BitOr(), cst.Name(extra))
        default = None if entry.required else (entry.default or cst.Name("None"))
        if isinstance(default, cst.Name) and default.value == "None" and "Any" not in types:
            annotation = cst.BinaryOperation(annotation, cst.BitOr(), cst.Name("None"))
        if default is not None and not isinstance(default, (cst.Integer, cst.Float, cst.SimpleString, cst.Name, cst.List, cst.Dict)):
            default = cst.Name("None")  # an expression: documented without its default
        # (Pydantic copies a list or dict default for every instance, so [] and {} are safe here.)
        return cst.AnnAssign(cst.Name(key), cst.Annotation(annotation), value=default)

    def _build_model(self, name: str, view: str, fields: list[cst.AnnAssign]) -> cst.ClassDef:
        AddImportsVisitor.add_needed_import(self.context, "pydantic", "BaseModel")
        # The view name is an identifier and the rest is fixed text: nothing to escape.
        doc = f'"""The JSON body {view} reads (it documents the API; the view still checks the body itself)."""'
        body = [cst.SimpleStatementLine([cst.Expr(cst.SimpleString(doc))])]
        body += [cst.SimpleStatementLine([f], leading_lines=[cst.EmptyLine(indent=False)] if i == 0 else []) for i, f in enumerate(fields)]
        return cst.ClassDef(
            cst.Name(name),
            cst.IndentedBlock(body),
            bases=[cst.Arg(cst.Name("BaseModel"))],
        )
