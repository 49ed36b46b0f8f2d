"""A native route declared with ``strict_slashes=False`` also answers at its URL with a slash.

Targets https://fastapi.tiangolo.com/tutorial/path-operation-configuration/ (a path operation
per URL; ``include_in_schema=False`` keeps the second out of the docs). werkzeug serves a rule
without a trailing slash, given ``strict_slashes=False``, at the URL with one too, unredirected;
a FastAPI path matches one URL. So the path operation gets a twin at ``path + "/"`` with the
same options. It goes above the first: decorators apply from the bottom up, so the first is
registered first and ``url_for`` builds the URL without the slash, as Flask did. Runs after every
transform that adds options to the route decorator (dependencies, response_model...), so the
twin copies them. codemod/facts.py decides which rules qualify (a literal ``False``, a rule not
ending with a slash); the others stay bridged, with "route option strict_slashes".
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.transform import Example, Transform
from transforms._flask import kwarg, last_arg, string_literal
from transforms._views import native_plans

OPERATIONS = frozenset({"get", "post", "put", "patch", "delete", "api_route"})


class SlashTwinsTransform(Transform):
    NAME = "slash_twins"
    DESCRIPTION = "strict_slashes=False routes: a twin path operation at the URL with a trailing slash"
    PREFILTER = (b"strict_slashes",)
    EXAMPLES = (
        Example(
            """\
            from flask import Flask
            app = Flask(__name__)

            @app.route("/count/<owner>", strict_slashes=False)
            def count(owner):
                return {"owner": owner}
            """,
            """\
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel

            app = Flask(__name__)
            api = FlaskBridge(app)

            class CountResponse(BaseModel):
                \"\"\"What count answers with (documents its 200 answer in OpenAPI).\"\"\"

                owner: str

            @api.get("/count/{owner}/", response_model=CountResponse, include_in_schema=False)
            @api.get("/count/{owner}", response_model=CountResponse)
            def count(owner: str):
                return {"owner": owner}
            """,
            title="the URL with a slash gets a twin operation, above the first, with its options",
        ),
        Example(
            """\
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)

            @app.route("/items/", strict_slashes=False)
            def items():
                return "items"

            @app.route("/flag/<name>", strict_slashes=True)
            def flag(name):
                return name
            """,
            title="a rule ending with a slash (werkzeug also serves it doubled) and strict_slashes=True stay bridged",
        ),
    )

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        paths = {p.fastapi_path for p in native_plans(self, original_node) if p.slash_twin}
        if not paths:
            return updated_node
        decorators: list[cst.Decorator] = []
        for decorator in updated_node.decorators:
            twin = self._twin(decorator, paths)
            if twin is not None:
                decorators.append(twin.with_changes(leading_lines=decorator.leading_lines))
                decorator = decorator.with_changes(leading_lines=())
            decorators.append(decorator)
        return updated_node.with_changes(decorators=decorators)

    def _twin(self, decorator: cst.Decorator, paths: set[str]) -> cst.Decorator | None:
        call = decorator.decorator
        if not m.matches(call, m.Call(func=m.Attribute(attr=m.Name(m.MatchIfTrue(lambda n: n in OPERATIONS))))):
            return None
        assert isinstance(call, cst.Call)
        first = call.args[0] if call.args else None
        path = first.value.evaluated_value if first is not None and first.keyword is None and isinstance(first.value, cst.SimpleString) else None
        if path not in paths:
            return None
        quote = first.value.quote  # type: ignore[union-attr]
        plain = len(quote) == 1 and path.isprintable() and quote not in path and "\\" not in path
        slashed = first.with_changes(value=cst.SimpleString(f"{quote}{path}/{quote}") if plain else string_literal(f"{path}/"))
        args = [slashed, *call.args[1:]]
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return decorator.with_changes(decorator=call.with_changes(args=last_arg([*args, kwarg("include_in_schema", cst.Name("False"))])))
