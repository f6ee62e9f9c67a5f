"""Argument checks of the array ops, shared by Tensor, Dual and numpy's functions on them:
axes, shapes and lists of operands, each checked before any node is made, with an error
naming the op and the offending value."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..validate import describe
from .node import Node

TORCH_NAMES = {"dim": "axis", "keepdim": "keepdims"}
"""PyTorch's names of numpy's arguments, which every function taking axis= accepts."""


def torch_names(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn, also accepting PyTorch's `dim=` and `keepdim=` for its `axis=` and `keepdims=`;
    both names of one argument is a TypeError naming both. fn itself if it has neither."""
    params = inspect.signature(fn).parameters
    names = {torch: numpy for torch, numpy in TORCH_NAMES.items() if numpy in params}
    if not names:
        return fn

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for torch, numpy in names.items():
                if torch in kwargs:
                    if numpy in kwargs:
                        raise TypeError(
                            f"{fn.__name__}: got both {numpy}= (numpy's name) and {torch}= "
                            f"(PyTorch's) for one argument; pass one"
                        )
                    kwargs[numpy] = kwargs.pop(torch)
        return fn(*args, **kwargs)

    return call


def plain(x: object) -> Any:
    """The data of a node (a float or an array), or x itself."""
    return x._data if isinstance(x, Node) else x


def normal_axes(axis: object, ndim: int, where: str) -> tuple[int, ...] | None:
    """axis (None, an int or a tuple of ints, negative counting from the end) normalised."""
    if axis is None:
        return None
    many = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in many:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{where}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{where}: axis {a} is out of range for {ndim} dimension(s)")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{where}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def normal_axis(axis: object, ndim: int, where: str) -> int:
    """One axis (an int, negative counting from the end) as a non-negative int."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{where}: axis must be an int, got {describe(axis)}")
    if not -ndim <= axis < ndim:  # normal_axes's error, without its tuple of axes
        raise ValueError(f"{where}: axis {axis} is out of range for {ndim} dimension(s)")
    return int(axis) % ndim


def axis_order(axes: Sequence[Any], ndim: int) -> tuple[int, ...]:
    """transpose's axes: each of the ndim axes once, as non-negative ints."""
    found = normal_axes(tuple(axes), ndim, "transpose") or ()
    if len(found) != ndim:
        raise ValueError(f"transpose: axes {tuple(axes)} must name each of {ndim} axes once")
    return tuple(int(a) % ndim for a in axes)


def array_shape(node: Any, where: str) -> tuple[int, ...]:
    """The shape of an array node's data; TypeError for a scalar Dual, which has no axes."""
    data = node._data
    if type(data) is float:
        raise TypeError(
            f"{where}: a scalar {type(node).__name__} has no axes; make it an array: "
            f"{type(node).__name__}(np.array(x), ...)"
        )
    return tuple(data.shape)


def nonempty(node: Any, axis: object, where: str, why: str) -> tuple[int, ...] | None:
    """axis normalised, for a reduction that needs at least one element along it (`why`)."""
    shape = array_shape(node, where)
    axes = normal_axes(axis, len(shape), where)
    if 0 in (shape if axes is None else [shape[i] for i in axes]):
        raise ValueError(f"{where}: shape {shape} has no elements along axis {axis!r}, and {why}")
    return axes


def new_shape(shape: tuple[Any, ...], old: tuple[int, ...]) -> tuple[int, ...]:
    """reshape's sizes checked (ints >= 0, at most one -1) and -1 resolved for old's size."""
    sizes = []
    for n in shape:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"reshape: sizes must be ints, got {describe(n)} in {shape!r}")
        sizes.append(int(n))
    size = math.prod(old)
    rest = [i for i, n in enumerate(sizes) if n == -1]
    known = math.prod(n for n in sizes if n != -1)
    if len(rest) > 1 or any(n < -1 for n in sizes):
        raise ValueError(
            f"reshape: cannot reshape shape {old} to {shape!r}: sizes must be >= 0, with at "
            f"most one -1 (the rest)"
        )
    if rest and known and size % known == 0:
        sizes[rest[0]] = size // known
    if (rest and sizes[rest[0]] == -1) or math.prod(sizes) != size:
        raise ValueError(f"reshape: cannot reshape shape {old} ({size} elements) to {shape!r}")
    return tuple(sizes)


def joined(name: str, tensors: object, axis: object, new: bool) -> tuple[list[Any], int]:
    """concatenate's and stack's arguments (a `new` axis for stack): the operands as a list,
    and the axis as a non-negative int."""
    if isinstance(tensors, (Node, np.ndarray)) or not isinstance(tensors, Sequence):
        raise TypeError(f"{name}: expects a list or tuple of tensors, got {describe(tensors)}")
    if not tensors:
        raise ValueError(f"{name}: needs at least one tensor")
    items = list(tensors)
    ndim = np.ndim(plain(items[0])) + (1 if new else 0)
    return items, normal_axis(axis, ndim, name)
