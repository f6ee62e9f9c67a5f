"""The engine: nodes and ops (node.py), the op table (ops.py), the walk (backward.py),
recording modes (grad_mode.py) and the scalar node type (value.py). Imports run one way:
grad_mode <- node <- ops, backward <- value."""
