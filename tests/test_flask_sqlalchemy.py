"""Flask-SQLAlchemy: a bookshop API (app factory, blueprint, related models, a session per
request, pagination, 404 helpers) answers the same requests after conversion, and its models
become plain SQLAlchemy with the same tables."""

import importlib.util
import sys
from pathlib import Path

import pytest

from codemod.support import flask_compat
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms.flask_sqlalchemy import table_name

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "sqla"
SPEC = "bookshop:create_app()"
REQUESTS = [
    {"method": "GET", "path": "/api/stats"},
    {"method": "POST", "path": "/api/authors", "json": {"name": "Le Guin"}},
    {"method": "POST", "path": "/api/authors", "json": {"name": "Calvino"}},
    {"method": "POST", "path": "/api/authors", "json": {"name": "Calvino"}},  # 409
    {"method": "POST", "path": "/api/drafts", "json": {"name": "Draft"}},  # never committed
    {"method": "GET", "path": "/api/authors"},  # the draft went with its request's session
    {"method": "GET", "path": "/api/authors/2"},
    {"method": "GET", "path": "/api/authors/99"},  # db.get_or_404
    {"method": "POST", "path": "/api/authors/1/books", "json": {"title": "Earthsea", "year": 1968, "tags": ["fantasy"]}},
    {"method": "POST", "path": "/api/authors/1/books", "json": {"title": "The Dispossessed", "tags": ["sf", "utopia"]}},
    {"method": "POST", "path": "/api/authors/1/books", "json": {"title": "Lathe of Heaven", "tags": ["sf"]}},
    {"method": "POST", "path": "/api/authors/2/books", "json": {"title": "Invisible Cities", "year": 1972}},
    {"method": "POST", "path": "/api/authors/2/books", "json": {"title": "Cosmicomics", "year": 1965}},
    {"method": "POST", "path": "/api/authors/9/books", "json": {"title": "Nobody's"}},  # query.get_or_404
    {"method": "GET", "path": "/api/books"},  # page and per_page from the query string: defaults
    {"method": "GET", "path": "/api/books?page=2&per_page=2"},
    {"method": "GET", "path": "/api/books?per_page=50"},  # max_per_page
    {"method": "GET", "path": "/api/books?page=9&per_page=2"},  # out of range: 404
    {"method": "GET", "path": "/api/books?page=0"},
    {"method": "GET", "path": "/api/books?page=two"},
    {"method": "GET", "path": "/api/books?per_page=-1"},
    {"method": "GET", "path": "/api/authors/1/books?page=2"},  # Query.paginate
    {"method": "GET", "path": "/api/authors/1/books?page=7"},  # error_out=False
    {"method": "GET", "path": "/api/books/3"},
    {"method": "GET", "path": "/api/books/42"},  # db.first_or_404 with a description
    {"method": "GET", "path": "/api/books/search?title=Cosmicomics"},  # cls.query in a classmethod
    {"method": "GET", "path": "/api/books/search?title=Ulysses"},
    {"method": "POST", "path": "/api/books/3/reviews", "json": {"stars": 5}},  # Mapped[] model
    {"method": "POST", "path": "/api/books/3/reviews", "json": {"stars": 4}},
    {"method": "POST", "path": "/api/books/77/reviews", "json": {"stars": 1}},  # db.one_or_404
    {"method": "DELETE", "path": "/api/books/3"},
    {"method": "DELETE", "path": "/api/books/3"},
    {"method": "GET", "path": "/api/stats"},  # counts, tags and the table names
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("sqla") / "converted")


def test_the_bookshop_answers_the_same(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    statuses = [a["status"] for a in original]
    assert statuses == [
        200, 201, 201, 409, 202, 200, 200, 404, 201, 201, 201, 201, 201, 404, 200, 200, 200, 404, 404, 404, 404,
        200, 200, 200, 404, 200, 404, 201, 201, 404, 204, 404, 200,
    ]
    assert [a["name"] for a in original[5]["body"]] == ["Calvino", "Le Guin"]
    assert original[2]["body"] == {"id": 2, "name": "Calvino", "books": 0, "repr": "<Author 2>"}
    assert original[7]["body"] == {"error": "not found", "detail": original[7]["body"]["detail"]}
    assert original[13]["body"]["detail"] == "No such author"
    assert original[15]["body"]["page"] == 2 and original[15]["body"]["pages"] == 3
    assert [b["title"] for b in original[15]["body"]["items"]] == ["Lathe of Heaven", "Invisible Cities"]
    assert original[16]["body"]["per_page"] == 3
    assert original[22]["body"] == {"items": [], "page": 7, "pages": 2, "total": 3}
    assert original[24]["body"]["detail"] == "No book 42"
    assert original[28]["body"] == {"id": 2, "stars": 4, "reviews": 2, "latest": [4], "pages": 2}
    assert original[32]["body"]["tables"] == ["authors", "book_edition", "book_tags", "star_review", "tags"]
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_the_models_are_plain_sqlalchemy(converted):
    models = (converted / "bookshop" / "models.py").read_text()
    extensions = (converted / "bookshop" / "extensions.py").read_text()
    assert "flask_sqlalchemy" not in models + extensions
    assert "db.Column" not in models and "db.Model" not in models
    assert "from sqlalchemy import Column, ForeignKey, Integer, String, Table" in models
    assert 'relationship("StarReview", lazy="dynamic", query_class=FlaskQuery)' in models
    assert '__tablename__ = "book_edition"' in models and '__tablename__ = "star_review"' in models
    assert "class Base(ModelRepr, DeclarativeBase):" in extensions and "db = Database(Base)" in extensions


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schema(metadatas) -> dict[str, list[str]]:
    return {t.name: sorted(c.name for c in t.columns) for md in metadatas for t in md.tables.values()}


def test_converted_models_have_the_same_tables(monkeypatch):
    """Mixins, single- and joined-table inheritance, abstract models, a declared __tablename__ and
    2.0-style models: the plain SQLAlchemy models make the tables Flask-SQLAlchemy made."""
    monkeypatch.setitem(sys.modules, "flask_compat", flask_compat)
    case = Path(__file__).resolve().parent.parent / "fixtures" / "flask_sqlalchemy" / "models"
    original = _load(case / "input.py", "fsa_models_original")
    converted = _load(case / "expected.py", "fsa_models_converted")
    tables = _schema(original.db.metadatas.values())
    assert {"http_log", "person", "manager", "invoice", "audit", "legacy", "tags", "blog", "post"} == set(tables)
    assert "employee" not in tables and tables["http_log"] == ["created", "id", "path"]
    assert _schema([converted.Base.metadata]) == tables
    assert converted.Blog.posts.property.query_class is flask_compat.FlaskQuery
    pk = next(c for c in converted.Base.metadata.tables["person"].constraints if c.name)
    assert pk.name == "pk_person"  # metadata=MetaData(naming_convention=...) kept


@pytest.mark.parametrize(
    "name", ["User", "OrderItem", "HTTPLog", "APIKey2Owner", "ABC", "Model2", "already_snake", "URLMap", "S3Bucket"]
)
def test_table_names_are_flask_sqlalchemy_s(name):
    from flask_sqlalchemy.model import camel_to_snake_case

    assert table_name(name) == camel_to_snake_case(name)


# -- flask_compat's Database and Pagination ------------------------------------------------------


def _outcome(make):
    """What making a pagination gives: its public attributes, or 404."""
    from fastapi import HTTPException
    from werkzeug.exceptions import NotFound

    try:
        page = make()
    except (NotFound, HTTPException) as error:
        assert getattr(error, "code", None) == 404 or getattr(error, "status_code", None) == 404
        return 404
    names = ["items", "page", "per_page", "total", "pages", "first", "last", "has_next", "has_prev", "next_num", "prev_num"]
    return {**{n: getattr(page, n) for n in names}, "pager": list(page.iter_pages()), "next": page.next().items}


@pytest.mark.parametrize(
    "total, page, per_page, max_per_page, error_out",
    [
        (45, 7, 2, None, True), (45, 1, 20, None, True), (45, 3, 20, None, True), (45, 4, 20, None, True),
        (45, 4, 20, None, False), (0, 1, 20, None, True), (0, 2, 5, None, True), (10, 0, 5, None, True),
        (10, 0, 5, None, False), (10, 1, 0, None, False), (10, 1, 50, 4, True), (200, 50, 2, None, True),
    ],
)
def test_pagination_is_flask_sqlalchemy_s(total, page, per_page, max_per_page, error_out):
    from flask_sqlalchemy.pagination import Pagination as Original

    rows = list(range(total))

    class ListPagination(Original):
        def _query_items(self):
            return rows[self._query_offset:self._query_offset + self.per_page]

        def _query_count(self):
            return len(rows)

    options = {"page": page, "per_page": per_page, "max_per_page": max_per_page, "error_out": error_out}
    expected = _outcome(lambda: ListPagination(**options))
    converted = _outcome(
        lambda: flask_compat.Pagination(lambda limit, offset: rows[offset:offset + limit], lambda: len(rows), **options)
    )
    assert converted == expected


def _notes_app(tmp_path, uri="sqlite:///notes.db"):
    from fastapi import FastAPI
    from sqlalchemy import Column, Integer, String
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

    class Note(Base):
        __tablename__ = "note"
        id = Column(Integer, primary_key=True)
        text = Column(String(40))

    app = FastAPI(exception_handlers=flask_compat.FLASK_ERRORS, middleware=flask_compat.FLASK_MIDDLEWARE)
    flask_compat.add_flask_attributes(app, __name__, instance_path=str(tmp_path / "instance"))
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    return app, Base, Note


def test_one_session_per_request_and_one_outside(tmp_path):
    import threading

    from fastapi.testclient import TestClient
    from sqlalchemy import inspect, select

    app, Base, Note = _notes_app(tmp_path)
    db = flask_compat.Database(Base, app)
    # outside a request (start-up code, a script, a test): the thread's session
    db.create_all()
    db.session.add(Note(text="from a script"))
    db.session.commit()
    assert (tmp_path / "instance" / "notes.db").exists()  # relative to the instance folder, as in Flask
    sessions = []

    @app.get("/notes")
    def notes():
        sessions.append(db.session())
        db.session.add(Note(text="never committed"))
        return [note.text for note in db.session.scalars(select(Note).order_by(Note.id))]

    @app.get("/notes/{note_id}")
    def note(note_id: int):
        return {"text": db.get_or_404(Note, note_id).text}

    client = TestClient(app)
    assert client.get("/notes").json() == ["from a script", "never committed"]
    assert client.get("/notes").json() == ["from a script", "never committed"]  # rolled back at the end
    assert client.get("/notes/1").json() == {"text": "from a script"}
    missing = client.get("/notes/9")
    assert missing.status_code == 404 and "<title>404 Not Found</title>" in missing.text
    assert sessions[0] is not sessions[1] and db.session() not in sessions
    assert list(db.session.registry.registry) == [threading.get_ident()]  # the requests' sessions are gone
    db.session.remove()
    db.drop_all()
    assert inspect(db.engine).get_table_names() == []


def test_the_engine_comes_from_the_config_when_init_app_runs(tmp_path):
    app, Base, _ = _notes_app(tmp_path, uri=None)
    db = flask_compat.Database(Base)
    with pytest.raises(RuntimeError, match="No database engine yet"):
        db.create_all()
    with pytest.raises(RuntimeError, match="SQLALCHEMY_DATABASE_URI"):
        db.init_app(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"echo": False, "pool_pre_ping": True}
    db.init_app(app)
    assert db.engine.pool.__class__.__name__ == "StaticPool"  # one in-memory database for all threads
    assert app.extensions["sqlalchemy"] is db and app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] is False
    app.config["SQLALCHEMY_BINDS"] = {"other": "sqlite://"}
    with pytest.raises(RuntimeError, match="SQLALCHEMY_BINDS"):
        db.init_app(app)


def test_an_app_per_test_gets_its_own_database(tmp_path):
    """A test suite that makes an app per test (create_app()) uses the new app's database from
    the test's thread, as Flask-SQLAlchemy does once each test's app context ends."""
    from sqlalchemy import func, select

    app, Base, Note = _notes_app(tmp_path, uri="sqlite://")
    db = flask_compat.Database(Base, app)
    db.create_all()
    db.session.add(Note(text="first app"))
    db.session.commit()
    second, _, _ = _notes_app(tmp_path, uri="sqlite://")
    db.init_app(second)
    db.create_all()
    assert db.session.scalar(select(func.count()).select_from(Note)) == 0


def test_the_facts_know_databases_and_models_across_modules(tmp_path):
    """db defined in one module, models in another, a model of a model in a third: every module
    knows which classes are models of which db, and which base db's models get."""
    from codemod.project import Project, gather

    package = tmp_path / "pkg"
    package.mkdir()
    files = {
        "__init__.py": "",
        "ext.py": "from flask_sqlalchemy import SQLAlchemy\nBase = object\ndb = SQLAlchemy()\n"
        "def later():\n    other = SQLAlchemy()\n",
        "models.py": "from .ext import db\n\nclass User(db.Model):\n    pass\n\nclass Plain:\n    pass\n",
        "admin.py": "from .models import User\n\nclass Admin(User):\n    __tablename__ = 'admins'\n",
    }
    project = Project()
    for name, text in files.items():
        (package / name).write_text(text)
        project.merge(gather(package / name, text.encode()))
    assert set(project.databases) == {"pkg.ext.db"}  # not the one made inside a function
    assert project.databases["pkg.ext.db"].base == "Model"  # Base is taken in pkg.ext
    assert project.database_of("pkg.admin.Admin") == project.database_of("pkg.models.User") == "pkg.ext.db"
    assert project.database_of("pkg.models.Plain") is None
    assert project.classes["pkg.admin.Admin"].names_table and not project.classes["pkg.models.User"].names_table
