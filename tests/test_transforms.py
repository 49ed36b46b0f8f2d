"""Every transform's EXAMPLES and every fixture folder, converted with the whole pipeline."""

import pytest

from codemod.testing import check_case, convert_one, example_cases, fixture_cases
from transforms import ORDER

CASES = [*example_cases(ORDER), *fixture_cases()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case):
    check_case(case, ORDER)


def test_every_transform_documents_itself():
    for transform in ORDER:
        assert transform.NAME and transform.DESCRIPTION and transform.__module__.startswith("transforms.")
        assert any(e.after is None for e in transform.EXAMPLES), f"{transform.NAME}: no case it must leave alone"
        assert any(e.after is not None for e in transform.EXAMPLES), f"{transform.NAME}: no case it converts"


def test_every_code_with_a_flagging_example_or_fixture():
    """Each finding code is shown by at least one example or fixture (else it is untested)."""
    from codemod.findings import markers_in

    shown = {code for t in ORDER for e in t.EXAMPLES for code in e.codes}
    shown |= {code for c in fixture_cases() if c.after for _, code, _ in markers_in(c.after.decode())}
    declared = {c.code for t in ORDER for c in t.FINDINGS.values()}
    assert declared - shown == set()


TEST_MODULE = b"""\
\"\"\"Tests of the flask app.\"\"\"
import pytest


@pytest.fixture
def client(app):
    return app.test_client()


def test_debug(make_app):
    app = make_app(DEBUG=True)
    assert app.test_client().get("/").status_code == 200


def test_other(tool):
    return tool.build().test_client()
"""


@pytest.mark.parametrize("filename", ["tests/test_views.py", "tests/conftest.py"])
def test_test_client_on_app_fixtures_in_test_modules(filename):
    """pytest's app fixtures carry no type: in a test module, an app fixture or what a factory
    fixture returns is taken for the Flask app; anything else, and any other module, is left."""
    result = convert_one(TEST_MODULE, filename, ORDER)
    text = result.new.decode()
    assert "return FlaskTestClient(app)" in text
    assert "assert FlaskTestClient(app).get" in text
    assert "return tool.build().test_client()" in text
    assert convert_one(TEST_MODULE, "views.py", ORDER).new is None
