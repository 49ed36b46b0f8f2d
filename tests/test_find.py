"""codemod.find.findall answers as libcst.matchers.findall does: the same nodes, in order."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import libcst.matchers as m
import pytest

from codemod.find import findall

REPO = Path(__file__).resolve().parent.parent
FILES = sorted([*REPO.glob("fixtures/**/*.py"), *REPO.glob("example_chatbot/*.py")])[:60]
MATCHERS = [
    m.Name(),
    m.Call(func=m.Attribute(attr=m.Name("get"))),
    m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.Call()),
    m.OneOf(m.Name("request"), m.Attribute(attr=m.Name("json"))),
    m.MatchIfTrue(lambda node: isinstance(node, cst.Return)),
    m.DoesNotMatch(m.Name()),
    m.SimpleStatementLine(body=[m.ZeroOrMore(), m.Expr(), m.ZeroOrMore()]),
    # plain matchers, which codemod/find.py tests field by field itself
    m.Call(func=m.Name()),
    m.Call(func=m.Name("print") | m.Attribute(attr=m.Name("get"))),
    m.Attribute(value=m.Name("request"), attr=m.Name()),
    m.ImportFrom(module=None),
    m.ImportFrom(module=m.Attribute(value=m.Name())),
    m.Module(has_trailing_newline=True),
    m.Arg(keyword=m.Name("methods")),
    m.Param(default=m.Name()),
    m.Param(star=""),
    m.FunctionDef(asynchronous=m.Asynchronous()),
    m.FunctionDef(asynchronous=None, returns=m.Annotation()),
    m.Name(value=m.MatchIfTrue(lambda value: value.startswith("_"))),
    m.Call(func=m.SaveMatchedNode(m.Name(), "func")),
    m.Call(func=m.DoesNotMatch(m.Name())),
    m.Decorator(decorator=m.Call(func=m.Attribute(attr=m.Name("route")), args=[m.Arg(m.SimpleString()), m.ZeroOrMore()])),
    m.If(test=m.Comparison(left=m.Name("__name__"), comparisons=[m.ComparisonTarget(m.Equal(), m.SimpleString())])),
]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_findall_as_libcst(path: Path) -> None:
    module = cst.parse_module(path.read_bytes())
    subtrees = [module, *m.findall(module, m.FunctionDef()), *m.findall(module, m.ClassDef())]
    for tree in subtrees:
        for matcher in MATCHERS:
            assert [id(n) for n in findall(tree, matcher)] == [id(n) for n in m.findall(tree, matcher)]
    changed = module.with_changes(body=module.body[1:])  # a new tree sharing the old one's nodes
    assert [id(n) for n in findall(changed, m.Name())] == [id(n) for n in m.findall(changed, m.Name())]
