"""Flask-SQLAlchemy's helpers over an AsyncSession (async_sqla): each answers as the extension
did, checked against Flask-SQLAlchemy itself on the same rows and the same query strings."""

import asyncio

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from werkzeug.exceptions import NotFound

from flask2fastapi_runtime import async_sqla
from flask2fastapi_runtime.async_db import async_session
from flask2fastapi_runtime.sqla import engine_from_config


class Base(DeclarativeBase):
    pass


class Volume(Base):
    __tablename__ = "volume"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(20))


flask_db = SQLAlchemy()


class FlaskVolume(flask_db.Model):
    __tablename__ = "volume"
    id = flask_db.Column(flask_db.Integer, primary_key=True)
    title = flask_db.Column(flask_db.String(20))


@pytest.fixture(scope="module")
def both():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    flask_db.init_app(app)
    engine = engine_from_config(app.config)
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    with factory() as session:
        session.add_all(Volume(title=f"v{i}") for i in range(7))
        session.commit()
    with app.app_context():
        flask_db.create_all()
        flask_db.session.add_all(FlaskVolume(title=f"v{i}") for i in range(7))
        flask_db.session.commit()
    return app, factory


def _ours(factory, call):
    async def run():
        session = async_session(factory)
        try:
            return await call(session)
        except HTTPException as error:
            return error.status_code, error.detail
        finally:
            await session.close()

    return asyncio.run(run())


def _theirs(app, call, query_string=""):
    with app.test_request_context(query_string=query_string):
        try:
            return call()
        except NotFound as error:
            return 404, error.description


def _page(page):
    return page.page, page.per_page, page.total, page.pages, [b.title for b in page.items], list(page.iter_pages()), page.prev_num, page.next_num


@pytest.mark.parametrize("query_string", ["", "page=2&per_page=3", "page=3&per_page=3", "page=4&per_page=3", "page=0", "page=x",
                                          "per_page=-1", "page=2&page=9&per_page=2", "per_page=50"])
@pytest.mark.parametrize("options", [{}, {"error_out": False}, {"max_per_page": 2}, {"page": 2, "per_page": 1}, {"count": False}])
def test_paginate_reads_and_refuses_as_flask_sqlalchemy(both, query_string, options):
    app, factory = both

    async def ours(session):
        return _page(await async_sqla.paginate(session, select(Volume).order_by(Volume.id), args=QueryParams(query_string), **options))

    theirs = _theirs(app, lambda: _page(flask_db.paginate(select(FlaskVolume).order_by(FlaskVolume.id), **options)), query_string)
    assert _ours(factory, ours) == theirs


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda s: async_sqla.get_or_404(s, Volume, 2), lambda: flask_db.get_or_404(FlaskVolume, 2)),
        (lambda s: async_sqla.get_or_404(s, Volume, 99), lambda: flask_db.get_or_404(FlaskVolume, 99)),
        (lambda s: async_sqla.get_or_404(s, Volume, 99, description="gone"), lambda: flask_db.get_or_404(FlaskVolume, 99, description="gone")),
        (lambda s: async_sqla.first_or_404(s, select(Volume).order_by(Volume.id.desc())), lambda: flask_db.first_or_404(select(FlaskVolume).order_by(FlaskVolume.id.desc()))),
        (lambda s: async_sqla.first_or_404(s, select(Volume).filter_by(title="z"), description="No z"), lambda: flask_db.first_or_404(select(FlaskVolume).filter_by(title="z"), description="No z")),
        (lambda s: async_sqla.one_or_404(s, select(Volume).filter_by(title="v4")), lambda: flask_db.one_or_404(select(FlaskVolume).filter_by(title="v4"))),
        (lambda s: async_sqla.one_or_404(s, select(Volume)), lambda: flask_db.one_or_404(select(FlaskVolume))),  # more than one
        (lambda s: async_sqla.one_or_404(s, select(Volume).filter_by(title="z"), description="none"), lambda: flask_db.one_or_404(select(FlaskVolume).filter_by(title="z"), description="none")),
    ],
)
def test_the_404_helpers_answer_as_flask_sqlalchemy_s(both, ours, theirs):
    app, factory = both

    async def row(session):
        found = await ours(session)
        return (found.id, found.title)

    def flask_row():
        found = theirs()
        return (found.id, found.title)

    assert _ours(factory, row) == _theirs(app, flask_row)
