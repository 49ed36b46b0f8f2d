"""A project's tests that swap a function the conversion made async keep fitting its callers.

The Flask tests are kept and run against the converted app (FastAPI's testing page,
https://fastapi.tiangolo.com/tutorial/testing/, is where they would otherwise be rewritten). A
test that swaps a function by name now hands its replacement to an ``await``, and one that swapped
``requests.post`` swaps a call the app no longer makes. In test files only (``test_*.py``,
``*_test.py``, ``conftest.py``, a ``tests/`` folder, or a module that imports pytest):

- ``monkeypatch.setattr(mod, "name", X)``, ``monkeypatch.setattr("pkg.mod.name", X)``,
  ``mock.patch.object(mod, "name", X)`` and ``mock.patch("pkg.mod.name", X)`` (or ``new=X``) of
  a function the async plan makes ``async def`` -> ``awaitable(X)`` (runtime doubles). A
  ``mock.patch`` without a replacement gives an AsyncMock for an async function already;
- ``monkeypatch.setattr(requests, "post", fake)`` (any verb, or ``"requests.post"``), where the
  project's requests calls became calls of the shared aiohttp client ->
  ``requests_double(monkeypatch, "post", fake)``; ``mock.patch("requests.post", ...)`` is flagged;
- ``monkeypatch.setattr(mod.time, "sleep", X)`` where every ``time.sleep`` of the project module
  ``mod`` became ``await asyncio.sleep(...)`` -> ``monkeypatch.setattr(mod.asyncio, "sleep",
  awaitable(X))``.
"""

from __future__ import annotations

from pathlib import PurePath

import libcst as cst

from codemod.async_facts import SLEEP
from codemod.findings import Code
from codemod.transform import Example, Transform

RUNTIME = "flask2fastapi_runtime"
MONKEYPATCH_TYPES = frozenset({"pytest.MonkeyPatch", "_pytest.monkeypatch.MonkeyPatch"})
PATCH = frozenset({"unittest.mock.patch", "mock.patch"})
PATCH_OBJECT = frozenset({"unittest.mock.patch.object", "mock.patch.object"})
REQUESTS_VERBS = frozenset({"get", "options", "head", "post", "put", "patch", "delete", "request"})
TEST_SUPPORT = frozenset({"pytest", "unittest", "unittest.mock", "mock"})


def is_test_path(filename: str) -> bool:
    path = PurePath(filename)
    name = path.name
    return (
        (name.startswith("test_") and name.endswith(".py")) or name.endswith("_test.py") or name == "conftest.py"
        or "tests" in path.parts[:-1]
    )


class TestDoublesTransform(Transform):
    __test__ = False  # a transform, not a test class (its name starts with "Test")

    NAME = "test_doubles"
    DESCRIPTION = "tests swapping a function made async or requests.post -> awaitable(X) / the runtime's requests double"
    PREFILTER = (b"monkeypatch", b"patch")
    FINDINGS = {
        "mock requests": Code(
            "F2F281",
            "{call} swaps requests.{verb}, which the app no longer calls: use requests_double(monkeypatch, \"{verb}\", fake)",
            "A test patches requests with unittest.mock while the app's requests calls became calls of "
            "the shared aiohttp client (flask2fastapi_runtime.http_client()), so the patch no longer "
            "reaches them. The runtime's requests_double(monkeypatch, verb, fake) serves the client "
            "with the same fake; a MagicMock the test configures afterwards has no such form.",
        ),
    }
    EXAMPLES = (
        Example(
            """\
            import pytest
            import requests


            async def fetch(url):
                return requests.get(url, timeout=5).json()


            def test_fetch(monkeypatch):
                monkeypatch.setattr(requests, "get", lambda url, **kwargs: None)
            """,
            """\
            import pytest
            from flask2fastapi_runtime import http_client, http_timeout, read_json, requests_double


            async def fetch(url):
                return await read_json(await http_client().get(url, timeout=http_timeout(5)))


            def test_fetch(monkeypatch):
                requests_double(monkeypatch, "get", lambda url, **kwargs: None)
            """,
            title="requests.get swapped where the project's requests calls go to the shared aiohttp client",
        ),
        Example(
            """\
            import pytest
            import requests
            from unittest import mock


            async def fetch(url):
                return requests.get(url, timeout=5).json()


            def test_fetch():
                with mock.patch("requests.get", lambda url, **kwargs: None):
                    pass
            """,
            """\
            import pytest
            from unittest import mock
            from flask2fastapi_runtime import http_client, http_timeout, read_json


            async def fetch(url):
                return await read_json(await http_client().get(url, timeout=http_timeout(5)))


            def test_fetch():
                # TODO[F2F281]: mock.patch("requests.get", lambda url, **kwargs: None) swaps requests.get, which the app no longer calls: use requests_double(monkeypatch, "get", fake)
                with mock.patch("requests.get", lambda url, **kwargs: None):
                    pass
            """,
            codes=("F2F281",),
            title="unittest.mock's patch of requests: flagged (it needs the test's monkeypatch)",
        ),
        Example(
            """\
            import pytest
            import requests


            def fetch(url):
                return requests.get(url, timeout=5).json()


            def test_fetch(monkeypatch):
                monkeypatch.setattr(requests, "get", lambda url, **kwargs: None)
                monkeypatch.setattr("os.getcwd", lambda: "/")
            """,
            title="requests stays as it is (a sync function): the swap still reaches it",
        ),
        Example(
            """\
            import requests


            async def fetch(url):
                return requests.get(url, timeout=5).json()


            def install(monkeypatch):
                monkeypatch.setattr(requests, "get", lambda url, **kwargs: None)
            """,
            """\
            import requests
            from flask2fastapi_runtime import http_client, http_timeout, read_json


            async def fetch(url):
                return await read_json(await http_client().get(url, timeout=http_timeout(5)))


            def install(monkeypatch):
                monkeypatch.setattr(requests, "get", lambda url, **kwargs: None)
            """,
            title="not a test module: its swap of requests is left as it is",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.active = False

    def visit_Module(self, node: cst.Module) -> None:
        self.active = is_test_path(self.context.filename or "") or any(_imports(s, TEST_SUPPORT) for s in node.body)

    # -- what the project converted ---------------------------------------------------------------
    def _async(self, qualified: str) -> bool:
        return qualified in self.run.project.async_plan.functions

    def _requests_converted(self) -> bool:
        project = self.run.project
        for name, facts in project.async_facts.items():
            function = project.functions.get(name)
            converted = name in project.async_plan.functions or (function is not None and not function.sync)
            if converted and any(call.startswith("requests.") for call in facts.blocking):
                return True
        return False

    def _sleeps_async(self, module: str) -> bool:
        """Every ``time.sleep`` of the project module ``module`` became ``asyncio.sleep`` (there is one)."""
        sleepers = [f for f, facts in self.run.project.async_facts.items() if f.rpartition(".")[0] == module and SLEEP in facts.blocking]
        return bool(sleepers) and all(self._async(f) for f in sleepers)

    # -- the swaps --------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not self.active or not isinstance(updated_node, cst.Call):
            return updated_node
        func = original_node.func
        names = self.qualified_names(func)
        if isinstance(func, cst.Attribute) and func.attr.value == "setattr" and self._monkeypatch(func.value):
            return self._setattr(original_node, updated_node)
        if names & PATCH_OBJECT and len(original_node.args) >= 2:
            target = self._target(original_node.args[0].value, original_node.args[1].value)
            return self._wrap_at(original_node, updated_node, target, 2)
        if names & PATCH and original_node.args:
            target = _string(original_node.args[0].value)
            if target is not None and self._is_requests(target):
                self.flag(original_node, "mock requests", call=cst.Module([]).code_for_node(original_node), verb=target.rpartition(".")[2])
                return updated_node
            return self._wrap_at(original_node, updated_node, target, 1)
        return updated_node

    def _setattr(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        args = original.args
        if len(args) >= 2 and args[0].keyword is None and _string(args[0].value) is not None:
            target, index = _string(args[0].value), 1  # monkeypatch.setattr("pkg.mod.name", value)
        elif len(args) >= 3:
            target, index = self._target(args[0].value, args[1].value), 2
        else:
            return updated
        if target is None:
            return updated
        if self._is_requests(target):
            return self._double(original, updated, target.rpartition(".")[2], index)
        owner, _, name = target.rpartition(".")
        module, _, attr = owner.rpartition(".")
        if name == "sleep" and attr == "time" and self._sleeps_async(module):
            return self._to_asyncio_sleep(original, updated, index)
        return self._wrap_at(original, updated, target, index)

    def _target(self, owner: cst.BaseExpression, name: cst.BaseExpression) -> str | None:
        attribute = _string(name)
        owners = self.qualified_names(owner)
        if attribute is None or len(owners) != 1:
            return None
        return f"{next(iter(owners))}.{attribute}"

    def _is_requests(self, target: str) -> bool:
        module, _, verb = target.rpartition(".")
        return module == "requests" and verb in REQUESTS_VERBS and self._requests_converted()

    def _wrap_at(self, original: cst.Call, updated: cst.Call, target: str | None, index: int) -> cst.Call:
        """``awaitable(X)`` for the replacement (positional ``index`` or ``new=``) of an async target."""
        if target is None or not self._async(target):
            return updated
        position = _replacement(original, index)
        if position is None or self._wrapped(original.args[position].value):
            return updated
        wrap = self.import_reference(original, RUNTIME, "awaitable", replaces=False)
        args = list(updated.args)
        args[position] = args[position].with_changes(value=cst.Call(wrap, [cst.Arg(args[position].value)]))
        return updated.with_changes(args=args)

    def _wrapped(self, value: cst.BaseExpression) -> bool:
        return isinstance(value, cst.Call) and self.names(value.func, f"{RUNTIME}.awaitable", f"{RUNTIME}.doubles.awaitable")

    def _double(self, original: cst.Call, updated: cst.Call, verb: str, index: int) -> cst.BaseExpression:
        position = _replacement(original, index)
        if position is None:
            return updated
        double = self.import_reference(original, RUNTIME, "requests_double", replaces=False)
        self.consume(original.args[0].value)  # ``requests``: its import goes if nothing else uses it
        monkeypatch = updated.func.value  # type: ignore[attr-defined]
        return cst.Call(double, [cst.Arg(monkeypatch), cst.Arg(cst.SimpleString(f'"{verb}"')), cst.Arg(updated.args[position].value)])

    def _to_asyncio_sleep(self, original: cst.Call, updated: cst.Call, index: int) -> cst.Call:
        args = list(updated.args)
        first = args[0].value
        if isinstance(first, cst.Attribute):  # mod.time -> mod.asyncio
            args[0] = args[0].with_changes(value=first.with_changes(attr=cst.Name("asyncio")))
        else:  # "pkg.mod.time.sleep" -> "pkg.mod.asyncio.sleep"
            text = _string(first) or ""
            args[0] = args[0].with_changes(value=cst.SimpleString(repr(text[: -len("time.sleep")] + "asyncio.sleep")))
        position = _replacement(original, index)
        if position is not None and not self._wrapped(original.args[position].value):
            wrap = self.import_reference(original, RUNTIME, "awaitable", replaces=False)
            args[position] = args[position].with_changes(value=cst.Call(wrap, [cst.Arg(args[position].value)]))
        return updated.with_changes(args=args)

    def _monkeypatch(self, receiver: cst.BaseExpression) -> bool:
        """pytest's monkeypatch fixture: the parameter of that name, or one annotated MonkeyPatch."""
        if not isinstance(receiver, cst.Name):
            return False
        if receiver.value == "monkeypatch":
            return True
        return any(self.qualified_names(a) & MONKEYPATCH_TYPES for a in self.parameter_annotations(receiver))


def _replacement(call: cst.Call, index: int) -> int | None:
    """Where the replacement is: the positional argument ``index``, or ``new=`` (mock.patch)."""
    for position, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value in ("new", "value"):
            return position
    positional = [p for p, a in enumerate(call.args) if a.keyword is None and not a.star]
    return positional[index] if index < len(positional) else None


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _imports(statement: cst.CSTNode, modules: frozenset[str]) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Import) and any(a.evaluated_name in modules for a in small.names):
            return True
        if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            if cst.Module([]).code_for_node(small.module) in modules:
                return True
    return False
