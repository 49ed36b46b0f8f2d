"""Patterns from real Flask code whose earlier conversions changed answers silently (issue 9's
list). The fixture project (fixtures/projects/silent) holds one of each; the converted app must
answer every request below exactly as the original, and the views must have become native
routes, so that the test exercises the conversion and not only the bridge."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, route_table_in

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "silent" / "input"
SPEC = "silent:app"
BEARER = {"Authorization": "Bearer s3cret"}
REQUESTS = {
    # a generated parameter must not take a local variable's name
    "locals": ({"method": "GET", "path": "/items?page=2&limit=99"}, 200),
    # an annotated path parameter keeps werkzeug's rule
    "annotated": ({"method": "GET", "path": "/items/1"}, 200),
    "annotated, negative": ({"method": "GET", "path": "/items/-1"}, 404),
    # x or abort(404)
    "or abort": ({"method": "GET", "path": "/items/9", "expect_headers": ["Content-Type", "X-Trail"]}, 404),
    # the form is read only for POST: a plain GET is no 400
    "GET of a form view": ({"method": "GET", "path": "/items/new"}, 200),
    "form, empty name": ({"method": "POST", "path": "/items/new", "form": {"name": " "}}, 400),
    "form, no price": ({"method": "POST", "path": "/items/new", "form": {"name": "pen"}}, 400),
    "form": ({"method": "POST", "path": "/items/new", "form": {"name": "pen", "price": "2"}}, 201),
    # sorted(args.items(multi=True)): werkzeug groups a key's values, Starlette keeps the order sent
    "multi": ({"method": "GET", "path": "/items/search?a=1&a=2&b=3"}, 200),
    "multi, interleaved": ({"method": "GET", "path": "/items/search?b=3&a=2&b=&a=1&c=%C3%A9+x&a&b=3"}, 200),
    "multi, none": ({"method": "GET", "path": "/items/search"}, 200),
    # an auth decorator keeps protecting its route
    "no token": ({"method": "GET", "path": "/orders/1"}, 401),
    "token": ({"method": "GET", "path": "/orders/1", "headers": BEARER}, 200),
    # -> flask.Response; Response(text, mimetype="text/csv"): Content-Type with werkzeug's charset
    "flask.Response annotation": (
        {"method": "GET", "path": "/orders/export", "expect_headers": ["Content-Type", "Content-Length", "X-Trail"]},
        200,
    ),
    "Response, HEAD": ({"method": "HEAD", "path": "/orders/export", "expect_headers": ["Content-Type", "Content-Length"]}, 200),
    # strict slashes: no redirect to a rule without the slash
    "trailing slash": ({"method": "GET", "path": "/items/"}, 404),
    "trailing slash, item": ({"method": "GET", "path": "/items/1/"}, 404),
    # Flask-CORS origins="*" without an Origin header
    "cors without Origin": ({"method": "GET", "path": "/items/2", "expect_headers": ["Access-Control-Allow-Origin"]}, 200),
    "cors with Origin": (
        {"method": "GET", "path": "/items/2", "headers": {"Origin": "http://x.test"}, "expect_headers": ["Access-Control-Allow-Origin"]},
        200,
    ),
    # hooks named like the hooks still run
    "hooks": ({"method": "GET", "path": "/items/1", "expect_headers": ["X-Trail"]}, 200),
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT, tmp_path_factory.mktemp("silent") / "converted")


@pytest.fixture(scope="module")
def original_answers():
    return answers_in(PROJECT, SPEC, [request for request, _ in REQUESTS.values()])


def test_the_views_became_native(converted):
    items = (converted / "silent" / "items.py").read_text()
    orders = (converted / "silent" / "orders.py").read_text()
    for view in ("list_items", "get_item", "search", "new_item"):
        assert f'name="items.{view}"' in items, view
    for view in ("get_order", "export"):
        assert f'name="orders.{view}"' in orders, view
    # the guard refuses with jsonify(...), 401: a dependency raising GuardRefused with the same bytes
    assert "dependencies=[Depends(token_required)]" in orders and "@token_required" not in orders


def test_what_answers_alike_leaves_flask(converted):
    """x or abort(404), sorted multi items and a Response of a literal body convert; the form read
    only for POST (FastAPI would parse it before the view for GET too) and the decorator that
    refuses by returning a response (a dependency can only raise) keep Flask's request."""
    items = (converted / "silent" / "items.py").read_text()
    orders = (converted / "silent" / "orders.py").read_text()
    assert "    name = ITEMS.get(item_id)\n    if not name:\n        raise HTTPException(status_code=404)\n" in items
    assert "def search(request: Request):\n    pairs = sorted(request.query_params.multi_items())" in items
    assert 'def export() -> Response:\n    return Response("id,status\\n1,open\\n", media_type="text/csv")' in orders
    assert "abort" not in items and "request.form" in items
    assert 'if request.headers.get("Authorization") != "Bearer s3cret":' in orders


def test_levels():
    from codemod.engine import convert_paths, discover
    from transforms import ORDER

    found = {r["endpoint"]: r for result in convert_paths(discover([PROJECT]), ORDER) for r in result.routes}
    idiomatic = {"items.list_items", "items.get_item", "items.search", "orders.export"}
    assert {e for e, r in found.items() if r["level"] == "idiomatic"} == idiomatic
    assert found["items.new_item"]["reason"] == "Flask left on its code path: items.new_item uses request"
    assert found["orders.get_order"]["reason"].endswith("orders.get_order uses Response")


def test_same_route_table(converted):
    assert route_table_in(converted, SPEC) == route_table_in(PROJECT, SPEC)


@pytest.mark.parametrize("case", list(REQUESTS))
def test_same_answer(case, converted, original_answers):
    index = list(REQUESTS).index(case)
    request, status = REQUESTS[case]
    assert original_answers[index]["status"] == status
    assert answers_in(converted, SPEC, [request]) == [original_answers[index]]


def test_converting_it_again_changes_nothing(converted):
    from typer.testing import CliRunner

    from codemod.cli import app as cli

    result = CliRunner().invoke(cli, ["convert", str(converted), "--check"])
    assert result.exit_code == 0, result.output
