"""Test settings: hypothesis searches briefly by default, at length with AUTOGRAD_LITE_FUZZ=1.

Tests marked `needs_dot` skip with a reason where Graphviz's `dot` is missing (not in CI).
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FUZZ = os.environ.get("AUTOGRAD_LITE_FUZZ") == "1"
"""True when AUTOGRAD_LITE_FUZZ=1: the one switch for every long randomized run."""

settings.load_profile("fuzz" if FUZZ else "default")


# -- tests that need Graphviz's `dot` -------------------------------------------------------
NEEDS_DOT = "needs Graphviz's `dot` program: sudo apt-get install graphviz, or run sh setup.sh"
"""Why a test marked `needs_dot` is skipped where `dot` is missing, in words a user can act on."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"needs_dot: the test runs `dot`; it {NEEDS_DOT}")


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures, which may run `dot` themselves
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a `needs_dot` test when `dot` is missing, except in CI, where that is a failure."""
    if item.get_closest_marker("needs_dot") is None or shutil.which("dot") is not None:
        return
    if os.environ.get("CI"):  # CI installs `dot` through setup.sh: its absence is a bug there
        pytest.fail(f"`dot` is not on PATH in CI; this test {NEEDS_DOT}", pytrace=False)
    pytest.skip(NEEDS_DOT)
