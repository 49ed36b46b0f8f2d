import fcntl
import os
from pathlib import Path

import pytest

pytest.register_assert_rewrite("codemod.testing")

ROOT = Path(__file__).resolve().parent.parent


def _convert_chatbot(root: Path) -> Path:
    from typer.testing import CliRunner

    from codemod.cli import EXIT_FINDINGS, app

    result = CliRunner().invoke(
        app, ["convert", str(ROOT / "example_chatbot"), "--out", str(root / "example_chatbot"), "--report", str(root / "report.json")]
    )
    assert result.exit_code == EXIT_FINDINGS, result.output
    return root


@pytest.fixture(scope="session")
def converted_chatbot(tmp_path_factory) -> Path:
    """``flask2fastapi convert example_chatbot --out ROOT/example_chatbot --report ROOT/report.json``,
    done once for the whole run (a conversion of the chatbot costs tens of seconds of CPU); ROOT. Its
    one finding (F2F151, the dropped ``app.run(debug=...)``) gives exit code 3.

    Shared by every module that runs or reads the converted chatbot: read it, import it, run it
    with its database elsewhere (DATABASE_URL), but never write to it; copy it first to change it.
    Under xdist the workers share one conversion, made by the first worker that asks for it in the
    run's temporary folder, under a lock the others wait on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return _convert_chatbot(tmp_path_factory.mktemp("converted-chatbot"))
    run = tmp_path_factory.getbasetemp().parent  # this run's folder, each worker's basetemp in it
    root, done = run / "converted-chatbot", run / "converted-chatbot.done"
    with open(run / "converted-chatbot.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():  # a worker whose conversion failed left none: the next one tries again
            _convert_chatbot(root)
            done.touch()
    return root
