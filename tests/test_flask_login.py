"""transforms/flask_login.py and codemod/login_facts.py: Flask-Login leaves a project only where
everything it did is kept; any use the runtime does not keep leaves the whole project on
Flask-Login, as it was (its routes keep working on the bridge). The fixture project's answers
are compared with the original's in tests/test_auth_extensions.py."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms import ORDER

APP = """\
from flask import Flask, jsonify
from flask_login import LoginManager, current_user, login_required

app = Flask(__name__)
app.config["SECRET_KEY"] = "k"
login_manager = LoginManager(app)
login_manager.login_view = "login"
{extra_settings}

@login_manager.user_loader
def load_user(user_id):
    return None


@app.route("/login")
def login():
    return "the login page"


@app.route("/me")
@login_required
def me():
    return jsonify(name={name})
{extra}
"""


def converted(tmp_path, extra="", extra_settings="", name="current_user.name"):
    package = tmp_path / "site"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(APP.format(extra=textwrap.dedent(extra), extra_settings=extra_settings, name=name))
    results = convert_paths(discover([tmp_path]), ORDER)
    assert all(r.status != "failed" for r in results), results
    return next(r for r in results if r.path.endswith("app.py"))


def output(result):
    assert result.status == "changed"  # at least the routes became native
    return result.new.decode()


def test_a_convertible_app_loses_flask_login(tmp_path):
    code = output(converted(tmp_path))
    assert "flask_login" not in code
    assert "def me(user: Annotated[Any, Depends(login_required_user)]):" in code
    assert 'raise LoginRefused(login_redirect(request, request.url_for("login").path))' in code


def test_a_login_message_and_category_are_kept(tmp_path):
    settings = 'login_manager.login_message = "Sign in"\nlogin_manager.login_message_category = "info"'
    code = output(converted(tmp_path, extra_settings=settings))
    assert 'login_redirect(request, request.url_for("login").path, message="Sign in", category="info")' in code


@pytest.mark.parametrize(
    ("extra", "extra_settings", "name"),
    [
        ("", "login_manager.session_protection = 'strong'", "current_user.name"),  # a setting it does not keep
        ("", "login_manager.login_view = None if False else 'login'", "current_user.name"),  # not a literal
        ("\n\n@login_manager.request_loader\ndef from_request(request):\n    return None\n", "", "current_user.name"),
        ("\n\ndef helper():\n    return current_user.name\n", "", "current_user.name"),  # outside a view
        ("\n\nfrom flask import session\n\n@app.route('/s')\ndef s():\n    return session.get('x', '')\n", "", "current_user.name"),
        ("\n\nfrom flask import render_template_string\n\n@app.route('/t')\ndef t():\n    return render_template_string('{{ current_user }}')\n", "", "current_user.name"),
        ("", "app.config['LOGIN_DISABLED'] = True", "current_user.name"),
        ("\n\ndef current_user_name():\n    pass\n\n\ndef login_required_user():\n    pass\n", "", "current_user.name"),  # a name it needs
        ("", "", "current_user._get_current_object().name"),  # the proxy's own API
        ("", "", "app.login_manager"),
        ("\n\nimport functools\n\ndef audited(view):\n    return view\n\n@app.route('/a')\n@audited\n@login_required\ndef a():\n    return ''\n", "", "current_user.name"),
        ("\n\nfrom flask_login import login_fresh\n\n@app.route('/f')\ndef f():\n    return str(login_fresh())\n", "", "current_user.name"),
    ],
)
def test_what_the_runtime_does_not_keep_keeps_flask_login(tmp_path, extra, extra_settings, name):
    code = output(converted(tmp_path, extra=extra, extra_settings=extra_settings, name=name))
    assert "from flask_login import" in code
    assert "@login_required\ndef me():" in code
    assert "def login_required_user(request" not in code


FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "login" / "input"
# Imports of Flask, werkzeug and Flask-Login fail in the process this starts
NO_FLASK = """
import importlib.abc, sys
class NoFlask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("flask", "werkzeug", "flask_login"):
            raise ImportError(f"{name} is blocked: the converted project must not need it")
sys.meta_path.insert(0, NoFlask())
"""


@pytest.fixture(scope="module")
def api_only(tmp_path_factory):
    """The login fixture's JSON API alone: its only Flask was Flask-Login and the app's plumbing."""
    root = tmp_path_factory.mktemp("api_only")
    (root / "input" / "loginapp").mkdir(parents=True)
    for name in ("__init__.py", "api.py", "models.py"):
        shutil.copy(FIXTURE / "loginapp" / name, root / "input" / "loginapp" / name)
    return root / "input", convert_copy(root / "input", root / "converted")


def test_a_project_whose_only_flask_was_flask_login_leaves_flask(api_only):
    original, converted = api_only
    for path in (converted / "loginapp").glob("*.py"):
        text = path.read_text().replace("flask2fastapi", "")
        assert "flask" not in text and "Flask(" not in text, path
    requests = [
        {"method": "GET", "path": "/api/notes"},
        {"method": "POST", "path": "/api/session", "json": {"name": "ann", "password": "bad"}},
        {"method": "POST", "path": "/api/session", "json": {"name": "ann", "password": "ann-pw"}},
        {"method": "GET", "path": "/api/notes"},
        {"method": "DELETE", "path": "/api/session"},
        {"method": "GET", "path": "/api/notes"},
        {"method": "DELETE", "path": "/api/session"},
    ]
    answers = answers_in(original, "loginapp.api:app", requests)
    assert [a["status"] for a in answers] == [401, 403, 200, 200, 200, 401, 401]
    comparison = compare(original, converted, "loginapp.api:app", requests)
    assert comparison.same, comparison

    script = NO_FLASK + textwrap.dedent("""
        from fastapi.testclient import TestClient
        from loginapp.api import app
        client = TestClient(app)
        assert client.get("/api/notes").status_code == 401
        assert client.post("/api/session", json={"name": "ann", "password": "ann-pw"}).status_code == 200
        print(client.get("/api/notes").json()["owner"])
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=converted, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ann"
