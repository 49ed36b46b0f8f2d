"""Flask-SQLAlchemy's 404 helpers and pagination over an ``AsyncSession``.

The async twins of ``sqla.py``'s ``get_or_404``, ``first_or_404``, ``one_or_404`` and
``paginate``, for a converted view that is ``async def``: the same SQL, the same ``page`` /
``per_page`` reading (the request's query string where not given), the same 404s (an
``HTTPException`` with the ``description`` given, werkzeug's default one without, which the app's
404 handler answers as Flask's ``abort(404)`` was) and the same ``Pagination``. A legacy ``Query``
(a ``lazy="dynamic"`` relationship) has no async form: the converter pages it with ``sqla.paginate``
inside ``AsyncSession.run_sync``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession

from flask2fastapi_runtime.sqla import Pagination, _not_found, _page_args

__all__ = ["first_or_404", "get_or_404", "one_or_404", "paginate"]


async def get_or_404(session: AsyncSession, entity: Any, ident: Any, *, description: str | None = None) -> Any:
    """``await session.get(entity, ident)``, or a 404 where there is no such row."""
    value = await session.get(entity, ident)
    if value is None:
        raise _not_found(description)
    return value


async def first_or_404(session: AsyncSession, statement: Select, *, description: str | None = None) -> Any:
    """The first result's first column, or a 404 where there is none."""
    value = (await session.execute(statement)).scalar()
    if value is None:
        raise _not_found(description)
    return value


async def one_or_404(session: AsyncSession, statement: Select, *, description: str | None = None) -> Any:
    """The only result's first column, or a 404 where there is none or more than one."""
    try:
        return (await session.execute(statement)).scalar_one()
    except (NoResultFound, MultipleResultsFound):
        raise _not_found(description) from None


async def paginate(
    session: AsyncSession, query: Select, *, page: int | None = None, per_page: int | None = None,
    max_per_page: int | None = None, error_out: bool = True, count: bool = True, args: Mapping[str, Any] | None = None,
) -> Pagination:
    """A page of the ``select()``'s results. ``args``: the request's query string, where ``page``
    or ``per_page`` is not given."""
    page, per_page = _page_args(args, page, per_page, max_per_page, error_out)
    result = await session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = list(result.unique().scalars())
    total = None
    if count:
        total = (await session.execute(select(func.count()).select_from(query.order_by(None).subquery()))).scalar()
    if not items and page != 1 and error_out:
        raise _not_found(None)
    return Pagination(page, per_page, items, total)
