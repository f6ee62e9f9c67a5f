"""The `autograd-lite` command, run as a user would: in a subprocess."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autograd_lite import Value
from autograd_lite.walkthrough import DOCUMENT_PRINTED, QUANTITY_TITLES, hand_derivation
from autograd_lite.walkthrough.cli import main

SCRIPT = Path(sys.executable).with_name("autograd-lite")
NAMES = list(DOCUMENT_PRINTED)


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdout: Any = None
) -> subprocess.CompletedProcess[str]:
    """The command in a subprocess; stdout is captured unless a file or descriptor is given."""
    return subprocess.run(
        [sys.executable, "-m", "autograd_lite", *args],
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def as_json(*args: str) -> Any:
    result = run("--json", "--no-render", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.needs_dot
def test_default_output_has_every_quantity_with_the_right_values(tmp_path: Path) -> None:
    # References: the hand derivation (to the 10 decimals shown) and the document's printed values.
    result = run(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    hand = hand_derivation().as_dict()
    lines = result.stdout.splitlines()
    for name in NAMES:
        title = QUANTITY_TITLES[name]  # each row starts with the quantity's formula
        row = next(line.strip() for line in lines if line.strip().startswith(title))
        numbers = re.findall(r"-?\d+\.\d+(?:e-?\d+)?", row[len(title) :])
        document, hand_shown, auto_shown = (float(numbers[i]) for i in range(3))
        assert document == DOCUMENT_PRINTED[name], name
        # 10 decimals shown: off by at most half a unit of the last one (and a rounding's worth)
        assert hand_shown == pytest.approx(hand[name], rel=0, abs=5.0001e-11), name
        assert auto_shown == pytest.approx(hand[name], rel=0, abs=5.0001e-11), name
    assert "0.0974367672" in result.stdout  # the exact delta2 beside the printed -0.0976
    marked = {line.split("=")[0].strip() for line in lines if re.search(r"\d\*\s", line)}
    assert marked >= {"delta2", "delta1", "z2"} and "h" not in marked
    assert "rounds intermediates" in result.stdout
    graph = tmp_path / "document_graph.png"
    assert f"Graph: {graph.name}" in result.stdout or str(graph) in result.stdout
    assert graph.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_json_output_matches_the_hand_derivation_and_the_document() -> None:
    data = as_json()
    hand = hand_derivation().as_dict()
    assert set(data["quantities"]) == set(NAMES)
    for name, q in data["quantities"].items():
        assert q["document"] == DOCUMENT_PRINTED[name]
        assert q["hand"] == hand[name]  # the same function, and JSON round-trips a float
        assert q["autodiff"] == pytest.approx(hand[name], rel=0, abs=1e-12)
    assert data["graph"] is None
    assert data["inputs"]["w1"] == 0.4 and data["inputs"]["eta"] == 0.1


def test_other_inputs_leave_the_document_column_out() -> None:
    # Reference: the hand derivation on the same inputs.
    data = as_json("--x", "0.5", "--y", "0", "--w2", "-1.5", "--lr", "0.5")
    hand = hand_derivation(x=0.5, y=0.0, w1=0.4, b1=0.1, w2=-1.5, b2=0.2, eta=0.5).as_dict()
    for name, q in data["quantities"].items():
        assert q["document"] is None
        assert q["autodiff"] == pytest.approx(hand[name], rel=0, abs=1e-12)
    text = run("--no-render", "--x", "0.5").stdout
    assert "document" not in text.splitlines()[5] and "left out" in text


def test_steps_show_the_loss_falling_monotonically() -> None:
    # Reference: the first loss is the document's L; each SGD step must lower it.
    data = as_json("--steps", "100")
    losses = data["losses"]
    assert len(losses) == 101
    assert losses[0] == pytest.approx(hand_derivation().L, rel=0, abs=1e-15)
    assert all(b < a for a, b in itertools.pairwise(losses))
    first = hand_derivation()
    after_one = hand_derivation(w1=first.w1_new, b1=first.b1_new, w2=first.w2_new, b2=first.b2_new)
    assert losses[1] == pytest.approx(after_one.L, rel=1e-13, abs=0)
    assert set(data["final_parameters"]) == {"w1", "b1", "w2", "b2"}
    text = run("--no-render", "--steps", "100").stdout
    assert "step    100" in text and "final parameters" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--x", "abc"], "not a number"),
        (["--w1", "nan"], "finite"),
        (["--lr", "0"], "must be > 0"),
        (["--lr", "-0.1"], "must be > 0"),
        (["--steps", "-1"], "must be from 0 to 100000"),
        (["--steps", "100001"], "must be from 0 to 100000"),
        (["--steps", "-1e3"], "whole number"),
        (["--x", "-inf"], "must be a finite number, got '-inf'"),
        (["--lr", "-1e-3"], "must be > 0, got '-1e-3'"),
        (["--out", "x.pdf", "--no-render"], "--no-render"),
        (["--steps", "1.5"], "whole number"),
        (["--out", "graph.jpg"], "unknown extension '.jpg'"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2_with_a_message_and_usage(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr and "usage: autograd-lite" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output_path_prints_the_numbers_and_exits_1(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "graph.png"
    result = run("--out", str(target))
    assert result.returncode == 1
    assert "delta2" in result.stdout  # the numbers are still printed
    assert "could not draw the graph" in result.stderr and "Traceback" not in result.stderr


def test_missing_dot_keeps_the_dot_source_and_exits_1(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path / "empty")}
    result = run("--out", str(tmp_path / "g.png"), env=env)
    assert result.returncode == 1
    assert "delta2" in result.stdout
    assert "apt-get install graphviz" in result.stderr
    kept = tmp_path / "g.dot"
    assert kept.exists() and "digraph" in kept.read_text(encoding="utf-8")
    assert str(kept) in result.stderr


@pytest.mark.needs_dot
def test_dot_svg_and_pdf_outputs(tmp_path: Path) -> None:
    for suffix, magic in [(".dot", b"digraph"), (".svg", b"<?xml"), (".pdf", b"%PDF")]:
        target = tmp_path / f"graph{suffix}"
        result = run("--out", str(target))
        assert result.returncode == 0, result.stderr
        assert target.read_bytes().lstrip().startswith(magic)


def test_version_and_help() -> None:
    from autograd_lite import __version__

    assert run("--version").stdout.strip() == f"autograd-lite {__version__}"
    help_text = run("--help").stdout
    assert "examples:" in help_text and "--steps" in help_text and "--json" in help_text
    assert "0 to 100000" in help_text and "130 interrupted" in help_text


def test_console_script_and_python_dash_m_agree() -> None:
    assert SCRIPT.exists(), f"console script not installed at {SCRIPT}"
    args = ["--json", "--no-render", "--steps", "3"]
    script = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
    module = run(*args)
    assert script.returncode == module.returncode == 0
    assert script.stdout == module.stdout


def test_extreme_inputs_give_numbers_not_a_traceback() -> None:
    # Reference: sigmoid(-999.9) underflows to 0 in float64; JSON has no inf, so it becomes null.
    result = run("--no-render", "--x", "-1000", "--w1", "1")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    data = as_json("--x", "1e308", "--w1", "10")
    assert data["quantities"]["z1"]["hand"] is None  # x*w1 overflows to inf
    assert data["quantities"]["h"]["hand"] == 1.0


# -- issue 15: overflow, negative numbers, output that fails, bounds ---------------------------


def test_large_finite_inputs_give_inf_in_the_table_and_null_in_json() -> None:
    # Reference: IEEE float64 overflow. (1.4e154 - y_hat)^2 > 1.797e308, the largest double, so
    # L = 1/2 (y - y_hat)^2 is inf; the same for y = 1e200. JSON has no inf: it becomes null.
    result = run("--y", "1.4e154", "--no-render")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    loss_row = next(line for line in result.stdout.splitlines() if line.startswith("  L = 1/2"))
    assert loss_row.split()[-3:] == ["inf", "inf", "0"]
    data = as_json("--y", "1e200")
    assert data["quantities"]["L"] == {"document": None, "hand": None, "autodiff": None}
    assert data["quantities"]["dL_dy_hat"]["hand"] == pytest.approx(-1e200, rel=1e-15)


@pytest.mark.parametrize("text", ["-1e-3", "-1E-3", "-.5", "-0.001", "-2e+1", "-1_0", "-7"])
@pytest.mark.parametrize("joined", [False, True])
def test_negative_numbers_in_any_notation_are_option_values(text: str, joined: bool) -> None:
    # Reference: Python's float() reading the same text.
    args = [f"--y={text}"] if joined else ["--y", text]
    data = as_json(*args, "--w2", text)
    assert data["inputs"]["y"] == float(text) and data["inputs"]["w2"] == float(text)


def test_ctrl_c_exits_130_with_a_short_message() -> None:
    # Reference: shells report 128 + SIGINT (2) for a command Ctrl-C stopped.
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograd_lite", "--no-render", "--steps", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell without job control starts background jobs with Ctrl-C ignored, and the
        # child would inherit that: give it the terminal's default, as a user's shell does.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("Network:")  # the table shows while it trains
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err == "autograd-lite: interrupted\n"


@pytest.mark.parametrize("args", [["--no-render"], ["--json"]])
def test_a_full_disk_is_one_line_of_error_and_exit_1(args: list[str]) -> None:
    # Reference: every write to /dev/full fails with ENOSPC ("No space left on device").
    with open("/dev/full", "w") as full:
        result = run(*args, stdout=full)
    assert result.returncode == 1
    assert result.stderr == (
        "autograd-lite: error: could not write the output: No space left on device\n"
    )


@pytest.mark.parametrize("args", [["--no-render"], ["--json"], ["--no-render", "--steps", "5"]])
def test_a_closed_pipe_exits_141_without_a_traceback(args: list[str]) -> None:
    # Reference: shells report 128 + SIGPIPE (13) for a command whose reader went away, as in
    # `autograd-lite | head -1`. Here the reader is gone before the first write, every time.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run(*args, stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == ""


@pytest.mark.needs_dot
def test_a_path_the_terminal_cannot_encode_is_printed_escaped(tmp_path: Path) -> None:
    # Reference: the file system holds the file under its real name; the ascii terminal is
    # shown the name with \xe9 for é (Python's backslashreplace).
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = run("--out", "é.png", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Graph: \\xe9.png (data and gradient" in result.stdout
    assert (tmp_path / "é.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    missing = run("--out", str(tmp_path / "nope" / "é.png"), env=env)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr


def test_huge_and_tiny_numbers_are_shown_short() -> None:
    # Reference: the JSON losses and parameters (floats as Python prints them); the text shows
    # 7 significant digits in scientific notation, so it agrees to a relative 5e-7.
    args = ["--lr", "1e308", "--steps", "3"]
    data = as_json(*args)
    text = run("--no-render", *args).stdout
    assert max(len(line) for line in text.splitlines()) < 120
    assert not re.search(r"\d{20}", text)
    shown = [float(v) for v in re.findall(r"L = (\S+)$", text, re.M)]
    assert shown == [pytest.approx(v, rel=5e-7, abs=0) for v in data["losses"]]
    finals = dict(re.findall(r"(\w+) = (\S+)", text.split("final parameters:")[1]))
    for name, value in data["final_parameters"].items():
        if value is None:  # overflowed to inf or nan: JSON has no such number
            assert finals[name] in {"inf", "-inf", "nan"}
        else:
            assert float(finals[name]) == pytest.approx(value, rel=5e-7, abs=0)
    assert any(abs(v) > 1e100 for v in data["final_parameters"].values() if v is not None)


def test_json_draws_the_graph_only_when_out_is_given(tmp_path: Path) -> None:
    # Reference: the directory's contents before and after.
    result = run("--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["graph"] is None
    assert list(tmp_path.iterdir()) == []
    result = run("--json", "--out", "g.dot", cwd=tmp_path)
    assert json.loads(result.stdout)["graph"] == "g.dot"
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]
    assert "drawn only when --out is given" in " ".join(run("--help").stdout.split())


def test_out_with_no_render_is_a_usage_error_that_writes_nothing(tmp_path: Path) -> None:
    result = run("--out", "x.pdf", "--no-render", cwd=tmp_path)
    assert result.returncode == 2
    assert "--out x.pdf asks for a drawing and --no-render for none" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("steps", [0, 1, 3])
def test_the_network_is_built_and_back_propagated_once_per_run(
    steps: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Reference: what a run needs. The document's network once (for the table and the drawing),
    # then one new network per SGD step; every network but the last is back-propagated once.
    built: list[float] = []
    backward_calls: list[Value] = []
    init, backward = Value.__init__, Value.backward

    def counting_init(self: Value, data: Any, label: str | None = None) -> None:
        if label == "x":  # each network has one input leaf labelled x
            built.append(data)
        init(self, data, label)

    def counting_backward(self: Value, gradient: float = 1.0) -> None:
        backward_calls.append(self)
        backward(self, gradient)

    monkeypatch.setattr(Value, "__init__", counting_init)
    monkeypatch.setattr(Value, "backward", counting_backward)
    code = main(["--steps", str(steps), "--out", str(tmp_path / "g.dot")])
    assert code == 0, capsys.readouterr().err
    assert len(built) == 1 + steps
    assert len(backward_calls) == max(1, steps)
    assert "-0.0974367672" in capsys.readouterr().out
