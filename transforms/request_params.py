"""Query, header, cookie, form and file reads of native views into declared, typed FastAPI parameters.

Targets https://fastapi.tiangolo.com/tutorial/query-params/ , /tutorial/header-params/,
/tutorial/cookie-params/, /tutorial/request-forms/ and /tutorial/request-files/ . ``codemod/reads.py`` decides which reads convert (those whose answers
provably stay the view's); this transform writes them:

- ``request.args.get("page", 1, type=int)`` -> ``page: Annotated[int, OrDefault] = 1`` (the
  runtime's OrDefault gives the default for a value ``int()`` refuses, as Flask did);
  ``request.args.get("q")`` -> ``q: str | None = None``; ``request.args["q"]`` -> ``q: str``
  (missing: Flask's 400, through the bridge); ``request.args.getlist("tag")`` ->
  ``tag: Annotated[list[str], Query()] = []``; a key that is no identifier gets ``alias=``;
- ``request.headers.get("X-Api-Key")`` -> ``x_api_key: Annotated[str | None, Header(alias=
  "X-Api-Key")] = None``; ``request.cookies.get("sid")`` -> a ``Cookie()`` parameter;
- a default the view computes (``current_app.config["PER_PAGE"]``) -> a None default, and
  ``per_page if per_page is not None else current_app.config["PER_PAGE"]`` where the read was;
- ``request.form["title"]`` -> ``title: Annotated[str, Form()]``, ``.get``/``getlist`` as for
  the query; ``request.files["doc"]`` -> ``doc: UploadFile``, ``.get("f")`` -> ``f: UploadFile
  | None = None``, ``.getlist("f")`` -> ``f: list[UploadFile] = []``; of the file, ``.read()``
  -> ``.file.read()``, ``.stream`` -> ``.file``, a truth test ``f`` -> ``f and f.filename``
  (the runtime's ``forms`` reads them with werkzeug's parser, as Flask did);
- ``request.method == "POST"`` -> Starlette's ``request.method`` (a ``request: Request``
  parameter), when nothing else in the view uses Flask's request; so does
  ``sorted(request.args.items(multi=True))`` -> ``sorted(request.query_params.multi_items())``.

A statement that only named the read (``page = request.args.get(...)``) goes: the parameter
has that name. With ``--native-validation`` a value that does not convert is FastAPI's 422.
"""

from __future__ import annotations

import libcst as cst

from codemod.reads import Param, ViewReads, literal_type
from codemod.uploads import READ, STREAM, TEST, TEST_REQUIRED
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME, bind, kwarg, string_literal
from transforms._views import request_reads, with_parameter, without_statements
from codemod.names import Parents

MARKERS = {"args": "Query", "headers": "Header", "cookies": "Cookie", "form": "Form", "files": "File"}
# where an expression can stand without parentheses
BARE = (cst.Assign, cst.AnnAssign, cst.Return, cst.Arg, cst.Element, cst.DictElement, cst.Index)


class RequestParamsTransform(Transform):
    NAME = "request_params"
    DESCRIPTION = "request.args/headers/cookies/form/files reads in native views -> declared Query/Header/Cookie/Form/UploadFile parameters"
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, request
            app = Flask(__name__)

            @app.get("/items")
            def items():
                page = request.args.get("page", 1, type=int)
                return {"page": page, "q": request.args.get("q"), "key": request.headers.get("X-Api-Key")}
            """,
            """\
            from flask import Flask
            from fastapi import Header
            from flask2fastapi_runtime import FlaskBridge, OrDefault
            from pydantic import BaseModel
            from typing import Annotated

            app = Flask(__name__)
            api = FlaskBridge(app)

            class ItemsResponse(BaseModel):
                \"\"\"What items answers with (documents its 200 answer in OpenAPI).\"\"\"

                page: int
                q: str | None
                key: str | None

            @api.get("/items", response_model=ItemsResponse)
            def items(
                page: Annotated[int, OrDefault] = 1,
                q: str | None = None,
                x_api_key: Annotated[str | None, Header(alias="X-Api-Key")] = None,
            ):
                return {"page": page, "q": q, "key": x_api_key}
            """,
            title="a converted query value, a query string and a header",
        ),
        Example(
            """\
            from flask import Flask, current_app, request
            app = Flask(__name__)

            @app.get("/list")
            def listing():
                tags = request.args.getlist("tag")
                size = request.args.get("per-page", current_app.config["PER_PAGE"], type=int)
                return {"tags": tags, "size": size, "sid": request.cookies.get("sid")}
            """,
            """\
            from flask import Flask
            from fastapi import Cookie, Query
            from flask2fastapi_runtime import FlaskBridge, OrDefault, Settings
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            class ListingResponse(BaseModel):
                \"\"\"What listing answers with (documents its 200 answer in OpenAPI).\"\"\"

                tags: list
                size: Any
                sid: str | None

            @api.get("/list", response_model=ListingResponse)
            def listing(
                tags: Annotated[list[str], Query(alias="tag")] = [],
                size: Annotated[int | None, Query(alias="per-page"), OrDefault] = None,
                sid: Annotated[str | None, Cookie()] = None,
                *,
                settings: Settings,
            ):
                size = size if size is not None else settings["PER_PAGE"]
                return {"tags": tags, "size": size, "sid": sid}
            """,
            title="a list, an alias, a default from the config, a cookie",
        ),
        Example(
            """\
            from flask import Flask, request
            app = Flask(__name__)

            @app.post("/upload")
            def upload():
                title = request.form["title"]
                doc = request.files.get("doc")
                return {"title": title, "name": doc.filename if doc else None, "size": len(doc.read()) if doc else 0}
            """,
            """\
            from flask import Flask
            from fastapi import Form, UploadFile
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            class UploadResponse(BaseModel):
                \"\"\"What upload answers with (documents its 200 answer in OpenAPI).\"\"\"

                title: Any
                name: Any
                size: int

            @api.post("/upload", response_model=UploadResponse)
            def upload(title: Annotated[str, Form()], doc: UploadFile | None = None):
                return {"title": title, "name": doc.filename if doc and doc.filename else None, "size": len(doc.file.read()) if doc and doc.filename else 0}
            """,
            title="a form field and an uploaded file (FileStorage is false without a filename)",
        ),
        Example(
            """\
            from flask import Flask, request
            app = Flask(__name__)

            @app.get("/search")
            def search():
                key = "q"
                return {"q": request.args.get(key), "page": request.args.get("page", 1, type=int), "raw": request.args.get("page")}

            @app.get("/whoami")
            def whoami():
                return {"key": request.headers["X-Api-Key"], "path": request.path}
            """,
            """\
            from flask import Flask, request
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            class SearchResponse(BaseModel):
                \"\"\"What search answers with (documents its 200 answer in OpenAPI).\"\"\"

                q: str | None
                page: int
                raw: str | None

            @api.get("/search", response_model=SearchResponse)
            def search():
                key = "q"
                return {"q": request.args.get(key), "page": request.args.get("page", 1, type=int), "raw": request.args.get("page")}

            class WhoamiResponse(BaseModel):
                \"\"\"What whoami answers with (documents its 200 answer in OpenAPI).\"\"\"

                key: Any
                path: Any

            @api.get("/whoami", response_model=WhoamiResponse)
            def whoami():
                return {"key": request.headers["X-Api-Key"], "path": request.path}
            """,
            title="stay Flask's: a key that is no literal, one key read two ways, headers[...] (a 500), request.path",
        ),
        Example(
            """\
            from flask import Flask, request as rq
            app = Flask(__name__)

            @app.route("/a", provide_automatic_options=False)
            def a():
                return {"q": rq.args.get("q")}
            """,
            """\
            from flask import Flask, request as rq
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            @app.route("/a", provide_automatic_options=False)
            def a():
                return {"q": rq.args.get("q")}
            """,
            title="a bridged view (a route option) keeps Flask's request",
        ),
        Example(
            """\
            from flask import request

            def form_title():
                return request.form.get("title"), request.files.get("doc")
            """,
            title="form reads outside a view",
        ),
        Example(
            """\
            from flask import request as rq
            from starlette.requests import Request

            def helper():
                return rq.args.get("q")

            def lookalike(request: Request):
                return request.query_params.get("q")
            """,
            title="a helper (no view) and a lookalike",
        ),
        Example(
            """\
            from flask import Flask
            from werkzeug.wrappers import Request
            app = Flask(__name__)

            @app.get("/b")
            def b():
                request = Request({})
                return {"q": request.args.get("q")}
            """,
            """\
            from flask import Flask
            from werkzeug.wrappers import Request
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)

            class BResponse(BaseModel):
                \"\"\"What b answers with (documents its 200 answer in OpenAPI).\"\"\"

                q: Any

            @api.get("/b", response_model=BResponse)
            def b():
                request = Request({})
                return {"q": request.args.get("q")}
            """,
            title="a local variable named request is not Flask's",
        ),
        Example(
            """\
            from flask import Flask, request
            app = Flask(__name__)

            @app.get("/pairs")
            def pairs():
                return {"pairs": sorted(request.args.items(multi=True))}

            @app.get("/sent")
            def sent():
                return {"pairs": list(request.args.items(multi=True))}
            """,
            """\
            from flask import Flask, request
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel

            app = Flask(__name__)
            api = FlaskBridge(app)

            class PairsResponse(BaseModel):
                \"\"\"What pairs answers with (documents its 200 answer in OpenAPI).\"\"\"

                pairs: list

            @api.get("/pairs", response_model=PairsResponse)
            def pairs(request: Request):
                return {"pairs": sorted(request.query_params.multi_items())}

            class SentResponse(BaseModel):
                \"\"\"What sent answers with (documents its 200 answer in OpenAPI).\"\"\"

                pairs: list

            @api.get("/sent", response_model=SentResponse)
            def sent():
                return {"pairs": list(request.args.items(multi=True))}
            """,
            title="every query pair, sorted: Starlette's in the order sent; unsorted, werkzeug's grouped by key stay",
        ),
    )

    def __init__(self, context, run) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context, run)
        self.plans: dict[cst.FunctionDef, ViewReads] = {}
        self.reads: dict[cst.CSTNode, Param] = {}
        self.methods: set[cst.CSTNode] = set()
        self.multi_items: set[cst.CSTNode] = set()
        self.blocks: dict[cst.CSTNode, ViewReads] = {}
        self.file_uses: dict[cst.CSTNode, str] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        plan = request_reads(self, node)
        if plan is None or not (plan.params or plan.method_reads or plan.multi_items):
            return
        self.plans[node] = plan
        self.reads.update(plan.by_read)
        self.methods.update(plan.method_reads)
        self.multi_items.update(plan.multi_items)
        self.file_uses.update(plan.file_uses)
        self.blocks[node.body] = plan

    # -- the reads ------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node in self.multi_items:  # request.args.items(multi=True), sorted
            self.consume(original_node)
            query = cst.Attribute(cst.Name("request"), cst.Name("query_params"))
            return cst.Call(cst.Attribute(query, cst.Name("multi_items")))
        param = self.reads.get(original_node)
        if param is None:
            return updated_node
        self.consume(original_node)
        if not param.computed:
            return self._file_test(original_node, cst.Name(param.name))
        # None when not sent or not converted: the view's own default, where it was
        fallback = bind(updated_node, ("key", "default", "type"))["default"].value
        present = cst.Comparison(cst.Name(param.name), [cst.ComparisonTarget(cst.IsNot(), cst.Name("None"))])
        choice = cst.IfExp(present, cst.Name(param.name), fallback)
        parent = self.get_metadata(Parents, original_node, None)
        return choice if isinstance(parent, BARE) else choice.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        param = self.reads.get(original_node)
        if param is None:
            return updated_node
        self.consume(original_node)
        return self._file_test(original_node, cst.Name(param.name))

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._file_test(original_node, updated_node)

    def _file_test(self, original_node: cst.CSTNode, file: cst.Name) -> cst.BaseExpression:
        """A truth test of an uploaded file as werkzeug's FileStorage answered it: its filename."""
        use = self.file_uses.get(original_node)
        if use not in (TEST, TEST_REQUIRED):
            return file
        filename = cst.Attribute(file, cst.Name("filename"))
        if use == TEST_REQUIRED:
            return filename
        test = cst.BooleanOperation(file, cst.And(), filename)
        if isinstance(self.get_metadata(Parents, original_node, None), cst.UnaryOperation):
            test = test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return test

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        use = self.file_uses.get(original_node)
        if use == READ:  # UploadFile.read is a coroutine: the stream's own, as FileStorage.read
            return updated_node.with_changes(value=cst.Attribute(updated_node.value, cst.Name("file")))
        if use == STREAM:
            return updated_node.with_changes(attr=cst.Name("file"))
        if original_node not in self.methods:
            return updated_node
        self.consume(original_node)
        return cst.Attribute(cst.Name("request"), cst.Name("method"))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        plan = self.blocks.get(original_node)
        if plan is None or not plan.redundant:
            return updated_node
        names = {self.reads[s.body[0].value].name for s in plan.redundant}  # type: ignore[attr-defined]

        def redundant(statement: cst.BaseStatement) -> bool:  # ``page = page``
            small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
            return (
                isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.value, cst.Name)
                and isinstance(small.targets[0].target, cst.Name)
                and small.targets[0].target.value == small.value.value and small.value.value in names
            )

        return without_statements(updated_node, redundant)

    # -- the signature --------------------------------------------------------------------------
    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        plan = self.plans.pop(original_node, None)
        if plan is None:
            return updated_node
        for param in plan.params:
            default = None if param.shape == "required" else param.default or cst.Name("None")
            if param.shape == "getlist":
                default = cst.List([])
            updated_node = with_parameter(updated_node, param.name, self._annotation(original_node, param), default)
        if plan.request_param is not None:
            request = self.import_reference(original_node, "fastapi", "Request", replaces=False)
            updated_node = with_parameter(updated_node, plan.request_param, request)
        return updated_node

    def _annotation(self, anchor: cst.CSTNode, param: Param) -> cst.BaseExpression:
        if param.source == "files":
            return self._file_annotation(anchor, param)
        value: cst.BaseExpression = cst.Name(param.conversion)
        if param.shape == "getlist":
            value = cst.Subscript(cst.Name("list"), [cst.SubscriptElement(cst.Index(cst.Name("str")))])
        elif param.shape == "get":
            other = literal_type(param.default)
            if param.default is None:
                other = "None"
            if other is not None and other != param.conversion and not (param.conversion == "float" and other == "int"):
                value = cst.BinaryOperation(value, cst.BitOr(), cst.Name(other))
        markers: list[cst.BaseExpression] = []
        alias = param.key != (param.name.replace("_", "-") if param.source == "headers" else param.name)
        if alias or param.source != "args" or param.shape == "getlist":
            marker = self.import_reference(anchor, "fastapi", MARKERS[param.source], replaces=False)
            markers.append(cst.Call(marker, [kwarg("alias", string_literal(param.key))] if alias else []))
        if param.conversion in ("int", "float") and not self.run.options.native_validation:
            markers.append(self.import_reference(anchor, RUNTIME, "OrDefault", replaces=False))
        if not markers:
            return value
        annotated = self.import_reference(anchor, "typing", "Annotated", replaces=False)
        return cst.Subscript(annotated, [cst.SubscriptElement(cst.Index(v)) for v in (value, *markers)])

    def _file_annotation(self, anchor: cst.CSTNode, param: Param) -> cst.BaseExpression:
        """``UploadFile``, ``UploadFile | None``, ``list[UploadFile]``, ``File(alias=...)`` for a
        key that is no identifier."""
        value: cst.BaseExpression = self.import_reference(anchor, "fastapi", "UploadFile", replaces=False)
        if param.shape == "get":
            value = cst.BinaryOperation(value, cst.BitOr(), cst.Name("None"))
        elif param.shape == "getlist":
            value = cst.Subscript(cst.Name("list"), [cst.SubscriptElement(cst.Index(value))])
        if param.key == param.name:
            return value
        marker = self.import_reference(anchor, "fastapi", "File", replaces=False)
        annotated = self.import_reference(anchor, "typing", "Annotated", replaces=False)
        alias = cst.Call(marker, [kwarg("alias", string_literal(param.key))])
        return cst.Subscript(annotated, [cst.SubscriptElement(cst.Index(v)) for v in (value, alias)])
