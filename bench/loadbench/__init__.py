"""Pieces of bench/load.py, the load benchmark of issue 11 (see bench/README.md)."""
