"""compile_grad's Tensor code with each `np.result_type(v, np.float16)` written as its dtype.

An emit form may compute a dtype from a value: step's array form, which relu's derivative
writes, is `(x > 0).astype(np.result_type(x, np.float16))`. The function compile_grad makes
converts every argument to its recorded dtype, so each value of its code has the dtype it had
when recorded, and such a call always gives the same dtype: it is written as that dtype,
`(x > 0).astype(np.float32)`, computed once here instead of at every call. (backward_code's
functions take arrays as they come, so their code keeps the call.)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..engine.node import Node
from .statements import Writer

__all__ = ["fold_dtypes"]

_CALL = re.compile("np\\.result_type\\((\x00\\d+\x00), np\\.(float16|float32|float64)\\)")


def fold_dtypes(w: Writer, grads: dict[Node, str]) -> None:
    """Each `np.result_type(<value>, np.<float dtype>)` in w's statements written as the dtype
    it gives for the value's recorded dtype (`grads`: the token of each node's gradient)."""
    dtypes: dict[str, Any] = {v.token: np.asarray(x._data).dtype for x, v in w.value_of.items()}
    dtypes.update((g, np.asarray(w.final[x]).dtype) for x, g in grads.items() if x in w.final)

    def folded(m: re.Match[str]) -> str:
        dtype = dtypes.get(m.group(1))
        if dtype is None:  # (a value of no known dtype: left as it is)
            return m.group()
        return w.source(np.result_type(dtype, getattr(np, m.group(2))))[0]

    for i, (target, code, prec, comment, backward) in enumerate(w.stmts):
        if "np.result_type(" in code:
            w.stmts[i] = (target, _CALL.sub(folded, code), prec, comment, backward)
