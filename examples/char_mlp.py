"""Train a character-level MLP language model (Bengio et al. 2003) on made-up names, then sample.

    python examples/char_mlp.py                       # 3000 steps, then 10 samples
    python examples/char_mlp.py --steps 500 --samples 20 --seed 1

Each example is the `--block` characters before a position (padded with ".") and the
character at it; "." also ends a name. The model looks each character up in an Embedding,
joins the rows, and goes Linear -> BatchNorm1d -> Tanh -> Linear to one logit per
character, trained with cross_entropy on random minibatches by Adam. A model that knows
nothing scores log(vocabulary size) per character; the printed losses fall below it. Then
the model, in evaluation mode (BatchNorm1d's running statistics), draws names character by
character from its softmax. The names are in examples/data/names.txt, written for this
project.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite import Tensor, no_grad
from autograd_lite.nn import Adam, BatchNorm1d, Embedding, Linear, Module, Tanh, cross_entropy

Array = np.ndarray[Any, Any]
DATA = Path(__file__).resolve().parent / "data" / "names.txt"
END = "."  # pads the context before a name and ends it


def read_names(path: Path) -> list[str]:
    """The names in `path`, one a line; lines starting with # and blank ones are skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def dataset(names: Sequence[str], vocab: str, block: int) -> tuple[Array, Array]:
    """(contexts, next characters) as indices into `vocab`: shapes (n, block) and (n,)."""
    index = {ch: i for i, ch in enumerate(vocab)}
    contexts, targets = [], []
    for name in names:
        context = [index[END]] * block
        for ch in name + END:
            contexts.append(context)
            targets.append(index[ch])
            context = [*context[1:], index[ch]]
    return np.array(contexts), np.array(targets)


class CharMLP(Module):
    """Embedding -> Linear -> BatchNorm1d -> Tanh -> Linear: logits of the next character."""

    def __init__(self, vocab: int, block: int, emb: int, hidden: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.embed = Embedding(vocab, emb, rng=rng)
        # no bias: BatchNorm1d's would cancel it
        self.hidden = Linear(block * emb, hidden, bias=False, rng=rng)
        self.norm = BatchNorm1d(hidden)
        self.act = Tanh()
        self.out = Linear(hidden, vocab, rng=rng)

    def forward(self, contexts: Array) -> Tensor:
        """Logits of shape (n, vocab) for contexts of shape (n, block)."""
        rows = self.embed(contexts)  # (n, block, emb)
        joined = rows.reshape(rows.shape[0], -1)
        out: Tensor = self.out(self.act(self.norm(self.hidden(joined))))
        return out


def train(
    model: CharMLP, x: Array, y: Array, steps: int, batch: int, lr: float, seed: int, log_every: int
) -> list[float]:
    """Adam on random minibatches; prints and returns the minibatch loss every `log_every`."""
    rng = np.random.default_rng(seed)
    opt = Adam(model.parameters(), lr=lr)
    model.train()
    logged = []
    for step in range(1, steps + 1):
        pick = rng.integers(0, len(x), batch)
        loss = cross_entropy(model(x[pick]), y[pick])
        opt.zero_grad()
        loss.backward(retain_graph=False)  # the loop reads only the loss and the gradients
        opt.step()
        if step % log_every == 0 or step == steps:
            logged.append(loss.item())
            print(f"step {step:5d}/{steps}  minibatch loss {loss.item():.4f}")
    return logged


def full_loss(model: CharMLP, x: Array, y: Array) -> float:
    """The mean loss over every example, in evaluation mode."""
    model.eval()
    with no_grad():
        return cross_entropy(model(x), y).item()


def sample(model: CharMLP, vocab: str, block: int, count: int, seed: int) -> list[str]:
    """`count` names drawn character by character from the model (evaluation mode)."""
    rng = np.random.default_rng(seed)
    model.eval()
    names = []
    with no_grad():
        for _ in range(count):
            context, chars = [0] * block, list[str]()
            while len(chars) < 30:
                probs = model(np.array([context])).softmax(axis=1).data[0]
                ix = int(rng.choice(len(vocab), p=probs / probs.sum()))
                if vocab[ix] == END:
                    break
                chars.append(vocab[ix])
                context = [*context[1:], ix]
            names.append("".join(chars))
    return names


def positive(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text[:20]!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Train, print the losses against the uniform guess, then print samples."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,  # --help shows each default
    )
    parser.add_argument("--steps", type=positive, default=3000, help="training steps")
    parser.add_argument("--batch", type=positive, default=32, help="minibatch size")
    parser.add_argument("--block", type=positive, default=3, help="characters of context")
    parser.add_argument("--emb", type=positive, default=10, help="embedding size")
    parser.add_argument("--hidden", type=positive, default=100, help="hidden units")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate")
    parser.add_argument("--samples", type=positive, default=10, help="names to draw")
    parser.add_argument("--seed", type=positive, default=1, help="seed of the weights, batches")
    parser.add_argument("--log-every", type=positive, default=500, help="steps between lines")
    parser.add_argument("--data", type=Path, default=DATA, help="names, one a line")
    args = parser.parse_args(argv)
    try:
        names = read_names(args.data)
    except (OSError, UnicodeDecodeError) as e:
        parser.error(f"--data {str(args.data)!r}: cannot read it: {e}")
    if not names:
        parser.error(f"--data {str(args.data)!r}: holds no names")
    vocab = END + "".join(sorted(set("".join(names)) - {END}))
    x, y = dataset(names, vocab, args.block)
    uniform = math.log(len(vocab))
    print(f"{len(names)} names, {len(x)} examples, vocabulary of {len(vocab)}: {vocab}")
    print(f"uniform guess: loss log({len(vocab)}) = {uniform:.4f}")
    model = CharMLP(len(vocab), args.block, args.emb, args.hidden, args.seed)
    print(model)
    train(model, x, y, args.steps, args.batch, args.lr, args.seed, args.log_every)
    final = full_loss(model, x, y)
    print(f"loss over all examples {final:.4f} (uniform guess {uniform:.4f})")
    print("samples:")
    for name in sample(model, vocab, args.block, args.samples, args.seed):
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
