"""`autograd-lite --code`, the code blocks that show it, and `train_xor_moons.py --compiled`.

References: the engine's gradients of the document's network (the code must give them bit
for bit), the command's own output (the pages must show exactly it), and the uncompiled
training run (the compiled one must print the same losses).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from autograd_lite import backward_code, grad
from autograd_lite.walkthrough.cli import main
from autograd_lite.walkthrough.network import INPUT_NAMES, build_network
from tests.codegen_helpers import run_module, same
from tests.example_module import load_example

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- autograd-lite --code -->"
"""The line before a ```text block that must hold exactly what `autograd-lite --code` prints."""
PAGES = [ROOT / "README.md", ROOT / "docs" / "codegen.md"]


def code_output(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["--code", *args]) == 0
    return capsys.readouterr().out


def test_code_is_the_documents_network_and_gives_its_gradients(
    capsys: pytest.CaptureFixture[str],
) -> None:
    net = build_network()
    inputs = [getattr(net, name) for name in INPUT_NAMES]
    out = code_output(capsys)
    assert out == backward_code(net.L, inputs)
    values = [x.data for x in inputs]
    assert same(run_module(out)(*values), (net.L.data, tuple(grad(net.L, inputs))))
    other = code_output(capsys, "--w2", "-1.5")  # other numbers: the same code
    assert other == out


def test_code_with_options_that_print_something_else_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--code", "--json"])
    assert exit_info.value.code == 2
    assert "--code prints the code alone; drop --json" in capsys.readouterr().err


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_pages_show_exactly_what_the_command_prints(
    page: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = page.read_text(encoding="utf-8")
    found = re.findall(re.escape(MARKER) + r"\n```text\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    assert found, f"{page.name} has no ```text block after the line {MARKER}"
    expected = code_output(capsys)
    for block in found:
        assert block == expected, f"{page.name}: paste the output of `autograd-lite --code`"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example("train_xor_moons.py", "train_xor_moons_codegen")


def test_the_compiled_moons_run_prints_the_same_losses(
    example: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Reference: the example's own uncompiled training loop, on the same seed.
    from autograd_lite.nn import MLP, hinge_loss

    x, y = example.make_moons(100, noise=0.1, seed=0)
    runs = []
    for compiled in (False, True):
        model = MLP(2, [16, 1], activation="tanh", rng=0)
        history = example.train(
            "moons", model, x, y, hinge_loss, True, lr=0.1, steps=25, log_every=5, compiled=compiled
        )
        runs.append((history, capsys.readouterr().out, [p.data for p in model.parameters()]))
    (plain, plain_out, plain_params), (compiled, compiled_out, compiled_params) = runs
    assert plain.losses == compiled.losses and plain.accuracies == compiled.accuracies
    assert plain_out == compiled_out
    assert plain_params == compiled_params
    assert np.isfinite(compiled.losses).all() and compiled.losses[-1] < compiled.losses[0]


def test_the_compiled_flag_on_the_command_line(
    example: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Reference: the uncompiled run's summary line for two moons (seed 0): 100% training
    # accuracy first at step 60 (its losses are compared step by step above).
    assert example.main(["--compiled", "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "moons step  150  loss 0.00000  accuracy 100.0%" in out
    assert "100% training accuracy first at step 60; after 150 steps loss 0.00000" in out
