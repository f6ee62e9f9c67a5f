"""nn on tensors: Linear, Sequential, the activations, cross_entropy, mse_loss, the optimizers.

References, independent of the engine: numpy written out here (x @ W.T + b, its gradients
dW = Gᵀx, db = ΣG, dx = GW; logsumexp and softmax by their definitions), closed forms
(log C for equal logits, diag(p) - ppᵀ for cross-entropy's Hessian), central finite
differences in float64, PyTorch's documented conventions (the weight layout (out, in), the
init range U(-1/√in, 1/√in), the state-dict keys of a Sequential, the printout, the update
rules of SGD and Adam, cross_entropy's and mse_loss's definitions), all written out in the
tests.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import Tensor, Value, grad, no_grad
from autograd_lite.engine import array_ops
from autograd_lite.nn import (
    MLP,
    SGD,
    Adam,
    Linear,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    cross_entropy,
    mse_loss,
)

Array = np.ndarray[Any, Any]


def numeric_grad(f: Any, x: Array, eps: float = 1e-6) -> Array:
    """Central differences of the scalar function f at x, in float64."""
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        out[i] = (f(up) - f(down)) / (2 * eps)
    return out


def logsumexp_rows(z: Array) -> Array:
    """log Σ_c exp(z[n, c]) per row, by its definition (z is moderate: no overflow)."""
    return np.log(np.sum(np.exp(z), axis=1))


def softmax_rows(z: Array) -> Array:
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# -- Linear ------------------------------------------------------------------------------------
def test_linear_layout_and_init_follow_pytorch() -> None:
    # PyTorch: weight (out, in), bias (out,), both U(-1/sqrt(in), 1/sqrt(in)); the draws here
    # are documented as weight first, then bias, from the given Generator.
    layer = Linear(5, 3, rng=7)
    bound = 1 / math.sqrt(5)
    rng = np.random.default_rng(7)
    expected_w = rng.uniform(-bound, bound, (3, 5))
    expected_b = rng.uniform(-bound, bound, 3)
    assert layer.bias is not None
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    np.testing.assert_array_equal(layer.weight.data, expected_w)
    np.testing.assert_array_equal(layer.bias.data, expected_b)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    big = Linear(400, 300, rng=0)
    assert np.abs(big.weight.data).max() <= 1 / 20 and np.abs(big.weight.data).max() > 0.049
    np.testing.assert_array_equal(Linear(5, 3, rng=7).weight.data, layer.weight.data)
    assert not np.array_equal(Linear(5, 3, rng=8).weight.data, layer.weight.data)


def test_linear_forward_and_gradients_against_numpy() -> None:
    # Reference: out = x @ W.T + b; for loss = Σ out * R: dW = Rᵀ x, db = Σ_n R, dx = R W.
    rng = np.random.default_rng(0)
    layer = Linear(4, 3, rng=1)
    assert layer.bias is not None
    w, b = layer.weight.data.copy(), layer.bias.data.copy()
    xd = rng.normal(size=(6, 4))
    r = rng.normal(size=(6, 3))
    x = Tensor(xd)
    out = layer(x)
    np.testing.assert_allclose(out.data, xd @ w.T + b, rtol=1e-14, atol=1e-14)
    assert out.op is array_ops.linear_op  # one node, not matmul + transpose + add
    (out * r).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, r.T @ xd, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(layer.bias.grad, r.sum(axis=0), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(x.grad, r @ w, rtol=1e-13, atol=1e-13)


def test_linear_takes_one_sample_and_extra_leading_axes() -> None:
    # Reference: the same formula per row, written with numpy.
    layer = Linear(3, 2, rng=0)
    assert layer.bias is not None
    w, b = layer.weight.data, layer.bias.data
    one = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(layer(one).data, w @ one + b, rtol=1e-14)
    batch = np.arange(24.0).reshape(2, 4, 3)
    out = layer(batch)
    assert out.shape == (2, 4, 2)
    np.testing.assert_allclose(out.data, batch @ w.T + b, rtol=1e-14)
    (out * out).sum().backward()  # d/dW Σ out² = Σ_rows 2 out_row ⊗ x_row
    rows = batch.reshape(8, 3)
    np.testing.assert_allclose(
        layer.weight.grad, 2 * (rows @ w.T + b).T @ rows, rtol=1e-12, atol=1e-12
    )


def test_an_array_input_is_a_constant_with_no_gradient() -> None:
    layer = Linear(3, 2, rng=0)
    out = layer(np.ones((4, 3)))
    assert out.operands[0].is_constant
    out.sum().backward()
    np.testing.assert_allclose(layer.weight.grad, np.full((2, 3), 4.0))  # Σ over 4 rows of 1


def test_linear_without_bias() -> None:
    # Reference: x @ W.T alone; the state dict then has only `weight`, as PyTorch's.
    layer = Linear(3, 2, bias=False, rng=0)
    assert layer.bias is None
    assert list(layer.state_dict()) == ["weight"]
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T, rtol=1e-15)
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, np.repeat(x, 2, axis=0))
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"


def test_linear_float32() -> None:
    layer = Linear(3, 2, rng=0, dtype=np.float32)
    assert layer.weight.dtype == np.float32 and layer.bias is not None
    assert layer.bias.dtype == np.float32
    # the same draws as float64, rounded
    np.testing.assert_array_equal(
        layer.weight.data, Linear(3, 2, rng=0).weight.data.astype(np.float32)
    )
    out = layer(np.ones((2, 3)))  # a float64 array input follows the parameters' dtype
    assert out.dtype == np.float32
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32


def test_linear_errors() -> None:
    layer = Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"Linear\(in_features=3.*shape \(4, 5\).*in_features=3"):
        layer(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"shape \(\)"):
        layer(Tensor(1.0))
    cases: list[tuple[Any, type[Exception], str]] = [
        (lambda: Linear(0, 2), ValueError, "Linear: in_features"),
        (lambda: Linear(2, 1.5), TypeError, "Linear: out_features"),
        (lambda: Linear(2, 2, bias="yes"), TypeError, "Linear: bias must be True or False"),
        (lambda: Linear(2, 2, rng=-1), ValueError, "Linear: rng"),
        (lambda: Linear(2, 2, dtype=np.int64), TypeError, "dtype must be np.float64 or"),
    ]
    for make, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            make()


# -- Sequential, activations, the printout -------------------------------------------------------
TORCH_KEYS = [("0.weight", (256, 784)), ("0.bias", (256,)), ("2.weight", (10, 256)),
              ("2.bias", (10,))]  # fmt: skip
"""PyTorch's state-dict keys and shapes for Sequential(Linear(784, 256), ReLU(),
Linear(256, 10)), written out."""


def test_state_dict_keys_and_shapes_are_pytorchs() -> None:
    model = Sequential(Linear(784, 256, rng=0), ReLU(), Linear(256, 10, rng=1))
    state = model.state_dict()
    assert [(k, v.shape) for k, v in state.items()] == TORCH_KEYS  # type: ignore[union-attr]
    assert [n for n, _ in model.named_parameters()] == [k for k, _ in TORCH_KEYS]
    assert [p.label for p in model.parameters()] == [k for k, _ in TORCH_KEYS]
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in state.values())


def test_nested_sequential_names_like_pytorch() -> None:
    # PyTorch: Sequential(Sequential(Linear, Tanh), Linear) has keys 0.0.weight ... 1.bias
    model = Sequential(Sequential(Linear(2, 3, rng=0), Tanh()), Linear(3, 1, rng=1))
    assert list(model.state_dict()) == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]


def test_printout_is_pytorchs() -> None:
    # Reference: print(torch.nn.Sequential(...)) for the same layers, written out.
    model = Sequential(Linear(64, 32, rng=0), ReLU(), Linear(32, 10, rng=0), Sigmoid(), Tanh())
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=64, out_features=32, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=32, out_features=10, bias=True)\n"
        "  (3): Sigmoid()\n"
        "  (4): Tanh()\n"
        ")"
    )

    class Net(Module):
        def __init__(self) -> None:
            self.body = Sequential(Linear(4, 3, rng=0), ReLU())
            self.head = Linear(3, 2, rng=0)

        def forward(self, x: Any) -> Any:
            return self.head(self.body(x))

    assert repr(Net()) == (
        "Net(\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (head): Linear(in_features=3, out_features=2, bias=True)\n"
        ")"
    )
    assert Net()(np.ones((5, 4))).shape == (5, 2)


def test_sequential_forward_is_the_composition() -> None:
    # Reference: the same network written with numpy.
    l1, l2 = Linear(3, 4, rng=0), Linear(4, 2, rng=1)
    model = Sequential(l1, Tanh(), l2, Sigmoid())
    x = np.random.default_rng(0).normal(size=(5, 3))
    assert l1.bias is not None and l2.bias is not None
    h = np.tanh(x @ l1.weight.data.T + l1.bias.data)
    expected = 1 / (1 + np.exp(-(h @ l2.weight.data.T + l2.bias.data)))
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-14)
    assert len(model) == 4 and model[0] is l1 and model[-1] is list(model)[3]
    assert Sequential()(x) is x  # empty: the identity, as in PyTorch


def test_sequential_calls_a_module_through_its_own_call_or_its_forward() -> None:
    """Sequential calls forward itself for a module whose class keeps Module's __call__, and
    the module (its __call__) otherwise; a forward set on one module (a patched instance)
    is the one called. Reference: the numbers each step gives, written out."""

    class Doubled(Module):  # a __call__ of its own, which forward alone would skip
        def __call__(self, x: Any) -> Any:
            return self.forward(x) * 2.0

        def forward(self, x: Any) -> Any:
            return x + 1.0

    patched = Tanh()
    vars(patched)["forward"] = lambda x: x * 10.0
    x = Tensor([[0.5, -1.0]])
    out = Sequential(Doubled(), patched, ReLU())(x)
    np.testing.assert_array_equal(out.data, [[30.0, 0.0]])  # (x + 1) * 2 * 10, then relu


def test_activations_elementwise() -> None:
    x = Tensor([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ReLU()(x).data, [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(Tanh()(x).data, np.tanh([[-2.0, 0.0, 3.0]]), rtol=1e-15)
    np.testing.assert_allclose(Sigmoid()(x).data, 1 / (1 + np.exp([[2.0, 0.0, -3.0]])), rtol=1e-15)
    ReLU()(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 1.0]])  # 0 at 0, as PyTorch
    assert repr(ReLU()) == "ReLU()" and ReLU().parameters() == []


def test_sequential_errors() -> None:
    with pytest.raises(TypeError, match=r"Sequential: argument 1 must be a Module.*ufunc"):
        Sequential(ReLU(), np.tanh)  # type: ignore[arg-type]
    model = Sequential(ReLU())
    with pytest.raises(IndexError, match="index 3 is out of range for 1 modules"):
        model[3]
    with pytest.raises(TypeError, match="index must be an int"):
        model["0"]  # type: ignore[index]


# -- Module on tensors -------------------------------------------------------------------------
def test_module_without_forward_says_what_to_define() -> None:
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match=r"Empty does not define forward\(\)"):
        Empty()(1.0)


def test_state_dict_is_a_copy_and_round_trips_in_place() -> None:
    model = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
    params = model.parameters()
    saved = model.state_dict()
    x = np.random.default_rng(1).normal(size=(5, 3))
    before = model(x).data
    opt = SGD(params, lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        mse_loss(model(x), np.zeros((5, 2))).backward()
        opt.step()
    after = model.state_dict()
    assert not np.array_equal(after["0.weight"], saved["0.weight"])  # saved was not changed
    model.load_state_dict(saved)
    np.testing.assert_array_equal(model(x).data, before)
    assert model.parameters() == params  # the same Tensors: the optimizer still holds them
    saved["0.bias"][0] = 99.0  # the loaded data is a copy too
    assert model.state_dict()["0.bias"][0] != 99.0  # type: ignore[index]


def test_load_state_dict_errors_name_the_key_and_change_nothing() -> None:
    model = Sequential(Linear(3, 2, rng=0))
    good = model.state_dict()
    w = good["0.weight"]
    cases: list[tuple[object, type[Exception], str]] = [
        ({"0.weight": w}, ValueError, "missing keys: '0.bias'"),
        ({**good, "1.weight": w}, ValueError, "unexpected keys: '1.weight'"),
        ({**good, "0.weight": np.zeros((3, 2))}, ValueError,
         r"load_state_dict\['0.weight'\]: shape \(3, 2\) does not match the parameter's \(2, 3\)"),
        ({**good, "0.bias": ["a", "b"]}, TypeError, r"load_state_dict\['0.bias'\].*real numbers"),
        ({**good, "0.bias": Tensor([1.0, 2.0])}, TypeError, r"got a Tensor \(use \.data\)"),
        ({**good, "0.bias": [[1.0], [2.0, 3.0]]}, TypeError, r"load_state_dict\['0.bias'\]"),
    ]  # fmt: skip
    for state, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            model.load_state_dict(state)  # type: ignore[arg-type]
        after = model.state_dict()
        assert all(np.array_equal(after[k], good[k]) for k in good)  # type: ignore[arg-type]


def test_load_keeps_the_parameters_dtype_and_takes_lists() -> None:
    model = Sequential(Linear(2, 1, rng=0, dtype=np.float32))
    model.load_state_dict({"0.weight": [[0.5, -1.0]], "0.bias": np.array([2], dtype=np.int64)})
    weight = model[0].weight  # type: ignore[attr-defined]
    assert weight.dtype == np.float32
    np.testing.assert_array_equal(model(np.array([[2.0, 1.0]])).data, [[2.0]])  # 1 - 1 + 2
    model.set_parameter("0.bias", [0.25])
    np.testing.assert_array_equal(model.get_parameter("0.bias").data, [0.25])
    with pytest.raises(ValueError, match=r"set_parameter\('0.bias'\): shape \(2,\)"):
        model.set_parameter("0.bias", [1.0, 2.0])


def test_to_converts_in_place_and_returns_the_module() -> None:
    model = Sequential(Linear(3, 2, rng=0))
    weight = model.parameters()[0]
    expected = weight.data.astype(np.float32)
    model(np.ones((1, 3))).sum().backward()
    assert model.to(np.float32) is model
    assert model.parameters()[0] is weight  # the same Tensor objects
    assert weight.dtype == np.float32 and weight.grad.dtype == np.float32
    np.testing.assert_array_equal(weight.data, expected)
    assert model(np.ones((1, 3))).dtype == np.float32
    assert model.to("float64").parameters()[0].dtype == np.float64
    with pytest.raises(TypeError, match=r"Sequential\.to: dtype must be np\.float32 or"):
        model.to(np.int32)


def test_a_module_can_hold_values_and_tensors() -> None:
    class Mixed(Module):
        def __init__(self) -> None:
            self.scale = Value(2.0)
            self.layer = Linear(2, 1, rng=0)

    m = Mixed()
    state = m.state_dict()
    assert list(state) == ["scale", "layer.weight", "layer.bias"]
    assert state["scale"] == 2.0 and isinstance(state["layer.weight"], np.ndarray)
    assert repr(m).startswith("Mixed(\n  3 parameters\n  (layer): Linear(")
    m.load_state_dict({**state, "scale": 3})
    assert m.scale.data == 3.0
    m.zero_grad()
    assert m.scale.grad == 0.0
    assert m.layer.weight._grad is None  # dropped: no allocation, reads as zeros
    np.testing.assert_array_equal(m.layer.weight.grad, np.zeros((1, 2)))
    # the scalar MLP is unchanged: a dict of floats, its own printout
    assert all(isinstance(v, float) for v in MLP(2, [2, 1], rng=0).state_dict().values())


# -- cross_entropy -----------------------------------------------------------------------------
def test_cross_entropy_of_equal_logits_is_log_c() -> None:
    # Closed form: softmax is uniform, so each loss is log C; gradient (1/C - onehot) / N.
    logits = Tensor(np.zeros((4, 5)))
    labels = np.array([0, 4, 2, 2])
    loss = cross_entropy(logits, labels)
    assert loss.shape == () and loss.item() == pytest.approx(math.log(5), rel=1e-15)
    loss.backward()
    expected = np.full((4, 5), 0.2)
    expected[np.arange(4), labels] -= 1.0
    np.testing.assert_allclose(logits.grad, expected / 4, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_against_its_definition(reduction: str) -> None:
    # PyTorch's definition: l_n = -log(exp(x[n, y_n]) / Σ_c exp(x[n, c])); mean = Σ l_n / N.
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 4)) * 2
    y = rng.integers(0, 4, 6)
    per_sample = logsumexp_rows(z) - z[np.arange(6), y]
    expected = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}
    x = Tensor(z)
    loss = cross_entropy(x, y, reduction=reduction)  # type: ignore[arg-type]
    np.testing.assert_allclose(loss.data, expected[reduction], rtol=1e-13)
    weights = rng.normal(size=loss.shape)
    (loss * weights).sum().backward()
    # d l_n / d x[n] = softmax(x[n]) - onehot(y_n), by hand
    error = softmax_rows(z)
    error[np.arange(6), y] -= 1.0
    scale = (
        weights[:, None] if reduction == "none" else weights / 6 if reduction == "mean" else weights
    )
    np.testing.assert_allclose(x.grad, error * scale, rtol=1e-12, atol=1e-15)


@given(
    st.integers(1, 5),
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["mean", "sum"]),
)
def test_cross_entropy_gradient_against_finite_differences(
    n: int, c: int, seed: int, reduction: str
) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)) * 3
    y = rng.integers(0, c, n)

    def f(zz: Array) -> float:
        per_sample = logsumexp_rows(zz) - zz[np.arange(n), y]
        return float(per_sample.mean() if reduction == "mean" else per_sample.sum())

    x = Tensor(z)
    cross_entropy(x, y, reduction=reduction).backward()  # type: ignore[arg-type]
    np.testing.assert_allclose(x.grad, numeric_grad(f, z), rtol=1e-6, atol=1e-8)


def test_cross_entropy_is_stable_for_huge_logits() -> None:
    # Closed forms: loss([1000, 0], label 0) = log(1 + e^-1000) = 0 (to double precision),
    # loss([1000, 0], label 1) = 1000; loss([-1000, -1000], any) = log 2 (to the rounding of
    # numbers near 1000: logsumexp - logit cancels 1000).
    x = Tensor([[1000.0, 0.0], [1000.0, 0.0], [-1000.0, -1000.0]])
    loss = cross_entropy(x, np.array([0, 1, 1]), reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 1000.0, math.log(2)], rtol=0, atol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.0], [1.0, -1.0], [0.5, -0.5]], atol=1e-15)


def test_cross_entropy_second_derivative_is_the_softmax_jacobian() -> None:
    # Closed form: for one sample, d²l/dz² = diag(p) - p pᵀ, p = softmax(z).
    z = np.array([[1.0, 2.0, 0.5]])
    x = Tensor(z)
    (g,) = grad(cross_entropy(x, np.array([1])), [x], create_graph=True)
    rows = np.array([grad(g[0, j], [x])[0][0] for j in range(3)])
    p = softmax_rows(z)[0]
    np.testing.assert_allclose(rows, np.diag(p) - np.outer(p, p), rtol=1e-13, atol=1e-15)


def test_cross_entropy_float32_and_array_logits() -> None:
    x = Tensor(np.zeros((2, 3)), dtype=np.float32)
    loss = cross_entropy(x, [0, 2])
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32
    constant = cross_entropy(np.zeros((2, 3)), [0, 2])  # an array: a constant, no gradient
    assert isinstance(constant, Tensor) and not constant.requires_grad
    assert constant.item() == pytest.approx(math.log(3))
    with no_grad():
        assert not cross_entropy(Tensor(np.zeros((1, 2))), [1]).requires_grad


def test_cross_entropy_errors() -> None:
    logits = Tensor(np.zeros((3, 4)))
    cases: list[tuple[Any, Any, type[Exception], str]] = [
        (logits, np.array([0.0, 1.0, 2.0]), TypeError,
         r"labels must be integers \(class indices 0 to 3\).*dtype float64.*astype\(int\)"),
        (logits, Tensor([0.0, 1.0, 2.0]), TypeError, "got a Tensor, which holds floats"),
        (logits, np.array([True, False, True]), TypeError, "dtype bool"),
        (logits, [[0], [1, 2], 3], TypeError, "labels must be an integer array"),
        (logits, np.array([0, 1]), ValueError,
         r"labels have shape \(2,\); logits of shape \(N, C\) = \(3, 4\) need labels of shape"
         r" \(3,\)"),
        (logits, np.array([[0], [1], [2]]), ValueError, r"labels have shape \(3, 1\)"),
        (logits, np.array([0, 4, -1]), ValueError,
         r"labels must be in \[0, 4\) for 4 classes; 2 are not, the first is labels\[1\] = 4"),
        (Tensor(np.zeros(4)), np.array([1]), ValueError,
         r"logits must have shape \(N, C\).*got shape \(4,\)"),
        (Tensor(np.zeros((2, 3, 4))), np.array([1, 1]), ValueError, r"got shape \(2, 3, 4\)"),
        (Tensor(np.zeros((0, 3))), np.array([], dtype=int), ValueError, r"got shape \(0, 3\)"),
    ]  # fmt: skip
    for x, y, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            cross_entropy(x, y)
    with pytest.raises(ValueError, match="cross_entropy: reduction must be one of"):
        cross_entropy(logits, [0, 1, 2], reduction="max")  # type: ignore[arg-type]


# -- mse_loss on tensors -----------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_on_tensors(reduction: str) -> None:
    # PyTorch's definition: (x - y)² per element, then mean or sum; gradient 2 (x - y) / n.
    p = Tensor([[1.0, 2.0], [3.0, 5.0]])
    t = np.array([[0.0, 2.0], [1.0, 1.0]])
    loss = mse_loss(p, t, reduction=reduction)  # type: ignore[arg-type]
    squared = np.array([[1.0, 0.0], [4.0, 16.0]])
    expected = {"mean": 21.0 / 4, "sum": 21.0, "none": squared}[reduction]
    np.testing.assert_array_equal(loss.data, expected)
    loss.backward(np.ones(loss.shape))
    scale = 4.0 if reduction == "mean" else 1.0
    np.testing.assert_array_equal(p.grad, 2 * (p.data - t) / scale)


def test_mse_loss_takes_the_tensor_on_either_side_and_checks_shapes() -> None:
    target = Tensor([1.0, 2.0])
    loss = mse_loss(np.array([0.0, 0.0]), target)
    assert isinstance(loss, Tensor) and loss.item() == 2.5
    loss.backward()
    np.testing.assert_array_equal(target.grad, [1.0, 2.0])  # 2 (t - p) / 2
    with pytest.raises(ValueError, match=r"mse_loss: predictions have shape \(3, 1\) and targets"):
        mse_loss(Tensor(np.zeros((3, 1))), np.zeros(3))
    with pytest.raises(ValueError, match="mse_loss: reduction must be one of"):
        mse_loss(Tensor([1.0]), [1.0], reduction="max")  # type: ignore[call-overload]
    assert isinstance(mse_loss([1.0, 2.0], [0.0, 0.0]), Value)  # the scalar form is unchanged


# -- optimizers on tensors ---------------------------------------------------------------------
A = np.array([[1.5, 0.5], [2.0, 0.25]])
C = np.array([[2.0, -1.0], [0.0, 3.0]])
P0 = np.array([[0.3, 0.8], [-0.5, 1.0]])


def quadratic_steps(opt_cls: Any, steps: int = 3, **kw: Any) -> list[Array]:
    """Minimise Σ A (P - C)² with the optimizer; P after each step."""
    p = Tensor(P0)
    opt = opt_cls([p], **kw)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        (A * (p - C) ** 2).sum().backward()
        opt.step()
        path.append(p.data.copy())
    return path


@pytest.mark.parametrize(
    ("lr", "momentum", "wd"), [(0.1, 0.0, 0.0), (0.05, 0.9, 0.0), (0.05, 0.9, 0.1), (0.2, 0, 0.3)]
)
def test_sgd_on_a_tensor_against_the_rule(lr: float, momentum: float, wd: float) -> None:
    # PyTorch's rule: g = grad + wd p; buf = g (first), momentum buf + g (after); p -= lr buf;
    # the gradient of Σ A (P - C)² is 2 A (P - C), by hand.
    got = quadratic_steps(SGD, lr=lr, momentum=momentum, weight_decay=wd)
    p, buf = P0.copy(), None
    for step in range(3):
        g = 2 * A * (p - C) + wd * p
        if momentum:
            buf = g if buf is None else momentum * buf + g
            g = buf
        p = p - lr * g
        np.testing.assert_allclose(got[step], p, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(("betas", "wd"), [((0.9, 0.999), 0.0), ((0.8, 0.99), 0.1)])
def test_adam_on_a_tensor_against_the_rule(betas: tuple[float, float], wd: float) -> None:
    # PyTorch's rule: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr m̂ / (√v̂ + eps).
    lr, eps = 0.1, 1e-8
    got = quadratic_steps(Adam, lr=lr, betas=betas, weight_decay=wd)
    p, m, v = P0.copy(), np.zeros((2, 2)), np.zeros((2, 2))
    for t in range(1, 4):
        g = 2 * A * (p - C) + wd * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(got[t - 1], p, rtol=1e-13, atol=1e-15)


def test_steps_update_in_place_and_keep_float32() -> None:
    for opt_cls, kw in ((SGD, {"lr": 0.1, "momentum": 0.9}), (Adam, {"lr": 0.1})):
        p = Tensor(P0, dtype=np.float32)
        array = p.data
        opt = opt_cls([p], **kw)
        for _ in range(2):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        assert np.shares_memory(p.data, array) and array.dtype == np.float32  # in place
        assert not np.array_equal(array, P0.astype(np.float32))


def test_a_tensor_without_gradient_is_skipped_as_in_pytorch() -> None:
    # PyTorch skips a parameter whose .grad is None (after zero_grad), even with weight
    # decay; Adam counts steps per parameter, so a late starter gets t = 1's correction.
    used, unused = Tensor([1.0]), Tensor([5.0])
    sgd = SGD([used, unused], lr=0.1, weight_decay=0.5)
    sgd.zero_grad()
    (used * 2.0).sum().backward()
    sgd.step()
    assert unused.data.tolist() == [5.0]
    assert used.data.tolist() == [pytest.approx(1.0 - 0.1 * (2.0 + 0.5))]
    adam = Adam([used, unused], lr=0.1)
    adam.zero_grad()
    (used * 2.0).sum().backward()
    adam.step()
    adam.zero_grad()
    (unused * 3.0).sum().backward()
    adam.step()
    # its first step: m̂ = g, v̂ = g², so the step is lr g / (|g| + eps) ≈ lr
    assert unused.data.tolist() == [pytest.approx(5.0 - 0.1 * 3.0 / (3.0 + 1e-8), rel=1e-15)]


def test_one_optimizer_for_values_and_tensors() -> None:
    # Reference: p -= lr * grad for each, with d(w x + s)/dw = x summed, d/ds = 1 per sample.
    w, s = Tensor([1.0, -1.0]), Value(0.5)
    opt = SGD([w, s], lr=0.1)
    opt.zero_grad()
    x = np.array([2.0, 3.0])
    ((w * x).sum() + Tensor(s.data)).backward()  # s takes no part: its grad stays 0.0
    opt.step()
    np.testing.assert_allclose(w.data, [1.0 - 0.2, -1.0 - 0.3], rtol=1e-15)
    assert s.data == 0.5
    with pytest.raises(TypeError, match=r"got one Tensor: put it in a list"):
        SGD(w, lr=0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"params\[1\] must be a Value or a Tensor, got ndarray"):
        SGD([w, np.zeros(2)], lr=0.1)  # type: ignore[list-item]
