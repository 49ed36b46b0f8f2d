"""Modules that the converter writes into a converted project when its code needs them.

Each is ordinary, tested code: ``flask_compat.py`` is copied as it is to the top package of a
converted project (next to the script for a project without packages).
"""

from pathlib import Path

SUPPORT_DIR = Path(__file__).resolve().parent


def source(name: str) -> bytes:
    return (SUPPORT_DIR / f"{name}.py").read_bytes()
