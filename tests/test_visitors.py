"""codemod/visitors.py: the converter's visitors that skip LibCST's attribute hooks define none;
dispatch by table is LibCST's; visit_together gives each visitor the calls of its own walk."""

import importlib
import pkgutil
import re

import codemod
import transforms
from codemod.visitors import Transformer, Visitor

ATTRIBUTE_HOOK = re.compile(r"^(visit|leave)_[A-Z][A-Za-z]*_[a-z_]+$")


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_no_visitor_that_skips_attribute_hooks_defines_one() -> None:
    for package in (codemod, transforms):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    classes = _subclasses(Visitor) | _subclasses(Transformer)
    assert len(classes) > 20  # the facts visitors, the index, the readers, the renamers...
    # the project's own classes in each one's bases (LibCST's declare every hook as a stub)
    own = {k for cls in classes for k in cls.__mro__ if k.__module__.startswith(("codemod.", "transforms."))}
    hooks = {f"{k.__module__}.{k.__qualname__}.{name}" for k in own for name in vars(k) if ATTRIBUTE_HOOK.match(name)}
    assert hooks == set()


def test_a_class_with_attribute_hooks_keeps_libcsts_base() -> None:
    # commit_expiry's reader visits a for loop's body apart from its target: LibCST calls its hook
    from codemod.commit_expiry import _Reader

    assert not issubclass(_Reader, Visitor) and hasattr(_Reader, "visit_For_body")


def test_hooks_run_as_libcsts_own_dispatch_runs_them() -> None:
    import libcst as cst

    source = "def f(a):\n    return g(a) + h(1)\n\nx = g(2)\n"

    def visitor(base: type) -> type:
        class Seen(base):
            def __init__(self) -> None:
                super().__init__()
                self.seen: list[str] = []

            def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                self.seen.append(f"def {node.name.value}")
                return False  # not into its body

            def visit_Call(self, node: cst.Call) -> None:
                self.seen.append(cst.Module([]).code_for_node(node))

            def leave_Call(self, original_node: cst.Call) -> None:
                self.seen.append("left")

        return Seen

    def transformer(base: type) -> type:
        class Renamed(base):
            def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
                return updated_node.with_changes(value="G") if original_node.value == "g" else updated_node

        return Renamed

    ours, theirs = visitor(Visitor)(), visitor(cst.CSTVisitor)()
    cst.parse_module(source).visit(ours)
    cst.parse_module(source).visit(theirs)
    assert ours.seen == theirs.seen == ["def f", "g(2)", "left"]
    renamed = cst.parse_module(source).visit(transformer(Transformer)()).code
    assert renamed == cst.parse_module(source).visit(transformer(cst.CSTTransformer)()).code
    assert renamed == "def f(a):\n    return G(a) + h(1)\n\nx = G(2)\n"


class _Recorder(Visitor):
    """Records its hook calls; skips the children of functions named ``skip*``; raises on the
    first call named ``boom`` when told to."""

    def __init__(self, raises: bool = False) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.raises = raises

    def visit_FunctionDef(self, node) -> bool:
        self.calls.append(f"def {node.name.value}")
        return not node.name.value.startswith("skip")

    def leave_FunctionDef(self, original_node) -> None:
        self.calls.append(f"end {original_node.name.value}")

    def visit_Name(self, node) -> None:
        self.calls.append(node.value)
        if self.raises and node.value == "boom":
            raise ValueError("boom")


def test_visit_together_gives_each_visitor_its_own_walk() -> None:
    import libcst as cst
    from libcst.metadata import MetadataWrapper

    from codemod.visitors import visit_together

    source = "def f(a):\n    boom(a)\ndef skip_me(b):\n    c(b)\ndef g():\n    return d\n"
    alone = []
    for raises in (False, True):
        visitor = _Recorder(raises)
        try:
            MetadataWrapper(cst.parse_module(source)).visit(visitor)
        except ValueError:
            pass
        alone.append(visitor.calls)
    together = [_Recorder(False), _Recorder(True)]
    errors = visit_together(MetadataWrapper(cst.parse_module(source)), together)
    assert [v.calls for v in together] == alone
    assert "end skip_me" in alone[0] and "c" not in alone[0]  # skipped children, left node
    assert alone[1][-1] == "boom"  # the raising visitor stopped there, the other went on
    assert errors[0] is None and isinstance(errors[1], ValueError)
