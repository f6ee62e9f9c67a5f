"""What a gradient is for each kind of data, in one place (HIPS autograd's `VSpace` idea).

A node's gradient has the kind of its data: a float for a number (`Value`, a scalar `Dual`),
an array of the same shape and dtype for an array (`Tensor`, an array `Dual`). The node
types' hooks (`_seed`, `_zero`, `_as_gradient`) ask the space of their data for the plain
gradient, checked, and only wrap it in a constant of their own type when gradients are nodes
(`create_graph=True`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validate import describe, is_real, real
from .arrays import Array, as_array, gradient_array
from .node import Node

__all__ = ["ARRAYS", "FLOATS", "Arrays", "Floats", "space_of"]


class Floats:
    """Gradients of a number: a float."""

    @staticmethod
    def seed(data: float, gradient: object, scalar_fills: bool = True) -> float:
        """backward's `gradient` for an output holding the number `data`."""
        return real(gradient, "backward: gradient")

    @staticmethod
    def zero(data: float) -> float:
        """The zero gradient."""
        return 0.0

    @staticmethod
    def share(data: float, share: object, rule: str, assigned: bool) -> float:
        """What a derivative rule returned (or `.grad` was given), as a float."""
        if isinstance(share, Node):
            raise TypeError(f"{rule} returned {describe(share)} for a number")
        return real(share, rule)


class Arrays:
    """Gradients of an array: an array of its shape and dtype."""

    @staticmethod
    def seed(data: Array, gradient: object, scalar_fills: bool = True) -> Array:
        """backward's `gradient` for an output holding `data`: an array of its shape; a
        number fills it if `scalar_fills` (else only a one-element output takes one), and
        None is 1 for a one-element output."""
        if gradient is None or (is_real(gradient) and not isinstance(gradient, np.ndarray)):
            if data.size != 1 and (gradient is None or not scalar_fills):
                raise ValueError(
                    f"backward: the output has shape {data.shape}, not one element: pass "
                    f"gradient=, an array of shape {data.shape}, or reduce it first (.sum())"
                )
            number = 1.0 if gradient is None else real(gradient, "backward: gradient")
            if data.ndim == 0:  # a loss: np.array is numpy's C, np.full a Python wrapper
                return np.array(number, dtype=data.dtype)
            return np.full(data.shape, number, dtype=data.dtype)
        return gradient_array(gradient, data)

    @staticmethod
    def zero(data: Array) -> Array:
        """The zero gradient: zeros of data's shape and dtype."""
        return np.zeros_like(data)

    @staticmethod
    def share(data: Array, share: object, rule: str, assigned: bool) -> Array:
        """What a derivative rule returned (or, if `assigned`, what `.grad` was given), as an
        array of data's dtype and shape; a rule's number is a constant derivative, spread
        over the shape."""
        if isinstance(share, Node):
            raise TypeError(f"{rule} returned {describe(share)} for an array")
        array = as_array(share, rule, data.dtype, copy=False)
        if array.shape != data.shape and not assigned and array.ndim == 0:
            array = np.full(data.shape, array)  # a constant derivative
        if array.shape != data.shape:
            raise ValueError(
                f"{rule} gave a gradient of shape {array.shape} for an array of shape {data.shape}"
            )
        return array


FLOATS = Floats()
ARRAYS = Arrays()


def space_of(data: Any) -> Floats | Arrays:
    """The space of a node's data: FLOATS for a float, ARRAYS for an array."""
    return FLOATS if type(data) is float else ARRAYS
