"""Peak memory of a W5 step, each engine in a fresh process (run by bench/tensors.py).

    python bench/step_memory.py ENGINE BATCH DTYPE     # prints one JSON line

What is fair to numpy and to PyTorch alike: tracemalloc sees numpy's array buffers but not
PyTorch's (they are allocated in C++), so it cannot compare them. Every engine is measured
twice instead, by two methods that see both libraries the same way, during the same steps:

- RSS, the physical memory: glibc's malloc is told (through the environment, set by the
  parent) to give every block of 16 KiB or more its own mmap, returned to the system on free
  (otherwise glibc raises its mmap threshold after the first large free and keeps freed
  arrays resident in its heap, so a step's arrays would look free or held depending on
  history); transparent huge pages are off (numpy asks for them on arrays of 4 MiB or more,
  PyTorch does not); the peak is the kernel's high-water mark (VmHWM), reset before the step
  through /proc/self/clear_refs, so no sampling can miss a short peak (Linux only). The
  kernel keeps these counters per CPU and folds them in batches of 32 pages, so a figure is
  good to about +-0.13 MB: fine at batch 1024, coarse at batch 64.
- malloc, the bytes allocated: bench/malloc_peak.c, preloaded, counts every block obtained
  through malloc and its relatives at its usable size, with a peak the process resets; exact.
  It also counts memory that is allocated and never touched, which RSS does not (with more
  than one BLAS thread, OpenBLAS allocates such buffers on every matrix product).

The process first runs two steps of a throwaway trainer of the same engine (code pages, the
BLAS's buffers, lazy initialisation), then measures a fresh trainer:

- model: what making the trainer took (its copy of the parameters and what else it holds);
- held: what the trainer holds between steps, after two warm-up steps (gradients, optimizer
  state, caches);
- step: the peak during a step over the memory just before it (the median of three steps);
- peak: held + step, the memory a step needs beyond the parameters and the batch.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from trainers import (
    THREAD_VARS,
    W5_SIZES,
    EngineMissing,
    init_params,
    limit_threads,
    make_trainer,
    w5_batch,
)

MMAP_THRESHOLD = 16384
PR_SET_THP_DISABLE = 41
COUNTER_SRC = Path(__file__).resolve().parent / "malloc_peak.c"


def build_malloc_counter() -> tuple[Path | None, str]:
    """Compile bench/malloc_peak.c once (cached in the temp dir): (its path, "") or (None, why)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None, "no C compiler (cc) to build bench/malloc_peak.c"
    src = COUNTER_SRC.read_bytes()
    out = Path(tempfile.gettempdir()) / f"malloc_peak-{hashlib.sha256(src).hexdigest()[:12]}.so"
    if not out.exists():
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        cmd = [cc, "-O2", "-shared", "-fPIC", "-o", str(tmp), str(COUNTER_SRC)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return None, f"bench/malloc_peak.c did not build: {proc.stderr.strip()[-200:]}"
        tmp.replace(out)
    return out, ""


def child_env(counter: Path | None) -> dict[str, str]:
    """A memory process's environment: one thread, every large block its own mmap, the counter."""
    env = dict(os.environ)
    env["GLIBC_TUNABLES"] = (
        f"glibc.malloc.mmap_threshold={MMAP_THRESHOLD}:glibc.malloc.trim_threshold=0"
    )
    for var in THREAD_VARS:
        env[var] = "1"
    if counter is not None:
        env["LD_PRELOAD"] = str(counter)
    return env


def _status() -> dict[str, int]:
    """VmHWM, VmRSS and RssAnon of this process, in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon"):
                out[key] = int(value.split()[0]) * 1024
    return out


class RssProbe:
    """RSS: what is resident (RssAnon); a step's peak is the kernel's high-water mark (VmHWM),
    reset through /proc/self/clear_refs, over the resident set before it (VmRSS)."""

    ok = True

    def now(self) -> int:
        """The bytes held now."""
        return _status()["RssAnon"]

    def start(self) -> int:
        """Reset the peak; the base the step's peak is measured over."""
        base = _status()["VmRSS"]
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # 5: reset the peak resident set size to the current one
        return base

    def peak(self) -> int:
        """The peak since `start`."""
        return _status()["VmHWM"]


class MallocProbe:
    """malloc: the bytes of every live block, by the preloaded counter (bench/malloc_peak.c);
    `ok` is False in a process without it."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(None)
        self.ok = hasattr(lib, "malloc_peak_current")
        if self.ok:
            lib.malloc_peak_current.restype = ctypes.c_longlong
            lib.malloc_peak_peak.restype = ctypes.c_longlong
            self._lib = lib

    def now(self) -> int:
        """The bytes held now."""
        return int(self._lib.malloc_peak_current())

    def start(self) -> int:
        """Reset the peak; the base the step's peak is measured over."""
        self._lib.malloc_peak_reset()
        return self.now()

    def peak(self) -> int:
        """The peak since `start`."""
        return int(self._lib.malloc_peak_peak())


PROBES: dict[str, Callable[[], RssProbe | MallocProbe]] = {"rss": RssProbe, "malloc": MallocProbe}
"""The memory methods, each one entry: a probe that reads what is held now, and a step's peak
over a base it resets (report.py's memory table shows a column group per method)."""


def measure(engine: str, batch: int, dtype_name: str) -> dict[str, Any]:
    """One engine's memory figures for a W5 step (see the module docstring), in this process,
    by every probe of PROBES that works here."""
    ctypes.CDLL(None).prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)
    made_probes = {name: make() for name, make in PROBES.items()}
    probes = {name: p for name, p in made_probes.items() if p.ok}
    dtype = np.dtype(dtype_name)
    init = init_params(W5_SIZES, dtype)
    x, labels = w5_batch(batch, dtype)
    warm = make_trainer(engine, init, x, labels)
    keep = limit_threads()  # after the engine loaded: torch brings its own OpenMP runtime
    for _ in range(2):
        warm.step()
    del warm
    gc.collect()

    before = {name: p.now() for name, p in probes.items()}
    trainer = make_trainer(engine, init, x, labels)
    gc.collect()  # what making left as cyclic garbage (compile_grad's) is not the trainer's
    made = {name: p.now() for name, p in probes.items()}
    for _ in range(2):
        trainer.step()
    gc.collect()
    held = {name: p.now() - made[name] for name, p in probes.items()}
    steps: dict[str, list[int]] = {name: [] for name in probes}
    for _ in range(3):
        gc.collect()
        bases = {name: p.start() for name, p in probes.items()}
        trainer.step()
        for name, p in probes.items():
            steps[name].append(p.peak() - bases[name])
    del keep
    row: dict[str, Any] = {
        "engine": engine,
        "batch": batch,
        "dtype": dtype_name,
        "params": sum(a.nbytes for a in init),
    }
    for name in probes:
        step = int(statistics.median(steps[name]))
        row[name] = {
            "model": made[name] - before[name],
            "held": held[name],
            "step": step,
            "peak": held[name] + step,
        }
    return row


def run_child(engine: str, batch: int, dtype: str, counter: Path | None) -> dict[str, Any]:
    """Measure in a fresh process of its own (in the parent); a failure comes back as a row."""
    cmd = [sys.executable, str(Path(__file__).resolve()), engine, str(batch), dtype]
    env = child_env(counter)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"engine": engine, "batch": batch, "dtype": dtype, "error": tail}
    row: dict[str, Any] = json.loads(lines[-1])
    return row


def main(argv: list[str]) -> int:
    """The child's entry: measure and print one JSON line."""
    engine, batch, dtype = argv
    try:
        row = measure(engine, int(batch), dtype)
    except EngineMissing as exc:
        row = {"engine": engine, "batch": int(batch), "dtype": dtype, "skipped": str(exc)}
    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
