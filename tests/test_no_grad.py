"""no_grad and detach: no history inside, history after, per thread and per asyncio task.

References: the results' structure (op, operands), closed-form derivatives, and for memory a
bound from the size of one node (no timing anywhere).
"""

from __future__ import annotations

import asyncio
import math
import sys
import threading
import tracemalloc
from typing import Any

import numpy as np
import pytest

from autograd_lite import Value, enable_grad, grad, hessian, is_grad_enabled, no_grad, scope


def assert_leaf(v: Value) -> None:
    assert v.op is None
    assert v.operands == ()
    assert v.is_leaf and not v.is_constant


def test_no_history_inside_and_history_again_after() -> None:
    x = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        results = [x + 1, x * x, x / 4, -x, x**3, 2**x, x.exp(), x.log(), x.tanh(), x.relu()]
    assert is_grad_enabled()
    for r in results:
        assert_leaf(r)
    assert [r.data for r in results[:5]] == [3.0, 4.0, 0.5, -2.0, 8.0]
    y = x * x
    assert y.op is not None and y.op.name == "*"
    assert y.operands == (x, x)


def test_results_inside_cut_the_gradient() -> None:
    x = Value(3.0)
    with no_grad():
        c = x * x  # a leaf holding 9.0, not a function of x for the engine
    f = c * x
    assert grad(f, [x]) == [9.0]
    f.backward()
    assert x.grad == 9.0 and c.grad == 3.0


def test_nesting_restores_each_level() -> None:
    x = Value(1.5)
    with no_grad():
        with no_grad():
            assert_leaf(x * 2)
        assert not is_grad_enabled()
        assert_leaf(x * 2)
    assert is_grad_enabled()
    assert (x * 2).op is not None


def test_the_same_instance_can_be_reentered() -> None:
    ng = no_grad()
    with ng:
        with ng:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_exception_inside_restores_recording() -> None:
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled()


def test_scope_is_kept_inside_no_grad() -> None:
    with scope("eval"), no_grad():
        y = Value(1.0) * 2
    assert y.scope == ("eval",)
    assert is_grad_enabled()


def test_as_a_decorator() -> None:
    @no_grad()
    def evaluate(x: Value) -> Value:
        assert not is_grad_enabled()
        return x * x + 1

    x = Value(2.0)
    y = evaluate(x)
    assert_leaf(y)
    assert y.data == 5.0
    assert is_grad_enabled()
    # Called again, and recursively: the one decorator instance nests.
    calls: list[bool] = []

    @no_grad()
    def recurse(n: int) -> None:
        calls.append(is_grad_enabled())
        if n:
            recurse(n - 1)

    recurse(3)
    assert calls == [False] * 4
    assert is_grad_enabled()
    assert evaluate(x).op is None


def test_a_million_ops_under_no_grad_do_not_grow_memory() -> None:
    n = 1_000_000
    node_size = sys.getsizeof(Value(0.0))  # a lower bound for one recorded node
    bound = 1 << 20  # 1 MiB; keeping every result would need at least n * node_size (~80 MB)
    assert n * node_size > 50 * bound
    x = Value(1.0)

    def chain(steps: int) -> tuple[Value, int]:
        """y = x * c**steps, and the peak memory traced while building it."""
        tracemalloc.start()
        try:
            y = x
            for _ in range(steps):
                y = y * 1.0000001
            return y, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    with no_grad():
        y, peak = chain(n)
    assert_leaf(y)
    assert y.data == pytest.approx(1.0000001**n, rel=1e-9)
    assert peak < bound

    # The same loop recording history keeps every node: the bound is a real test.
    m = 20_000
    _, peak = chain(m)
    assert peak > m * node_size > bound


def test_two_threads_do_not_affect_each_other() -> None:
    # Interleaving, forced by events: A enters no_grad; B computes; A computes; A leaves;
    # B enters no_grad and computes while A computes again.
    a_inside, b_done, a_left, b_inside, a_done = (threading.Event() for _ in range(5))
    seen: dict[str, Any] = {}
    errors: list[BaseException] = []

    def wait(e: threading.Event) -> None:
        if not e.wait(10):
            raise TimeoutError("thread interleaving stalled")

    def thread_a() -> None:
        try:
            x = Value(2.0)
            with no_grad():
                a_inside.set()
                wait(b_done)
                seen["a inside"] = (is_grad_enabled(), x * x)
            a_left.set()
            wait(b_inside)
            seen["a after"] = (is_grad_enabled(), x * x)
            a_done.set()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
            for ev in (a_inside, a_left, a_done):
                ev.set()

    def thread_b() -> None:
        try:
            x = Value(3.0)
            wait(a_inside)
            seen["b while a inside"] = (is_grad_enabled(), x * x)
            b_done.set()
            wait(a_left)
            with no_grad():
                b_inside.set()
                wait(a_done)
                seen["b inside"] = (is_grad_enabled(), x * x)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
            for ev in (b_done, b_inside):
                ev.set()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    enabled = {k: v[0] for k, v in seen.items()}
    assert enabled == {
        "a inside": False,
        "b while a inside": True,
        "a after": True,
        "b inside": False,
    }
    assert seen["a inside"][1].op is None
    assert seen["b while a inside"][1].op is not None
    assert seen["a after"][1].op is not None
    assert seen["b inside"][1].op is None
    assert is_grad_enabled()


def test_asyncio_tasks_do_not_affect_each_other() -> None:
    async def main() -> dict[str, bool]:
        inside, checked = asyncio.Event(), asyncio.Event()
        seen: dict[str, bool] = {}

        async def evaluating() -> None:
            with no_grad():
                inside.set()
                await checked.wait()  # suspended inside no_grad while the other task runs
                seen["evaluating"] = (Value(1.0) * 2).op is None
            seen["evaluating after"] = (Value(1.0) * 2).op is not None

        async def training() -> None:
            await inside.wait()
            seen["training"] = (Value(1.0) * 2).op is not None
            checked.set()

        await asyncio.gather(evaluating(), training())
        return seen

    assert asyncio.run(main()) == {
        "evaluating": True,
        "training": True,
        "evaluating after": True,
    }
    assert is_grad_enabled()


def test_detach_gives_a_leaf_with_the_same_data() -> None:
    x = Value(0.7, label="x")
    y = (x * 3).tanh()
    y.label = "y"
    d = y.detach()
    assert_leaf(d)
    assert d is not y
    assert d.data == y.data and d.label == "y" and d.grad == 0.0
    # y's own graph is untouched.
    assert y.op is not None and y.operands[0].operands[0] is x


def test_detach_stops_first_and_second_derivatives() -> None:
    x0 = 0.4
    x = Value(x0)
    f = x * x.exp().detach()  # d/dx = e^x0 (the detached factor is a constant)
    (df,) = grad(f, [x], create_graph=True)
    assert df.data == pytest.approx(math.exp(x0), rel=1e-15)
    assert grad(df, [x]) == [0.0]
    # Without detach: f' = e^x (1 + x), f'' = e^x (2 + x).
    g = x * x.exp()
    (dg,) = grad(g, [x], create_graph=True)
    assert grad(dg, [x])[0] == pytest.approx(math.exp(x0) * (2 + x0), rel=1e-12)


def test_detach_inside_no_grad_and_backward_through_it() -> None:
    x = Value(2.0)
    with no_grad():
        d = (x * x).detach()
    assert_leaf(d)
    y = d * x
    y.backward()
    assert x.grad == 4.0 and d.grad == 2.0


# -- regressions: bugs these tests found, fixed in the core -------------------------------------
def test_decorated_function_called_from_two_threads_at_once() -> None:
    @no_grad()
    def hold(entered: threading.Event, release: threading.Event) -> bool:
        entered.set()
        release.wait(10)
        return is_grad_enabled()

    a_in, a_go, b_in, b_go = (threading.Event() for _ in range(4))
    results: dict[str, object] = {}

    def run(name: str, entered: threading.Event, release: threading.Event) -> None:
        try:
            results[name] = hold(entered, release)
        except Exception as e:
            results[name] = e
            entered.set()

    ta = threading.Thread(target=run, args=("a", a_in, a_go))
    tb = threading.Thread(target=run, args=("b", b_in, b_go))
    ta.start()
    a_in.wait(10)
    tb.start()
    b_in.wait(10)
    a_go.set()  # A leaves first while B is still inside
    ta.join(10)
    b_go.set()
    tb.join(10)
    assert results == {"a": False, "b": False}


def test_higher_derivatives_inside_no_grad() -> None:
    x = Value(2.0)
    y = x**3
    with no_grad():
        h = hessian(y, [x])
        (dy,) = grad(y, [x], create_graph=True)
        d2 = grad(dy, [x])
    np.testing.assert_array_equal(h, [[12.0]])  # (x³)'' = 6x
    assert d2 == [12.0]


def test_bare_decorator_works_like_the_called_one() -> None:
    @no_grad
    def double(v: Value) -> Value:
        return v * 2

    x = Value(1.5)
    y = double(x)
    assert y.is_leaf and y.data == 3.0 and double.__name__ == "double"
    assert (x * 2).operands[0] is x  # recording is back on outside
    with pytest.raises(TypeError, match="no_grad"):
        no_grad(3)  # type: ignore[arg-type]


def test_enable_grad_works_as_a_bare_decorator_too() -> None:
    # Reference: the same function decorated with and without parentheses records a node.
    @enable_grad
    def bare() -> Value:
        return Value(2.0) * 3

    @enable_grad()
    def called() -> Value:
        return Value(2.0) * 3

    with no_grad():
        assert bare().op is not None and called().op is not None
        assert (Value(2.0) * 3).op is None
