"""The async plan (codemod/async_plan.py) and what it makes of real code (issue 11)."""

import textwrap
from pathlib import Path

from codemod.project import Project, gather

ROOT = Path(__file__).resolve().parent.parent

APP = '''
from flask import Flask, current_app, g, jsonify
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

app = Flask(__name__)
app.extensions["factory"] = sessionmaker(expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    books: Mapped[list["Book"]] = relationship(back_populates="shelf")

    def to_dict(self, with_books=False):
        data = {"id": self.id}
        if with_books:
            data["books"] = [b.id for b in self.books]
        return data


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id"))
    shelf: Mapped[Shelf] = relationship(back_populates="books")


def get_db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["factory"]()
    return g.db


def close_db(error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


app.teardown_appcontext(close_db)


@app.get("/shelves/<int:shelf_id>")
def shelf(shelf_id: int):
    found = get_db().get(Shelf, shelf_id)
    return jsonify(found.to_dict(with_books=True))


@app.get("/books/<int:book_id>")
def book(book_id: int):
    found = get_db().scalar(select(Book).where(Book.id == book_id))
    return jsonify(id=found.id, shelf=found.shelf.id)


@app.get("/anything/<int:book_id>")
def anything(book_id: int):
    found = lookup(book_id)
    return jsonify(shelf=found.shelf.id)


def lookup(book_id):
    return get_db().execute(select(Book)).first()
'''


def plan_of(tmp_path: Path, source: str):
    path = tmp_path / "app.py"
    path.write_text(textwrap.dedent(source))
    project = Project()
    project.merge(gather(path, path.read_bytes()))
    return project.async_plan


def test_relationship_reads_tied_to_a_model_are_awaited_and_others_keep_the_view_sync(tmp_path):
    plan = plan_of(tmp_path, APP)
    assert {"app.shelf", "app.book"} <= plan.functions
    # a model method reading a relationship behind its flag: loaded before the call
    assert plan.preloads["app.shelf"] == frozenset({("found", "books")})
    # a relationship of a model the plan can tell: awaited where it is read
    assert ("app.book", "found", "shelf") in plan.awaitables
    assert plan.bases == frozenset({"app.Base"})
    # what a helper without an annotation returns is unknown: its relationship read would load lazily
    assert "app.anything" not in plan.functions
    assert "found.shelf" in plan.reasons["app.anything"]


def test_a_factory_that_expires_on_commit_keeps_every_view_sync(tmp_path):
    plan = plan_of(tmp_path, APP.replace("sessionmaker(expire_on_commit=False)", "sessionmaker()"))
    assert plan.functions == frozenset()


def test_the_chatbot_plan_makes_every_view_async():
    project = Project()
    for path in sorted((ROOT / "example_chatbot").rglob("*.py")):
        project.merge(gather(path, path.read_bytes()))
    plan = project.async_plan
    views = {f.rpartition(".")[2] for f in plan.functions}
    assert {
        "register", "login", "logout", "me", "create_conversation", "list_conversations", "get_conversation",
        "delete_conversation", "send_message", "stream_message", "live", "ready",
    } <= views
    assert plan.reasons == {}
    # the guard reads the database: an async dependency, its user loaded by awaiting the relationship
    assert plan.guards == frozenset({"example_chatbot.auth.login_required"})
    assert ("example_chatbot.auth.login_required", "db_token", "user") in plan.awaitables
    # the LLM client: requests on the shared aiohttp client, its generators async generators, and
    # stream() an async function whose awaited result is one of them
    assert {"example_chatbot.llm.complete", "example_chatbot.llm._post", "example_chatbot.llm._simulate_latency"} <= plan.functions
    assert plan.generators == frozenset({"example_chatbot.llm._local_stream", "example_chatbot.llm._iter_upstream_deltas"})
    assert plan.iterables == frozenset({"example_chatbot.llm.stream"})


HTTP = """
import requests
from flask import Flask, jsonify

app = Flask(__name__)


def fetch(url):
    return requests.get(url, timeout=5).json()


def upload(url, data):
    return requests.post(url, files={"f": data}).status_code


@app.get("/fetch")
def fetched():
    return jsonify(fetch("http://upstream/x"))


@app.get("/upload")
def uploaded():
    return jsonify(status=upload("http://upstream/y", b"x"))
"""


def test_requests_calls_with_an_aiohttp_form_colour_their_callers_and_others_keep_them_sync(tmp_path):
    plan = plan_of(tmp_path, HTTP)
    assert {"app.fetch", "app.fetched"} <= plan.functions
    assert "app.uploaded" not in plan.functions and "app.upload" not in plan.functions
    assert "requests.post" in plan.reasons["app.uploaded"] and "files=" in plan.reasons["app.uploaded"]




WORDS_APP = '''
import time

from flask import Flask, Response, stream_with_context

app = Flask(__name__)


def words(text):
    time.sleep(0.01)
    yield from text.split()


def chunks(text):
    return words(text)


@app.get("/words/<text>")
def streamed(text):
    parts = chunks(text.replace("-", " "))

    def generate():
        yield "start\\n"
        for part in parts:
            yield part + "\\n"

    return Response(stream_with_context(generate()), mimetype="text/plain", headers={"X-Kind": "words"})
'''

# the same app with a view that consumes the generator other than by a for loop
STREAMED = WORDS_APP + '''

@app.get("/count")
def counted():
    return {"count": len(list(words("a b")))}
'''


def test_a_generator_that_sleeps_becomes_an_async_generator_unless_consumed_other_than_by_a_for(tmp_path):
    plan = plan_of(tmp_path, STREAMED)
    # list(words(...)) in a sync view cannot take an async generator: everything stays sync
    assert "app.words" not in plan.functions
    assert "counted" in plan.reasons["app.streamed"] or "app.counted" in plan.reasons
    without = STREAMED.replace('return {"count": len(list(words("a b")))}', 'return {"count": 2}')
    plan = plan_of(tmp_path, without)
    assert {"app.words", "app.chunks", "app.streamed"} <= plan.functions
    assert plan.generators == frozenset({"app.words"}) and plan.iterables == frozenset({"app.chunks"})


def test_a_function_a_test_swaps_by_name_can_be_async(tmp_path):
    (tmp_path / "tests").mkdir()
    test = tmp_path / "tests" / "test_app.py"
    test.write_text('def test_x(monkeypatch):\n    monkeypatch.setattr(app, "fetch", lambda url: {})\n')
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent(HTTP))
    project = Project()
    for path in (app, test):
        project.merge(gather(path, path.read_bytes()))
    assert "app.fetch" in project.async_plan.functions
    # a string naming it outside the tests (dynamic dispatch) still keeps it sync
    app.write_text(textwrap.dedent(HTTP) + '\nHANDLERS = {"name": "fetch"}\nprint(getattr(__import__("app"), "fetch"))\n')
    project = Project()
    for path in (app, test):
        project.merge(gather(path, path.read_bytes()))
    assert "app.fetch" not in project.async_plan.functions




def test_a_streamed_async_generator_answers_as_the_sync_original(tmp_path):
    from codemod.testing import convert_copy
    from codemod.verify import compare

    original = tmp_path / "original"
    (original / "wordsapp").mkdir(parents=True)
    (original / "wordsapp" / "__init__.py").write_text("")
    (original / "wordsapp" / "app.py").write_text(textwrap.dedent(WORDS_APP))
    converted = convert_copy(original, tmp_path / "converted")
    code = (converted / "wordsapp" / "app.py").read_text()
    assert "async def words(text):" in code and "async for part in parts:" in code and "StreamingResponse(generate()" in code
    requests = [
        {"method": "GET", "path": "/words/a-b-c", "expect_headers": ["Content-Type", "X-Kind"]},
        {"method": "GET", "path": "/words/one", "expect_headers": ["Content-Type", "X-Kind"]},
    ]
    comparison = compare(original, converted, "wordsapp.app:app", requests)
    assert comparison.same, comparison


def test_a_function_returning_a_generator_or_a_value_keeps_both_sync(tmp_path):
    mixed = STREAMED.replace("def chunks(text):\n    return words(text)", "def chunks(text):\n    if not text:\n        return []\n    return words(text)")
    mixed = mixed.replace('return {"count": len(list(words("a b")))}', 'return {"count": 2}')
    plan = plan_of(tmp_path, mixed)
    assert "app.chunks" not in plan.functions and "app.words" not in plan.functions
    assert "returns a generator on some paths" in plan.reasons["app.streamed"]
