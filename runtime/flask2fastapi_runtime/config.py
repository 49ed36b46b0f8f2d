"""``Config``: a converted app's settings, loaded the ways a Flask app's ``config`` loads them.

Once a project no longer needs Flask, its factory still reads its settings as it did
(``app.config.from_object(Config)``, ``from_pyfile("config.py", silent=True)``,
``from_mapping(overrides)``, ``from_prefixed_env()``) and its code still reads
``app.config["X"]`` and ``settings["X"]`` (the ``Settings`` dependency gives this mapping). The
rules are Flask's documented ones, so the same files and environment give the same settings:

- ``from_object``: the UPPERCASE attributes of an object, a class or an import string;
- ``from_pyfile``: a Python file run as a module, relative to the app's root folder (its
  instance folder with ``instance_relative_config=True``), its UPPERCASE names taken;
- ``from_mapping`` / ``update``: UPPERCASE keys only for ``from_mapping``;
- ``from_envvar``: ``from_pyfile`` of the file an environment variable names;
- ``from_prefixed_env``: ``FLASK_X=value`` sets ``X`` to ``json.loads(value)`` (the string itself
  where that fails), ``FLASK_A__B`` sets ``B`` in the dict ``A``;
- ``from_file(name, load)``: a file read by ``load`` (``json.load``, ``tomllib.load``);
- ``get_namespace("DB_")``: the keys with that prefix, lowercased and without it.

It starts with the defaults of Flask's that converted code may read (``DEBUG`` from
``FLASK_DEBUG``, ``TESTING``, ``PROPAGATE_EXCEPTIONS``, ``SECRET_KEY``, ``MAX_CONTENT_LENGTH``...).
"""

from __future__ import annotations

import importlib
import json
import os
import types
from collections.abc import Callable, Mapping
from typing import IO, Any

__all__ = ["Config", "DEFAULTS"]

DEFAULTS: dict[str, Any] = {
    "DEBUG": False,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "PREFERRED_URL_SCHEME": "http",
    "MAX_CONTENT_LENGTH": None,
    "TRAP_HTTP_EXCEPTIONS": False,
}


class Config(dict):
    """The settings mapping with Flask's loaders (module doc); ``root_path`` is the folder that
    relative file names are read from."""

    def __init__(self, root_path: str | os.PathLike[str], defaults: Mapping[str, Any] | None = None) -> None:
        super().__init__(DEFAULTS if defaults is None else defaults)
        self.root_path = os.fspath(root_path)

    def from_object(self, obj: object | str) -> None:
        if isinstance(obj, str):
            obj = _imported(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        path = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = path
        try:
            with open(path, mode="rb") as handle:
                exec(compile(handle.read(), path, "exec"), module.__dict__)  # the file is the project's own code
        except OSError as error:
            if silent and _missing(error):
                return False
            error.strerror = f"Unable to load configuration file ({error.strerror})"
            raise
        self.from_object(module)
        return True

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        filename = os.environ.get(variable_name)
        if not filename:
            if silent:
                return False
            raise RuntimeError(f"The environment variable {variable_name!r} is not set: it should name a configuration file")
        return self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(self, prefix: str = "FLASK", *, loads: Callable[[str], Any] = json.loads) -> bool:
        start = f"{prefix}_"
        for name in sorted(os.environ):
            if not name.startswith(start):
                continue
            raw = os.environ[name]
            try:
                value = loads(raw)
            except Exception:
                value = raw  # not JSON: the string itself
            key = name[len(start):]
            if "__" not in key:
                self[key] = value
                continue
            *parents, last = key.split("__")
            current: dict[str, Any] = self
            for part in parents:
                current = current.setdefault(part, {})
            current[last] = value
        return True

    def from_file(self, filename: str | os.PathLike[str], load: Callable[[IO[Any]], Mapping[str, Any]], silent: bool = False, text: bool = True) -> bool:
        path = os.path.join(self.root_path, filename)
        try:
            with open(path, "r" if text else "rb") as handle:
                values = load(handle)
        except OSError as error:
            if silent and _missing(error):
                return False
            error.strerror = f"Unable to load configuration file ({error.strerror})"
            raise
        return self.from_mapping(values)

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        values = {**(mapping or {}), **kwargs}
        for key, value in values.items():
            if key.isupper():
                self[key] = value
        return True

    def get_namespace(self, namespace: str, lowercase: bool = True, trim_namespace: bool = True) -> dict[str, Any]:
        found = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace):] if trim_namespace else key
            found[name.lower() if lowercase else name] = value
        return found

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


def _imported(name: str) -> Any:
    """``package.module:attr``, ``package.module.attr`` or a module's name, imported."""
    module_name, _, attribute = name.replace(":", ".").rpartition(".")
    try:
        return importlib.import_module(name)
    except ImportError:
        if not module_name:
            raise
    return getattr(importlib.import_module(module_name), attribute)


def _missing(error: OSError) -> bool:
    import errno

    return error.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR)
