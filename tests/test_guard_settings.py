"""A guard decorator whose checks read the app's settings (``current_app.config["TOKENS"]``, as
teamnotes' ``token_required`` does) becomes a dependency that takes ``settings: Settings``: the
converted app refuses and admits the same requests, reading the config the app was made with,
and no Flask is left on the guarded route's path. A guard that reads more of ``current_app`` than
its config stays a decorator."""

from pathlib import Path

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms import ORDER

FACTORY = '''\
from flask import Flask

from keyapp import notes


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(TOKENS={"t-ann": "ann"})
    if test_config:
        app.config.from_mapping(test_config)
    app.register_blueprint(notes.bp, url_prefix="/notes")
    return app


def bob_app():
    return create_app({"TOKENS": {"t-bob": "bob"}})
'''
AUTH = '''\
from functools import wraps

from flask import abort, current_app, g, request


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = current_app.config["TOKENS"].get(token)
        if scheme != "Bearer" or user is None:
            abort(401, description="a valid bearer token is required")
        g.user = user
        return view(*args, **kwargs)

    return wrapped
'''
NOTES = '''\
from flask import Blueprint, g

from keyapp.auth import token_required

bp = Blueprint("notes", __name__)


@bp.get("/mine")
@token_required
def mine():
    return {"owner": g.user}


@bp.get("/open")
def public():
    return {"open": True}
'''
REQUESTS = [
    {"method": "GET", "path": "/notes/mine"},
    {"method": "GET", "path": "/notes/mine", "headers": {"Authorization": "Bearer nope"}},
    {"method": "GET", "path": "/notes/mine", "headers": {"Authorization": "Basic t-ann"}},
    {"method": "GET", "path": "/notes/mine", "headers": {"Authorization": "Bearer t-ann"}},
    {"method": "GET", "path": "/notes/mine", "headers": {"Authorization": "Bearer t-bob"}},
    {"method": "GET", "path": "/notes/open"},
]


def _project(root: Path, auth: str = AUTH) -> Path:
    (root / "keyapp").mkdir(parents=True)
    (root / "keyapp" / "__init__.py").write_text(FACTORY)
    (root / "keyapp" / "auth.py").write_text(auth)
    (root / "keyapp" / "notes.py").write_text(NOTES)
    return root


def test_a_guard_reading_the_config_becomes_a_dependency_on_the_settings(tmp_path):
    original = _project(tmp_path / "input")
    converted = convert_copy(original, tmp_path / "converted")
    auth = (converted / "keyapp" / "auth.py").read_text()
    assert "current_app" not in auth and "from flask " not in auth
    assert "    settings: Settings,\n):" in auth
    assert '    user = settings["TOKENS"].get(token)\n' in auth
    assert "def mine(user: CurrentUser):" in (converted / "keyapp" / "notes.py").read_text()

    answers = answers_in(original, "keyapp:create_app()", REQUESTS)
    assert [a["status"] for a in answers] == [401, 401, 401, 200, 401, 200]
    assert compare(original, converted, "keyapp:create_app()", REQUESTS).same
    # the token of a test's config, given to the factory, is read when the request comes
    spec = "keyapp:bob_app()"
    assert [a["status"] for a in answers_in(converted, spec, REQUESTS)] == [401, 401, 401, 401, 200, 200]
    assert compare(original, converted, spec, REQUESTS).same

    levels = {route["rule"]: route["level"] for r in convert_paths(discover([original]), ORDER) for route in r.routes}
    assert levels == {"/notes/mine": "idiomatic", "/notes/open": "idiomatic"}


def test_a_guard_reading_more_of_current_app_stays_a_decorator(tmp_path):
    logged = AUTH.replace("            abort(401,", "            current_app.logger.warning('refused')\n            abort(401,")
    original = _project(tmp_path / "input", logged)
    results = convert_paths(discover([original]), ORDER)
    code = {Path(r.path).name: r.new.decode() if r.new else Path(r.path).read_text() for r in results}
    assert "def token_required(view):" in code["auth.py"]
    assert 'current_app.config["TOKENS"]' in code["auth.py"]
    assert "@token_required\ndef mine():" in code["notes.py"]
