"""Flask-SQLAlchemy's helpers without Flask (sqla): each answers as the extension did, checked
against Flask-SQLAlchemy itself on the same rows and the same query strings."""

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker
from sqlalchemy.pool import StaticPool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from werkzeug.exceptions import NotFound

from flask2fastapi_runtime.sqla import engine_from_config, first_or_404, get_or_404, model_repr, one_or_404, paginate


class Base(DeclarativeBase):
    __repr__ = model_repr


class Shelf(Base):
    __tablename__ = "shelf"
    id: Mapped[int] = mapped_column(primary_key=True)
    books = relationship("Book", lazy="dynamic")


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(20))
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelf.id"))


flask_db = SQLAlchemy()


class FlaskBook(flask_db.Model):
    __tablename__ = "book"
    id = flask_db.Column(flask_db.Integer, primary_key=True)
    title = flask_db.Column(flask_db.String(20))
    shelf_id = flask_db.Column(flask_db.Integer)


@pytest.fixture(scope="module")
def both():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    flask_db.init_app(app)
    engine = engine_from_config(app.config)
    Base.metadata.create_all(engine)
    session = sessionmaker(engine)()
    session.add(Shelf(id=1))
    session.add_all(Book(title=f"b{i}", shelf_id=1) for i in range(7))
    session.commit()
    with app.app_context():
        flask_db.create_all()
        flask_db.session.add_all(FlaskBook(title=f"b{i}", shelf_id=1) for i in range(7))
        flask_db.session.commit()
    yield app, session
    session.close()


def _flask(app, query_string, **kw):
    with app.test_request_context(query_string=query_string):
        try:
            page = flask_db.paginate(select(FlaskBook).order_by(FlaskBook.id), **kw)
        except NotFound as error:
            return 404, error.description
        return page.page, page.per_page, page.total, page.pages, [b.title for b in page.items], list(page.iter_pages()), page.prev_num, page.next_num


def _ours(session, query_string, **kw):
    try:
        page = paginate(session, select(Book).order_by(Book.id), args=QueryParams(query_string), **kw)
    except HTTPException as error:
        return error.status_code, error.detail
    return page.page, page.per_page, page.total, page.pages, [b.title for b in page.items], list(page.iter_pages()), page.prev_num, page.next_num


@pytest.mark.parametrize("query_string", ["", "page=2&per_page=3", "page=3&per_page=3", "page=4&per_page=3", "page=0", "page=x",
                                          "per_page=-1", "per_page=", "page=2&page=9&per_page=2", "per_page=50"])
@pytest.mark.parametrize("options", [{}, {"error_out": False}, {"max_per_page": 2}, {"page": 2, "per_page": 1}])
def test_paginate_reads_and_refuses_as_flask_sqlalchemy(both, query_string, options):
    app, session = both
    assert _ours(session, query_string, **options) == _flask(app, query_string, **options)


def test_a_dynamic_relationship_pages_as_its_query(both):
    _, session = both
    page = paginate(session, session.get(Shelf, 1).books.order_by(Book.id.desc()), page=2, per_page=3)
    assert ([b.title for b in page.items], page.total, page.pages, page.has_next) == (["b3", "b2", "b1"], 7, 3, True)
    with pytest.raises(HTTPException) as refused:
        paginate(session, session.get(Shelf, 1).books, page=4, per_page=3)
    assert refused.value.status_code == 404


def test_the_404_helpers_answer_with_the_description(both):
    app, session = both
    assert get_or_404(session, Book, 2).title == "b1"
    with app.app_context():
        with pytest.raises(NotFound) as flask_error:
            flask_db.get_or_404(FlaskBook, 99)
    for call in (lambda: get_or_404(session, Book, 99), lambda: first_or_404(session, select(Book).filter_by(title="z")),
                 lambda: one_or_404(session, select(Book))):
        with pytest.raises(HTTPException) as error:
            call()
        assert (error.value.status_code, error.value.detail) == (404, flask_error.value.description)
    with pytest.raises(HTTPException) as error:
        first_or_404(session, select(Book).filter_by(title="z"), description="No book z")
    assert error.value.detail == "No book z"
    assert one_or_404(session, select(Book).filter_by(title="b4")).id == 5


def test_models_write_themselves_as_flask_sqlalchemy_s(both):
    _, session = both
    assert repr(session.get(Book, 3)) == "<Book 3>"
    book = Book(title="new", shelf_id=1)
    assert repr(book) == f"<Book (transient {id(book)})>"


def test_the_engine_keeps_flask_sqlalchemy_s_defaults(tmp_path):
    memory = engine_from_config({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert isinstance(memory.pool, StaticPool)
    relative = engine_from_config({"SQLALCHEMY_DATABASE_URI": "sqlite:///shop.db", "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}}, str(tmp_path / "instance"))
    assert relative.url.database == str(tmp_path / "instance" / "shop.db")
    with pytest.raises(RuntimeError):
        engine_from_config({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SQLALCHEMY_BINDS": {"other": "sqlite://"}})
