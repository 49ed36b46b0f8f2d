"""``request_path(request)`` is what werkzeug's ``request.path`` was for the same ASGI request,
odd paths and a root path included (the WSGI environ built from the scope as the bridge builds it)."""

import io

import pytest
from a2wsgi.wsgi import build_environ
from starlette.requests import Request
from werkzeug.wrappers import Request as WerkzeugRequest

from flask2fastapi_runtime import request_path

PATHS = [
    ("/nope", ""), ("/a?b", ""), ("/a#b", ""), ("/a\\b", ""), ("//twice", ""), ("/résumé", ""),
    ("/app/items/1", "/app"), ("/app//x", "/app"), ("/", ""), ("/a b", ""),
]


@pytest.mark.parametrize("path, root", PATHS)
def test_the_path_werkzeug_gave(path, root):
    scope = {
        "type": "http", "method": "GET", "path": path, "root_path": root, "query_string": b"q=1",
        "headers": [(b"host", b"testserver")], "http_version": "1.1", "scheme": "http", "server": ("testserver", 80),
    }
    werkzeug = WerkzeugRequest(build_environ(scope, io.BytesIO(b""))).path
    assert request_path(Request(scope)) == werkzeug


def test_starlettes_url_path_is_not_it():
    # why the handler does not read request.url.path
    scope = {"type": "http", "method": "GET", "path": "/a?b", "query_string": b"", "headers": []}
    # Starlette 0.4x cuts the path at the "?" ("/a"), newer ones quote it ("/a%3Fb"): neither is werkzeug's
    assert Request(scope).url.path in ("/a", "/a%3Fb") and request_path(Request(scope)) == "/a?b"
