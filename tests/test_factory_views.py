"""Views declared inside an app factory (``@app.route`` on the factory's own app, or on a
blueprint the factory creates and registers) convert like module-level ones: native, then
idiomatic, and once nothing else of Flask is left the project leaves Flask (NativeApp). The
converted app answers as the original, error paths included. A view on an app or blueprint the
function did not make, or one nested deeper, stays bridged and the report says why."""

import textwrap
from pathlib import Path

from typer.testing import CliRunner

from codemod.cli import app as cli
from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in
from transforms import ORDER

FACTORY = '''\
from flask import Blueprint, Flask, abort, jsonify, request


def create_app():
    app = Flask(__name__)
    # the notes live in the factory, with their blueprint
    notes = Blueprint("notes", __name__, url_prefix="/notes")
    store = {1: "first"}

    @notes.get("/")
    def list_notes():
        return jsonify(notes=[store[k] for k in sorted(store)])

    @notes.get("/<int:note_id>")
    def get_note(note_id):
        if note_id not in store:
            abort(404, description=f"no note {note_id}")
        return {"id": note_id, "text": store[note_id]}

    @notes.post("/")
    def add_note():
        data = request.get_json(silent=True) or {}
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            abort(400, description="text is required")
        note_id = max(store) + 1
        store[note_id] = data["text"]
        return {"id": note_id}, 201

    app.register_blueprint(notes)

    @app.route("/boom")
    def boom():
        raise KeyError("boom")

    @app.route("/teapot", methods=["GET", "POST"])
    def teapot():
        abort(418)

    return app


app = create_app()
'''

HEADERS = ["Location", "Allow", "Content-Type"]
REQUESTS = [
    {"method": "GET", "path": "/notes/"},
    {"method": "GET", "path": "/notes"},  # the rule's slash: werkzeug's 308
    {"method": "GET", "path": "/notes/1"},
    {"method": "GET", "path": "/notes/9"},  # abort(404, description=...)
    {"method": "GET", "path": "/notes/x"},  # the int converter refuses it: 404
    {"method": "GET", "path": "/notes/1/"},
    {"method": "POST", "path": "/notes/", "json": {"text": "hi"}},
    {"method": "GET", "path": "/notes/2"},
    {"method": "POST", "path": "/notes/", "data": "{bad", "headers": {"Content-Type": "application/json"}},  # malformed JSON
    {"method": "POST", "path": "/notes/", "json": ["text"]},
    {"method": "POST", "path": "/notes/", "json": {"text": 3}},
    {"method": "DELETE", "path": "/notes/1"},  # 405 with Allow
    {"method": "GET", "path": "/boom"},  # a raised exception: werkzeug's 500 page
    {"method": "POST", "path": "/teapot"},
    {"method": "GET", "path": "/nowhere"},
    {"method": "HEAD", "path": "/notes/1"},
    {"method": "OPTIONS", "path": "/notes/"},
]


def _write(root: Path, source: str) -> Path:
    (root / "factory").mkdir(parents=True)
    (root / "factory" / "__init__.py").write_text(source)
    return root


def _routes(root: Path) -> dict[str, tuple[str, str | None]]:
    return {
        route["view"].rpartition(".")[2]: (route["level"], route["reason"])
        for result in convert_paths(discover([root]), ORDER) for route in result.routes
    }


def test_a_factorys_views_and_blueprint_leave_flask_and_answer_as_before(tmp_path):
    original = _write(tmp_path / "original", FACTORY)
    assert {view: level for view, (level, _) in _routes(original).items()} == dict.fromkeys(
        ["list_notes", "get_note", "add_note", "boom", "teapot"], "idiomatic"
    )
    converted = convert_copy(original, tmp_path / "converted")
    code = (converted / "factory" / "__init__.py").read_text()
    assert "flask" not in code.replace("flask2fastapi_runtime", "")
    for written in (
        "def create_app():\n    app = NativeApp(__name__)\n    # the notes live in the factory, with their blueprint\n"
        "    router = APIRouter(route_class=NativeRoute)",
        '    @router.get("/{note_id}", name="notes.get_note", response_model=GetNoteResponse)\n    def get_note(note_id: int):',
        '            raise HTTPException(status_code=404, detail=f"no note {note_id}")',
        '    app.include_router(router, prefix="/notes")',
        '    @app.api_route("/teapot", methods=["GET", "POST"])',
        "\n\nclass GetNoteResponse(BaseModel):",  # the models above the factory, at module level
    ):
        assert written in code, written
    again = CliRunner().invoke(cli, ["convert", "--check", str(converted)])
    assert again.exit_code == 0, again.output  # a second run changes nothing
    requests = [{**request, "expect_headers": HEADERS} for request in REQUESTS]
    before = answers_in(original, "factory:app", requests)
    after = answers_in(converted, "factory:app", requests)
    statuses = [answer["status"] for answer in before]
    assert statuses == [200, 308, 200, 404, 404, 404, 201, 200, 400, 400, 400, 405, 500, 418, 404, 200, 200]
    assert "no note 9" in before[3]["body"]
    for request, old, new in zip(requests, before, after):
        assert new == old, request


def test_views_on_something_the_function_did_not_make_stay_bridged(tmp_path):
    source = textwrap.dedent('''\
        from flask import Blueprint, Flask

        app = Flask(__name__)


        def install():
            @app.route("/global")
            def on_global():
                return {"on": "the module's app"}


        def create_other():
            other = Flask("other")

            def nested():
                @other.route("/deep")
                def deep():
                    return {"on": "two functions down"}

            return other


        install()
        ''')
    routes = _routes(_write(tmp_path, source))
    assert routes["on_global"] == ("bridged", "view defined in a function, on an app not made in that function")
    assert routes["deep"] == ("bridged", "view not defined at module level")


HOOKED = '''\
from flask import Flask, g, request


def create_app():
    app = Flask(__name__)

    @app.before_request
    def start():
        g.who = request.headers.get("X-Who", "nobody")

    @app.route("/who")
    def who():
        return {"who": g.who}

    return app


app = create_app()
'''


def test_a_factory_views_read_of_what_a_hook_keeps_on_g_reads_request_state(tmp_path):
    # the view's g.who is its own read, not its factory's: it takes the request, as a
    # module-level view does, and the hook moves to RequestHooks
    original = _write(tmp_path / "original", HOOKED)
    converted = convert_copy(original, tmp_path / "converted")
    code = (converted / "factory" / "__init__.py").read_text()
    assert "from flask " not in code
    assert '    async def start(request: Request):\n        request.state.who = request.headers.get("X-Who", "nobody")' in code
    assert "    app.add_middleware(RequestHooks, before=[start])" in code
    assert '    def who(request: Request):\n        return {"who": request.state.who}' in code
    requests = [{"method": "GET", "path": "/who", "headers": {"X-Who": "ann"}}, {"method": "GET", "path": "/who/"}]
    before = answers_in(original, "factory:app", requests)
    assert before[0]["body"] == {"who": "ann"}
    assert answers_in(converted, "factory:app", requests) == before


GUARDED = '''\
import functools

from flask import Flask, abort, g, request


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if request.headers.get("X-Token") != "ok":
            abort(401)
        g.user = "ann"
        return view(*args, **kwargs)

    return wrapped


def create_app():
    app = Flask(__name__)

    @app.route("/me")
    @login_required
    def me():
        return {"user": g.user}

    return app


app = create_app()
'''


def test_a_guarded_factory_view_still_refuses_without_the_token(tmp_path):
    original = _write(tmp_path / "original", GUARDED)
    converted = convert_copy(original, tmp_path / "converted")
    assert '    @api.get("/me", response_model=MeResponse)\n    @login_required\n    def me():' in (converted / "factory" / "__init__.py").read_text()
    requests = [{"method": "GET", "path": "/me", "headers": {"X-Token": "ok"}}, {"method": "GET", "path": "/me"}]
    before = answers_in(original, "factory:app", requests)
    assert [answer["status"] for answer in before] == [200, 401]
    assert answers_in(converted, "factory:app", requests) == before
