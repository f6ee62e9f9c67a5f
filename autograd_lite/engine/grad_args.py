"""The arguments of `grad` and `hessian` (and of compile_grad), checked before any walk:
the output and inputs, and the seed `grad_outputs` gives; and what `backward` keeps."""

from __future__ import annotations

import numpy as np

from ..validate import describe, flag, plain_array, sequence
from .node import Node

__all__ = ["backward_modes", "check_graph_args", "seed_value"]


def check_graph_args(where: str, output: object, inputs: object) -> list[Node]:
    """The inputs as a list, after checking output and inputs: nodes of the output's type
    (no Values among Tensors), each taking a gradient."""
    if not isinstance(output, Node):
        raise TypeError(f"{where}: output must be a Value or Tensor, got {describe(output)}")
    if isinstance(inputs, Node):
        raise TypeError(
            f"{where}: inputs must be a sequence of Values or Tensors, got a single "
            f"{type(inputs).__name__} (write [x])"
        )
    found = sequence(inputs, f"{where}: inputs", "a sequence of Values or Tensors")
    kind = type(output).__name__
    for i, x in enumerate(found):
        if not isinstance(x, Node):
            raise TypeError(f"{where}: inputs must be Values or Tensors, got {describe(x)}")
        if type(x) is not type(output):
            raise TypeError(
                f"{where}: inputs[{i}] is a {type(x).__name__} and the output a {kind}; a "
                f"{kind} depends only on {kind}s (Tensor(v.data) makes a Tensor of a Value, "
                f"t.item() a number of a one-element Tensor)"
            )
        # A node type may mark nodes that take no gradient (Tensor's requires_grad=False).
        # Zeros would be a wrong answer, since the output may well depend on it: refuse.
        if not getattr(x, "requires_grad", True):
            raise ValueError(
                f"{where}: inputs[{i}] has requires_grad=False (made so, or computed only from "
                f"such tensors or under no_grad()), so no gradient is computed for it; "
                f"differentiate with respect to a tensor made with requires_grad=True"
            )
    return found


def seed_value(output: Node, grad_outputs: object) -> object:
    """What grad's walk starts from, checked: 1.0 for a one-element output, else
    grad_outputs (numbers of the output's shape; a float for one of shape ())."""
    shape = np.shape(output._data)
    if grad_outputs is None:
        if int(np.prod(shape)) != 1:
            raise ValueError(
                f"grad: the output has shape {shape}, not one element: pass grad_outputs=, "
                f"an array of shape {shape} (grad then gives grad_outputs times the "
                f"Jacobian), or reduce the output first (.sum())"
            )
        return 1.0
    if isinstance(grad_outputs, Node):
        raise TypeError(
            f"grad: grad_outputs must be numbers or a numpy array, got a "
            f"{type(grad_outputs).__name__} (pass its .data: grad_outputs is not differentiated)"
        )
    plain = plain_array(grad_outputs, "grad: grad_outputs")  # a masked array refused
    try:
        array = np.asarray(plain)
    except (ValueError, TypeError) as e:  # ragged nested lists
        raise TypeError(f"grad: grad_outputs must be real numbers of one shape; {e}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"grad: grad_outputs must be real numbers, got {describe(grad_outputs)} "
            f"(dtype {array.dtype})"
        )
    if array.shape != shape:
        raise ValueError(
            f"grad: grad_outputs has shape {array.shape}; it needs the output's shape {shape}"
        )
    return float(array) if not shape else array


def backward_modes(where: str, retain_grads: object, retain_graph: object) -> tuple[bool, bool]:
    """`backward`'s retain_grads and retain_graph (docs/tensors.md, "What a backward pass
    keeps"), checked, as (keep the op results' gradients, keep the graph): retain_grads
    None follows retain_graph, and retain_grads=True with retain_graph=False is a ValueError
    (it would keep what the other lets go)."""
    if retain_grads is None and type(retain_graph) is bool:  # the common calls: no text made
        return retain_graph, retain_graph
    graph = flag(retain_graph, f"{where}: retain_graph")
    keep = graph if retain_grads is None else flag(retain_grads, f"{where}: retain_grads")
    if keep and not graph:
        raise ValueError(
            f"{where}: retain_grads=True keeps every op result's gradient, and "
            f"retain_graph=False lets the op results go: pass one of them (with "
            f"retain_graph=False the leaves still get their gradients; backward() keeps "
            f"everything)"
        )
    return keep, graph
