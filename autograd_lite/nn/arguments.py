"""Checks of what nn's functions are called with: numbers and Values, one or a sequence.

The rules are the package's (`autograd_lite.validate`): a number is anything
`numbers.Real` accepts, bools as 0 and 1, and only ordered collections are sequences. This
module adds the wording an nn user needs: that a Value is accepted too, and how to pass it.
"""

from __future__ import annotations

from ..engine.value import Value
from ..validate import describe, is_real, real, sequence

SEQUENCE = "a list, tuple or 1-d numpy array of numbers or Values"
"""What nn accepts where it takes several numbers (inputs, predictions, targets)."""


def operand(x: object, where: str) -> Value | float:
    """`x` if it is a Value, else `x` as a float; TypeError naming `where` otherwise."""
    if isinstance(x, Value):
        return x
    if is_real(x):
        return real(x, where)  # OverflowError for an int too large, without its digits
    # a list in a list is most often a model's output: an MLP returns a list, always
    hint = " (an MLP returns a list: use model(x)[0] or model.scalar(x))"
    raise TypeError(
        f"{where} must be a Value or a real number, got {describe(x)}"
        + (hint if isinstance(x, (list, tuple)) else "")
    )


def operands(x: object, fn: str, name: str, accepted: str = SEQUENCE) -> list[Value | float]:
    """The items of the sequence `x` (argument `name` of `fn`), each checked by `operand`."""
    xs = sequence(x, f"{fn}: {name}", accepted)
    return [operand(xi, f"{fn}: {name}[{i}]") for i, xi in enumerate(xs)]
