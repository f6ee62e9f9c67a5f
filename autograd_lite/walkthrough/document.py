"""What the document prints: its numbers, its formulas, and the sections they stand in.

Copied from shared/seed/backprop_worked_example.en.md (the English rendition of the Russian
original): each number as printed in sections 1-4, which is also the "printed" column of the
table in its note on rounding.
"""

from __future__ import annotations

DOCUMENT_PRINTED: dict[str, float] = {
    "z1": 0.5, "h": 0.622, "z2": 0.3866, "y_hat": 0.595, "L": 0.082,
    "dL_dy_hat": -0.405, "dy_hat_dz2": 0.241, "delta2": -0.0976,
    "dL_dw2": -0.0607, "dL_db2": -0.0976, "dL_dh": -0.0293, "dh_dz1": 0.235,
    "delta1": -0.00688, "dL_dw1": -0.00688, "dL_db1": -0.00688,
    "w2_new": 0.30607, "b2_new": 0.20976, "w1_new": 0.400688, "b1_new": 0.100688,
}  # fmt: skip
"""Every number as the document prints it (it rounds intermediates before using them)."""

QUANTITY_TITLES: dict[str, str] = {
    "z1": "z1 = x*w1 + b1", "h": "h = sigmoid(z1)", "z2": "z2 = h*w2 + b2",
    "y_hat": "y_hat = sigmoid(z2)", "L": "L = 1/2 (y - y_hat)^2",
    "dL_dy_hat": "dL/dy_hat = y_hat - y", "dy_hat_dz2": "dy_hat/dz2 = y_hat (1 - y_hat)",
    "delta2": "delta2 = dL/dz2", "dL_dw2": "dL/dw2 = delta2 * h", "dL_db2": "dL/db2 = delta2",
    "dL_dh": "dL/dh = delta2 * w2", "dh_dz1": "dh/dz1 = h (1 - h)",
    "delta1": "delta1 = dL/dz1", "dL_dw1": "dL/dw1 = delta1 * x", "dL_db1": "dL/db1 = delta1",
    "w2_new": "w2_new = w2 - eta dL/dw2", "b2_new": "b2_new = b2 - eta dL/db2",
    "w1_new": "w1_new = w1 - eta dL/dw1", "b1_new": "b1_new = b1 - eta dL/db1",
}  # fmt: skip
"""Each quantity's formula, in the document's notation and order."""

SECTIONS: list[tuple[str, list[str]]] = [
    ("1. Forward pass", ["z1", "h", "z2", "y_hat"]),
    ("2. Loss", ["L"]),
    (
        "3. Backpropagation",
        [
            *("dL_dy_hat", "dy_hat_dz2", "delta2", "dL_dw2", "dL_db2"),
            *("dL_dh", "dh_dz1", "delta1", "dL_dw1", "dL_db1"),
        ],
    ),
    ("4. SGD update", ["w2_new", "b2_new", "w1_new", "b1_new"]),
]
"""The document's sections and, in its order, the quantities each shows."""
