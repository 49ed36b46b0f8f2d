"""Flask-SQLAlchemy: a bookshop API (app factory, blueprint, related models, a session per
request, pagination, 404 helpers) answers the same requests after conversion, and its models
become plain SQLAlchemy with the same tables."""

import json
import re
from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

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
    {"method": "GET", "path": "/api/tags"},  # async after conversion (db.session alone)
    {"method": "DELETE", "path": "/api/tags/2"},  # with its book_tags rows
    {"method": "DELETE", "path": "/api/tags/2"},
    {"method": "GET", "path": "/api/tags"},
    {"method": "GET", "path": "/api/books/search?title=The Dispossessed"},  # sync: sees what the async view did
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("sqla") / "converted")


def test_the_bookshop_answers_the_same(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    statuses = [a["status"] for a in original]
    assert statuses == [
        200, 201, 201, 409, 202, 200, 200, 404, 201, 201, 201, 201, 201, 404, 200, 200, 200, 404, 404, 404, 404,
        200, 200, 200, 404, 200, 404, 201, 201, 404, 204, 404, 200, 200, 204, 404, 200, 200,
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
    assert [t["name"] for t in original[33]["body"]] == ["fantasy", "sf", "utopia"]
    assert [t["name"] for t in original[36]["body"]] == ["fantasy", "utopia"]
    assert original[37]["body"]["tags"] == ["utopia"]
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_views_on_db_session_alone_become_async(converted):
    """The views whose database work is db.session's 2.x calls are async def over the
    AsyncSession dependency (over the app's plain sessionmaker); the others stay def and take the
    sync session as ``db: DbSession``, each for what has no async form (the report's reasons); the
    before_request hook that creates the tables runs as RequestHooks middleware, on the engine
    the factory put on the app's state."""
    views = (converted / "bookshop" / "views.py").read_text()
    asynchronous = sorted(re.findall(r"^async def (\w+)\(", views, re.M))
    assert set(asynchronous) == {"create_author", "draft_author", "list_authors", "get_author", "add_book", "author_books", "list_books", "search_books", "get_book", "review_book", "delete_book", "stats", "list_tags", "delete_tag"}
    assert "async def draft_author(data: Annotated[Any, FlaskJson()] = None, *, db_session: AsyncDbSessionDep):" in views
    assert "    await db_session.flush()\n" in views and "    db_session.add(author)\n" in views
    assert "await db_session.execute(select(Tag.id, Tag.name).order_by(Tag.name))" in views
    assert "async def create_author(data: Annotated[Any, FlaskJson()] = None, *, db_session: AsyncDbSessionDep):" in views
    assert "if (await db_session.scalars(select(Author).filter_by(name=data[\"name\"]).limit(1))).first() is not None:" in views
    assert "book = await db_session.run_sync(lambda db: BookEdition.by_title(db, title))" in views
    assert "return await db_session.run_sync(lambda db: get_or_404(db, Author, author_id).to_dict())" in views
    assert "from bookshop.extensions import AsyncDbSessionDep\n" in views  # db is gone
    # review_book: a column read before the commit is read as it is; after it, one refresh of each
    # object the commit expired and the view reads again (no run_sync per read)
    assert '    review = StarReview(book_id=book.id, stars=int(body.read()["stars"]))\n' in views
    assert "    await db_session.commit()\n    await db_session.refresh(review)\n    await db_session.refresh(book)\n" in views
    assert "lambda db: review." not in views and "lambda db: book.id" not in views and "lambda db: r.stars" not in views
    extensions = (converted / "bookshop" / "extensions.py").read_text()
    assert "session = async_session(request.app.state.sessionmaker)" in extensions
    factory = (converted / "bookshop" / "__init__.py").read_text()
    # every route converts, so Flask leaves: the bridge's name goes back to the app's, in the
    # nested hook too
    assert "    app = NativeApp(__name__)\n" in factory and not re.search(r"\bapi\.", factory) and "FlaskBridge" not in factory
    assert "    app.state.engine = engine_from_config(app.config, app.instance_path)\n" in factory
    assert "    app.state.sessionmaker = sessionmaker(app.state.engine)\n" in factory
    assert "    def create_tables(request: Request):\n" in factory
    assert "        Base.metadata.create_all(app.state.engine)\n" in factory
    assert "app.add_middleware(RequestHooks, before=[create_tables])" in factory
    assert "flask_sqlalchemy" not in "".join(p.read_text() for p in converted.rglob("*.py"))


def test_the_models_and_the_extension_become_plain_sqlalchemy(converted):
    """Byte for byte: fixtures/projects/sqla/expected (the DeclarativeBase, the session
    dependency, the models with Flask-SQLAlchemy's table names, cls.query in its select() form)."""
    expected = PROJECT / "expected" / "bookshop"
    for name in ("extensions.py", "models.py"):
        assert (converted / "bookshop" / name).read_text() == (expected / name).read_text(), name


def test_a_second_conversion_changes_nothing(converted, tmp_path):
    again = convert_copy(converted, tmp_path / "again")
    for path in converted.rglob("*.py"):
        assert (again / path.relative_to(converted)).read_text() == path.read_text(), path


def test_the_levels_the_bookshop_reaches(tmp_path):
    """Before: all 14 routes native (Flask-SQLAlchemy on every path). Now every route is
    idiomatic or async: the four views that read their JSON body with unchecked keys
    (``data["name"]``) take it as the value get_json gave."""
    from codemod.engine import convert_paths, discover
    from transforms import ORDER

    routes = [r for result in convert_paths(discover([PROJECT / "input"]), ORDER) for r in result.routes]
    levels = {str(r["view"]).rpartition(".")[2]: r["level"] for r in routes}
    assert {v for v, level in levels.items() if level == "async"} == {"create_author", "draft_author", "list_authors", "get_author", "add_book", "author_books", "list_books", "search_books", "get_book", "review_book", "delete_book", "stats", "list_tags", "delete_tag"}
    assert all(level in ("idiomatic", "async") for level in levels.values()) and len(levels) == 14
    assert all(r["reason"] is None for r in routes)


def test_the_report_says_why_each_view_stays_sync(tmp_path):
    from typer.testing import CliRunner

    from codemod.cli import app

    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["convert", str(PROJECT / "input"), "--out", str(tmp_path / "out"), "--report", str(report)])
    assert result.exit_code == 0, result.output
    routes = {r["view"].rpartition(".")[2]: r for r in json.loads(report.read_text())["routes"]}
    assert {v for v, r in routes.items() if r["async"]} == {"create_author", "draft_author", "list_authors", "get_author", "add_book", "author_books", "list_books", "search_books", "get_book", "review_book", "delete_book", "stats", "list_tags", "delete_tag"}


def test_a_view_holding_db_session_in_a_local_keeps_both_calls_sync():
    """``s = db.session`` then ``s.commit()``: an async db_session for the other calls would put
    the view's work in two sessions, so the view stays as it was."""
    from codemod.testing import convert_one
    from transforms import ORDER

    source = b'''from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
db = SQLAlchemy(app)


@app.post("/held")
def held():
    s = db.session
    db.session.flush()
    s.commit()
    return jsonify(ok=1)


@app.post("/direct")
def direct():
    db.session.commit()
    return jsonify(ok=1)
'''
    converted = convert_one(source, "example.py", ORDER).new.decode()
    assert "def held():\n    s = db.session\n    db.session.flush()\n    s.commit()\n" in converted
    assert "async def direct(db_session: AsyncDbSessionDep):\n    await db_session.commit()\n" in converted


PLAIN = """\
from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
db = SQLAlchemy()
db.init_app(app)


class Item(db.Model):
    id = db.Column(db.Integer, primary_key=True)


@app.delete("/items")
def clear():
    {body}
"""


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("return jsonify(n=Item.query.delete())", "uses the count .query...delete() returns"),
        ("return jsonify(n=len(Item.query.join(Item).all()))", "calls .query.join.all(), which has no select() form here"),
        ("return jsonify(n=db.session.query(Item).first_or_404().id)", "calls db.session.query(...).first_or_404.id, which has no plain form here"),
        ("query = Item.query\n    return jsonify(n=len(list(query)))", "uses a model's query other than by calling a method of it"),  # iterated whole: a legacy Query
        ("return jsonify(n=db.metadata.tables.__len__())", "uses db.metadata in clear"),
        ("db = 1\n    return jsonify(n=Item.query.count() + db)", "clear has a db of its own"),
    ],
)
def test_a_use_without_a_safe_form_keeps_flask_sqlalchemy(body, why):
    """One use the plan cannot prove keeps the whole project on Flask-SQLAlchemy, as it was."""
    from codemod.project import gather
    from codemod.testing import convert_one
    from transforms import ORDER

    source = PLAIN.format(body=body).encode()
    assert gather(Path("example.py"), source).plain_sqlalchemy.problem == why
    converted = convert_one(source, "example.py", ORDER).new.decode()
    assert "db = SQLAlchemy()" in converted and "class Item(db.Model):" in converted and "DeclarativeBase" not in converted


def test_the_sessions_legacy_query_and_a_query_built_in_a_local_convert():
    # db.session.query(Item) is the legacy Query Item.query is; a local that only ever holds a
    # query (given Item.query, then a chain of itself) holds its select()
    from codemod.testing import convert_one
    from transforms import ORDER

    body = "query = Item.query\n    if request.args.get('odd'):\n        query = query.filter(Item.id % 2 == 1)\n    return jsonify(n=db.session.query(Item).count(), none=query.first() is None)"
    source = PLAIN.format(body=body).replace("import Flask, jsonify", "import Flask, jsonify, request").encode()
    converted = convert_one(source, "example.py", ORDER).new.decode()
    assert "    query = select(Item)\n    if odd:\n        query = query.filter(Item.id % 2 == 1)\n" in converted
    assert '{"n": await db_session.scalar(select(func.count()).select_from(Item)), "none": (await db_session.scalars(query.limit(1))).first() is None}' in converted
    assert "from flask_sqlalchemy" not in converted


def test_a_query_that_deletes_as_a_statement_converts():
    from codemod.testing import convert_one
    from transforms import ORDER

    source = PLAIN.format(body='Item.query.filter_by(id=1).delete()\n    db.session.commit()\n    return jsonify(ok=1)').encode()
    converted = convert_one(source, "example.py", ORDER).new.decode()
    assert "async def clear(db_session: AsyncDbSessionDep):\n    await db_session.execute(delete(Item).filter_by(id=1))\n    await db_session.commit()\n" in converted
    assert "from flask_sqlalchemy" not in converted
