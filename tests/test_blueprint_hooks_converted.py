"""A blueprint's own hooks (``@bp.before_request``, ``@bp.after_request``, ``@bp.teardown_request``)
convert with the app's into RequestHooks middleware, as ``blueprints={"team": BlueprintHooks(...)}``:
run for the blueprint's views only, in Flask's order around the app's (before: the app's then the
blueprint's; after and teardown: the blueprint's then the app's, each last registered first). The
converted project answers every request as the Flask one did: an early answer of the blueprint's
before hook, the headers its after hooks add, 404s and 405s under its prefix (no blueprint hooks
there), and what its teardown hooks did."""

from pathlib import Path

import pytest

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms import ORDER

APP = '''\
from flask import Flask, g

from bpapp.team import bp as team

app = Flask(__name__)
STATE = {"teardowns": []}


@app.before_request
def start():
    g.order = ["start"]


@app.after_request
def stamp(response):
    g.order.append("stamp")
    response.headers["X-Order"] = ",".join(g.order)
    return response


@app.teardown_request
def app_down(error):
    STATE["teardowns"].append("app")


@app.route("/me")
def me():
    return {"order": g.order}


@app.route("/teardowns")
def teardowns():
    return {"teardowns": STATE["teardowns"]}


app.register_blueprint(team)
'''
TEAM = '''\
from flask import Blueprint, g, request

from bpapp.trail import TRAIL

bp = Blueprint("team", __name__, url_prefix="/team")


@bp.before_request
def team_key():
    g.order.append("team_key")
    if request.headers.get("X-Team-Key") != "k-1":
        return {"error": "team key required"}, 401


@bp.before_request
def team_second():
    g.order.append("team_second")


@bp.after_request
def team_mark(response):
    g.order.append("team_mark")
    response.headers["X-Team"] = "yes"
    return response


@bp.after_request
def team_last(response):
    g.order.append("team_last")
    return response


@bp.teardown_request
def team_down(error):
    TRAIL.append("team")


@bp.before_app_request
def everywhere():
    g.order.append("everywhere")


@bp.after_app_request
def stamped_everywhere(response):
    g.order.append("stamped_everywhere")
    response.headers["X-Everywhere"] = "yes"
    return response


@bp.route("/members/<int:member_id>")
def member(member_id):
    return {"member": member_id, "order": g.order, "trail": TRAIL}
'''
SPEC = "bpapp.app:app"
KEY = {"X-Team-Key": "k-1"}
HEADERS = ["X-Order", "X-Team", "X-Everywhere"]
REQUESTS = [
    {"method": "GET", "path": "/me"},
    {"method": "GET", "path": "/team/members/1"},  # the blueprint's before hook answers: its after hooks still run
    {"method": "GET", "path": "/team/members/1", "headers": KEY},
    {"method": "GET", "path": "/team/nowhere", "headers": KEY},  # a 404 under the prefix: the app's hooks only
    {"method": "POST", "path": "/team/members/1", "headers": KEY},  # a 405: the app's hooks only
    {"method": "GET", "path": "/team/members/2", "headers": KEY},  # the teardowns so far, the blueprint's counted
    {"method": "GET", "path": "/teardowns"},
]
for request in REQUESTS:
    request["expect_headers"] = HEADERS


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bphooks") / "input"
    package = root / "bpapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "trail.py").write_text("TRAIL = []\n")
    (package / "app.py").write_text(APP)
    (package / "team.py").write_text(TEAM)
    return root


@pytest.fixture(scope="module")
def converted(project, tmp_path_factory) -> Path:
    return convert_copy(project, tmp_path_factory.mktemp("bphooks") / "converted")


def test_the_blueprints_hooks_join_the_apps_middleware(converted):
    app = (converted / "bpapp" / "app.py").read_text()
    team = (converted / "bpapp" / "team.py").read_text()
    assert "flask" not in (app + team).replace("flask2fastapi_runtime", "")
    assert "from bpapp.team import everywhere, stamped_everywhere, team_down, team_key, team_last, team_mark, team_second, router as team_router" in app
    # the app-wide ones among the app's, where the blueprint is registered: after the app's own
    assert (
        "api.add_middleware(RequestHooks, before=[start, everywhere], after=[stamp, stamped_everywhere], teardown=[app_down], "
        'blueprints={"team": BlueprintHooks(before=[team_key, team_second], after=[team_mark, team_last], teardown=[team_down])})'
    ) in app
    assert "def everywhere(request: Request):" in team and "@bp.before_app_request" not in team
    assert "def team_key(request: Request):\n    request.state.order.append(\"team_key\")" in team
    assert "def team_down(request: Request):\n    TRAIL.append(\"team\")" in team
    assert "@bp." not in team


def test_the_converted_app_answers_like_the_original(project, converted):
    original = answers_in(project, SPEC, REQUESTS)
    assert [a["status"] for a in original] == [200, 401, 200, 404, 405, 200, 200]
    assert original[1]["body"] == {"error": "team key required"}
    assert original[1]["headers"] == {
        "X-Order": "start,everywhere,team_key,team_last,team_mark,stamped_everywhere,stamp", "X-Team": "yes", "X-Everywhere": "yes",
    }
    assert original[2]["body"]["order"] == ["start", "everywhere", "team_key", "team_second"]
    assert original[2]["headers"]["X-Order"] == "start,everywhere,team_key,team_second,team_last,team_mark,stamped_everywhere,stamp"
    assert original[3]["headers"] == {"X-Order": "start,everywhere,stamped_everywhere,stamp", "X-Team": None, "X-Everywhere": "yes"}
    assert original[4]["headers"] == {"X-Order": "start,everywhere,stamped_everywhere,stamp", "X-Team": None, "X-Everywhere": "yes"}
    assert original[5]["body"]["trail"] == ["team", "team"]  # the blueprint's teardown ran for its two requests
    assert original[6]["body"] == {"teardowns": ["app"] * 6}
    comparison = compare(project, converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_every_route_is_idiomatic(project):
    results = convert_paths(discover([project]), ORDER)
    levels = {route["rule"]: (route["level"], route.get("reason")) for r in results for route in r.routes}
    assert levels == {rule: ("idiomatic", None) for rule in ("/me", "/teardowns", "/team/members/<int:member_id>")}


def test_a_blueprint_with_a_bridged_view_keeps_every_hook_flasks(project, tmp_path):
    # RequestHooks knows a native route's endpoint; a view Flask serves would lose the blueprint's hooks
    root = tmp_path / "input"
    (root / "bpapp").mkdir(parents=True)
    for path in (project / "bpapp").glob("*.py"):
        (root / "bpapp" / path.name).write_text(path.read_text())
    bridged = TEAM + '\n\n@bp.route("/cached")\n@cached\ndef cached_view():\n    return {"cached": True}\n'
    (root / "bpapp" / "team.py").write_text(bridged.replace("from bpapp.trail import TRAIL", "from bpapp.trail import TRAIL, cached"))
    (root / "bpapp" / "trail.py").write_text("TRAIL = []\n\n\ndef cached(view):\n    return view\n")
    results = convert_paths(discover([root]), ORDER)
    code = {Path(r.path).name: r.new.decode() if r.new else Path(r.path).read_text() for r in results}
    assert "RequestHooks" not in code["app.py"]
    assert "@bp.before_request" in code["team.py"]
    reasons = {route["rule"]: route.get("reason") or "" for r in results for route in r.routes}
    assert reasons["/me"].endswith("(the app's hooks stay Flask's: team_key: a view of its blueprint stays Flask's)")


def test_a_blueprint_hook_with_a_decorator_of_its_own_keeps_every_hook_flasks(project, tmp_path):
    # the auth check of a Flask-HTTPAuth decorator on the hook is not a hook RequestHooks can call
    root = tmp_path / "input"
    (root / "bpapp").mkdir(parents=True)
    for path in (project / "bpapp").glob("*.py"):
        (root / "bpapp" / path.name).write_text(path.read_text())
    guarded = TEAM.replace("@bp.before_request\ndef team_second", "@bp.before_request\n@checked\ndef team_second")
    (root / "bpapp" / "team.py").write_text(guarded.replace("from bpapp.trail import TRAIL", "from bpapp.trail import TRAIL, checked"))
    (root / "bpapp" / "trail.py").write_text("TRAIL = []\n\n\ndef checked(hook):\n    return hook\n")
    results = convert_paths(discover([root]), ORDER)
    code = {Path(r.path).name: r.new.decode() if r.new else Path(r.path).read_text() for r in results}
    assert "RequestHooks" not in code["app.py"]
    assert "@bp.before_request\n@checked\ndef team_second():" in code["team.py"]
    reasons = {route["rule"]: route.get("reason") or "" for r in results for route in r.routes}
    assert reasons["/me"].endswith("(the app's hooks stay Flask's: team_second: it has decorators of its own)")


def test_a_blueprint_hook_that_needs_the_apps_context_opens_the_one_serving_the_request(tmp_path):
    # teamnotes' count_header queries Flask-SQLAlchemy's db.session. Where the project keeps
    # Flask-SQLAlchemy (here: delete_note no longer commits, so the hook's own plain session would
    # not see what Flask's shared one showed it), as RequestHooks middleware it runs in the app
    # context of the app serving the request (a FlaskBridge hands app_context to its Flask app),
    # its blueprint naming no app; the factory's own view reads what the hooks keep on
    # request.state. (tests/test_teamnotes.py: the converted app sends the same X-Notes, on plain
    # SQLAlchemy.)
    teamnotes = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "teamnotes" / "input" / "teamnotes"
    root = tmp_path / "input"
    (root / "teamnotes").mkdir(parents=True)
    for path in teamnotes.glob("*.py"):
        (root / "teamnotes" / path.name).write_text(path.read_text())
    notes = (root / "teamnotes" / "notes.py").read_text()
    uncommitted = notes.replace("    db.session.delete(note)\n    db.session.commit()\n", "    db.session.delete(note)\n")
    assert uncommitted != notes
    (root / "teamnotes" / "notes.py").write_text(uncommitted)
    results = convert_paths(discover([root]), ORDER)
    code = {Path(r.path).name: r.new.decode() if r.new else Path(r.path).read_text() for r in results}
    assert 'blueprints={"notes": BlueprintHooks(before=[mark], after=[count_header], handlers=bp_handlers)}' in code["__init__.py"]
    assert "def count_header(request: Request, response: ResponseHead):\n    with request.app.app_context():\n" in code["notes.py"]
    assert '    async def whoami(request: Request):\n        return {"request_id": request.state.request_id, "trail": request.state.trail}' in code["__init__.py"]
    reasons = [route.get("reason") or "" for r in results for route in r.routes]
    assert not any("the app's hooks stay Flask's" in r for r in reasons)
