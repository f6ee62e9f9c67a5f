"""autograd-lite: a small, exact reverse-mode automatic-differentiation engine.

Build an expression from `Value` objects, call `backward()`, read `.grad`; draw the graph;
compare with a derivation done by hand.
"""

from .engine import ops
from .engine.backward import grad, graph_nodes, hessian, local_derivatives, zero_grad
from .engine.grad_mode import ScopeBlock, enable_grad, is_grad_enabled, no_grad, scope
from .engine.node import DomainError, Node, Op
from .engine.tensor import Tensor, concatenate, maximum, stack, where
from .engine.value import Number, Operand, Value
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .render import GraphTooLargeError, RenderError, draw_graph, render_graph

__version__ = "0.1.0"

__all__ = [
    "DomainError",
    "GradcheckError",
    "GraphTooLargeError",
    "Node",
    "Number",
    "Op",
    "Operand",
    "RenderError",
    "ScopeBlock",
    "Tensor",
    "Value",
    "__version__",
    "concatenate",
    "draw_graph",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph_nodes",
    "hessian",
    "is_grad_enabled",
    "local_derivatives",
    "maximum",
    "no_grad",
    "ops",
    "render_graph",
    "scope",
    "stack",
    "where",
    "zero_grad",
]
