"""The package builds as a wheel that holds every module, py.typed and the console script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_every_module_and_the_console_script(tmp_path: Path) -> None:
    # Reference: the .py files in the source tree, and the [project.scripts] entry.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("autograd_lite-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "autograd_lite").rglob("*.py")}
    assert sources and sources <= names
    assert "autograd_lite/py.typed" in names
    (entry_points,) = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "autograd-lite = autograd_lite.walkthrough.cli:main" in text
