"""`autograd-lite --mode forward`: the document's four gradients by forward mode, one pass per
parameter with its tangents, beside reverse mode's one pass.

References: the hand formulas of walkthrough/hand.py (the document's derivation in floats),
and the tangents worked out by the chain rule forward, by hand, in the test.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from typing import Any

import pytest

from autograd_lite.walkthrough import DOCUMENT_INPUTS, Inputs, compare, hand_derivation
from autograd_lite.walkthrough.cli import main
from autograd_lite.walkthrough.forward import TRACKED, forward_mode

NUMBER = r"-?\d+\.\d+(?:e[-+]?\d+)?"


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--no-render", *args] if "--json" not in args else list(args))
    return code, out.getvalue()


def hand_tangents(v: Inputs) -> dict[str, dict[str, float]]:
    """d(node)/dp for each parameter p, carried forward by the chain rule by hand:
    z1' = x w1' + b1', h' = h (1 - h) z1', z2' = h' w2 + h w2' + b2',
    y_hat' = y_hat (1 - y_hat) z2', L' = (y_hat - y) y_hat'."""
    d = hand_derivation(v)
    seeds = {"w1": (v.x, 0.0, 0.0), "b1": (1.0, 0.0, 0.0), "w2": (0.0, d.h, 0.0),
             "b2": (0.0, 0.0, 1.0)}  # fmt: skip
    found = {}
    for p, (dz1, from_w2, db2) in seeds.items():
        dh = d.h * (1 - d.h) * dz1
        dz2 = dh * v.w2 + from_w2 + db2
        dy = d.y_hat * (1 - d.y_hat) * dz2
        found[p] = {"z1": dz1, "h": dh, "z2": dz2, "y_hat": dy, "L": (d.y_hat - v.y) * dy}
    return found


@pytest.mark.parametrize("inputs", [DOCUMENT_INPUTS, Inputs(x=0.5, y=0.0, w1=-1.2, w2=2.5)])
def test_forward_mode_gives_the_hand_gradients_and_tangents(inputs: Inputs) -> None:
    found = forward_mode(compare(inputs))
    hand = hand_derivation(inputs)
    expected = {"w1": hand.dL_dw1, "b1": hand.dL_db1, "w2": hand.dL_dw2, "b2": hand.dL_db2}
    for p, value in expected.items():
        assert found.gradients[p] == pytest.approx(value, rel=1e-12, abs=1e-16)
        assert found.reverse[p] == pytest.approx(value, rel=1e-12, abs=1e-16)
    tangents = hand_tangents(inputs)
    for p in expected:
        for name in TRACKED:
            assert found.tangents[p][name] == pytest.approx(tangents[p][name], rel=1e-12, abs=1e-16)


def test_the_command_shows_each_pass_and_counts_passes() -> None:
    code, text = run("--mode", "forward")
    assert code == 0
    hand = hand_derivation()
    assert "Forward mode: 4 passes, one per parameter p" in text
    assert "Reverse mode: 1 pass, backward from L, gives all four gradients" in text
    tangents = hand_tangents(DOCUMENT_INPUTS)
    lines = text.splitlines()
    after = lines[next(i for i, line in enumerate(lines) if line.startswith("Reverse mode")) :]
    for k, p in enumerate(("w1", "b1", "w2", "b2"), 1):
        row = next(line for line in lines if re.match(rf"\s+{k}\s+{p}\s", line))
        shown = [float(n) for n in re.findall(NUMBER, row)]
        assert shown == pytest.approx([tangents[p][n] for n in TRACKED], abs=5.0001e-11)
        grads = next(line for line in after if line.strip().startswith(f"dL/d{p} "))
        forward, reverse = (float(n) for n in re.findall(NUMBER, grads)[:2])
        assert forward == reverse == pytest.approx(getattr(hand, f"dL_d{p}"), abs=5.0001e-11)
    _, plain = run()
    assert "Forward mode" not in plain  # the default is reverse mode only


def test_the_json_has_the_forward_passes() -> None:
    code, text = run("--json", "--mode", "forward")
    assert code == 0
    result: dict[str, Any] = json.loads(text)
    forward = result["forward_mode"]
    hand = hand_derivation()
    assert (forward["passes"], forward["reverse_passes"]) == (4, 1)
    assert forward["gradients"]["w2"] == pytest.approx(hand.dL_dw2, rel=1e-12)
    assert forward["tangents"]["b2"]["z2"] == 1.0
    assert "quantities" in result  # the rest of the object is unchanged
    assert "forward_mode" not in json.loads(run("--json")[1])


def test_a_bad_mode_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--mode", "sideways"])
    assert info.value.code == 2
    assert "invalid choice: 'sideways'" in capsys.readouterr().err
