"""The app's settings as a dependency: ``settings: Settings`` where Flask read ``current_app.config``.

Flask code reads its configuration from ``current_app.config``, a context local that FastAPI
has no equal of. A converted view takes the mapping as a parameter instead, and hands it to the
functions it calls::

    from flask2fastapi_runtime import Settings

    @router.get("/items", name="items.list_items")
    def list_items(settings: Settings):
        return {"per_page": settings["PER_PAGE"]}

``app_settings(request)`` gives the mapping of the app serving the request (``settings_of``):

- the app's own, where it sets one: ``app.state.settings = {...}``. An app that no longer holds
  a Flask app gives its configuration there, for instance the ``model_dump()`` of a
  pydantic-settings class whose fields are named as the keys the views read;
- else, on a ``FlaskBridge``, the Flask app's ``config`` itself: the object Flask loaded
  (``from_object``, ``from_pyfile``, ``from_mapping``, ``from_prefixed_env``) and that code may
  still change (``app.config.update(...)`` in a test). It is the same object as ``current_app.config``
  during the request, so a view reads what the unconverted code around it reads.

The mapping outlives the request: a streamed body that runs after the view returned may keep it.

``app_settings`` is an ``async def``: FastAPI calls it on the event loop, so taking the settings
costs no thread-pool call (a converted request crosses the pool once, for Flask's whole cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request

__all__ = ["Settings", "app_settings", "settings_of"]


def settings_of(app: Any) -> Mapping[str, Any]:
    """The settings of a FastAPI app: ``app.state.settings`` when set, else the config of the
    Flask app a FlaskBridge holds. LookupError for an app that has neither."""
    own = getattr(app.state, "settings", None)
    if own is not None:
        return own
    flask_app = getattr(app, "flask_app", None)  # a FlaskBridge (no import: this works without Flask)
    if flask_app is not None:
        return flask_app.config
    config = getattr(app, "config", None)  # a NativeApp's
    if isinstance(config, Mapping):
        return config
    raise LookupError(f"{type(app).__name__} has no settings: set app.state.settings to a mapping")


async def app_settings(request: Request) -> Mapping[str, Any]:
    """The dependency: the settings of the app serving ``request`` (``settings_of``)."""
    return settings_of(request.app)


Settings = Annotated[Mapping[str, Any], Depends(app_settings)]
"""A path operation parameter ``settings: Settings`` is the app's settings mapping."""
