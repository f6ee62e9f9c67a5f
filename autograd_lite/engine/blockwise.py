"""Writing a leaf Tensor's array block by block: an elementwise update (an optimizer's
`p -= lr * g`) computed through a small scratch buffer, without a temporary array of the
parameter's size.

Why: `p -= lr * g` makes an array of p's size for `lr * g`, writes it and reads it back. For a
784x256 float64 weight that is 1.6 MB of fresh memory per step (page faults each time) and
the update cost three times a hand-written numpy step (`g *= lr; p -= g`, which may scale a
gradient it owns). Computed in blocks of `BLOCK_BYTES` through one scratch buffer that stays
in the cache, it costs about the same as that step.

The numbers are those of the whole-array computation, bit for bit: every operation is
elementwise (numpy's ufunc on each block, with the same operands and dtypes), so where the
blocks begin changes no result. The block path is taken only where that reasoning holds:
C-contiguous float arrays of one dtype and shape that share no memory with the parameter's
(an update that reads an array while writing one that overlaps it would see its own
writes). Anything else is left to the caller's whole-array computation. So is every step
in which a floating-point problem (an overflow) could raise rather than warn
(`blocks_allowed`): a block-by-block update could stop half written, so the optimizer then
computes its whole step aside and writes it only once all of it has computed (nn/optim.py).
Where numpy only warns, a warning comes from the block that overflows (shown once, as
numpy's warnings are by default).
"""

from __future__ import annotations

import importlib
import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .node import Node, stamp_write

__all__ = ["BLOCKS_ABOVE", "BLOCK_BYTES", "Scratch", "blocks_allowed", "write_in_blocks"]

BLOCK_BYTES = 128 * 1024
"""The scratch buffer's size per dtype: a block of 32768 float32 or 16384 float64 numbers
(measured on W5: 128 KB to 256 KB are the fastest blocks; smaller ones pay numpy's call
overhead more often, larger ones leave the cache)."""

BLOCKS_ABOVE = 1024 * 1024
"""A parameter of more bytes than this is updated in blocks; a smaller one on whole arrays.
Measured on W5 (bench/tensors.py, one thread): the 1.6 MB float64 temporary of a 784x256
weight came as fresh pages each step (about 390 page faults: the update cost 3.3x the hand
step's), in blocks 1.4x; the 784 KB float32 one came from the allocator's free memory, and
there the whole-array ufuncs were faster than blocks (1.6x against 1.8x)."""

Array = np.ndarray[Any, Any]
Block = Callable[[tuple[Array, ...], Array], None]
"""update((data block, blocks of the other arrays...), scratch): writes the data block in
place (and may write the blocks of arrays the caller owns, such as an optimizer's momentum);
scratch is a 2-D array, a row of the block's size per temporary asked for."""


class Scratch:
    """Scratch buffers of `BLOCK_BYTES`, one per dtype, made when first used; an optimizer
    holds one (memory held between steps: 128 KB per dtype)."""

    __slots__ = ("_by_dtype",)

    def __init__(self) -> None:
        self._by_dtype: dict[np.dtype[Any], Array] = {}

    def __reduce__(self) -> tuple[type[Scratch], tuple[()]]:
        """Copied and pickled empty: a buffer is working memory, not state."""
        return Scratch, ()

    def of(self, dtype: np.dtype[Any]) -> Array:
        """The flat scratch buffer for `dtype`."""
        buffer = self._by_dtype.get(dtype)
        if buffer is None:
            buffer = self._by_dtype[dtype] = np.empty(BLOCK_BYTES // dtype.itemsize, dtype)
        return buffer


_QUIET = frozenset(("warn", "ignore"))
"""numpy's error modes that cannot raise."""

try:  # numpy >= 2: a ContextVar whose value is a new object at every seterr and errstate
    _ERROR_STATE: Any = importlib.import_module("numpy._core._multiarray_umath")._extobj_contextvar
except (ImportError, AttributeError):  # numpy 1.x keeps it otherwise: geterr at every step
    _ERROR_STATE = None
_LAST_STATE: list[tuple[Any, bool]] = [(None, False)]
"""The last error state read and whether it is quiet: np.geterr builds a dict each time
(9.5k instructions, more than the rest of an SGD step's checks on W5), so a step under an
unchanged state skips it. A tuple in one cell: threads read and replace it whole."""


def _numpy_quiet() -> bool:
    """Whether numpy's error state can at most warn (every mode in `_QUIET`)."""
    state = None if _ERROR_STATE is None else _ERROR_STATE.get()
    last = _LAST_STATE[0]
    if state is not None and last[0] is state:  # (the cell holds it: its id is not reused)
        return last[1]
    quiet = _QUIET.issuperset(np.geterr().values())
    _LAST_STATE[0] = (state, quiet)
    return quiet


_action: Any = operator.itemgetter(0)
"""A warning filter's action ("error", "ignore", ...)."""


def blocks_allowed() -> bool:
    """Whether a floating-point problem in numpy (overflow, invalid, ...) can at most warn:
    numpy's error state warns or ignores, and no warning filter turns a RuntimeWarning into
    an error. Else a step must be computed whole before anything is written, so that an
    error leaves everything as it was."""
    if not _numpy_quiet():
        return False
    if "error" not in map(_action, warnings.filters):  # searched in C: the common case
        return True
    for f in warnings.filters:  # a loop, not any() over a generator: a third of the cost
        if f[0] == "error" and issubclass(RuntimeWarning, f[2]):
            return False
    return True


def write_in_blocks(
    node: Node[Any], others: tuple[Any, ...], update: Block, scratch: Scratch, temps: int = 1
) -> bool:
    """Run `update` over consecutive blocks of the leaf `node`'s array and of `others`
    (arrays of its shape and dtype, in the order given), with `temps` scratch arrays of the
    block's size (`scratch`'s buffer shared among them), writing the leaf's array in place;
    then stamp the node (graphs that used it are stale). False, with nothing done, when the
    arrays do not allow it (see the module): compute on whole arrays then."""
    data = node._data
    dtype = data.dtype
    if dtype.kind != "f" or not data.flags.c_contiguous:
        return False
    for other in others:
        if (
            type(other) is not np.ndarray
            or other.dtype != dtype
            or other.shape != data.shape
            or not other.flags.c_contiguous
            or np.may_share_memory(other, data)
        ):
            return False
    if data.base is not None:  # a view of other memory: the leaf's own copy first
        data = node._data = data.copy()
    buffer = scratch.of(dtype)
    size, block = data.size, len(buffer) // temps
    whole = size - size % block  # the numbers in whole blocks
    data.setflags(write=True)
    try:
        flat = [data.reshape(-1), *[other.reshape(-1) for other in others]]  # views
        if whole:  # rows of a block each, walked by zip: the least work per block
            rows = buffer[: temps * block].reshape(temps, block)
            for parts in zip(*[f[:whole].reshape(-1, block) for f in flat]):
                update(parts, rows)
        if whole < size:
            rest = size - whole
            update(tuple([f[whole:] for f in flat]), buffer[: temps * rest].reshape(temps, rest))
    finally:
        data.setflags(write=False)
        stamp_write(node)  # written (all of it, unless an update raised part way)
    return True
