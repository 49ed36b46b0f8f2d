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


def test_the_chatbot_plan_names_why_each_sync_view_stays_sync():
    project = Project()
    for path in sorted((ROOT / "example_chatbot").rglob("*.py")):
        project.merge(gather(path, path.read_bytes()))
    plan = project.async_plan
    views = {f.rpartition(".")[2] for f in plan.functions}
    assert {"register", "login", "logout", "me", "create_conversation", "list_conversations", "live", "ready"} <= views
    # the guard reads the database: an async dependency, its user loaded by awaiting the relationship
    assert plan.guards == frozenset({"example_chatbot.auth.login_required"})
    assert ("example_chatbot.auth.login_required", "db_token", "user") in plan.awaitables
    # the streamed reply's generator calls _store_exchange after the view returned: no await there
    assert "cannot be awaited" in plan.reasons["example_chatbot.chat.send_message"]
    assert plan.reasons["example_chatbot.conversations.get_conversation"].startswith(
        "calls conversations.get_owned_conversation, which stays sync: "
    )
