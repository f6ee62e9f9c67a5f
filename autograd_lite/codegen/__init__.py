"""A recorded graph's forward and backward pass as straight-line Python, and compiled.

`backward_code(output, inputs)` gives the source of a function computing the output and its
gradient, one statement per op and per chain-rule step, in `backward()`'s order and with
its float operations; `compile_grad(output, inputs)` compiles it into a function of new
input values. Ops say how they are written with `Op(emit=...)` (see docs/codegen.md).
"""

from .compiled import MAX_NODES, CompiledGrad, backward_code, compile_grad
from .literals import CodegenError

__all__ = ["MAX_NODES", "CodegenError", "CompiledGrad", "backward_code", "compile_grad"]
