"""examples/char_mlp.py, short: the loss falls below the uniform guess and the samples are
made of the vocabulary.

Independent reference: a model that knows nothing gives every character probability 1/V,
a cross-entropy of log(V) (worked out here from the bundled names' own characters); the
vocabulary is read from examples/data/names.txt by the test itself.
"""

from __future__ import annotations

import math
import re
from types import ModuleType

import pytest

from tests.example_module import EXAMPLES, load_example

NAMES = EXAMPLES / "data" / "names.txt"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example("char_mlp.py")


def test_a_short_run_beats_the_uniform_guess_and_samples_the_vocabulary(
    example: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = NAMES.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and "written for" in lines[0]
    names = [line for line in lines[1:] if line]
    letters = set("".join(names))
    uniform = math.log(len(letters) + 1)  # the letters and the end mark "."
    argv = ["--steps", "150", "--log-every", "50", "--samples", "12", "--hidden", "40"]
    assert example.main(argv) == 0
    out = capsys.readouterr().out
    assert f"uniform guess: loss log({len(letters) + 1}) = {uniform:.4f}" in out
    losses = [float(v) for v in re.findall(r"^step +\d+/150 +minibatch loss ([\d.]+)$", out, re.M)]
    assert len(losses) == 3
    final = float(re.findall(r"^loss over all examples ([\d.]+)", out, re.M)[0])
    assert final < uniform - 0.5, (final, uniform)
    samples = out.split("samples:\n")[1].splitlines()
    assert len(samples) == 12
    for s in samples:
        assert set(s.strip()) <= letters, s
    assert any(s.strip() for s in samples)
    assert "(norm): BatchNorm1d(40, eps=1e-05" in out


def test_the_dataset_pads_the_context_and_ends_each_name(example: ModuleType) -> None:
    """Written out by hand for "ab" with a context of 2 over the vocabulary ".ab"."""
    x, y = example.dataset(["ab"], ".ab", 2)
    assert x.tolist() == [[0, 0], [0, 1], [1, 2]] and y.tolist() == [1, 2, 0]
