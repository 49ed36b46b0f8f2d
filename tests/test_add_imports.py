"""The engine runs LibCST's AddImportsVisitor on a module's head only (codemod/engine.py
``_add_imports``): the same bytes as the visitor on the whole module, on every shape of head."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper

from codemod.engine import _add_imports

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
    "from a import b already there, nested too": "from a import b\n\ndef f():\n    from a import b\n    return b\n",
    "__future__": '"""Doc."""\nfrom __future__ import annotations\nimport os\n\ndef f():\n    pass\n',
    "relative import": "from . import sibling\nfrom .a import c\n\nz = sibling.c\n",
    "several statements on one line": "import os; import sys\nx = 1\n",
    "an import under if": "import os\nif True:\n    import sys\nx = 1\n",
}
NEEDED = [
    [("a", "b", None)],
    [("a", "c", None), ("fastapi", "APIRouter", None)],
    [("os", None, None), ("httpx", None, None)],
    [("__future__", "annotations", None), ("a", "d", "e")],
    [("pkg", None, "p"), (".a", "c", None)],
]


def _whole(module: cst.Module, base: CodemodContext) -> cst.Module:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    return wrapper.visit(AddImportsVisitor(CodemodContext(**{**base.__dict__, "wrapper": wrapper})))


def _context(needed) -> CodemodContext:
    base = CodemodContext(filename="pkg/mod.py", full_module_name="pkg.mod", full_package_name="pkg")
    for module, name, asname in needed:
        AddImportsVisitor.add_needed_import(base, module, name, asname)
    return base


@pytest.mark.parametrize("source", HEADS.values(), ids=HEADS.keys())
@pytest.mark.parametrize("needed", NEEDED, ids=range(len(NEEDED)))
def test_head_only_gives_the_bytes_of_the_whole_visit(source: str, needed) -> None:
    whole = _whole(cst.parse_module(source), _context(needed)).code
    head = _add_imports(cst.parse_module(source), _context(needed)).code
    assert head == whole


def test_most_cases_add_something() -> None:
    """The cases above are not all no-ops (where any way of running the visitor would agree)."""
    changed = [source for source in HEADS.values() for needed in NEEDED if _whole(cst.parse_module(source), _context(needed)).code != source]
    assert len(changed) > len(HEADS) * len(NEEDED) * 3 // 4


def test_the_rest_of_the_module_is_the_same_objects() -> None:
    module = cst.parse_module("import os\n\ndef f():\n    return 1\n\nclass A:\n    pass\n")
    out = _add_imports(module, _context([("a", "b", None)]))
    assert out.code.startswith("import os\nfrom a import b\n")
    assert out.body[-1] is module.body[-1]
