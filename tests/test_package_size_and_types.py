"""Two of the package's rules, read off its source files: no module over ~500 lines, and no
`type: ignore` except at a third-party boundary that cannot be typed, named in a comment.

Reference: the files' text itself (line counts, the ignore comments), against the limits the
engineering rules set; nothing is imported or run.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "autograd_lite"
MOST_LINES = 500

BOUNDARY = "third-party boundary"
"""What the comment on (or just above) an allowed `type: ignore` says."""


def _files() -> dict[str, list[str]]:
    return {
        p.relative_to(PACKAGE).as_posix(): p.read_text().splitlines()
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def test_no_module_is_much_over_500_lines() -> None:
    long = {name for name, lines in _files().items() if len(lines) > MOST_LINES}
    assert not long, f"over {MOST_LINES} lines: {sorted(long)}"


def test_type_ignore_only_at_a_named_third_party_boundary() -> None:
    unnamed = []
    for name, lines in _files().items():
        for k, line in enumerate(lines):
            if "type: ignore" not in line:
                continue
            above = " ".join(lines[max(0, k - 3) : k + 1])
            if BOUNDARY not in above.lower():
                unnamed.append(f"{name}:{k + 1}: {line.strip()}")
    assert not unnamed, "type: ignore without a named third-party boundary:\n" + "\n".join(unnamed)
