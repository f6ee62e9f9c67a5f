"""The worked example's network, built as `MLP(1, [1, 1])`, reproduces the document exactly.

Independent references: `autograd_lite.walkthrough.hand_derivation()` (the document's steps
redone in plain floats), the exact table of shared/seed/backprop_worked_example.en.md
(copied below to its 10 printed decimals), and the document's printed, rounded numbers.
"""

from __future__ import annotations

import pytest

from autograd_lite import Value, graph_nodes
from autograd_lite.nn import MLP, SGD, half_squared_error
from autograd_lite.walkthrough import (
    DOCUMENT_ETA,
    DOCUMENT_INPUTS,
    DOCUMENT_PRINTED,
    Network,
    autodiff_quantities,
    hand_derivation,
)
from tests.reference import EXACT_TABLE

NAMES = {
    "w1": "layers.0.neurons.0.w.0",
    "b1": "layers.0.neurons.0.b",
    "w2": "layers.1.neurons.0.w.0",
    "b2": "layers.1.neurons.0.b",
}


def document_mlp() -> MLP:
    model = MLP(1, [1, 1], activation="sigmoid", last_activation="sigmoid", rng=0)
    model.load_state_dict({NAMES[k]: DOCUMENT_INPUTS.parameters[k] for k in NAMES})
    return model


def run_document() -> tuple[MLP, Network]:
    """Forward and backward through the MLP; its nodes gathered as the document's Network."""
    model = document_mlp()
    x, y = Value(DOCUMENT_INPUTS.x), Value(DOCUMENT_INPUTS.y)
    (y_hat,) = model([x])
    loss = half_squared_error(y_hat, y)
    model.zero_grad()
    loss.backward()
    # y_hat = sigmoid(z2), z2 = b2 + w2*h, h = sigmoid(z1), z1 = b1 + w1*x
    (z2,) = y_hat.operands
    b2, prod2 = z2.operands
    w2, h = prod2.operands
    (z1,) = h.operands
    b1, prod1 = z1.operands
    w1, x_node = prod1.operands
    p = dict(model.named_parameters())
    assert (w1, b1, w2, b2) == tuple(p[NAMES[k]] for k in ("w1", "b1", "w2", "b2"))
    assert x_node is x
    return model, Network(x, y, w1, b1, w2, b2, z1, h, z2, y_hat, loss)


def test_graph_has_no_needless_nodes() -> None:
    # reference: the document's graph: x, w1, b1, x*w1, z1, h, w2, h*w2, b2, z2, y_hat
    _, net = run_document()
    assert len(graph_nodes(net.y_hat)) == 11


def test_forward_and_gradients_match_hand_derivation() -> None:
    _, net = run_document()
    got = autodiff_quantities(net, DOCUMENT_ETA)
    hand = hand_derivation().as_dict()
    assert got.keys() == hand.keys()
    for k in hand:
        assert got[k] == pytest.approx(hand[k], abs=1e-12, rel=0), k


def test_sgd_step_gives_the_documents_new_weights() -> None:
    model, _ = run_document()
    SGD(model.parameters(), lr=DOCUMENT_ETA).step()
    hand = hand_derivation()
    new = model.state_dict()
    assert new[NAMES["w1"]] == pytest.approx(hand.w1_new, abs=1e-12, rel=0)
    assert new[NAMES["b1"]] == pytest.approx(hand.b1_new, abs=1e-12, rel=0)
    assert new[NAMES["w2"]] == pytest.approx(hand.w2_new, abs=1e-12, rel=0)
    assert new[NAMES["b2"]] == pytest.approx(hand.b2_new, abs=1e-12, rel=0)


def test_matches_the_exact_table_of_the_document() -> None:
    model, net = run_document()
    got = autodiff_quantities(net, DOCUMENT_ETA)
    SGD(model.parameters(), lr=DOCUMENT_ETA).step()
    new = model.state_dict()
    got.update({f"{k}_new": new[NAMES[k]] for k in NAMES})
    for k, v in EXACT_TABLE.items():
        assert got[k] == pytest.approx(v, abs=5.1e-11, rel=0), k  # table rounds to 1e-10


def test_matches_the_printed_numbers_to_their_rounding() -> None:
    # The document rounds intermediates (delta2 is 0.17% off); 0.5% covers every quantity.
    _, net = run_document()
    got = autodiff_quantities(net, DOCUMENT_ETA)
    for k, v in DOCUMENT_PRINTED.items():
        assert got[k] == pytest.approx(v, rel=5e-3), k
