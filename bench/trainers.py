"""W5's engines: one SGD training step of an MLP 784-256-256-10 (ReLU) with cross-entropy.

Each engine is a `Trainer`: a list of named phases that together make one step on a fixed
batch, and a way to read its parameters back as numpy arrays for the correctness check. The
engines are the hand-written numpy step (the baseline: the plain step a course writes, in
place only where an engine can be too, as issue 22 defines it), the same step also in place
where no engine that keeps its nodes' data can be (`hand-inplace`: the limit for numpy code),
PyTorch, HIPS autograd (PyPI `autograd`) and autograd-lite's Tensor, each written the way its
users write a training step. Every engine starts from the same seeded weights, in PyTorch's
(out, in) layout, and sees the same batch.

This module imports no other module of bench/, and imports torch, autograd and autograd-lite
only when their trainer is made, so that a run that does not ask for an engine does not load it.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

HAND = "hand"
HAND_TORCH = "hand-torch"
HAND_IN_PLACE = "hand-inplace"
ENGINES = (
    "autograd-lite", "autograd-lite-ops", "autograd-lite-compiled", "torch", HAND_TORCH,
    "hips-autograd", HAND_IN_PLACE, HAND,
)  # fmt: skip
"""W5's engines in the order of the tables; the hand baseline comes last, as in bench.py."""
DEFAULT_ENGINES = ENGINES
"""Every engine: issue 22's targets concern all three autograd-lite steps."""

W5_SIZES = (784, 256, 256, 10)
W5_LR = 0.1
SEED = 11

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Read by the BLAS and OpenMP libraries when they load: set to 1 before numpy is imported."""

Params = list[np.ndarray]
"""An MLP's parameters as numpy arrays: [W1, b1, W2, b2, W3, b3], each W of shape (out, in)."""

IN_PLACE_NOTE = (
    "hand-inplace: the hand step that also writes ReLU over the pre-activation, the "
    "log-softmax shift over the logits and lr * g over the gradient: the limit for numpy "
    "code, past what issue 22's baseline allows (no in-place trick the engine could not use)"
)

Phase = tuple[str, Callable[[Any], Any]]
"""A named part of a step; it gets the previous phase's result (None for the first)."""


class EngineMissing(Exception):
    """The engine cannot be loaded here (not installed, or its API is not there yet)."""


@dataclass
class Trainer:
    """One engine set up for a training step on a fixed batch."""

    name: str
    version: str
    phases: list[Phase]
    """Run in order, they make one step; the last one returns nothing of interest."""
    loss: Callable[[], float]
    """The loss of the last completed step."""
    params: Callable[[], Params]
    """Copies of the current parameters, [W1, b1, ...] in (out, in) layout."""
    notes: list[str] = field(default_factory=list)

    def step(self) -> None:
        """One training step (all phases, untimed)."""
        state = None
        for _, fn in self.phases:
            state = fn(state)


def optimizer_trainer(
    name: str,
    version: str,
    loss_of: Callable[[], Any],
    opt: Any,
    params: Callable[[], Params],
    notes: Sequence[str] = (),
    backward_options: dict[str, Any] | None = None,
) -> Trainer:
    """A Trainer for an engine used as its users write a step: `opt.zero_grad()`, the loss,
    `loss.backward(**backward_options)`, `opt.step()`; `loss_of()` builds the loss (its
    graph) from the batch."""
    last: dict[str, Any] = {}
    options = backward_options or {}

    def forward(_: object) -> Any:
        opt.zero_grad()
        loss = last["loss"] = loss_of()
        return loss

    def backward(loss: Any) -> None:
        loss.backward(**options)

    def update(_: object) -> None:
        opt.step()

    return Trainer(
        name,
        version,
        [("forward", forward), ("backward", backward), ("update", update)],
        loss=lambda: float(last["loss"].item()),
        params=params,
        notes=list(notes),
    )


def limit_threads_env() -> None:
    """Ask for one BLAS/OpenMP thread through the environment (before numpy's BLAS loads)."""
    for var in THREAD_VARS:
        os.environ[var] = "1"


def limit_threads() -> Any:
    """Limit every BLAS and OpenMP pool loaded so far to one thread; returns the limiter.

    Call it again after loading an engine (torch brings its own OpenMP runtime). Keep the
    returned object alive: the limits hold while it exists.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def thread_report() -> list[str]:
    """One line per thread pool threadpoolctl sees, with its library and thread count."""
    from threadpoolctl import threadpool_info

    return [
        f"{p.get('internal_api')} {p.get('version') or ''} ({p.get('user_api')}): "
        f"{p.get('num_threads')} thread(s), {os.path.basename(p.get('filepath', ''))}"
        for p in threadpool_info()
    ]


def init_params(sizes: tuple[int, ...], dtype: np.dtype[Any], seed: int = SEED) -> Params:
    """PyTorch's default Linear init, U(-1/sqrt(in), 1/sqrt(in)) for W and b, from a seeded rng.

    Drawn in float64 and then rounded to `dtype`, so float32 and float64 start from the same
    numbers.
    """
    rng = np.random.default_rng(seed)
    params: Params = []
    for n_in, n_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(dtype))
        params.append(rng.uniform(-bound, bound, n_out).astype(dtype))
    return params


def w5_batch(batch: int, dtype: np.dtype[Any], seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """A random batch: inputs N(0, 1) of shape (batch, 784) and integer labels in [0, 10)."""
    rng = np.random.default_rng([seed, batch])
    x = rng.standard_normal((batch, W5_SIZES[0])).astype(dtype)
    labels = rng.integers(0, W5_SIZES[-1], batch).astype(np.int64)
    return x, labels


# ----------------------------------------------------------------------------------------------
# The hand-written numpy step: the baseline
# ----------------------------------------------------------------------------------------------
def hand_forward(
    params: Params, x: np.ndarray, labels: np.ndarray, in_place: bool = False
) -> tuple[Any, ...]:
    """Forward pass and mean cross-entropy; returns what the backward pass needs, loss last.

    The course's step (`in_place=False`, the baseline: issue 22 asks for no in-place trick an
    engine could not also use) adds the bias into the product's own array, as nn.Linear does,
    and makes ReLU's output and the shifted logits new arrays. `in_place=True` also writes
    ReLU over the pre-activation and the shift over the logits: one array per layer, which
    no engine that keeps each node's data (for drawings, or a second backward) can do."""
    w1, b1, w2, b2, w3, b3 = params
    h1 = x @ w1.T
    h1 += b1
    h1 = np.maximum(h1, 0, out=h1 if in_place else None)
    h2 = h1 @ w2.T
    h2 += b2
    h2 = np.maximum(h2, 0, out=h2 if in_place else None)
    z = h2 @ w3.T
    z += b3
    z = np.subtract(z, z.max(axis=1, keepdims=True), out=z if in_place else None)  # stable
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = np.log(s).mean() - z[rows, labels].mean()
    return h1, h2, e, s, rows, loss


def hand_backward(
    params: Params, x: np.ndarray, labels: np.ndarray, fwd: tuple[Any, ...]
) -> Params:
    """Gradients of the mean cross-entropy, written out; in the order of `params`. In place
    only on the arrays it makes (softmax from exp, ReLU's mask on a product), as the
    engine's rules do."""
    _, _, w2, _, w3, _ = params
    h1, h2, e, s, rows, _ = fwd
    dz = e
    dz /= s  # softmax
    dz[rows, labels] -= 1.0
    dz *= 1.0 / len(labels)
    g_w3, g_b3 = dz.T @ h2, dz.sum(axis=0)
    d2 = dz @ w3
    d2 *= h2 > 0
    g_w2, g_b2 = d2.T @ h1, d2.sum(axis=0)
    d1 = d2 @ w2
    d1 *= h1 > 0
    g_w1, g_b1 = d1.T @ x, d1.sum(axis=0)
    return [g_w1, g_b1, g_w2, g_b2, g_w3, g_b3]


def hand_update(params: Params, grads: Params, lr: float, in_place: bool = False) -> None:
    """SGD in place: p -= lr * g, a new array lr * g as an engine's optimizer makes (it must
    not scale the user's .grad); `in_place=True` scales g itself, saving that temporary."""
    for p, g in zip(params, grads):
        if in_place:
            g *= lr
            p -= g
        else:
            p -= lr * g


def make_hand(
    init: Params, x: np.ndarray, labels: np.ndarray, lr: float, in_place: bool = False
) -> Trainer:
    """The hand-written numpy step: forward, backward and update written out (the course's
    step, or with `in_place` the one that also overwrites what no engine can: see
    `hand_forward`)."""
    params = [p.copy() for p in init]
    last: dict[str, float] = {}

    def forward(_: object) -> tuple[Any, ...]:
        return hand_forward(params, x, labels, in_place)

    def backward(fwd: tuple[Any, ...]) -> Params:
        last["loss"] = fwd[-1]
        return hand_backward(params, x, labels, fwd)

    def update(grads: Params) -> None:
        hand_update(params, grads, lr, in_place)

    return Trainer(
        HAND_IN_PLACE if in_place else HAND,
        f"numpy {np.__version__}",
        [("forward", forward), ("backward", backward), ("update", update)],
        loss=lambda: float(last["loss"]),
        params=lambda: [p.copy() for p in params],
        notes=[IN_PLACE_NOTE] if in_place else [],
    )


def make_hand_in_place(init: Params, x: np.ndarray, labels: np.ndarray, lr: float) -> Trainer:
    """The hand step with ReLU, the log-softmax shift and SGD's scaling in place."""
    return make_hand(init, x, labels, lr, in_place=True)


# ----------------------------------------------------------------------------------------------
# PyTorch, HIPS autograd, autograd-lite: each the way its users write a training step
# ----------------------------------------------------------------------------------------------
def make_torch(init: Params, x: np.ndarray, labels: np.ndarray, lr: float) -> Trainer:
    """nn.Sequential of Linear and ReLU, F.cross_entropy, optim.SGD; one thread."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as exc:
        raise EngineMissing(f"torch is not installed ({exc})") from None
    torch.set_num_threads(1)
    n_in, n_h1, n_h2, n_out = W5_SIZES
    model = torch.nn.Sequential(
        torch.nn.Linear(n_in, n_h1),
        torch.nn.ReLU(),
        torch.nn.Linear(n_h1, n_h2),
        torch.nn.ReLU(),
        torch.nn.Linear(n_h2, n_out),
    ).to(torch.from_numpy(init[0]).dtype)
    with torch.no_grad():
        for p, a in zip(model.parameters(), init, strict=True):
            p.copy_(torch.from_numpy(a))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    return optimizer_trainer(
        "torch",
        f"{torch.__version__}, {torch.get_num_threads()} thread",
        # from_numpy shares the array's memory: what a DataLoader's batch costs, about nothing.
        lambda: F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(labels)),
        opt,
        lambda: [p.detach().numpy().copy() for p in model.parameters()],
        ["torch: its BLAS is MKL (numpy's is OpenBLAS), so part of a gap is the BLAS"],
    )


def make_hand_torch(init: Params, x: np.ndarray, labels: np.ndarray, lr: float) -> Trainer:
    """The hand step's operations, one for one, on torch tensors (torch's BLAS and kernels,
    no autograd): against the hand numpy step it measures what torch's libraries alone make
    of the same arithmetic, so that torch's own step can be read apart from them."""
    try:
        import torch
    except ImportError as exc:
        raise EngineMissing(f"torch is not installed ({exc})") from None
    torch.set_num_threads(1)
    params = [torch.from_numpy(p.copy()) for p in init]
    xt, lt = torch.from_numpy(x), torch.from_numpy(labels)
    rows = torch.arange(len(labels))
    last: dict[str, float] = {}

    def step_grads() -> list[Any]:
        w1, b1, w2, b2, w3, b3 = params
        h1 = xt @ w1.T
        h1 += b1
        h1 = h1.clamp(min=0)
        h2 = h1 @ w2.T
        h2 += b2
        h2 = h2.clamp(min=0)
        z = h2 @ w3.T
        z += b3
        z = z - z.max(dim=1, keepdim=True).values
        dz = z.exp()
        s = dz.sum(dim=1, keepdim=True)
        last["loss"] = float(s.log().mean() - z[rows, lt].mean())
        dz /= s
        dz[rows, lt] -= 1.0
        dz *= 1.0 / len(labels)
        d2 = dz @ w3
        d2 *= h2 > 0
        d1 = d2 @ w2
        d1 *= h1 > 0
        return [d1.T @ xt, d1.sum(0), d2.T @ h1, d2.sum(0), dz.T @ h2, dz.sum(0)]

    def update(grads: list[Any]) -> None:
        for p, g in zip(params, grads):
            p -= lr * g

    return Trainer(
        HAND_TORCH,
        f"torch {torch.__version__}",
        [("forward+backward", lambda _: step_grads()), ("update", update)],
        loss=lambda: last["loss"],
        params=lambda: [p.numpy().copy() for p in params],
        notes=[
            "hand-torch: the hand step's operations on torch tensors (torch's BLAS, MKL, and "
            "kernels; no autograd): hand-torch / hand is what torch's libraries alone give"
        ],
    )


def make_hips(init: Params, x: np.ndarray, labels: np.ndarray, lr: float) -> Trainer:
    """HIPS autograd: autograd.numpy forward, value_and_grad of a loss of a list of params."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError as exc:
        raise EngineMissing(f"autograd (HIPS) is not installed ({exc})") from None
    from importlib.metadata import version

    params = [p.copy() for p in init]

    def loss_fn(ps: list[Any], x: Any, labels: Any) -> Any:
        w1, b1, w2, b2, w3, b3 = ps
        h1 = anp.maximum(x @ w1.T + b1, 0.0)
        h2 = anp.maximum(h1 @ w2.T + b2, 0.0)
        z = h2 @ w3.T + b3
        z = z - anp.max(z, axis=1, keepdims=True)
        logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.mean(logp[anp.arange(len(labels)), labels])

    value_and_grad = autograd.value_and_grad(loss_fn)
    last: dict[str, Any] = {}

    def forward_backward(_: object) -> list[Any]:
        loss, grads = value_and_grad(params, x, labels)
        last["loss"] = loss
        return list(grads)

    def update(grads: list[Any]) -> None:
        for p, g in zip(params, grads):
            p -= lr * g

    return Trainer(
        "hips-autograd",
        version("autograd"),
        [("forward+backward", forward_backward), ("update", update)],
        loss=lambda: float(last["loss"]),
        params=lambda: [p.copy() for p in params],
        notes=["hips-autograd: value_and_grad traces forward and backward in one call"],
    )


BATCH_NOTE = (
    "autograd-lite: the batch is a constant Tensor made once, as a data set kept in a Tensor "
    "and indexed per step (docs/tensors.md) hands it over: its array is read-only, so the "
    "graph uses it without a copy (torch's from_numpy shares the array, the hand step uses "
    "it as it is). A numpy array given to the model is copied into the graph at each step "
    "instead, so that a later write into it cannot change a gradient: one pass and one "
    "batch-sized array more"
)
"""Why autograd-lite's interpreted trainers take the batch as a Tensor made before the steps."""


def _load_autograd_lite() -> Any:
    import autograd_lite as al  # this checkout's: tensors.py has no other tree to compare

    return al


def make_autograd_lite(init: Params, x: np.ndarray, labels: np.ndarray, lr: float) -> Trainer:
    """autograd-lite's Tensor as its users write the step: nn.Sequential of nn.Linear and
    nn.ReLU, nn.cross_entropy, nn.SGD with zero_grad()."""
    return _autograd_lite_nn(_load_autograd_lite(), init, x, labels, lr)


def make_autograd_lite_ops(init: Params, x: np.ndarray, labels: np.ndarray, lr: float) -> Trainer:
    """The step in Tensor ops only, without nn: what writing it by hand on the Tensor core
    costs against nn's one-node Linear and cross_entropy."""
    al = _load_autograd_lite()
    trainer = _autograd_lite_ops(al, init, x, labels, lr)
    trainer.name = "autograd-lite-ops"
    trainer.notes.append(
        "autograd-lite-ops: the step in Tensor ops, no nn: relu(x @ W.T + b), "
        "-log_softmax(z)[rows, labels].mean(), backward(retain_graph=False), "
        "p.data -= lr * p.grad"
    )
    return trainer


def _autograd_lite_ops(
    al: Any, init: Params, x: np.ndarray, labels: np.ndarray, lr: float
) -> Trainer:
    """The step written with Tensor ops only (no nn), as a user of the Tensor core writes it."""
    from autograd_lite import Tensor

    dtype = init[0].dtype
    # dtype= matters: Tensor(array) stores float64 whatever the array's dtype.
    params = [Tensor(a, dtype=dtype) for a in init]
    w1, b1, w2, b2, w3, b3 = params

    def layer(h: Any, w: Any, b: Any) -> Any:
        return h @ w.T + b

    last: dict[str, Any] = {}
    # The batch as a constant Tensor, made once as a data pipeline hands it over (see
    # BATCH_NOTE); its array is read-only, so the graph need not copy it.
    xt = Tensor(x, requires_grad=False, dtype=dtype)

    def forward(_: object) -> Any:
        h = layer(xt, w1, b1).relu()
        h = layer(h, w2, b2).relu()
        z = layer(h, w3, b3)
        loss = -z.log_softmax(axis=1)[np.arange(len(labels)), labels].mean()
        last["loss"] = loss
        return loss

    def backward(loss: Any) -> None:
        loss.backward(retain_graph=False)  # docs/tensors.md's training loop

    def update(_: object) -> None:
        for p in params:
            p.data -= lr * p.grad  # in place (the operator writes and stamps the array)
            p.grad = None

    return Trainer(
        "autograd-lite",
        al.__version__,
        [("forward", forward), ("backward", backward), ("update", update)],
        loss=lambda: float(last["loss"].item()),
        params=lambda: [p.data.copy() for p in params],
    )


def make_autograd_lite_compiled(
    init: Params, x: np.ndarray, labels: np.ndarray, lr: float
) -> Trainer:
    """nn's step compiled once (compile_grad, the batch and labels as args, untimed), then
    per step: the compiled function on the parameters (Tensors, which stand for their data:
    docs/codegen.md), the batch and the labels, and SGD written as the hand step writes it
    (the gradients are the call's own arrays)."""
    al = _load_autograd_lite()
    from autograd_lite import Tensor, compile_grad, nn

    model, ps = _nn_model(init)
    batch = Tensor(x, requires_grad=False, dtype=init[0].dtype)
    step = compile_grad(nn.cross_entropy(model(batch), labels), ps, args=[batch, labels])
    last: dict[str, Any] = {}

    def forward_backward(_: object) -> Any:
        last["loss"], grads = step(*ps, x, labels)
        return grads

    def update(grads: Any) -> None:
        for p, g in zip(ps, grads):
            g *= lr
            p.data -= g  # in place (the operator writes and stamps the array)

    return Trainer(
        "autograd-lite-compiled",
        al.__version__,
        [("forward+backward", forward_backward), ("update", update)],
        loss=lambda: float(last["loss"]),
        params=lambda: [np.array(p.data, copy=True) for p in ps],
        notes=[
            "autograd-lite-compiled: compile_grad of the nn step, batch and labels as args "
            "(compiled once, untimed); per step step(*params, x, labels) and "
            "p.data -= lr * g in place"
        ],
    )


def _nn_model(init: Params) -> tuple[Any, list[Any]]:
    """nn.Sequential of W5's shape holding the shared initial weights, and its parameters."""
    from autograd_lite import nn

    dtype = init[0].dtype
    rng = np.random.default_rng(0)  # the layers' own init; replaced by the shared weights below
    n_in, n_h1, n_h2, n_out = W5_SIZES
    model = nn.Sequential(
        nn.Linear(n_in, n_h1, rng=rng),
        nn.ReLU(),
        nn.Linear(n_h1, n_h2, rng=rng),
        nn.ReLU(),
        nn.Linear(n_h2, n_out, rng=rng),
    )
    model.to(dtype)  # nn.Linear makes float64 parameters unless told
    ps = list(model.parameters())
    shapes = [tuple(p.shape) for p in ps]
    if shapes != [a.shape for a in init]:
        raise SystemExit(f"autograd-lite: parameter shapes {shapes}, want W1, b1, ... (out, in)")
    for p, a in zip(ps, init):
        p.data = a  # the shared initial weights, copied (the setter keeps the dtype)
        if p.dtype != dtype:
            raise SystemExit(f"autograd-lite: model.to({dtype}) left a {p.dtype} parameter")
    return model, ps


def _autograd_lite_nn(
    al: Any, init: Params, x: np.ndarray, labels: np.ndarray, lr: float
) -> Trainer:
    """The step as announced: nn.Sequential, nn.cross_entropy, nn.SGD."""
    from autograd_lite import Tensor, nn

    model, ps = _nn_model(init)
    batch = Tensor(x, requires_grad=False, dtype=init[0].dtype)  # made once: see BATCH_NOTE
    return optimizer_trainer(
        "autograd-lite",
        al.__version__,
        lambda: nn.cross_entropy(model(batch), labels),
        nn.SGD(ps, lr=lr),
        lambda: [np.array(p.data, copy=True) for p in ps],
        [BATCH_NOTE],
        # The training loop docs/tensors.md documents: the graph is released by backward.
        backward_options={"retain_graph": False},
    )


MAKERS: dict[str, Callable[[Params, np.ndarray, np.ndarray, float], Trainer]] = {
    "autograd-lite": make_autograd_lite,
    "autograd-lite-ops": make_autograd_lite_ops,
    "autograd-lite-compiled": make_autograd_lite_compiled,
    "torch": make_torch,
    HAND_TORCH: make_hand_torch,
    "hips-autograd": make_hips,
    HAND_IN_PLACE: make_hand_in_place,
    HAND: make_hand,
}


def make_trainer(
    name: str, init: Params, x: np.ndarray, labels: np.ndarray, lr: float = W5_LR
) -> Trainer:
    """The named engine set up on (copies of) `init`, for steps on the batch (x, labels)."""
    return MAKERS[name](init, x, labels, lr)


# -- the check before timing: every engine against the hand step ------------------------------

RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}
"""How closely an engine's loss and updated weights must agree with the hand step's."""


class Disagreement(AssertionError):
    """An engine's step does not match the hand-written step: its timings would mean nothing."""


def _rel(got: np.ndarray, want: np.ndarray) -> float:
    """max |got - want| / max |want|: a relative error at the array's own scale."""
    scale = float(np.max(np.abs(want))) or 1.0
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - want))) / scale


def check_against(ref: Trainer, other: Trainer, init: Params, rtol: float) -> str:
    """Compare `other`'s loss, updated weights and updates (new - initial) with `ref`'s.

    Both must have made exactly one step from `init`. The updates are compared too because
    lr * grad is small next to the weights: a wrong gradient could hide under the weights'
    tolerance. Raises `Disagreement` naming the worst array; returns a one-line note.
    """
    want_loss, got_loss = ref.loss(), other.loss()
    worst = {"loss": abs(got_loss - want_loss) / max(abs(want_loss), 1e-30)}
    names = ["W1", "b1", "W2", "b2", "W3", "b3"]
    for name, g, w, p0 in zip(names, other.params(), ref.params(), init):
        if g.shape != w.shape:
            raise Disagreement(
                f"{other.name}: {name} has shape {g.shape}, the hand step's {w.shape}"
            )
        worst[name] = _rel(g, w)
        worst[f"update of {name}"] = _rel(np.asarray(g, np.float64) - p0, w.astype(np.float64) - p0)
    key = max(worst, key=lambda k: worst[k])
    if not worst[key] <= rtol:  # also catches NaN
        raise Disagreement(
            f"{other.name} disagrees with the {ref.name} step after one step: {key} differs by "
            f"{worst[key]:.2e} relative (tolerance {rtol:g}); loss {got_loss!r} vs {want_loss!r}"
        )
    return f"{other.name}: matches the {ref.name} step (worst: {key}, {worst[key]:.1e} relative)"


def check_finite(trainer: Trainer) -> str | None:
    """After timing: a note if the engine's loss or weights stopped being finite (NaN or
    infinity, whose arithmetic can be slower), else None."""
    if math.isfinite(trainer.loss()) and all(np.isfinite(p).all() for p in trainer.params()):
        return None
    return f"{trainer.name}: loss or weights are not finite after the timed steps"
