"""Flask-SQLAlchemy into plain SQLAlchemy 2.0 models with a session per request.

Targets https://fastapi.tiangolo.com/tutorial/sql-databases/ and SQLAlchemy's "contextual
session" pattern (https://docs.sqlalchemy.org/en/20/orm/contextual.html).

What is rewritten where it is used, and why:

- ``db = SQLAlchemy(...)`` becomes ``class Base(ModelRepr, DeclarativeBase)`` (ModelRepr keeps
  Flask-SQLAlchemy's ``<User 1>`` repr) and ``db = Database(Base, ...)`` (``model_class=`` is
  kept as the base when it already is a SQLAlchemy one). ``db.Model`` becomes
  ``Base`` (imported from db's module elsewhere) and ``db.Column``, ``db.String``,
  ``db.relationship``, ``db.select``... the same names imported from ``sqlalchemy`` /
  ``sqlalchemy.orm``: the models become plain SQLAlchemy declarative models, usable without the
  web app. A model that does not name its table gets the ``__tablename__`` Flask-SQLAlchemy gave
  it (``OrderItem`` -> ``order_item``), so the schema stays the same. ``db.Table(name, ...)``
  gets ``Base.metadata`` as Flask-SQLAlchemy added it, and a ``lazy="dynamic"`` relationship gets
  ``query_class=FlaskQuery``, the query class Flask-SQLAlchemy gave it (``user.posts.paginate()``).
- ``User.query`` becomes ``db.session.query(User)`` and ``User.query.get(x)`` becomes
  ``db.session.get(User, x)``: the SQLAlchemy calls Flask-SQLAlchemy made for them.
- ``db`` itself stays, as flask_compat's ``Database``: what is left of Flask-SQLAlchemy is about
  the app, not the models, and is kept at run time rather than spelled out at every call site:
  ``init_app`` makes the engine from ``app.config`` (which is only known then), ``db.session`` is
  SQLAlchemy's scoped_session scoped to the request (removed when it ends, by a teardown hook) and
  to the thread outside requests, and ``get_or_404``/``first_or_404``/``one_or_404``/``paginate``
  (also on ``db.session.query(...)``) answer 404 through the app's error handlers, as
  ``abort(404)`` does, with Flask-SQLAlchemy's reading of ``?page=`` and ``?per_page=``. Call
  sites such as ``db.session.add(...)`` and ``db.create_all()`` do not change.

What is not converted keeps a marker: other ``SQLAlchemy(...)`` options, ``db`` attributes that
are neither SQLAlchemy names nor Database's, and models bound to another database.
"""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from codemod.findings import Code
from codemod.project import DatabaseFacts, module_of
from codemod.transform import Example, Transform
from transforms._flask import last_arg

SQLALCHEMY = "flask_sqlalchemy.SQLAlchemy"
# Names Flask-SQLAlchemy's db forwards to sqlalchemy and sqlalchemy.orm (those that apps use).
CORE_NAMES = frozenset(
    {
        "and_", "ARRAY", "asc", "between", "BIGINT", "BigInteger", "bindparam", "BLOB", "Boolean", "BOOLEAN",
        "case", "cast", "CHAR", "CheckConstraint", "collate", "column", "Column", "Computed", "DATE", "Date",
        "DATETIME", "DateTime", "DECIMAL", "DefaultClause", "delete", "desc", "distinct", "Double", "Enum",
        "event", "exists", "extract", "false", "FetchedValue", "FLOAT", "Float", "ForeignKey",
        "ForeignKeyConstraint", "func", "Identity", "Index", "insert", "inspect", "INTEGER", "Integer",
        "Interval", "JSON", "LargeBinary", "literal", "literal_column", "MetaData", "not_", "null",
        "nulls_first", "nulls_last", "Numeric", "NUMERIC", "or_", "PickleType", "PrimaryKeyConstraint", "REAL",
        "select", "Sequence", "SmallInteger", "String", "Table", "table", "text", "TEXT", "Text", "TIME",
        "Time", "TIMESTAMP", "true", "tuple_", "type_coerce", "TypeDecorator", "Unicode", "UnicodeText",
        "union", "union_all", "UniqueConstraint", "update", "UUID", "Uuid", "VARCHAR"
    }
)
ORM_NAMES = frozenset(
    {
        "aliased", "backref", "column_property", "composite", "contains_eager", "declared_attr", "defer",
        "deferred", "dynamic_loader", "DynamicMapped", "foreign", "joinedload", "lazyload", "load_only",
        "make_transient", "Mapped", "mapped_column", "noload", "object_session", "query_expression",
        "raiseload", "reconstructor", "relationship", "remote", "selectinload", "subqueryload", "synonym",
        "undefer", "validates", "with_expression", "with_parent", "with_polymorphic", "WriteOnlyMapped"
    }
)
# What flask_compat's Database keeps of Flask-SQLAlchemy's db (the rest is flagged).
DATABASE_API = frozenset(
    {"session", "engine", "metadata", "init_app", "create_all", "drop_all", "get_or_404", "first_or_404",
     "one_or_404", "paginate"}
)
# db.relationship(..., lazy="dynamic") and friends: Flask-SQLAlchemy gave them its query class
DYNAMIC_LOADERS = frozenset({"relationship", "backref", "dynamic_loader"})
PRIMARY_KEY = m.Arg(keyword=m.Name("primary_key"), value=m.Name("True"))


def table_name(class_name: str) -> str:
    """Flask-SQLAlchemy's table name for a model: CamelCase to snake_case (``HTTPLog`` ->
    ``http_log``, ``OrderItem2`` -> ``order_item2``)."""
    name = re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", class_name)
    return name.lower().lstrip("_")


class FlaskSqlalchemyTransform(Transform):
    NAME = "flask_sqlalchemy"
    DESCRIPTION = "Flask-SQLAlchemy db.Model/db.Column/Model.query -> plain SQLAlchemy models, a session per request"
    FINDINGS = {
        "database_option": Code(
            "F2F201",
            "SQLAlchemy(...) is given something this version does not convert ({option}): {advice}",
            "Only app, metadata, model_class (a SQLAlchemy DeclarativeBase), engine_options, "
            "session_options and disable_autonaming are converted. Write the declarative base and "
            "the flask_compat Database(Base, ...) by hand, then convert the models.",
        ),
        "database_attribute": Code(
            "F2F202",
            "`db.{attr}` is Flask-SQLAlchemy API that this version does not convert: {advice}",
            "The converted db (flask_compat.Database) has session, engine, metadata, init_app, "
            "create_all, drop_all, get_or_404, first_or_404, one_or_404 and paginate; SQLAlchemy's "
            "own names (db.Column, db.select...) are imported from sqlalchemy.",
        ),
        "bind_key": Code(
            "F2F203",
            "`__bind_key__` puts {model} in another database (SQLALCHEMY_BINDS), which this version does "
            "not convert: give that database its own engine and session by hand",
            "Database makes one engine from SQLALCHEMY_DATABASE_URI; several databases need their own "
            "engines and sessions (or a Session with binds).",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\n"
            "class OrderItem(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
            "    name = db.Column(db.String(80), nullable=False)\n\n\n"
            "def find(name):\n    return OrderItem.query.filter_by(name=name).first()\n",
            "from flask_compat import Database, ModelRepr\nfrom sqlalchemy import Column, Integer, String\n"
            "from sqlalchemy.orm import DeclarativeBase\n\n\n"
            "class Base(ModelRepr, DeclarativeBase):\n    pass\n\n\ndb = Database(Base)\n\n\n"
            "class OrderItem(Base):\n    __tablename__ = \"order_item\"\n    id = Column(Integer, primary_key=True)\n"
            "    name = Column(String(80), nullable=False)\n\n\n"
            "def find(name):\n    return db.session.query(OrderItem).filter_by(name=name).first()\n",
            title="a model without __tablename__ and a query",
        ),
        Example(
            "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy(query_class=MyQuery)\n",
            "from flask_sqlalchemy import SQLAlchemy\n\n# TODO[F2F201]: SQLAlchemy(...) is given something this "
            "version does not convert (query_class): write the declarative base and db = Database(Base, ...) "
            "(flask_compat) by hand\ndb = SQLAlchemy(query_class=MyQuery)\n",
            codes=("F2F201",),
            title="an option that is not converted",
        ),
        Example(
            "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\ndef names():\n"
            "    return db.session.scalars(db.select(db.text('name'))).all(), db.engines\n",
            "from flask_compat import Database, ModelRepr\nfrom sqlalchemy import select, text\n"
            "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(ModelRepr, DeclarativeBase):\n    pass\n\n\n"
            "db = Database(Base)\n\n\ndef names():\n    # TODO[F2F202]: `db.engines` is Flask-SQLAlchemy API that "
            "this version does not convert: use db.engine (one database)\n"
            "    return db.session.scalars(select(text('name'))).all(), db.engines\n",
            codes=("F2F202",),
            title="an attribute of db that is not converted",
        ),
        Example(
            "from myorm import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\nclass User(db.Model):\n"
            "    id = db.Column(db.Integer, primary_key=True)\n\n\nfirst = User.query.get(1)\n",
            title="a lookalike db is left alone",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.model_classes: list[bool] = []  # for each enclosing class: is it a model?
        self.class_methods: list[str | None] = []  # for each enclosing function: its `cls`, in a model

    # -- what names refer to ---------------------------------------------------------------
    def _database(self, node: cst.CSTNode) -> tuple[str, DatabaseFacts] | None:
        databases = self.run.project.databases
        name = next((n for n in sorted(self.qualified_names(node)) if n in databases), None)
        return (name, databases[name]) if name is not None else None

    def _model_database(self, node: cst.BaseExpression) -> tuple[str, DatabaseFacts] | None:
        """The database of a model class that ``node`` names (``User``, or ``cls`` in a model's
        class method)."""
        if isinstance(node, cst.Name) and self.class_methods and node.value == self.class_methods[-1]:
            enclosing = self._class_of_method(node)
            names = {enclosing} if enclosing else set()
        else:
            names = self.qualified_names(node)
        for name in sorted(names):
            database = self.run.project.database_of(name)
            if database is not None:
                return database, self.run.project.databases[database]
        return None

    def _class_of_method(self, node: cst.Name) -> str | None:
        """The fully qualified name of the model class whose class method ``node`` is in."""
        names = sorted(self.qualified_names(node))  # pkg.models.User.method.<locals>.cls
        return names[0].split(".<locals>.")[0].rpartition(".")[0] if names else None

    def _reference(self, database: str, name: str) -> cst.Name:
        """``name`` (db or its base) from db's module, imported when used in another module."""
        module = database.rpartition(".")[0]
        if module != self._module_name():
            AddImportsVisitor.add_needed_import(self.context, module, name)
        return cst.Name(name)

    def _module_name(self) -> str:
        return module_of(Path(self.context.filename or "module.py")).name

    # -- db = SQLAlchemy(...) --------------------------------------------------------------
    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        if len(original_node.body) != 1 or not m.matches(original_node.body[0], m.Assign(value=m.Call())):
            return updated_node
        assign = original_node.body[0]
        assert isinstance(assign, cst.Assign) and isinstance(assign.value, cst.Call)
        if not self.names(assign.value.func, SQLALCHEMY) or len(assign.targets) != 1:
            return updated_node
        found = self._database(assign.targets[0].target)
        if found is None:
            return updated_node
        _, facts = found
        if facts.base is None:
            keywords = [a.keyword.value for a in assign.value.args if a.keyword is not None]
            option = ", ".join(k for k in keywords if k not in ("app", "engine_options", "session_options")) or "*args"
            self.flag(original_node, "database_option", option=option,
                      advice="write the declarative base and db = Database(Base, ...) (flask_compat) by hand")
            return updated_node
        self.consume(assign.value.func)
        self.use_support("Database")
        call = updated_node.body[0].value
        assert isinstance(call, cst.Call)
        kept = [a for a in call.args if a.keyword is None or a.keyword.value in ("app", "engine_options", "session_options")]
        metadata = [a.value for a in call.args if a.keyword is not None and a.keyword.value == "metadata"]
        database = call.with_changes(func=cst.Name("Database"), args=[cst.Arg(cst.Name(facts.base)), *kept])
        statement = updated_node.with_changes(body=[updated_node.body[0].with_changes(value=database)])
        if not facts.generated:
            return statement
        AddImportsVisitor.add_needed_import(self.context, "sqlalchemy.orm", "DeclarativeBase")
        self.use_support("ModelRepr")  # Flask-SQLAlchemy's <User 1>
        body = [cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name("metadata"))], metadata[0])])] if metadata else [
            cst.SimpleStatementLine([cst.Pass()])
        ]
        leading = list(statement.leading_lines)
        if all(line.comment is None for line in leading):
            leading = [cst.EmptyLine(), cst.EmptyLine()]  # a class after the imports: two blank lines
        base = cst.ClassDef(
            cst.Name(facts.base),
            cst.IndentedBlock(body),
            bases=[cst.Arg(cst.Name("ModelRepr")), cst.Arg(cst.Name("DeclarativeBase"))],
            leading_lines=leading,
        )
        statement = statement.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        return cst.FlattenSentinel([base, statement])

    # -- db.Model, db.Column, ..., Model.query ---------------------------------------------
    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        attr = original_node.attr.value
        if attr == "query":
            found = self._model_database(original_node.value)
            if found is None or found[1].base is None:
                return updated_node
            db = self._reference(found[0], found[0].rpartition(".")[2])
            session = cst.Attribute(cst.Attribute(db, cst.Name("session")), cst.Name("query"))
            return cst.Call(session, [cst.Arg(updated_node.value)])
        found = self._database(original_node.value)
        if found is None or found[1].base is None:
            return updated_node
        database, facts = found
        if attr == "Model":
            return self._reference(database, facts.base)
        module = "sqlalchemy" if attr in CORE_NAMES else "sqlalchemy.orm" if attr in ORM_NAMES else None
        if module is not None:  # db.Column -> Column, or an alias when the module has its own Column
            return self.import_reference(original_node, module, attr)
        if attr not in DATABASE_API:
            advice = "use db.engine (one database)" if attr in ("engines", "get_engine") else "use SQLAlchemy's own API"
            self.flag(original_node, "database_attribute", attr=attr, advice=advice)
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        # User.query.get(x) -> db.session.get(User, x)
        if (
            m.matches(func, m.Attribute(value=m.Attribute(attr=m.Name("query")), attr=m.Name("get")))
            and len(original_node.args) == 1
            and original_node.args[0].keyword is None
            and not original_node.args[0].star
            and m.matches(updated_node.func, m.Attribute(value=m.Call(args=[m.Arg()])))
        ):
            assert isinstance(updated_node.func, cst.Attribute) and isinstance(updated_node.func.value, cst.Call)
            query = updated_node.func.value
            assert isinstance(query.func, cst.Attribute)
            session_get = query.func.with_changes(attr=cst.Name("get"))
            return cst.Call(session_get, [query.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT), updated_node.args[0]])
        # a dynamic relationship keeps Flask-SQLAlchemy's query (paginate, first_or_404...)
        if m.matches(func, m.Attribute(attr=m.Name(m.MatchIfTrue(lambda n: n in DYNAMIC_LOADERS)))):
            found = self._database(func.value)
            if found is None or found[1].base is None or not self._dynamic(original_node):
                return updated_node
            self.use_support("FlaskQuery")
            query_class = cst.Arg(cst.Name("FlaskQuery"), keyword=cst.Name("query_class"),
                                  equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
            args = list(updated_node.args)
            if args and isinstance(args[-1].comma, cst.Comma):  # a trailing comma: one more line, as the others
                last = args[-1].comma
                inner = args[-2].comma if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else last
                args[-1] = args[-1].with_changes(comma=inner)
                return updated_node.with_changes(args=[*args, query_class.with_changes(comma=last)])
            return updated_node.with_changes(args=[*last_arg(args), query_class])
        # db.Table(name, *columns) -> Table(name, Base.metadata, *columns)
        if m.matches(func, m.Attribute(attr=m.Name("Table"))):
            found = self._database(func.value)
            args = list(updated_node.args)
            if found is None or found[1].base is None or not args:
                return updated_node
            if len(args) > 1 and m.matches(args[1].value, m.Attribute(attr=m.Name("metadata")) | m.Name("metadata")):
                return updated_node
            metadata = cst.Arg(cst.Attribute(self._reference(found[0], found[1].base), cst.Name("metadata")))
            if len(args) == 1:
                first = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                return updated_node.with_changes(args=[first, metadata])
            # the metadata goes on the name's line, laid out as the name is
            return updated_node.with_changes(args=[args[0], metadata.with_changes(comma=args[0].comma), *args[1:]])
        return updated_node

    @staticmethod
    def _dynamic(call: cst.Call) -> bool:
        """``db.dynamic_loader(...)`` or ``lazy="dynamic"``, without a query_class of its own."""
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        if "query_class" in keywords:
            return False
        lazy = keywords.get("lazy")
        dynamic = isinstance(lazy, cst.SimpleString) and lazy.evaluated_value == "dynamic"
        return dynamic or m.matches(call.func, m.Attribute(attr=m.Name("dynamic_loader")))

    # -- models: __tablename__, class methods ----------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        names = sorted(self.qualified_names(node.name))
        self.model_classes.append(any(self.run.project.database_of(n) for n in names))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        in_model = bool(self.model_classes) and self.model_classes[-1]
        classmethod_ = any(m.matches(d.decorator, m.Name("classmethod")) for d in node.decorators)
        first = node.params.params[0].name.value if node.params.params else None
        self.class_methods.append(first if in_model and classmethod_ else None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.class_methods.pop()
        return updated_node

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.model_classes.pop()
        project = self.run.project
        name = next((n for n in sorted(self.qualified_names(original_node.name)) if project.database_of(n)), None)
        if name is None:
            return updated_node
        database = project.databases[project.database_of(name) or ""]
        if database.base is None:
            return updated_node
        facts = project.classes[name]
        if self._binds_elsewhere(original_node):
            self.flag(original_node, "bind_key", model=original_node.name.value)
        if facts.names_table or facts.abstract or not database.autonaming or not self._own_table(name, original_node):
            return updated_node
        tablename = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name("__tablename__"))], cst.SimpleString(f'"{table_name(original_node.name.value)}"'))]
        )
        body = list(updated_node.body.body)
        at = 1 if body and m.matches(body[0], m.SimpleStatementLine([m.Expr(m.SimpleString())])) else 0
        if len(body) == 1 and m.matches(body[0], m.SimpleStatementLine([m.Pass()])):
            body = []
        body.insert(at, tablename)
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))

    def _own_table(self, name: str, node: cst.ClassDef) -> bool:
        """Whether Flask-SQLAlchemy gave the model a table of its own: a model directly on
        db.Model (or on an abstract model), or a subclass of a model that declares its own
        primary key (joined-table inheritance); a subclass without one shares its parent's table
        (single-table inheritance)."""
        project = self.run.project
        bases = project.classes[name].bases
        mapped_parents = [
            b for b in bases if project.database_of(b) is not None and not project.classes[b].abstract
        ]
        if not mapped_parents:
            return True
        return bool(m.findall(node.body, PRIMARY_KEY))

    @staticmethod
    def _binds_elsewhere(node: cst.ClassDef) -> bool:
        return bool(m.findall(node.body, m.AssignTarget(target=m.Name("__bind_key__"))))
