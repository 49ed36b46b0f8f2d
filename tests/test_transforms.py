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
