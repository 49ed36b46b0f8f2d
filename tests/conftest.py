from pathlib import Path

import pytest

pytest.register_assert_rewrite("codemod.testing")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def converted_chatbot(tmp_path_factory) -> Path:
    """``flask2fastapi convert example_chatbot --out ROOT/example_chatbot --report ROOT/report.json``,
    done once for the session (a conversion of the chatbot costs the suite tens of seconds of CPU);
    ROOT. Its one finding (F2F151, the dropped ``app.run(debug=...)``) gives exit code 3.

    Shared by every module that runs or reads the converted chatbot: read it, import it, run it
    with its database elsewhere (DATABASE_URL), but never write to it; copy it first to change it."""
    from typer.testing import CliRunner

    from codemod.cli import EXIT_FINDINGS, app

    root = tmp_path_factory.mktemp("converted-chatbot")
    result = CliRunner().invoke(
        app, ["convert", str(ROOT / "example_chatbot"), "--out", str(root / "example_chatbot"), "--report", str(root / "report.json")]
    )
    assert result.exit_code == EXIT_FINDINGS, result.output
    return root


# Modules that use converted_chatbot: one xdist group, so that the chatbot is converted once in the
# run and not once per worker.
CHATBOT_MODULES = ("tests/test_example_chatbot.py", "tests/test_helper_bodies.py", "tests/test_chatbot_load.py")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Under ``--dist loadgroup`` (pyproject's addopts), every test module is one group, run by one
    worker, so that its module-scoped fixtures (most convert a fixture project) are set up once; the
    modules sharing the converted chatbot are one group."""
    if not config.getvalue("loadgroup"):
        return
    for item in items:
        module = item.nodeid.partition("::")[0]
        item.add_marker(pytest.mark.xdist_group("converted_chatbot" if module in CHATBOT_MODULES else module))
