"""codemod/add_imports.py adds imports with the bytes of LibCST's AddImportsVisitor, which stays
the reference: both run here on a matrix of module heads and of imports asked for."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper

from codemod.add_imports import add_imports

HEADS = {
    "docstring, imports, code": '"""Doc."""\nimport os\nfrom a import b\n\nx = 1\n',
    "imports, then a comment above the code": "import os\n# the app\napp = make()\n",
    "imports, then a blank line and a comment": "import os\n\n# the app\napp = make()\n",
    "code first, imports after": "x = 1\nimport os\nfrom a import b\n",
    "a class first": "class A:\n    import os\n\n    def f(self):\n        from a import b\n",
    "only imports": "import os\nfrom a import b\n",
    "only a docstring": '"""Doc."""\n',
    "empty": "",
    "__strict__ first": "__strict__ = True\nimport os\ny = 2\n",
    "the import nested too": "from a import b\n\ndef f():\n    from a import b\n    return b\n",
    "__future__": '"""Doc."""\nfrom __future__ import annotations\nimport os\n\ndef f():\n    pass\n',
    "relative imports": "from . import sibling\nfrom .a import c\nfrom ..up import u\n\nz = sibling.c\n",
    "several statements on one line": "import os; import sys\nx = 1\n",
    "an import under if": "import os\nif True:\n    import sys\nx = 1\n",
    "a star import": "from a import *\nfrom pkg import q\n",
    "a star after names": "from a import c\nfrom a import *\nv = 1\n",
    "aliases": "import pkg as p\nimport os as o\nfrom a import d as e, b\n",
    "one module aliased twice": "import pkg as x\nimport pkg as p\n",
    "from a twice": "from a import z\nfrom a import (\n    y,\n)\n\n\nclass C: ...\n",
    "imports after code, not the head": "import os\nx = 1\nfrom a import b\nfrom fastapi import APIRouter\n",
    "docstring then code": '"""Doc."""\nprint(1)\n',
    "an f-string first": 'f"not a docstring"\nimport os\n',
    "concatenated string first": '"a" "b"\nimport os\n',
    "two statements first": '"""Doc."""; import os\nimport sys\n',
    "crlf": "import os\r\n\r\nx = 1\r\n",
    "tab indent": "import os\nif x:\n\tpass\n",
    "dotted import": "import os.path\nimport a.b as ab\n",
}
NEEDED = [
    [("a", "b", None, 0)],
    [("a", "c", None, 0), ("fastapi", "APIRouter", None, 0)],
    [("os", None, None, 0), ("httpx", None, None, 0)],
    [("zeta", None, None, 0), ("alpha", None, None, 0), ("mid", None, None, 0), ("beta", None, None, 0), ("os", None, None, 0)],
    [("__future__", "annotations", None, 0), ("a", "d", "e", 0)],
    [("pkg", None, "p", 0), (".a", "c", None, 0)],
    [("a", "b", "bb", 0), ("a", "c", None, 0), ("a", "d", "e", 0), ("a", "z", None, 0)],
    [("pkg", None, "x", 0), ("os.path", None, None, 0), ("a.b", None, "ab", 0)],
    [("sub", "router", "sub_router", 1), ("..up", "u", None, 0), ("q", "router", None, 2)],
    [("q", "w", None, 0), ("pkg", "q", None, 0), ("a", "b", None, 0), ("a", "b", None, 0)],
    [("fastapi", "Depends", None, 0), ("fastapi", "Request", None, 0), ("fastapi", "Depends", None, 0)],
]


def _context(needed) -> CodemodContext:
    base = CodemodContext(filename="pkg/mod.py", full_module_name="pkg.mod", full_package_name="pkg")
    for module, name, asname, relative in needed:
        AddImportsVisitor.add_needed_import(base, module, name, asname, relative)
    return base


def _libcst(source: str, needed) -> str:
    module = cst.parse_module(source)
    context = _context(needed)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    return wrapper.visit(AddImportsVisitor(CodemodContext(**{**context.__dict__, "wrapper": wrapper}))).code


@pytest.mark.parametrize("source", HEADS.values(), ids=HEADS.keys())
@pytest.mark.parametrize("needed", NEEDED, ids=range(len(NEEDED)))
def test_the_bytes_of_libcsts_visitor(source: str, needed) -> None:
    assert add_imports(cst.parse_module(source), _context(needed)).code == _libcst(source, needed)


def test_most_cases_add_something() -> None:
    """The matrix is not mostly no-ops, where any way of adding imports would agree."""
    changed = [1 for source in HEADS.values() for needed in NEEDED if _libcst(source, needed) != source]
    assert len(changed) > len(HEADS) * len(NEEDED) * 3 // 4


def test_nothing_asked_nothing_changed() -> None:
    module = cst.parse_module("import os\n\nx = 1\n")
    assert add_imports(module, _context([])).code == module.code


def test_a_future_import_of_a_module_is_refused_as_libcst_refuses_it() -> None:
    context = CodemodContext(full_package_name="pkg")
    context.scratch[AddImportsVisitor.CONTEXT_KEY] = [*_context([("__future__", "annotations", None, 0)]).scratch[AddImportsVisitor.CONTEXT_KEY]]
    context.scratch[AddImportsVisitor.CONTEXT_KEY][0] = type(context.scratch[AddImportsVisitor.CONTEXT_KEY][0])("__future__", "annotations", "x")
    with pytest.raises(ValueError):
        add_imports(cst.parse_module("x = 1\n"), context)


def test_the_rest_of_the_module_is_the_same_objects() -> None:
    module = cst.parse_module("import os\n\ndef f():\n    return 1\n\nclass A:\n    pass\n")
    out = add_imports(module, _context([("a", "b", None, 0)]))
    assert out.code.startswith("import os\nfrom a import b\n")
    assert out.body[-1] is module.body[-1]
