"""nn.save / nn.load: a state dict in an .npz file, and load_state_dict's checks (issue 19, item 6).

References: the file read back with plain `np.load(path, allow_pickle=False)` (numpy alone, no
code of ours); arrays written by `np.savez` (numpy's own writer) read by `nn.load`; outputs of
the loaded model against the forward pass written in numpy from the arrays that were saved.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from autograd_lite import nn
from autograd_lite.nn import MLP, Linear, ReLU, Sequential

Array = np.ndarray[Any, Any]

# Weights chosen by hand: float32-exact (binary fractions), so one set serves both dtypes.
STATE = {
    "0.weight": np.array([[0.5, -1.0], [0.25, 2.0], [-0.75, 1.5]]),
    "0.bias": np.array([0.125, -0.5, 1.0]),
    "2.weight": np.array([[1.0, -0.5, 0.25]]),
    "2.bias": np.array([0.0625]),
}


def numpy_forward(state: dict[str, Array], x: Array) -> Array:
    """Reference: Linear -> ReLU -> Linear, written in numpy."""
    h = np.maximum(x @ state["0.weight"].T + state["0.bias"], 0)
    return h @ state["2.weight"].T + state["2.bias"]  # type: ignore[no-any-return]


def model(dtype: type = np.float64) -> Sequential:
    return Sequential(Linear(2, 3, rng=0, dtype=dtype), ReLU(), Linear(3, 1, rng=1, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_file_is_numpys_with_pytorchs_names(tmp_path: Path, dtype: type) -> None:
    net = model(dtype)
    net.load_state_dict({k: v.astype(dtype) for k, v in STATE.items()})
    path = tmp_path / "net.npz"
    nn.save(net.state_dict(), path)
    with np.load(path, allow_pickle=False) as f:  # numpy alone reads it
        assert list(f.keys()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
        for key, expected in STATE.items():
            assert f[key].dtype == dtype and f[key].shape == expected.shape
            np.testing.assert_array_equal(f[key], expected)
    assert zipfile.is_zipfile(path)  # an .npz is a zip of .npy files
    fresh = model(dtype)
    fresh.load_state_dict(nn.load(path))
    x: Array = np.array([[1.0, 2.0], [-3.0, 0.5], [0.0, -1.0]], dtype=dtype)
    np.testing.assert_allclose(fresh(x).data, numpy_forward(STATE, x.astype(np.float64)))
    assert fresh(x).dtype == dtype


def test_a_scalar_mlp_round_trips_through_a_file(tmp_path: Path) -> None:
    net = MLP(2, [3, 1], rng=0)
    state = net.state_dict()
    nn.save(state, tmp_path / "mlp.npz")
    with np.load(tmp_path / "mlp.npz", allow_pickle=False) as f:
        assert {k: float(f[k]) for k in f.keys()} == state  # 0-d float64 arrays, exact
        assert all(f[k].shape == () and f[k].dtype == np.float64 for k in f.keys())
    other = MLP(2, [3, 1], rng=1)
    other.load_state_dict(nn.load(tmp_path / "mlp.npz"))
    assert other.state_dict() == state
    assert all(type(p.data) is float for p in other.parameters())


def test_load_reads_what_numpy_writes(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "theirs.npz", **cast(dict[str, Any], STATE)
    )  # numpy's writer, as another tool would
    loaded = nn.load(tmp_path / "theirs.npz")
    assert list(loaded) == list(STATE)
    for key in STATE:
        np.testing.assert_array_equal(loaded[key], STATE[key])
    net = model()
    net.load_state_dict(loaded)
    x = np.array([[0.5, -0.5]])
    np.testing.assert_allclose(net(x).data, numpy_forward(STATE, x))


def good_net() -> tuple[Sequential, dict[str, Array]]:
    net = model()
    net.load_state_dict(STATE)
    return net, {k: np.array(v) for k, v in net.state_dict().items()}


def assert_unchanged(net: Sequential, before: dict[str, Array]) -> None:
    after = net.state_dict()
    assert list(after) == list(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda s: s.pop("2.bias"), ValueError, r"missing keys: '2\.bias'"),
        (lambda s: s.update({"4.weight": np.ones(2)}), ValueError, r"unexpected keys: '4\.weight'"),
        (lambda s: s.update({"0.bias": np.ones(4)}), ValueError,
         r"load_state_dict\['0\.bias'\]: shape \(4,\) does not match the parameter's \(3,\)"),
        (lambda s: s.update({"2.weight": s["2.weight"].astype(np.float32)}), TypeError,
         r"load_state_dict\['2\.weight'\]: dtype float32 does not match the parameter's float64"),
        (lambda s: s.update({"0.bias": np.array([2**53 + 1, 0, 0])}), ValueError,
         r"load_state_dict\['0\.bias'\]: 1 value\(s\) would change in float64: 9007199254740993"),
    ],
    ids=["missing", "extra", "shape", "dtype", "inexact"],
)  # fmt: skip
def test_a_bad_file_names_the_key_and_changes_nothing(
    tmp_path: Path, change: Any, error: type[Exception], message: str
) -> None:
    net, before = good_net()
    state = dict(before)
    change(state)
    np.savez(tmp_path / "bad.npz", **cast(dict[str, Any], state))
    with pytest.raises(error, match=message):
        net.load_state_dict(nn.load(tmp_path / "bad.npz"))
    assert_unchanged(net, before)


def test_a_float32_file_into_a_float64_model_is_refused_until_converted(tmp_path: Path) -> None:
    small = model(np.float32)
    small.load_state_dict({k: v.astype(np.float32) for k, v in STATE.items()})
    nn.save(small.state_dict(), tmp_path / "small.npz")
    net, before = good_net()
    with pytest.raises(TypeError, match=r"convert the model \(module\.to\(np\.float32\)\)"):
        net.load_state_dict(nn.load(tmp_path / "small.npz"))
    assert_unchanged(net, before)
    net.to(np.float32).load_state_dict(nn.load(tmp_path / "small.npz"))  # as the message says
    assert all(np.asarray(v).dtype == np.float32 for v in net.state_dict().values())


def test_numbers_and_lists_load_only_if_exact() -> None:
    small = model(np.float32)
    before = {k: np.array(v) for k, v in small.state_dict().items()}
    exact = {k: v.tolist() for k, v in STATE.items()}  # binary fractions: exact in float32
    small.load_state_dict(exact)
    np.testing.assert_array_equal(small.state_dict()["0.weight"], STATE["0.weight"])
    small.load_state_dict(before)
    with pytest.raises(
        ValueError, match=r"\['0\.bias'\]: 1 value\(s\) would change in float32: 0\.1 at"
    ):
        small.load_state_dict({**exact, "0.bias": [0.5, 0.1, 1.0]})  # 0.1 is not a float32
    assert_unchanged(small, before)
    holder = MLP(1, [1], rng=0)
    holder.load_state_dict({k: np.float64(2.0) for k in holder.state_dict()})
    with pytest.raises(TypeError, match=r"dtype float32 does not match the parameter's float64"):
        holder.load_state_dict({k: np.array(0.5, np.float32) for k in holder.state_dict()})
    assert holder.state_dict() == dict.fromkeys(holder.state_dict(), 2.0)


def test_load_refuses_what_is_not_an_archive_of_numbers(tmp_path: Path) -> None:
    np.savez(tmp_path / "objects.npz", fine=np.ones(2), bad=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"load\['bad'\]: .* holds Python objects"):
        nn.load(tmp_path / "objects.npz")
    np.savez(tmp_path / "words.npz", w=np.array(["a", "b"]))
    with pytest.raises(TypeError, match=r"load\['w'\]: expected real numbers"):
        nn.load(tmp_path / "words.npz")
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(ValueError, match=r"load: '.*text\.npz' is not an \.npz archive"):
        nn.load(tmp_path / "text.npz")
    np.save(tmp_path / "one.npy", np.ones(2))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(ValueError, match=r"a single \.npy array, not an \.npz archive"):
        nn.load(tmp_path / "one.npz")
    for bad in ("model.npy", "model", "model.pt"):
        with pytest.raises(ValueError, match=r"load: the path must end in \.npz"):
            nn.load(tmp_path / bad)
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing.npz")


def test_save_checks_everything_before_it_opens_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.npz"
    net, before = good_net()
    nn.save(before, path)
    kept = path.read_bytes()
    cases: list[tuple[object, type[Exception], str]] = [
        ({**before, "x": np.array([object()])}, TypeError, r"save\['x'\]: expected real numbers"),
        ({**before, "x": "text"}, TypeError, r"save\['x'\]: expected real numbers"),
        ({**before, "x": net.parameters()[0]}, TypeError, r"save\['x'\]: got a Tensor"),
        ({3: np.ones(1)}, TypeError, r"save: keys must be str"),
        ({**before, "x.npy": np.ones(1)}, ValueError, r"ends in \.npy"),
        (net, TypeError, r"got a Sequential \(save the module's state_dict\(\)"),
    ]
    for state, error, message in cases:
        with pytest.raises(error, match=message):
            nn.save(state, path)  # type: ignore[arg-type]
        assert path.read_bytes() == kept
    with pytest.raises(ValueError, match=r"save: the path must end in \.npz"):
        nn.save(before, tmp_path / "model.npy")
    assert not (tmp_path / "model.npy").exists() and not (tmp_path / "model.npy.npz").exists()
