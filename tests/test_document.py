"""The worked example: the engine against the hand derivation and the document's numbers."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_lite.walkthrough import (
    DOCUMENT_INPUTS,
    DOCUMENT_PRINTED,
    Inputs,
    autodiff_quantities,
    build_network,
    hand_derivation,
)
from tests.reference import EXACT_TABLE

# The document rounds some intermediates before using them, so these printed values are further
# from the exact ones than half a unit of their last printed digit: z2 uses h rounded to 0.622,
# delta2 = -0.405 * 0.241 rounded, and everything computed from delta2 carries that error.
EARLY_ROUNDED = {
    "z2", "delta2", "dL_db2", "dL_dh", "delta1", "dL_dw1", "dL_db1", "b2_new", "w1_new", "b1_new",
}  # fmt: skip
EARLY_ROUNDED_RELATIVE_BOUND = 3e-3  # the worst, dL/dh, is 0.24% off; delta2 0.17%

SEED_EN = Path(__file__).resolve().parents[2] / "shared" / "seed" / "backprop_worked_example.en.md"
SEED_MISSING = (
    "needs the project's seed document (the original worked example) in a folder "
    "shared/seed/ beside the checkout: ../shared/seed/backprop_worked_example.en.md from the "
    "checkout's top folder; copy the seed document there to check that "
    "tests/reference.py copied its table right. Everything else about the document is "
    "checked from that copy and from DOCUMENT_PRINTED in autograd_lite/walkthrough/document.py"
)


def autodiff_of(inputs: Inputs = DOCUMENT_INPUTS) -> dict[str, float]:
    net = build_network(inputs)
    net.L.backward()
    return autodiff_quantities(net)


def decimals(printed: float) -> int:
    text = repr(printed)
    return len(text.split(".")[1]) if "." in text else 0


def test_autodiff_equals_hand_derivation_on_document_inputs() -> None:
    # Reference: the document's hand formulas evaluated in plain floats (hand_derivation).
    hand = hand_derivation().as_dict()
    auto = autodiff_of()
    assert hand.keys() == auto.keys() == DOCUMENT_PRINTED.keys()
    for name, value in hand.items():
        assert auto[name] == pytest.approx(value, abs=1e-12, rel=0), name


def test_autodiff_equals_hand_derivation_on_random_inputs() -> None:
    # Reference: the hand formulas, on 200 random networks (inputs, targets and parameters).
    rng = np.random.default_rng(2024)
    for _ in range(200):
        inputs = Inputs(*rng.uniform(-3, 3, size=6))
        hand = hand_derivation(inputs).as_dict()
        auto = autodiff_of(inputs)
        for name, value in hand.items():
            assert auto[name] == pytest.approx(value, abs=1e-12, rel=1e-12), (name, inputs)


def test_both_match_the_exact_table_of_the_english_rendition() -> None:
    # Reference: the exact column of the English rendition, printed to 10 decimals.
    hand = hand_derivation().as_dict()
    auto = autodiff_of()
    for name, exact in EXACT_TABLE.items():
        assert hand[name] == pytest.approx(exact, abs=1e-9), name
        assert auto[name] == pytest.approx(exact, abs=1e-9), name


@pytest.mark.skipif(not SEED_EN.exists(), reason=SEED_MISSING)
def test_exact_table_is_the_one_in_the_seed_document() -> None:
    # The table above is copied from the document; this guards the copy against typos.
    text = SEED_EN.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (.+?) \| (-?[\d.]+) \| (-?[\d.]+) \|$", text, re.M)
    exact_by_row = {name.strip(): float(exact) for name, _, exact in rows}
    assert exact_by_row["h"] == EXACT_TABLE["h"]
    assert exact_by_row["delta2 = dL/dz2 = dL/db2"] == EXACT_TABLE["delta2"]
    assert exact_by_row["delta1 = dL/dz1 = dL/dw1 = dL/db1"] == EXACT_TABLE["delta1"]
    assert exact_by_row["b1_new"] == EXACT_TABLE["b1_new"]
    assert len(exact_by_row) == 16
    printed_by_row = {name.strip(): float(printed) for name, printed, _ in rows}
    assert printed_by_row["dL/dw2"] == DOCUMENT_PRINTED["dL_dw2"]
    assert printed_by_row["w1_new"] == DOCUMENT_PRINTED["w1_new"]


def test_printed_values_match_to_the_documents_own_rounding() -> None:
    # Reference: the numbers the document prints. A value printed with d decimals must be within
    # half a unit of its last digit, except the early-rounded ones, within a looser bound.
    auto = autodiff_of()
    late = set()
    for name, printed in DOCUMENT_PRINTED.items():
        half_unit = 0.5 * 10.0 ** -decimals(printed) + 1e-15
        if abs(auto[name] - printed) > half_unit:
            late.add(name)
            assert abs(auto[name] - printed) <= EARLY_ROUNDED_RELATIVE_BOUND * abs(printed), name
    assert late == EARLY_ROUNDED


def test_early_rounded_values_follow_from_the_documents_rounded_intermediates() -> None:
    # Reference: the document's own arithmetic on its printed (rounded) intermediates.
    p = DOCUMENT_PRINTED
    assert p["z2"] == pytest.approx(p["h"] * 0.3 + 0.2, abs=1e-12)
    assert p["delta2"] == pytest.approx(p["dL_dy_hat"] * p["dy_hat_dz2"], abs=5e-5)
    assert p["dL_dh"] == pytest.approx(p["delta2"] * 0.3, abs=5e-5)
    assert p["delta1"] == pytest.approx(p["dL_dh"] * p["dh_dz1"], abs=1e-5)
    assert p["b2_new"] == pytest.approx(0.2 - 0.1 * p["dL_db2"], abs=1e-12)
    assert p["w1_new"] == pytest.approx(0.4 - 0.1 * p["dL_dw1"], abs=1e-12)


def test_one_sgd_step_gives_the_documents_new_weights() -> None:
    # Reference: the exact table's new weights, and the update rule applied in the test.
    net = build_network()
    net.L.backward()
    for p in (net.w1, net.b1, net.w2, net.b2):
        p.data -= 0.1 * p.grad
    assert net.w2.data == pytest.approx(EXACT_TABLE["w2_new"], abs=1e-9)
    assert net.b2.data == pytest.approx(EXACT_TABLE["b2_new"], abs=1e-9)
    assert net.w1.data == pytest.approx(EXACT_TABLE["w1_new"], abs=1e-9)
    assert net.b1.data == pytest.approx(EXACT_TABLE["b1_new"], abs=1e-9)
    assert math.isclose(net.w1.data, DOCUMENT_PRINTED["w1_new"], abs_tol=2e-6)


def test_network_nodes_are_labelled_and_scoped() -> None:
    net = build_network()
    assert [net.z1.label, net.h.label, net.z2.label, net.y_hat.label, net.L.label] == [
        "z1", "h", "z2", "ŷ", "L",
    ]  # fmt: skip
    assert net.h.scope == ("hidden neuron",)
    assert net.y_hat.scope == ("output neuron",)
    assert net.L.scope == ("loss",)
    assert net.x.scope == ()


PYTEST = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]


def test_without_the_seed_document_the_skip_says_what_is_needed(tmp_path: Path) -> None:
    # Reference: pytest's own report of a copy of this file run where no seed document is.
    tests = Path(__file__).resolve().parent
    copy = tmp_path / "checkout" / "tests"
    copy.mkdir(parents=True)
    for name in ("__init__.py", "reference.py", "test_document.py"):
        shutil.copy(tests / name, copy / name)
    result = subprocess.run(
        # Only the seed test, by its node id: this test must not run its own copy.
        [*PYTEST, "tests/test_document.py::test_exact_table_is_the_one_in_the_seed_document"],
        cwd=tmp_path / "checkout",
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = " ".join(result.stdout.split())
    assert "1 skipped" in report, result.stdout
    # The reason names the file relative to the checkout, never a path of this machine.
    assert "beside the checkout: ../shared/seed/backprop_worked_example.en.md from" in report
    assert "copy the seed document there" in report and "checked from that copy" in report
    reason = report[report.index("needs the project's seed document") :]
    assert str(tmp_path) not in reason and str(Path.home()) not in reason
    assert not re.search(r"(^|\s)/\w", reason), reason  # no absolute path at all


def test_overflow_gives_inf_as_in_ieee_arithmetic() -> None:
    # Reference: IEEE float64. (1e200 - y_hat)^2 exceeds the largest double (about 1.8e308),
    # so L = 1/2 (y - y_hat)^2 is inf; dL/dy_hat = y_hat - y is about -1e200, still finite.
    hand = hand_derivation(y=1e200)
    assert hand.L == math.inf
    assert hand.dL_dy_hat == pytest.approx(-1e200, rel=1e-15, abs=0)
    net = build_network(y=1e200)
    net.L.backward()
    assert net.L.data == math.inf


def test_inputs_are_checked_and_stored_as_floats() -> None:
    # Reference: the rule for real numbers (validate.py): numbers.Real and bools, as floats.
    from fractions import Fraction

    inputs = Inputs(x=Fraction(1, 2), y=True, w1=np.float32(0.25), b1=np.int64(2))
    assert (inputs.x, inputs.y, inputs.w1, inputs.b1) == (0.5, 1.0, 0.25, 2.0)
    assert all(type(v) is float for v in inputs.as_dict().values())
    with pytest.raises(TypeError, match=r"Inputs: w2: expected a real number .* got str: 'a'"):
        Inputs(w2="a")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"build_network: unknown input 'w3'; the inputs are x, y"):
        build_network(w3=1.0)
    with pytest.raises(TypeError, match=r"hand_derivation: expected Inputs, got float: 0.5"):
        hand_derivation(0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"hand_derivation: eta: expected a real number"):
        hand_derivation(eta="0.1")  # type: ignore[arg-type]
