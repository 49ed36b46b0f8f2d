"""What Flask-SQLAlchemy added to SQLAlchemy, for a project converted to plain SQLAlchemy 2.0.

A converted project declares its models on its own ``DeclarativeBase`` and takes the request's
``Session`` from a yield dependency; these keep the parts of Flask-SQLAlchemy 3.1 whose answers
reach the client, without Flask:

- ``engine_from_config(config, instance_path)``: the engine ``db.init_app(app)`` made from
  ``SQLALCHEMY_DATABASE_URI``, ``SQLALCHEMY_ENGINE_OPTIONS`` and ``SQLALCHEMY_ECHO``, with
  Flask-SQLAlchemy's defaults: an in-memory SQLite database is one connection shared by every
  thread (a ``StaticPool``; SQLAlchemy's own default would give each thread of FastAPI's pool an
  empty database of its own), a relative SQLite path is under the app's instance folder, and
  MySQL gets ``pool_recycle=7200`` and the ``utf8mb4`` charset;
- ``get_or_404``, ``first_or_404``, ``one_or_404``: ``db.get_or_404`` and friends, which answered
  404 with the ``description`` given (werkzeug's default one without) through the app's handlers;
  here an ``HTTPException`` with that ``detail``;
- ``model_repr``: the ``__repr__`` of ``db.Model`` (``<Author 2>``), which a view may have sent;
- ``paginate(session, query, ...)``: ``db.paginate(select)`` and ``Query.paginate()``, the same
  ``page`` / ``per_page`` reading (the request's query string where not given), the same 404s
  with ``error_out``, and a ``Pagination`` with the same attributes and ``iter_pages``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, Select, create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.orm import Query, Session
from sqlalchemy.pool import StaticPool
from starlette.exceptions import HTTPException

from flask2fastapi_runtime.http_errors import description as werkzeug_description

__all__ = ["Pagination", "engine_from_config", "first_or_404", "get_or_404", "model_repr", "one_or_404", "paginate"]


def engine_from_config(config: Mapping[str, Any], instance_path: str | None = None) -> Engine:
    """The engine Flask-SQLAlchemy made for an app with this config (no SQLALCHEMY_BINDS)."""
    if config.get("SQLALCHEMY_BINDS"):
        raise RuntimeError("SQLALCHEMY_BINDS: each model picks its engine by __bind_key__, which plain SQLAlchemy does not")
    uri = config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        raise RuntimeError("Either 'SQLALCHEMY_DATABASE_URI' or 'SQLALCHEMY_BINDS' must be set.")
    options: dict[str, Any] = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("echo", bool(config.get("SQLALCHEMY_ECHO", False)))
    options.setdefault("echo_pool", bool(config.get("SQLALCHEMY_ECHO", False)))
    url = make_url(uri)
    if url.drivername.startswith("sqlite"):
        if url.database in (None, "", ":memory:"):
            options["poolclass"] = StaticPool
            options.setdefault("connect_args", {})["check_same_thread"] = False
        elif not url.database.startswith("file:") and not os.path.isabs(url.database):
            if instance_path is None:
                raise RuntimeError(f"a relative SQLite path ({url.database}) is under the app's instance folder: give instance_path")
            os.makedirs(instance_path, exist_ok=True)
            url = url.set(database=os.path.join(instance_path, url.database))
    elif url.drivername.startswith("mysql"):
        options.setdefault("pool_recycle", 7200)
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
    return create_engine(url, **options)


def model_repr(model: Any) -> str:
    """``<Author 2>``: the class and the primary key (``transient``/``pending`` and the object's
    id before it has one), as Flask-SQLAlchemy's models wrote themselves."""
    state = inspect(model)
    if state.transient:
        key = f"(transient {id(model)})"
    elif state.pending:
        key = f"(pending {id(model)})"
    else:
        key = ", ".join(map(str, state.identity))
    return f"<{type(model).__name__} {key}>"


def _not_found(description: str | None) -> HTTPException:
    return HTTPException(404, detail=description if description is not None else werkzeug_description(404))


def get_or_404(session: Session, entity: Any, ident: Any, *, description: str | None = None) -> Any:
    """``session.get(entity, ident)``, or a 404 where there is no such row."""
    value = session.get(entity, ident)
    if value is None:
        raise _not_found(description)
    return value


def first_or_404(session: Session, statement: Select, *, description: str | None = None) -> Any:
    """The first result's first column, or a 404 where there is none."""
    value = session.execute(statement).scalar()
    if value is None:
        raise _not_found(description)
    return value


def one_or_404(session: Session, statement: Select, *, description: str | None = None) -> Any:
    """The only result's first column, or a 404 where there is none or more than one."""
    try:
        return session.execute(statement).scalar_one()
    except (NoResultFound, MultipleResultsFound):
        raise _not_found(description) from None


def _arg(query: Mapping[str, Any] | None, key: str, default: int) -> Any:
    """``request.args.get(key, default)``: the first value of a repeated key, as werkzeug's MultiDict."""
    if query is None:
        return default
    getlist = getattr(query, "getlist", None)
    values = getlist(key) if getlist is not None else ([query[key]] if key in query else [])
    return values[0] if values else default


def _page_args(
    query: Mapping[str, Any] | None, page: int | None, per_page: int | None, max_per_page: int | None, error_out: bool,
) -> tuple[int, int]:
    if page is None:
        try:
            page = int(_arg(query, "page", 1))
        except (TypeError, ValueError):
            if error_out:
                raise _not_found(None) from None
            page = 1
    if per_page is None:
        try:
            per_page = int(_arg(query, "per_page", 20))
        except (TypeError, ValueError):
            if error_out:
                raise _not_found(None) from None
            per_page = 20
    if max_per_page is not None:
        per_page = min(per_page, max_per_page)
    if page < 1:
        if error_out:
            raise _not_found(None)
        page = 1
    if per_page < 1:
        if error_out:
            raise _not_found(None)
        per_page = 20
    return page, per_page


class Pagination:
    """One page of results: what Flask-SQLAlchemy's ``Pagination`` gave a view."""

    def __init__(self, page: int, per_page: int, items: list[Any], total: int | None) -> None:
        self.page, self.per_page, self.items, self.total = page, per_page, items, total

    @property
    def first(self) -> int:
        return 0 if not self.items else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return 0 if not self.items else self.first + len(self.items) - 1

    @property
    def pages(self) -> int:
        if not self.total or not self.per_page:
            return 0
        return math.ceil(self.total / self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def __iter__(self) -> Iterator[Any]:
        yield from self.items

    def iter_pages(self, *, left_edge: int = 2, left_current: int = 2, right_current: int = 4, right_edge: int = 2) -> Iterator[int | None]:
        """The page numbers of a pagination widget, ``None`` where pages are skipped."""
        # three runs of numbers: the left edge, around the current page, the right edge; None
        # where a run starts past the end of the one before (even when the middle one is empty)
        end = self.pages + 1
        middle = (max(1 + left_edge, self.page - left_current), self.page + right_current + 1)
        previous = 1
        for start, stop in ((1, 1 + left_edge), middle, (end - right_edge, end)):
            start, stop = max(start, previous), min(stop, end)
            if previous == end:
                return
            if start > previous:
                yield None
            yield from range(start, stop)
            previous = max(stop, start)


def paginate(
    session: Session | None, query: Select | Query, *, page: int | None = None, per_page: int | None = None,
    max_per_page: int | None = None, error_out: bool = True, count: bool = True, args: Mapping[str, Any] | None = None,
) -> Pagination:
    """A page of ``query``'s results: a ``select()`` run on ``session``, or a legacy ``Query``
    (a ``lazy="dynamic"`` relationship) on its own. ``args``: the request's query string, where
    ``page`` or ``per_page`` is not given."""
    page, per_page = _page_args(args, page, per_page, max_per_page, error_out)
    offset = (page - 1) * per_page
    if isinstance(query, Query):
        items = query.limit(per_page).offset(offset).all()
        total = query.order_by(None).count() if count else None
    else:
        if session is None:
            raise TypeError("a select() is paginated on a session")
        items = list(session.execute(query.limit(per_page).offset(offset)).unique().scalars())
        counted = select(func.count()).select_from(query.order_by(None).subquery())
        total = session.execute(counted).scalar() if count else None
    if not items and page != 1 and error_out:
        raise _not_found(None)
    return Pagination(page, per_page, items, total)
