"""flask_template_context: the ``request.path`` and ``url_for`` a template reads are Flask's."""

import flask
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from jinja2 import Environment
from fastapi.templating import Jinja2Templates

from flask2fastapi_runtime.templating import flask_template_context

TEMPLATE = "{{ request.path }}|{{ url_for('download', filename=name) }}|{{ url_for('note', note_id=number) }}|{{ url_for('tag', name=tag) }}"
VALUES = [
    {"name": "a b/ü?.txt", "number": 3, "tag": "x&y=z"},
    {"name": "manual.txt", "number": "07", "tag": "#1 100%"},
]


def _flask_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.add_url_rule("/files/<path:filename>", "download", lambda filename: "")
    app.add_url_rule("/notes/<int:note_id>", "note", lambda note_id: "")
    app.add_url_rule("/tag/<name>", "tag", lambda name: "")

    @app.route("/page/<path:rest>")
    def page(rest):
        return flask.render_template_string(TEMPLATE, **VALUES[int(flask.request.args["v"])])

    return app


def _fastapi_app() -> FastAPI:
    app = FastAPI()
    templates = Jinja2Templates(env=Environment(autoescape=True), context_processors=[flask_template_context])
    template = templates.env.from_string(TEMPLATE)
    for path, name in (("/files/{filename:path}", "download"), ("/notes/{note_id:int}", "note"), ("/tag/{name}", "tag")):
        app.add_api_route(path, lambda: "", name=name)

    @app.get("/page/{rest:path}")
    def page(request: Request, v: int):
        context = {**VALUES[v], "request": request}
        for processor in templates.context_processors:
            context.update(processor(request))
        return template.render(context)

    return app


@pytest.mark.parametrize("root", ["", "/mounted"])
@pytest.mark.parametrize("path", ["/page/x", "/page/a%20b/%C3%BC", "/page/a%3Fb", "/page/x%5Cy"])
@pytest.mark.parametrize("v", [0, 1])
def test_request_path_and_url_for_are_flasks(root, path, v):
    flask_client = _flask_app().test_client()
    expected = flask_client.get(f"{path}?v={v}", environ_overrides={"SCRIPT_NAME": root}).get_data(as_text=True)
    answered = TestClient(_fastapi_app(), root_path=root).get(f"{path}?v={v}").json()
    assert answered == expected
    # werkzeug quotes the values and writes an int's digits; the path is below the root
    assert expected.split("|")[1:] == (
        [f"{root}/files/a%20b/%C3%BC%3F.txt", f"{root}/notes/3", f"{root}/tag/x&amp;y=z"] if v == 0
        else [f"{root}/files/manual.txt", f"{root}/notes/7", f"{root}/tag/%231%20100%25"]
    )
