"""compile_grad's arguments: the inputs it differentiates, and the `args` it takes anew.

An arg is a value the compiled function takes at each call without differentiating it: a
leaf of the graph (a Tensor made with `requires_grad=False`, the batch; a Value taken as a
number), or an integer array an op of the graph holds as a param (cross_entropy's labels, the
index arrays of `x[rows, cols]`). The engine keeps copies of such arrays, so an array arg is
found by value: the graph's array equal to it (same shape, dtype and elements); the graph's
own array object (`loss.op.params["labels"]`) picks one of several equal ones.

When a batch is an arg, every other Tensor of the graph that takes no gradient must be one
too: the engine records no op for what is computed from such tensors alone (`X * X` is a new
leaf), so the code could not compute it again.

Every shape, and every number the code was written with (a mean's 1 / n, a scatter's shape),
is the recorded one, so a value of another shape is refused with both shapes: compile again
for it. Checked here at each call, before anything is computed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.arrays import as_array
from ..engine.backward import graph_nodes
from ..engine.node import Node
from ..engine.tensor import Tensor
from ..validate import describe, listed_once, real, sequence
from .literals import CodegenError
from .statements import Var, Writer

__all__ = ["Arg", "as_recorded", "convert", "live_nodes", "resolve", "unread"]


@dataclass
class Arg:
    """One of compile_grad's args: a leaf of the graph or an array its ops hold."""

    where: str  # how errors name it: "args[0] ('X')"
    hint: str | None  # a label, for the parameter's name
    node: Node | None = None
    array: np.ndarray[Any, Any] | None = None
    picks: int | None = None  # a boolean index array: how many elements it picks


def _params_arrays(value: object) -> Iterator[np.ndarray[Any, Any]]:
    """The numpy arrays in an op's param (an index tuple holds several)."""
    if type(value) is np.ndarray:
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _params_arrays(item)


Held = dict[int, tuple[np.ndarray[Any, Any], str, str]]
"""The integer and boolean arrays the graph's ops hold as params, by id: (array, the op's
name, the param's name)."""


def _held_arrays(nodes: list[Node]) -> Held:
    """The integer and boolean arrays the graph's ops hold as params (labels, indices,
    where's condition), by id."""
    found: Held = {}
    for node in nodes:
        op = node.op
        if op is None or not op.params:
            continue
        for name, value in op.params.items():
            for a in _params_arrays(value):
                if a.dtype.kind in "biu" and id(a) not in found:
                    found[id(a)] = (a, op.name, name)
    return found


def resolve(output: Node, inputs: list[Node], args: object) -> list[Arg]:
    """args as Arg entries, checked: each a leaf of the graph that is not an input, or an
    integer array equal to exactly one the graph's ops hold; none twice."""
    if isinstance(args, (Node, np.ndarray)):
        raise TypeError(
            f"compile_grad: args must be a sequence, got a single {type(args).__name__} (write [x])"
        )
    found = sequence(args, "compile_grad: args", "a sequence of leaves or integer arrays")
    if not found:
        return []
    nodes = graph_nodes(output)
    below = set(nodes)
    held = _held_arrays(nodes)
    position = {x: i for i, x in enumerate(inputs)}
    out: list[Arg] = []
    taken: dict[int, int] = {}  # id of the node or array -> its position in args
    for k, value in enumerate(found):
        where = f"args[{k}]"
        if isinstance(value, Node):
            arg = _leaf_arg(where, value, output, below, position)
            key = id(value)
        elif isinstance(value, np.ndarray):
            arg = _array_arg(where, value, held)
            assert arg.array is not None
            key = id(arg.array)
        else:
            raise TypeError(
                f"compile_grad: {where} must be a leaf of the graph (a Value or Tensor) or an "
                f"integer array it uses (labels, indices), got {describe(value)}"
            )
        listed_once(taken, key, "compile_grad", "args", k)
        out.append(arg)
    _untracked(nodes, out, held)
    return out


def _untracked(nodes: list[Node], args: list[Arg], held: Held) -> None:
    """ValueError if a batch is an arg and the graph holds another Tensor that takes no
    gradient, or an integer or boolean array, that is not an arg: the engine records no op
    for what is computed from such tensors alone (`X * X`), and labels, indices and masks
    go with a batch, so the code would keep the old batch's numbers."""
    given = {a.node for a in args}
    if not any(getattr(x, "requires_grad", True) is False for x in given):
        return
    arrays = {id(a.array) for a in args}
    for a, op, param in held.values():
        if id(a) not in arrays:
            raise ValueError(
                f"compile_grad: op {op!r} of the graph holds an array {param!r} of shape "
                f"{a.shape} (dtype {a.dtype}) that is not among args; labels, indices and "
                f"masks go with a batch, so give it as an arg too (one that does not change, "
                f"np.arange(n), as well)"
            )
    for node in nodes:
        if node.is_leaf and not node.is_constant and node not in given:
            if getattr(node, "requires_grad", True) is False:
                label = f" ({node.label!r})" if node.label else ""
                raise ValueError(
                    f"compile_grad: the graph holds a Tensor{label} of shape "
                    f"{np.shape(node._data)} that takes no gradient and is not among args: "
                    f"its numbers would stay the recorded ones at every call. A tensor "
                    f"computed from the batch alone (X * X) is such a leaf, made without its "
                    f"op: give it as an arg too (computed from each batch), or mix a fixed "
                    f"array in as a numpy array. A Dropout mask is drawn anew by each "
                    f"forward pass: compile in eval() mode, or train with backward()"
                )


def _leaf_arg(
    where: str, x: Node, output: Node, below: set[Node], position: dict[Node, int]
) -> Arg:
    if type(x) is not type(output):
        raise TypeError(
            f"compile_grad: {where} is a {type(x).__name__} and the output a "
            f"{type(output).__name__}"
        )
    if x not in below:
        raise ValueError(f"compile_grad: {where} is not in the output's graph")
    if not x.is_leaf:
        raise ValueError(
            f"compile_grad: {where} is computed by op {x.op!r}; args are leaves (a batch "
            f"Tensor made with requires_grad=False) or integer arrays"
        )
    if x in position:
        raise ValueError(
            f"compile_grad: {where} is inputs[{position[x]}]; an input is differentiated, an "
            f"arg is not: list it in one of them"
        )
    label = x.label
    return Arg(f"{where} ({label!r})" if label else where, label or None, node=x)


def _array_arg(where: str, a: np.ndarray[Any, Any], held: Held) -> Arg:
    if id(a) in held:
        found = held[id(a)]
    else:
        equal = [
            h
            for h in held.values()
            if h[0].shape == a.shape and h[0].dtype == a.dtype and np.array_equal(h[0], a)
        ]
        if not equal:
            raise ValueError(
                f"compile_grad: {where} ({describe(a)}) is no array the graph uses: an arg "
                f"array is one the graph's ops hold (cross_entropy's labels, index arrays, "
                f"where's condition), found by its shape, dtype and values"
            )
        if len(equal) > 1:
            raise ValueError(
                f"compile_grad: {where} equals {len(equal)} arrays the graph uses; give the "
                f"graph's own array (node.op.params[...]) to say which"
            )
        found = equal[0]
    array, _, param = found
    # a mask used as an index: what it picks sets the shapes, which the code holds
    picks = int(np.count_nonzero(array)) if array.dtype.kind == "b" and param == "index" else None
    return Arg(where, None, array=array, picks=picks)


def live_nodes(nodes: list[Node], args: Sequence[Arg]) -> tuple[set[Node], set[int]]:
    """The nodes whose op holds an arg array (they are computed at each call), and the ids
    of every array their ops hold."""
    ids = {id(a.array) for a in args if a.array is not None}
    live: set[Node] = set()
    held: set[int] = set()
    for node in nodes if ids else []:
        op = node.op
        if op is None:
            continue
        arrays = [id(a) for v in op.params.values() for a in _params_arrays(v)]
        if ids.intersection(arrays):
            live.add(node)
            held.update(arrays)
    return live, held


def unread(w: Writer, args: Sequence[Arg], tokens: Sequence[Var]) -> None:
    """CodegenError for an arg the written code does not read: an op that holds the array
    computes with it in a way its emit form does not write, and a new value would not
    reach the result."""
    text = "\n".join(stmt[1] for stmt in w.stmts)
    for arg, v in zip(args, tokens):
        if v.token not in text:
            raise CodegenError(
                f"compile_grad: {arg.where} is not read by the code written for the graph "
                f"(an op holding it writes it as no param of its emit form), so a new value "
                f"would not change the result"
            )


def convert(inputs: list[Node], args: list[Arg]) -> list[Callable[[Any], Any]]:
    """The functions that convert and check the compiled function's arguments, one per
    argument: inputs as the engine makes data (floats; arrays of the recorded dtype), args
    as recorded, each of the recorded shape."""
    checks = [_input_check(x, _shown(x, i)) for i, x in enumerate(inputs)]
    return checks + [_arg_check(arg) for arg in args]


def as_recorded(
    inputs: list[Node], args: list[Arg], params: list[str]
) -> tuple[list[str], tuple[np.dtype[Any], ...]]:
    """For a Tensor function: the prologue's lines, and the dtypes they read as `_dtypes[k]`.
    A line per parameter keeps a plain ndarray as it is, takes a Tensor's array (`_Tensor`:
    an input, or an arg that is a leaf, the batch, given as a Tensor stands for its data,
    read without making the view `.data` makes) and gives anything else to `convert`'s
    function, `_inputs[k]` (a `.data` view, nested lists); then one test of every dtype and
    shape against the recorded ones gives them all to their functions unless each is as
    recorded, the common case, which then calls nothing of ours. A mask arg always goes to
    its function, which counts what it picks."""
    datas = [x._data for x in inputs]
    datas += [a.array if a.node is None else a.node._data for a in args]
    kinds = ["node"] * len(inputs)
    kinds += ["node" if a.node is not None else "mask" if a.picks is not None else "" for a in args]
    lines, tests, checked = [], [], []
    for k, (p, a, kind) in enumerate(zip(params, datas, kinds)):
        if kind == "mask":
            lines.append(f"{p} = _inputs[{k}]({p})")
            continue
        tensor = f"{p}._data if type({p}) is _Tensor else " if kind == "node" else ""
        lines.append(f"{p} = {tensor}{p} if type({p}) is _ndarray else _inputs[{k}]({p})")
        tests.append(f"{p}.dtype is _dtypes[{k}] and {p}.shape == {a.shape!r}")
        checked.append((p, k))
    if tests:
        names = ", ".join(p for p, _ in checked)
        again = ", ".join(f"_inputs[{k}]({p})" for p, k in checked)
        lines += [f"if not ({' and '.join(tests)}):", f"    {names}, = {again},"]
    return lines, tuple(a.dtype for a in datas)


def _shown(x: Node, i: int) -> str:
    return f"argument {i} ({x.label!r})" if x.label else f"argument {i}"


def _input_check(x: Node, label: str) -> Callable[[Any], Any]:
    data = x._data
    where = f"compile_grad: {label}"
    if isinstance(data, float):
        return lambda v: real(v, where)
    shape, dtype = data.shape, data.dtype

    def array(v: Any) -> Any:
        if isinstance(v, Tensor):  # (a Tensor of another dtype, or a subclass's)
            v = v._data
        if (
            isinstance(v, np.ndarray)
            and v.dtype == dtype
            and v.shape == shape
            and not (
                isinstance(v, np.ma.MaskedArray)  # (as_array refuses it: its mask would be dropped)
            )
        ):
            # what as_array gives, quickly: the array, as a plain ndarray (a view of a
            # subclass's, as np.array(v, copy=None) makes it: a Tensor's .data, say)
            return v if type(v) is np.ndarray else v.view(np.ndarray)
        a = as_array(v, where, dtype, copy=False)
        _same_shape(where, a.shape, shape)
        return a

    return array


def _arg_check(arg: Arg) -> Callable[[Any], Any]:
    where = f"compile_grad: {arg.where}"
    if arg.node is not None:  # as an input's value: a float, or an array of its dtype
        return _input_check(arg.node, arg.where)
    recorded = arg.array
    assert recorded is not None
    shape, picks = recorded.shape, arg.picks
    kinds, what = ("b", "booleans") if recorded.dtype.kind == "b" else ("iu", "integers")

    def indices(v: Any) -> Any:
        if picks is None and type(v) is np.ndarray and v.dtype.kind in kinds and v.shape == shape:
            return v  # the common case, at every call, made quick
        if isinstance(v, Node):
            raise TypeError(f"{where} must be a numpy array of {what}, got a {type(v).__name__}")
        a = np.asarray(v)
        if a.dtype.kind not in kinds:
            raise TypeError(
                f"{where} must be {what} (as recorded: {recorded.dtype}), got dtype {a.dtype}"
            )
        _same_shape(where, a.shape, shape)
        if picks is not None and np.count_nonzero(a) != picks:
            raise ValueError(
                f"{where} is a mask picking {np.count_nonzero(a)} elements; the function was "
                f"compiled for one picking {picks} (the shapes follow from it: compile again)"
            )
        return a

    return indices


def _same_shape(where: str, shape: tuple[int, ...], recorded: tuple[int, ...]) -> None:
    if shape != recorded:
        raise ValueError(
            f"{where} has shape {shape}; the function was compiled for shape {recorded} "
            f"(its code holds the recorded shapes, a mean's 1/n among them: compile again "
            f"for other shapes)"
        )
