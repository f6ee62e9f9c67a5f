"""`backward_code` and `compile_grad`: a recorded graph's forward and backward pass as code.

Both check their arguments first (an output and the leaves to differentiate with respect to,
as `grad` takes them), then emit.py writes the function.
"""

from __future__ import annotations

import builtins
import keyword
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine.backward import check_graph_args, graph_nodes
from ..engine.node import Node
from ..engine.replay import check_recomputed
from ..engine.tensor import Tensor
from ..validate import describe, listed_once, sequence
from .args import Arg, as_recorded, convert, resolve
from .emit import write
from .forms import MODULES
from .literals import CodegenError

__all__ = ["MAX_NODES", "backward_code", "compile_grad"]

MAX_NODES = 1_000_000
"""The largest graph (in nodes, constants included) written as code unless `max_nodes` says
otherwise: a chain of a million nodes takes about 15 s and 1.5 GB to compile."""

CompiledGrad = Callable[..., tuple[Any, ...]]
"""What `compile_grad` returns: f(*values) -> (output value, (gradient per input, ...)), and
the aux values as a third item when asked for."""


def _checked(
    where: str, output: object, inputs: object, name: object, max_nodes: object
) -> list[Node]:
    """The inputs, after checking every argument (nothing is written before)."""
    found = check_graph_args(where, output, inputs)
    assert isinstance(output, Node)
    check_recomputed(output)  # code written from changed data would mix old and new values
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{where}: name must be a Python identifier, got {describe(name)}")
    if name in MODULES or hasattr(builtins, name):  # the module's code calls float(), math.*
        raise ValueError(f"{where}: name {name!r} is a name generated code uses; choose another")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"{where}: max_nodes must be a positive int, got {describe(max_nodes)}")
    seen: dict[Node, int] = {}
    for i, x in enumerate(found):
        if not x.is_leaf:
            raise ValueError(
                f"{where}: inputs[{i}] is computed by op {x.op!r}; the function's arguments "
                f"are leaves (the Values or Tensors an expression is built from)"
            )
        listed_once(seen, x, where, "inputs", i)
    size = np.size(output._data)
    if size != 1:
        raise ValueError(
            f"{where}: the output has shape {np.shape(output._data)}, not one element; "
            f"reduce it first (.sum(), .mean())"
        )
    return found


def backward_code(
    output: Node,
    inputs: Sequence[Node],
    *,
    name: str = "forward_backward",
    compact: bool = False,
    max_nodes: int = MAX_NODES,
    args: Sequence[Node | np.ndarray[Any, Any]] = (),
) -> str:
    """The source of a module with one function, `name(<inputs>)`, that computes `output`
    and its gradient with respect to each of `inputs` (leaves: Values, or Tensors), and
    returns `(output value, (d output / d input, ...))`.

    The function repeats the recorded graph: one statement per op in the forward pass, one
    per chain-rule step in the backward pass, in `backward()`'s order and with the same
    float operations, so it gives bit for bit the graph's `.data` and the gradients `grad()`
    gives (numbers for Values, arrays of each input's shape and dtype for Tensors). Values
    are named after labels (`ŷ` becomes `y_hat`), gradients `d_<name>`; what depends on no
    input is written as its recorded value. The module needs only `math` (and `numpy` for
    Tensors). `compact=True` writes what `compile_grad` compiles: each gradient as one sum of
    its shares, and values used once inside the expression that uses them. `args` are
    parameters after the inputs, as compile_grad takes them.

    CodegenError for an op without an emit form (the message says what to add), a rule that
    cannot be written as code, or a graph of more than `max_nodes` nodes.

    >>> from autograd_lite import Value, backward_code
    >>> x, w = Value(3.0, label="x"), Value(-2.0, label="w")
    >>> y = (x * w).relu()
    >>> y.label = "y"
    >>> print(backward_code(y, [x, w]).split("\\n\\n\\n")[-1], end="")
    def forward_backward(x, w):
        \"\"\"y and its gradient with respect to x, w.\"\"\"
        # forward pass
        t1 = x * w
        y = (0.0 if t1 <= 0 else t1)
        # backward pass: d_v is dy/dv
        d_y = 1.0                             # dy/dy
        d_t1 = d_y * (1.0 if y > 0 else 0.0)  # y = relu(t1)
        d_w = d_t1 * x                        # t1 = x * w
        d_x = d_t1 * w                        # t1 = x * w
        return y, (d_x, d_w)
    """
    found = _checked("backward_code", output, inputs, name, max_nodes)
    taken = resolve(output, found, args)
    return write(
        output,
        found,
        name,
        compact=bool(compact),
        standalone=True,
        max_nodes=max_nodes,
        args=taken,
    ).source


def compile_grad(
    output: Node,
    inputs: Sequence[Node],
    *,
    args: Sequence[Node | np.ndarray[Any, Any]] = (),
    aux: Sequence[Node] = (),
    max_nodes: int = MAX_NODES,
) -> CompiledGrad:
    """`backward_code`'s function, compiled: `f(*values)` returns `(value, grads)` for new
    values of `inputs` (numbers for Values; for Tensors arrays of the recorded shapes, made
    the inputs' dtype, or Tensors, which stand for their data), bit for bit what building
    the same expression from those values and calling `grad()` gives (what `backward()` adds
    to a zeroed `.grad`), without building a node.

    Ops whose result or derivative depends on a sign (relu, abs, maximum, max) are written
    as expressions evaluated at each call, so they stay right when a sign changes. It is a
    trace, like `jax.jit`: a Python `if` on a value in the code that built the expression
    was taken once, at the recorded values, and is not taken again. Leaves not in `inputs`
    keep their recorded values: `f` holds read-only copies, so later writes into their
    arrays (`W.data += 1`, an optimizer's step) do not reach it. A domain error (log of a
    number <= 0) raises `DomainError`, as building the expression would.

    `args`: what `f` takes anew at each call, after the inputs, without differentiating it:
    leaves of the graph (a batch Tensor made with `requires_grad=False`; a Value taken as a
    number), and integer arrays the graph's ops hold (cross_entropy's labels, the index
    arrays of `x[rows, labels]`), found by value since the engine keeps copies (the graph's
    own array, `node.op.params[...]`, picks one of several equal ones).
    `f(*input_values, *arg_values)` is bit for bit the graph built again on those values and
    its `backward()`. Values of another shape than recorded are a ValueError naming both
    (the code holds the recorded shapes, a mean's 1/n among them: compile once per batch
    size); labels out of range raise cross_entropy's own ValueError.

    `aux`: other nodes of the graph (a model's predictions, say) whose values `f` returns
    too, as a third item: `f(*values)` is then `(value, grads, aux_values)`.

    >>> from autograd_lite import Value, compile_grad
    >>> x, w = Value(3.0), Value(-2.0)
    >>> f = compile_grad((x * w).relu(), [x, w])
    >>> f(3.0, -2.0)   # relu(-6) = 0: no gradient (-0.0 is 0.0 * -2.0, as grad() has it)
    (0.0, (-0.0, 0.0))
    >>> f(3.0, 2.0)    # the sign flipped: relu(6) = 6
    (6.0, (2.0, 3.0))
    """
    found = _checked("compile_grad", output, inputs, "f", max_nodes)
    extra = _aux(output, aux)
    recorded: dict[str, Any] = {"_ndarray": np.ndarray, "_Tensor": Tensor}  # the prologue's
    taken = resolve(output, found, args)
    tensor = not isinstance(output._data, float)
    written = write(
        output,
        found,
        "compiled_grad",
        compact=True,
        standalone=False,
        prologue=_prologue(tensor, found, taken, recorded),
        reserved=frozenset({"_inputs", "_ndarray", "_dtypes", "_Tensor"}),
        max_nodes=max_nodes,
        short_names=True,
        aux=extra,
        args=taken,
    )
    namespace: dict[str, Any] = {"math": math, "np": np, "_inputs": convert(found, taken)}
    namespace.update(recorded)
    namespace.update(written.helpers)
    namespace.update(written.constants)
    try:
        code = compile(written.source, "<compile_grad>", "exec")
    except (SyntaxError, RecursionError) as e:  # an emit form or rule written too deep
        raise CodegenError(
            f"Python cannot compile the code written for this graph ({e!r}): an op's emit "
            f"form or derivative rule nests too deeply"
        ) from None
    exec(code, namespace)
    function: CompiledGrad = namespace["compiled_grad"]
    if tensor:  # inf and nan are values, as in the engine (the code enters no errstate)
        function = np.errstate(all="ignore")(function)
    return function


def _aux(output: Node, aux: object) -> list[Node]:
    """aux as a list of nodes of output's graph (a single node is a TypeError: write [node])."""
    if isinstance(aux, Node):
        raise TypeError(
            f"compile_grad: aux must be a sequence of nodes, got a single "
            f"{type(aux).__name__} (write [node])"
        )
    found = sequence(aux, "compile_grad: aux", "a sequence of Values or Tensors")
    below = set(graph_nodes(output)) if found else set()
    for i, node in enumerate(found):
        if not isinstance(node, Node):
            raise TypeError(
                f"compile_grad: aux[{i}] must be a Value or Tensor, got {describe(node)}"
            )
        if node not in below:
            raise ValueError(
                f"compile_grad: aux[{i}] is not in the output's graph; the function computes "
                f"only what the output is computed from"
            )
    return found


def _prologue(
    tensor: bool, inputs: list[Node], args: list[Arg], recorded: dict[str, Any]
) -> Callable[[list[str]], list[str]]:
    """Lines converting the arguments as the engine converts data (floats; arrays of the
    recorded shape and dtype), checked, each by `_inputs[k]` unless it is so already, the
    common case (`recorded` gets the names the lines read)."""

    def lines(params: list[str]) -> list[str]:
        if not params:
            return []
        if tensor:
            found, recorded["_dtypes"] = as_recorded(inputs, args, params)
            return found
        test = " or ".join(f"type({p}) is not float" for p in params)
        names = ", ".join(params) + ","
        convert = ", ".join(f"_inputs[{k}]({p})" for k, p in enumerate(params)) + ","
        return [f"if {test}:", f"    {names} = {convert}"]

    return lines


__all__ += ["CodegenError"]
