"""Gradient checks against central finite differences (being written: issue 5)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare the engine's gradients of fn(*inputs) with central finite differences."""
    raise NotImplementedError


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Like gradcheck, for second derivatives."""
    raise NotImplementedError
