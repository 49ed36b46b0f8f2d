"""Masks found between two recordings of the original, and the pairing of a replay: on recorded
exchanges written out by hand (codemod/masking.py, codemod/replay.py, codemod/exchange_view.py)."""

import copy

from codemod.exchange_view import view
from codemod.masking import masks, unmasked
from codemod.recorder import LARGE, body_fields
from codemod.recording import Recording, RecordedTest, load, merge, save
from codemod.replay import compare, mask

PAGE = '<form><input type="hidden" name="csrf" value="{token}"><p>Hello, ada</p></form>'


def exchange(path="/items", status=200, headers=(), body='{"id": 1}', method="GET", sent=(), rule=None):
    return {
        "test": "t",
        "seq": 0,
        "via": "wsgi",
        "rule": rule or path,
        "request": {"method": method, "path": path, "query": "", "headers": [list(h) for h in sent], "body": ""},
        "response": {"status": status, "headers": [["content-type", "application/json"], *map(list, headers)], "body": body},
    }


def recording(*tests: tuple[str, list[dict]]) -> Recording:
    return Recording("pytest", routes=[], tests={name: RecordedTest("passed", copy.deepcopy(list(e))) for name, e in tests})


def test_a_value_that_changes_is_masked_and_must_still_be_there():
    first = view(exchange(headers=[("x-request-id", "a1")], body='{"id": 1, "at": "10:00"}'))
    second = view(exchange(headers=[("x-request-id", "b2"), ("x-cache", "hit")], body='{"id": 1, "at": "10:01"}'))
    masked, optional = masks(first, second)
    assert masked == ["/response/headers/x-request-id", "/response/body/at"]
    assert optional == ["/response/headers/x-cache"]
    other = view(exchange(headers=[("x-request-id", "c3")], body='{"id": 1, "at": "11:00"}'))
    assert unmasked(first, other, masked, optional) == []  # other values, an optional header absent
    dropped = view(exchange(body='{"id": 1, "at": "11:00"}'))
    assert [p for p, _, _ in unmasked(first, dropped, masked, optional)] == ["/response/headers/x-request-id"]
    changed = view(exchange(headers=[("x-request-id", "c3")], body='{"id": 2, "at": "11:00"}'))
    assert [p for p, _, _ in unmasked(first, changed, masked, optional)] == ["/response/body/id"]


def test_one_token_of_a_page_is_masked_not_the_page():
    def page(token, name="ada"):
        return view(exchange(headers=[("content-type", "text/html; charset=utf-8")], body=PAGE.format(token=token).replace("ada", name)))

    masked, optional = masks(page("Zx-1_a.b"), page("Qq9-_z.c"))
    assert len(masked) == 1 and masked[0].startswith("/response/body/text/") and not optional
    assert unmasked(page("Zx-1_a.b"), page("other-token"), masked, optional) == []
    ((pointer, before, after),) = unmasked(page("Zx-1_a.b"), page("other-token", name="bob"), masked, optional)
    assert (before, after) == ("ada", "bob")


def test_an_empty_body_compares_without_its_media_type():
    flask = exchange(status=204, headers=[("content-type", "text/html; charset=utf-8")], body="")
    flask["response"]["headers"] = [["content-type", "text/html; charset=utf-8"]]
    fastapi = exchange(status=204, body="")
    fastapi["response"]["headers"] = []
    assert view(flask) == view(fastapi)
    assert view(exchange(body='{"a": 1}')) != view(exchange(body='{"a": 2}'))


def test_an_exception_into_the_test_compares_by_its_name():
    flask = exchange(body="")
    flask["response"] = {"status": None, "headers": [], "body": "", "raised": "KeyError"}
    starlette = exchange(status=500, headers=[("content-type", "text/plain; charset=utf-8")], body="Internal Server Error")
    starlette["response"]["raised"] = "KeyError"
    assert view(flask)["response"] == view(starlette)["response"] == {"raised": "KeyError"}
    starlette["response"]["raised"] = "TypeError"
    assert view(flask) != view(starlette)


def test_a_large_body_is_kept_as_its_digest():
    fields = body_fields(b"x" * (LARGE + 1))
    assert set(fields) == {"body_length", "body_sha256"}
    assert body_fields("é".encode()) == {"body": "é"}
    assert body_fields(b"\xff\x00") == {"body_base64": "/wA="}


def test_masks_carry_over_to_every_request_of_a_route_and_headers_everywhere():
    runs = []
    for timing in (("0.06", "0.31"), ("0.06", "0.52")):  # the first request's time the same twice
        runs.append(recording(
            ("a", [exchange("/items/1", rule="/items/<id>", headers=[("x-time", timing[0])], body='[{"at": "1"}, {"at": "2"}]')]),
            ("b", [exchange("/items/2", rule="/items/<id>", headers=[("x-time", timing[1])], body=f'[{{"at": "{timing[1]}"}}]')]),
            ("c", [exchange("/health", headers=[("x-time", "0.01")])]),
        ))
    original = mask(*runs)
    converted = recording(
        ("a", [exchange("/items/1", headers=[("x-time", "9.99")], body='[{"at": "5"}, {"at": "6"}]')]),
        ("b", [exchange("/items/2", headers=[("x-time", "9.99")], body='[{"at": "7"}]')]),
        ("c", [exchange("/health", headers=[("x-time", "9.99")])]),
    )
    result = compare(original, converted)
    assert result.same, [p.differences for p in result.different]
    assert result.routes["GET /items/<id>"]["identical"] == 2


def test_sequences_missing_and_unstable_tests_are_reported_not_dropped():
    two = [exchange("/a"), exchange("/b")]
    original = mask(
        recording(("fewer", two), ("other path", two), ("gone", two), ("flaky", two)),
        recording(("fewer", two), ("other path", two), ("gone", two), ("flaky", [exchange("/a", method="POST"), exchange("/b")])),
    )
    converted = recording(("fewer", two[:1]), ("other path", [exchange("/a"), exchange("/c")]), ("flaky", two), ("new", two))
    result = compare(original, converted)
    assert not result.same
    assert dict(result.sequences) == {
        "fewer": "1 request(s) sent, 2 recorded (fewer)",
        "other path": "request 2: GET /b (/b) recorded, GET /c sent",
    }
    assert result.only_original == ["gone"] and result.only_converted == ["new"] and result.unstable == ["flaky"]
    assert result.routes["GET /b"] == {"sent": 4, "not compared": 4}
    assert result.routes["GET /a"] == {"sent": 4, "identical": 2, "not compared": 2}


def test_a_generated_id_in_the_path_still_pairs():
    original = mask(recording(("t", [exchange("/items/abc")])), recording(("t", [exchange("/items/def")])))
    assert original.tests["t"].exchanges[0]["masked"] == ["/request/path"]
    assert compare(original, recording(("t", [exchange("/items/xyz")]))).same


def flask_cors(origin="https://app.example", preflight=False):
    sent = [("origin", origin)] + ([("access-control-request-method", "PUT")] if preflight else [])
    headers = [("access-control-allow-origin", origin), ("access-control-expose-headers", "X-Id")]
    if preflight:
        headers = [("access-control-allow-origin", origin), ("access-control-allow-methods", "GET, PUT"), ("allow", "GET, PUT, OPTIONS")]
        return exchange(method="OPTIONS", sent=sent, headers=headers, body="") | {}
    return exchange(sent=sent, headers=headers)


def starlette_cors(origin="https://app.example", preflight=False, allow=None):
    sent = [("origin", origin)] + ([("access-control-request-method", "PUT")] if preflight else [])
    allowed = allow or origin
    if preflight:
        headers = [("access-control-allow-origin", allowed), ("access-control-allow-methods", "PUT, GET"), ("access-control-max-age", "600"),
                   ("vary", "Origin"), ("content-type", "text/plain; charset=utf-8")]
        return exchange(method="OPTIONS", sent=sent, headers=headers, body="OK")
    return exchange(sent=sent, headers=[("access-control-allow-origin", allowed), ("access-control-expose-headers", "X-Id"), ("vary", "Origin")])


def test_cors_as_a_browser_reads_it():
    for preflight in (False, True):
        before, after = flask_cors(preflight=preflight), starlette_cors(preflight=preflight)
        assert view(before) != view(after)
        assert view(before, "browser") == view(after, "browser"), preflight
    # an origin the original refused, let in by the converted app: a browser sees that
    refused = flask_cors("https://evil.example")
    refused["response"]["headers"] = [["content-type", "application/json"]]
    let_in = starlette_cors("https://evil.example")
    assert view(refused, "browser")["response"]["cors"] == {"allowed": False}
    assert view(refused, "browser") != view(let_in, "browser")


def test_recorder_lines_merge_into_tests_in_order_and_a_file_round_trips(tmp_path):
    lines = [
        {"routes": [["/b", ["GET"], "b"], ["/static/<path:filename>", ["GET"], "static"]]},
        exchange("/b") | {"test": "t1", "seq": 7},
        exchange("/a") | {"test": "t1", "seq": 3},
        {"test": "t1", "phase": "call", "outcome": "passed"},
        {"test": "t2", "phase": "setup", "outcome": "failed"},
        {"test": "t2", "phase": "teardown", "outcome": "passed"},
    ]
    merged = merge("pytest -q", lines)
    assert [e["request"]["path"] for e in merged.tests["t1"].exchanges] == ["/a", "/b"]
    assert [e["seq"] for e in merged.tests["t1"].exchanges] == [0, 1]
    assert (merged.tests["t1"].outcome, merged.tests["t2"].outcome) == ("passed", "failed")
    save(merged, tmp_path / "r.jsonl")
    again = load(tmp_path / "r.jsonl")
    assert again.command == "pytest -q" and again.routes == merged.routes
    assert {n: (t.outcome, t.exchanges) for n, t in again.tests.items()} == {n: (t.outcome, t.exchanges) for n, t in merged.tests.items()}
    save(again, tmp_path / "s.jsonl")
    assert (tmp_path / "s.jsonl").read_bytes() == (tmp_path / "r.jsonl").read_bytes()  # stable
    save(again, tmp_path / "r.jsonl.gz")
    packed = (tmp_path / "r.jsonl.gz").read_bytes()
    assert packed[:2] == b"\x1f\x8b" and load(tmp_path / "r.jsonl.gz").tests == again.tests
    save(load(tmp_path / "r.jsonl.gz"), tmp_path / "r.jsonl.gz")
    assert (tmp_path / "r.jsonl.gz").read_bytes() == packed  # no timestamp in the gzip header
