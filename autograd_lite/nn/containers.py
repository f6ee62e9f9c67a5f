"""Containers of modules: `ModuleList` (by position) and `ModuleDict` (by name), as PyTorch's.

They hold sub-modules so that their parameters and buffers are found and named: the
parameters of `ModuleList([Linear(2, 3), Linear(3, 1)])` are `0.weight`, `0.bias`,
`1.weight` ..., those of `ModuleDict({"enc": Linear(2, 3)})` are `enc.weight`, `enc.bias`,
and `train()` / `eval()` reach every module they hold. Neither defines `forward`: the
module that holds them says how they are applied. `Sequential` (layers.py) is a list of
modules that applies them in order.

>>> from autograd_lite.nn import Linear, ModuleDict, ModuleList
>>> blocks = ModuleList([Linear(2, 3, rng=0)]).append(Linear(3, 1, rng=1))
>>> len(blocks), [name for name, _ in blocks.named_parameters()]
(2, ['0.weight', '0.bias', '1.weight', '1.bias'])
>>> heads = ModuleDict({"a": Linear(3, 1, rng=2)})
>>> heads["b"] = Linear(3, 2, rng=3)
>>> list(heads.keys()), list(heads.state_dict())
(['a', 'b'], ['a.weight', 'a.bias', 'b.weight', 'b.bias'])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

import numpy as np

from ..validate import describe
from .module import Module

_L = TypeVar("_L", bound="ModuleSequence")


def _module(m: object, where: str) -> Module:
    """m if it is a Module, else a TypeError naming `where`."""
    if not isinstance(m, Module):
        raise TypeError(f"{where} must be a Module (Linear(...), ReLU() ...), got {describe(m)}")
    return m


class ModuleSequence(Module):
    """Modules by position 0, 1, 2 ...: the list behaviour `ModuleList` and `Sequential` share
    (indexing and slicing, `len`, iteration, `append`, `extend`, `insert`), with PyTorch's
    names for the parameters (`0.weight` ...)."""

    _item_word = "item"  # what an error calls the i-th module given to the constructor

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        who = f"{type(self).__name__}: {self._item_word}"
        self._layers = [_module(m, f"{who} {i}") for i, m in enumerate(modules)]

    def _items(self) -> Iterable[tuple[str, Any]]:
        return [(str(i), m) for i, m in enumerate(self._layers)]

    def _position(self, index: object) -> int:
        """index as a position in range, or TypeError / IndexError naming the container."""
        who = type(self).__name__
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"{who}: index must be an int or a slice, got {describe(index)}")
        if not -len(self._layers) <= index < len(self._layers):
            raise IndexError(
                f"{who}: index {index} is out of range for {len(self._layers)} modules"
            )
        return int(index) % len(self._layers)

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self: _L, index: slice) -> _L: ...

    def __getitem__(self, index: object) -> Any:
        """The module at position `index` (negative counts from the end); a slice gives a
        container of the same kind holding those modules (the same objects)."""
        if isinstance(index, slice):
            out = type(self).__new__(type(self))
            ModuleSequence.__init__(out, self._layers[index])
            out.training = self.training
            return out
        return self._layers[self._position(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        """Replace the module at position `index`."""
        where = f"{type(self).__name__}[{index!r}]"
        self._layers[self._position(index)] = _module(module, where)

    def __len__(self) -> int:
        """The number of modules."""
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        """The modules in order."""
        return iter(self._layers)

    def append(self: _L, module: Module) -> _L:
        """Add `module` at the end; returns the container, as PyTorch's."""
        self._layers.append(_module(module, f"{type(self).__name__}.append: module"))
        return self

    def extend(self: _L, modules: Iterable[Module]) -> _L:
        """Add every module of `modules` at the end (all checked first); returns the container."""
        who = f"{type(self).__name__}.extend"
        self._layers.extend([_module(m, f"{who}: item {i}") for i, m in enumerate(modules)])
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put `module` before position `index`, as list.insert."""
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"{type(self).__name__}.insert: index must be an int, got {index!r}")
        self._layers.insert(int(index), _module(module, f"{type(self).__name__}.insert: module"))

    def extra_repr(self) -> str:
        """Nothing: the modules are listed below the name, as PyTorch prints them."""
        return ""


class ModuleList(ModuleSequence):
    """A list of modules, PyTorch's `nn.ModuleList`: `ModuleList([m0, m1])`, `blocks[0]`,
    `blocks[1:]`, `len`, iteration, `append`, `extend`, `insert`. Their parameters are named
    `0.weight`, `1.bias` ... It has no forward: iterate over it in yours."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__(modules)


class ModuleDict(Module):
    """Modules by name, PyTorch's `nn.ModuleDict`: `heads["a"]`, `heads["b"] = m`, `del`,
    `in`, `len`, iteration over the names, `keys()`, `values()`, `items()`, `update()`,
    in insertion order. Their parameters are named `a.weight` ... A name is a non-empty
    str without a dot (the dot separates the parts of a name)."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        self._modules: dict[str, Module] = {}
        if modules is not None:
            self.update(modules)

    def _items(self) -> Iterable[tuple[str, Any]]:
        return list(self._modules.items())

    def _key(self, key: object) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: a name must be a str, got {describe(key)}")
        if not key or "." in key:
            raise KeyError(f"ModuleDict: a name must be non-empty and hold no '.', got {key!r}")
        return key

    def __getitem__(self, key: str) -> Module:
        """The module called `key`; KeyError listing the names if there is none."""
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r} (names: {list(self._modules)})")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        """Add or replace the module called `key`."""
        self._modules[self._key(key)] = _module(module, f"ModuleDict[{key!r}]")

    def __delitem__(self, key: str) -> None:
        """Remove the module called `key`."""
        self[key]  # the KeyError listing the names
        del self._modules[key]

    def __len__(self) -> int:
        """The number of modules."""
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        """The names, in insertion order."""
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        """True if a module is called `key`."""
        return key in self._modules

    def keys(self) -> list[str]:
        """The names, in insertion order."""
        return list(self._modules)

    def values(self) -> list[Module]:
        """The modules, in insertion order."""
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        """(name, module) pairs, in insertion order."""
        return list(self._modules.items())

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace the modules of a mapping or of (name, module) pairs; all are checked
        before any is added."""
        pairs = list(modules.items()) if isinstance(modules, Mapping) else list(modules)
        for i, pair in enumerate(pairs):
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise TypeError(
                    f"ModuleDict.update: item {i} must be a (name, module) pair, got "
                    f"{describe(pair)}"
                )
        checked = [(self._key(k), _module(m, f"ModuleDict[{k!r}]")) for k, m in pairs]
        self._modules.update(checked)

    def extra_repr(self) -> str:
        """Nothing: the modules are listed below the name, as PyTorch prints them."""
        return ""
