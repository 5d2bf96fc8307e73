"""BENCHMARKS.md: a header (when, where, how) and one section per benchmark.

Sections are delimited by HTML comments, so running one benchmark (``--only``) replaces its
own section and keeps the others' last figures.
"""

from __future__ import annotations

import re
from pathlib import Path

from .context import Result

HEADER_END = "<!-- benchmarks -->"
_SECTION = re.compile(r"<!-- bench:(?P<name>[\w-]+) -->\n.*?<!-- /bench:(?P=name) -->\n", re.S)


def render_section(
    module, results: list[Result], *, measured_at: str, options: str, load: str = ""
) -> str:
    lines = [
        f"<!-- bench:{module.NAME} -->",
        f"## {module.TITLE} (`{module.NAME}`)",
        "",
        module.DESCRIPTION,
        "",
        f"Measured {measured_at} with {options}." + (f" {load}" if load else ""),
        "",
        "| Measure | Result | Target | Met | Notes |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.measure} | {r.value} | {r.target} | {met} | {r.note} |")
    lines += ["", f"<!-- /bench:{module.NAME} -->", ""]
    return "\n".join(lines)


def render_header(*, measured_at: str, machine: dict[str, str]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`bench/run.py`), which recreates a dedicated database",
        "(`collections_bench`, never the test or demo one) on the PostgreSQL of `DATABASE_URL`,",
        "migrates it and runs every benchmark in `bench/`. Figures are from one run on the",
        "machine below; run `make bench` to measure yours (`bench/run.py --only NAME` for one).",
        "",
        f"Last run: {measured_at}",
        "",
        "| Machine | |",
        "|---|---|",
    ]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    lines += ["", HEADER_END, ""]
    return "\n".join(lines)


def write(path: Path, header: str, sections: dict[str, str], order: list[str]) -> None:
    """Write ``header`` and the sections; keep earlier sections of benchmarks not run now."""
    existing: dict[str, str] = {}
    if path.exists():
        existing = {m.group("name"): m.group(0) for m in _SECTION.finditer(path.read_text())}
    merged = {**existing, **sections}
    names = [n for n in order if n in merged] + [n for n in merged if n not in order]
    path.write_text(header + "\n" + "\n".join(merged[n] for n in names))
