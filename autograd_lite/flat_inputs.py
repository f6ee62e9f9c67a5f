"""A function's inputs as one flat list of numbers: what the checks and the transforms share.

`flat_inputs` reads what `gradcheck`, `jvp`, `jacobian` and the others take as inputs
(numbers, Values, Tensors, numpy arrays) into a `FlatInputs`: the numbers they differentiate
by, in one list, with the shapes and labels to make fresh leaves (Values or Tensors, for
reverse mode) or Duals (for forward mode) holding any other numbers in their place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine.dual import leaf
from .engine.node import Node
from .engine.tensor import Tensor
from .engine.value import Value
from .validate import plain_array, real, sequence

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class FlatInputs:
    """Inputs as one flat list of the numbers differentiated by.

    For Values (numbers), one number per input. For Tensors (when any input is a Tensor or an
    array), every element of every input that is differentiated by, in input order and C order
    within each (as `hessian` orders them); the others (requires_grad=False, for the checks)
    are passed to fn unchanged.
    """

    tensors: bool
    flat: list[float]  # the numbers differentiated by
    labels: list[str | None]  # per input
    entries: list[tuple[int, tuple[int, ...]]]  # per flat number: its input, its element
    arrays: list[FloatArray]  # per input, for Tensors: its data as float64
    checked: list[bool]  # per input, for Tensors: whether it is differentiated by

    def leaves(self, xs: Sequence[float]) -> tuple[list[Node], list[Node]]:
        """Fresh leaves holding xs in place of the flat numbers: all of them, and those
        differentiated by."""
        if not self.tensors:
            values: list[Node] = [Value(x, label) for x, label in zip(xs, self.labels)]
            return values, values
        made: list[Node] = []
        for array, label, part in zip(self.arrays, self.labels, self.split(xs)):
            if part is None:
                made.append(Tensor(array, label, requires_grad=False))
            else:
                made.append(Tensor(part, label))
        return made, [t for t, checked in zip(made, self.checked) if checked]

    def duals(self, xs: Sequence[float], ts: Sequence[float]) -> tuple[list[Node], list[Node]]:
        """Fresh Duals holding xs in place of the flat numbers, with tangents ts (one per flat
        number): all of them (inputs not differentiated by are constants, tangent zero), and
        those differentiated by."""
        if not self.tensors:
            duals: list[Node] = [
                leaf(float(x), float(t), label) for x, t, label in zip(xs, ts, self.labels)
            ]
            return duals, duals
        made: list[Node] = []
        for array, label, part, tangent in zip(
            self.arrays, self.labels, self.split(xs), self.split(ts)
        ):
            made.append(
                leaf(array.copy(), None, label) if part is None else leaf(part, tangent, label)
            )
        return made, [d for d, checked in zip(made, self.checked) if checked]

    def split(self, xs: Sequence[float]) -> list[Any]:
        """xs (one number per flat number) as one entry per input: a float for Values; for
        Tensors a float64 array of the input's shape, or None for an input not differentiated
        by."""
        if not self.tensors:
            return [float(x) for x in xs]
        out: list[Any] = []
        start = 0
        for array, checked in zip(self.arrays, self.checked):
            if checked:
                part = np.array(xs[start : start + array.size], dtype=np.float64)
                out.append(part.reshape(array.shape))
                start += array.size
            else:
                out.append(None)
        return out

    def name(self, k: int) -> str:
        """Flat number k as a short name: "x0", "w", "w[1, 2]"."""
        i, element = self.entries[k]
        base = self.labels[i] or f"x{i}"
        return f"{base}[{', '.join(map(str, element))}]" if element else base


ACCEPTED = "a sequence of numbers, Values, Tensors or numpy arrays"
"""What every function taking inputs accepts, for its error messages."""


def flat_inputs(
    where: str, inputs: Iterable[Any], *, constants: bool = True, finite: bool = True
) -> FlatInputs:
    """`inputs` read as a FlatInputs, or a clear error naming `where`.

    With `constants`, a Tensor with requires_grad=False is passed unchanged and not
    differentiated by (the checks, as PyTorch's); without, every input is differentiated by
    (the transforms, as JAX's). With `finite`, a non-finite number differentiated by is a
    ValueError.
    """
    if isinstance(inputs, Node):
        raise TypeError(
            f"{where}: inputs must be {ACCEPTED}, got a {type(inputs).__name__} (write [x])"
        )
    if isinstance(inputs, np.ndarray) and inputs.ndim != 1:
        raise TypeError(
            f"{where}: inputs must be {ACCEPTED}, got an array of shape {inputs.shape}; to "
            f"{'check' if constants else 'pass'} it as one Tensor input, pass [array]"
        )
    items = sequence(inputs, f"{where}: inputs", ACCEPTED)
    if not items:
        raise ValueError(f"{where}: inputs must not be empty")
    for i, x in enumerate(items):
        if isinstance(x, Node) and not isinstance(x, (Value, Tensor)):
            raise TypeError(
                f"{where}: inputs[{i}] is a {type(x).__name__}; pass numbers, Values, Tensors "
                f"or arrays (fresh leaves are made from them)"
            )
    if any(isinstance(x, (Tensor, np.ndarray)) for x in items):
        return _tensor_inputs(where, items, constants, finite)
    return _value_inputs(where, items, finite)


def _value_inputs(where: str, items: list[Any], finite: bool) -> FlatInputs:
    datas: list[float] = []
    labels: list[str | None] = []
    for i, x in enumerate(items):
        if isinstance(x, Value):
            datas.append(x.data)
            labels.append(x.label)
        else:
            datas.append(real(x, f"{where}: inputs[{i}]"))
            labels.append(None)
        if finite and not math.isfinite(datas[-1]):
            raise ValueError(f"{where}: inputs[{i}] must be finite, got {datas[-1]!r}")
    return FlatInputs(False, datas, labels, [(i, ()) for i in range(len(datas))], [], [])


def _float64_array(where: str, x: object) -> FloatArray:
    """One input among Tensors and arrays as a new float64 array: a Tensor's data, an array
    of real numbers, or a number (0-d); a Value there is refused (fn gets one kind)."""
    if isinstance(x, Value):
        raise TypeError(
            f"{where} is a Value among Tensors and arrays; fn is called on one kind: make "
            f"every input a Tensor (Tensor(v.data)) or a number"
        )
    # A subclass's numbers as a plain array (a matrix's rows would be matrices); a masked
    # array refused (its masked numbers would be differentiated by, as nan)
    data = plain_array(x.data if isinstance(x, Tensor) else x, where)
    if isinstance(data, np.ndarray):
        if data.dtype.kind not in "biuf":
            raise TypeError(f"{where} must hold real numbers, got an array of dtype {data.dtype}")
        return data.astype(np.float64)
    return np.array(real(data, where), dtype=np.float64)


def _tensor_inputs(where: str, items: list[Any], constants: bool, finite: bool) -> FlatInputs:
    """Tensors, arrays and numbers (as 0-d tensors), all as float64: float32 differences
    would be too coarse to check anything."""
    labels: list[str | None] = []
    arrays: list[FloatArray] = []
    checked: list[bool] = []
    for i, x in enumerate(items):
        array = _float64_array(f"{where}: inputs[{i}]", x)
        requires = x.requires_grad if isinstance(x, Tensor) and constants else True
        if finite and requires and not np.isfinite(array).all():
            k = int(np.flatnonzero(~np.isfinite(array))[0])
            element = tuple(int(j) for j in np.unravel_index(k, array.shape))
            at = f" at element {element}" if array.ndim else ""
            raise ValueError(f"{where}: inputs[{i}] must be finite, got {array.flat[k]!r}{at}")
        labels.append(x.label if isinstance(x, Tensor) else None)
        arrays.append(array)
        checked.append(requires)
    flat: list[float] = []
    entries: list[tuple[int, tuple[int, ...]]] = []
    for i, (array, requires) in enumerate(zip(arrays, checked)):
        if requires:
            flat.extend(float(v) for v in array.reshape(-1))
            entries.extend((i, tuple(int(j) for j in e)) for e in np.ndindex(array.shape))
    if not flat:
        why = "is empty or has requires_grad=False" if constants else "is empty"
        raise ValueError(
            f"{where}: no input element to {'check' if constants else 'differentiate by'}: "
            f"every input {why}"
        )
    return FlatInputs(True, flat, labels, entries, arrays, checked)
