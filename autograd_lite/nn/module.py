"""`Module`: a container of named parameters that can be listed, zeroed, saved and restored.

A parameter is a `Value` leaf held by a module. Parameters are found by looking at the
module's attributes, in the order they were assigned: a `Value` attribute is a parameter, a
`Module` attribute is a child whose parameters are named under it, and a list or tuple of
either is named by position. So a subclass only assigns attributes; it registers nothing.

Names join the path with dots: `w.0` and `b` in a `Neuron`, `neurons.2.w.0` in a `Layer`,
`layers.1.neurons.2.w.0` in an `MLP`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..engine.value import Value
from ..validate import real


class Module:
    """Base class of everything that holds parameters (`Neuron`, `Layer`, `MLP`, yours).

    Subclasses assign their parameters (`Value`s) and sub-modules as attributes, possibly
    in lists, tuples or dicts, and define `__call__`. Restoring parameters (`load_state_dict`,
    `set_parameter`) writes into the existing `Value`s' `.data`, so an optimizer that holds
    them keeps working.
    """

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) pairs in a fixed order; a parameter held twice is listed once."""
        out: list[tuple[str, Value]] = []
        seen: set[Value] = set()
        for name, p in self._walk(""):
            if p not in seen:
                seen.add(p)
                out.append((name, p))
        return out

    def _walk(self, prefix: str) -> Iterator[tuple[str, Value]]:
        for attr, item in vars(self).items():
            if not attr.startswith("_"):
                yield from _walk_item(prefix + attr, item)

    def parameters(self) -> list[Value]:
        """The parameters, in the order of `named_parameters()`."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0 (gradients accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """The parameter values by name: a plain dict of floats (JSON-friendly)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Set every parameter from `state` (as made by `state_dict()`).

        The keys must be exactly the parameter names: ValueError lists the missing and the
        unexpected ones. Each value must be a real number (anything `numbers.Real` accepts;
        a bool counts as 0 or 1): TypeError otherwise, OverflowError for an int too large for
        a float. Everything is checked before anything is changed.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of name -> number, got {type(state).__name__}"
            )
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing keys: {', '.join(map(repr, missing))}")
            if unexpected:
                parts.append(f"unexpected keys: {', '.join(map(repr, unexpected))}")
            raise ValueError(f"load_state_dict: {'; '.join(parts)}")
        values = {name: real(state[name], f"load_state_dict[{name!r}]") for name in params}
        for name, p in params.items():
            p.data = values[name]

    def get_parameter(self, name: str) -> Value:
        """The parameter called `name`; KeyError listing a few valid names if there is none."""
        for n, p in self.named_parameters():
            if n == name:
                return p
        names = [n for n, _ in self.named_parameters()]
        shown = ", ".join(map(repr, names[:4])) + (", ..." if len(names) > 4 else "")
        raise KeyError(f"{type(self).__name__} has no parameter {name!r} (names: {shown})")

    def set_parameter(self, name: str, value: object) -> None:
        """Set the parameter called `name` to the real number `value` (its `.data`).

        `value` follows the package's rule for numbers, as in `load_state_dict`.
        """
        p = self.get_parameter(name)
        p.data = real(value, f"set_parameter({name!r})")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.parameters())} parameters)"


def _walk_item(name: str, item: Any) -> Iterator[tuple[str, Value]]:
    if isinstance(item, Value):
        yield name, item
    elif isinstance(item, Module):
        yield from item._walk(name + ".")
    elif isinstance(item, (list, tuple)):
        for i, sub in enumerate(item):
            yield from _walk_item(f"{name}.{i}", sub)
    elif isinstance(item, Mapping):  # in insertion order, named by key, as torch's ModuleDict
        for key, sub in item.items():
            yield from _walk_item(f"{name}.{key}", sub)
