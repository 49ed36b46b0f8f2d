"""Whole-program facts, gathered in a first pass before any file is transformed.

A blueprint is often defined in one module, given routes in a second and registered (with its
url_prefix) in a third, inside an app factory. Each file alone cannot tell that ``bp`` is a
Flask blueprint or that its prefix is overridden at registration, so the first pass records,
by fully qualified name: the Flask apps, the blueprints, every ``register_blueprint`` call and
the app factories (functions that return an app). Facts are small and picklable, so worker
processes gather them in parallel and the parent merges them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m
from libcst.metadata import FullyQualifiedNameProvider, MetadataWrapper
from libcst.metadata.name_provider import ModuleNameAndPackage

if TYPE_CHECKING:
    from codemod.transform import Transform

FLASK = "flask.Flask"
BLUEPRINT = "flask.Blueprint"
# Flask-HTTPAuth objects: their login_required protects views in other modules too.
HTTPAUTH_CLASSES = frozenset(
    {"flask_httpauth.HTTPBasicAuth", "flask_httpauth.HTTPTokenAuth", "flask_httpauth.MultiAuth"}
)
# Cheap textual test: a file that says none of these defines, registers or returns no app or
# blueprint, so its metadata is never resolved in the facts pass.
FACTS_PREFILTER = (b"Flask", b"Blueprint", b"register_blueprint", b"flask_httpauth")


@dataclass
class Project:
    apps: set[str] = field(default_factory=set)
    blueprints: dict[str, bool] = field(default_factory=dict)  # name -> has its own url_prefix
    # blueprint name -> one entry per register_blueprint call: does it pass url_prefix?
    registrations: dict[str, list[bool]] = field(default_factory=dict)
    factories: set[str] = field(default_factory=set)
    auth_objects: set[str] = field(default_factory=set)  # Flask-HTTPAuth objects, by name

    def merge(self, other: "Project") -> None:
        self.apps |= other.apps
        self.blueprints.update(other.blueprints)
        for name, overrides in other.registrations.items():
            self.registrations.setdefault(name, []).extend(overrides)
        self.factories |= other.factories
        self.auth_objects |= other.auth_objects

    @property
    def prefilter_tokens(self) -> set[bytes]:
        """Words of which a file needs at least one to have anything to convert."""
        names = self.apps | set(self.blueprints) | self.factories | self.auth_objects
        # b"TODO[F2F": a converted file still reports the markers an earlier run left in it.
        return {b"flask", b"TODO[F2F"} | {n.rsplit(".", 1)[-1].encode() for n in names}

    def kind(self, names: set[str]) -> str | None:
        if names & self.apps:
            return "app"
        if any(n in self.blueprints for n in names):
            return "blueprint"
        return None

    def kind_of(self, transform: "Transform", node: cst.BaseExpression) -> str | None:
        """'app' or 'blueprint' for an expression naming one, following local assignments
        from app factories (``app = create_app()``) and direct factory calls."""
        kind = self.kind(transform.qualified_names(node))
        if kind is not None:
            return kind
        if isinstance(node, cst.Call):
            return "app" if transform.qualified_names(node.func) & self.factories else None
        if not isinstance(node, cst.Name):
            return None
        for value in transform.assigned_values(node):
            if isinstance(value, cst.Call) and transform.qualified_names(value.func) & self.factories:
                return "app"
        # a parameter annotated as one: def register_error_handlers(app: Flask)
        for annotation in transform.parameter_annotations(node):
            names = transform.qualified_names(annotation)
            if FLASK in names:
                return "app"
            if BLUEPRINT in names:
                return "blueprint"
        return None

    def prefix_overridden(self, blueprint: str) -> bool | None:
        """True when every registration overrides the blueprint's prefix, False when none
        does, None when some do and some do not (FastAPI cannot express that)."""
        overrides = self.registrations.get(blueprint, [])
        if not overrides or not any(overrides):
            return False
        return True if all(overrides) else None


def module_of(path: Path) -> ModuleNameAndPackage:
    """The dotted module name a file is imported as, found by walking up its packages."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    # A folder without __init__.py inside a package is a namespace package (flask/sansio).
    while folder.parent != folder and ((folder / "__init__.py").exists() or (folder.parent / "__init__.py").exists()):
        parts.insert(0, folder.name)
        folder = folder.parent
    name = ".".join(parts) or path.parent.name
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    return ModuleNameAndPackage(name, package)


def wrap(module: cst.Module, path: Path) -> MetadataWrapper:
    # The module was parsed for this wrapper alone, so the defensive deep copy is skipped.
    return MetadataWrapper(
        module, unsafe_skip_copy=True, cache={FullyQualifiedNameProvider: module_of(path)}
    )


class _FactsVisitor(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (FullyQualifiedNameProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.facts = Project()
        self.functions: list[cst.FunctionDef] = []

    def _names(self, node: cst.CSTNode) -> set[str]:
        return {q.name for q in self.get_metadata(FullyQualifiedNameProvider, node, set())}

    def _record_targets(self, targets: list[cst.BaseExpression], value: cst.BaseExpression | None) -> None:
        if not isinstance(value, cst.Call):
            return
        called = self._names(value.func)
        for target in targets:
            names = self._names(target)
            if FLASK in called:
                self.facts.apps |= names
            elif BLUEPRINT in called:
                has_prefix = any(m.matches(a.keyword, m.Name("url_prefix")) for a in value.args)
                for name in names:
                    self.facts.blueprints[name] = has_prefix
            elif called & HTTPAUTH_CLASSES:
                self.facts.auth_objects |= names

    def visit_Assign(self, node: cst.Assign) -> None:
        self._record_targets([t.target for t in node.targets], node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._record_targets([node.target], node.value)

    def visit_Call(self, node: cst.Call) -> None:
        if m.matches(node.func, m.Attribute(attr=m.Name("register_blueprint"))) and node.args:
            overrides = any(m.matches(a.keyword, m.Name("url_prefix")) for a in node.args)
            for name in self._names(node.args[0].value):
                self.facts.registrations.setdefault(name, []).append(overrides)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Return(self, node: cst.Return) -> None:
        if self.functions and node.value is not None and self._names(node.value) & self.facts.apps:
            self.facts.factories |= self._names(self.functions[-1].name)


def gather(path: Path, source: bytes) -> Project:
    """The facts one file contributes (nothing when it does not parse: pass 2 reports that)."""
    if not any(token in source for token in FACTS_PREFILTER):
        return Project()
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return Project()
    visitor = _FactsVisitor()
    try:
        wrap(module, path).visit(visitor)
    except Exception:  # the transform pass meets the same problem and reports it (F2F002)
        return Project()
    return visitor.facts
