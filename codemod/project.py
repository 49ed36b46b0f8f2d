"""Whole-program facts, gathered in a first pass before any file is transformed.

A blueprint is often defined in one module, given routes in a second and registered (with its
url_prefix) in a third, inside an app factory. Each file alone cannot tell that ``bp`` is a
Flask blueprint or that its prefix is overridden at registration, so the first pass records,
by fully qualified name: the Flask apps, the blueprints, every ``register_blueprint`` call and
the app factories (functions that return an app). Flask-SQLAlchemy's ``db`` is defined in one
module and its models in another, and views query them from a third: the first pass also records
the ``SQLAlchemy()`` instances and every class with its bases, so that ``db.Model`` subclasses
(models) are known everywhere. Facts are small and picklable, so worker processes gather them in
parallel and the parent merges them.
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
SQLALCHEMY = "flask_sqlalchemy.SQLAlchemy"
# Cheap textual test: a file that says none of these defines, registers or returns no app or
# blueprint, no Flask-HTTPAuth object, no Flask-SQLAlchemy instance and no model, so its metadata is never resolved in the
# facts pass (a model of a model imports it, most often from a "models" module).
FACTS_PREFILTER = (
    b"Flask", b"Blueprint", b"register_blueprint", b"flask_httpauth", b"SQLAlchemy", b"Model", b"model", b"wraps"
)


@dataclass(frozen=True)
class ClassFacts:
    """What the Flask-SQLAlchemy transform needs to know of a class defined in the project."""

    bases: tuple[str, ...]  # fully qualified names of its bases
    names_table: bool  # it sets __tablename__ or __table__ itself
    abstract: bool  # __abstract__ = True


# The declarative base of the models of a Flask-SQLAlchemy ``db``: ``model_class=`` when it is a
# plain SQLAlchemy base, else a class generated next to ``db`` under the first free name.
DECLARATIVE_BASES = frozenset(
    {"sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta", "sqlalchemy.orm.decl_api.DeclarativeBase"}
)
BASE_NAMES = ("Base", "Model", "DeclarativeModel")
# What SQLAlchemy(...) may be given for the conversion to keep its meaning.
DATABASE_OPTIONS = frozenset(
    {"app", "metadata", "model_class", "engine_options", "session_options", "add_models_to_shell", "disable_autonaming"}
)


@dataclass(frozen=True)
class DatabaseFacts:
    """A ``db = SQLAlchemy(...)`` of the project, as the Flask-SQLAlchemy transform converts it."""

    base: str | None  # the declarative base's name, in db's module; None: db is not converted
    generated: bool  # the base is a class written next to db (no model_class=)
    autonaming: bool  # models without __tablename__ get Flask-SQLAlchemy's name for their table


@dataclass
class Project:
    apps: set[str] = field(default_factory=set)
    blueprints: dict[str, bool] = field(default_factory=dict)  # name -> has its own url_prefix
    # blueprint name -> one entry per register_blueprint call: does it pass url_prefix?
    registrations: dict[str, list[bool]] = field(default_factory=dict)
    factories: set[str] = field(default_factory=set)
    auth_objects: set[str] = field(default_factory=set)  # Flask-HTTPAuth objects, by name
    # the project's check-then-call decorators (see _is_guard), and the factories that make them
    guards: set[str] = field(default_factory=set)
    guard_factories: set[str] = field(default_factory=set)
    databases: dict[str, DatabaseFacts] = field(default_factory=dict)  # flask_sqlalchemy.SQLAlchemy()
    classes: dict[str, ClassFacts] = field(default_factory=dict)  # every class that has bases

    def merge(self, other: "Project") -> None:
        self.apps |= other.apps
        self.blueprints.update(other.blueprints)
        for name, overrides in other.registrations.items():
            self.registrations.setdefault(name, []).extend(overrides)
        self.factories |= other.factories
        self.auth_objects |= other.auth_objects
        self.guards |= other.guards
        self.guard_factories |= other.guard_factories
        self.databases.update(other.databases)
        self.classes.update(other.classes)

    def database_of(self, name: str) -> str | None:
        """The ``SQLAlchemy()`` instance whose ``Model`` a class (by name) derives from, if any:
        directly (``db.Model``) or through another model or an abstract one."""
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            facts = self.classes.get(current)
            if facts is None or current in seen:
                continue
            seen.add(current)
            for base in facts.bases:
                database, _, attribute = base.rpartition(".")
                if attribute == "Model" and database in self.databases:
                    return database
                pending.append(base)
        return None

    @property
    def prefilter_tokens(self) -> set[bytes]:
        """Words of which a file needs at least one to have anything to convert."""
        names = self.apps | set(self.blueprints) | self.factories | self.auth_objects | set(self.databases)
        names |= {c for c in self.classes if self.database_of(c) is not None}  # models: User.query
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
        self.module_names: set[str] = set()  # what the module binds at its top level
        self.nesting = 0  # classes and functions around the node visited

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
        # db = SQLAlchemy(...) at module level: the form the Flask-SQLAlchemy transform converts
        if self.nesting == 0 and len(node.targets) == 1 and isinstance(node.value, cst.Call):
            if SQLALCHEMY in self._names(node.value.func):
                for name in self._names(node.targets[0].target):
                    self.facts.databases[name] = self._database(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._record_targets([node.target], node.value)

    def visit_Call(self, node: cst.Call) -> None:
        if m.matches(node.func, m.Attribute(attr=m.Name("register_blueprint"))) and node.args:
            overrides = any(m.matches(a.keyword, m.Name("url_prefix")) for a in node.args)
            for name in self._names(node.args[0].value):
                self.facts.registrations.setdefault(name, []).append(overrides)

    def visit_Module(self, node: cst.Module) -> None:
        self.module_names = {
            name.value
            for statement in node.body
            for name in _bound_names(statement)
        }

    def _database(self, call: cst.Call) -> DatabaseFacts:
        options = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        autonaming = not m.matches(options.get("disable_autonaming", cst.Name("False")), m.Name("True"))
        positional = [a for a in call.args if a.keyword is None]
        if set(options) - DATABASE_OPTIONS or len(positional) > 1 or any(a.star for a in call.args):
            return DatabaseFacts(None, False, autonaming)
        model_class = options.get("model_class")
        if model_class is None:
            base = next((n for n in BASE_NAMES if n not in self.module_names), None)
            return DatabaseFacts(base, True, autonaming)
        facts = self.facts.classes.get(next(iter(self._names(model_class)), ""))
        if "metadata" in options or facts is None or not DECLARATIVE_BASES & set(facts.bases):
            return DatabaseFacts(None, False, autonaming)
        assert isinstance(model_class, cst.Name)
        return DatabaseFacts(model_class.value, False, autonaming)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.nesting += 1
        if not node.bases:
            return
        bases = tuple(sorted(name for arg in node.bases for name in self._names(arg.value)))
        assigned = {
            target.value: statement.value
            for line in node.body.body
            if isinstance(line, cst.SimpleStatementLine)
            for statement in line.body
            if isinstance(statement, (cst.Assign, cst.AnnAssign)) and statement.value is not None
            for target in (
                [t.target for t in statement.targets] if isinstance(statement, cst.Assign) else [statement.target]
            )
            if isinstance(target, cst.Name)
        }
        # a @declared_attr def __tablename__(cls) names the table too
        functions = {line.name.value for line in node.body.body if isinstance(line, cst.FunctionDef)}
        for name in self._names(node.name):
            self.facts.classes[name] = ClassFacts(
                bases,
                names_table=bool({"__tablename__", "__table__"} & (set(assigned) | functions)),
                abstract="__abstract__" in assigned and m.matches(assigned["__abstract__"], m.Name("True")),
            )

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.nesting -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.nesting == 0:
            if self._is_guard(node):
                self.facts.guards |= self._names(node.name)
            else:
                body = _body(node)
                inner = body[0] if len(body) == 2 and _returns_name(body[1], body[0]) else None
                if isinstance(inner, cst.FunctionDef) and self._is_guard(inner):
                    self.facts.guard_factories |= self._names(node.name)
        self.functions.append(node)
        self.nesting += 1

    def _is_guard(self, function: cst.FunctionDef) -> bool:
        """``def deco(view)`` whose body is ``@functools.wraps(view) def wrapped(*args, **kwargs):
        <checks>; return view(*args, **kwargs)`` and ``return wrapped``, the checks using neither
        the view nor its arguments: what it does before calling the view can run as a dependency."""
        params = function.params
        if len(params.params) != 1 or params.star_arg is not cst.MaybeSentinel.DEFAULT and params.star_arg is not None:
            return False
        if params.kwonly_params or params.star_kwarg is not None or params.posonly_params:
            return False
        view = params.params[0].name.value
        body = _body(function)
        if len(body) != 2 or not isinstance(body[0], cst.FunctionDef) or not _returns_name(body[1], body[0]):
            return False
        wrapped = body[0]
        if len(wrapped.decorators) != 1 or not isinstance(wrapped.decorators[0].decorator, cst.Call):
            return False
        wraps = wrapped.decorators[0].decorator
        if "functools.wraps" not in self._names(wraps.func) or not m.matches(wraps, m.Call(args=[m.Arg(m.Name(view))])):
            return False
        inner = wrapped.params
        if inner.params or inner.posonly_params or inner.kwonly_params:
            return False
        if not isinstance(inner.star_arg, cst.Param) or not isinstance(inner.star_kwarg, cst.Param):
            return False
        args, kwargs = inner.star_arg.name.value, inner.star_kwarg.name.value
        statements = list(wrapped.body.body)
        call = m.Call(func=m.Name(view), args=[m.Arg(m.Name(args), star="*"), m.Arg(m.Name(kwargs), star="**")])
        if not statements or not m.matches(statements[-1], m.SimpleStatementLine([m.Return(call)])):
            return False
        used = {n.value for s in statements[:-1] for n in m.findall(s, m.Name())}  # type: ignore[union-attr]
        return not used & {view, args, kwargs} and not any(m.findall(s, m.Yield() | m.Await()) for s in statements[:-1])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()
        self.nesting -= 1

    def visit_Return(self, node: cst.Return) -> None:
        if self.functions and node.value is not None and self._names(node.value) & self.facts.apps:
            self.facts.factories |= self._names(self.functions[-1].name)


def _body(function: cst.FunctionDef) -> list[cst.BaseStatement]:
    """A function's statements, its docstring left out."""
    body = list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []
    if body and m.matches(body[0], m.SimpleStatementLine([m.Expr(m.SimpleString() | m.ConcatenatedString())])):
        body = body[1:]
    return body


def _returns_name(statement: cst.BaseStatement, function: cst.BaseStatement) -> bool:
    """``return f`` for the function ``f`` defined just before."""
    return isinstance(function, cst.FunctionDef) and m.matches(
        statement, m.SimpleStatementLine([m.Return(m.Name(function.name.value))])
    )


def _bound_names(statement: cst.CSTNode) -> list[cst.Name]:
    """The names a module-level statement binds (classes, functions, assignments, imports)."""
    if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
        return [statement.name]
    if not isinstance(statement, cst.SimpleStatementLine):
        return []
    names: list[cst.Name] = []
    for small in statement.body:
        if isinstance(small, cst.Assign):
            names += [t.target for t in small.targets if isinstance(t.target, cst.Name)]
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            names.append(small.target)
        elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
            for alias in small.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(bound, cst.Name):
                    names.append(bound)
    return names


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
