"""Every example script reads its command line: --help describes it, a bogus argument is a
usage error (exit 2, a message) before anything runs. The bench scripts' --help names no
path of one machine.

Reference: argparse's documented behaviour (--help exits 0 with "usage:"; an unknown
argument exits 2 with "unrecognized arguments") and each script's own docstring.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.py"))


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_help_describes_the_example(script: Path) -> None:
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert docstring, f"{script.name} has no docstring to describe it"
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {script.name}")
    assert docstring.splitlines()[0] in " ".join(result.stdout.split())


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_an_unknown_argument_is_a_usage_error_before_anything_runs(script: Path) -> None:
    result = run(script, "--no-such-flag")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "unrecognized arguments: --no-such-flag" in result.stderr
    assert f"usage: {script.name}" in result.stderr and "Traceback" not in result.stderr


BENCH = [REPO / "bench" / "bench.py", REPO / "bench" / "tensors.py", REPO / "bench" / "codegen.py"]


@pytest.mark.parametrize("script", BENCH, ids=[p.name for p in BENCH])
def test_bench_help_names_no_path_of_one_machine(script: Path) -> None:
    """Its commands are relative to the checkout, as bench/README.md gives them."""
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {script.name}")
    assert not re.search(r"(^|[\s(`'\"])/\w", result.stdout), result.stdout
