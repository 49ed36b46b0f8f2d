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
