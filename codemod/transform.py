"""The contract between the engine and the transforms.

Every transform is a LibCST ``CSTTransformer`` that carries a ``CodemodContext`` (for the import
visitors) and a few class attributes (NAME, DESCRIPTION, FINDINGS, EXAMPLES). The engine runs all
transforms of a pass in ONE traversal of one metadata-wrapped tree (``Combined``), so metadata
is resolved once per pass and shared: re-wrapping per transform is what makes LibCST codemods
slow (../shared/MEASURED.md).

Why not LibCST's ``ContextAwareTransformer``: its matcher-decorator machinery introspects every
method of the class on each instantiation (about 16 ms here, for six transforms on every file)
and dispatches every node through ``getattr`` per transform. The transforms use ``m.matches``
but no matcher decorators, so ``Combined`` dispatches from a table built once per class.

Findings are attached to the statement that contains the flagged node; the marker comment is
written when the traversal leaves that statement, after every transform has had its say. A
transform that converts a reference to Flask away says so with ``consume``: imports whose every
use was consumed are removed in the same traversal (LibCST's RemoveImportsVisitor would need the
new tree's scopes resolved a second time). ``FlaskUses`` counts what stays: the Flask debt.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Iterator, Mapping, Sequence, Union

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    BaseAssignment,
    BuiltinAssignment,
    Scope,
)

from codemod.names import FullNames, Parents, Scopes
from codemod.vendor import canonical
from codemod.findings import Code, ignored_codes, marker_text

if TYPE_CHECKING:
    from codemod.project import Project

# What counts as a use of Flask: names from these packages (and flask_* extensions).
FLASK_PACKAGES = ("flask", "werkzeug")

# Nodes a marker comment can stand above.
Anchor = Union[cst.SimpleStatementLine, cst.BaseCompoundStatement, cst.Decorator]
ANCHORS = (cst.SimpleStatementLine, cst.BaseCompoundStatement, cst.Decorator)


@dataclass(frozen=True)
class Example:
    """A before/after pair that documents a transform and is run as a test.

    ``after=None`` means the code must not change. ``codes`` are the findings it must report.
    """

    before: str
    after: str | None = None
    codes: tuple[str, ...] = ()
    title: str = ""

    def __post_init__(self) -> None:
        # written indented, as triple-quoted strings inside the class that they document
        object.__setattr__(self, "before", textwrap.dedent(self.before))
        if self.after is not None:
            object.__setattr__(self, "after", textwrap.dedent(self.after))


@dataclass(frozen=True)
class Options:
    """What the user chose on the command line that changes how code is converted."""

    ignore_codes: frozenset[str] = frozenset()
    select_codes: frozenset[str] = frozenset()
    # FastAPI's own 422 for parameters that do not validate: FlaskBridge(app, flask_errors=False)
    native_validation: bool = False
    # the last step: where no Flask use is left, the Flask app and the bridge go (leave_flask)
    leave_flask: bool = True

    def reports(self, code: str) -> bool:
        if code in self.ignore_codes:
            return False
        return not self.select_codes or code in self.select_codes


@dataclass
class FileRun:
    """State shared by the transforms while one file is converted."""

    project: "Project"
    options: Options = field(default_factory=Options)
    findings: list[tuple[str, str]] = field(default_factory=list)
    # original anchor node -> marker lines to put above it
    pending: dict[cst.CSTNode, list[str]] = field(default_factory=dict)
    # the level of each route of the file (codemod/plan.py), for the report
    routes: list[dict[str, object]] = field(default_factory=list)
    flask_uses: int = 0  # references to names of flask, werkzeug and flask_* (FlaskUses)
    # local names chosen for imported things, shared by the transforms: (module, name) -> local
    local_names: dict[tuple[str, str], str] = field(default_factory=dict)
    # names to import in an existing ``from m import x`` statement, next to x:
    # (m as written, its relative level, x, x's alias, name, its alias)
    sibling_imports: set[tuple[str, int, str, str | None, str, str | None]] = field(default_factory=set)
    consumed: set[cst.CSTNode] = field(default_factory=set)
    reused: set[str] = field(default_factory=set)  # names converted code refers to anew
    # imports every use of which was converted: (module, name, asname); removed after the pass
    removable_imports: set[tuple[str, str, str | None]] = field(default_factory=set)
    # imports the converted code needs, (module, name, asname): given to AddImportsVisitor once
    # the traversal is over (see needed_imports)
    support_imports: set[tuple[str, str, str | None]] = field(default_factory=set)
    # what keeps Flask in the converted project ("path:line: what"; transforms/leave_flask.py)
    flask_blockers: list[str] = field(default_factory=list)

    def needed_imports(self) -> list[tuple[str, str, str | None]]:
        """The imports to add, each once. A name needed both under its own name and under an
        alias is imported as itself explicitly (``x as x, x as y``): LibCST's AddImportsVisitor
        cannot sort a plain and an aliased import of one name, and fails on the whole file."""
        aliased = {(module, name) for module, name, asname in self.support_imports if asname is not None}
        return sorted(
            ((module, name, name if asname is None and (module, name) in aliased else asname)
             for module, name, asname in self.support_imports),
            key=lambda needed: tuple(part or "" for part in needed),  # name None: ``import module``
        )


class Transform(cst.CSTTransformer):
    """Base class of every transform in ``transforms/``."""

    NAME: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    FINDINGS: ClassVar[Mapping[str, Code]] = {}
    EXAMPLES: ClassVar[Sequence[Example]] = ()
    # words a file must contain for this transform to look at it, beyond the project's own
    # (the engine's textual prefilter; see codemod/project.py's prefilter_tokens)
    PREFILTER: ClassVar[tuple[bytes, ...]] = ()
    # Scopes comes with the name provider at no extra cost; kind_of() reads it.
    METADATA_DEPENDENCIES = (FullNames, Parents, Scopes)

    def __init__(self, context: CodemodContext, run: FileRun) -> None:
        super().__init__()
        self.context = context
        self.run = run

    # -- names ---------------------------------------------------------------------------
    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """Fully qualified names of an expression (empty when it names nothing we know)."""
        names = self.get_metadata(FullNames, node, set())
        return {canonical(q.name) for q in names}

    def names(self, node: cst.CSTNode, *candidates: str) -> bool:
        """Whether ``node`` refers to one of ``candidates`` (fully qualified)."""
        return not self.qualified_names(node).isdisjoint(candidates)

    def assigned_values(self, name: cst.Name) -> list[cst.BaseExpression | None]:
        """What each binding of ``name`` in its scope assigns: the value of ``x = value`` or
        ``x: T = value``; None for any other binding (a parameter, an import, a loop target)."""
        scope = self.get_metadata(Scopes, name, None)
        if scope is None:
            return []
        values: list[cst.BaseExpression | None] = []
        for assignment in scope.assignments[name.value]:
            target = getattr(assignment, "node", None)
            parent = self.get_metadata(Parents, target, None) if target is not None else None
            if isinstance(parent, cst.AssignTarget):
                parent = self.get_metadata(Parents, parent, None)
            values.append(parent.value if isinstance(parent, (cst.Assign, cst.AnnAssign)) else None)
        return values

    def consume(self, node: cst.CSTNode) -> None:
        """Record that ``node`` (an original node referring to Flask) was converted away: an
        import all of whose uses were consumed is removed."""
        self.run.consumed.add(node)
        while isinstance(node, (cst.Attribute, cst.Call, cst.Subscript)):
            node = node.func if isinstance(node, cst.Call) else node.value
            self.run.consumed.add(node)

    def import_reference(
        self,
        original_node: cst.CSTNode,
        module: str,
        name: str,
        same: Callable[[str], bool] | None = None,
        replaces: bool = True,
        alias: str | None = None,
        supersedes: Callable[[str], bool] | None = None,
    ) -> cst.Name:
        """The name to put in place of ``original_node`` to refer to ``name`` of ``module``,
        which is imported under that name. An import in the code of ``original_node``'s
        qualified name, of ``module.name``, or of a name for which ``same`` says so, imports the
        same thing (with ``replaces=False``, what ``original_node`` names is not the same thing:
        ``FastAPI`` put where ``Flask`` was).

        It is ``name`` itself only where nothing else goes by that name: a wrapper
        ``def url_for(...)`` calling ``flask.url_for`` must not end up calling itself. In order of
        preference: a name the module already imports the same thing under (``from flask_login
        import login_required as must_login`` for ``flask_login.login_required``), a local name
        already chosen for it, ``name``, then ``<module>_<name>`` (``flask_url_for``). With
        ``alias``, that name instead of ``name`` (``StarletteHTTPException``, where the plain name
        would be read as FastAPI's), then ``<alias>_2``...

        ``supersedes``: the imported names the new import takes the place of (werkzeug's
        ``generate_password_hash`` for the runtime's). The caller converts every use of them, so
        their imports go; the new import takes the name they were imported under."""
        scope = self._scope_of(original_node)
        exact = {f"{module}.{name}", *(self.qualified_names(original_node) if replaces else ())}
        also = same

        def same(imported: str) -> bool:
            return imported in exact or (also is not None and also(imported)) or (supersedes is not None and supersedes(imported))

        owner = original_node.value if isinstance(original_node, cst.Attribute) else None
        prefix = owner.value if isinstance(owner, cst.Name) else module.rpartition(".")[2]
        chosen = sorted({asname or name for m_, n, asname in self.run.support_imports if (m_, n) == (module, name)})
        candidates = itertools.chain(
            _imported_names(scope, same),
            chosen,
            itertools.chain([alias], (f"{alias}_{i}" for i in itertools.count(2))) if alias else (name, f"{prefix}_{name}"),
            (f"{prefix}_{name}_{i}" for i in itertools.count(2)),
        )
        local = next(c for c in candidates if scope is None or _free(scope, c, same))
        self._need_import(module, name, local)
        superseded = scope is not None and supersedes is not None and any(
            supersedes(_imported(a) or "") for a in scope[local]
        )
        if not superseded:
            self.run.reused.add(local)  # an import of it already there stays, whatever else was consumed
        return cst.Name(local)

    def _need_import(self, module: str, name: str, asname: str | None) -> None:
        self.run.support_imports.add((module, name, asname if asname != name else None))

    def _scope_of(self, node: cst.CSTNode) -> Scope | None:
        while True:
            scope = self.get_metadata(Scopes, node, None)
            if scope is not None or not isinstance(node, (cst.Attribute, cst.Call)):
                return scope
            node = node.value if isinstance(node, cst.Attribute) else node.func

    def parameter_annotations(self, name: cst.Name) -> list[cst.BaseExpression]:
        """The annotations of the parameters that ``name`` may refer to."""
        scope = self.get_metadata(Scopes, name, None)
        if scope is None:
            return []
        params = [a.node for a in scope[name.value] if isinstance(getattr(a, "node", None), cst.Param)]
        return [p.annotation.annotation for p in params if p.annotation is not None]

    def kind_of(self, node: cst.BaseExpression) -> str | None:
        """'app' or 'blueprint' when ``node`` is a Flask app or blueprint the project defines."""
        return self.run.project.kind_of(self, node)

    # -- findings ------------------------------------------------------------------------
    def flag(self, node: cst.CSTNode, key: str, **fields: object) -> None:
        """Record the finding ``key`` of this transform against ``node``'s statement."""
        code = self.FINDINGS[key]
        if not self.run.options.reports(code.code):
            return
        anchor = self.anchor_of(node)
        if anchor is None or _silenced(anchor, code.code):
            return
        message = code.message(**fields)
        lines = self.run.pending.setdefault(anchor, [])
        text = marker_text(code.code, message)
        if text not in lines:  # one marker, and one finding, per statement and message
            lines.append(text)
            self.run.findings.append((code.code, message))

    def anchor_of(self, node: cst.CSTNode) -> Anchor | None:
        current: cst.CSTNode | None = node
        while current is not None:
            if isinstance(current, ANCHORS):
                break
            current = self.get_metadata(Parents, current, None)
        if isinstance(current, cst.Decorator):
            # Comments above the first decorator belong to the function (or class) when the file
            # is parsed again: anchor there, so that a rerun finds its marker.
            owner = self.get_metadata(Parents, current, None)
            if isinstance(owner, (cst.FunctionDef, cst.ClassDef)) and owner.decorators[0] is current:
                return owner
        return current


def _imported(assignment: BaseAssignment) -> str | None:
    """The qualified name an ``import``/``from ... import`` binding imports, else None."""
    statement = getattr(assignment, "node", None)
    if isinstance(statement, cst.ImportFrom):
        if statement.relative or statement.module is None or isinstance(statement.names, cst.ImportStar):
            return None
        module = get_full_name_for_node(statement.module)
        for alias in statement.names:
            if (alias.evaluated_alias or alias.evaluated_name) == assignment.name:
                return f"{module}.{alias.evaluated_name}"
    if isinstance(statement, cst.Import):
        for alias in statement.names:
            if (alias.evaluated_alias or alias.evaluated_name) == assignment.name:
                return alias.evaluated_name
    return None


def _compatible(assignment: BaseAssignment, same: Callable[[str], bool]) -> bool:
    """A binding a new import of the same thing may replace: an import of it that the code
    uses (its uses are converted to the support name too; an unused one is left alone)."""
    imported = _imported(assignment)
    return imported is not None and same(imported) and bool(assignment.references)


def _imported_names(scope: Scope | None, same: Callable[[str], bool]) -> list[str]:
    """The module-level names that the code imports the ``same`` thing under."""
    if scope is None:
        return []
    return sorted({a.name for a in scope.globals.assignments if _compatible(a, same)})


def _free(scope: Scope, name: str, same: Callable[[str], bool]) -> bool:
    """Whether a module-level import of the ``same`` thing as ``name`` is what ``name`` means in
    ``scope``: nothing else binds it there, in an enclosing scope or among the builtins."""
    for assignment in scope[name]:
        if isinstance(assignment, BuiltinAssignment) or not _compatible(assignment, same):
            return False
    return True


def _comments_of(anchor: Anchor) -> Iterator[str]:
    for line in anchor.leading_lines:
        if line.comment is not None:
            yield line.comment.value
    if isinstance(anchor, cst.SimpleStatementLine) and anchor.trailing_whitespace.comment:
        yield anchor.trailing_whitespace.comment.value


def _silenced(anchor: Anchor, code: str) -> bool:
    silenced = ignored_codes(_comments_of(anchor))
    return bool(silenced) and ("*" in silenced or code in silenced)


def add_markers(node: cst.CSTNode, lines: Sequence[str]) -> cst.CSTNode:
    """Put marker comments above ``node`` unless the same ones are already there."""
    leading = getattr(node, "leading_lines", None)
    if leading is None:
        return node
    present = {line.comment.value for line in leading if line.comment is not None}
    new = [cst.EmptyLine(comment=cst.Comment(text)) for text in lines if text not in present]
    if not new:
        return node
    return node.with_changes(leading_lines=[*leading, *new])


@functools.lru_cache(maxsize=None)
def _hooks(cls: type) -> tuple[dict[str, str], dict[str, str]]:
    """{node type: method name} of a transform's visit_<Type> and leave_<Type> methods."""
    visits, leaves = {}, {}
    for name in dir(cls):
        prefix, _, node_type = name.partition("_")
        if name == "leave_anchor":
            continue  # called by Combined for statements and decorators
        if prefix not in ("visit", "leave") or getattr(cls, name) is getattr(cst.CSTTransformer, name, None):
            continue  # not a hook, or the base class's no-op
        if not isinstance(getattr(cst, node_type, None), type):
            raise TypeError(f"{cls.__name__}.{name}: Combined dispatches visit_<Node>/leave_<Node> only")
        (visits if prefix == "visit" else leaves)[node_type] = name
    return visits, leaves


class Combined(cst.CSTTransformer):
    """Runs several transforms in one traversal: each sees the node after the ones before it.

    Metadata is looked up on original nodes, so every transform can resolve names even after
    an earlier one rewrote a subtree. Children are always visited (another transform may need
    them), so what a ``visit_*`` method returns is ignored.
    """

    def __init__(self, transforms: Sequence[Transform], run: FileRun) -> None:
        super().__init__()
        self.transforms = transforms
        self.run = run
        self.visits: dict[str, list] = {}
        self.leaves: dict[str, list] = {}
        # leave_anchor(original) runs when the traversal leaves a statement or decorator, after
        # every leave_* of that node and before its markers are written
        self.anchor_hooks = [t.leave_anchor for t in transforms if hasattr(t, "leave_anchor")]
        for transform in transforms:
            visits, leaves = _hooks(type(transform))
            for node_type, name in visits.items():
                self.visits.setdefault(node_type, []).append(getattr(transform, name))
            for node_type, name in leaves.items():
                self.leaves.setdefault(node_type, []).append(getattr(transform, name))

    def get_inherited_dependencies(self):  # type: ignore[override]
        deps: set = set()
        for transform in self.transforms:
            deps |= set(transform.get_inherited_dependencies())
        return frozenset(deps)

    @contextlib.contextmanager
    def resolve(self, wrapper):  # type: ignore[override]
        with contextlib.ExitStack() as stack:
            for transform in self.transforms:
                stack.enter_context(transform.resolve(wrapper))
            yield

    def on_visit(self, node: cst.CSTNode) -> bool:
        for visit in self.visits.get(type(node).__name__, ()):
            visit(node)
        return True

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        result = updated_node
        for leave in self.leaves.get(type(original_node).__name__, ()):
            if isinstance(result, cst.FlattenSentinel):
                # a transform put nodes next to this one (a model class before a view, a
                # dependency after a getter): the later ones see the node that stands for it
                nodes = list(result.nodes)
                index = next((i for i, n in enumerate(nodes) if type(n) is type(original_node)), None)
                if index is None:
                    leave(original_node, original_node)  # gone: the later ones only keep their books (a stack of functions)
                    continue
                left = leave(original_node, nodes[index])
                # a later one puts nodes next to it too: one flat sequence, in order
                nodes[index:index + 1] = list(left.nodes) if isinstance(left, cst.FlattenSentinel) else [left]  # type: ignore[list-item]
                result = cst.FlattenSentinel(nodes)
                continue
            if not isinstance(result, cst.CSTNode):
                leave(original_node, original_node)  # removed: the same
                continue
            result = leave(original_node, result)
        if isinstance(original_node, ANCHORS):
            for hook in self.anchor_hooks:
                hook(original_node)
        lines = self.run.pending.pop(original_node, None)
        if lines and isinstance(result, cst.CSTNode):
            result = add_markers(result, lines)
        elif lines and isinstance(result, cst.FlattenSentinel):
            # the markers go to the node that stands for the original (same type), else the first
            nodes = list(result.nodes)
            index = next((i for i, n in enumerate(nodes) if type(n) is type(original_node)), 0)
            nodes[index] = add_markers(nodes[index], lines)
            result = cst.FlattenSentinel(nodes)
        return result

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


def import_source(statement: cst.ImportFrom) -> str:
    """``from ..a.b import x`` -> "..a.b": the module as written, relative dots included."""
    module = get_full_name_for_node(statement.module) if statement.module is not None else ""
    return "." * len(statement.relative) + (module or "")


class FlaskUses(Transform):
    """Counts the references to names of Flask, werkzeug and Flask extensions (``flask_*``)
    that the converted file keeps: the Flask debt the report shows. Converted code adds none, so
    the original tree's references less those a transform consumed are the converted file's.
    Imports are not counted (their names are bindings, not uses). An import of one of those
    packages every use of which was consumed goes (``FileRun.removable_imports``); one the code
    never used stays (a re-export)."""

    NAME = "flask_uses"

    def __init__(self, context: CodemodContext, run: FileRun) -> None:
        super().__init__(context, run)
        self.uses: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        for name in self.qualified_names(node):
            if _is_flask_module(name):
                self.uses.append(node)
                return

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        consumed = self.run.consumed
        self.run.flask_uses = sum(1 for node in self.uses if node not in consumed)
        if not consumed:
            return updated_node
        scopes = {scope for scope in self.metadata[Scopes].values() if scope is not None}
        removable, kept = set(), set()
        for scope in scopes:
            for assignment in scope.assignments:
                statement = getattr(assignment, "node", None)
                if not isinstance(statement, (cst.Import, cst.ImportFrom)):
                    continue
                keys = _import_keys(statement, assignment.name)
                if assignment.name in self.run.reused:
                    kept |= keys  # converted code refers to it anew
                elif (references := [r for r in assignment.references if not self._argument_string(r.node)]) and all(
                    reference.node in consumed for reference in references
                ):
                    removable |= keys
                else:
                    kept |= keys  # the same import elsewhere (in a function) still in use, or a re-export
        self.run.removable_imports |= removable - kept
        return updated_node


    def _argument_string(self, node: cst.CSTNode) -> bool:
        """A string given to a call (``role="admin"``) that LibCST, inside an annotation
        (``Annotated[Any, Depends(auth.login_required(role="admin"))]``), reads as a forward
        reference to the name ``admin``: it is none."""
        return isinstance(node, cst.BaseString) and isinstance(self.get_metadata(Parents, node, None), cst.Arg)


def _is_flask_module(name: str) -> bool:
    package = name.partition(".")[0]
    return package in FLASK_PACKAGES or package.startswith("flask_")


def _import_keys(statement: cst.Import | cst.ImportFrom, bound: str) -> set[tuple[str, str, str | None]]:
    """(module as written, name, asname) of the import in ``statement`` that binds ``bound``:
    a Flask import, or a project one (``from .db import get_db``) whose uses were all converted."""
    if isinstance(statement, cst.ImportFrom):
        if isinstance(statement.names, cst.ImportStar):
            return set()
        module = import_source(statement)
        return {
            (module, alias.evaluated_name, alias.evaluated_alias)
            for alias in statement.names
            if (alias.evaluated_alias or alias.evaluated_name) == bound
        }
    return {
        (alias.evaluated_name, alias.evaluated_name, alias.evaluated_alias)
        for alias in statement.names
        if (alias.evaluated_alias or alias.evaluated_name.partition(".")[0]) == bound
    }
