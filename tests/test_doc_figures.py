"""The measured figures the pages quote: each table names its run, and no workload is given
two different figures for the same engine.

Reference: the pages' own text (README.md and docs/*.md). No timing is taken here.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_docs import PAGES

_UNIT = re.compile(r"\d\s*(ns|µs|ms|s|MB|GB)\b")
_WORKLOAD = re.compile(r"^(W\d)\b")
_SIZE = re.compile(r"N\s*=\s*([\d.,e]+)")
_RUN = re.compile(r"bench/\w+\.py.*?commit [0-9a-f]{7}", re.DOTALL)


def tables(page: Path) -> list[tuple[str, list[list[str]]]]:
    """Each markdown table of `page` with the paragraph just before it."""
    found = []
    blocks = re.split(r"\n\s*\n", page.read_text(encoding="utf-8"))
    for before, block in zip(["", *blocks], blocks):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if len(lines) >= 3 and set(lines[1]) <= set("|-: "):
            rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
            found.append((before, [rows[0], *rows[2:]]))
    return found


def engine(header: str) -> str:
    """A column heading as the engine it times: the interpreted engine's build + backward
    under either of its names, hand-written code under any of its names."""
    if header.startswith("hand-written"):
        return "hand-written"
    if header in ("autograd-lite", "build + backward()", "build + backward"):
        return "autograd-lite"
    return header


def test_every_table_of_figures_names_its_run() -> None:
    for page in PAGES:
        for before, rows in tables(page):
            if any(_UNIT.search(cell) for row in rows[1:] for cell in row[1:]):
                assert _RUN.search(before), (
                    f"{page.name}: the table {rows[0]} quotes figures but the paragraph before "
                    f"it names no run (the bench/ command and the commit)"
                )


def test_no_workload_has_two_figures_for_one_engine() -> None:
    quoted: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
    for page in PAGES:
        for _, (header, *rows) in tables(page):
            for row in rows:
                workload = _WORKLOAD.match(row[0])
                if workload is None:
                    continue
                size = _SIZE.search(row[0])
                n = str(float(size.group(1).replace(",", ""))) if size else ""
                for heading, cell in zip(header[1:], row[1:]):
                    key = (workload.group(1), n, engine(heading))
                    quoted.setdefault(key, set()).add((page.name, cell))
    twice = {key: where for key, where in quoted.items() if len(where) > 1}
    assert not twice, f"quoted more than once (keep one, link to it): {twice}"
