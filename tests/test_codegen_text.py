"""User text in generated code: labels, an op's name and display, its params' values.

Every piece of user text must reach the code as a literal that reads back as the value
(repr) or inside a one-line comment, so that the module compiles, runs nothing but the
computation, and gives the numbers of the graph. Reference: the issue's definition of the
right numbers, the graph built again from fresh leaves holding the same values and
`backward()` called on it (bit for bit, with its `.grad` starting at 0.0); and for one graph a
closed form worked out below in exactly representable numbers.
"""

from __future__ import annotations

import ast
import builtins
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_lite import (
    CodegenError,
    Op,
    Tensor,
    Value,
    backward_code,
    compile_grad,
    explore,
    render_graph,
)
from autograd_lite.codegen.names import identifier
from autograd_lite.render.page import generated_lines
from tests.codegen_helpers import same

MARK = "_h19_generated_code_ran_this"
"""A builtin that payloads set if any of them runs."""
BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
"""Every line break str.splitlines knows."""
assert all(len(f"a{b}b".splitlines()) == 2 for b in BREAKS)
PAYLOADS = [
    f"x{b}import builtins; builtins.{MARK} = 1{b}def _z():{b} #" for b in BREAKS
] + [
    "sq(x)\nimport os;os.system('touch pwned')\ndef _z():\n #",  # the issue's display
    "{v0}", "{0}", "{", "}}", "'", '"', '"""', "\\", "\x00", "\ud800", "#", "\t", "",
    "__import__('os').system('exit 3')", "lambda", "_sigmoid", "math", "np", "float", "1x",
    "forward_backward", "d_x", "t1", "v0", "_inputs", "__builtins__", "ŷ", "x̄", " ",
]  # fmt: skip
"""Texts written to break out of a comment, a literal or a name."""


class Hostile:
    """An object whose repr is code on lines of its own."""

    def __repr__(self) -> str:
        return f"0\nimport builtins; builtins.{MARK} = 1\n#"


class HostileStr(str):
    """A str whose repr is code: a literal must be written from the characters."""

    def __repr__(self) -> str:
        return f"__import__('builtins').setattr(__import__('builtins'), {MARK!r}, 1) or 'x'"


class HostileInt(int):
    """An int whose repr is not a number."""

    def __repr__(self) -> str:
        return "<seven>"


SPECIAL = [*[b for b in BREAKS if len(b) == 1], "{", "}", "'", '"', "#", "\\", "v", "0"]
TEXT = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(st.one_of(st.sampled_from(SPECIAL), st.characters()), max_size=12),
)
"""Hostile text: payloads, and any characters with every line break, brace and quote."""
SCALARS = st.one_of(
    TEXT, st.integers(-(10**30), 10**30), st.floats(allow_nan=False), st.booleans(), st.none(),
    st.builds(HostileStr, TEXT), st.builds(HostileInt, st.integers(-5, 5)),
)  # fmt: skip
KEYS = st.one_of(TEXT, st.integers(), st.floats(allow_nan=False))
CONTAINERS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(KEYS, inner, max_size=3),
        st.frozensets(KEYS, max_size=3),
        st.sets(KEYS, max_size=3),
    ),
    max_leaves=8,
)
"""Param values an emit form writes as literals: containers of every kind, nested."""
SHOWN = st.one_of(
    CONTAINERS,
    st.just(Hostile()),
    st.just((np.eye(2),)),  # the issue's IndentationError
    st.just({"w": np.arange(3.0)}),
    st.floats(),  # nan and inf
)
"""Param values only shown (the op's default display is their repr)."""


def _forward(x: Any, *, s: Any, q: Any, p: Any) -> Any:
    return x * float(len(s) + len(q)) + 0.5


def _rule(g: Any, out: Any, x: Any, *, s: Any, q: Any, p: Any) -> tuple[Any]:
    return (g * float(len(s) + len(q)),)


def scale_op(name: str, display: str | None, s: str, q: Any, p: Any) -> Op:
    """x * (len(s) + len(q)) + 0.5: s and q reach the code as literals, p only its comments."""
    return Op(
        name,
        _forward,
        _rule,
        params={"s": s, "q": q, "p": p},
        display=None if display is None else display.replace("{", "{{").replace("}", "}}"),
        emit="{0} * float(len({s}) + len({q})) + 0.5",
    )


def _graph(op: Op, labels: list[str], x0: float, w0: float) -> tuple[Value, Value]:
    """out = c * x + c with c = op(x * w); w is not an input (its value is written)."""
    x, w = Value(x0, label=labels[0]), Value(w0, label=labels[1])
    c = op(x * w)
    c.label = labels[2]
    out = c * x + c
    out.label = labels[3]
    return out, x


def _tensor_graph(op: Op, labels: list[str], x0: Any) -> tuple[Tensor, Tensor]:
    """out = sum(c * x) with c = op(x * X), X a constant (a module-level array)."""
    x = Tensor(x0, label=labels[0])
    X = Tensor([[0.25, -1.5], [2.0, 0.5]], requires_grad=False, label=labels[1])
    c = op(x * X)
    c.label = labels[2]
    out = (c * x).sum()
    out.label = labels[3]
    return out, x


def _run_alone(source: str, name: str = "forward_backward") -> Any:
    """The module's function, after checking that its top level only imports math and numpy,
    defines functions and assigns constants, run in a namespace of its own."""
    for stmt in ast.parse(source).body:
        if isinstance(stmt, ast.Import):
            assert [a.name for a in stmt.names] in (["math"], ["numpy"]), ast.unparse(stmt)
        elif isinstance(stmt, ast.ImportFrom):
            assert stmt.module == "__future__", ast.unparse(stmt)
        elif isinstance(stmt, ast.Expr):
            assert isinstance(stmt.value, ast.Constant), ast.unparse(stmt)  # the docstring
        else:
            assert isinstance(stmt, (ast.FunctionDef, ast.ClassDef, ast.Assign)), stmt
    namespace: dict[str, Any] = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace[name]


@pytest.fixture(autouse=True)
def _nothing_runs(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Payloads that run are seen: os.system raises, and the marker builtin is checked."""

    def refuse(command: str) -> int:
        raise AssertionError(f"generated code ran os.system({command!r})")

    monkeypatch.setattr(os, "system", refuse)
    yield
    assert not hasattr(builtins, MARK), "a payload in user text ran"


def _expected(out: Any, x: Any) -> tuple[Any, Any]:
    """The reference: the graph's value, and x.grad after backward() from a zeroed .grad."""
    out.backward()
    return out.data, x.grad


def _check_value_graph(op: Op, labels: list[str]) -> None:
    out, x = _graph(op, labels, 1.5, 0.25)
    ref_out, ref_x = _graph(op, labels, 1.5, 0.25)  # rebuilt from fresh leaves
    value, grad_x = _expected(ref_out, ref_x)
    f = _run_alone(backward_code(out, [x]))
    for got in (f(1.5), compile_grad(out, [x])(1.5)):
        assert same(got[0], value) and same(0.0 + got[1][0], grad_x)  # 0.0 + g: as .grad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=TEXT.filter(bool),
    display=st.one_of(st.none(), TEXT),
    s=TEXT,
    q=CONTAINERS.filter(lambda q: hasattr(q, "__len__")),
    p=SHOWN,
    labels=st.lists(TEXT, min_size=4, max_size=4),
)
def test_hostile_text_compiles_runs_nothing_else_and_gives_backwards_numbers(
    name: str, display: str | None, s: str, q: Any, p: Any, labels: list[str]
) -> None:
    op = scale_op(name, display, s, q, p)
    _check_value_graph(op, labels)
    out, x = _tensor_graph(op, labels, [[1.0, -2.0], [0.5, 3.0]])
    ref_out, ref_x = _tensor_graph(op, labels, [[1.0, -2.0], [0.5, 3.0]])
    value, grad_x = _expected(ref_out, ref_x)
    f = _run_alone(backward_code(out, [x]))
    for got in (f(x.data), compile_grad(out, [x])(x.data)):
        assert same(got[0], value) and same(0.0 + got[1][0], grad_x)


def test_the_issues_texts_against_a_closed_form() -> None:
    # Reference, by hand: k = len(s) + len(q) = 4 + 3 = 7, c = 1.5 * 0.25 * 7 + 0.5 = 3.125,
    # out = c x + c = 3.125 * 2.5 = 7.8125, dout/dx = (0.25 k) x + c + 0.25 k
    # = 2.625 + 3.125 + 1.75 = 7.5: every number a few bits, so exact.
    op = scale_op(
        "sq(x)\nimport os;os.system('touch pwned')\ndef _z():\n #",
        "sq(x)\nimport os;os.system('touch pwned')\ndef _z():\n #",
        "{v0}",
        {"a": 1, "{0}": (np.eye(2).tolist(),), "\u2028": "}"},
        (np.eye(2),),
    )
    out, x = _graph(op, ["x\r\ny", "{v0}", "'''", "\x85"], 1.5, 0.25)
    source = backward_code(out, [x])
    assert _run_alone(source)(1.5) == (7.8125, (7.5,))
    assert compile_grad(out, [x])(1.5) == (7.8125, (7.5,))
    assert "len('{v0}')" in source  # the str param, as a literal, not a name
    assert "\\nimport os;os.system('touch pwned')\\ndef _z():\\n #" in source  # one line
    assert not os.path.exists("pwned")


@given(st.one_of(TEXT, st.sampled_from(["if", "match", "None", "__debug__", "9", "０", "ｉｆ"])))
def test_label_identifiers_are_safe_names(label: str) -> None:
    # Reference: Python's own rules for an identifier that is no keyword and no builtin;
    # names the module defines (math, np, helpers) are kept apart by Names (test_codegen
    # covers collisions), and no label gives a name starting with _ (as helpers' do).
    name = identifier(label)
    if name is not None:
        assert name.isidentifier() and name.isascii() and not name.startswith("_"), label
        assert not hasattr(builtins, name)
        assert ast.parse(f"{name} = 1")  # not a keyword, soft or not


@pytest.mark.parametrize(
    ("emit", "message"),
    [
        ("{0}\nimport os", "line break"),
        ("{0}\u2028+ 1", "line break"),
        ("{0} +", "not an expression"),
        ("{0}) + (1", "not an expression"),
        (lambda a: f"{a} *\n 2", "line break"),
        (lambda a: f"({a}", "not an expression"),
        (lambda a: 3, "not source text"),
        ("{0", "not a format string"),
        ("{0} * {missing}", "failed on 1 operand"),
    ],
)
def test_a_malformed_emit_form_is_a_codegen_error_naming_the_op(emit: Any, message: str) -> None:
    op = Op("bad\nop", lambda x: x * 2.0, lambda g, out, x: (g * 2.0,), emit=emit)
    x = Value(1.0)
    for write in (lambda: backward_code(op(x), [x]), lambda: compile_grad(op(x), [x])):
        with pytest.raises(CodegenError, match=message) as raised:
            write()
        assert "'bad\\nop'" in str(raised.value)


def test_values_that_have_no_literal_are_refused_naming_the_op() -> None:
    # A set holding nan cannot be written so that it reads back with its size; an object
    # has no literal; containers deeper than the parser allows are refused, not a crash.
    deep: Any = 0
    for _ in range(300):
        deep = [deep]
    for q in ({float("nan"), 1.0}, [Hostile()], deep, np.eye(2).view(_Sub)):
        op = scale_op("scale", None, "s", q, None)
        x = Value(1.0)
        with pytest.raises(CodegenError, match="op 'scale': generated code cannot write"):
            compile_grad(op(x), [x])


def test_the_page_has_its_code_column_or_none_but_never_fails(tmp_path: Any) -> None:
    # A dict param and a '{0}' param made backward_code, and so the page, fail with a bare
    # KeyError / ValueError; now their code is written. An op whose emit form cannot be
    # written gets a page without the code column.
    op = scale_op("scale", None, "{0}", {"a": 1}, {"b": 2})
    x, w = Value(1.5, label="x"), Value(0.25, label="w")
    out = op(x * w) * x
    lines = generated_lines(out, 5)
    assert lines is not None and any("scale(t1, s='{0}'" in (line or "") for line in lines)
    bad = Op("bad", lambda x: x * 2.0, lambda g, out, x: (g * 2.0,), emit="{0}\n+ 1")
    assert generated_lines(bad(x) * w, 3) is None
    # A string literal holding "  #" in a backward statement: the comment is cut where
    # Python's tokenizer finds it.
    tag = Op("tag", lambda x, s: x, lambda g, out, x, s: (g,), params={"s": "a  # b"},
             emit="({0} if {s} else {0})")  # fmt: skip
    twice = Op("twice", lambda x: 2.0 * x, lambda g, out, x: (tag(g) * 2.0,), emit="2.0 * {0}")
    assert generated_lines(twice(x), 1) == [
        "d_x = (d_t1 if 'a  # b' else d_t1) * 2.0  # t1 = twice(x)"
    ]
    for root in (out, bad(x) * w):
        page = render_graph(root, tmp_path / "p.html").read_text(encoding="utf-8")
        assert ('"hasCode": true' in page) == (root is out)
        assert explore(root).html


class _Sub(np.ndarray):
    """An array subclass (np.matrix is one): its operators may mean something else."""
