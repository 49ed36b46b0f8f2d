"""Flask's Response objects, streamed or not, into Starlette's.

Targets https://fastapi.tiangolo.com/advanced/custom-response/#streamingresponse .
``Response(stream_with_context(generate()), mimetype="text/event-stream", headers=...)`` becomes
``StreamingResponse(generate(), media_type="text/event-stream", headers=...)``: the generator
still sees ``g`` and the request while it runs, because flask_compat keeps them in context
variables that the stream's thread inherits (what stream_with_context did in Flask). A Response
with a str or bytes body becomes a Response with the same media type (Flask's default is
text/html) and status.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from codemod.transform import Example, Transform
from transforms._flask import bind, kwarg, last_arg, string_literal

RESPONSE = frozenset({"flask.Response", "flask.wrappers.Response"})
STREAM_WITH_CONTEXT = "flask.stream_with_context"
RESPONSE_PARAMETERS = ("response", "status", "headers", "mimetype", "content_type", "direct_passthrough")


class StreamingTransform(Transform):
    NAME = "streaming"
    DESCRIPTION = "flask.Response(generator | stream_with_context(...), mimetype=...) -> StreamingResponse / Response"
    FINDINGS = {}
    EXAMPLES = (
        Example(
            "from flask import Response, stream_with_context\n\n\ndef events():\n    def generate():\n        yield 'data: 1\\n\\n'\n\n"
            "    return Response(stream_with_context(generate()), mimetype='text/event-stream', headers={'Cache-Control': 'no-cache'})\n",
            "from fastapi.responses import StreamingResponse\n\n\ndef events():\n    def generate():\n        yield 'data: 1\\n\\n'\n\n"
            "    return StreamingResponse(generate(), media_type='text/event-stream', headers={'Cache-Control': 'no-cache'})\n",
            title="a server-sent event stream",
        ),
        Example(
            "import flask\n\n\ndef teapot():\n    return flask.Response('short and stout', status=418, mimetype='text/plain')\n",
            "from fastapi.responses import Response\n\n\ndef teapot():\n"
            "    return Response('short and stout', status_code=418, media_type='text/plain')\n",
            title="a plain body",
        ),
        Example("from starlette.responses import Response\n\nr = Response('x', media_type='text/plain')\n", title="already Starlette"),
    )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not self.names(original_node.func, *RESPONSE):
            return updated_node
        before, after = bind(original_node, RESPONSE_PARAMETERS), bind(updated_node, RESPONSE_PARAMETERS)
        if set(before) - {"response", "status", "headers", "mimetype", "content_type"}:
            return updated_node  # direct_passthrough & co.: the unconverted transform flags it
        body = after["response"].value if "response" in after else None
        streamed = False
        if "response" in before:
            original_body = before["response"].value
            if isinstance(original_body, cst.Call) and self.names(original_body.func, STREAM_WITH_CONTEXT):
                self.consume(original_body.func)
                body = after["response"].value.args[0].value  # type: ignore[attr-defined]
                streamed = True
            else:
                streamed = isinstance(original_body, cst.GeneratorExp) or self._calls_generator(original_body)
        media_type = after.get("mimetype") or after.get("content_type")
        args = [cst.Arg(body)] if body is not None else []
        if "status" in after:
            args.append(kwarg("status_code", after["status"].value))
        if media_type is not None or not streamed:
            args.append(kwarg("media_type", media_type.value if media_type is not None else string_literal("text/html")))
        if "headers" in after:
            args.append(kwarg("headers", after["headers"].value))
        cls = "StreamingResponse" if streamed else "Response"
        self.consume(original_node.func)
        AddImportsVisitor.add_needed_import(self.context, "fastapi.responses", cls)
        return cst.Call(cst.Name(cls), last_arg(_ordered(args)))

    def _calls_generator(self, node: cst.BaseExpression) -> bool:
        """``generate()`` where ``generate`` is a generator function defined in this module."""
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Name):
            return False
        from libcst.metadata import ScopeProvider

        scope = self.get_metadata(ScopeProvider, node.func, None)
        definitions = [a.node for a in scope[node.func.value]] if scope is not None else []
        return bool(definitions) and all(
            isinstance(d, cst.FunctionDef) and bool(m.findall(d.body, m.Yield())) for d in definitions
        )


def _ordered(args: list[cst.Arg]) -> list[cst.Arg]:
    """The body first, then status_code, media_type, headers (the order Starlette declares)."""
    order = {None: 0, "status_code": 1, "media_type": 2, "headers": 3}
    return sorted(args, key=lambda a: order.get(a.keyword.value if a.keyword else None, 4))
