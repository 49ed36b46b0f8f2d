"""The converter's visitors that skip LibCST's attribute hooks (codemod/visitors.py) define none."""

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
