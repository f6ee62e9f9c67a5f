"""README.md and docs/*.md stay tested pages: no code block escapes the doctest run.

pyproject's pytest settings run every page as a doctest (docs/conftest.py sets the folder
and the needs_dot rule). These tests hold the rules that keep that true: every ```python
block is a doctest session, no code block hides under another language, pytest collects
every page that has Python, and the links between pages lead somewhere.
Reference: the pages' own text, and pytest's own list of what it collects.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

LANGUAGES = {
    "python": "a doctest session: `>>>` prompts and the expected output, run by pytest",
    "sh": "shell commands, not run (keep them accurate)",
    "text": "a diagram or other text, not run",
}
"""The languages a code block may have, and what is done with each."""

_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def code_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line number, language, body) of each fenced code block in a Markdown text."""
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(1).strip(), m.group(2))
        for m in _FENCE.finditer(text)
    ]


def block_problems(text: str) -> list[str]:
    """What is wrong with the code blocks of `text`, one line each (line: problem)."""
    problems = []
    for line, language, body in code_blocks(text):
        if language not in LANGUAGES:
            problems.append(
                f"{line}: a ```{language} block; use one of "
                + "; ".join(f"{k} ({v})" for k, v in LANGUAGES.items())
            )
        elif language == "python" and not any(
            row.lstrip().startswith(">>>") for row in body.splitlines()
        ):
            problems.append(f"{line}: a ```python block without `>>>`: doctest would not run it")
        elif language == "python" and not body.endswith("\n\n"):
            # Without it, doctest reads the closing ``` as the last example's expected output.
            problems.append(f"{line}: a ```python block must end with a blank line")
    return problems


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", text, re.MULTILINE)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_code_block_is_a_doctest_or_says_it_is_not_code(page: Path) -> None:
    problems = block_problems(page.read_text(encoding="utf-8"))
    assert not problems, f"{page.name}:\n" + "\n".join(problems)


def test_the_block_checker_finds_planted_problems() -> None:
    # Reference: a hand-made page with one block of each kind of problem, and good ones.
    page = (
        "# t\n\n```python\n>>> 1 + 1\n2\n\n```\n\n"  # good
        "```sh\nls\n```\n\n"  # good
        "```python\nx = 1\n```\n\n"  # line 13: no prompt
        "```py\n>>> 1\n1\n\n```\n\n"  # line 17: another language
        "```\nx = 1\n```\n\n"  # line 23: no language
        "```python\n>>> 1\n1\n```\n"  # line 27: no blank line before the fence
    )
    found = [p.split(":")[0] for p in block_problems(page)]
    assert found == ["13", "17", "23", "27"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_lead_to_files_and_headings_that_exist(page: Path) -> None:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # https:, mailto: ...: not checked here
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no such heading in {dest.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_pytest_collects_every_page_that_has_python() -> None:
    # Reference: pytest's own list of the items a plain `pytest` run would collect.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    collected = set(result.stdout.splitlines())
    for page in PAGES:
        if any(lang == "python" for _, lang, _ in code_blocks(page.read_text(encoding="utf-8"))):
            name = page.relative_to(ROOT).as_posix()
            assert f"{name}::{page.name}" in collected, f"pytest does not collect {name}"
