"""`save` and `load`: a state dict in an .npz file, which numpy alone reads (and PyTorch loads).

An .npz file is numpy's zip of .npy arrays, one per key: `np.load(path)` gives the arrays by
the state dict's names (PyTorch's, for the Tensor layers), so a model saved here loads into
the same torch model with `torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in
np.load(path).items()})`. Nothing is pickled, either way: the file holds numbers only, and
loading one cannot run code.

They are `nn.save` / `nn.load`, next to `Module.state_dict` / `load_state_dict`, as PyTorch
has `torch.save` / `torch.load` beside them: `nn.save(model.state_dict(), path)`, then
`model.load_state_dict(nn.load(path))`. `load` checks the whole file before it returns, and
`load_state_dict` every entry before it changes a parameter, so a bad file changes nothing.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.node import Node
from ..files import write_file
from ..validate import array_of, describe

__all__ = ["load", "save"]

Array = np.ndarray[Any, Any]
_REAL_KINDS = "biuf"  # bool, int, unsigned, float: what a state dict holds


def _npz_path(path: object, where: str) -> Path:
    """path as a Path ending in .npz, or an error naming `where`."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: path must be a str or a path, got {describe(path)}")
    found = Path(path)
    if found.suffix != ".npz":
        raise ValueError(
            f"{where}: the path must end in .npz (numpy's archive of arrays), got {str(found)!r}"
        )
    return found


def save(state: Mapping[str, object], path: str | os.PathLike[str]) -> None:
    """Write `state` (a state dict: `module.state_dict()`) to the .npz file `path`.

    Each entry becomes one array under its key, with its dtype (a float: a 0-d float64
    array); `np.load(path)` reads them back, and so does `load`. The keys must be str and
    the values real numbers or arrays of them: TypeError naming the key otherwise, raised
    before the file is opened. An existing file is replaced as `files.write_file` does it:
    whole or not at all, through a symlink, keeping its mode and hard links (an OSError
    naming the path if it cannot be written).
    """
    target = _npz_path(path, "save")
    if not isinstance(state, Mapping):
        hint = (
            " (save the module's state_dict(); to keep the whole model, pickle it or "
            "copy.deepcopy it)"
            if hasattr(state, "state_dict")
            else ""
        )
        raise TypeError(
            f"save: expected a state dict (name -> array), got a {type(state).__name__}{hint}"
        )
    arrays: dict[str, Array] = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be str, got {describe(key)}")
        if key.endswith(".npy"):  # np.load would mistake it for the file of key[:-4]
            raise ValueError(f"save: key {key!r} ends in .npy, which np.load would misread")
        arrays[key] = _real_array(value, f"save[{key!r}]")
    buffer = io.BytesIO()  # the archive whole first: the file is then written by write_file
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for key, array in arrays.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    write_file(target, buffer.getvalue())


def load(path: str | os.PathLike[str]) -> dict[str, Array]:
    """The arrays of the .npz file `path` by key, in the file's order (what `save` wrote).

    Only numbers are read (allow_pickle=False): a file holding Python objects, or arrays of
    something else than real numbers, is an error naming the key; a file that is not an
    .npz archive is a ValueError. Pass the result to `module.load_state_dict`, which checks
    the keys, shapes and dtypes before it changes anything.
    """
    source = _npz_path(path, "load")
    try:
        archive = np.load(source, allow_pickle=False)
    except (ValueError, EOFError):  # numpy takes any other file for a pickle, and refuses it
        raise ValueError(
            f"load: {str(source)!r} is not an .npz archive of arrays (a zip of .npy files, as "
            f"save and np.savez write)"
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            f"load: {str(source)!r} is a single .npy array, not an .npz archive of named arrays"
        )
    out: dict[str, Array] = {}
    with archive:
        for key in archive.files:
            try:
                array = archive[key]
            except ValueError as e:
                if "allow_pickle" not in str(e):
                    raise ValueError(f"load[{key!r}]: {str(source)!r} is damaged: {e}") from None
                raise ValueError(  # numpy's "Object arrays cannot be loaded when ..."
                    f"load[{key!r}]: {str(source)!r} holds Python objects under this key, "
                    f"which are not loaded (allow_pickle=False): only arrays of numbers are"
                ) from None
            except (OSError, zipfile.BadZipFile, EOFError) as e:
                raise ValueError(f"load[{key!r}]: {str(source)!r} is damaged: {e}") from None
            out[key] = _real_array(array, f"load[{key!r}]")
    return out


def _real_array(value: object, where: str) -> Array:
    """value as an array of real numbers (bool, int or float), or TypeError naming `where`."""
    if isinstance(value, Node):
        raise TypeError(f"{where}: got a {type(value).__name__}; save its .data (or a state_dict)")
    return array_of(value, f"{where}: expected real numbers (bool, int or float)", _REAL_KINDS)
