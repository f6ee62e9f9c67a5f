"""Train an MLP on scikit-learn's handwritten digits with autograd_lite's tensors, to >= 97%.

    python examples/train_digits.py                       # 64-128-10, 30 epochs, Adam
    python examples/train_digits.py --epochs 10 --hidden 64 32 --seed 1 --dtype float32
    python examples/train_digits.py --compiled            # the same run, with a compiled step

The data is scikit-learn's `load_digits`: 1797 8x8 grey images of the digits 0-9, shipped
inside the package (nothing is downloaded). Pixels 0..16 are scaled to [0, 1]; a fixed
stratified split keeps 20% of the images (360) for testing. The model is written as in
PyTorch, `Sequential(Linear(64, 128), ReLU(), Linear(128, 10))`, and trained with
`cross_entropy` and Adam on shuffled mini-batches, the step size decaying along a cosine.
One line per epoch shows the mean training loss and the training and test accuracy; the
total time comes last. The seed draws the weights and the batch order: it repeats a run
exactly. `--compiled` computes each step's loss and gradient with `compile_grad`, the batch
and its labels given anew at each call (`args`): the same numbers, bit for bit, so the same
losses and accuracies, without building a graph per step. scikit-learn comes with the
`examples` extra: from a checkout, in its folder, `.venv/bin/pip install -e '.[examples]'`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_lite import Tensor, compile_grad, no_grad
from autograd_lite.codegen import CompiledGrad
from autograd_lite.nn import Adam, Linear, ReLU, Sequential, cross_entropy

Array = np.ndarray[Any, Any]

SKLEARN_HINT = (
    "this example needs scikit-learn (for its bundled digits data); from a checkout of "
    "autograd-lite, in its folder: .venv/bin/pip install -e '.[examples]'"
)


@dataclass
class Split:
    """Images as rows of 64 pixels in [0, 1], and their digits, for training and testing."""

    x_train: Array
    y_train: Array
    x_test: Array
    y_test: Array


def load(test_fraction: float = 0.2, dtype: Any = np.float64) -> Split:
    """scikit-learn's digits, scaled to [0, 1], split into train and test, stratified and
    always the same way (so that runs with different seeds are tested on the same images)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(dtype)
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=test_fraction, stratify=digits.target, random_state=0
    )
    return Split(x_train, y_train, x_test, y_test)


def build(hidden: Sequence[int], seed: int, dtype: Any = np.float64) -> Sequential:
    """Linear and ReLU layers, 64 inputs, the `hidden` widths, 10 outputs (one per digit)."""
    rng = np.random.default_rng(seed)
    sizes = [64, *hidden, 10]
    layers: list[Any] = []
    for k in range(len(sizes) - 1):
        layers.append(Linear(sizes[k], sizes[k + 1], rng=rng, dtype=dtype))
        if k < len(sizes) - 2:
            layers.append(ReLU())
    return Sequential(*layers)


def accuracy(model: Sequential, x: Array, y: Array) -> float:
    """The fraction of images whose largest logit is at their digit (no graph recorded)."""
    with no_grad():
        logits = model(x).data
    return float(np.mean(np.argmax(logits, axis=1) == y))


@dataclass
class History:
    """Per epoch: the mean training loss, training and test accuracy; the total time."""

    losses: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0


def train(
    model: Sequential,
    data: Split,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    log: bool = True,
    compiled: bool = False,
) -> History:
    """Adam on shuffled mini-batches (the order drawn from `seed`); a line per epoch. With
    `compiled`, each step's loss and gradient come from a compiled step (`compiled_step`)."""
    params = model.parameters()
    opt = Adam(params, lr=lr)
    steps: dict[int, CompiledGrad] = {}
    order_rng = np.random.default_rng(seed)
    history = History()
    start = time.perf_counter()
    n = len(data.y_train)
    # The images in a constant tensor made once: indexing it gives each batch without the
    # copy a numpy array mixed into the graph costs (docs/tensors.md, "What a backward
    # pass keeps").
    images = Tensor(data.x_train, requires_grad=False, dtype=data.x_train.dtype)
    for epoch in range(1, epochs + 1):
        # cosine decay of the step size, from lr towards 0: the last epochs settle
        opt.lr = lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / epochs))
        order = order_rng.permutation(n)
        total = 0.0
        for begin in range(0, n, batch_size):
            batch = order[begin : begin + batch_size]
            x, y = data.x_train[batch], data.y_train[batch]
            opt.zero_grad()
            if compiled:
                value = compiled_step(model, steps, x, y)
            else:
                loss = cross_entropy(model(images[batch]), y)
                loss.backward(retain_graph=False)  # keeps what the loop reads: parameters and loss
                value = loss.item()
            opt.step()
            total += value * len(batch)
        history.losses.append(total / n)
        history.train_accuracy.append(accuracy(model, data.x_train, data.y_train))
        history.test_accuracy.append(accuracy(model, data.x_test, data.y_test))
        if log:
            print(
                f"epoch {epoch:3d}/{epochs}  loss {history.losses[-1]:.4f}  "
                f"train {history.train_accuracy[-1]:6.2%}  test {history.test_accuracy[-1]:6.2%}"
            )
    history.seconds = time.perf_counter() - start
    return history


def compiled_step(model: Sequential, steps: dict[int, CompiledGrad], x: Array, y: Array) -> float:
    """The loss on the batch (x, y), its gradient put into each parameter's `.grad`, as
    `backward()` would put it, by a step compiled once per batch size (the last batch of an
    epoch is smaller: its code holds its own shapes, a mean's 1/n among them) and called with
    the parameters' current values, the batch and its labels."""
    params = model.parameters()
    step = steps.get(len(y))
    if step is None:  # one graph, written as code once; its batch and labels become args
        batch = Tensor(x, requires_grad=False, dtype=x.dtype)
        loss = cross_entropy(model(batch), y)
        step = steps[len(y)] = compile_grad(loss, params, args=[batch, y])
    value, grads = step(*params, x, y)  # a Tensor stands for its data
    for p, g in zip(params, grads):
        p.grad = g
    return float(value)


def whole(minimum: int) -> Any:
    """argparse type: a whole number >= minimum."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            shown = text if len(text) <= 20 else text[:20] + "..."
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {shown!r}")
        return value

    return parse


def positive(text: str) -> float:
    """argparse type for --lr: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Train on the digits and report; exit status 0 if test accuracy reached --target."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--epochs", type=whole(1), default=30, help="passes over the data")
    parser.add_argument(
        "--hidden", type=whole(1), nargs="*", default=[128],
        help="hidden layer widths: several for more layers, none for a linear model",
    )  # fmt: skip
    parser.add_argument("--lr", type=positive, default=4e-3, help="Adam's initial learning rate")
    parser.add_argument("--batch-size", type=whole(1), default=32, help="images per step")
    parser.add_argument(
        "--seed", type=whole(0), default=0, help="seed for the weights and the batch order"
    )
    parser.add_argument(
        "--dtype", choices=["float64", "float32"], default="float64", help="parameter dtype"
    )
    parser.add_argument(
        "--target", type=float, default=0.97, help="test accuracy to reach (exit status 1 if not)"
    )
    parser.add_argument(
        "--compiled", action="store_true", help="compute each step with a compiled step"
    )
    args = parser.parse_args(argv)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print(f"train_digits.py: {SKLEARN_HINT}", file=sys.stderr)
        return 2

    dtype = np.dtype(args.dtype)
    data = load(dtype=dtype)
    model = build(args.hidden, args.seed, dtype)
    print(model)
    print(
        f"{len(data.y_train)} training and {len(data.y_test)} test images; Adam lr {args.lr}, "
        f"batch {args.batch_size}, {args.dtype}, seed {args.seed}"
        + (", compiled step" if args.compiled else "")
    )
    history = train(
        model, data, args.epochs, args.lr, args.batch_size, args.seed, compiled=args.compiled
    )
    final = history.test_accuracy[-1]
    print(
        f"test accuracy {final:.2%} after {args.epochs} epochs; total time {history.seconds:.2f} s"
    )
    return 0 if final >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
