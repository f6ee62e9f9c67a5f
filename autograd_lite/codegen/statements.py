"""The statements of a recorded graph's function: its forward pass, then its backward pass.

The forward pass is one statement per op node, in `graph_nodes` order, from the op's emit
form. The backward pass follows `backward_order` (engine/steps.py), which yields every
chain-rule step in exactly `backward()`'s order; each share is the node's own derivative rule
(`Node.rule`) run on `Sym`s, so it is written with the rule's operations in the rule's order,
and a share that is not an operand's first is added as `d_x = d_x + share`, as `backward()`
adds it. Running the code therefore repeats the engine's float operations one for one.

A rule is traced once per rule and kind of operands (type, shape, dtype) and reused as a
template for the other nodes that run it (templates.py). Nodes that depend on no input
(constants, leaves not asked for, what is computed from them only) are written as their
recorded values (copies taken now, so that later changes to the graph's arrays do not reach
the function).
Statements refer to values by tokens (tokens.py); layout.py names them and lays out the text.
User text (an op's display) reaches only comments, kept to one line by `notation.formula`;
params reach the code as literals (literals.py).

The compact form (for `compile_grad`) writes each operand's gradient as one sum of its shares
in the same order, so that layout.py can put a value used once into the expression that uses
it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..engine.node import Node, Op
from ..engine.steps import BackwardStep, backward_order
from ..notation import formula
from ..validate import describe, real
from .forms import Forms, Helpers
from .literals import ATOM, CONDITIONAL, SUM, CodegenError, check_writable, dtype_text, literal
from .names import identifier
from .symbols import Sym, example_of
from .templates import Template, fill, kind_of, op_name, trace
from .tokens import TOKEN, token

__all__ = ["Stmt", "Var", "Writer", "paren", "ufunc_call"]

_SIMPLE = re.compile("\x00\\d+\x00|[\\w.]+")  # a value or a number: used as it is, not copied
Share = tuple[str, int] | None
"""A share's source and precedence (None for an operand that takes no gradient)."""
SUM_TERMS = 32
"""The most shares summed in one statement of the compact form."""


class Var:
    """A value of the generated function: an input ("x"), a module constant ("c"), an
    intermediate ("t") or a gradient ("d_t"). Statements hold its token until it is named."""

    __slots__ = ("hint", "kind", "name", "of", "token")

    def __init__(self, token: str, hint: str | None, kind: str, of: Var | None = None) -> None:
        self.token = token  # tokens.token(n)
        self.hint = hint  # an identifier made from a label
        self.kind = kind  # "x", "c", "t", "d_t": the prefix of numbered names
        self.of = of  # for a gradient: the value it is the gradient of
        self.name: str | None = None


Stmt = tuple[Var | None, str, int, str | None, bool]
"""A statement: its target (None for a domain check or the return), its code, the code's
precedence, a comment, and whether it belongs to the backward pass."""


def paren(text: str, prec: int, least: int = ATOM) -> str:
    """text, in parentheses if its precedence is below `least` (what its place needs)."""
    return text if prec >= least else f"({text})"


class Writer:
    """One graph's function, being written (the `Tracer` that Syms ask)."""

    def __init__(self, root: Node, compact: bool, short: bool = False) -> None:
        self.root = root
        self.compact = compact
        self.short = short  # names for the compiler only: numbered, from no label
        self.tensor = not isinstance(root._data, float)
        self.vars: list[Var] = []
        self.stmts: list[Stmt] = []
        self.forms: dict[Op, Forms] = {}
        self.helpers = Helpers()
        self.value_of: dict[Node, Var] = {}  # the variable of each node that depends on inputs
        self.frozen_texts: dict[Node, str] = {}  # the source of each node that does not
        self.constants: dict[int, tuple[Var, Any, Any]] = {}  # id(array) -> (var, copy, array)
        self.templates: dict[tuple[Any, ...], list[tuple[Template, int] | None]] = {}
        self.final: dict[Node, Any] = {}  # each node's gradient at the recorded values
        self.returned: list[Any] = []  # the return statement's parts, for wrapping it
        # compact form: the code of each gradient's statement, by token (see `_fresh`)
        self.grad_code: dict[str, str] = {}
        # compile_grad's args: arrays the function takes (id -> its parameter), the nodes
        # that read one through their op's params (computed, never frozen), and the nodes
        # that depend on a differentiated input (the only ones that take a gradient)
        self.arg_arrays: dict[int, Var] = {}
        self.live: set[Node] = set()
        self.held: set[int] = set()  # ids of the arrays the live nodes' ops hold
        self.watching: Op | None = None  # a live node's op, while its code is written
        self.wrt: set[Node] = set()

    # -- values ------------------------------------------------------------------------------
    def var(self, hint: str | None, kind: str, of: Var | None = None) -> Var:
        """A new value of the function (see `Var`), with the next token."""
        v = Var(token(len(self.vars)), hint, kind, of)
        self.vars.append(v)
        return v

    def array(self, a: np.ndarray[Any, Any], label: str | None = None) -> str:
        """The token of a module-level constant holding the array a as it is now (one per
        array): a read-only copy, so that what is written later into a's memory (an
        optimizer's step, `W.data += 1`) does not reach the function."""
        arg = self.arg_arrays.get(id(a))
        if arg is not None:  # given anew at each call
            return arg.token
        found = self.constants.get(id(a))
        if found is None:
            check_writable(a)  # here, where the op that holds it can be named
            if self.watching is not None and id(a) not in self.held:
                raise CodegenError(
                    f"op {self.watching.name!r} holds an array given as an arg, and its code "
                    f"or derivative rule computes another array from it in numpy, which "
                    f"generated code would hold as recorded; it cannot take that array as "
                    f"an arg (compile for each value instead)"
                )
            v = self.var(identifier(label) if label else None, "c")
            copy = np.array(a, copy=True)
            copy.flags.writeable = False
            found = self.constants[id(a)] = (v, copy, a)  # a is kept: its id stays its own
        return found[0].token

    def source(self, x: object) -> tuple[str, int]:
        """The source of a Sym or a constant, and its precedence (Tracer)."""
        if isinstance(x, Sym):
            return x.code, x.prec
        return literal(x, self.array)

    def frozen(self, node: Node) -> tuple[str, int]:
        """The source of a node that depends on no input: its recorded value."""
        data = node._data
        if not self.tensor:
            return literal(data, self.array)
        if data.ndim:  # (an empty array too: it is no number)
            return self.array(data, node.label), ATOM
        if node.is_constant and data.dtype == np.float64:  # a number mixed in, as written
            return literal(float(data), self.array)  # (numpy reads a float as float64 too)
        return literal(data[()] if data.ndim == 0 else data, self.array)  # np.float32(0.5)

    def operand_text(self, node: Node) -> str:
        """A node's value as an operand: its variable, or its recorded value."""
        v = self.value_of.get(node)
        if v is not None:
            return v.token
        text = self.frozen_texts.get(node)
        if text is None:
            text = self.frozen_texts[node] = paren(*self.frozen(node))
        return text

    def forms_of(self, op: Op) -> Forms:
        """The op's emit forms, read once per op."""
        found = self.forms.get(op)
        if found is None:
            found = self.forms[op] = Forms(op)
        return found

    def apply(self, op: Op, operands: tuple[Any, ...]) -> Sym:
        """op called inside a derivative rule, as Op.__call__ runs it: no domain check,
        forward on floats or array_forward on arrays (Tracer)."""
        examples = [example_of(x) for x in operands]
        example = op(*examples)
        array = any(isinstance(e, (np.ndarray, np.generic)) for e in examples)
        texts = []
        for x, e in zip(operands, examples):
            if isinstance(x, Sym):
                text = paren(x.code, x.prec)
                if not array and type(e) is not float:  # Op.__call__ makes floats of them
                    text = f"float({text})"
            else:
                text = paren(*literal(e if array else real(e, op.name), self.array))
            texts.append(text)
        use = "array" if array else "float"
        forms = self.forms_of(op)
        code = forms.write(use, texts, self.array)
        assert code is not None
        return Sym(self, code, ATOM if forms.atomic[use] else CONDITIONAL, example)

    def emit(
        self,
        target: Var | None,
        code: str,
        prec: int = CONDITIONAL,
        comment: str | None = None,
        backward: bool = False,
    ) -> None:
        """Add a statement (see `Stmt`): `target = code`, or code alone for a check."""
        self.stmts.append((target, code, prec, comment, backward))

    # -- the forward pass --------------------------------------------------------------------
    def forward(self, nodes: list[Node]) -> None:
        """One statement per op node that depends on an input (its domain check first, if
        it has one), in the order of `nodes` (graph_nodes: operands first)."""
        value_of = self.value_of
        tensor = self.tensor
        use, check_use = ("array", "array_check") if tensor else ("float", "check")
        stmts = self.stmts
        vars_ = self.vars
        text = self.operand_text
        known: dict[Op, tuple[Callable[..., str] | None, int, bool]] = {}  # writer, prec, check
        live, wrt = self.live, self.wrt
        for node in nodes:
            operands = node.operands
            if not operands or node in value_of:
                continue
            if len(operands) == 2:  # the common case, without a generator
                a, b = operands
                va, vb = value_of.get(a), value_of.get(b)
                if va is None and vb is None and node not in live:
                    continue  # depends on no input: its recorded value is written where used
                texts = [va.token if va else text(a), vb.token if vb else text(b)]
            else:
                if not any(x in value_of for x in operands) and node not in live:
                    continue
                texts = [text(x) for x in operands]
            op = node.op
            assert op is not None  # (a node with operands)
            if node in live:  # what its code makes of an arg array must be written, not held
                self.watching, found = op, None
            else:
                found = known.get(op)
            if found is None or found[2]:  # the first node of this op, or a checked op
                forms = self.forms_of(op)
                if (op.array_check if tensor else op.check) is not None:
                    check = forms.write(check_use, texts, self.array)
                    if check is not None:
                        stmts.append((None, check, CONDITIONAL, None, False))
                code = forms.write(use, texts, self.array)
                assert code is not None
                prec = ATOM if forms.atomic[use] else CONDITIONAL
                checks = (op.array_check if tensor else op.check) is not None
                found = known[op] = (forms.fast.get(use), prec, checks or use not in forms.fast)
            else:
                fast, prec, _ = found
                assert fast is not None
                code = fast(*texts)
            self.watching = None
            if tensor:
                code, prec = self._cast(node, op, code, prec)
            label = node.label
            v = Var(token(len(vars_)), identifier(label) if label else None, "t")
            vars_.append(v)
            stmts.append((v, code, prec, None, False))
            value_of[node] = v
            if any(x in wrt for x in operands):
                wrt.add(node)

    def _cast(self, node: Node, op: Op, code: str, prec: int) -> tuple[str, int]:
        """code, cast as the engine casts a forward result of another dtype."""
        raw = op.array_forward(*[x._data for x in node.operands])
        dtype = node._data.dtype
        if np.asarray(raw).dtype == dtype:
            return code, prec
        return f"np.asarray({code}).astype({dtype_text(dtype)})", ATOM

    # -- the backward pass -------------------------------------------------------------------
    def backward(self, seed: Any, held_seed: bool = False) -> dict[Node, str]:
        """The statements of the backward pass; returns each gradient's source (a name or a
        number) by node. `held_seed`: a Tensor seed is a module constant (a read-only copy,
        made once) instead of an array made at each call, `np.full(shape, 1.0, dtype=...)`:
        compile_grad's code, run in this process."""
        root = self.root
        value_of = self.value_of
        rv = value_of[root]
        grads: dict[Node, str] = {}
        self.final[root] = seed  # the root's gradient (it may be an input: compile_grad(W, [W]))
        if self.tensor and held_seed:
            seed_code, seed_prec = self.array(seed), ATOM
        elif self.tensor:
            dtype = dtype_text(seed.dtype)
            seed_code, seed_prec = f"np.full({seed.shape!r}, 1.0, dtype={dtype})", ATOM
        else:
            seed_code, seed_prec = literal(seed, self.array)
        if self.compact and not self.tensor:
            grads[root] = seed_code
        else:
            g = self.var(None, "d_t", rv)
            self.emit(g, seed_code, seed_prec, comment=f"d{rv.token}/d{rv.token}", backward=True)
            grads[root] = g.token
        steps = backward_order(root, seed)
        if self.compact:
            self._compact_steps(steps, grads)
        else:
            self._steps(steps, grads)
        return grads

    def _in_order(
        self, steps: Iterator[BackwardStep], grads: dict[Node, str]
    ) -> Iterator[tuple[BackwardStep, Node, Node, tuple[str, int]]]:
        """(step, operand, result, share's source) for each step to an operand that depends
        on an input, each result's rule traced once, when its gradient is complete."""
        wrt = self.wrt
        shares: dict[Node, list[Share]] = {}
        for step in steps:
            x = step.operand
            if x not in wrt:  # depends on no differentiated input: takes no gradient
                continue
            r = step.result
            found = shares.get(r)
            if found is None:
                found = shares[r] = self._shares(r, grads[r], step)
            yield step, x, r, found[step.index] or self._none(r, step)

    def _steps(self, steps: Iterator[BackwardStep], grads: dict[Node, str]) -> None:
        """One statement per chain-rule step: `d_x = share`, then `d_x = d_x + share`."""
        pending: dict[Node, Var] = {}
        for step, x, r, (text, prec) in self._in_order(steps, grads):
            comment = self._relation(r)
            if step.first:
                g = pending[x] = self.var(None, "d_t", self.value_of[x])
                self.emit(g, text, prec, comment, True)
            else:
                g = pending[x]
                self.emit(g, f"{g.token} + {paren(text, prec, SUM + 1)}", SUM, comment, True)
            if step.complete:
                grads[x] = pending.pop(x).token
                self.final[x] = step.gradient

    def _compact_steps(self, steps: Iterator[BackwardStep], grads: dict[Node, str]) -> None:
        """One statement per gradient: its shares summed in backward()'s order."""
        value_of = self.value_of
        pending: dict[Node, list[tuple[str, int]]] = {}
        vars_, stmts, simple = self.vars, self.stmts, _SIMPLE.fullmatch
        for step, x, _, share in self._in_order(steps, grads):
            if step.first:
                if step.complete:  # the only share, the common case: no sum, perhaps a name
                    text, prec = share
                    if prec >= ATOM and simple(text):
                        grads[x] = text
                    else:
                        v = Var(token(len(vars_)), None, "d_t", value_of[x])
                        vars_.append(v)
                        stmts.append((v, text, prec, None, True))
                        grads[x] = v.token
                        self.grad_code[v.token] = text
                    self.final[x] = step.gradient
                else:
                    pending[x] = [share]
            else:
                terms = pending[x]
                terms.append(share)
                if step.complete:
                    grads[x] = self._sum(x, pending.pop(x))
                    self.final[x] = step.gradient

    @staticmethod
    def _none(r: Node, step: BackwardStep) -> tuple[str, int]:
        raise CodegenError(
            f"the derivative rule of op {op_name(r)!r} gave no gradient for operand "
            f"{step.index}, which depends on an input"
        )

    def _shares(self, node: Node, g: str, step: BackwardStep) -> list[Share]:
        """The sources of the node's shares, one per operand (None for one taking none):
        the template of its rule for this kind of arguments, filled in."""
        rule, operands, data = node.rule, node.operands, node._data
        examples: list[Any] | None = None
        if type(step.upstream) is float and type(data) is float:
            key: tuple[Any, ...] = (rule, len(operands))  # Values: the common case, quickly
        else:
            examples = [step.upstream, data, *[x._data for x in operands]]
            key = (rule, *[kind_of(e) for e in examples])
        args = [g, self.value_of[node].token, *[self.operand_text(x) for x in operands]]
        template = self.templates.get(key)
        if template is None:
            examples = examples or [step.upstream, data, *[x._data for x in operands]]
            self.watching = node.op if node in self.live else None
            template = self.templates[key] = trace(self, node, examples, step)
            self.watching = None
        return [None if t is None else (fill(t[0], args), t[1]) for t in template]

    def _sum(self, node: Node, terms: list[tuple[str, int]]) -> str:
        """The compact form's gradient of node from its shares (two or more): their sum in
        order, in statements of at most SUM_TERMS shares."""
        of = self.value_of[node]
        total: str | None = None
        for start in range(0, len(terms), SUM_TERMS):
            parts = [] if total is None else [total]
            prec = SUM
            for text, prec in terms[start : start + SUM_TERMS]:
                # a + b + c is (a + b) + c: only the first term may be a sum unparenthesised
                parts.append(paren(text, prec, SUM if not parts else SUM + 1))
            g = self.var(None, "d_t", of)
            self.emit(g, " + ".join(parts), SUM if len(parts) > 1 else prec, backward=True)
            total = g.token
        assert total is not None
        self.grad_code[total] = self.stmts[-1][1]
        return total

    def _relation(self, node: Node) -> str:
        """`out = op(operands)` for a comment: what the rule is the derivative of."""
        op = node.op
        assert op is not None  # (a node with operands)
        args = [self.operand_text(x) for x in node.operands]
        return f"{self.value_of[node].token} = {formula(op.display, args)}"

    def _fresh(self, g: str) -> bool:
        """Whether the gradient g (a token), an array of at least one dimension, is a new
        array made by one of Python's operators (`a @ b`, `a * b + c`, `-a`) or a numpy ufunc
        (`np.exp(a)`, `np.add.reduce(a, axis=(0,))`) without `out=`: numpy makes a new array
        for each, so returning it as it is gives an array of its own, without the copy
        `np.array` would make. (Another function or a name may return an operand, an
        argument or a shared array.)"""
        code = self.grad_code.get(g)
        if code is None:
            return False
        tree = ast.parse(TOKEN.sub("_", code), mode="eval").body
        if isinstance(tree, (ast.BinOp, ast.UnaryOp)):
            return True
        return isinstance(tree, ast.Call) and ufunc_call(tree)

    # -- the return statement ----------------------------------------------------------------
    def returns(
        self, output: Node, inputs: Sequence[Node], grads: dict[Node, str], aux: Sequence[Node]
    ) -> None:
        """The return statement: the output, the inputs' gradients (zeros if unreached) and
        the values of the aux nodes, if any."""
        tensor = self.tensor

        def value(node: Node) -> str:  # as the node's .data: a float, or an array of its own
            text = self.operand_text(node)
            return f"np.array({text}, dtype={dtype_text(node._data.dtype)})" if tensor else text

        results = []
        handed: set[str] = set()  # fresh gradients returned as they are, each once
        for x in inputs:
            final = self.final.get(x, 0.0)
            if not tensor:  # grad() makes a float of what a custom rule gave as another number
                results.append(
                    grads.get(x, "0.0") if type(final) is float else f"float({grads[x]})"
                )
                continue
            found = np.asarray(final)  # as backward.py's _accept_gradients reads it
            shape = x._data.shape
            if x in grads and (found.shape != shape or found.dtype.kind != "f"):
                raise CodegenError(
                    f"the gradient of input {x!r} comes out as {describe(final)}, not an array "
                    f"of its shape {shape}: a derivative rule returns shares of another shape. "
                    f"backward() then converts every share as it goes, which generated code "
                    f"does not; give the rule shares of each operand's shape"
                )
            dtype = dtype_text(x._data.dtype)
            fresh = x in grads and shape and found.dtype == x._data.dtype
            if fresh and grads[x] not in handed and self._fresh(grads[x]):
                # a new array of numpy's operator: its own already, unless another input's
                # gradient is that array too (a + b, an input listed twice): that one copies
                handed.add(grads[x])
                results.append(grads[x])
            elif x in grads:  # an array of its own, of the input's dtype, as grad() gives
                results.append(f"np.array({grads[x]}, dtype={dtype})")
            else:
                results.append(f"np.zeros({shape!r}, dtype={dtype})")
        parts = [value(output), _tuple(results)]
        if aux:
            parts.append(_tuple([value(node) for node in aux]))
        self.returned = [value(output), results, [value(node) for node in aux]]
        self.emit(None, "return " + ", ".join(parts))


def ufunc_call(call: ast.Call) -> bool:
    """Whether call is `np.<ufunc>(...)` or `np.<ufunc>.reduce(...)`, without `out=`."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "reduce":
        func = func.value
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return False
    if func.value.id != "np" or any(k.arg == "out" for k in call.keywords):
        return False
    return isinstance(getattr(np, func.attr, None), np.ufunc)


def _tuple(items: list[str]) -> str:
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
