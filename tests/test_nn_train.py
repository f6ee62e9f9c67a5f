"""Training to the end: XOR reaches 100% accuracy; the example's data and helpers work.

Independent reference: the XOR truth table (accuracy is counted against it directly).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from autograd_lite import no_grad
from autograd_lite.nn import MLP, SGD, Adam, bce_with_logits, hinge_loss, mse_loss
from tests.example_module import load_example

XOR = [([0.0, 0.0], 0), ([0.0, 1.0], 1), ([1.0, 0.0], 1), ([1.0, 1.0], 0)]
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_xor_moons.py"


def xor_accuracy(model: MLP) -> float:
    with no_grad():
        return sum((model.scalar(x).data > 0) == (y == 1) for x, y in XOR) / len(XOR)


def test_xor_reaches_full_accuracy_with_adam_and_bce() -> None:
    model = MLP(2, [4, 1], rng=0)
    opt = Adam(model.parameters(), lr=0.1)
    xs, ys = [x for x, _ in XOR], [float(y) for _, y in XOR]
    losses = []
    step = 0
    while step < 100:
        step += 1
        loss = bce_with_logits([model.scalar(x) for x in xs], ys)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
        if xor_accuracy(model) == 1.0:
            break
    assert xor_accuracy(model) == 1.0, f"not solved in {step} steps"
    assert step <= 50  # seed 0 solves it in ~20 steps
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("loss_name", ["hinge", "mse"])
def test_xor_with_sgd_momentum_and_other_losses(loss_name: str) -> None:
    model = MLP(2, [8, 1], rng=1)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    xs = [x for x, _ in XOR]
    ys = [2.0 * y - 1.0 for _, y in XOR]  # -1/+1 labels for both
    loss_fn = hinge_loss if loss_name == "hinge" else mse_loss
    for _ in range(200):
        opt.zero_grad()
        loss_fn([model.scalar(x) for x in xs], ys).backward()
        opt.step()
        if xor_accuracy(model) == 1.0:
            break
    assert xor_accuracy(model) == 1.0


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example("train_xor_moons.py")


def test_example_moons_data(example: ModuleType) -> None:
    x, y = example.make_moons(101, noise=0.1, seed=3)
    x2, y2 = example.make_moons(101, noise=0.1, seed=3)
    assert x.shape == (101, 2) and y.shape == (101,)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert set(y.tolist()) == {0.0, 1.0} and int(y.sum()) == 51
    # without noise, class 0 is on the unit circle, class 1 on the shifted one
    x, y = example.make_moons(20, noise=0.0, seed=0)
    r0 = np.hypot(x[y == 0, 0], x[y == 0, 1])
    r1 = np.hypot(x[y == 1, 0] - 1.0, x[y == 1, 1] - 0.5)
    assert np.allclose(r0, 1.0) and np.allclose(r1, 1.0)


def test_example_train_solves_xor(example: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    x, y = example.xor_data()
    model = MLP(2, [4, 1], rng=0)
    hist = example.train("xor", model, x, y, bce_with_logits, False, 0.1, 40, 10)
    assert hist.first_perfect is not None and hist.accuracies[-1] == 1.0
    assert "xor   step   10" in capsys.readouterr().out


def test_example_pictures(example: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    x, y = example.xor_data()
    model = MLP(2, [4, 1], rng=0)
    hist = example.train("xor", model, x, y, bce_with_logits, False, 0.1, 30, 10)
    paths = example.save_plots("xor", model, x, y, hist, tmp_path)
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# Issue 15, item 15: the example's options give a usage error (exit 2), never a traceback.
@pytest.mark.parametrize(
    "args", [["--seed", "-1"], ["--seed=-7"], ["--seed", "1.5"], ["--seed", "x"]]
)
def test_example_bad_seed_is_a_usage_error(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--no-plot", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "argument --seed: must be a whole number >= 0, got" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_example_seed_accepts_any_whole_number_numpy_does(example: ModuleType) -> None:
    assert example.seed("0") == 0
    assert example.seed(str(10**40)) == 10**40
    np.random.default_rng(example.seed(str(10**40)))  # numpy takes any int >= 0
    with pytest.raises(argparse.ArgumentTypeError, match=r"got '99999999999999999999\.\.\.'$"):
        example.seed("9" * 5000)  # longer than int() reads: the message shows its start only


def test_example_out_that_cannot_be_a_folder_is_a_usage_error(
    example: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(example, "have_matplotlib", lambda: True)
    a_file = tmp_path / "taken"
    a_file.write_text("")
    with pytest.raises(SystemExit) as info:
        example.main(["--out", str(a_file / "pics")])  # a folder inside a file
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert "--out" in err and "cannot make that folder" in err
    assert out == ""  # refused before any training


def test_example_plot_hint_names_the_command_that_works_from_a_checkout(
    example: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert example.prepare_pictures(tmp_path / "pics", no_plot=False) is False
    err = capsys.readouterr().err
    assert "matplotlib is not installed" in err
    assert ".venv/bin/pip install -e '.[plot]'" in err
    assert not (tmp_path / "pics").exists()
    assert example.prepare_pictures(tmp_path / "pics", no_plot=True) is False
    assert capsys.readouterr().err == ""  # --no-plot: nothing to say
