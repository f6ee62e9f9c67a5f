"""The course layers (issue 21): Dropout, LayerNorm, BatchNorm1d, Embedding, train()/eval(),
ModuleList, ModuleDict, and buffers in state_dict / load_state_dict / nn.save.

References (no torch in the tests): PyTorch's documented formulas written out in numpy here,
- LayerNorm / BatchNorm: y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta with the biased
  variance; BatchNorm's running update r = (1 - m) r + m * stat with the unbiased variance
  (n / (n - 1)), momentum None the cumulative average 1 / num_batches_tracked;
- their input gradient in closed form, dx = (g' - mean(g') - xhat * mean(g' * xhat)) / sigma
  with g' = g * gamma (training), g * gamma / sigma_running (evaluation), checked also by
  central finite differences of the numpy forward;
- Embedding: rows picked by a Python loop, gradients added row by row in a loop;
- Dropout: the kept elements are x / (1 - p), the others 0, E[out] = x.
PyTorch's state-dict keys are written out from its documentation.
"""

from __future__ import annotations

import copy
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd_lite import Tensor, compile_grad, grad, nn
from autograd_lite.engine.array_ops import linear
from autograd_lite.nn import (
    BatchNorm1d,
    Dropout,
    Embedding,
    LayerNorm,
    Linear,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    Tanh,
)

from .array_reference import assert_close, numeric_gradients

Array = np.ndarray[Any, Any]
TIGHT = dict(rtol=1e-9, atol=1e-12)


def affine(layer: LayerNorm | BatchNorm1d) -> tuple[Tensor, Tensor]:
    """The layer's weight and bias, which it has (affine)."""
    assert layer.weight is not None and layer.bias is not None
    return layer.weight, layer.bias


def buffer(layer: BatchNorm1d, name: str) -> Array:
    """One of the layer's buffers, which it has (track_running_stats)."""
    found = dict(layer.named_buffers())[name]
    return found


def assert_gradients_match_finite_differences(
    layer: LayerNorm | BatchNorm1d, x0: Array, g: Array, f: Any
) -> None:
    """x's, weight's and bias's gradients of sum(layer(x) * g) against central differences
    of the numpy forward f(x, weight, bias)."""
    w, b = affine(layer)
    layer.zero_grad()
    x = Tensor(x0)
    (layer(x) * g).sum().backward()
    fd = numeric_gradients(f, [x0, w.data, b.data], g)
    for got, want in zip([x.grad, w.grad, b.grad], fd):
        assert_close(got, want, rtol=1e-6, atol=1e-7)


def norm_reference(x: Array, axes: tuple[int, ...], eps: float, w: Array, b: Array) -> Array:
    """PyTorch's normalization formula, biased variance, in numpy."""
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    out: Array = (x - mean) / np.sqrt(var + eps) * w + b
    return out


def norm_input_gradient(x: Array, axes: tuple[int, ...], eps: float, w: Array, g: Array) -> Array:
    """The closed form of d sum(norm(x) * g) / dx when the statistics come from x."""
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    sigma = np.sqrt(var + eps)
    xhat = (x - mean) / sigma
    gp = g * w
    centred = gp - gp.mean(axis=axes, keepdims=True)
    out: Array = (centred - xhat * (gp * xhat).mean(axis=axes, keepdims=True)) / sigma
    return out


# -- LayerNorm -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, normalized", [((5, 4), 4), ((2, 3, 4), (3, 4)), ((3, 2, 5), (5,))])
def test_layer_norm_matches_the_formula_and_its_gradients(
    shape: tuple[int, ...], normalized: int | tuple[int, ...]
) -> None:
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=shape) * 3 + 1
    ln = LayerNorm(normalized, eps=1e-5)
    k = 1 if isinstance(normalized, int) else len(normalized)
    w, b = rng.normal(size=shape[-k:]), rng.normal(size=shape[-k:])
    ln_w, ln_b = affine(ln)
    ln_w.data, ln_b.data = w, b
    axes = tuple(range(len(shape) - k, len(shape)))
    g = rng.normal(size=shape)
    for mode in (True, False):  # the same in both modes
        ln.train(mode)
        x = Tensor(x0)
        out = ln(x)
        (out * g).sum().backward()
        assert_close(out.data, norm_reference(x0, axes, 1e-5, w, b), **TIGHT)
        assert_close(x.grad, norm_input_gradient(x0, axes, 1e-5, w, g), **TIGHT)
        ln.zero_grad()

    def f(xv: Array, wv: Array, bv: Array) -> Array:
        return norm_reference(xv, axes, 1e-5, wv, bv)

    assert_gradients_match_finite_differences(ln, x0, g, f)


def test_normalization_second_derivatives_match_finite_differences_of_the_closed_form() -> None:
    """Built from ops, so create_graph works: d/dx sum(grad_x(sum(y * g)) * c), against
    central differences of the closed-form first derivative (numpy)."""
    rng = np.random.default_rng(1)
    x0, g, c = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    ones = np.ones(3)
    for layer, axes in ((LayerNorm(3), (1,)), (BatchNorm1d(3), (0,))):
        x = Tensor(x0)
        (first,) = grad((layer(x) * g).sum(), [x], create_graph=True)
        (second,) = grad((first * c).sum(), [x])
        want = numeric_gradients(
            lambda xv, axes=axes: norm_input_gradient(xv, axes, 1e-5, ones, g), [x0], c
        )[0]
        assert_close(second.data, want, rtol=1e-5, atol=1e-6)


def test_layer_norm_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match=r"LayerNorm.*expected an input of shape \(\.\.\., 4\)"):
        LayerNorm(4)(Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"LayerNorm: eps must be a finite number >= 0"):
        LayerNorm(4, eps=-1.0)
    with pytest.raises(TypeError, match=r"LayerNorm: normalized_shape must be"):
        LayerNorm([])
    with pytest.raises(ValueError, match=r"LayerNorm: normalized_shape\[1\]"):
        LayerNorm((2, 0))
    assert [n for n, _ in LayerNorm((2, 3)).named_parameters()] == ["weight", "bias"]
    assert LayerNorm(np.int64(3)).normalized_shape == (3,)
    assert LayerNorm(3, elementwise_affine=False).parameters() == []


# -- BatchNorm1d ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.25, None])
def test_batch_norm_train_then_eval_matches_pytorchs_formulas(
    shape: tuple[int, ...], momentum: float | None
) -> None:
    rng = np.random.default_rng(2)
    bn = BatchNorm1d(3, eps=1e-5, momentum=momentum)
    w, b = rng.normal(size=3), rng.normal(size=3)
    bn_w, bn_b = affine(bn)
    bn_w.data, bn_b.data = w, b
    axes = (0,) if len(shape) == 2 else (0, 2)
    view = (1, 3) if len(shape) == 2 else (1, 3, 1)
    n = shape[0] * (1 if len(shape) == 2 else shape[2])
    r_mean, r_var = np.zeros(3), np.ones(3)
    for step in range(3):  # training: batch statistics, running ones updated
        x0 = rng.normal(size=shape) * (step + 1) + step
        g = rng.normal(size=shape)
        x = Tensor(x0)
        out = bn(x)
        (out * g).sum().backward()
        assert_close(out.data, norm_reference(x0, axes, 1e-5, w.reshape(view), b.reshape(view)))
        assert_close(x.grad, norm_input_gradient(x0, axes, 1e-5, w.reshape(view), g), **TIGHT)
        m = 1.0 / (step + 1) if momentum is None else momentum
        r_mean = (1 - m) * r_mean + m * x0.mean(axis=axes)
        r_var = (1 - m) * r_var + m * x0.var(axis=axes) * n / (n - 1)
        assert_close(buffer(bn, "running_mean"), r_mean, **TIGHT)
        assert_close(buffer(bn, "running_var"), r_var, **TIGHT)
        assert int(buffer(bn, "num_batches_tracked")) == step + 1
    assert bn.eval() is bn and not bn.training
    x0, g = rng.normal(size=shape), rng.normal(size=shape)
    x = Tensor(x0)
    out = bn(x)
    (out * g).sum().backward()
    sigma = np.sqrt(r_var + 1e-5).reshape(view)
    want = (x0 - r_mean.reshape(view)) / sigma * w.reshape(view) + b.reshape(view)
    assert_close(out.data, want, **TIGHT)
    assert_close(x.grad, g * w.reshape(view) / sigma, **TIGHT)
    assert_close(buffer(bn, "running_mean"), r_mean, **TIGHT)  # evaluation changes nothing
    assert int(buffer(bn, "num_batches_tracked")) == 3

    def f(xv: Array, wv: Array, bv: Array) -> Array:
        return (xv - r_mean.reshape(view)) / sigma * wv.reshape(view) + bv.reshape(view)

    assert_gradients_match_finite_differences(bn, x0, g, f)


def test_batch_norm_training_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(3)
    x0, g = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    w, b = rng.normal(size=2), rng.normal(size=2)
    bn = BatchNorm1d(2)
    bn_w, bn_b = affine(bn)
    bn_w.data, bn_b.data = w, b
    reference = lambda xv, wv, bv: norm_reference(xv, (0,), 1e-5, wv, bv)  # noqa: E731
    assert_gradients_match_finite_differences(bn, x0, g, reference)


def test_batch_norm_without_running_stats_uses_the_batch_in_eval_and_has_no_buffers() -> None:
    rng = np.random.default_rng(4)
    bn = BatchNorm1d(2, affine=False, track_running_stats=False).eval()
    x0 = rng.normal(size=(4, 2))
    assert_close(bn(Tensor(x0)).data, norm_reference(x0, (0,), 1e-5, np.ones(2), np.zeros(2)))
    assert bn.state_dict() == {} and bn.named_buffers() == []


def test_batch_norm_state_dict_has_pytorchs_keys_and_round_trips_through_a_file(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(5)
    model = Sequential(Linear(3, 4, rng=0), BatchNorm1d(4), Tanh(), Linear(4, 2, rng=1))
    for _ in range(2):
        model(Tensor(rng.normal(size=(8, 3))))
    state = model.state_dict()
    assert list(state) == [  # PyTorch's keys (the order: parameters, then buffers)
        "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias",
        "1.running_mean", "1.running_var", "1.num_batches_tracked",
    ]  # fmt: skip
    counter = np.asarray(state["1.num_batches_tracked"])
    assert counter.dtype == np.int64 and counter.shape == () and int(counter) == 2
    nn.save(state, tmp_path / "m.npz")
    fresh = Sequential(Linear(3, 4, rng=7), BatchNorm1d(4), Tanh(), Linear(4, 2, rng=8))
    fresh.load_state_dict(nn.load(tmp_path / "m.npz"))
    for key, value in fresh.state_dict().items():
        assert np.array_equal(value, state[key]), key
    x = rng.normal(size=(3, 3))
    assert np.array_equal(fresh.eval()(Tensor(x)).data, model.eval()(Tensor(x)).data)


def test_loading_a_bad_buffer_names_the_key_and_changes_nothing() -> None:
    bn = BatchNorm1d(3)
    before = bn.state_dict()
    good = {k: np.array(v) for k, v in before.items()}
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({**good, "running_var": np.ones(4)}, ValueError, r"\['running_var'\]: shape \(4,\)"),
        ({**good, "num_batches_tracked": np.array(1.5)}, TypeError,
         r"\['num_batches_tracked'\]: dtype float64 does not match"),
        ({**good, "running_mean": np.ones(3, dtype=np.float32)}, TypeError,
         r"\['running_mean'\]: dtype float32"),
        ({k: v for k, v in good.items() if k != "running_mean"}, ValueError,
         r"missing keys: 'running_mean'"),
        ({**good, "running_mean": Tensor(np.ones(3))}, TypeError, r"\['running_mean'\].*Tensor"),
    ]  # fmt: skip
    good["weight"] = np.full(3, 9.0)  # would change if anything were written before the check
    for state, exc, msg in cases:
        state = {**state, "weight": np.full(3, 9.0)}
        with pytest.raises(exc, match=msg):
            bn.load_state_dict(state)
        for key, value in bn.state_dict().items():
            assert np.array_equal(value, before[key]), key


def test_batch_norm_errors() -> None:
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3.*expected an input of shape \(N, 3\)"):
        BatchNorm1d(3)(Tensor(np.zeros((4, 2))))
    with pytest.raises(ValueError, match=r"shape \(2, 3, 4, 5\)"):
        BatchNorm1d(3)(Tensor(np.zeros((2, 3, 4, 5))))
    with pytest.raises(ValueError, match=r"more than one number per feature.*\(1, 3\)"):
        BatchNorm1d(3)(Tensor(np.zeros((1, 3))))
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\] or None, got 1.5"):
        BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match=r"BatchNorm1d: eps must be a finite number"):
        BatchNorm1d(3, eps=float("nan"))
    one = BatchNorm1d(3).eval()  # a single sample is fine with running statistics
    assert one(Tensor(np.ones((1, 3)))).shape == (1, 3)


def test_to_float32_converts_float_buffers_and_keeps_the_counter() -> None:
    bn = BatchNorm1d(2).to(np.float32)
    kinds = {name: b.dtype for name, b in bn.named_buffers()}
    assert kinds == {
        "running_mean": np.float32,
        "running_var": np.float32,
        "num_batches_tracked": np.int64,
    }


# -- Dropout and train/eval --------------------------------------------------------------------
def test_dropout_keeps_and_scales_in_training_and_is_the_identity_in_eval() -> None:
    p = 0.3
    drop = Dropout(p, rng=0)
    x0 = np.random.default_rng(6).uniform(1.0, 2.0, size=(200, 50))  # no zeros of its own
    x = Tensor(x0)
    out = drop(x)
    out.sum().backward()
    kept = out.data != 0
    assert_close(out.data[kept], x0[kept] / (1 - p), **TIGHT)
    assert_close(x.grad, kept / (1 - p), **TIGHT)  # d out / d x: the mask, scaled
    assert abs(1 - kept.mean() - p) < 0.02  # 10000 draws: the share dropped is about p
    assert drop.eval()(x) is x
    assert Dropout(0.0, rng=0)(x) is x
    assert np.array_equal(Dropout(1.0, rng=0)(x).data, np.zeros_like(x0))
    a, b = Dropout(0.5, rng=3)(Tensor(x0)), Dropout(0.5, rng=3)(Tensor(x0))
    assert np.array_equal(a.data, b.data)  # a seed repeats the masks


def test_a_compiled_step_with_a_batch_refuses_a_dropout_mask() -> None:
    """compile_grad's promise with args: each call equals rebuilding the graph on the new
    values and calling backward(). Rebuilding draws a new Dropout mask, which compiled code
    cannot; it kept the mask drawn when the graph was built, so every call on a new batch
    dropped the same elements, silently. Now refused, naming the mask; in eval() mode
    (Dropout the identity) the same model compiles. Reference for the gradients: the loss
    is the sum of x @ W.T + b over a 4x3 batch of 2s, so dW = 4 * 2 in every entry, db = 4."""
    model = Sequential(Linear(3, 2, rng=0), Dropout(0.5, rng=1))
    batch = Tensor(np.ones((4, 3)), requires_grad=False)
    with pytest.raises(ValueError, match=r"'dropout mask'.*not among args"):
        compile_grad(model(batch).sum(), model.parameters(), args=[batch])
    model.eval()
    step = compile_grad(model(batch).sum(), model.parameters(), args=[batch])
    _, (g_w, g_b) = step(*[p.data for p in model.parameters()], np.full((4, 3), 2.0))
    assert g_w.tolist() == [[8.0] * 3] * 2 and g_b.tolist() == [4.0, 4.0]


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_p_is_a_probability(p: float) -> None:
    with pytest.raises(ValueError, match=r"Dropout: p is a probability, in \[0, 1\]"):
        Dropout(p)


def test_train_and_eval_reach_every_submodule_and_return_the_module() -> None:
    inner = ModuleDict({"d": Dropout(0.5), "bn": BatchNorm1d(2)})
    last = Dropout(0.1)
    holder = ModuleList([inner, last])
    model = Sequential(Linear(2, 2), holder)
    assert model.training and inner["d"].training  # the default, as PyTorch's
    assert model.eval() is model
    everything = [model, holder, inner, inner["d"], inner["bn"], last, model[0]]
    assert not any(m.training for m in everything)
    assert model.train() is model and all(m.training for m in everything)
    model.train(False)
    assert not any(m.training for m in everything)
    with pytest.raises(TypeError, match=r"Sequential.train: mode must be True or False"):
        model.train("no")  # type: ignore[arg-type]


# -- Embedding -------------------------------------------------------------------------------------
def test_embedding_picks_rows_and_repeated_indices_add_their_gradients() -> None:
    emb = Embedding(5, 3, rng=0)
    table = emb.weight.data.copy()
    idx = np.array([[1, 1, 4], [0, 1, 3]])
    g = np.random.default_rng(7).normal(size=(2, 3, 3))
    out = emb(idx)
    (out * g).sum().backward()
    want_grad = np.zeros((5, 3))
    for i in range(2):
        for j in range(3):
            assert np.array_equal(out.data[i, j], table[idx[i, j]])
            want_grad[idx[i, j]] += g[i, j]
    assert out.shape == (2, 3, 3)
    assert_close(emb.weight.grad, want_grad, **TIGHT)
    assert_close(emb.weight.grad[1], g[0, 0] + g[0, 1] + g[1, 1], **TIGHT)  # row 1, three times
    assert emb(np.int64(2)).shape == (3,) and emb([4, 4]).shape == (2, 3)
    assert [n for n, _ in emb.named_parameters()] == ["weight"]


@pytest.mark.parametrize(
    "idx, exc, msg",
    [
        (np.array([0, 5, 1]), IndexError, r"Embedding\(5, 3\): index 5 at position \(1,\)"),
        (np.array([[0], [-1]]), IndexError, r"index -1 at position \(1, 0\) is out of range"),
        (np.array([0.0, 1.0]), TypeError, r"Embedding\(5, 3\): indices must be integers.*float64"),
        (Tensor([0.0]), TypeError, r"got a Tensor, which holds floats"),
        (["a"], TypeError, r"indices must be integers"),
    ],
)
def test_embedding_bad_indices_name_the_layer_and_the_value(
    idx: Any, exc: type[Exception], msg: str
) -> None:
    with pytest.raises(exc, match=msg):
        Embedding(5, 3, rng=0)(idx)


# -- ModuleList, ModuleDict -------------------------------------------------------------------
def test_module_list_behaves_as_pytorchs() -> None:
    a, b, c = Linear(2, 3, rng=0), ReLU(), Linear(3, 1, rng=1)
    blocks = ModuleList([a, b])
    assert blocks.append(c) is blocks and len(blocks) == 3
    assert blocks[0] is a and blocks[-1] is c and list(blocks) == [a, b, c]
    assert isinstance(blocks[1:], ModuleList) and list(blocks[1:]) == [b, c]
    assert [n for n, _ in blocks.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    blocks.extend([Linear(1, 1, rng=2)])
    blocks.insert(0, Tanh())
    assert list(blocks.state_dict()) == [
        "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias",
    ]  # fmt: skip
    with pytest.raises(IndexError, match=r"ModuleList: index 9 is out of range for 5 modules"):
        blocks[9]
    with pytest.raises(TypeError, match=r"ModuleList.append: module must be a Module.*int"):
        blocks.append(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"ModuleList: item 1 must be a Module"):
        ModuleList([a, "x"])  # type: ignore[list-item]
    assert "ModuleList(\n  (0): Tanh()" in repr(blocks)


def test_module_dict_behaves_as_pytorchs() -> None:
    enc, dec = Linear(2, 3, rng=0), Linear(3, 2, rng=1)
    heads = ModuleDict({"enc": enc})
    heads["dec"] = dec
    assert heads.keys() == ["enc", "dec"] and list(heads) == ["enc", "dec"]
    assert heads.values() == [enc, dec] and heads.items() == [("enc", enc), ("dec", dec)]
    assert "enc" in heads and len(heads) == 2 and heads["dec"] is dec
    assert list(heads.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    del heads["enc"]
    assert heads.keys() == ["dec"]
    heads.update([("bn", BatchNorm1d(2))])
    assert list(heads.state_dict())[-3:] == [
        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
    ]  # fmt: skip
    with pytest.raises(KeyError, match=r"ModuleDict has no module 'nope'"):
        heads["nope"]
    with pytest.raises(KeyError, match=r"no '\.'"):
        heads["a.b"] = enc
    with pytest.raises(TypeError, match=r"a name must be a str"):
        heads[1] = enc  # type: ignore[index]
    with pytest.raises(TypeError, match=r"ModuleDict.update: item 0 must be a \(name, module\)"):
        heads.update(["abc"])  # type: ignore[list-item]
    assert heads.keys() == ["dec", "bn"]


def test_modules_with_buffers_copy_and_pickle() -> None:
    model = Sequential(Linear(2, 2, rng=0), BatchNorm1d(2))
    model(Tensor(np.random.default_rng(8).normal(size=(4, 2))))
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        for key, value in twin.state_dict().items():
            assert np.array_equal(value, model.state_dict()[key]), key


def test_a_float32_model_stays_float32_in_both_modes_for_arrays_and_tensors() -> None:
    """Regression: the evaluation-mode constants (running statistics) and an input array
    follow the layer's dtype, as an input of Linear does."""
    model = Sequential(BatchNorm1d(3), LayerNorm(3), Dropout(0.3, rng=0)).to(np.float32)
    x = np.arange(15, dtype=np.float32).reshape(5, 3) % 4
    for mode in (True, False):
        model.train(mode)
        assert model(x).dtype == np.float32
        assert model(x.astype(np.float64)).dtype == np.float32
        assert model(Tensor(x, dtype=np.float32)).dtype == np.float32


def test_the_layers_compile_to_code_that_gives_backwards_numbers() -> None:
    """Made of engine ops, so compile_grad writes them out: the compiled value and gradients
    are bit for bit those of backward() on the same graph (reference: backward's walk)."""
    rng = np.random.default_rng(9)
    emb, bn, ln = Embedding(6, 2, rng=0), BatchNorm1d(4), LayerNorm(4)
    lin = Linear(4, 4, rng=1)
    idx = np.array([[0, 5], [1, 1], [3, 2]])
    rows = emb(idx).reshape(3, 4)
    loss = (ln(bn(lin(rows))) * rng.normal(size=(3, 4))).sum()
    inputs = [emb.weight, lin.weight, *affine(bn), *affine(ln)]
    compiled = compile_grad(loss, inputs)
    value, grads = compiled(*[p.data for p in inputs])
    loss.backward()
    assert np.array_equal(value, loss.data)
    for p, g in zip(inputs, grads):
        assert np.array_equal(g, p.grad), p.label


@pytest.mark.parametrize("shape", [(3,), (1, 1, 3), ()])
def test_linear_refuses_a_weight_that_is_not_a_matrix(shape: tuple[int, ...]) -> None:
    """A Linear whose weight was replaced by a vector: x @ w.T still runs (a matrix times a
    vector), but linear's rules are a matrix weight's, so x.grad came out as g @ w (a number
    spread over x) instead of the closed form outer(g, w). Now a ValueError before any node,
    for a weight of any shape but a matrix's (Linear.forward's own path checks it too)."""
    rng = np.random.default_rng(0)
    layer = nn.Linear(3, 1)
    layer.weight = Tensor(rng.normal(size=shape), requires_grad=True)
    x = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    with pytest.raises(
        ValueError,
        match=r"linear: the weight must be a matrix \(out, in\), got shape "
        + re.escape(str(shape)),
    ):
        layer(x)


@pytest.mark.parametrize("bias_shape", [(), (1,), (4, 1), (1, 2), (4, 2)])
def test_linear_with_a_bias_broadcast_otherwise(bias_shape: tuple[int, ...]) -> None:
    """linear's bias rule summed over the leading axes only, so a bias of another shape that
    broadcasts (a number, a column) failed in backward, after the forward pass had run.
    Reference: central finite differences of numpy's x @ w.T + relu(b), the relu of the bias
    also checking that the rule's share (a view of g where nothing is summed) is its own."""
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=bias_shape)]
    x, w, b = (Tensor(a, requires_grad=True) for a in arrays)
    out = linear(x, w, b.relu())
    g = rng.normal(size=out.shape)
    out.backward(g, retain_graph=False)

    def f(x: Any, w: Any, b: Any) -> Any:
        return x @ w.T + np.maximum(b, 0)

    for leaf, expected in zip((x, w, b), numeric_gradients(f, arrays, g)):
        assert_close(leaf.grad, expected)
