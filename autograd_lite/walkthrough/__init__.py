"""The worked example this project started from: its network, hand derivation and numbers.

network.py builds the document's network from Values; hand.py redoes the document's steps in
plain floats; document.py holds what the document prints; compare.py lines the three up;
training.py runs SGD steps; report.py and cli.py are the `autograd-lite` command.
"""

from .compare import Comparison, Row, autodiff_quantities, compare, is_document_setup
from .document import DOCUMENT_PRINTED, QUANTITY_TITLES, SECTIONS
from .hand import HandDerivation, hand_derivation
from .network import (
    DOCUMENT_ETA,
    DOCUMENT_INPUTS,
    INPUT_NAMES,
    PARAMETERS,
    Inputs,
    Network,
    build_network,
)
from .training import Training, train

__all__ = [
    "DOCUMENT_ETA",
    "DOCUMENT_INPUTS",
    "DOCUMENT_PRINTED",
    "INPUT_NAMES",
    "PARAMETERS",
    "QUANTITY_TITLES",
    "SECTIONS",
    "Comparison",
    "HandDerivation",
    "Inputs",
    "Network",
    "Row",
    "Training",
    "autodiff_quantities",
    "build_network",
    "compare",
    "hand_derivation",
    "is_document_setup",
    "train",
]
