"""How a native view uses an uploaded file it reads from ``request.files``, and whether a
Starlette ``UploadFile`` can stand in for werkzeug's ``FileStorage`` there.

Pure, like ``codemod/reads.py``, which calls it for each ``request.files`` read. A use answers
the same on both where it is one of:

- ``f.filename``, ``f.content_type`` (the part's filename and Content-Type header on both);
- ``f.read(...)``, which becomes ``f.file.read(...)`` (Starlette's ``read`` is a coroutine; its
  ``file`` is the werkzeug stream itself, see the runtime's ``forms``), and ``f.stream`` ->
  ``f.file``;
- a truth test, ``if f:``, ``not f``, ``x if f else y``: a FileStorage is false without a
  filename, an UploadFile always true, so it becomes ``f and f.filename`` (``f.filename`` for
  a required file, never None); ``f is None`` / ``is not None`` for one that may be missing;
- of a ``getlist`` list: ``len()``, a truth test, a ``for`` loop or comprehension whose
  variable is used as above.

Anything else (``save()``, ``mimetype``, ``headers``, passing it on) keeps the read Flask's. The
file object is the read itself, or a variable that a top-level ``name = <read>`` assigns once.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.view_tree import Tree

READ, STREAM, TEST, TEST_REQUIRED = "read", "stream", "test", "test_required"
KEPT = frozenset({"filename", "content_type"})
Uses = dict[cst.CSTNode, str]  # node -> READ | STREAM (an Attribute) or TEST | TEST_REQUIRED


def file_uses(tree: Tree, read: cst.CSTNode, shape: str, taken: set[str]) -> Uses | None:
    """The rewrites the uses of the file (or list, for ``getlist``) that ``read`` gives need;
    None when one has no equal. ``taken``: the view's parameter names."""
    each = _list_use if shape == "getlist" else _file_use
    holder = _holder(tree, read)
    if holder is None:
        return each(tree, read, shape == "required", taken)
    uses = _uses(tree, holder, taken)
    if uses is None:
        return None
    found: Uses = {}
    for use in uses:
        rewrite = each(tree, use, shape == "required", taken)
        if rewrite is None:
            return None
        found.update(rewrite)
    return found


def _holder(tree: Tree, read: cst.CSTNode) -> cst.Name | None:
    """The variable of a top-level ``name = <read>`` statement."""
    statement = tree.statements[tree.top[read]]
    if m.matches(statement, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())])])):
        assign = statement.body[0]  # type: ignore[attr-defined]
        if assign.value is read:
            return assign.targets[0].target
    return None


def _uses(tree: Tree, target: cst.Name, taken: set[str], within: cst.CSTNode | None = None) -> list[cst.Name] | None:
    """Every other use of the variable ``target`` assigns, all after it (inside ``within``, a
    comprehension, for its variable); None when it is assigned again, used in a nested function
    or before, or is a parameter of the view."""
    if target.value in taken:
        return None
    uses = []
    for name in tree.identifiers():
        if name.value != target.value or name is target:
            continue
        if name in tree.nested or _assigned(tree, name):
            return None
        if within is not None and within not in tree.ancestors(name):
            return None
        if within is None and tree.position[name] < tree.position[target]:
            return None
        uses.append(name)
    return uses


def _assigned(tree: Tree, name: cst.Name) -> bool:
    parent = tree.up(name)
    if isinstance(parent, (cst.For, cst.CompFor, cst.AugAssign, cst.AnnAssign, cst.NamedExpr)):
        return parent.target is name
    return isinstance(parent, (cst.AssignTarget, cst.AsName))


def _file_use(tree: Tree, node: cst.CSTNode, required: bool, taken: set[str]) -> Uses | None:
    parent = tree.up(node)
    if isinstance(parent, cst.Attribute) and parent.value is node:
        if isinstance(tree.up(parent), (cst.AssignTarget, cst.AugAssign, cst.Del)):
            return None
        attribute = parent.attr.value
        if attribute in KEPT:
            return {}
        if attribute == "stream":
            return {parent: STREAM}
        call = tree.up(parent)
        if attribute == "read" and isinstance(call, cst.Call) and call.func is parent:
            return {parent: READ}
        return None
    if _truth_test(tree, node):
        return {node: TEST_REQUIRED if required else TEST}
    if not required and m.matches(parent, m.Comparison(comparisons=[m.ComparisonTarget(m.Is() | m.IsNot(), m.Name("None"))])):
        return {} if parent.left is node else None  # type: ignore[union-attr]
    return None


def _list_use(tree: Tree, node: cst.CSTNode, required: bool, taken: set[str]) -> Uses | None:
    parent = tree.up(node)
    if _truth_test(tree, node):
        return {}  # a list on both sides
    if m.matches(parent, m.Arg(keyword=None, star="")) and m.matches(tree.up(parent), m.Call(m.Name("len"), [m.Arg()])):
        return {}
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node and isinstance(parent.target, cst.Name):
        within = tree.up(parent) if isinstance(parent, cst.CompFor) else None
        uses = _uses(tree, parent.target, taken, within)
        found: Uses = {}
        for use in uses if uses is not None else [None]:
            rewrite = _file_use(tree, use, True, taken) if use is not None else None
            if rewrite is None:
                return None
            found.update(rewrite)
        return found
    return None


def _truth_test(tree: Tree, node: cst.CSTNode) -> bool:
    parent = tree.up(node)
    if isinstance(parent, (cst.If, cst.While, cst.IfExp, cst.Assert)) and parent.test is node:
        return True
    return isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not) and parent.expression is node
