"""Error messages name the operation and the types the user wrote (review findings): std's
argument errors say std, clip takes numpy's limit names, format names the node type, mixing
forward and reverse mode gives advice for both, codegen names the op holding an unwritable
array.

Reference: the call written in each case and numpy's own clip (np.clip) for the values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import Dual, Op, Tensor, Value, backward_code
from autograd_lite.codegen.literals import CodegenError


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda t: t.std(dim=5), ValueError, r"^std: axis 5"),
        (lambda t: t.std(ddof=1.5), TypeError, r"^std: ddof"),
        (lambda t: t.std(ddof=1, correction=1), TypeError, r"^std: got both"),
        (lambda t: t.std(keepdims="yes"), TypeError, r"^std: keepdims"),
        (lambda t: t.std(foo=1), TypeError, r"^std\(\) got an unexpected"),
        (lambda t: t.var(dim=5), ValueError, r"^var: axis 5"),
        (lambda t: t.clip(), ValueError, r"^clip: give"),
        (lambda t: t.clip(a_max=np.nan), ValueError, r"^clip: max must not be nan"),
        (lambda t: t.clip(a_min=0, min=0), TypeError, r"^clip: got both a_min="),
        (lambda t: t.clip(foo=1), TypeError, r"^clip\(\) got an unexpected"),
    ],
)
def test_argument_errors_name_the_method_called(
    call: Callable[[Tensor], Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        call(Tensor([1.0, 2.0]))


def test_clip_takes_numpys_and_pytorchs_limit_names() -> None:
    x = np.array([-2.0, 0.5, 3.0])
    expected = np.clip(x, 0.0, 1.0).tolist()  # [0.0, 0.5, 1.0]
    assert Tensor(x).clip(a_min=0.0, a_max=1.0).data.tolist() == expected
    assert Tensor(x).clip(min=0.0, max=1.0).data.tolist() == expected
    assert Tensor(x).clip(0.0, 1.0).data.tolist() == expected
    t = Tensor(x)
    t.clip(a_min=0.0).sum().backward()
    assert t.grad.tolist() == [0.0, 1.0, 1.0]  # by hand: the gradient passes where x >= 0


@pytest.mark.parametrize("node", [Value(1.0), Tensor(1.0), Dual(1.0, 1.0)])
def test_a_bad_format_spec_names_the_node_type(node: Any) -> None:
    kind = type(node).__name__
    with pytest.raises(ValueError, match=rf"^format\(x, 'd'\) of a {kind}: "):
        format(node, "d")
    assert format(node, ".2f") == "1.00"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (Tensor([1.0]), Dual(1.0, 1.0)),
        (Value(1.0), Dual(1.0, 1.0)),
        (Dual(1.0, 1.0), Tensor([1.0])),
        (Dual(1.0, 1.0), Value(1.0)),
    ],
)
def test_mixing_forward_and_reverse_mode_advises_both(a: Any, b: Any) -> None:
    kinds = f"a {type(a).__name__} with a {type(b).__name__}"
    with pytest.raises(TypeError, match=rf"cannot mix {kinds}; make every input a Dual"):
        a + b


def test_an_unwritable_array_param_names_its_op() -> None:
    odd = np.array([1, "a"], dtype=object)
    op = Op(
        "odd_param",
        lambda x, a: x * 2.0,
        lambda g, out, x, a: (g * 2.0,),
        params={"a": odd},
        emit="{0} * float(len({a}))",
    )
    x = Value(1.0)
    with pytest.raises(CodegenError, match=r"^op 'odd_param': .*dtype object"):
        backward_code(op(x), [x])
