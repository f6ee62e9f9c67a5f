"""compile_grad on Tensor graphs: a call written twice is computed once, and arguments
already as recorded go straight in.

Reference: the closed forms softplus(x) = log(1 + e^x), softplus'(x) = e^x / (1 + e^x) in
numpy float64, the count of calls of the helper the code calls, and the graph built again and
its backward() (the definition of what compile_grad computes), bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograd_lite import Op, Tensor, backward_code, compile_grad
from autograd_lite.engine.array_ops import linear_op
from autograd_lite.nn import cross_entropy
from tests.codegen_helpers import same

CALLS = [0]


def _exp_counted(x: Any) -> Any:
    """np.exp, counting its calls: generated code calls it by name."""
    CALLS[0] += 1
    return np.exp(x)


# softplus written with the helper in its forward and in its derivative's op: the code
# writes `_exp_counted(x)` three times for one value, x.
_fraction = Op(
    "exp_fraction",
    lambda x: x,  # (the float form, unused here)
    lambda g, out, x: (g * 0.0,),
    array_forward=lambda x: _exp_counted(x) / (1.0 + _exp_counted(x)),
)
_softplus = Op(
    "softplus_counted",
    lambda x: x,
    lambda g, out, x: (g * _fraction(x),),
    array_forward=lambda x: np.log1p(_exp_counted(x)),
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_call_written_three_times_is_computed_once(dtype: Any) -> None:
    x = Tensor([0.5, -1.0, 2.0], dtype=dtype)
    w = Tensor([1.0, 2.0, -0.5], dtype=dtype)
    loss = (_softplus(x) * w).sum()
    f = compile_grad(loss, [x, w])
    new_x, new_w = np.array([1.5, 0.0, -3.0], dtype=dtype), np.array([2.0, -1.0, 0.25], dtype)
    CALLS[0] = 0
    value, (dx, dw) = f(new_x, new_w)
    assert CALLS[0] == 1  # was 3: the forward's call and the derivative's two
    # the graph built again and its backward(), bit for bit
    x2, w2 = Tensor(new_x, dtype=dtype), Tensor(new_w, dtype=dtype)
    again = (_softplus(x2) * w2).sum()
    again.backward()
    assert same(value, again.data) and same(dx, x2.grad) and same(dw, w2.grad)
    # the closed forms
    e = np.exp(new_x.astype(np.float64))
    rtol = 1e-6 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(dw, np.log1p(e), rtol=rtol)
    np.testing.assert_allclose(dx, new_w * e / (1 + e), rtol=rtol)


def test_cross_entropys_logsumexp_is_computed_once() -> None:
    # The loss and its derivative both start from logsumexp(z): the code computes it once.
    rng = np.random.default_rng(3)
    w = Tensor(rng.normal(size=(3, 4)), label="W")
    x = Tensor(rng.normal(size=(5, 4)), requires_grad=False, label="X")
    y = np.array([0, 2, 1, 1, 0])
    code = backward_code(cross_entropy(x @ w.T, y), [w], args=[x, y], compact=True)
    function = code.split("\n\n\n")[-1]  # (the helpers' sources come before it)
    assert function.count("logsumexp_array(") == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_arguments_as_recorded_or_converted_give_the_same_bits(dtype: Any) -> None:
    # Arrays of the recorded dtype and shape pass a quick test; anything else (lists, another
    # dtype, a subclass of ndarray, a view) is converted as before: the same results.
    rng = np.random.default_rng(5)
    w = Tensor(rng.normal(size=(3, 4)), dtype=dtype)
    x = Tensor(rng.normal(size=(2, 4)), requires_grad=False, dtype=dtype)
    y = np.array([0, 2])
    f = compile_grad(cross_entropy(x @ w.T, y), [w], args=[x, y])
    new_w, new_x = rng.normal(size=(3, 4)), rng.normal(size=(2, 4))

    class Sub(np.ndarray):  # a subclass: not an ndarray as recorded, converted
        pass

    want = f(new_w.astype(dtype), new_x.astype(dtype), np.array([1, 1]))
    for args in (
        (new_w.tolist(), new_x.tolist(), [1, 1]),
        (new_w, new_x, np.array([1, 1], dtype=np.int32)),
        (new_w.astype(dtype).view(Sub), np.asfortranarray(new_x.astype(dtype)), np.array([1, 1])),
    ):
        assert same(f(*args), want)

    class Watched(np.ndarray):  # as a Tensor's .data: numpy calls on it are its own
        def __array_ufunc__(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the compiled code computed with the subclass")

    watched = new_w.astype(dtype).view(Watched), new_x.astype(dtype).view(Watched)
    assert same(f(*watched, np.array([1, 1])), want)  # made plain arrays (views) first
    with pytest.raises(ValueError, match=r"args\[0\] has shape \(3, 4\)"):
        f(new_w.astype(dtype), np.ones((3, 4), dtype), np.array([0, 1, 2]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relus_derivative_computes_no_dtype_per_call(
    dtype: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # step's array form, in relu's derivative, is (x > 0).astype(np.result_type(x, np.float16)):
    # compile_grad's arguments are made the recorded dtypes, so the dtype is written as such.
    rng = np.random.default_rng(2)
    w = Tensor(rng.normal(size=(3, 4)), dtype=dtype)
    x = Tensor(rng.normal(size=(5, 4)), requires_grad=False, dtype=dtype)
    f = compile_grad((x @ w.T).relu().sum(), [w], args=[x])
    new_w, new_x = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    calls = []
    result_type = np.result_type
    monkeypatch.setattr(np, "result_type", lambda *a: calls.append(a) or result_type(*a))
    value, (dw,) = f(new_w, new_x)  # (converted from float64 to dtype first)
    monkeypatch.undo()
    assert calls == []
    # Reference: d/dW sum(relu(x Wᵀ)) = (x Wᵀ > 0)ᵀ x, in float64; and the rebuilt graph
    w64, x64 = new_w.astype(dtype).astype(np.float64), new_x.astype(dtype).astype(np.float64)
    assert dw.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(dw, ((x64 @ w64.T) > 0).T @ x64, rtol=rtol)
    w2 = Tensor(new_w, dtype=dtype)
    again = (Tensor(new_x, requires_grad=False, dtype=dtype) @ w2.T).relu().sum()
    again.backward()
    assert same(value, again.data) and same(dw, w2.grad)


def _refused(x: Any) -> Any:
    raise AssertionError("a call of the branch not taken was computed")


def test_a_call_in_a_branch_not_taken_is_not_computed_ahead() -> None:
    # Two statements write _refused(x) in the branch their conditional does not take: it is
    # not shared (sharing would compute it ahead, unconditionally).
    same_x = Op(
        "same_x",
        lambda x, flag: x,
        lambda g, out, x, flag: (g,),
        emit={"array": "({0} if {flag} else _refused({0}))"},
        params={"flag": True},
    )
    x = Tensor([1.0, -2.0])
    f = compile_grad((same_x(x) * same_x(x)).sum(), [x])
    value, (dx,) = f(np.array([3.0, 0.5]))
    # Reference: d/dx sum(x * x) = 2x
    assert value == 9.25 and dx.tolist() == [6.0, 1.0]


def _compiled_source(loss: Any, inputs: list[Any], args: list[Any]) -> str:
    """The source compile_grad compiles (its def alone)."""
    from autograd_lite.codegen.args import resolve
    from autograd_lite.codegen.emit import write

    taken = resolve(loss, inputs, args)
    return write(loss, inputs, "f", compact=True, standalone=False, max_nodes=10**6,
                 args=taken).source  # fmt: skip


def test_relus_derivative_multiplies_the_matmuls_array_in_place() -> None:
    # d_h = (d_z @ W) * mask: the matmul's array is read there only, so the product is
    # written into it, by the comparison itself (as the hand step writes d *= h > 0).
    rng = np.random.default_rng(4)
    w1, w2 = Tensor(rng.normal(size=(5, 4))), Tensor(rng.normal(size=(3, 5)))
    x = Tensor(rng.normal(size=(6, 4)), requires_grad=False)
    y = np.array([0, 1, 2, 2, 1, 0])
    loss = cross_entropy((x @ w1.T).relu() @ w2.T, y)
    source = _compiled_source(loss, [w1, w2], [x, y])
    assert "out=" in source and "np.result_type" not in source
    assert "* (" not in source  # no product left out of place, no float mask


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_written_in_place_are_the_rebuilt_graphs_bits(dtype: Any) -> None:
    # Products, sums, differences and quotients of fresh arrays (some broadcast against a
    # smaller operand, some read twice and so left alone), and relu's masks.
    rng = np.random.default_rng(6)

    def loss_of(w: Tensor, b: Tensor, x: Tensor) -> Tensor:
        h = (x @ w + b).relu()  # x @ w is fresh and read once: + b in place
        u = (h @ w.T - x) * 0.5  # in place twice
        v = (x @ w) / (b * b + 1.0)  # a quotient by a broadcast operand
        t = x @ w  # read twice: no operand in place
        loss: Tensor = (u * u).sum() + (v - t * t).sum() + (-(h * 2.0)).relu().sum()
        return loss

    w, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    x = rng.normal(size=(5, 4))
    wt, bt = Tensor(w, dtype=dtype), Tensor(b, dtype=dtype)
    xt = Tensor(x, requires_grad=False, dtype=dtype)
    loss = loss_of(wt, bt, xt)
    assert "out=" in _compiled_source(loss, [wt, bt], [xt])
    f = compile_grad(loss, [wt, bt], args=[xt])
    for _ in range(3):
        w, b, x = w + rng.normal(size=w.shape), -b, rng.normal(size=x.shape)
        value, grads = f(w, b, x)
        w2, b2 = Tensor(w, dtype=dtype), Tensor(b, dtype=dtype)
        again = loss_of(w2, b2, Tensor(x, requires_grad=False, dtype=dtype))
        again.backward()
        assert same(value, again.data) and same(grads, (w2.grad, b2.grad))
        assert not np.shares_memory(grads[0], grads[1])


def _mlp_loss(ps: list[Tensor], x: Tensor, y: Any) -> Tensor:
    """nn.Linear's op, relu, nn.Linear's op, cross_entropy."""
    w1, b1, w2, b2 = ps
    h = linear_op(x, w1, b1).relu()
    return cross_entropy(linear_op(h, w2, b2), y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_is_written_into_the_linear_layers_array_as_the_hand_step(dtype: Any) -> None:
    # relu's derivative reads its result, so nothing else reads the linear layer's fresh
    # array: relu writes into it, np.maximum(h, 0, out=h), as the hand-written step does.
    # Reference: the graph built again on each batch and its backward(), bit for bit, on
    # batches with exact zeros, -0.0, infinities and nan among the hidden values.
    rng = np.random.default_rng(8)
    ps = [Tensor(rng.normal(size=s), dtype=dtype) for s in [(5, 4), (5,), (3, 5), (3,)]]
    x, y = rng.normal(size=(6, 4)), np.array([0, 1, 2, 2, 1, 0])
    xt = Tensor(x, requires_grad=False, dtype=dtype)
    loss = _mlp_loss(ps, xt, y)
    source = _compiled_source(loss, ps, [xt, y])
    made = [
        line.split(" = ")[0].strip() for line in source.splitlines() if "_linear_forward(" in line
    ]
    assert f"np.maximum({made[0]}, 0, out={made[0]})" in source  # main: np.maximum(t, 0)
    f = compile_grad(loss, ps, args=[xt, y])
    values = [p.data.copy() for p in ps]
    batches = [rng.normal(size=(6, 4)), np.zeros((6, 4)), -np.zeros((6, 4))]
    odd = rng.normal(size=(6, 4))
    odd[0, 0], odd[1, 1], odd[2, 2] = np.inf, -np.inf, np.nan
    for batch in [*batches, odd]:
        value, grads = f(*values, batch.astype(dtype), y)
        again_ps = [Tensor(v, dtype=dtype) for v in values]
        with np.errstate(all="ignore"):  # (inf - inf in the batch's matmul: nan, a value)
            again = _mlp_loss(again_ps, Tensor(batch, requires_grad=False, dtype=dtype), y)
            again.backward()
        assert same(value, again.data) and same(grads, tuple(p.grad for p in again_ps))


def test_each_gradient_is_computed_where_the_backward_pass_reaches_it() -> None:
    # The hand step's order: W2's gradient d_z.T @ h right after d_z, before d_h = d_z @ W2
    # and relu's mask; the return statement only names the results (main: every gradient
    # computed inside the return, after the whole backward pass). Reference: the order of
    # the derivation, d_z first, then what reads it; the values, the rebuilt graph's.
    rng = np.random.default_rng(9)
    ps = [Tensor(rng.normal(size=s)) for s in [(5, 4), (5,), (3, 5), (3,)]]
    xt = Tensor(rng.normal(size=(6, 4)), requires_grad=False)
    y = np.array([0, 1, 2, 2, 1, 0])
    lines = [
        line.strip() for line in _compiled_source(_mlp_loss(ps, xt, y), ps, [xt, y]).splitlines()
    ]
    body = [line for line in lines if " = " in line and not line.startswith("v0 =")]
    returned = next(line for line in lines if line.startswith("return "))
    assert "@" not in returned and "reduce" not in returned
    first_transpose = next(i for i, line in enumerate(body) if ".transpose(" in line)
    first_mask = next(i for i, line in enumerate(body) if "out=" in line and "> 0" in line)
    assert first_transpose < first_mask


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropys_derivative_takes_the_output_gradient_inside(reduction: Any) -> None:
    # The output gradient multiplies the derivative inside its helper, into the helper's own
    # array (main: `_softmax_error(...) * np.full((), 1.0, ...)`, one more array). Reference:
    # the graph built again on new logits and its backward(), bit for bit; float32 logits
    # under a float64 factor (the product is float64 then, as numpy's).
    rng = np.random.default_rng(10)
    y = np.array([2, 0, 1, 1])
    for dtype, factor in [(np.float32, None), (np.float64, None), (np.float32, 2.5)]:
        z = Tensor(rng.normal(size=(4, 3)), dtype=dtype)

        def loss_of(z: Tensor, factor: float | None = factor) -> Tensor:
            loss = cross_entropy(z, y, reduction)
            loss = loss if reduction != "none" else loss.sum()
            return loss if factor is None else loss * Tensor(factor, requires_grad=False)

        loss = loss_of(z)
        assert "* np.full" not in _compiled_source(loss, [z], [])
        f = compile_grad(loss, [z])
        new = rng.normal(size=(4, 3)).astype(dtype) * 30
        value, (dz,) = f(new)
        again = Tensor(new, dtype=dtype)
        rebuilt = loss_of(again)
        rebuilt.backward()
        assert same(value, rebuilt.data) and same(dz, again.grad)
