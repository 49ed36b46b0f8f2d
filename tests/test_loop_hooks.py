"""A request hook whose every call cannot block becomes ``async def``: RequestHooks awaits it on
the loop instead of sending it to the thread pool (codemod/hook_calls.py). A hook that calls a
project helper, a method of an object the converter cannot name, or a file stays ``def``. Either
way the converted app answers as the original did."""

import textwrap

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

APP = textwrap.dedent('''\
    import logging
    import re
    import time
    import uuid

    from flask import Flask, g, request

    app = Flask(__name__)
    log = logging.getLogger("hooked")
    ID = re.compile(r"[a-z0-9]{1,32}")
    CACHE = {"ann": "cached"}
    STATS = {"requests": 0}


    def lookup(name):
        return name.upper()


    @app.before_request
    def stamp_start():
        incoming = request.headers.get("X-Id", "").strip().lower()
        g.request_id = incoming if ID.fullmatch(incoming) else "generated"
        g.nonce = uuid.uuid4().hex
        g.started = time.perf_counter()


    @app.before_request
    def load_user():
        g.user = lookup(request.headers.get("X-User", "nobody"))


    @app.after_request
    def stamp(response):
        elapsed = (time.perf_counter() - g.started) * 1000
        response.headers["X-Id"] = g.get("request_id")
        response.headers.setdefault("X-Slow", str(elapsed > 1000))
        app.logger.info("%s %s", request.path, response.status_code)
        log.debug("done in %.2f ms", elapsed)
        return response


    @app.after_request
    def cached(response):
        response.headers["X-Cached"] = CACHE.get(request.headers.get("X-User", ""), "no")
        return response


    @app.teardown_request
    def count(error):
        STATS["requests"] += 1


    @app.route("/me")
    def me():
        return {"user": g.user, "id": g.request_id, "seen": STATS["requests"]}
''')
REQUESTS = [
    {"method": "GET", "path": "/me", "headers": {"X-Id": "abc123", "X-User": "ann"}},
    {"method": "GET", "path": "/me", "headers": {"X-Id": "NOT valid!"}},
    {"method": "GET", "path": "/nowhere", "headers": {"X-Id": "x1"}},
    {"method": "GET", "path": "/me", "headers": {"X-Id": " Padded9 ", "X-User": "bob"}},
]
for request in REQUESTS:
    request["expect_headers"] = ["X-Id", "X-Cached", "X-Slow"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("loophooks")
    (root / "input" / "hooked").mkdir(parents=True)
    (root / "input" / "hooked" / "__init__.py").write_text("")
    (root / "input" / "hooked" / "app.py").write_text(APP)
    return root / "input", convert_copy(root / "input", root / "converted")


def test_hooks_that_cannot_block_are_async_and_the_others_stay_def(project):
    _, converted = project
    code = (converted / "hooked" / "app.py").read_text()
    assert "async def stamp_start(request: Request):" in code  # headers, str methods, a pattern, clocks, uuid
    assert "async def stamp(request: Request, response: ResponseHead):" in code  # the response's headers, loggers
    assert "async def count(request: Request):" in code  # no call at all
    assert "\ndef load_user(request: Request):" in code  # calls a project helper
    assert "\ndef cached(request: Request, response: ResponseHead):" in code  # CACHE.get: what CACHE is, unknown
    assert "add_middleware(RequestHooks, before=[stamp_start, load_user], after=[stamp, cached], teardown=[count])" in code


def test_the_converted_app_answers_like_the_original(project):
    original, converted = project
    answers = answers_in(original, "hooked.app:app", REQUESTS)  # what the hooks did shows in them
    assert answers[0]["body"]["id"] == "abc123" and answers[0]["headers"]["X-Cached"] == "cached"
    assert answers[1]["body"]["id"] == "generated" and answers[2]["status"] == 404
    assert answers[3]["body"] == {"user": "BOB", "id": "padded9", "seen": 3}
    comparison = compare(original, converted, "hooked.app:app", REQUESTS)
    assert comparison.same, comparison


FACTORY = textwrap.dedent('''\
    from flask import Flask, g, jsonify, request

    from factoryapp.slow import bp


    def shout(name):
        return name.upper()


    def create_app():
        app = Flask(__name__)

        @app.before_request
        def start():
            g.who = request.headers.get("X-Who", "nobody")

        @app.route("/who")
        def who():
            return jsonify(who=g.who, agent=request.headers.get("X-Agent", "").lower())

        @app.route("/shout")
        def shouted():
            return jsonify(who=shout(g.who))

        app.register_blueprint(bp)
        return app


    app = create_app()
''')
SLOW = textwrap.dedent('''\
    import time

    from flask import Blueprint

    bp = Blueprint("slow", __name__)


    @bp.route("/nap")
    def nap():
        time.sleep(0.01)
        return {"slept": True}
''')
FACTORY_REQUESTS = [
    {"method": "GET", "path": "/who", "headers": {"X-Who": "ann", "X-Agent": "Curl"}},
    {"method": "GET", "path": "/who"},
    {"method": "GET", "path": "/shout", "headers": {"X-Who": "bob"}},
    {"method": "GET", "path": "/nap"},
]


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    root = tmp_path_factory.mktemp("factoryviews")
    package = root / "input" / "factoryapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FACTORY)
    (package / "slow.py").write_text(SLOW)
    return root / "input", convert_copy(root / "input", root / "converted")


def test_a_factory_view_that_calls_nothing_that_can_block_goes_async_with_the_others(factory):
    from codemod.engine import convert_paths, discover
    from transforms import ORDER

    original, converted = factory
    code = (converted / "factoryapp" / "__init__.py").read_text()
    assert "    async def start(request: Request):\n" in code
    assert "    async def who(x_agent: Annotated[str, Header(alias=\"X-Agent\")] = \"\", *, http_request: Request):" in code
    assert "\n    def shouted(http_request: Request):\n" in code  # calls a project helper
    routes = {r["view"].rpartition(".")[2]: r for result in convert_paths(discover([original]), ORDER) for r in result.routes}
    assert {view: route["level"] for view, route in routes.items()} == {"who": "async", "shouted": "idiomatic", "nap": "async"}
    assert routes["shouted"]["async_reason"].startswith("defined inside create_app, where only a view that calls nothing")
    comparison = compare(original, converted, "factoryapp:app", FACTORY_REQUESTS)
    assert comparison.same, comparison
    assert [a["body"] for a in answers_in(original, "factoryapp:app", FACTORY_REQUESTS)][:3] == [
        {"who": "ann", "agent": "curl"}, {"who": "nobody", "agent": ""}, {"who": "BOB"}]
