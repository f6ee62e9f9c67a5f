"""Writing a recorded graph's forward and backward pass as the source of one function.

`write` builds the statements (statements.py: one per op node, then one per chain-rule step
in `backward()`'s order, each share traced from the node's own rule), then lays them out as
text (layout.py: every value named, comments aligned, the module around the def). Running
the code repeats the engine's float operations one for one.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.backward import graph_nodes
from ..engine.node import Node
from .args import Arg, live_nodes, unread
from .dtypes import fold_dtypes
from .forms import MODULES
from .inplace import write_in_place
from .layout import function_lines, module_text, named_lines, output_name
from .literals import CodegenError
from .names import identifier
from .shared import share_calls
from .statements import Var, Writer

__all__ = ["Written", "write"]


@dataclass
class Written:
    """The generated function: its source and what the source's names refer to."""

    source: str  # a module, or the def alone
    helpers: dict[str, Any]  # the objects the def's helper names refer to
    constants: dict[str, Any]  # module-level arrays by name


@contextlib.contextmanager
def _no_collector() -> Iterator[None]:
    """The cyclic garbage collector paused: writing allocates a few objects per node, which
    start it again and again, and each full pass walks the whole graph (about an eighth of
    the time of compiling a 66k-node graph). What is written makes no cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def write(
    output: Node,
    inputs: Sequence[Node],
    name: str,
    *,
    compact: bool,
    standalone: bool,
    max_nodes: int,
    prologue: Callable[[list[str]], list[str]] | None = None,
    reserved: frozenset[str] = frozenset(),
    short_names: bool = False,
    aux: Sequence[Node] = (),
    args: Sequence[Arg] = (),
) -> Written:
    """The function computing output and its gradient with respect to inputs (leaves), as a
    whole module's source (`standalone`: helpers and constants written out; a Tensor
    function enters `np.errstate(all="ignore")` itself) or as the def alone (its caller,
    compile_grad, runs it under that errstate), with `prologue(params)`'s lines first
    (compile_grad's checks of its arguments).
    With `aux`, nodes of the graph, the function also returns their values, as a tuple.
    `args` (args.py) are parameters after the inputs that take no gradient: leaves of the
    graph, or arrays its ops hold as params.
    `compact` writes each gradient as one sum and puts values used once into their use, and
    computes a call written twice once (shared.py); code that is not `standalone`, whose
    caller converts the arguments to the recorded dtypes, has dtypes computed from values
    written as what they are (dtypes.py), and an elementwise result written into an operand
    that is a temporary nothing else reads (inplace.py)."""
    with _no_collector():
        nodes = graph_nodes(output)
        if len(nodes) > max_nodes:
            raise CodegenError(
                f"the graph has {len(nodes):,} nodes, more than max_nodes={max_nodes:,}: writing "
                f"and compiling it as code would take long (about 15 s and 1.5 GB of memory per "
                f"million nodes); pass max_nodes={len(nodes)} to write it anyway"
            )
        w = Writer(output, compact, short_names)
        for x in inputs:
            label = x.label
            w.value_of[x] = w.var(identifier(label) if label else None, "x")
        w.wrt.update(inputs)
        arg_vars = [_arg_var(w, arg) for arg in args]
        if args:
            w.live, w.held = live_nodes(nodes, args)
        with np.errstate(all="ignore"):  # inf and nan are values here, as in the engine
            w.forward(nodes)
            seed = output.backward_seed()
            grads = w.backward(seed, held_seed=not standalone) if output in w.value_of else {}
        w.returns(output, inputs, grads, aux)
        if w.tensor and not standalone:  # compile_grad's: its arguments are made as recorded
            fold_dtypes(w, grads)
        if compact and w.tensor:
            share_calls(w)
        if w.tensor and not standalone:
            write_in_place(w, grads)
        unread(w, args, arg_vars)
        for forms in w.forms.values():
            w.helpers.add_uses(forms)
        helper_text = w.helpers.collect() if standalone else None
        if name in w.helpers.names():
            raise ValueError(f"backward_code: name {name!r} is the name of a helper the code calls")
        taken_names = set(MODULES) | w.helpers.names() | {name} | set(reserved)
        named = named_lines(w, taken_names, in_order=w.tensor and not standalone)
        params = [v.name or "" for v in [w.value_of[x] for x in inputs] + arg_vars]
        what = output_name(w, output)
        lines = function_lines(w, name, params, what, prologue, named, quiet=standalone)
        text = "\n".join(lines) + "\n"
        constants = {v.name or "": copy for v, copy, _ in w.constants.values()}
        if standalone:
            assert helper_text is not None
            text = module_text(name, params, what, text, helper_text, constants)
        return Written(text, w.helpers.objects, constants)


def _arg_var(w: Writer, arg: Arg) -> Var:
    """The parameter of one of compile_grad's args."""
    v = w.var(identifier(arg.hint) if arg.hint else None, "x")
    if arg.node is not None:
        w.value_of[arg.node] = v
    else:
        w.arg_arrays[id(arg.array)] = v
    return v
