"""Error handlers made FastAPI's (transforms/error_handlers.py) answer as the Flask ones did: the
errors module of fixtures/error_handlers/init_app_loop (an ``init_app(app)`` registering its
handlers, some in a loop over codes, one for werkzeug's HTTPException, one for NotFound by its
module, a 500 handler and one for the app's class) served by a factory app with views that
raise each kind of error, converted with the CLI and asked the same requests as the original."""

import shutil
import textwrap

import pytest

from codemod.testing import FIXTURES, convert_copy
from codemod.verify import answers_in

SERVE = """\
    from flask import abort

    from errpkg.errors import APIError, create_app

    app = create_app()


    @app.route("/abort/<int:code>")
    def aborting(code):
        abort(code)


    @app.route("/refused", methods=["GET"])
    def refused():
        raise APIError("not today")


    @app.route("/crash")
    def crash():
        raise RuntimeError("kaput")
    """
REQUESTS = [
    *({"method": "GET", "path": f"/abort/{code}", "expect_headers": ["WWW-Authenticate"]} for code in (400, 401, 403, 404, 409, 418)),
    {"method": "DELETE", "path": "/refused", "expect_headers": ["Allow"]},  # werkzeug's 405, its Allow
    {"method": "GET", "path": "/refused"},
    {"method": "GET", "path": "/crash"},
    {"method": "GET", "path": "/nowhere"},
]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("handlers")
    original = root / "original"
    (original / "errpkg").mkdir(parents=True)
    (original / "errpkg" / "__init__.py").write_text("")
    shutil.copy(FIXTURES / "error_handlers" / "init_app_loop" / "input.py", original / "errpkg" / "errors.py")
    (original / "errpkg" / "serve.py").write_text(textwrap.dedent(SERVE))
    return original, convert_copy(original, root / "converted")


def test_the_handlers_are_fastapis(project):
    _, converted = project
    errors = (converted / "errpkg" / "errors.py").read_text()
    assert errors == (FIXTURES / "error_handlers" / "init_app_loop" / "expected.py").read_text()


def test_every_error_gets_the_same_answer(project):
    original, converted = project
    expected = answers_in(original, "errpkg.serve:app", REQUESTS)
    assert [a["status"] for a in expected] == [400, 401, 403, 404, 409, 418, 405, 400, 500, 404]
    assert expected[1]["headers"] == {"WWW-Authenticate": "Bearer"}  # the handler's setdefault
    assert expected[3]["body"] == {"error": {"code": "not_found", "message": "Not Found"}}
    assert expected[6]["headers"] == {"Allow": "GET, HEAD, OPTIONS"}
    assert answers_in(converted, "errpkg.serve:app", REQUESTS) == expected
