"""Gradient checks: the engine's derivatives against central finite differences.

`gradcheck` compares first derivatives with differences of `fn` itself; `gradgradcheck`
compares the Hessian (rules run on Values, `create_graph=True`) with differences of the
engine's first derivatives (rules run on floats). Both pass an entry when

    |analytical - numerical| <= atol + rtol * |numerical|

as PyTorch does, and otherwise raise `GradcheckError` with a table of every entry.

With `modes=("fwd", "rev")` they check along random directions instead, as HIPS autograd's
`check_grads` does: forward mode (a jvp), reverse mode (a vjp) and finite differences must
agree on the derivative along one random direction, and a failure names the op whose rule is
wrong (rulecheck.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypedDict, Unpack

import numpy as np

from .check_directions import direction_table, modes_named
from .check_entries import call_fn, gradient_table, hessian_table
from .check_report import compare
from .engine.grad_mode import enable_grad
from .engine.tensor import Tensor
from .engine.value import Number, Value
from .flat_inputs import FlatInputs, flat_inputs
from .rulecheck import RuleFault, find_wrong_rule
from .validate import tolerance

__all__ = ["CheckOptions", "GradcheckError", "gradcheck", "gradgradcheck"]

Function = Callable[..., Any]
"""What a check takes as fn: called on Values, it returns a scalar Value; called on Tensors,
a one-element Tensor."""
Inputs = Iterable[Value | Tensor | Number | np.ndarray[Any, Any]]
"""What a check takes as inputs: numbers, or Values whose data and label are used; or
Tensors (data, label, requires_grad), numpy arrays and numbers, which fn gets as Tensors."""


class CheckOptions(TypedDict, total=False):
    """The options of `gradcheck` and `gradgradcheck`, keyword-only (as PyTorch's): `eps`
    (1e-6) the finite-difference step, `atol` (1e-5) and `rtol` (1e-3) the tolerances
    (PyTorch's defaults), `modes` (None: by entries) "fwd", "rev" or both to check along
    random directions."""

    eps: float
    atol: float
    rtol: float
    modes: Sequence[str] | None


_SHOWN = 40
"""A tensor check's table lists every entry up to this many, else only the failing ones."""


class GradcheckError(AssertionError):
    """A derivative from the engine disagrees with its finite-difference estimate.

    The message is a table of every checked entry with the failing rows marked (for tensor
    inputs with more than 40 entries, of the failing ones); the same numbers are in `rows`
    (one dict per entry, keys as the table's columns plus "ok"). Every failing check also
    looks for the op whose rule is wrong (`find_wrong_rule`, with the rules of the modes
    checked: reverse mode's without `modes`): `fault` is that `RuleFault`, and the message
    ends with it; when no op's rule disagrees with finite differences (fn is not
    differentiable there, or leaves the graph), `fault` is None and the last line says so.
    """

    def __init__(
        self, message: str, rows: list[dict[str, Any]], fault: RuleFault | None = None
    ) -> None:
        super().__init__(message)
        self.rows = rows
        self.fault = fault


def _prepare(
    where: str,
    fn: object,
    inputs: Iterable[Any],
    eps: object,
    atol: object,
    rtol: object,
) -> tuple[FlatInputs, float, float, float]:
    """Validate the arguments: the inputs, flattened, and eps, atol, rtol as floats."""
    if not callable(fn):
        raise TypeError(f"{where}: fn must be callable, got {type(fn).__name__}")
    return (
        flat_inputs(where, inputs),
        tolerance(eps, f"{where}: eps", positive=True),
        tolerance(atol, f"{where}: atol"),
        tolerance(rtol, f"{where}: rtol"),
    )


def gradcheck(fn: Function, inputs: Inputs, **options: Unpack[CheckOptions]) -> bool:
    """Check the engine's gradient of `fn` at `inputs` against central finite differences.

    `fn(*values)` must return a scalar `Value`; it is called on fresh leaf Values made from
    `inputs` (numbers, or Values whose data and label are used). The analytical gradient is
    `grad(fn(*values), values)`; the numerical one is (fn(x + eps) - fn(x - eps)) / (2 eps)
    per input, in float64, with fn evaluated under `no_grad()`. Every input must satisfy
    |analytical - numerical| <= atol + rtol * |numerical| (PyTorch's criterion and defaults;
    eps, atol, rtol and modes are keyword-only, as PyTorch's: `CheckOptions`).

    With Tensors or numpy arrays among the inputs, fn is called on fresh float64 Tensors
    (numbers among them become 0-d Tensors; a Tensor's label and requires_grad are kept)
    and must return a one-element Tensor. Each element of each input that requires a
    gradient is an entry of its own; inputs with requires_grad=False are passed unchanged
    and not checked, as in PyTorch. (A 1-d array as `inputs` itself is a sequence of
    numbers, as before: fn gets Values. Pass [array] to check one Tensor input.)

    Because of `no_grad()`, fn must not call `grad` itself (it would see no graph and give
    0); to check a derivative, check the function it derives from with `gradgradcheck`.

    Returns True, or raises `GradcheckError` whose message is a table of input, label,
    value, analytical, numerical and difference (for tensors also the element's index),
    with failing rows marked, and ends with the op whose rule is wrong (`find_wrong_rule`;
    also `GradcheckError.fault`) or a line that says no single op's rule was found at fault.
    TypeError if fn does not return a Value (a one-element Tensor for tensor inputs);
    ValueError for eps <= 0, atol or rtol < 0, empty or non-finite inputs.

    With `modes`, "fwd", "rev" or both, the check is HIPS autograd's instead: one random
    direction v (the same every run), and the derivative along it by forward mode (fn called
    on Duals: the tangent), by reverse mode (<gradient, v>) and by finite differences
    (fn(x + eps v) - fn(x - eps v)) / (2 eps); one table row per mode; a failure names the
    op at fault in the rules of those modes.

    >>> from autograd_lite import gradcheck
    >>> gradcheck(lambda a, b: a * b.exp() + a / b, [0.5, 1.5])
    True
    >>> gradcheck(lambda a, b: a * b.exp() + a / b, [0.5, 1.5], modes=("fwd", "rev"))
    True
    """
    return _check("gradcheck", 1, fn, inputs, options)


def _check(
    where: str,
    order: int,
    fn: Function,
    inputs: Iterable[Any],
    options: CheckOptions,
) -> bool:
    """gradcheck (order 1) and gradgradcheck (order 2): the arguments checked, then the
    check by entries or, with `modes`, along random directions. Each failure ends with the
    op at fault, or a line that says no op's rule was found at fault."""
    for name in options:
        if name not in CheckOptions.__annotations__:  # as Python says it for the public name
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}")
    eps, atol = options.get("eps", 1e-6), options.get("atol", 1e-5)
    rtol, modes = options.get("rtol", 1e-3), options.get("modes")
    found, eps_, atol_, rtol_ = _prepare(where, fn, inputs, eps, atol, rtol)
    chosen = ("rev",) if modes is None else modes_named(where, modes)

    def locate() -> RuleFault | None:
        with enable_grad():
            leaves, _ = found.leaves(found.flat)
            out = call_fn(where, fn, leaves, found.tensors)
        return find_wrong_rule(out, chosen, order, eps_, atol_, rtol_)

    if modes is not None:
        table = direction_table(where, fn, found, eps_, chosen, order)
    elif order == 1:
        table = gradient_table(where, fn, found, eps_)
    else:
        table = hessian_table(where, fn, found, eps_)
    failure = compare(where, *table, eps_, atol_, rtol_, locate, _SHOWN if found.tensors else None)
    if failure is not None:
        raise GradcheckError(*failure)
    return True


def gradgradcheck(fn: Function, inputs: Inputs, **options: Unpack[CheckOptions]) -> bool:
    """Check the engine's second derivatives of `fn` at `inputs` against finite differences.

    The analytical Hessian is `grad` of each `grad(..., create_graph=True)` result, so the
    derivative rules run on Values. The numerical Hessian is the central difference of the
    engine's first derivatives (rules run on floats): column j is
    (grad at x + eps e_j - grad at x - eps e_j) / (2 eps). So this checks that each rule
    differentiates correctly as a Value expression; check the first derivatives themselves
    with `gradcheck`. Same criterion, arguments, errors and table (one row per entry i, j) as
    `gradcheck`; for tensor inputs the entries are those of `hessian`'s flattened matrix,
    named by element ("w[0, 1], x[2]"), and the rules run on Tensors and arrays.

    With `modes`, as in `gradcheck`: along random directions v and w, <w, H v> by forward
    over reverse ("fwd": the rules run on Duals, the tangent of the gradient), by reverse over
    reverse ("rev") and by differences of the first derivatives; a failure names the op
    whose rule does not differentiate correctly.

    >>> from autograd_lite import gradgradcheck
    >>> f = lambda a, b: (a * b).tanh() + a / b
    >>> gradgradcheck(f, [0.5, 1.5]) and gradgradcheck(f, [0.5, 1.5], modes=("fwd", "rev"))
    True
    """
    return _check("gradgradcheck", 2, fn, inputs, options)
