"""Derivatives of functions, both ways: `jvp` (forward mode), `vjp` (reverse mode), `jacobian`
by either, `hvp` (forward over reverse), and `hessian` with a choice of mode.

Each takes a function `f` and its inputs (numbers, Values, Tensors or numpy arrays) and calls
`f` on fresh nodes holding the inputs' numbers, as JAX does: Values (in forward mode, scalar
Duals), or, when any input is a Tensor or an array, float64 Tensors (array Duals). Every
input is differentiated by; a number that should stay constant belongs inside `f`. `f`
returns a node computed from its arguments: for Values, one Value or a list of them; for
Tensors, one Tensor of any shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .engine import backward as _backward
from .engine.backward import grad
from .engine.dual import Dual
from .engine.grad_mode import enable_grad
from .engine.node import Node
from .engine.replay import replay
from .engine.tensor import Tensor
from .engine.value import Value
from .flat_inputs import FlatInputs, flat_inputs
from .validate import choice, describe, plain_array, real, sequence

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vjp"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Function = Callable[..., Any]


def _inputs(where: str, f: object, primals: Iterable[Any]) -> FlatInputs:
    if not callable(f):
        raise TypeError(f"{where}: f must be callable, got {describe(f)}")
    return flat_inputs(where, primals, constants=False, finite=False)


def _tangents(where: str, found: FlatInputs, tangents: object, name: str) -> list[float]:
    """One tangent per input (numbers; for Tensors, arrays of the input's shape), flattened."""
    accepted = "a sequence with one entry per input: numbers, or arrays of the input's shape"
    if isinstance(tangents, Node):
        raise TypeError(f"{where}: {name} must be {accepted}, got a {type(tangents).__name__}")
    items = sequence(tangents, f"{where}: {name}", accepted)
    count = len(found.labels)
    if len(items) != count:
        raise ValueError(f"{where}: {name} has {len(items)} entries; there are {count} inputs")
    flat: list[float] = []
    for i, t in enumerate(items):
        if isinstance(t, Node):
            raise TypeError(
                f"{where}: {name}[{i}] is a {type(t).__name__}; tangents are numbers or arrays "
                f"(use its .data)"
            )
        if not found.tensors:
            flat.append(real(t, f"{where}: {name}[{i}]"))
            continue
        array = np.asarray(plain_array(t, f"{where}: {name}[{i}]"))
        shape = found.arrays[i].shape
        if array.dtype.kind not in "biuf" or array.shape != shape:
            raise ValueError(
                f"{where}: {name}[{i}] must be real numbers of the input's shape {shape}, got "
                f"{describe(t)}"
            )
        flat.extend(float(x) for x in array.reshape(-1))
    return flat


def _outputs(where: str, out: object, kind: type, tensors: bool) -> tuple[list[Any], bool]:
    """f's result as a list of outputs, and whether f returned several (a list or tuple of
    Values). A number or array among them is a constant: it does not depend on the inputs."""
    if not isinstance(out, (list, tuple)):
        items, many = [out], False
    elif tensors or not out:
        why = "one Tensor" if tensors else "one Value, or a non-empty list or tuple of Values"
        raise TypeError(f"{where}: f returned {describe(out)}; it must return {why}")
    else:
        items, many = list(out), True
    for o in items:
        if isinstance(o, Node):
            if type(o) is not kind:
                raise TypeError(
                    f"{where}: f returned a {type(o).__name__}; it must return what it "
                    f"computed from its arguments, which are {kind.__name__}s here"
                )
        elif not tensors:
            real(o, f"{where}: f's result")
        elif np.asarray(o).dtype.kind not in "biuf":
            raise TypeError(f"{where}: f returned {describe(o)}, not a Tensor or numbers")
    return items, many


def _array(o: Any) -> bool:
    """Whether an output is an array (a Tensor, an array Dual or an array)."""
    return isinstance(o._data if isinstance(o, Node) else o, np.ndarray)


def _value(o: Any) -> Any:
    """An output's value: a float, or a new float64 array."""
    data = o._data if isinstance(o, Node) else o
    return np.array(data, dtype=np.float64) if _array(o) else float(data)


def _tangent(o: Any) -> Any:
    """An output's tangent: a float, or a new float64 array (zeros for a constant)."""
    if type(o) is Dual:
        t = o.tangent
        return t if type(t) is float else np.array(t, dtype=np.float64)
    return np.zeros(np.shape(o)) if _array(o) else 0.0


def _pack(items: list[Any], many: bool) -> Any:
    return list(items) if many else items[0]


def _forward(where: str, f: Function, found: FlatInputs, ts: Sequence[float]) -> tuple[Any, Any]:
    """f's value and tangent at the inputs, along the flat tangents ts: one forward pass."""
    duals, _ = found.duals(found.flat, ts)
    with enable_grad():  # f may take gradients itself (forward over reverse)
        out = f(*duals)
    items, many = _outputs(where, out, Dual, found.tensors)
    return _pack([_value(o) for o in items], many), _pack([_tangent(o) for o in items], many)


def jvp(f: Function, primals: Iterable[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """(f(primals), the derivative of f at primals along tangents), by forward mode.

    `f` is called once, on Duals holding the primals with the tangents: every op carries its
    tangent forward, so the result's tangent is J v, the Jacobian of f times the tangents v
    (JAX's `jvp`; one pass per direction). `tangents` has one entry per primal: a number, or
    an array of the primal's shape. Both results are floats for Values (lists of floats if f
    returns a list), float64 arrays of the output's shape for Tensors.

    >>> from autograd_lite import jvp
    >>> jvp(lambda x, y: x * x * y, [3.0, 2.0], [1.0, 0.0])   # d/dx x²y = 2xy
    (18.0, 12.0)
    >>> jvp(lambda x, y: [x * y, x + y], [3.0, 2.0], [1.0, 1.0])
    ([6.0, 5.0], [5.0, 2.0])
    """
    found = _inputs("jvp", f, primals)
    return _forward("jvp", f, found, _tangents("jvp", found, tangents, "tangents"))


def vjp(f: Function, primals: Iterable[Any]) -> tuple[Any, Callable[..., list[Any]]]:
    """(f(primals), pullback), by reverse mode: `pullback(cotangent)` is u times the
    Jacobian of f at primals, one entry per primal, by one backward pass through the graph
    that f recorded (JAX's `vjp`; call it as often as you like).

    `cotangent` u has the output's shape (a number for a Value; for a list of Values, one
    number per output); for an output of one element it may be left out (1). The result is a
    list like `grad`'s: floats for Values, float64 arrays of each primal's shape for Tensors.

    >>> from autograd_lite import vjp
    >>> value, pullback = vjp(lambda x, y: [x * y, x + y], [3.0, 2.0])
    >>> value, pullback([1.0, 0.0]), pullback([0.0, 1.0])
    ([6.0, 5.0], [2.0, 3.0], [1.0, 1.0])
    """
    return _reverse("vjp", f, _inputs("vjp", f, primals))


def _reverse(where: str, f: Function, found: FlatInputs) -> tuple[Any, Callable[..., list[Any]]]:
    """f's value at the inputs and its pullback (see `vjp`)."""
    leaves, _ = found.leaves(found.flat)
    kind = Tensor if found.tensors else Value
    with enable_grad():
        out = f(*leaves)
    items, many = _outputs(where, out, kind, found.tensors)

    def pullback(cotangent: object = None) -> list[Any]:
        """u times the Jacobian of f, one entry per primal (see `vjp`)."""
        seeds = _cotangents(items, many, cotangent)
        pairs = [(o, c) for o, c in zip(items, seeds) if isinstance(o, Node)]
        if not pairs:
            return [leaf._zero(False) for leaf in leaves]
        if not many:
            return grad(pairs[0][0], leaves, grad_outputs=pairs[0][1])
        with enable_grad():  # the sum is a node, even inside no_grad()
            total = sum((o * c for o, c in pairs), start=Value(0.0))
        return grad(total, leaves)

    return _pack([_value(o) for o in items], many), pullback


def _cotangents(items: list[Any], many: bool, cotangent: object) -> list[Any]:
    """One seed per output, checked: a float for a Value, an array of its shape otherwise."""
    where = "pullback: cotangent"
    if many:
        if cotangent is None and len(items) != 1:
            raise ValueError(f"{where}: f has {len(items)} outputs: pass one number per output")
        found = [1.0] if cotangent is None else sequence(cotangent, where, "numbers")
        if len(found) != len(items):
            raise ValueError(f"{where}: has {len(found)} entries; f has {len(items)} outputs")
        return [real(c, f"{where}[{i}]") for i, c in enumerate(found)]
    shape = np.shape(items[0]._data if isinstance(items[0], Node) else items[0])
    if cotangent is None:
        if int(np.prod(shape)) != 1:
            raise ValueError(
                f"{where}: the output has shape {shape}, not one element: pass an array of "
                f"that shape"
            )
        return [None]
    if isinstance(cotangent, Node):
        raise TypeError(f"{where}: must be numbers or an array, got a {type(cotangent).__name__}")
    if not _array(items[0]):
        return [real(cotangent, where)]
    array = np.asarray(plain_array(cotangent, where))
    if array.dtype.kind not in "biuf" or array.shape != shape:
        raise ValueError(
            f"{where}: must be real numbers of the output's shape {shape}, got "
            f"{describe(cotangent)}"
        )
    return [array.astype(np.float64)]


def jacobian(f: Function, inputs: Iterable[Any], mode: str = "rev") -> FloatArray:
    """The Jacobian of f at `inputs`: an m x n float64 array, row i the derivatives of
    output element i, column j those by input element j.

    The outputs are f's Value, its list of Values, or every element of its Tensor (C order);
    the inputs are every number, or every element of every Tensor input in input order (as
    `hessian` flattens them). `mode="rev"` builds it by rows, one backward pass per output
    element (JAX's `jacrev`); `mode="fwd"` by columns, one forward pass per input element
    (`jacfwd`). The same numbers either way: choose the mode with fewer passes.

    >>> from autograd_lite import jacobian
    >>> f = lambda x, y: [x * y, x + y, y.exp()]
    >>> jacobian(f, [3.0, 0.0], mode="fwd").tolist()   # 2 passes; mode="rev" takes 3
    [[0.0, 3.0], [1.0, 1.0], [0.0, 1.0]]
    """
    mode = choice(mode, "jacobian: mode", ("rev", "fwd"))
    found = _inputs("jacobian", f, inputs)
    n = len(found.flat)
    if mode == "fwd":
        columns = []
        for j in range(n):
            e = np.zeros(n)
            e[j] = 1.0
            columns.append(_flat(_forward("jacobian", f, found, e.tolist())[1]))
        return np.stack(columns, axis=1) if columns else np.zeros((0, n))
    value, pullback = _reverse("jacobian", f, found)
    size = int(np.size(value))
    rows = []
    for i in range(size):
        e = np.zeros(size)
        e[i] = 1.0
        seed: Any = e.reshape(np.shape(value))
        if not isinstance(value, np.ndarray):  # a Value's number, or a list for several
            seed = seed.tolist()
        rows.append(np.concatenate([np.ravel(g) for g in pullback(seed)]).astype(np.float64))
    return np.stack(rows) if rows else np.zeros((0, n))


def _flat(x: Any) -> FloatArray:
    return np.ravel(np.asarray(x, dtype=np.float64))


def hvp(f: Function, primals: Iterable[Any], v: Sequence[Any]) -> list[Any]:
    """The Hessian of f at primals times v, by forward over reverse: one pass.

    `f` returns one number (a Value, or a one-element Tensor). It is called on Duals holding
    the primals with tangents v; `grad(..., create_graph=True)` then runs every derivative
    rule on Duals, so the tangent of each gradient is the derivative of the gradient along v:
    H v, without forming H. `v` has one entry per primal, as `jvp`'s tangents. The result is
    a list like `grad`'s: floats for Values, float64 arrays of each primal's shape for Tensors.

    >>> from autograd_lite import hvp
    >>> hvp(lambda x, y: x * x * y, [3.0, 2.0], [1.0, 0.0])   # H = [[2y, 2x], [2x, 0]]
    [4.0, 6.0]
    """
    found = _inputs("hvp", f, primals)
    duals, _ = found.duals(found.flat, _tangents("hvp", found, v, "v"))
    with enable_grad():
        out = f(*duals)
    items, many = _outputs("hvp", out, Dual, found.tensors)
    if many or np.size(_value(items[0])) != 1:
        raise ValueError(
            f"hvp: f must return one number (a Value or a one-element Tensor), got "
            f"{describe(out)}; reduce it first (.sum())"
        )
    if not isinstance(items[0], Node):  # a constant: its Hessian is zero
        return [_tangent(d._data) for d in duals]
    return [_tangent(g) for g in grad(items[0], duals, create_graph=True)]


def hessian(output: Node, inputs: Sequence[Node], mode: str = "rev") -> FloatArray:
    """The n x n float64 array of d²(output)/d(x_i) d(x_j): `engine.backward.hessian`, with a
    choice of how it is computed.

    `mode="rev"` (reverse over reverse) runs a backward pass through the graph of each first
    derivative. `mode="fwd-over-rev"` computes the recorded graph again on Duals (each input
    carrying one unit tangent per pass), then one backward pass with create_graph=True on the
    Duals: the tangents of the gradients are one row. Both take n passes and give the same
    matrix up to rounding; see `engine.backward.hessian` for the order of x and its options.

    >>> from autograd_lite import Value, hessian
    >>> x, y = Value(1.0), Value(2.0)
    >>> hessian(x * x * y, [x, y], mode="fwd-over-rev").tolist()
    [[4.0, 2.0], [2.0, 0.0]]
    """
    mode = choice(mode, "hessian: mode", ("rev", "fwd-over-rev"))
    return _backward.hessian(output, inputs, None if mode == "rev" else _forward_rows)


def _forward_rows(output: Node, found: list[Node], shapes: list[tuple[int, ...]]) -> Iterator[Any]:
    """The Hessian's rows by forward over reverse: the graph replayed on Duals whose
    tangents pick one element of the inputs, then one backward pass on the Duals."""
    sizes = [int(np.prod(s)) for s in shapes]
    n = sum(sizes)
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1.0
        seeds: dict[Node, Any] = {}
        start = 0
        for x, s, size in zip(found, shapes, sizes):
            block = e[start : start + size].reshape(s)
            start += size
            part = float(block) if type(x._data) is float else block.astype(x._data.dtype)
            seeds[x] = part if x not in seeds else seeds[x] + part  # an input listed twice
        done = replay(output, seeds)
        top = done[output]
        if type(top) is not Dual:  # the output does not depend on the inputs: a zero row
            yield 0.0
            continue
        grads = grad(top, [done[x] for x in found], create_graph=True)
        yield np.concatenate([_flat(_tangent(g)) for g in grads])
