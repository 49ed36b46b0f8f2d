"""codemod/names.py's providers against LibCST's (FullNames against FullyQualifiedNameProvider,
Scopes against ScopeProvider, Parents against ParentNodeProvider), node by node on every file of the fixtures and the example
chatbot."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import FullyQualifiedNameProvider, MetadataWrapper, ParentNodeProvider, ScopeProvider

from codemod.names import FullNames, Parents, Scopes
from codemod.project import module_of

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    p for folder in ("fixtures", "example_chatbot") for p in (ROOT / folder).rglob("*.py")
)


def _wrapper(path: Path) -> MetadataWrapper:
    cache = module_of(path)
    return MetadataWrapper(
        cst.parse_module(path.read_bytes()), unsafe_skip_copy=True, cache={FullyQualifiedNameProvider: cache, FullNames: cache}
    )


def _names(path: Path) -> tuple[dict, dict]:
    wrapper = _wrapper(path)
    return dict(wrapper.resolve(FullyQualifiedNameProvider)), dict(wrapper.resolve(FullNames))


def _scope_facts(scope, in_tree: set) -> tuple:
    """What a scope says, in terms that do not depend on the run that made it."""
    def where(node):  # string annotations are parsed anew by each run: compare their code
        return id(node) if node is None or node in in_tree else cst.Module([]).code_for_node(node)
    return (
        type(scope).__name__,
        sorted((a.name, where(a.node)) for a in scope.assignments),
        sorted((where(a.node), sorted(r.name for r in a.referents)) for a in scope.accesses),
    )


def _value(found):
    return found() if callable(found) else found


@pytest.mark.parametrize("chunk", range(4))
def test_same_names_on_every_node(chunk: int) -> None:
    compared = 0
    for path in FILES[chunk::4]:
        try:
            libcst_names, ours = _names(path)
        except cst.ParserSyntaxError:
            continue  # a fixture of a file that does not parse
        for node, expected in libcst_names.items():
            assert _value(ours.get(node, set())) == expected, (path, node)
            compared += 1
    assert compared > 10_000


@pytest.mark.parametrize("chunk", range(4))
def test_same_scopes_and_parents_on_every_node(chunk: int) -> None:
    compared = 0
    for path in FILES[chunk::4]:
        try:
            wrapper = _wrapper(path)
        except cst.ParserSyntaxError:
            continue
        libcst_scopes, ours = wrapper.resolve(ScopeProvider), wrapper.resolve(Scopes)
        parents = wrapper.resolve(ParentNodeProvider)
        assert dict(wrapper.resolve(Parents)) == dict(parents), path
        in_tree = set(parents) | {wrapper.module}  # not the nodes each run parses from string annotations
        pairs: dict[int, tuple] = {}
        for node, expected in libcst_scopes.items():
            if node not in in_tree:
                continue
            found = ours.get(node)
            assert (found is None) == (expected is None), (path, node)
            if expected is not None:
                pairs.setdefault(id(expected), (expected, found))
        for expected, found in pairs.values():
            assert _scope_facts(found, in_tree) == _scope_facts(expected, in_tree), path
            compared += 1
    assert compared > 100


def test_relative_import_is_made_absolute(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "views.py").write_text("from .db import query\nfrom ..other import thing\nquery()\n")
    libcst_names, ours = _names(package / "views.py")
    call = next(n for n in libcst_names if isinstance(n, cst.Call))
    assert {q.name for q in _value(ours[call.func])} == {"pkg.db.query"} == {q.name for q in libcst_names[call.func]}


def test_wrapper_resolves_as_libcst_does() -> None:
    """codemod/names.py's Wrapper leaves out LibCST's idle walks, not metadata: every provider
    the converter resolves gives the same values as through MetadataWrapper."""
    from libcst.metadata import ExpressionContextProvider, PositionProvider

    from codemod.names import Wrapper, _hooks

    # the providers it generates from their one hook have no other (a LibCST upgrade that adds
    # one would need the batched walk again)
    assert _hooks(ExpressionContextProvider) == _hooks(ScopeProvider) == _hooks(ParentNodeProvider) == {"visit_Module"}
    for path in FILES[::7]:
        try:
            module = cst.parse_module(path.read_bytes())
        except cst.ParserSyntaxError:
            continue
        cache = {FullNames: module_of(path), FullyQualifiedNameProvider: module_of(path)}
        libcst_wrapper, ours = MetadataWrapper(module, True, cache), Wrapper(module, True, cache)
        for provider in (ExpressionContextProvider, Parents, PositionProvider, ParentNodeProvider, FullyQualifiedNameProvider):
            assert dict(ours.resolve(provider)) == dict(libcst_wrapper.resolve(provider)), (path, provider)
        expected, found = libcst_wrapper.resolve(FullNames), ours.resolve(FullNames)
        assert set(found) == set(expected), path
        assert all(_value(found[node]) == _value(expected[node]) for node in expected), path
