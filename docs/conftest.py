"""How the pages in docs/ run as tests: each page is one doctest (see pyproject's pytest settings).

A page's code runs in a temporary folder, so the files its examples write land there. A page
that runs Graphviz's `dot` is marked `needs_dot`, so tests/conftest.py's rule applies to it:
skipped with a reason where `dot` is missing, a failure in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import conftest as tests_conftest

# The needs_dot rule itself, reused: a conftest's hooks reach only the tests below its folder.
pytest_runtest_setup = tests_conftest.pytest_runtest_setup

HERE = Path(__file__).resolve().parent

PAGES_THAT_RUN_DOT = {"drawing.md", "stepping.md"}
"""The pages whose examples lay out a drawing with `dot` (writing .png, .svg or .pdf)."""


@pytest.hookimpl(trylast=True)  # after tests/conftest.py's, when both are loaded
def pytest_configure(config: pytest.Config) -> None:
    """Declare the needs_dot marker, unless tests/conftest.py has (when docs/ runs alone)."""
    if not any(line.startswith("needs_dot:") for line in config.getini("markers")):
        tests_conftest.pytest_configure(config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == HERE and item.path.name in PAGES_THAT_RUN_DOT:
            item.add_marker("needs_dot")


@pytest.fixture(autouse=True)
def _in_a_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each page in a folder of its own, so that files its examples write go there."""
    monkeypatch.chdir(tmp_path)
