"""An app factory's views that use Flask's session and build their answer with make_response:
they become idiomatic (request.session over Flask's signed cookie, Starlette's Response with the
cookies werkzeug wrote), the converted app answers as the original, Set-Cookie included, and the
recorded fixture's converted tree is the expected one (fixtures/projects/recorded/expected)."""

from pathlib import Path

from typer.testing import CliRunner

from codemod.cli import app as cli
from codemod.testing import convert_copy
from codemod.verify import answers_in

ROOT = Path(__file__).resolve().parent.parent
RECORDED = ROOT / "fixtures" / "projects" / "recorded"

FACTORY = '''\
from flask import Flask, make_response, session


def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "factory-secret"
    seen = []

    @app.post("/login/<name>")
    def login(name):
        session["user"] = name
        seen.append(name)
        return {"user": session["user"], "seen": len(seen)}

    @app.get("/me")
    def me():
        if "user" not in session:
            return {"error": "log in first"}, 401
        return {"user": session.get("user")}

    @app.post("/logout")
    def logout():
        session.pop("user", None)
        return {}

    @app.get("/page")
    def page():
        response = make_response(f"<p>{len(seen)}</p>")
        response.set_cookie("theme", value="dark", path="/page", samesite="strict")
        response.headers["X-Page"] = "page"
        return response

    @app.get("/made")
    def made():
        response = make_response("made", 201, {"X-Made": "yes"})
        response.set_cookie("where", "example", domain="example.com", httponly=True)
        return response

    @app.get("/lax")
    def lax():
        response = make_response(b"lax", {"X-Lax": "1"})
        response.set_cookie("lax", "1", samesite="Lax")
        return response

    return app


app = create_app()
'''

HEADERS = ["Set-Cookie", "Vary", "Content-Type", "X-Page", "X-Made", "X-Lax"]
REQUESTS = [
    {"method": "GET", "path": "/me"},
    {"method": "GET", "path": "/me", "cookies": {"session": "eyJ1c2VyIjoiYW5uIn0.forged.signature"}},
    {"method": "POST", "path": "/login/ann"},
    {"method": "GET", "path": "/me"},
    {"method": "GET", "path": "/page"},
    {"method": "GET", "path": "/made"},
    {"method": "GET", "path": "/lax"},
    {"method": "POST", "path": "/logout"},
    {"method": "GET", "path": "/me"},
]


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_a_factorys_session_and_made_responses_answer_as_before(tmp_path):
    original = tmp_path / "original"
    (original / "factory").mkdir(parents=True)
    (original / "factory" / "__init__.py").write_text(FACTORY)
    converted = convert_copy(original, tmp_path / "converted")
    code = (converted / "factory" / "__init__.py").read_text()
    assert "flask" not in code.replace("flask2fastapi_runtime", "")  # the project left Flask
    assert "    app.add_middleware(FlaskSessionMiddleware, login=False)\n" in code
    assert 'response.set_cookie("theme", value="dark", path="/page", samesite="Strict")' in code
    assert 'response = Response("made", media_type="text/html", status_code=201, headers={"X-Made": "yes"})' in code
    assert CliRunner().invoke(cli, ["convert", "--check", str(converted)]).exit_code == 0  # a second run changes nothing
    # Content-Length too where make_response made the answer (a JSON answer's differs by Flask's
    # trailing newline, which no JSON client reads)
    made = ("/page", "/made", "/lax")
    requests = [{**r, "expect_headers": HEADERS + ["Content-Length"] * (r["path"] in made)} for r in REQUESTS]
    before, after = answers_in(original, "factory:app", requests), answers_in(converted, "factory:app", requests)
    assert [a["status"] for a in before] == [401, 401, 200, 200, 200, 201, 200, 200, 401]
    assert before[4]["headers"]["Set-Cookie"] == "theme=dark; Path=/page; SameSite=Strict"
    assert before[2]["headers"]["Set-Cookie"].startswith("session=")
    for request, old, new in zip(requests, before, after):
        # the session cookie carries a timestamp: the same signature scheme, checked by the /me after it
        if request["path"].startswith("/login"):
            old["headers"]["Set-Cookie"] = old["headers"]["Set-Cookie"].partition("=")[0]
            new["headers"]["Set-Cookie"] = new["headers"]["Set-Cookie"].partition("=")[0]
        assert new == old, request


def test_the_converted_recorded_project_is_the_expected_one(tmp_path):
    converted = convert_copy(RECORDED / "input", tmp_path / "converted")
    assert _files(converted) == _files(RECORDED / "expected")


def test_converting_the_recorded_project_again_changes_nothing():
    result = CliRunner().invoke(cli, ["convert", str(RECORDED / "expected"), "--check"])
    assert result.exit_code == 0, result.output
