"""What the codegen tests share: bit-for-bit comparison, and running a generated module."""

from __future__ import annotations

import re
import struct
from typing import Any

import numpy as np


def bits(x: Any) -> object:
    """What x holds, to the bit: a float's 8 bytes (so -0.0 differs from 0.0), an array's
    dtype, shape and bytes; every NaN alike. (A NaN's sign and payload are not arithmetic:
    when both operands of a + b are NaN, x86 keeps one of them, and CPython's specialised
    float addition and its generic one may pass them in either order.)"""
    if isinstance(x, np.ndarray):
        nan = np.isnan(x)
        return (x.dtype.str, x.shape, np.where(nan, 0, x).tobytes(), nan.tobytes())
    assert type(x) is float, f"expected a float or an array, got {type(x).__name__}"
    return "nan" if x != x else struct.pack("<d", x)


def same(a: Any, b: Any) -> bool:
    """a and b are bit for bit equal (element by element for tuples and lists)."""
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bits(a) == bits(b)


def run_module(source: str, name: str = "forward_backward") -> Any:
    """The function `name` of a generated module, run in a namespace of its own (so the
    module needs nothing it does not import itself)."""
    imports = set(re.findall(r"^import (\S+)", source, re.MULTILINE))
    assert imports <= {"math", "numpy"}, imports
    namespace: dict[str, Any] = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace[name]
