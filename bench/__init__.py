"""Benchmarks: ``make bench`` runs ``bench/run.py``, which writes BENCHMARKS.md.

Each benchmark is a module here with ``NAME``, ``TITLE``, ``DESCRIPTION`` and
``run(ctx) -> list[Result]``, listed in ``bench.run.BENCHMARKS``.
"""
