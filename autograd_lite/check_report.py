"""The verdict of a gradient check: each entry's analytical and numerical value compared, and
when any differ, the table of every entry that `GradcheckError` carries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .rulecheck import RuleFault

Locate = Callable[[], RuleFault | None]
"""Searches the graph of a failing check for the op whose rule is wrong (find_wrong_rule)."""
Entry = tuple[tuple[Any, ...], tuple[str, ...], Any, Any]
"""One entry of a check: its fields (named by the table's header), those fields as table
cells, the analytical and the numerical value."""
Table = tuple[list[str], Sequence[Entry], Sequence[str]]
"""A check's table before judging: header, entries and notes to print below it."""


class Failure(NamedTuple):
    """A failed check: what `GradcheckError` is raised with."""

    message: str
    """The table of entries, failing rows marked, and the op at fault (or a line saying none
    was found)."""
    rows: list[dict[str, Any]]
    """One dict per entry: the table's columns and "ok"."""
    fault: RuleFault | None
    """The op whose rule is wrong, if the search found one."""


def fmt(x: float) -> str:
    """A number in a check's table: ten significant digits."""
    return f"{x:.10g}"


def compare(
    where: str,
    header: list[str],
    entries: Sequence[Entry],
    notes: Sequence[str],
    eps: float,
    atol: float,
    rtol: float,
    locate: Locate,
    shown: int | None,
) -> Failure | None:
    """Compare each entry's analytical and numerical value: None if all agree, else the
    failure, with the table. With `shown`, a table of more entries than that lists
    only the failing ones (at most `shown` of them). On failure, `notes` follow the table,
    then the op at fault `locate` finds, or a line that says none was found."""
    rows: list[dict[str, Any]] = []
    cells: list[list[str]] = []
    for fields, cell_text, analytical, numerical in entries:
        a, n = float(analytical), float(numerical)
        row = dict(zip(header, fields))
        row.update(analytical=a, numerical=n, difference=a - n, ok=_close(a, n, atol, rtol))
        rows.append(row)
        cells.append([*cell_text, fmt(a), fmt(n), fmt(a - n)])
    header = [*header, "analytical", "numerical", "difference"]
    failed = sum(not r["ok"] for r in rows)
    if not failed:
        return None
    listed = list(range(len(rows)))
    note = []
    if shown is not None and len(rows) > shown:
        listed = [k for k in listed if not rows[k]["ok"]][:shown]
        note = [
            f"  (listing {len(listed)} of the {failed} failing entries; every entry is in "
            f"the error's .rows)"
        ]
    table = [header, *(cells[k] for k in listed)]
    widths = [max(len(line[c]) for line in table) for c in range(len(header))]
    lines = [
        f"{where} failed: {failed} of {len(rows)} entries differ by more than "
        f"atol + rtol*|numerical| (eps={eps:g}, atol={atol:g}, rtol={rtol:g})",
        *note,
    ]
    for k, line in enumerate(table):
        text = "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
        mark = "" if k == 0 or rows[listed[k - 1]]["ok"] else "  <-- FAIL"
        lines.append(f"  {text}{mark}")
    lines += notes
    fault = None
    try:
        fault = locate()
        lines.append(f"  {fault}" if fault is not None else _NO_FAULT)
    except Exception as e:  # the table is what was asked for: a failed search must not hide it
        lines.append(f"  the search for the op at fault stopped: {type(e).__name__}: {e}")
    return Failure("\n".join(lines), rows, fault)


_NO_FAULT = (
    "  no single op's rule was found at fault: every op's rule agrees with finite differences "
    "at the values recorded in the graph, so the difference comes from fn itself: it is not "
    "differentiable there (a probe across a kink such as relu's at 0, or a step), or it "
    "leaves the graph (reads .data or .item())"
)


def _close(analytical: float, numerical: float, atol: float, rtol: float) -> bool:
    # Written so that nan or inf on either side fails.
    return bool(abs(analytical - numerical) <= atol + rtol * abs(numerical))
