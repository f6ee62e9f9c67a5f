"""Train small MLPs with autograd_lite.nn on XOR and on two moons, to 100% training accuracy.

    python examples/train_xor_moons.py            # pictures go to out/
    python examples/train_xor_moons.py --out pics --seed 1 --no-plot
    python examples/train_xor_moons.py --compiled # two moons with a compiled step

XOR: MLP(2, [4, 1]) (tanh hidden, linear output), binary cross-entropy from logits, Adam
lr 0.1, full batch. Two moons: 100 noisy points, MLP(2, [16, 1]), hinge loss with -1/+1
labels, Adam lr 0.1. Both print a line every few steps and say at which step training
accuracy first reached 100%. `--compiled` trains two moons with `compile_grad`: the step's
forward and backward pass are compiled once into a Python function of the parameters, which
gives bit for bit the same loss and gradients as building the graph and calling backward()
every step, so the same losses are printed, sooner. (XOR stays interpreted: its loss,
bce_with_logits, picks one of two formulas with a Python `if` on each logit's sign, which a
compiled trace would keep as it was at the first step.) With matplotlib (from a checkout, in
its folder: `.venv/bin/pip install -e '.[plot]'`) the loss curves and the decision boundaries
are saved as PNGs.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite import Value, compile_grad, no_grad
from autograd_lite.files import write_file
from autograd_lite.nn import MLP, Adam, bce_with_logits, hinge_loss

Array = np.ndarray  # (n, 2) float inputs or (n,) 0/1 labels


def xor_data() -> tuple[Array, Array]:
    """The four XOR points and their 0/1 labels."""
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return x, np.array([0.0, 1.0, 1.0, 0.0])


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[Array, Array]:
    """Two interleaved half circles with Gaussian noise: (n, 2) points and 0/1 labels.

    Class 0 lies on the upper unit half circle; class 1 on the lower one, shifted by
    (1, 0.5), so each curls into the other's opening.
    """
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t0 = rng.uniform(0.0, np.pi, n0)
    t1 = rng.uniform(0.0, np.pi, n - n0)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    x = np.vstack([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)])
    return x, y


@dataclass
class History:
    """What a training run did: loss and accuracy per step, and when it first got all right."""

    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    first_perfect: int | None = None
    seconds: float = 0.0


LossFn = Callable[[list[Value], list[float]], Value]


Step = Callable[[], tuple[float, list[float]]]
"""One step's forward and backward pass: sets every parameter's .grad, returns the loss and
the scores."""


def interpreted_step(
    model: MLP, inputs: list[list[float]], targets: list[float], loss_fn: LossFn, opt: Adam
) -> Step:
    """The step as usual: build the graph, zero the gradients, backward()."""

    def step() -> tuple[float, list[float]]:
        scores = [model.scalar(xi) for xi in inputs]
        loss = loss_fn(scores, targets)
        opt.zero_grad()
        loss.backward()
        return loss.data, [s.data for s in scores]

    return step


def compiled_step(
    model: MLP, inputs: list[list[float]], targets: list[float], loss_fn: LossFn, opt: Adam
) -> Step:
    """The step compiled once: `compile_grad` turns the graph, built here once, into
    f(parameter values) -> (loss, gradients, scores), bit for bit what building it again and
    calling backward() gives. Valid because the loss's graph has the same shape at every step
    (the hinge loss's relu is evaluated by the compiled code, whatever the signs). `opt` is
    not needed: the gradients are set, not added."""
    params = model.parameters()
    scores = [model.scalar(xi) for xi in inputs]
    f = compile_grad(loss_fn(scores, targets), params, aux=scores)

    def step() -> tuple[float, list[float]]:
        loss, grads, values = f(*[p.data for p in params])
        for p, g in zip(params, grads):
            p.grad = g  # the gradient backward() would add to a zeroed .grad
        return loss, list(values)

    return step


def train(
    name: str,
    model: MLP,
    x: Array,
    y01: Array,
    loss_fn: LossFn,
    signed_labels: bool,
    lr: float,
    steps: int,
    log_every: int,
    compiled: bool = False,
) -> History:
    """Full-batch training with Adam; prints a progress line every `log_every` steps.

    Accuracy is that of the scores computed for the step (before its update); a score > 0
    means class 1. `compiled`: each step calls one compiled function (compiled_step) instead
    of building the graph; the same losses, sooner.
    """
    opt = Adam(model.parameters(), lr=lr)
    inputs = x.tolist()
    targets = [2.0 * v - 1.0 if signed_labels else float(v) for v in y01]
    history = History()
    start = time.perf_counter()
    make_step = compiled_step if compiled else interpreted_step
    one_step = make_step(model, inputs, targets, loss_fn, opt)
    for step in range(1, steps + 1):
        loss, scores = one_step()
        opt.step()
        acc = float(np.mean([(s > 0) == (t > 0.5) for s, t in zip(scores, y01)]))
        history.losses.append(loss)
        history.accuracies.append(acc)
        if acc == 1.0 and history.first_perfect is None:
            history.first_perfect = step
        if step % log_every == 0 or step == 1 or step == steps:
            print(f"{name:5s} step {step:4d}  loss {loss:.5f}  accuracy {acc:6.1%}")
    history.seconds = time.perf_counter() - start
    return history


def report(name: str, history: History, steps: int) -> None:
    """One summary line: when 100% was reached, the final numbers, the time taken."""
    when = (
        f"100% training accuracy first at step {history.first_perfect}"
        if history.first_perfect is not None
        else "did NOT reach 100% training accuracy"
    )
    print(
        f"{name}: {when}; after {steps} steps loss {history.losses[-1]:.5f}, "
        f"accuracy {history.accuracies[-1]:.1%} ({history.seconds:.2f} s)\n"
    )


def decision_grid(model: MLP, x: Array, n: int = 60) -> tuple[Array, Array, Array]:
    """Model scores on an n x n grid around the data (evaluated without recording a graph)."""
    pad = 0.5
    gx = np.linspace(x[:, 0].min() - pad, x[:, 0].max() + pad, n)
    gy = np.linspace(x[:, 1].min() - pad, x[:, 1].max() + pad, n)
    xx, yy = np.meshgrid(gx, gy)
    with no_grad():
        zz = np.array([model.scalar([a, b]).data for a, b in zip(xx.ravel(), yy.ravel())])
    return xx, yy, zz.reshape(xx.shape)


def save_plots(
    name: str, model: MLP, x: Array, y01: Array, history: History, out: Path
) -> list[Path]:
    """Save `<name>_loss.png` and `<name>_boundary.png` into `out`; matplotlib required."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    paths = [out / f"{name}_loss.png", out / f"{name}_boundary.png"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(1, len(history.losses) + 1), history.losses)
    if min(history.losses) > 0:  # hinge loss reaches exactly 0, which a log scale cannot show
        ax.set_yscale("log")
    if history.first_perfect is not None:
        ax.axvline(history.first_perfect, color="gray", ls="--", label="100% accuracy reached")
        ax.legend()
    ax.set(xlabel="step", ylabel="training loss", title=f"{name}: training loss")
    fig.tight_layout()
    _save(fig, paths[0])
    plt.close(fig)

    xx, yy, zz = decision_grid(model, x)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    lim = max(float(np.abs(zz).max()), 1e-9)
    ax.contourf(xx, yy, zz, levels=20, cmap="RdBu_r", vmin=-lim, vmax=lim, alpha=0.6)
    ax.contour(xx, yy, zz, levels=[0.0], colors="k", linewidths=1.5)
    for label, color in ((0, "tab:blue"), (1, "tab:red")):
        pts = x[y01 == label]
        ax.scatter(pts[:, 0], pts[:, 1], c=color, edgecolors="k", label=f"class {label}")
    ax.legend(loc="upper right")
    ax.set(title=f"{name}: decision boundary (score = 0)", aspect="equal")
    fig.tight_layout()
    _save(fig, paths[1])
    plt.close(fig)
    return paths


def _save(fig: Any, path: Path) -> None:
    """Save a matplotlib figure as a PNG by the package's one writer (whole or not at all,
    through a symlink, keeping the mode of a file it replaces)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    write_file(path, buffer.getvalue())


PLOT_HINT = (
    "matplotlib is not installed, so no pictures will be drawn. To get the loss curves and "
    "decision boundaries, install it; from a checkout of autograd-lite, in its folder: "
    ".venv/bin/pip install -e '.[plot]'"
)


def have_matplotlib() -> bool:
    """True if matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def prepare_pictures(out: Path, no_plot: bool) -> bool:
    """Whether to draw: not with --no-plot, nor without matplotlib (then say how to get it).

    When drawing, the folder `out` is made now; OSError if it cannot be.
    """
    if no_plot:
        return False
    if not have_matplotlib():
        print(PLOT_HINT, file=sys.stderr)
        return False
    out.mkdir(parents=True, exist_ok=True)
    return True


def seed(text: str) -> int:
    """argparse type for --seed: a whole number >= 0, as numpy's generators need."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        shown = text if len(text) <= 20 else text[:20] + "..."
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {shown!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Train on XOR and on two moons; save pictures if matplotlib is available."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the PNGs")
    parser.add_argument(
        "--seed", type=seed, default=0, help="seed for weights and moons data (whole number >= 0)"
    )
    parser.add_argument("--no-plot", action="store_true", help="do not draw pictures")
    parser.add_argument(
        "--compiled",
        action="store_true",
        help="train two moons with a compiled step (compile_grad): the same losses, sooner",
    )
    args = parser.parse_args(argv)

    try:  # before training, so that a bad --out costs no time
        plot = prepare_pictures(args.out, args.no_plot)
    except OSError as e:
        parser.error(f"--out {str(args.out)!r}: cannot make that folder: {e.strerror or e}")

    results = []
    x, y = xor_data()
    model = MLP(2, [4, 1], activation="tanh", rng=args.seed)
    hist = train("xor", model, x, y, bce_with_logits, False, lr=0.1, steps=100, log_every=10)
    report("XOR, MLP(2, [4, 1]), BCE from logits, Adam lr 0.1", hist, 100)
    results.append(("xor", model, x, y, hist))

    x, y = make_moons(100, noise=0.1, seed=args.seed)
    model = MLP(2, [16, 1], activation="tanh", rng=args.seed)
    hist = train("moons", model, x, y, hinge_loss, True, 0.1, 150, 10, compiled=args.compiled)
    report("two moons (100 points), MLP(2, [16, 1]), hinge loss, Adam lr 0.1", hist, 150)
    results.append(("moons", model, x, y, hist))

    if plot:
        for name, model, x, y, hist in results:
            for path in save_plots(name, model, x, y, hist, args.out):
                print(f"saved {path}")
    ok = all(h.first_perfect is not None for *_, h in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
