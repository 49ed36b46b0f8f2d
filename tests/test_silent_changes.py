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
    "or abort": ({"method": "GET", "path": "/items/9"}, 404),
    # the form is read only for POST: a plain GET is no 400
    "GET of a form view": ({"method": "GET", "path": "/items/new"}, 200),
    "form, empty name": ({"method": "POST", "path": "/items/new", "form": {"name": " "}}, 400),
    "form, no price": ({"method": "POST", "path": "/items/new", "form": {"name": "pen"}}, 400),
    "form": ({"method": "POST", "path": "/items/new", "form": {"name": "pen", "price": "2"}}, 201),
    # args.items(multi=True)
    "multi": ({"method": "GET", "path": "/items/search?a=1&a=2&b=3"}, 200),
    # an auth decorator keeps protecting its route
    "no token": ({"method": "GET", "path": "/orders/1"}, 401),
    "token": ({"method": "GET", "path": "/orders/1", "headers": BEARER}, 200),
    # -> flask.Response
    "flask.Response annotation": ({"method": "GET", "path": "/orders/export"}, 200),
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
    assert "@token_required" in orders  # still a decorator: it runs where it ran


def test_same_route_table(converted):
    assert route_table_in(converted, SPEC) == route_table_in(PROJECT, SPEC)


@pytest.mark.parametrize("case", list(REQUESTS))
def test_same_answer(case, converted, original_answers):
    index = list(REQUESTS).index(case)
    request, status = REQUESTS[case]
    assert original_answers[index]["status"] == status
    assert answers_in(converted, SPEC, [request]) == [original_answers[index]]
