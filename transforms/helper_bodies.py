"""A helper's read of the JSON body -> a parameter the native views fill with FlaskJson and pass on.

Targets https://fastapi.tiangolo.com/tutorial/body/ . ``codemod/helper_bodies.py`` plans which
helpers can take the body from the views they serve (and why the others keep Flask's read);
``codemod/bodies.py`` proves the helper's uses of it hold for a model, as for a view's own read
(transforms/json_bodies.py, whose rewriting of those uses this transform shares):

    def _read_content():                                class ReadContentBody(BaseModel):
        data = request.get_json(silent=True) or {}          content: str | None = None
        if not isinstance(data, dict):              ->
            abort(400)                                  def _read_content(data: ReadContentBody | None):
        return data.get("content")                          if data is None:
                                                                abort(400)
                                                            return data.content

and each view that calls it takes ``data: Annotated[ReadContentBody | None, FlaskJson(silent=True,
or_empty=True)] = None`` (Flask's read, with its options, right before the view runs) and calls
``_read_content(data=data)``; a function between them takes ``data`` and passes it on.
"""

from __future__ import annotations

import libcst as cst

from codemod.bodies import Body, plan_body
from codemod.transform import Example
from codemod.view_tree import Tree, parameter_names, request_references
from transforms._flask import RUNTIME, kwarg
from transforms._views import model_name, with_parameter, without_statements
from transforms.json_bodies import JsonBodiesTransform
from codemod.names import Parents


class HelperBodiesTransform(JsonBodiesTransform):
    NAME = "helper_bodies"
    DESCRIPTION = "request.get_json() in a helper of native views -> a parameter the views fill (FlaskJson keeps the answers)"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, abort, request
            app = Flask(__name__)

            def read_title():
                data = request.get_json(silent=True) or {}
                if not isinstance(data, dict):
                    abort(400, description="body must be an object")
                return data.get("title")

            @app.post("/notes")
            def create_note():
                title = read_title()
                return {"title": title}
            """,
            """\
            from flask import Flask
            from fastapi import HTTPException
            from flask2fastapi_runtime import FlaskBridge, FlaskJson
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            class ReadTitleBody(BaseModel):
                \"\"\"The JSON body read_title reads, each value as sent (the view checks them).\"\"\"

                title: Any = None

            def read_title(data: ReadTitleBody | None):
                if data is None:
                    raise HTTPException(status_code=400, detail="body must be an object")
                return data.title

            class CreateNoteResponse(BaseModel):
                \"\"\"What create_note answers with (documents its 200 answer in OpenAPI).\"\"\"

                title: Any

            @api.post("/notes", response_model=CreateNoteResponse)
            def create_note(
                data: Annotated[ReadTitleBody | None, FlaskJson(silent=True, or_empty=True)] = None,
            ):
                title = read_title(data=data)
                return {"title": title}
            """,
            title="a silent read in a helper: the view reads it and passes it on",
        ),
        Example(
            """\
            from flask import Flask, abort, request
            app = Flask(__name__)

            def read_title():
                data = request.get_json()
                if not isinstance(data, dict):
                    abort(400)
                return data.get("title")

            @app.post("/notes/<int:note_id>")
            def update_note(note_id: int):
                if note_id > 10:
                    abort(404)
                return {"title": read_title()}

            def script():
                return read_title()
            """,
            """\
            from flask import Flask, abort, request
            from fastapi import HTTPException
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            def read_title():
                data = request.get_json()
                if not isinstance(data, dict):
                    abort(400)
                return data.get("title")

            class UpdateNoteResponse(BaseModel):
                \"\"\"What update_note answers with (documents its 200 answer in OpenAPI).\"\"\"

                title: Any

            @api.post("/notes/{note_id}", response_model=UpdateNoteResponse)
            def update_note(note_id: int):
                if note_id > 10:
                    raise HTTPException(status_code=404)
                return {"title": read_title()}

            def script():
                return read_title()
            """,
            title="stays: a read that answers 415/400 after the view's 404, a caller that is no view",
        ),
        Example(
            """\
            from flask import request as rq

            def read_body():
                data = rq.get_json(silent=True) or {}
                if not isinstance(data, dict):
                    return None
                return data.get("a")

            def script():
                return read_body()
            """,
            title="stays: no view calls it (an aliased import)",
        ),
    )

    def __init__(self, context, run) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context, run)
        self.plan = run.project.helper_bodies
        self.module = context.full_module_name or ""

    def _qualified(self, node: cst.FunctionDef) -> str | None:
        if not isinstance(self.get_metadata(Parents, node, None), cst.Module):
            return None
        return f"{self.module}.{node.name.value}"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._qualified(node) not in self.plan.readers:
            return
        tree = Tree(node)
        names = self.qualified_names
        readers = request_references(tree, names)
        body = plan_body(node, tree, names, bool(node.decorators), readers, set(), parameter_names(node), lambda call: None)
        if not isinstance(body, Body) or body.helper is not None:
            return  # the facts pass proved it: the same code gives the same plan
        self.bodies[node] = body
        self.blocks[node.body] = body
        self.key_reads.update({read: (body, name) for read, name in body.key_reads.items()})
        self.checks.update({check: (body, negated) for check, negated in body.checks.items()})
        self.presence.update({test: (body, name) for test, name in body.presence.items()})

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        updated = super().leave_Call(original_node, updated_node)
        called = sorted(self.qualified_names(original_node.func) & set(self.plan.params) - self.plan.views)
        if not called or not isinstance(updated, cst.Call):
            return updated
        param = self.plan.params[called[0]]
        if any(a.keyword is not None and a.keyword.value == param for a in updated.args):
            return updated
        owner = self._owner(original_node)
        if owner is None or self.plan.source.get(owner) != self.plan.source[called[0]]:
            return updated
        args = list(updated.args)
        if args:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        given: cst.BaseExpression = cst.Name(self.plan.params[owner])
        if owner in self.plan.deferred:  # read here, where the helper read it (codemod/helper_bodies.py)
            given = cst.Call(cst.Attribute(given, cst.Name("read")))
        return updated.with_changes(args=[*args, kwarg(param, given)])

    def _owner(self, node: cst.CSTNode) -> str | None:
        """The module-level function whose body ``node`` is in (its nested functions included)."""
        child, parent = node, self.get_metadata(Parents, node, None)
        while parent is not None and not isinstance(parent, cst.Module):
            child, parent = parent, self.get_metadata(Parents, parent, None)
        return f"{self.module}.{child.name.value}" if isinstance(child, cst.FunctionDef) else None

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        body = self.blocks.get(original_node)
        if body is None:
            return updated_node
        function = self.get_metadata(Parents, original_node)
        param = self.plan.params[f"{self.module}.{function.name.value}"]  # type: ignore[attr-defined]
        if param == body.variable:
            return without_statements(updated_node, body.statement.deep_equals)
        # the name was taken on the way from the view: the read becomes the parameter's value
        bind = cst.Assign([cst.AssignTarget(cst.Name(body.variable))], cst.Name(param))
        lines = [s.with_changes(body=[bind]) if s.deep_equals(body.statement) else s for s in updated_node.body]
        return updated_node.with_changes(body=lines)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        qualified = self._qualified(original_node)
        if qualified is None or qualified not in self.plan.params:
            return updated_node
        name = self.plan.params[qualified]
        helper = self.plan.source[qualified]
        model = self._helper_model(helper)
        if qualified == helper:
            body = self.bodies.pop(original_node, None)
            if body is None:
                return updated_node
            if body.reference is not None:
                self.consume(body.reference)
            self.models[original_node.name.value] = (model, self._model(original_node, original_node.name.value, model, body))
            optional = cst.BinaryOperation(cst.Name(model), cst.BitOr(), cst.Name("None"))
            return with_parameter(updated_node, name, optional)
        if qualified not in self.plan.views:
            return with_parameter(updated_node, name, None)
        if self.run.options.native_validation:
            return with_parameter(updated_node, name, cst.Name(model))
        force, silent, or_empty = self.plan.readers[helper]
        given = {"force": force, "silent": silent, "or_empty": or_empty, "deferred": qualified in self.plan.deferred}
        flask_json = self.import_reference(original_node, RUNTIME, "FlaskJson", replaces=False)
        options = [kwarg(o, cst.Name("True")) for o, on in given.items() if on]
        annotated = self.import_reference(original_node, "typing", "Annotated", replaces=False)
        optional = cst.BinaryOperation(cst.Name(model), cst.BitOr(), cst.Name("None"))
        annotation = cst.Subscript(annotated, [cst.SubscriptElement(cst.Index(optional)), cst.SubscriptElement(cst.Index(cst.Call(flask_json, options)))])
        return with_parameter(updated_node, name, annotation, cst.Name("None"))

    def _helper_model(self, helper: str) -> str:
        """The model's name (``_read_content`` -> ``ReadContentBody``), the same for the helper
        and each of its views."""
        if helper not in self.model_names:
            short = helper.rpartition(".")[2]
            anchor = next(s for s in self.module_node.body if isinstance(s, cst.FunctionDef) and s.name.value == short)
            self.model_names[helper] = model_name(self, anchor, "Body", self.taken)
        return self.model_names[helper]

    def visit_Module(self, node: cst.Module) -> None:
        self.module_node = node
        self.model_names: dict[str, str] = {}

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        """The model right above the first of the helper and its views (a view above the helper
        names the model in its signature)."""
        order = [s.name.value for s in updated_node.body if isinstance(s, cst.FunctionDef)]
        for helper in list(self.models):
            users = [q.rpartition(".")[2] for q, h in self.plan.source.items() if h == f"{self.module}.{helper}" and q in self.plan.views]
            first = min([helper, *users], key=lambda n: order.index(n) if n in order else len(order))
            if first != helper:
                self.models[first] = self.models.pop(helper)
        return super().leave_Module(original_node, updated_node)
