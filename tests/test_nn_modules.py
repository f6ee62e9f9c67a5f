"""Neuron, Layer, MLP and Module: shapes, names, seeding, validation, save and restore.

Independent references: parameter counts from the formula sum (nin + 1) * nout per layer;
neuron outputs recomputed with math.tanh / plain floats from the stored weights.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import pathlib
import re
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest

import autograd_lite.nn as nn_package
from autograd_lite import Value, graph_nodes, no_grad
from autograd_lite.nn import ACTIVATIONS, MLP, SGD, Layer, Module, Neuron, mse_loss


def count(nin: int, nouts: list[int]) -> int:
    sizes = [nin, *nouts]
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


def test_parameter_count() -> None:
    model = MLP(2, [16, 16, 1], rng=0)
    assert len(model.parameters()) == 337 == count(2, [16, 16, 1])
    assert len(Layer(3, 5, rng=0).parameters()) == 20
    assert len(Neuron(4, rng=0).parameters()) == 5


def test_names_order_and_labels() -> None:
    model = MLP(2, [2, 1], rng=0)
    names = [n for n, _ in model.named_parameters()]
    assert names == [
        "layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0", "layers.0.neurons.1.w.1", "layers.0.neurons.1.b",
        "layers.1.neurons.0.w.0", "layers.1.neurons.0.w.1", "layers.1.neurons.0.b",
    ]  # fmt: skip
    assert all(p.label == n for n, p in model.named_parameters())
    assert [n for n, _ in Neuron(2, rng=0).named_parameters()] == ["w.0", "w.1", "b"]
    assert model.parameters() == [p for _, p in model.named_parameters()]


def test_seeding_repeats_and_initial_range() -> None:
    a, b, c = MLP(3, [4, 2], rng=7), MLP(3, [4, 2], rng=7), MLP(3, [4, 2], rng=8)
    assert a.state_dict() == b.state_dict() != c.state_dict()
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert MLP(3, [4, 2], rng=g1).state_dict() == MLP(3, [4, 2], rng=g2).state_dict()
    for name, v in MLP(4, [9, 3], rng=1).state_dict().items():
        nin = 4 if name.startswith("layers.0") else 9
        if name.endswith(".b"):
            assert v == 0.0
        else:
            assert abs(v) <= 1 / math.sqrt(nin)


def test_layer_and_mlp_always_return_lists() -> None:
    out = Layer(2, 1, rng=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)
    out = MLP(2, [3, 1], rng=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1
    assert len(MLP(2, [3, 4], rng=0)([1.0, 2.0])) == 4
    assert isinstance(Neuron(2, rng=0)([1.0, 2.0]), Value)


def test_scalar_helper() -> None:
    model = MLP(2, [3, 1], rng=0)
    assert model.scalar([0.5, 1.0]).data == model([0.5, 1.0])[0].data
    with pytest.raises(ValueError, match="2 outputs"):
        MLP(2, [3, 2], rng=0).scalar([0.5, 1.0])


def test_forward_matches_plain_float_recomputation() -> None:
    # reference: tanh hidden layer and linear output recomputed from state_dict in floats
    model = MLP(2, [3, 1], rng=3)
    model.set_parameter("layers.0.neurons.1.b", 0.25)
    s = model.state_dict()
    x = [0.3, -1.2]
    h = [
        math.tanh(s[f"layers.0.neurons.{j}.b"] + sum(s[f"layers.0.neurons.{j}.w.{i}"] * x[i]
                                                     for i in range(2)))
        for j in range(3)
    ]  # fmt: skip
    want = s["layers.1.neurons.0.b"] + sum(s[f"layers.1.neurons.0.w.{j}"] * h[j] for j in range(3))
    assert model.scalar(x).data == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_activations(act: str) -> None:
    n = Neuron(1, act, rng=0)
    n.load_state_dict({"w.0": 2.0, "b": -0.5})
    z = 2.0 * 0.1 - 0.5
    want = {"sigmoid": 1 / (1 + math.exp(-z)), "tanh": math.tanh(z), "relu": 0.0, "linear": z}
    assert n([0.1]).data == pytest.approx(want[act], rel=1e-15)


def test_unknown_activation_lists_valid_ones() -> None:
    for make in (
        lambda: Neuron(2, "softmax"),
        lambda: Layer(2, 2, "gelu"),
        lambda: MLP(2, [2, 1], activation="Tanh"),
        lambda: MLP(2, [2, 1], last_activation="identity"),
    ):
        with pytest.raises(ValueError, match="'sigmoid', 'tanh', 'relu', 'linear'"):
            make()


def test_bad_sizes() -> None:
    with pytest.raises(ValueError, match="nin"):
        MLP(0, [1])
    with pytest.raises(ValueError, match="non-empty"):
        MLP(2, [])
    with pytest.raises(TypeError, match="non-empty list of layer sizes; got int: 3"):
        MLP(2, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"MLP: nouts\[1\] must be >= 1, got 0"):
        MLP(2, [4, 0])
    with pytest.raises(TypeError, match="nout must be a whole number, got bool"):
        Layer(2, True)


def test_wrong_number_of_inputs_names_expected_and_got() -> None:
    with pytest.raises(ValueError, match="MLP expects 3 input\\(s\\), got 2"):
        MLP(3, [2, 1], rng=0)([1.0, 2.0])
    with pytest.raises(ValueError, match="Layer expects 2 input\\(s\\), got 3"):
        Layer(2, 2, rng=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Neuron expects 1 input\\(s\\), got 0"):
        Neuron(1, rng=0)([])
    with pytest.raises(TypeError, match="wrap it in a list"):
        MLP(1, [1], rng=0)(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"MLP: x\[1\] must be a Value or a real number"):
        MLP(2, [1], rng=0)([1.0, "2"])  # type: ignore[list-item]


def test_inputs_may_be_values_numpy_or_floats() -> None:
    model = MLP(2, [3, 1], rng=0)
    x0, x1 = Value(0.5), Value(-1.0)
    out = model.scalar([x0, x1])
    assert model.scalar(np.array([0.5, -1.0])).data == out.data
    assert model.scalar([0.5, np.float32(-1.0)]).data == out.data
    out.backward()
    # Closed form: d out / d x_i = sum_j w2_j (1 - h_j²) w1_ji, from the state_dict in floats.
    sd = model.state_dict()
    xs = [0.5, -1.0]
    for i, xv in enumerate((x0, x1)):
        expected = 0.0
        for j in range(3):
            pre = sd[f"layers.0.neurons.{j}.b"] + sum(
                sd[f"layers.0.neurons.{j}.w.{k}"] * xs[k] for k in range(2)
            )
            expected += (
                sd[f"layers.1.neurons.0.w.{j}"]
                * (1 - math.tanh(pre) ** 2)
                * sd[f"layers.0.neurons.{j}.w.{i}"]
            )
        assert xv.grad == pytest.approx(expected, rel=1e-12)


def test_float_inputs_become_one_shared_leaf() -> None:
    # 2 inputs, 3 hidden neurons: 2 input leaves, not a constant per product
    out = MLP(2, [3, 1], rng=0).scalar([0.5, -1.0])
    leaves = [n for n in graph_nodes(out) if n.is_leaf and n.label is None]
    assert len(leaves) == 2


def test_no_grad_forward_records_nothing() -> None:
    model = MLP(2, [3, 1], rng=0)
    with no_grad():
        out = model.scalar([0.5, -1.0])
    assert out.is_leaf
    assert out.data == model.scalar([0.5, -1.0]).data


def test_zero_grad() -> None:
    model = MLP(2, [3, 1], rng=0)
    mse_loss(model([1.0, 2.0]), [0.3]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_round_trip_restores_outputs_in_place() -> None:
    model = MLP(2, [4, 1], rng=0)
    params = model.parameters()
    saved = json.loads(json.dumps(model.state_dict()))  # survives JSON
    before = model.scalar([0.2, 0.7]).data
    opt = SGD(params, lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        mse_loss(model([0.2, 0.7]), [3.0]).backward()
        opt.step()
    assert model.scalar([0.2, 0.7]).data != before
    model.load_state_dict(saved)
    assert model.scalar([0.2, 0.7]).data == before
    assert model.state_dict() == saved
    assert model.parameters() == params  # same Value objects: the optimizer still holds them


def test_load_errors_change_nothing() -> None:
    model = MLP(1, [2, 1], rng=0)
    good = model.state_dict()
    bad_missing = dict(good)
    del bad_missing["layers.1.neurons.0.b"]
    bad_extra = {**good, "layers.2.neurons.0.b": 1.0}
    first = next(iter(good))
    cases: list[tuple[object, type[Exception], str]] = [
        (bad_missing, ValueError, "missing keys: 'layers.1.neurons.0.b'"),
        (bad_extra, ValueError, "unexpected keys: 'layers.2.neurons.0.b'"),
        ({**{k: 9.0 for k in good}, first: "0.5"}, TypeError, "expected a real number"),
        ({**{k: 9.0 for k in good}, first: None}, TypeError, "NoneType"),
        ([1.0, 2.0], TypeError, "mapping"),
    ]
    for state, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            model.load_state_dict(state)  # type: ignore[arg-type]
        assert model.state_dict() == good


def test_get_and_set_parameter() -> None:
    model = MLP(2, [2, 1], rng=0)
    model.set_parameter("layers.1.neurons.0.b", np.float64(0.75))
    assert model.get_parameter("layers.1.neurons.0.b").data == 0.75
    assert isinstance(model.get_parameter("layers.1.neurons.0.b").data, float)
    with pytest.raises(KeyError, match=r"no parameter 'layers\.9\.b'"):
        model.set_parameter("layers.9.b", 1.0)
    with pytest.raises(TypeError):
        model.set_parameter("layers.1.neurons.0.b", "1")


def test_custom_module_finds_its_parameters() -> None:
    class Affine(Module):
        def __init__(self) -> None:
            self.scale = Value(2.0)
            self.inner = Layer(1, 2, rng=0)
            self.shared = [self.scale]  # listed once
            self._cache = Value(0.0)  # private attributes are not parameters

    names = [n for n, _ in Affine().named_parameters()]
    assert names == ["scale", "inner.neurons.0.w.0", "inner.neurons.0.b",
                     "inner.neurons.1.w.0", "inner.neurons.1.b"]  # fmt: skip
    assert "5 parameters" in repr(Affine())
    assert repr(MLP(2, [3, 1])) == "MLP(2, [3, 1], activation='tanh', last_activation='linear')"


@pytest.mark.parametrize("optimizer_after_forward", [False, True])
def test_a_result_kept_by_forward_is_no_parameter(optimizer_after_forward: bool) -> None:
    """forward keeps its activations on the module (`self.last = h`, in a list and a dict
    too): they are no parameters, so the optimizer sees the leaves only, before or after a
    forward pass, and the state dict keeps its keys. Reference: y = relu(w x + b) with
    w = 2, b = -1, x = 3: y = 5, dy/dw = x = 3, dy/db = 1, so SGD(lr=0.1) gives w = 1.7,
    b = -1.1; a relu'd Tensor likewise (d sum(relu(W x)) / dW = outer(slope, x))."""
    from autograd_lite import Tensor

    class Unit(Module):
        def __init__(self) -> None:
            self.w, self.b = Value(2.0), Value(-1.0)
            self.W = Tensor([[1.0, -1.0]])

        def forward(self, x: float) -> tuple[Value, Tensor]:
            y = (self.w * x + self.b).relu()
            h = (self.W @ np.array([x, 1.0])).relu()
            self.last, self.kept, self.seen = y, [y, h], {"h": h}
            return y, h.sum()

    unit = Unit()
    names = ["w", "b", "W"]
    opt = None if optimizer_after_forward else SGD(unit.parameters(), lr=0.1)
    y, h = unit(3.0)
    assert [n for n, _ in unit.named_parameters()] == names
    assert list(unit.state_dict()) == names
    assert "3 parameters" in repr(unit)
    opt = opt or SGD(unit.parameters(), lr=0.1)
    y.backward()
    h.backward()
    opt.step()
    assert (unit.w.data, unit.b.data) == (pytest.approx(1.7), pytest.approx(-1.1))
    assert unit.W.data.tolist() == [[pytest.approx(0.7), pytest.approx(-1.1)]]
    Unit().load_state_dict(unit.state_dict())  # a model before its first forward pass


def test_replacing_a_parameter_by_a_computed_node_is_an_error() -> None:
    """Reference: PyTorch's rule (assigning a non-parameter tensor to a parameter's name is a
    TypeError), and the closed form of SGD on the kept parameter: `self.w = self.w * 2` would
    drop w from parameters() (a computed node is none), so the model would train without it
    and an optimizer made before would step the old w; refused, w stays 2.0 and is the one
    SGD(lr=0.1) steps by dL/dw = x = 3 to 1.7. A leaf, or a result under no_grad, replaces it."""

    class Unit(Module):
        def __init__(self) -> None:
            self.w = Value(2.0)

        def forward(self, x: float) -> Value:
            self.last = self.w * x  # an activation, kept again at every call: allowed
            return self.last

    unit = Unit()
    opt = SGD(unit.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"Unit\.w: cannot replace the parameter .* '\*'"):
        unit.w = unit.w * 2
    unit(3.0)
    unit(3.0).backward()
    opt.step()
    assert unit.w.data == pytest.approx(1.7) and [n for n, _ in unit.named_parameters()] == ["w"]
    with no_grad():
        unit.w = unit.w * 2  # a leaf: the new parameter
    assert unit.w.data == pytest.approx(3.4) and unit.parameters() == [unit.w]


def test_mlp_accepts_an_iterator_of_layer_sizes() -> None:
    # Reference: the parameter count of MLP(2, [3, 1]) worked out by hand: 3*(2+1) + 1*(3+1).
    model = MLP(2, iter([3, 1]))
    assert len(model.parameters()) == 13
    assert len(model([0.5, -0.5])) == 1


# One rule for numbers, the package's (issue 15, item 5): anything numbers.Real accepts,
# bools (Python's and numpy's) as 0 and 1; an int too large for a float is an OverflowError
# whose message does not print it. Expected outputs are b + w0*x0 + w1*x1 done by hand.
LINEAR = {"w.0": 0.75, "w.1": -2.0, "b": 0.5}


def linear_mlp() -> MLP:
    model = MLP(2, [1], rng=0)
    model.load_state_dict({f"layers.0.neurons.0.{k}": v for k, v in LINEAR.items()})
    return model


@pytest.mark.parametrize("grad_mode", [True, False])
def test_inputs_follow_the_package_number_rule(grad_mode: bool) -> None:
    neuron = Neuron(2, rng=0)
    neuron.load_state_dict(LINEAR)
    layer = Layer(2, 1, rng=0)
    layer.load_state_dict({f"neurons.0.{k}": v for k, v in LINEAR.items()})
    model = linear_mlp()
    calls = [neuron, lambda x: layer(x)[0], lambda x: model(x)[0], model.scalar]
    cases = [
        ([True, 0], 0.5 + 0.75),  # True is 1
        ([np.bool_(False), np.bool_(True)], 0.5 - 2.0),
        ([Fraction(1, 4), 1], 0.5 + 0.75 / 4 - 2.0),  # exact in binary
    ]
    with contextlib.nullcontext() if grad_mode else no_grad():
        for call in calls:
            for x, want in cases:
                assert call(x).data == want, (call, x)


def test_parameters_follow_the_package_number_rule() -> None:
    model = Neuron(2, rng=0)
    model.set_parameter("w.0", True)
    model.set_parameter("w.1", np.bool_(False))
    model.set_parameter("b", Fraction(3, 8))
    assert model.state_dict() == {"w.0": 1.0, "w.1": 0.0, "b": 0.375}
    assert all(type(v) is float for v in model.state_dict().values())
    model.load_state_dict({"w.0": False, "w.1": np.bool_(True), "b": Fraction(-1, 2)})
    assert model.state_dict() == {"w.0": 0.0, "w.1": 1.0, "b": -0.5}


def test_huge_ints_are_refused_without_printing_them() -> None:
    huge = 10**400
    model = linear_mlp()
    before = model.state_dict()
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: model([huge, 0]), r"MLP: x\[0\]: int of about 10\*\*400 is too large"),
        (lambda: model.scalar([0, -huge]), r"MLP: x\[1\]: int of about 10\*\*400"),
        (lambda: model.set_parameter("layers.0.neurons.0.b", huge), "set_parameter"),
        (
            lambda: model.load_state_dict({**before, "layers.0.neurons.0.b": huge}),
            "load_state_dict",
        ),
    ]
    for call, msg in cases:
        with pytest.raises(OverflowError, match=msg) as info:
            call()
        assert "0000000000" not in str(info.value)
    assert model.state_dict() == before


# Issue 15, item 11: a mapping ran on its keys, a set in no fixed order, bytes as small ints.
NOT_SEQUENCES: list[tuple[object, str]] = [
    ({0: 5.0, 1: 6.0}, "a dict is not accepted: iterating over it gives its keys"),
    ({5.0, 6.0}, "a set is not accepted: it has no order"),
    (frozenset({5.0, 6.0}), "a frozenset is not accepted: it has no order"),
    ({0: 5.0, 1: 6.0}.keys(), "a dict_keys is not accepted"),
    ("56", "a str is not accepted: its items are characters"),
    (b"\x05\x06", "a bytes is not accepted: its items are characters"),
    (np.array([[5.0, 6.0]]), r"a numpy array must be 1-d here, got shape \(1, 2\)"),
    (None, "got NoneType: None"),
]


@pytest.mark.parametrize(("x", "why"), NOT_SEQUENCES)
@pytest.mark.parametrize("grad_mode", [True, False])
def test_inputs_must_be_an_ordered_sequence_of_numbers(
    x: object, why: str, grad_mode: bool
) -> None:
    model = MLP(2, [3, 1], rng=0)
    calls: list[tuple[str, Callable[[object], object]]] = [
        ("Neuron", Neuron(2, rng=0)),  # type: ignore[list-item]
        ("Layer", Layer(2, 3, rng=0)),  # type: ignore[list-item]
        ("MLP", model),  # type: ignore[list-item]
        ("MLP", model.scalar),  # type: ignore[list-item]
    ]
    accepted = "x must be a list, tuple or 1-d numpy array of numbers or Values; "
    with contextlib.nullcontext() if grad_mode else no_grad():
        for who, call in calls:
            with pytest.raises(TypeError, match=re.escape(f"{who}: {accepted}") + why):
                call(x)


def test_seed_is_a_whole_number_at_least_zero() -> None:
    cases: list[tuple[Callable[[], object], type[Exception], str]] = [
        (lambda: MLP(2, [1], rng=-1), ValueError, "MLP: rng must be >= 0, got -1"),
        (lambda: Layer(2, 1, rng=-5), ValueError, "Layer: rng must be >= 0"),
        (lambda: Neuron(2, rng=-5), ValueError, "Neuron: rng must be >= 0"),
        (lambda: MLP(2, [1], rng=1.5), TypeError, "MLP: rng must be a whole number"),  # type: ignore[arg-type]
        (lambda: MLP(2, [1], rng="0"), TypeError, "MLP: rng must be a whole number"),  # type: ignore[arg-type]
    ]
    for make, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            make()


def test_parameters_in_a_dict_attribute_are_found_by_key() -> None:
    # Reference: the names written out by hand, in insertion order, as torch's ModuleDict.
    class Net(Module):
        def __init__(self) -> None:
            self.d = {"scale": Value(4.0), "inner": Neuron(1, rng=0)}

    names = [name for name, _ in Net().named_parameters()]
    assert names == ["d.scale", "d.inner.w.0", "d.inner.b"]


def test_nn_modules_hold_one_kind_of_thing_for_every_node_type() -> None:
    """nn/ is split by what a module holds (layers, losses, optimizers), not by node type:
    the Value and the Tensor forms of a layer or a loss live in one module, and no module
    is named for a node type. Reference: issue 20's layout ("nn/ by what each module holds");
    the expected module of each public name is written out here."""
    expected = {
        "autograd_lite.nn.layers": ["Neuron", "Layer", "MLP", "Linear", "Sequential", "ReLU"],
        "autograd_lite.nn.losses": ["half_squared_error", "mse_loss", "cross_entropy"],
        "autograd_lite.nn.optim": ["SGD", "Adam", "Optimizer"],
    }
    for module, names in expected.items():
        for name in names:
            assert getattr(nn_package, name).__module__ == module, name
    files = [p.name for p in pathlib.Path(nn_package.__file__).parent.glob("*.py")]
    assert not [f for f in files if f.startswith(("tensor_", "value_", "dual_"))], files
