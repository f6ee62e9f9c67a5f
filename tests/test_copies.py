"""copy.copy, copy.deepcopy and pickle of leaves, ops, modules and optimizers (issue 19, item 6).

References: the fields a leaf was made with, written out here; gradients of the copies against
closed forms (d/dw sum(w²) = 2w, d/dx x³ = 3x², a Linear layer's d sum(y)/dW = column sums of
the batch); Adam and SGD with momentum against their update formulas applied by hand in numpy;
and the identity of the built-in ops (`op is ops.add`).
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_lite import Dual, Op, Tensor, Value, ops, scope
from autograd_lite.engine import array_ops
from autograd_lite.engine.node import CONSTANT, LEAF
from autograd_lite.nn import MLP, SGD, Adam, Linear, ReLU, Sequential, Sigmoid, Tanh

Copier = Callable[[Any], Any]


def pickled(x: Any) -> Any:
    return pickle.loads(pickle.dumps(x))


def pickled_protocol_0(x: Any) -> Any:
    return pickle.loads(pickle.dumps(x, protocol=0))


COPIERS: list[Copier] = [copy.copy, copy.deepcopy, pickled, pickled_protocol_0]
IDS = ["copy", "deepcopy", "pickle", "pickle0"]


# -- leaves ------------------------------------------------------------------------------------
@pytest.mark.parametrize("copier", COPIERS, ids=IDS)
def test_a_value_copies_exactly_and_independently(copier: Copier) -> None:
    with scope("layer"), scope("neuron"):
        v = Value(0.1, label="w")
    v.grad = -2.5
    c = copier(v)
    assert type(c) is Value and c is not v
    assert (c.data, c.grad, c.label, c.scope) == (0.1, -2.5, "w", ("layer", "neuron"))
    assert c.is_leaf and not c.is_constant and c.op is None
    c.data, c.grad = 7.0, 1.0
    assert (v.data, v.grad) == (0.1, -2.5)  # the original is untouched


@pytest.mark.parametrize("copier", COPIERS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_tensor_copies_exactly_and_independently(copier: Copier, dtype: type) -> None:
    data = np.array([[0.1, -2.0], [3.5, 1e-30]])
    with scope("batch"):
        t = Tensor(data, label="x", requires_grad=False, dtype=dtype)
    w = Tensor([1.0, 2.0], dtype=dtype)
    w.grad = np.array([0.5, -0.25])
    c, cw = copier(t), copier(w)
    assert type(c) is Tensor and c is not t
    assert c.dtype == dtype and cw.dtype == dtype and cw.grad.dtype == dtype
    np.testing.assert_array_equal(c.data, data.astype(dtype))
    assert (c.label, c.scope, c.requires_grad, cw.requires_grad) == ("x", ("batch",), False, True)
    np.testing.assert_array_equal(cw.grad, [0.5, -0.25])
    assert c._grad is None  # no gradient yet, as the original
    c.data += 1.0  # in place, into the copy's own array
    cw.grad[0] = 9.0
    np.testing.assert_array_equal(t.data, data.astype(dtype))
    np.testing.assert_array_equal(w.grad, [0.5, -0.25])


@pytest.mark.parametrize("copier", COPIERS, ids=IDS)
def test_a_dual_copies_with_its_tangent(copier: Copier) -> None:
    scalar, array = Dual(2.0, tangent=1.0, label="x"), Dual(np.array([1.0, 2.0]), [0.5, 0.0])
    cs, ca = copier(scalar), copier(array)
    assert (cs.data, cs.tangent, cs.label) == (2.0, 1.0, "x")
    np.testing.assert_array_equal(ca.tangent, [0.5, 0.0])
    f = cs * cs * cs  # d/dx x³ = 3x² = 12 at x = 2
    assert (f.data, f.tangent) == (8.0, 12.0)
    assert not np.shares_memory(ca.tangent, array.tangent)  # a copy of its own


@pytest.mark.parametrize("copier", COPIERS, ids=IDS)
def test_a_constant_leaf_stays_a_constant(copier: Copier) -> None:
    y = Tensor([1.0]) * 3.0
    three = y.operands[1]
    assert three.is_constant
    c = copier(three)
    assert c.is_constant and c._op is CONSTANT
    assert copier(Value(1.0))._op is LEAF


@pytest.mark.parametrize("copier", [copy.deepcopy, pickled], ids=["deepcopy", "pickle"])
def test_the_gradient_of_a_copy_is_its_own(copier: Copier) -> None:
    # Reference: d/dw sum(w²) = 2w, and the original gets nothing.
    w = Tensor([1.5, -0.5, 2.0], label="w")
    c = copier(w)
    (c * c).sum().backward()
    np.testing.assert_array_equal(c.grad, [3.0, -1.0, 4.0])
    np.testing.assert_array_equal(w.grad, [0.0, 0.0, 0.0])


class Tagged(Value):
    """A node type with a slot of its own: copied without any edit to the copying code."""

    __slots__ = ("tag",)
    tag: object


class Noted(Value):
    """A node type without __slots__ (it has a __dict__): its attributes are copied too."""

    note: str


@pytest.mark.parametrize("copier", COPIERS, ids=IDS)
def test_every_slot_of_the_class_hierarchy_is_copied(copier: Copier) -> None:
    t = Tagged(2.0, label="t")
    t.tag = ("kept", 1)
    n = Noted(3.0)
    n.note = "hello"
    ct, cn = copier(t), copier(n)
    assert type(ct) is Tagged and ct.tag == ("kept", 1) and ct.data == 2.0
    assert type(cn) is Noted and cn.note == "hello" and cn.data == 3.0


# -- graphs are refused ------------------------------------------------------------------------
REFUSED = r"cannot copy.* a (Value|Tensor|Dual) computed by Op\('{}'\).*\.detach\(\)"


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy, pickle.dumps], ids=IDS[:3])
def test_a_graph_is_refused_with_what_to_do(copier: Copier) -> None:
    x = Value(2.0)
    with pytest.raises(TypeError, match=REFUSED.format(r"\*")):
        copier(x * x)
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=REFUSED.format("sum")):
        copier(t.sum())
    with pytest.raises(TypeError, match=REFUSED.format("exp")):
        copier(Dual(1.0, 1.0).exp())
    # what the message says to do works: the data as a new leaf (e**2 closed form)
    assert copier(x.exp().detach()) is not None
    assert copy.deepcopy(x.exp().detach()).data == math.exp(2.0)


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy, pickle.dumps], ids=IDS[:3])
def test_a_deep_graph_is_refused_without_recursion(copier: Copier) -> None:
    x = Value(0.0)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    with pytest.raises(TypeError, match=REFUSED.format(r"\+")):
        copier(y)
    if copier is not copy.copy:  # which copies a list's items by reference
        with pytest.raises(TypeError, match=REFUSED.format(r"\+")):
            copier([x, y])  # inside a container too
    assert copy.deepcopy(y.detach()).data == 100_000.0


# -- ops: by reference ---------------------------------------------------------------------------
BUILT_IN_OPS = [
    op for module in (ops, array_ops) for op in vars(module).values() if isinstance(op, Op)
] + [LEAF, CONSTANT]


@pytest.mark.parametrize("copier", COPIERS, ids=IDS)
def test_built_in_ops_copy_and_pickle_as_themselves(copier: Copier) -> None:
    assert len(BUILT_IN_OPS) > 15  # reference: the op table's length, at least
    for op in BUILT_IN_OPS:
        assert copier(op) is op, op


MODULE_OP = Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2,))
"""A user's op held by a module variable, lambdas and all: it pickles by reference."""


def test_a_users_op_pickles_by_reference_or_is_refused_by_name() -> None:
    assert pickled(MODULE_OP) is MODULE_OP
    assert copy.deepcopy(MODULE_OP) is MODULE_OP

    def make() -> Op:
        return Op("my_sin", math.sin, lambda g, out, x: (g * math.cos(x),))

    local = make()
    assert copy.deepcopy(local) is local  # a copy in memory is the op itself
    with pytest.raises(TypeError, match=r"cannot pickle Op\('my_sin'\).*module level"):
        pickle.dumps(local)
    # its nodes' leaves still pickle; the graph is refused by the node first
    x = Value(0.5)
    assert pickled(x).data == 0.5
    with pytest.raises(TypeError, match=r"computed by Op\('my_sin'\)"):
        pickle.dumps(local(x))


# -- modules and optimizers ----------------------------------------------------------------------
def linear_forward(state: dict[str, Any], x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Reference: Sequential(Linear, Tanh, Linear, ReLU, Linear, Sigmoid) in plain numpy."""
    h = np.tanh(x @ state["0.weight"].T + state["0.bias"])
    h = np.maximum(h @ state["2.weight"].T + state["2.bias"], 0)
    return 1 / (1 + np.exp(-(h @ state["4.weight"].T + state["4.bias"])))  # type: ignore[no-any-return]


def tensor_model(dtype: type = np.float64) -> Sequential:
    return Sequential(
        Linear(3, 4, rng=0, dtype=dtype), Tanh(), Linear(4, 4, rng=1, dtype=dtype), ReLU(),
        Linear(4, 2, rng=2, dtype=dtype), Sigmoid(),
    )  # fmt: skip


@pytest.mark.parametrize("copier", [copy.deepcopy, pickled], ids=["deepcopy", "pickle"])
def test_a_tensor_model_copies_whole_and_trains_on_its_own(copier: Copier) -> None:
    model = tensor_model(np.float32)
    before = {k: np.array(v) for k, v in model.state_dict().items()}
    c = copier(model)
    x = np.random.default_rng(3).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(c(x).data, linear_forward(before, x), rtol=1e-5)
    assert [p.dtype for p in c.parameters()] == [np.float32] * 6
    assert [p.label for p in c.parameters()] == [n for n, _ in model.named_parameters()]
    assert not set(map(id, c.parameters())) & set(map(id, model.parameters()))
    opt = SGD(c.parameters(), lr=0.5)
    (c(x) ** 2).sum().backward()
    opt.step()
    after = model.state_dict()
    assert all(np.array_equal(after[k], before[k]) for k in before)  # the original is untouched
    assert not np.array_equal(c.state_dict()["0.weight"], before["0.weight"])


@pytest.mark.parametrize("copier", [copy.deepcopy, pickled], ids=["deepcopy", "pickle"])
def test_a_scalar_mlp_copies_whole(copier: Copier) -> None:
    model = MLP(2, [3, 1], rng=0)
    state = model.state_dict()
    c = copier(model)
    assert c.state_dict() == state and repr(c) == repr(model)
    # Reference: tanh hidden layer and linear output, in floats from the state dict.
    x = [0.3, -0.7]
    w: dict[str, float] = {k: float(v) for k, v in state.items()}
    hidden = [
        math.tanh(sum(w[f"layers.0.neurons.{j}.w.{i}"] * x[i] for i in range(2))
                  + w[f"layers.0.neurons.{j}.b"])
        for j in range(3)
    ]  # fmt: skip
    expected = w["layers.1.neurons.0.b"] + sum(
        w[f"layers.1.neurons.0.w.{j}"] * hidden[j] for j in range(3)
    )
    assert c.scalar(x).data == pytest.approx(expected, rel=1e-15)


def loss_grad(w: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Reference gradient of the loss below, sum((w - TARGET)²): 2 (w - TARGET)."""
    return np.asarray(2 * (w - TARGET))


TARGET = np.array([1.0, -2.0, 0.5])


def hand_adam(w: np.ndarray[Any, Any], steps: int, lr: float = 0.1) -> np.ndarray[Any, Any]:
    """Adam by its published formula (Kingma and Ba), in numpy."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = v = np.zeros_like(w)
    for t in range(1, steps + 1):
        g = loss_grad(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return w


def hand_sgd_momentum(w: np.ndarray[Any, Any], steps: int) -> np.ndarray[Any, Any]:
    """SGD with momentum 0.9, lr 0.1, by PyTorch's formula (buf = g first, then mu buf + g)."""
    buf = None
    for _ in range(steps):
        g = loss_grad(w)
        buf = g if buf is None else 0.9 * buf + g
        w = w - 0.1 * buf
    return w


def train(w: Tensor, opt: SGD | Adam, steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        ((w - TARGET) ** 2).sum().backward()
        opt.step()


W0 = np.array([0.3, 0.2, -1.0])


@pytest.mark.parametrize("copier", [copy.deepcopy, pickled], ids=["deepcopy", "pickle"])
@pytest.mark.parametrize(
    ("make", "hand"),
    [
        (lambda ps: Adam(ps, lr=0.1), hand_adam),
        (lambda ps: SGD(ps, lr=0.1, momentum=0.9), hand_sgd_momentum),
    ],
    ids=["Adam", "SGD-momentum"],
)
def test_an_optimizer_copied_with_its_model_continues_from_its_state(
    copier: Copier, make: Callable[[list[Any]], SGD | Adam], hand: Callable[..., Any]
) -> None:
    w = Tensor(W0.copy())
    s = Value(0.5)  # a Value parameter beside: both kinds of state
    model = (w, s)
    opt = make([w, s])
    train(w, opt, 2)
    (w2, s2), opt2 = copier((model, opt))
    assert opt2.params[0] is w2 and opt2.params[1] is s2  # the copy's, not the original's
    train(w2, opt2, 3)  # two steps before the copy and three after it: five in all
    np.testing.assert_allclose(w2.data, hand(W0, 5), rtol=1e-12)
    np.testing.assert_allclose(w.data, hand(W0, 2), rtol=1e-12)  # the original stopped at two
    train(w, opt, 3)  # and continues from its own state to the same numbers
    np.testing.assert_allclose(w.data, hand(W0, 5), rtol=1e-12)


# -- multiprocessing: pickled to a fresh interpreter and back ------------------------------------
def cube_and_slope(x: Value) -> tuple[float, float]:
    y = x * x * x
    y.backward()
    return y.data, x.grad


def linear_gradient(job: tuple[Sequential, np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    model, batch = job
    model(batch).sum().backward()
    return model[0].weight.grad  # type: ignore[attr-defined,no-any-return]


def test_values_and_modules_go_through_a_process_pool() -> None:
    # spawn: a new interpreter unpickles them, with nothing inherited from this one
    xs = [Value(float(k), label=f"x{k}") for k in (1, 2, 3)]
    batch = np.array([[1.0, 2.0], [3.0, -1.0]])
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        results = pool.map(cube_and_slope, xs)
        grads = pool.map(linear_gradient, [(Sequential(Linear(2, 3, rng=0)), batch)])
    assert results == [(k**3, 3.0 * k**2) for k in (1.0, 2.0, 3.0)]  # x³ and 3x²
    # Reference: y = x Wᵀ + b, so d sum(y) / dW_ij = sum over the batch of x_j
    np.testing.assert_array_equal(grads[0], np.tile(batch.sum(axis=0), (3, 1)))
    assert all(x.grad == 0.0 for x in xs)  # the workers had copies


def test_a_module_holding_a_graph_is_refused() -> None:
    model = Sequential(Linear(2, 2, rng=0))
    model.last = model(np.ones((1, 2)))  # type: ignore[attr-defined]
    for copier in (copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match=r"computed by Op\('linear"):
            copier(model)
