"""autograd-lite: a small, exact reverse-mode automatic-differentiation engine.

Build an expression from `Value` objects, call `backward()`, read `.grad`; draw the graph;
compare with a derivation done by hand.
"""

from .codegen import CodegenError, backward_code, compile_grad
from .derivation import (
    GradientMismatch,
    GradientReport,
    assert_gradients_match,
    compare_gradients,
)
from .engine import ops
from .engine.backward import grad, graph_nodes, local_derivatives, zero_grad
from .engine.dual import Dual
from .engine.grad_mode import ScopeBlock, enable_grad, is_grad_enabled, no_grad, scope
from .engine.node import DomainError, Node, Op, StaleDataError
from .engine.release import ReleasedGradientError, ReleasedGraphError
from .engine.tensor import Tensor, concatenate, maximum, minimum, stack, where
from .engine.value import Number, Operand, Value
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .render import (
    GraphTooLargeError,
    RenderError,
    backward_steps,
    draw_graph,
    explore,
    format_backward_steps,
    render_graph,
)
from .rulecheck import RuleFault, find_wrong_rule
from .transforms import hessian, hvp, jacobian, jvp, vjp

__version__ = "0.1.0"

__all__ = [
    "CodegenError",
    "DomainError",
    "Dual",
    "GradcheckError",
    "GradientMismatch",
    "GradientReport",
    "GraphTooLargeError",
    "Node",
    "Number",
    "Op",
    "Operand",
    "ReleasedGradientError",
    "ReleasedGraphError",
    "RenderError",
    "RuleFault",
    "ScopeBlock",
    "StaleDataError",
    "Tensor",
    "Value",
    "__version__",
    "assert_gradients_match",
    "backward_code",
    "backward_steps",
    "compare_gradients",
    "compile_grad",
    "concatenate",
    "draw_graph",
    "enable_grad",
    "explore",
    "find_wrong_rule",
    "format_backward_steps",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph_nodes",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "local_derivatives",
    "maximum",
    "minimum",
    "no_grad",
    "ops",
    "render_graph",
    "scope",
    "stack",
    "vjp",
    "where",
    "zero_grad",
]
