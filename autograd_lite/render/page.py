"""The stepping page: one self-contained HTML file that walks through the forward pass and then
every chain-rule step of backward(), on the graph as `dot` draws it.

The page is the SVG from `dot` (its groups renamed after the DOT node names, `v3`, `o3`, and
edges `v1-o3`, so the script can find them), the steps as JSON (every text already
formatted here, where it is tested), and stepper.js and stepper.css inlined: nothing is
fetched when it is opened. Labels reach the page only as escaped SVG text and as JSON with
`<`, `>` and `&` escaped, and the script writes text with `textContent` alone, so a label
shows literally and runs nothing.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
import tokenize
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from ..codegen import CodegenError, backward_code
from ..engine.backward import graph_nodes
from ..engine.node import Node
from ..engine.tensor import Tensor
from ..engine.value import Value
from ..notation import formula
from ..validate import describe
from .broadcast import summed_operands
from .numbers import SMALL, number_text
from .step_table import BackwardSteps, StepRow, backward_steps

__all__ = ["StepperPage", "page_data"]

_GROUP = re.compile(r'<g id="(?:node|edge)(\d+)" class="(node|edge)">\n<title>([^<]*)</title>')
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _json_for_script(data: object) -> str:
    """`data` as JSON that cannot end its <script> element or open another: `<`, `>` and `&`
    (and the two line separators JavaScript once rejected) as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for ch in "<>&\u2028\u2029":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


_MARK = re.compile(r"e(\d+)_\d+")  # a ∂ node on an edge (dot.py): e{result}_{operand index}


def _svg_for_page(svg: str, tooltips: dict[str, str]) -> str:
    """dot's SVG inline: without its XML prolog, each node group's id its DOT name (`v3`,
    `o3`), each edge's `v1-o3` (`v1-o3-2` for a second edge between the same two), and
    tooltips saying what a node is rather than its DOT name. An edge drawn through a ∂ node
    (`v1 -> e3_0 -> o3`) is `v1-o3` to the ∂, `v1-o3-to` from it, and the ∂ `v1-o3-label`."""
    svg = _PROLOG.sub("", svg, count=1)
    seen: dict[str, int] = {}
    edges: list[tuple[int, str, int]] = []  # (number in DOT order, name, start in svg)
    for m in _GROUP.finditer(svg):
        if m.group(2) == "edge":
            edges.append((int(m.group(1)), html.unescape(m.group(3)), m.start()))
    ident: dict[int, str] = {}  # start in svg -> the edge's id
    marks: dict[str, str] = {}  # a ∂ node's DOT name -> the id of the edge it sits on
    for _, name, start in sorted(edges):
        tail, _, head = name.partition("->")
        if _MARK.fullmatch(tail):  # the piece from a ∂ to its op (after the piece to it)
            ident[start] = f"{marks[tail]}-to"
            continue
        found = _MARK.fullmatch(head)
        key = f"{tail}-o{found.group(1)}" if found else f"{tail}-{head}"
        seen[key] = seen.get(key, 0) + 1
        ident[start] = key + (f"-{seen[key]}" if seen[key] > 1 else "")
        if found:
            marks[head] = ident[start]

    def rename(m: re.Match[str]) -> str:
        name = html.unescape(m.group(3))
        if m.group(2) == "edge":
            new, tip = ident[m.start()], ""
        elif name in marks:
            new, tip = f"{marks[name]}-label", ""
        else:
            new, tip = name, tooltips.get(name, "")
        title = f"<title>{html.escape(tip)}</title>" if tip else ""
        return f'<g id="{html.escape(new)}" class="{m.group(2)}">\n{title}'

    return _GROUP.sub(rename, svg)


def _forward_text(node: Node, names: dict[Node, str], precision: int) -> str:
    """`t1 = x * w1 = 1 * 0.4 = 0.4`: what the op computes, with the numbers."""
    op = node.op
    assert op is not None
    name = names[node]
    symbolic = formula(op.display, [names[x] for x in node.operands])
    if isinstance(node, Tensor):
        data = node.data
        shown = (
            f"a {data.shape} {data.dtype} array"
            if data.size > SMALL
            else number_text(data, precision)
        )
        return f"{name} = {symbolic} = {shown}"
    numbers = formula(op.display, [number_text(x.data, precision) for x in node.operands])
    return f"{name} = {symbolic} = {numbers} = {number_text(node.data, precision)}"


def _backward_texts(row: StepRow, precision: int, uses: int, seen: int) -> tuple[str, str]:
    """The step's chain-rule product with its numbers, and what grad(operand) is now."""
    r, x = row.result_name, row.operand_name
    p = precision
    if row.local is None:  # a Tensor: the share, no local derivative
        product = f"grad({x}) += grad({r}) · ∂{r}/∂{x} = {number_text(row.share, p)}"
        assert isinstance(row.result, Tensor)
        summed = summed_operands(row.result)[row.index]
        how = ""
        if summed is not None:
            axes = ", ".join(map(str, summed.axes))
            word = "axis" if len(summed.axes) == 1 else "axes"
            how = f"; it is summed over {word} {axes} back to {x}'s shape {summed.shape}"
        extra = f". ∂{r}/∂{x} is a Jacobian, so only the product is shown{how}."
    else:
        product = (
            f"grad({x}) += grad({r}) × ∂{r}/∂{x} = {number_text(row.upstream, p)} × "
            f"{number_text(row.local, p)} = {number_text(row.share, p)}"
        )
        extra = ""
    now = number_text(row.gradient, p)
    if row.complete:
        status = f"grad({x}) is now {now}, complete: every use of {x} has handed its share"
    else:
        left = uses - seen
        status = f"grad({x}) is {now} so far: {left} more use{'s' if left != 1 else ''} to come"
    return product, status + extra


PAGE_RANKDIR = "LR"
"""The page's drawing direction unless `rankdir` is given: screens are wider than tall."""

UPDATE_PRECISION = 6
"""Significant digits of the SGD step's numbers: at 4, 0.4 - 0.1 * -0.006869 would show
as 0.4007 and hide most of the change."""


def _summary(
    steps: BackwardSteps,
    parameters: Sequence[Node] | None,
    lr: float | None,
    precision: int,
) -> dict[str, Any]:
    """The page's last position: each parameter's gradient and, given a learning rate `lr`,
    the SGD step w <- w - lr * dL/dw with the old and new values."""
    gradients: dict[Node, Any] = {steps.output: steps.seed}
    for step in steps:
        gradients[step.operand] = step.gradient
    if parameters is None:  # every leaf that gets a gradient, in the drawing's order
        parameters = [n for n in steps.names if n.is_leaf and n in gradients]
    out = steps.names[steps.output]
    rows: list[dict[str, str]] = []
    for node in parameters:
        grad = gradients.get(node)
        row = {"name": steps.names[node], "grad": number_text(grad, precision)}
        if lr is not None and grad is not None:
            q = max(precision, UPDATE_PRECISION)
            row["old"] = number_text(node.data, q)
            row["new"] = number_text(node.data - lr * grad, q)
        rows.append(row)
    text = f"The gradient of {out} with respect to each parameter, as backward() leaves it"
    note = "Each is complete: every use of the parameter has handed its share."
    if lr is not None:
        eta = number_text(lr, precision)
        text += f"; one SGD step with learning rate η = {eta}: w ← w − η · d{out}/dw"
        note += " The new values are what the next forward pass would use."
    return {"text": text + ".", "note": note, "lr": None if lr is None else number_text(lr, 6),
            "output": out, "rows": rows}  # fmt: skip


def page_data(
    root: Node,
    steps: BackwardSteps,
    *,
    precision: int = 4,
    code: Sequence[str | None] | None = None,
    parameters: Sequence[Node] | None = None,
    lr: float | None = None,
) -> dict[str, Any]:
    """What the page's script reads: the nodes, the forward steps, the seed, the backward
    steps and the summary at the end (the parameters' gradients, and the SGD step with
    learning rate `lr` if given), every text formatted (see stepper.js for how each is
    shown)."""
    nodes = graph_nodes(root)
    index = {node: i for i, node in enumerate(nodes)}
    names = dict(steps.names)
    p = precision
    forward = [
        {
            "node": index[n],
            "operands": [index[x] for x in n.operands],
            "text": _forward_text(n, names, p),
        }
        for n in nodes
        if n.operands
    ]
    leaves = [n for n in nodes if not n.operands and not n.is_constant]
    known = [f"{names[n]} = {number_text(n.data, p)}" for n in leaves[:12]]
    if len(leaves) > 12:
        known.append(f"and {len(leaves) - 12} more")
    constants = [names[n] for n in nodes if n.is_constant]
    start = f"The inputs and parameters are known: {', '.join(known) or 'none'}"
    if constants:
        start += f"; constants: {', '.join(constants[:12])}{', ...' if len(constants) > 12 else ''}"
    uses: dict[Node, int] = {}
    for row in steps:
        uses[row.operand] = uses.get(row.operand, 0) + 1
    seen: dict[Node, int] = {}
    backward = []
    for k, row in enumerate(steps):
        seen[row.operand] = seen.get(row.operand, 0) + 1
        product, status = _backward_texts(row, p, uses[row.operand], seen[row.operand])
        slot = sum(1 for x in row.result.operands[: row.index] if x is row.operand) + 1
        backward.append(
            {
                "result": index[row.result],
                "operand": index[row.operand],
                "edge": f"v{index[row.operand]}-o{index[row.result]}"
                + (f"-{slot}" if slot > 1 else ""),
                "grad": number_text(row.gradient, p),
                "complete": row.complete,
                "text": product,
                "note": status,
                "code": None if code is None else code[k],
            }
        )
    out_name = names[root]
    seed = number_text(steps.seed, p)
    zero = "" if steps.tensors else ", and every other grad at 0: backward() adds to them"
    return {
        "title": f"Backpropagation through {out_name}, step by step",
        "tensors": steps.tensors,
        "nodes": [
            {
                "name": names[n],
                "leaf": not n.operands,
                "tooltip": names[n]
                if not n.operands
                else f"{names[n]} = {steps.definitions[names[n]]}",
            }
            for n in nodes
        ],
        "start": f"{start}. Step on (→) to compute the rest, one op at a time.",
        "forward": forward,
        "seed": {
            "node": index[root],
            "grad": seed,
            "text": f"backward() starts: grad({out_name}) = {seed} (d{out_name}/d{out_name})",
            "note": f"It starts at grad({out_name}){zero}. Each step hands one operand its "
            f"share: grad(result) × ∂result/∂operand.",
        },
        "backward": backward,
        "summary": _summary(steps, parameters, lr, p),
        "hidden": steps.hidden,
        "hasCode": code is not None,
    }


class StepperPage:
    """A stepping page in the making: the backward steps it shows (`steps`), the gradients
    its drawing must show (`gradients`: those of this one pass, whatever `.grad` holds, so
    that each box is wide enough for its number), then `html(svg)` once dot has drawn it.

    `options` are draw_graph's (the page uses `precision` and `constant_grads` too); `code`,
    optional, one line per backward step (None for a step without one), shown beside the
    step, such as the matching line of the generated backward code. The page ends with a
    table of the gradients of `parameters` (default: every leaf that gets one) and, given a
    learning rate `lr`, the SGD step each takes.
    """

    def __init__(
        self,
        root: Node,
        options: Mapping[str, Any],
        code: Sequence[str | None] | None = None,
        *,
        parameters: Sequence[Node] | None = None,
        lr: float | None = None,
    ) -> None:
        if isinstance(root, Tensor) and root.size != 1:
            raise ValueError(
                f"render_graph: a page steps through backward() from a one-element output; "
                f"this one has shape {root.shape}: reduce it first (.sum()), or draw it as "
                f".png or .svg"
            )
        self.root = root
        self.precision: int = options.get("precision", 4)
        self.steps = backward_steps(root, constants=options.get("constant_grads", False))
        self.parameters = _checked_parameters(parameters, self.steps)
        self.lr = _checked_lr(lr)
        if code is not None:
            code = list(_checked_code(code, len(self.steps)))
        elif not options.get("constant_grads", False):
            code = generated_lines(root, len(self.steps))
        self.code = code

    @property
    def gradients(self) -> dict[Node, Any]:
        """Each node's gradient at the end of the pass (the output's is the seed); nodes that
        get none are missing."""
        out: dict[Node, Any] = {self.root: self.steps.seed}
        for row in self.steps:
            out[row.operand] = row.gradient
        return out

    def drawing_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """draw_graph's options for the page's drawing: left to right unless `rankdir` says
        otherwise (a screen is wider than tall, and the page fits the drawing to it)."""
        return {"rankdir": PAGE_RANKDIR, **options, "gradients": self.gradients}

    def html(self, svg: str) -> str:
        """The page around `svg`, the drawing laid out by `dot -Tsvg`."""
        data = page_data(
            self.root,
            self.steps,
            precision=self.precision,
            code=self.code,
            parameters=self.parameters,
            lr=self.lr,
        )
        tooltips = {f"v{i}": node["tooltip"] for i, node in enumerate(data["nodes"])}
        tooltips.update({f"o{i}": f"op: {n['tooltip']}" for i, n in enumerate(data["nodes"])})
        title = html.escape(data["title"])
        return _TEMPLATE.format(
            title=title,
            style=_asset("stepper.css"),
            svg=_svg_for_page(svg, tooltips),
            data=_json_for_script(data),
            script=_asset("stepper.js"),
        )


def generated_lines(root: Node, n_steps: int) -> list[str | None] | None:
    """The backward statements of `backward_code` for root's graph, one per step, or None.

    backward_code writes one statement per chain-rule step in backward()'s order (steps into
    constants, which it writes inline, have none), so for a scalar graph its statements after
    the seed pair up with the steps. A graph it cannot write (a custom op without an emit
    form), or whose statements do not pair up (a tensor graph's broadcasts take more than
    one), gets no code column.
    """
    if not isinstance(root, Value):
        return None
    leaves = [n for n in graph_nodes(root) if n.is_leaf and not n.is_constant]
    try:
        code = backward_code(root, leaves).splitlines()
    except (CodegenError, TypeError, ValueError):
        return None
    start = next((k for k, t in enumerate(code) if t.strip().startswith("# backward pass")), None)
    if start is None:
        return None
    statements = [line.strip() for line in code[start + 2 :] if line.strip()]
    statements = [line for line in statements if not line.startswith("return ")]
    if len(statements) != n_steps:
        return None
    lines: list[str | None] = []
    for line in statements:  # the comment (which op, which rule) kept, the padding not
        statement, comment = _split_comment(line)
        lines.append(statement + (f"  # {comment}" if comment else ""))
    return lines


def _split_comment(line: str) -> tuple[str, str]:
    """A generated line's statement and comment, cut where Python's tokenizer finds the
    comment (a string literal in the statement may hold a #)."""
    for token in tokenize.generate_tokens(io.StringIO(line).readline):
        if token.type == tokenize.COMMENT:
            return line[: token.start[1]].rstrip(), token.string[1:].strip()
    return line, ""


def _checked_parameters(parameters: object, steps: BackwardSteps) -> Sequence[Node] | None:
    """`parameters` as a list of distinct nodes of the graph, or None; else a clear error."""
    if parameters is None:
        return None
    if isinstance(parameters, (str, Node)) or not isinstance(parameters, Sequence):
        raise TypeError(
            f"render_graph: parameters must be a list of the graph's nodes, got "
            f"{describe(parameters)}"
        )
    seen: set[Node] = set()
    for k, node in enumerate(parameters):
        if not isinstance(node, Node) or node not in steps.names:
            raise ValueError(
                f"render_graph: parameters[{k}] is not a node of this graph, got {describe(node)}"
            )
        if node.operands:  # an op's result: SGD does not step it
            raise ValueError(
                f"render_graph: parameters[{k}] ({steps.names[node]}) is computed by an op, "
                f"not a leaf that SGD could update"
            )
        if node in seen:
            raise ValueError(f"render_graph: parameters[{k}] ({steps.names[node]}) is given twice")
        seen.add(node)
    return list(parameters)


def _checked_lr(lr: object) -> float | None:
    """`lr` as a positive finite float, or None; else a clear error."""
    if lr is None:
        return None
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < math.inf:
        raise ValueError(f"render_graph: lr must be a positive finite number, got {describe(lr)}")
    return float(lr)


def _checked_code(code: object, n_steps: int) -> Sequence[str | None]:
    """`code` if it is one str (or None) per backward step; else a clear error."""
    if isinstance(code, str) or not isinstance(code, Sequence):
        raise TypeError(
            f"render_graph: code must be a list of strings, one per backward step, got "
            f"{describe(code)}"
        )
    if len(code) != n_steps:
        raise ValueError(
            f"render_graph: code has {len(code)} lines and the backward pass {n_steps} "
            f"steps; give one line (or None) per step"
        )
    for k, line in enumerate(code):
        if line is not None and not isinstance(line, str):
            raise TypeError(f"render_graph: code[{k}] must be a str or None, got {describe(line)}")
    return code


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{style}</style>
</head>
<body>
<header id="top">
  <div class="controls">
    <h1>{title}</h1>
    <button type="button" id="reset" title="Back to the start (Home)">Reset</button>
    <button type="button" id="prev" title="One step back (←)">◀ Back</button>
    <button type="button" id="next" title="One step on (→)">Next ▶</button>
    <input type="range" id="slider" min="0" max="0" value="0" aria-label="step">
    <span id="counter"></span>
    <span class="view">
      <button type="button" id="zoom-out" title="Zoom out (−)">−</button>
      <button type="button" id="zoom-in" title="Zoom in (+)">+</button>
      <button type="button" id="fit" title="The whole graph in view (0)">Fit</button>
    </span>
  </div>
  <div id="panel" aria-live="polite">
    <div id="phase"></div>
    <div id="formula"></div>
    <div id="note"></div>
    <div id="code-line"><span class="code-label">code</span><code id="code"></code></div>
  </div>
</header>
<div id="stage">
<main id="graph" title="Drag to pan, wheel or +/− to zoom">
{svg}
</main>
<aside id="summary" hidden>
  <table id="gradients"><thead><tr id="summary-head"></tr></thead><tbody></tbody></table>
</aside>
</div>
<footer>← → step · Home/End: first/last step · drag to pan, wheel or + − to zoom, 0 to fit ·
<span class="key result">result</span> hands its gradient down the
<span class="key edge">edge</span> to the <span class="key operand">operand</span> ·
the worked example told in full, every formula and number: docs/worked_example.md in
autograd-lite's source</footer>
<script type="application/json" id="stepper-data">{data}</script>
<script>
{script}</script>
</body>
</html>
"""
