"""Whether a Flask-SQLAlchemy project can leave the extension for plain SQLAlchemy 2.0, and how.

``transforms/flask_sqlalchemy.py`` writes the conversion; this module proves it safe for the whole
project at once (models, views and the app factory change together, or nothing does). It holds
where every use of the one ``db = SQLAlchemy()`` object (no options) is one of:

- ``db.Model`` as the only base of a model class (its table keeps Flask-SQLAlchemy's name);
- ``db.<x>`` for a name of ``sqlalchemy`` / ``sqlalchemy.orm`` the extension re-exports
  (``db.Column``, ``db.select``, ``db.relationship``...);
- ``db.init_app(app)``, ``db.create_all()`` / ``db.drop_all()`` where the app is made (its
  factory and the hooks defined in it, or module level);
- in a native view: ``db.session.<method>(...)``, ``db.engine``, ``db.get_or_404`` /
  ``first_or_404`` / ``one_or_404`` / ``paginate``;
- ``Model.query.<chain>.<terminal>(...)`` in a native view or in a classmethod of the model that
  views call as ``Model.method(...)``, with a chain of ``filter_by``, ``filter``, ``where``,
  ``order_by``, ``limit``, ``offset`` and a terminal that has a ``select()`` form.

Anything else (an option of ``SQLAlchemy(...)``, ``SQLALCHEMY_BINDS``, ``db.session`` in a script
or a test, a model inheriting another) keeps the whole project on Flask-SQLAlchemy, with the
reason in ``problem``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node
from libcst.metadata import FullyQualifiedNameProvider, MetadataWrapper

from codemod.flask_sqlalchemy_async import EXTENSION, SESSION_METHODS

# db.<x> Flask-SQLAlchemy takes from sqlalchemy (else sqlalchemy.orm): what the converter imports
CORE_NAMES = frozenset({
    "Column", "Table", "ForeignKey", "ForeignKeyConstraint", "UniqueConstraint", "CheckConstraint", "Index",
    "PrimaryKeyConstraint", "Integer", "BigInteger", "SmallInteger", "String", "Text", "Unicode", "UnicodeText",
    "Boolean", "Float", "Numeric", "DateTime", "Date", "Time", "Interval", "LargeBinary", "JSON", "Enum", "Uuid",
    "select", "insert", "update", "delete", "func", "and_", "or_", "not_", "desc", "asc", "text", "literal",
    "case", "cast", "null", "true", "false", "exists", "literal_column", "column", "tuple_", "distinct", "inspect",
    "MetaData",
})
ORM_NAMES = frozenset({"relationship", "backref", "mapped_column", "Mapped", "column_property", "joinedload",
                       "selectinload", "subqueryload", "aliased", "validates", "synonym", "deferred"})
HELPERS = frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate"})
CHAIN = frozenset({"filter_by", "filter", "where", "order_by", "limit", "offset"})
# Query terminals with a select() form; get / get_or_404 only right after ``query``
TERMINALS = frozenset({"first", "all", "count", "one", "one_or_none", "first_or_404", "paginate", "delete"})
KEYED = frozenset({"get", "get_or_404"})


@dataclass(frozen=True)
class SqlaUse:
    dotted: str  # qualified, through calls (``pkg.models.Author.query.filter_by.first``)
    owner: str | None  # the module-level function, or ``pkg.mod.Class.method``; None: module or class body
    kind: str  # "call", "base" or "attr"
    called: frozenset[str] = frozenset()  # the parts of ``dotted`` that are called (``x.get_or_404`` of ``x.get_or_404(1).y``)
    statement: bool = False  # the call is a statement of its own (its value is not used)


@dataclass
class SqlaFileFacts:
    uses: list[SqlaUse] = field(default_factory=list)
    makers: dict[str, int] = field(default_factory=dict)  # db = SQLAlchemy(...) -> its arguments
    classmethods: set[str] = field(default_factory=set)  # pkg.mod.Class.method
    binds: bool = False  # SQLALCHEMY_BINDS is named
    own_db: set[str] = field(default_factory=set)  # functions binding a name ``db`` of their own (the session's parameter)

    def merge(self, other: SqlaFileFacts) -> None:
        self.uses += other.uses
        self.makers.update(other.makers)
        self.classmethods |= other.classmethods
        self.binds |= other.binds
        self.own_db |= other.own_db


@dataclass(frozen=True)
class PlainSqlaPlan:
    db: str | None = None  # the converted db object, qualified; None: the project keeps Flask-SQLAlchemy
    problem: str | None = None
    bridge: str = "api"  # the FastAPI app of the factory that calls db.init_app(app)
    models: frozenset[str] = frozenset()
    session_users: frozenset[str] = frozenset()  # functions that take the session (views, classmethods)
    session_methods: frozenset[str] = frozenset()  # model classmethods among them, called Model.method(db, ...)

    @property
    def module(self) -> str:
        return (self.db or "").rpartition(".")[0]


def file_facts(wrapper: MetadataWrapper, module: str, source: bytes) -> SqlaFileFacts:
    reader = _Uses(module)
    wrapper.visit(reader)
    reader.facts.binds = b"SQLALCHEMY_BINDS" in source
    return reader.facts


def plan_plain(facts: SqlaFileFacts, dbs: list[str], models: dict, apps: dict, native_views: set[str]) -> PlainSqlaPlan:
    """``models``: the project's ModelFacts; ``apps``: its AppFacts; ``native_views``: the views
    that become FastAPI routes (only their code can take the session as a parameter)."""
    if not dbs:
        return PlainSqlaPlan()
    if len(dbs) != 1:
        return PlainSqlaPlan(problem="the project has more than one SQLAlchemy() object")
    db = dbs[0]
    if facts.makers.get(db) != 0:
        return PlainSqlaPlan(problem=f"{db.rpartition('.')[2]} = SQLAlchemy(...) takes arguments (its app or options)")
    if facts.binds:
        return PlainSqlaPlan(problem="SQLALCHEMY_BINDS: models pick their engine by __bind_key__")
    flask_models = {q for q, model in models.items() if f"{db}.Model" in model.bases}
    inheriting = sorted(q for q in flask_models if models[q].bases != {f"{db}.Model"})
    if inheriting:
        return PlainSqlaPlan(problem=f"{inheriting[0].rpartition('.')[2]} has a base other than db.Model")
    # the function that makes each app (None: a module-level app)
    factories = {(app.rpartition(".<locals>.")[0] if ".<locals>." in app else None): facts for app, facts in apps.items()}
    session_methods: set[str] = set()
    for use in facts.uses:  # classmethods with cls.query / Model.query: they take the session
        owner = use.owner or ""
        if owner in facts.classmethods and owner.rpartition(".")[0] in flask_models and _query_of(use.dotted, flask_models):
            session_methods.add(owner)
    users: set[str] = set()
    bridge = None
    for use in facts.uses:
        why, user = _check(use, db, flask_models, native_views, session_methods, factories)
        if why is not None:
            return PlainSqlaPlan(problem=why)
        if user:
            users.add(use.owner)  # type: ignore[arg-type]
        if use.dotted == f"{db}.init_app":
            bridge = factories[use.owner].bridge  # type: ignore[index]
    if bridge is None:
        return PlainSqlaPlan(problem=f"{db.rpartition('.')[2]}.init_app(app) is not called in an app factory")
    taken = sorted((users | session_methods) & facts.own_db)
    if taken:  # the session comes in as ``db``
        return PlainSqlaPlan(problem=f"{taken[0].rpartition('.')[2]} has a db of its own")
    return PlainSqlaPlan(db, None, bridge, frozenset(flask_models), frozenset(users | session_methods), frozenset(session_methods))


def _query_of(dotted: str, models: set[str]) -> list[str] | None:
    """The method chain after ``Model.query`` (None: not a query of a model)."""
    for model in models:
        if dotted.startswith(f"{model}.query"):
            return dotted.removeprefix(f"{model}.query").split(".")[1:]
    return None


def _check(
    use: SqlaUse, db: str, models: set[str], views: set[str], methods: set[str], factories: dict,
) -> tuple[str | None, bool]:
    """Why the use keeps Flask-SQLAlchemy (None: it converts), and whether its owner takes the session."""
    short = db.rpartition(".")[2]
    in_view = use.owner in views
    if use.dotted == db or use.dotted.startswith(f"{db}."):
        rest = use.dotted.removeprefix(f"{db}").lstrip(".").split(".")
        head = rest[0]
        if head == "Model":
            return (None, False) if use.kind == "base" else (f"uses {short}.Model other than as a model's base", False)
        if head in CORE_NAMES | ORM_NAMES:
            return None, False
        if head == "session" and len(rest) >= 2 and rest[1] in SESSION_METHODS and f"{db}.session.{rest[1]}" in use.called and in_view:
            return None, True
        if head in HELPERS and f"{db}.{head}" in use.called and in_view:
            return None, True
        if head == "engine" and in_view:
            return None, True
        if head == "init_app" and use.kind == "call" and use.owner in factories:
            return None, False
        if head in {"create_all", "drop_all"} and use.kind == "call" and use.owner in factories:
            return None, False
        where = f" in {use.owner.rpartition('.')[2]}" if use.owner else " at module level"
        return f"uses {short}.{'.'.join(rest[:2]) if head == 'session' else head}{where}", False
    chain = _query_of(use.dotted, models)
    if chain is not None:
        if use.owner not in views and use.owner not in methods:
            return f"uses {use.dotted.rpartition('.query')[0].rpartition('.')[2]}.query outside a view", False
        if not chain or use.kind != "call":
            return "uses a model's query other than by calling a method of it", False
        *steps, last = chain
        if (steps or last not in KEYED) and (last not in TERMINALS or not set(steps) <= CHAIN):
            return f"calls .query.{'.'.join(chain)}(), which has no select() form here", False
        if last == "delete" and not use.statement:  # Query.delete() gave a count, session.execute() a Result
            return "uses the count .query...delete() returns", False
        return None, True
    if use.kind == "call" and use.dotted.endswith(".paginate") and in_view:
        return None, True  # a lazy="dynamic" relationship's query (Flask-SQLAlchemy's Query class)
    for method in methods:
        if use.dotted == method:
            if use.kind == "call" and in_view:
                return None, True
            return f"uses {method.rpartition('.')[2]}() (a query of the model's) outside a view's call", False
    return None, False


class _Uses(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (FullyQualifiedNameProvider,)

    def __init__(self, module: str) -> None:
        self.module = module
        self.facts = SqlaFileFacts()
        self.owners: list[str | None] = [None]
        self.classes: list[str] = []
        self.cls: list[str | None] = [None]  # the class parameter of the classmethod we are in
        self.statements: set[int] = set()  # the calls that are expression statements

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        qualified = f"{self.module}.{node.name.value}" if not self.classes else f"{self.classes[-1]}.{node.name.value}"
        self.classes.append(qualified)
        for base in node.bases:
            if not self._record(base.value, "base"):
                base.visit(self)
        for part in (*node.keywords, *node.decorators, node.body):
            part.visit(self)
        return False

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        owner = self.owners[-1]
        cls = None
        if owner is None:
            owner = f"{self.classes[-1]}.{node.name.value}" if self.classes else f"{self.module}.{node.name.value}"
            if self.classes and any(get_full_name_for_node(d.decorator) == "classmethod" for d in node.decorators):
                self.facts.classmethods.add(owner)
                cls = node.params.params[0].name.value if node.params.params else None
        self.owners.append(owner)
        self.cls.append(cls or self.cls[-1])
        names = {p.name.value for p in (*node.params.params, *node.params.kwonly_params, *node.params.posonly_params)}
        if "db" in names or m.findall(node.body, m.AssignTarget(m.Name("db")) | m.For(target=m.Name("db"))):
            self.facts.own_db.add(owner)
        for decorator in node.decorators:
            decorator.visit(self)
        node.params.visit(self)
        node.body.visit(self)
        return False

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.owners.pop()
        self.cls.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.owners[-1] is None and isinstance(node.value, cst.Call) and len(node.targets) == 1:
            target = node.targets[0].target
            made = {q.name for q in self.get_metadata(FullyQualifiedNameProvider, node.value.func, set())}
            if made & EXTENSION and isinstance(target, cst.Name):
                self.facts.makers[f"{self.module}.{target.value}"] = len(node.value.args)

    def visit_Expr(self, node: cst.Expr) -> None:
        self.statements.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> bool:
        if not self._record(node.func, "call", id(node) in self.statements):
            node.func.visit(self)
        for arg in node.args:
            arg.visit(self)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        # the dotted name is one use; calls inside it (``x.f(a).g``) were read by _record
        return not self._record(node, "attr")

    def _record(self, node: cst.BaseExpression, kind: str, statement: bool = False) -> bool:
        """Record the use ``node`` names; False where it names none (visit it as usual)."""
        dotted = get_full_name_for_node(node)
        root = _head(node)
        if dotted is None or root is None or ("." not in dotted and kind != "base"):
            return False
        head, _, rest = dotted.partition(".")
        if head == self.cls[-1] and self.classes:
            qualified = self.classes[-1]
        else:
            names = self.get_metadata(FullyQualifiedNameProvider, root, set())
            if len(names) != 1:
                return False
            qualified = next(iter(names)).name
        prefix = len(head)
        called = frozenset(f"{qualified}{c[prefix:]}" for c in _called(node, kind))
        self.facts.uses.append(SqlaUse(f"{qualified}.{rest}" if rest else qualified, self.owners[-1], kind, called, statement))
        for part in _inner_calls(node):
            part.visit(self)
        return True


def _head(node: cst.BaseExpression) -> cst.Name | None:
    while isinstance(node, (cst.Attribute, cst.Call)):
        node = node.value if isinstance(node, cst.Attribute) else node.func
    return node if isinstance(node, cst.Name) else None


def _called(node: cst.BaseExpression, kind: str) -> list[str]:
    """The dotted names called along a chain (the chain itself too, where ``kind`` is "call")."""
    found = [get_full_name_for_node(node) or ""] if kind == "call" else []
    while isinstance(node, (cst.Attribute, cst.Call)):
        if isinstance(node, cst.Call):
            found.append(get_full_name_for_node(node.func) or "")
            node = node.func
        else:
            node = node.value
    return found


def _inner_calls(node: cst.BaseExpression) -> list[cst.CSTNode]:
    """The arguments of the calls inside a chain (``x.filter_by(a=f(b)).first``): uses of their own."""
    found: list[cst.CSTNode] = []
    while isinstance(node, (cst.Attribute, cst.Call)):
        if isinstance(node, cst.Call):
            found += node.args
            node = node.func
        else:
            node = node.value
    return found
