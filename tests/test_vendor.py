"""``convert --vendor-runtime``: the runtime modules the project uses, copied once into it and
imported relatively, so that the converted project imports under any folder name without the
runtime package installed; converting it again changes nothing."""

import subprocess
import sys
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from codemod.cli import app
from codemod.testing import convert_copy
from codemod.vendor import canonical

ORIGINAL = Path(__file__).resolve().parent.parent / "example_chatbot"
# the installed runtime is made unimportable: the copy must be the one in use
SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["flask2fastapi_runtime"] = None
    import importlib
    package = importlib.import_module(sys.argv[1])
    api = package.create_app({"DATABASE_URL": "sqlite://"})
    print(type(api).__module__, api.test_client().get("/health/live").status_code)
    """
)


def test_vendored_copy_serves_under_any_folder_name(tmp_path):
    out = convert_copy(ORIGINAL, tmp_path / "copy" / "chatbot-converted", "--vendor-runtime", "--ignore", "F2F151")
    copy = out / "_flask2fastapi_runtime"
    used = [
        "__init__.py", "async_db.py", "config.py", "cors.py", "doubles.py", "forms.py", "hooks.py", "http.py", "http_errors.py",
        "json_body.py", "json_response.py", "native.py", "native_testing.py", "params.py", "passwords.py", "redirects.py",
        "refusals.py", "settings.py",
    ]
    # no Flask is left in the chatbot (leave_flask): its app is a NativeApp (native: config, http,
    # http_errors, json_body, params and forms' Flask-free half, the refusals handler, werkzeug's
    # redirect page for its slash redirects (redirects); its test client,
    # native_testing),
    # with Flask-CORS's options (cors); its hooks are RequestHooks, its views take Settings, its error
    # handlers answer with FlaskJSONResponse, its async routes' session is async_db's; the converted
    # tests' stand-ins (doubles). None of the bridge's modules
    assert sorted(p.name for p in copy.iterdir()) == used
    assert not (out / "requirements-fastapi.txt").exists()
    imports = [line for line in (out / "__init__.py").read_text().splitlines() if line.startswith("from ._flask2fastapi_runtime import ")]
    assert len(imports) == 1 and "NativeApp" in imports[0].removeprefix("from ._flask2fastapi_runtime import ").split(", "), imports
    assert "from ._flask2fastapi_runtime.async_db import async_session" in (out / "db.py").read_text()
    # imported as a package named like the original, from a folder of another name
    (tmp_path / "pkgs").mkdir()
    (tmp_path / "pkgs" / "example_chatbot").symlink_to(out)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, "example_chatbot"], cwd=tmp_path / "pkgs", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["example_chatbot._flask2fastapi_runtime.native", "200"]
    check = CliRunner().invoke(app, ["convert", "--check", "--vendor-runtime", str(out)])
    assert check.exit_code == 0, check.output


def test_a_copys_names_are_the_runtimes():
    assert canonical("shop._flask2fastapi_runtime.FlaskBridge") == "flask2fastapi_runtime.FlaskBridge"
    assert canonical("_flask2fastapi_runtime.FlaskRoute") == "flask2fastapi_runtime.FlaskRoute"
    assert canonical("shop.my_flask2fastapi_runtime.FlaskRoute") == "shop.my_flask2fastapi_runtime.FlaskRoute"
