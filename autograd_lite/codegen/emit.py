"""Writing a recorded graph's forward and backward pass as the statements of one function.

The forward pass is one statement per op node, in `graph_nodes` order, from the op's emit
form. The backward pass follows `backward_order` (engine/steps.py), which yields every
chain-rule step in exactly `backward()`'s order; each share is the node's own derivative rule
run on `Sym`s, so it is written with the rule's operations in the rule's order, and a share
that is not an operand's first is added as `d_x = d_x + share`, as `backward()` adds it.
Running the code therefore repeats the engine's float operations one for one.

A rule is traced once per op and kind of operands (type, shape, dtype) and reused as a
template for the other nodes of that op. Nodes that depend on no input (constants, leaves not
asked for, what is computed from them only) are written as their recorded values (copies
taken now, so that later changes to the graph's arrays do not reach the function).
Statements refer to values by tokens (tokens.py) until the end, when every value is named,
in one pass: labels made identifiers (`ŷ` is `y_hat`), `t1, t2, ...` for the rest, `d_<name>`
for gradients. User text (an op's name and display) reaches only comments, escaped to one
line; params reach the code as literals (literals.py).

The compact form (for `compile_grad`) writes each operand's gradient as one sum of its shares
in the same order, and puts a value used once into the expression that uses it, up to a
bounded weight (a bound on its nesting), so that Python's parser and compiler are never asked
for deep nesting.
"""

from __future__ import annotations

import contextlib
import gc
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.backward import graph_nodes
from ..engine.node import Node, Op
from ..engine.steps import BackwardStep, backward_order
from ..validate import describe, real
from .forms import MODULES, Forms, Helpers
from .literals import ATOM, CONDITIONAL, SUM, CodegenError, array_text, literal
from .names import Names, identifier
from .symbols import Sym, Untraceable
from .tokens import TOKEN, one_line, substitute, token

__all__ = ["Written", "write"]

_SIMPLE = re.compile("\x00\\d+\x00|[\\w.]+")  # a value or a number: used as it is, not copied
_SHORT = re.compile(r"v\d+")  # the names compile_grad gives values
Share = tuple[str, int] | None
"""A share's source and precedence (None for an operand that takes no gradient)."""
Template = tuple[tuple[str, ...], tuple[int, ...]]
"""A traced share's source around the rule's arguments: texts[0], args[ks[0]], texts[1], ..."""
INLINE_DEPTH = 100
"""The most a value folded into its use may weigh (`_weight` of its source, those folded into
it included): Python's parser allows 200 nested parentheses, and its compiler nests about
3000 deep (less under a lower recursion limit)."""
SUM_TERMS = 32
"""The most shares summed in one statement of the compact form."""
COMMENT_COLUMN = 56
"""Where comments start in the backward pass, unless a statement is longer."""


def _arg(k: int) -> str:
    """The placeholder of a rule template's k-th argument (g, out, operands)."""
    return f"\x01{k}\x01"


_ARG = re.compile("\x01(\\d+)\x01")


def _weight(code: str) -> int:
    """A bound on the nesting of an expression: its characters other than letters, digits and
    _. Every level of nesting (a call, subscript, attribute, operator, bracket) takes one."""
    return len(_WORD.sub("", code))


_WORD = re.compile(r"\w+")


def _template(text: str) -> Template:
    """A traced share's source, cut at the placeholders of the rule's arguments."""
    parts = _ARG.split(text)
    return tuple(parts[::2]), tuple(int(k) for k in parts[1::2])


def _fill(template: Template, args: list[str]) -> str:
    """The template's source with the rule's arguments put in (text is not read again)."""
    texts, ks = template
    out = [texts[0]]
    for k, text in zip(ks, texts[1:]):
        out += (args[k], text)
    return "".join(out)


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


@dataclass
class Written:
    """The generated function: its source and what the source's names refer to."""

    source: str  # a module, or the def alone
    helpers: dict[str, Any]  # the objects the def's helper names refer to
    constants: dict[str, Any]  # module-level arrays by name


def _example(x: object) -> Any:
    return x.example if isinstance(x, Sym) else x


def _kind(x: Any) -> object:
    """What a rule may branch on: the type, and an array's shape and dtype."""
    t = type(x)
    if t is float:
        return t
    return (t, np.shape(x), getattr(x, "dtype", None))


def _same(a: Any, b: Any) -> bool:
    """a and b hold the same numbers (nan equal to nan), of the same shape and dtype."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return bool(a == b or (a != a and b != b))


def _paren(text: str, prec: int, least: int = ATOM) -> str:
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
        self.table: dict[str, str] = {}  # each token's text, once written

    # -- values ------------------------------------------------------------------------------
    def var(self, hint: str | None, kind: str, of: Var | None = None) -> Var:
        v = Var(token(len(self.vars)), hint, kind, of)
        self.vars.append(v)
        return v

    def array(self, a: np.ndarray[Any, Any], label: str | None = None) -> str:
        """The token of a module-level constant holding the array a as it is now (one per
        array): a read-only copy, so that what is written later into a's memory (an
        optimizer's step, `W.data += 1`) does not reach the function."""
        found = self.constants.get(id(a))
        if found is None:
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
            return self.array(data, node._label), ATOM
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
            text = self.frozen_texts[node] = _paren(*self.frozen(node))
        return text

    def forms_of(self, op: Op) -> Forms:
        found = self.forms.get(op)
        if found is None:
            found = self.forms[op] = Forms(op)
        return found

    def apply(self, op: Op, operands: tuple[Any, ...]) -> Sym:
        """op called inside a derivative rule, as Op.__call__ runs it: no domain check,
        forward on floats or array_forward on arrays (Tracer)."""
        examples = [_example(x) for x in operands]
        example = op(*examples)
        array = any(isinstance(e, (np.ndarray, np.generic)) for e in examples)
        texts = []
        for x, e in zip(operands, examples):
            if isinstance(x, Sym):
                text = _paren(x.code, x.prec)
                if not array and type(e) is not float:  # Op.__call__ makes floats of them
                    text = f"float({text})"
            else:
                text = _paren(*literal(e if array else real(e, op.name), self.array))
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
        self.stmts.append((target, code, prec, comment, backward))

    # -- the forward pass --------------------------------------------------------------------
    def forward(self, nodes: list[Node]) -> None:
        value_of = self.value_of
        tensor = self.tensor
        use, check_use = ("array", "array_check") if tensor else ("float", "check")
        stmts = self.stmts
        vars_ = self.vars
        text = self.operand_text
        known: dict[Op, tuple[Callable[..., str] | None, int, bool]] = {}  # writer, prec, check
        for node in nodes:
            a, b = node._a, node._b
            if a is None or node in value_of:
                continue
            if b is not None:  # two operands, the common case, without a generator
                va, vb = value_of.get(a), value_of.get(b)
                if va is None and vb is None:
                    continue  # depends on no input: its recorded value is written where used
                texts = [va.token if va else text(a), vb.token if vb else text(b)]
            else:
                operands = node.operands
                if not any(x in value_of for x in operands):
                    continue
                texts = [text(x) for x in operands]
            op = node._op
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
            if tensor:
                code, prec = self._cast(node, code, prec)
            label = node._label
            v = Var(token(len(vars_)), identifier(label) if label else None, "t")
            vars_.append(v)
            stmts.append((v, code, prec, None, False))
            value_of[node] = v

    def _cast(self, node: Node, code: str, prec: int) -> tuple[str, int]:
        """code, cast as the engine casts a forward result of another dtype."""
        raw = node._op.array_forward(*[x._data for x in node.operands])
        dtype = node._data.dtype
        if np.asarray(raw).dtype == dtype:
            return code, prec
        return f"np.asarray({code}).astype({self.source(dtype)[0]})", ATOM

    # -- the backward pass -------------------------------------------------------------------
    def backward(self, seed: Any) -> dict[Node, str]:
        """The statements of the backward pass; returns each gradient's source (a name or a
        number) by node."""
        root = self.root
        value_of = self.value_of
        rv = value_of[root]
        grads: dict[Node, str] = {}
        if self.tensor:
            dtype = self.source(seed.dtype)[0]
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
        value_of = self.value_of
        shares: dict[Node, list[Share]] = {}
        for step in steps:
            x = step.operand
            if x not in value_of:
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
                self.emit(g, f"{g.token} + {_paren(text, prec, SUM + 1)}", SUM, comment, True)
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
            f"the derivative rule of op {r._op.name!r} gave no gradient for operand "
            f"{step.index}, which depends on an input"
        )

    def _shares(self, node: Node, g: str, step: BackwardStep) -> list[Share]:
        """The sources of the node's shares, one per operand (None for one taking none):
        the rule's template for this op and kind of arguments, filled in."""
        op = node._op
        a, b = node._a, node._b
        upstream, data = step.upstream, node._data
        value_of = self.value_of
        if b is not None and type(upstream) is float and type(data) is float:
            key: tuple[Any, ...] = (op, 2)  # two Value operands: the common case, quickly
            va, vb = value_of.get(a), value_of.get(b)
            args = [g, value_of[node].token]
            args.append(va.token if va is not None else self.operand_text(a))
            args.append(vb.token if vb is not None else self.operand_text(b))
        else:
            operands = node.operands
            if type(upstream) is float and type(data) is float:
                key = (op, len(operands))
            else:
                examples = [upstream, data, *[x._data for x in operands]]
                key = (op, *[_kind(e) for e in examples])
            args = [g, value_of[node].token, *[self.operand_text(x) for x in operands]]
        template = self.templates.get(key)
        if template is None:
            examples = [upstream, data, *[x._data for x in node.operands]]
            template = self.templates[key] = self._trace(op, examples, step)
        return [None if t is None else (_fill(t[0], args), t[1]) for t in template]

    def _trace(
        self, op: Op, examples: list[Any], step: BackwardStep
    ) -> list[tuple[Template, int] | None]:
        """The op's rule run on Syms for its arguments (g, out, operands), with the first
        node's values as examples; checked against what the rule gave that node."""
        args = [Sym(self, _arg(k), ATOM, e) for k, e in enumerate(examples)]
        try:
            shares = op.vjp(*args)
        except Untraceable as e:
            raise CodegenError(
                f"the derivative rule of op {op.name!r} cannot be written as code: {e}. Write "
                f"it with arithmetic and ops only (ops.step, ops.relu, ops.maximum for what "
                f"depends on a sign)"
            ) from None
        except CodegenError as e:
            raise CodegenError(f"in the derivative rule of op {op.name!r}: {e}") from None
        except Exception as e:  # the rule met a Sym where it expected a number or an array
            raise CodegenError(
                f"the derivative rule of op {op.name!r} failed when run on the symbolic values "
                f"that write code: {e!r}"
            ) from None
        shares = tuple(shares)
        if not _same(_example(shares[step.index]), step.share):
            raise CodegenError(
                f"the derivative rule of op {op.name!r} gave another value when traced than "
                f"when run; it reads values in a way generated code cannot follow"
            )
        out: list[tuple[Template, int] | None] = []
        for s in shares:
            if s is None:
                out.append(None)
                continue
            text, prec = self.source(s)
            out.append((_template(text), prec))
        return out

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
                parts.append(_paren(text, prec, SUM if not parts else SUM + 1))
            g = self.var(None, "d_t", of)
            self.emit(g, " + ".join(parts), SUM if len(parts) > 1 else prec, backward=True)
            total = g.token
        assert total is not None
        return total

    def _relation(self, node: Node) -> str:
        """`out = op(operands)` for a comment: what the rule is the derivative of."""
        names = [self.operand_text(x) for x in node.operands]
        op = node._op.base
        name, shown = one_line(op.name), one_line(op.display)  # user text, kept to one line
        if name in ("+", "-", "*", "/", "@", "**") and len(names) == 2:
            text = f"{names[0]} {name} {names[1]}"
        elif name == "**":
            text = f"{names[0]} ** {shown[2:]}"
        elif name == "neg":
            text = f"-{names[0]}"
        elif shown.startswith("["):
            text = names[0] + shown
        elif shown.startswith(name + "(") and not any(
            isinstance(p, np.ndarray) for p in op.params.values()
        ):
            text = f"{name}({', '.join(names)}, {shown[len(name) + 1 :]}"
        else:
            text = f"{name}({', '.join(names)})"
        return f"{self.value_of[node].token} = {text}"

    # -- names and text: in the compact form, a value used once goes into its use ---------
    def lines(self, reserved: set[str]) -> list[tuple[str, str | None, bool]]:
        """Each statement as text, with its comment and whether it is of the backward pass,
        after naming every value. In the compact form a value used once is not named: its
        source goes into the expression that uses it, unless that would weigh more than
        INLINE_DEPTH (`_weight`, a bound on its nesting)."""
        names = Names(reserved)
        table: dict[str, str] = {}  # token -> its text
        # Names for the compiler only: v and each value's number, which nothing else takes.
        short = self.short and not any(_SHORT.fullmatch(r) for r in reserved)
        if short:
            for v in self.vars:
                v.name = table[v.token] = "v" + v.token[1:-1]
        for v in self.vars:  # the arguments and module constants first: they have names
            if v.name is not None:
                continue
            if v.kind in ("x", "c"):
                v.name = names.take(v.hint) if v.hint else names.numbered(v.kind)
                table[v.token] = v.name
        uses = Counter(TOKEN.findall("\n".join(s[1] for s in self.stmts)))
        fold = self.compact
        out: list[tuple[str, str | None, bool]] = []
        for target, code, prec, comment, backward in self.stmts:
            code = substitute(code, table)
            if target is None:
                out.append((code, None, backward))
                continue
            key = target.token
            if fold and uses[key] == 1 and _weight(code) <= INLINE_DEPTH:
                table[key] = code if prec >= ATOM else f"({code})"
                continue
            if target.name is None:  # (a gradient accumulated in place is named once)
                target.name = table[key] = self._name(target, names)
            elif short:
                table[key] = target.name
            text = f"{target.name} = {code}"
            out.append((text, substitute(comment, table) if comment else None, backward))
        self.table = table
        return out

    def _name(self, v: Var, names: Names) -> str:
        if v.kind == "d_t":
            of = v.of
            base = (of.name or of.hint) if of is not None else None
            return names.take(f"d_{base}") if base else names.numbered(v.kind)
        return names.take(v.hint) if v.hint else names.numbered(v.kind)


@contextlib.contextmanager
def _no_collector() -> Iterator[None]:
    """The cyclic garbage collector paused: writing allocates a few objects per node, which
    start it again and again, and each full pass walks the whole graph (about an eighth of
    the time of compiling a 66k-node graph). What is written makes no cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def write(
    output: Node,
    inputs: Sequence[Node],
    name: str,
    *,
    compact: bool,
    standalone: bool,
    max_nodes: int,
    prologue: Callable[[list[str]], list[str]] | None = None,
    reserved: frozenset[str] = frozenset(),
    short_names: bool = False,
    aux: Sequence[Node] = (),
) -> Written:
    """The function computing output and its gradient with respect to inputs (leaves), as a
    whole module's source (`standalone`: helpers and constants written out) or as the def
    alone, with `prologue(params)`'s lines first (compile_grad's checks of its arguments).
    With `aux`, nodes of the graph, the function also returns their values, as a tuple."""
    with _no_collector():
        nodes = graph_nodes(output)
        if len(nodes) > max_nodes:
            raise CodegenError(
                f"the graph has {len(nodes):,} nodes, more than max_nodes={max_nodes:,}: writing "
                f"and compiling it as code would take long (about 15 s and 1.5 GB of memory per "
                f"million nodes); pass max_nodes={len(nodes)} to write it anyway"
            )
        w = Writer(output, compact, short_names)
        for x in inputs:
            w.value_of[x] = w.var(identifier(x._label) if x._label else None, "x")
        with np.errstate(all="ignore"):  # inf and nan are values here, as in the engine
            w.forward(nodes)
            grads = w.backward(_seed(output)) if output in w.value_of else {}
        _return(w, output, inputs, grads, aux)
        for forms in w.forms.values():
            w.helpers.add_uses(forms)
        helper_text = w.helpers.collect() if standalone else None
        if name in w.helpers.names():
            raise ValueError(f"backward_code: name {name!r} is the name of a helper the code calls")
        lines = w.lines(set(MODULES) | w.helpers.names() | {name} | set(reserved))
        params = [w.value_of[x].name or "" for x in inputs]
        what = _output_name(w, output)
        text = "\n".join(_body(w, name, params, what, prologue, lines)) + "\n"
        constants = {v.name or "": copy for v, copy, _ in w.constants.values()}
        if standalone:
            assert helper_text is not None
            text = _module(name, params, what, text, helper_text, constants)
        return Written(text, w.helpers.objects, constants)


def _seed(output: Node) -> Any:
    data = output._data
    if isinstance(data, float):
        return 1.0
    return np.full(data.shape, 1.0, dtype=data.dtype)


def _return(
    w: Writer, output: Node, inputs: Sequence[Node], grads: dict[Node, str], aux: Sequence[Node]
) -> None:
    """The return statement: the output, the inputs' gradients (zeros if unreached) and the
    values of the aux nodes, if any."""
    tensor = w.tensor

    def value(node: Node) -> str:  # as the node's .data: a float, or an array of its own
        text = w.operand_text(node)
        return f"np.array({text}, dtype={w.source(node._data.dtype)[0]})" if tensor else text

    results = []
    for x in inputs:
        final = w.final.get(x, 0.0)
        if not tensor:  # grad() makes a float of what a custom rule gave as another number
            results.append(grads.get(x, "0.0") if type(final) is float else f"float({grads[x]})")
            continue
        found = np.asarray(final)  # as backward.py's _accept_gradients reads it
        if x in grads and (found.shape != x._data.shape or found.dtype.kind != "f"):
            raise CodegenError(
                f"the gradient of input {x!r} comes out as {describe(final)}, not an array of "
                f"its shape {x._data.shape}: a derivative rule returns shares of another shape. "
                f"backward() then converts every share as it goes, which generated code does "
                f"not; give the rule shares of each operand's shape"
            )
        dtype = w.source(x._data.dtype)[0]
        if x in grads:  # an array of its own, of the input's dtype, as grad() gives
            results.append(f"np.array({grads[x]}, dtype={dtype})")
        else:
            results.append(f"np.zeros({x._data.shape!r}, dtype={dtype})")
    parts = [value(output), _tuple(results)]
    if aux:
        parts.append(_tuple([value(node) for node in aux]))
    w.returned = [value(output), results, [value(node) for node in aux]]
    w.emit(None, "return " + ", ".join(parts))


def _tuple(items: list[str]) -> str:
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


def _output_name(w: Writer, output: Node) -> str:
    v = w.value_of.get(output)
    if v is not None and v.name:
        return v.name
    return (identifier(output._label) if output._label else None) or "the output"


def _body(
    w: Writer,
    name: str,
    params: list[str],
    what: str,
    prologue: Callable[[list[str]], list[str]] | None,
    rendered: list[tuple[str, str | None, bool]],
) -> list[str]:
    """The def's lines: signature, docstring, the statements (comments aligned)."""
    lines = [f"def {name}({', '.join(params)}):"]
    wrt = ", ".join(params) if len(params) <= 8 else f"its {len(params)} arguments"
    lines.append(f'    """{what} and its gradient with respect to {wrt or "nothing"}."""')
    lines += ["    " + line for line in (prologue(params) if prologue else [])]
    indent = "    "
    if w.tensor:
        lines.append(
            '    with np.errstate(all="ignore"):  # inf and nan are values, as in the engine'
        )
        indent = "        "
    width = max(
        (len(indent + t) for t, c, _ in rendered if c and len(indent + t) <= COMMENT_COLUMN),
        default=0,
    )
    section = "" if w.compact else None
    for text, comment, backward in rendered:
        if section is None and not text.startswith("return "):
            lines.append(f"{indent}# forward pass")
            section = "forward"
        if backward and section == "forward":
            lines.append(f"{indent}# backward pass: d_v is d{what}/dv")
            section = "backward"
        line = indent + text
        if comment:
            line = line.ljust(width) + "  # " + comment
        if not w.compact and line.startswith(indent + "return ") and len(line) > 100:
            lines += _wrapped_return(w, indent)
            continue
        lines.append(line)
    return lines


def _wrapped_return(w: Writer, indent: str) -> list[str]:
    """The return statement over several lines, one item (or one gradient) a line."""
    table = w.table
    value, results, aux = w.returned
    inner = indent + "        "
    lines = [f"{indent}return (", f"{indent}    {substitute(value, table)},", f"{indent}    ("]
    lines += [f"{inner}{substitute(r, table)}," for r in results]
    lines.append(f"{indent}    ),")
    if aux:
        lines.append(f"{indent}    (")
        lines += [f"{inner}{substitute(a, table)}," for a in aux]
        lines.append(f"{indent}    ),")
    return [*lines, f"{indent})"]


def _module(
    name: str,
    params: list[str],
    what: str,
    function: str,
    helpers: tuple[list[str], list[str]],
    constants: dict[str, Any],
) -> str:
    """A module holding the function: docstring, imports, helpers, constants, the def."""
    imports, sources = helpers
    consts = [f"{k} = {array_text(v)}" for k, v in constants.items()]
    used = "\n".join([function, *consts, *sources])
    found = set(imports)
    for alias, module in (("math", "math"), ("np", "numpy")):
        if re.search(rf"(?<![\w.]){alias}\.", used):
            found.add(f"import {module}" if alias == module else f"import {module} as {alias}")
    grads = ", ".join(f"d{what}/d{p}" for p in params) + ("," if len(params) == 1 else "")
    usage = (
        f"{name}({', '.join(params)}) returns ({what}, ({grads})): the same float operations, "
        f"in the same order, as computing {what} with the engine and calling backward()."
    )
    doc = "\n".join(
        [
            f'"""{what} and its gradient, written by autograd-lite from the recorded graph.',
            "",
            *textwrap.wrap(usage, 96, break_on_hyphens=False),
            '"""',
        ]
    )
    head = [doc, "from __future__ import annotations", "\n".join(sorted(found))]
    text = "\n\n".join(part for part in head if part)
    if sources:
        text += "\n\n\n" + "\n\n\n".join(sources)
    if consts:
        text += "\n\n\n" + "\n".join(consts)
    return text + "\n\n\n" + function
