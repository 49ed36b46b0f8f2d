"""transforms/test_doubles.py on a test module of a project whose async plan is given: the swaps
of functions made async are wrapped in ``awaitable``, the swaps of requests become the runtime's
requests double, a swapped ``time.sleep`` follows the module to ``asyncio.sleep``; everything
else stays as it is, and a second run changes nothing."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from codemod.async_facts import AsyncFacts
from codemod.engine import convert_source
from codemod.project import gather
from transforms import ORDER

PATH = Path("tests/test_chat.py")


def convert(source: str, functions=(), blocking=None, path: Path = PATH) -> str:
    """The test module converted, with ``functions`` made async by the plan and ``blocking``
    (function -> its blocking calls) as the facts pass found them."""
    source = textwrap.dedent(source)

    def run(text: bytes) -> bytes:
        project = gather(path, text)
        state, plan = project._state_and_async
        project.__dict__["_state_and_async"] = (state, replace(plan, functions=frozenset(functions)))
        project.async_facts.update({f: AsyncFacts(blocking=tuple(calls)) for f, calls in (blocking or {}).items()})
        result = convert_source(path, text, project, ORDER)
        assert result.status != "failed", result.findings
        return result.new if result.new is not None else text

    once = run(source.encode())
    assert run(once) == once  # a second run changes nothing
    return once.decode()


def test_a_function_made_async_gets_an_awaitable_replacement_in_every_form():
    before = '''\
        from unittest import mock

        from pkg import llm


        def test_swaps(monkeypatch):
            monkeypatch.setattr(llm, "complete", lambda messages: "ok")
            monkeypatch.setattr("pkg.llm.stream", fragments)
            monkeypatch.setattr(llm, "local_reply", lambda messages: "kept")
            with mock.patch.object(llm, "complete", new=fake), mock.patch("pkg.llm.stream", fragments):
                pass
            with mock.patch("pkg.llm.complete") as mocked:
                pass
        '''
    assert convert(before, {"pkg.llm.complete", "pkg.llm.stream"}) == textwrap.dedent('''\
        from unittest import mock

        from pkg import llm
        from flask2fastapi_runtime import awaitable


        def test_swaps(monkeypatch):
            monkeypatch.setattr(llm, "complete", awaitable(lambda messages: "ok"))
            monkeypatch.setattr("pkg.llm.stream", awaitable(fragments))
            monkeypatch.setattr(llm, "local_reply", lambda messages: "kept")
            with mock.patch.object(llm, "complete", new=awaitable(fake)), mock.patch("pkg.llm.stream", awaitable(fragments)):
                pass
            with mock.patch("pkg.llm.complete") as mocked:
                pass
        ''')


def test_nothing_changes_where_the_plan_left_the_function_sync():
    before = '''\
        from pkg import llm


        def test_swap(monkeypatch):
            monkeypatch.setattr(llm, "complete", lambda messages: "ok")
        '''
    assert convert(before, set()) == textwrap.dedent(before)


def test_not_a_test_module_is_left_alone():
    before = '''\
        from pkg import llm


        def swap(monkeypatch):
            monkeypatch.setattr(llm, "complete", lambda messages: "ok")
        '''
    assert convert(before, {"pkg.llm.complete"}, path=Path("pkg/support.py")) == textwrap.dedent(before)


SWAPS_REQUESTS = '''\
    import requests


    @pytest.fixture
    def upstream(monkeypatch):
        fake = FakeUpstream()
        monkeypatch.setattr(requests, "post", fake)
        monkeypatch.setattr("requests.get", fake)
        return fake


    def test_timeout(upstream):
        upstream.outcome = requests.Timeout("slow")
    '''


def test_swapped_requests_become_the_double_once_the_projects_requests_calls_are_async():
    after = convert(SWAPS_REQUESTS, {"pkg.llm._post"}, {"pkg.llm._post": ["requests.post"]})
    assert after == textwrap.dedent('''\
        import requests
        from flask2fastapi_runtime import requests_double


        @pytest.fixture
        def upstream(monkeypatch):
            fake = FakeUpstream()
            requests_double(monkeypatch, "post", fake)
            requests_double(monkeypatch, "get", fake)
            return fake


        def test_timeout(upstream):
            upstream.outcome = requests.Timeout("slow")
        ''')


def test_swapped_requests_stay_where_the_projects_requests_calls_stay_sync():
    assert convert(SWAPS_REQUESTS, set(), {"pkg.llm._post": ["requests.post"]}) == textwrap.dedent(SWAPS_REQUESTS)


SLEEPS = '''\
    from pkg import llm


    def test_latency(monkeypatch):
        sleeps = []
        monkeypatch.setattr(llm.time, "sleep", sleeps.append)
    '''


@pytest.mark.parametrize("async_sleepers, changed", [
    ({"pkg.llm._simulate_latency", "pkg.llm._local_stream"}, True),
    ({"pkg.llm._simulate_latency"}, False),  # one time.sleep of the module stays: so does the swap
])
def test_a_swapped_time_sleep_follows_the_module_to_asyncio_sleep(async_sleepers, changed):
    blocking = {"pkg.llm._simulate_latency": ["time.sleep"], "pkg.llm._local_stream": ["time.sleep"]}
    after = convert(SLEEPS, async_sleepers, blocking)
    if not changed:
        assert after == textwrap.dedent(SLEEPS)
        return
    assert after == textwrap.dedent('''\
        from pkg import llm
        from flask2fastapi_runtime import awaitable


        def test_latency(monkeypatch):
            sleeps = []
            monkeypatch.setattr(llm.asyncio, "sleep", awaitable(sleeps.append))
        ''')
