"""How files are written (`write_file`, and `render_graph` and the CLI's --out through it).

Reference throughout: the file system itself, read with os.stat / os.readlink / read_bytes,
before and after the write.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd_lite import Value, draw_graph, render_graph
from autograd_lite.files import FileWriteError, write_file
from autograd_lite.render import RenderError

REPO = Path(__file__).resolve().parents[1]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".autograd-lite"))


def test_an_existing_files_mode_is_kept(tmp_path: Path) -> None:
    for bits in (0o600, 0o640, 0o755, 0o604):
        path = tmp_path / f"f{bits:o}.dot"
        path.write_bytes(b"old")
        os.chmod(path, bits)
        write_file(path, b"new")
        assert path.read_bytes() == b"new"
        assert mode(path) == bits, (oct(bits), oct(mode(path)))
    assert leftovers(tmp_path) == []


def test_a_new_files_mode_is_the_umask_s(tmp_path: Path) -> None:
    for umask in (0o022, 0o077, 0o002):
        old = os.umask(umask)
        try:
            path = write_file(tmp_path / f"new{umask:o}.dot", b"x")
        finally:
            os.umask(old)
        assert mode(path) == 0o666 & ~umask


def test_a_symlink_is_written_through_to_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.svg"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    write_file(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new" and mode(target) == 0o600


def test_a_chain_of_relative_symlinks_across_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    target = tmp_path / "b" / "real.dot"
    target.write_bytes(b"old")
    (tmp_path / "b" / "hop.dot").symlink_to("real.dot")  # relative to folder b
    (tmp_path / "a" / "first.dot").symlink_to(Path("..") / "b" / "hop.dot")
    write_file(tmp_path / "a" / "first.dot", b"new")
    assert target.read_bytes() == b"new"
    assert os.readlink(tmp_path / "a" / "first.dot") == os.path.join("..", "b", "hop.dot")
    assert os.readlink(tmp_path / "b" / "hop.dot") == "real.dot"
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["hop.dot", "real.dot"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    """Decision: as the shell's `>` and open(path, "w") do, the link stays and its target
    is created."""
    link = tmp_path / "link.dot"
    link.symlink_to("made.dot")
    write_file(link, b"new")
    assert link.is_symlink() and (tmp_path / "made.dot").read_bytes() == b"new"


def test_a_symlink_loop_is_an_error_naming_the_path(tmp_path: Path) -> None:
    a, b = tmp_path / "a.dot", tmp_path / "b.dot"
    a.symlink_to("b.dot")
    b.symlink_to("a.dot")
    with pytest.raises(FileWriteError, match=f"cannot write {a}: .*symbolic links"):
        write_file(a, b"x")
    assert os.readlink(a) == "b.dot" and os.readlink(b) == "a.dot"


def test_hard_links_are_kept(tmp_path: Path) -> None:
    first = tmp_path / "one.svg"
    first.write_bytes(b"old content, longer than the new one")
    os.chmod(first, 0o640)
    second = tmp_path / "two.svg"
    os.link(first, second)
    write_file(first, b"new")
    assert second.read_bytes() == b"new" and first.read_bytes() == b"new"
    assert os.stat(first).st_ino == os.stat(second).st_ino and os.stat(first).st_nlink == 2
    assert mode(first) == 0o640
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "g.dot"
    path.write_bytes(b"the user's")

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)  # the atomic path fails at its end
    with pytest.raises(FileWriteError, match=f"cannot write {path}: No space left"):
        write_file(path, b"new")
    assert path.read_bytes() == b"the user's" and leftovers(tmp_path) == []


def test_a_failed_write_in_place_puts_the_old_content_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autograd_lite.files as files

    path = tmp_path / "one.dot"
    path.write_bytes(b"the user's")
    os.link(path, tmp_path / "two.dot")  # so the file is written in place
    real = files._overwrite
    calls = []

    def half_then_full(f: Any, data: bytes) -> None:
        calls.append(data)
        if len(calls) == 1:  # the new content: half of it lands, then the disk is full
            f.seek(0)
            f.write(data[: len(data) // 2])
            f.flush()
            raise OSError(28, "No space left on device")
        real(f, data)

    monkeypatch.setattr(files, "_overwrite", half_then_full)
    with pytest.raises(FileWriteError, match=f"cannot write {path}: No space left"):
        write_file(path, b"a much longer new content")
    assert (tmp_path / "two.dot").read_bytes() == b"the user's"


def test_a_folder_or_a_missing_folder_is_an_error_naming_the_path(tmp_path: Path) -> None:
    folder = tmp_path / "taken.png"
    folder.mkdir()
    with pytest.raises(FileWriteError, match=f"cannot write {folder}: it is a folder"):
        write_file(folder, b"x")
    a_file = tmp_path / "a file"
    a_file.write_text("not a folder")
    for bad in (tmp_path / "missing" / "g.png", a_file / "g.png"):
        with pytest.raises(FileWriteError) as info:
            write_file(bad, b"x")
        assert str(info.value).startswith(f"cannot write {bad}: ")
        assert info.value.filename == str(bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file", "taken.png"]


def test_an_unwritable_place_is_an_error_naming_the_path(tmp_path: Path) -> None:
    def check(folder: Path) -> None:
        locked = folder / "locked"
        locked.mkdir()
        os.chmod(locked, 0o500)
        place = locked / "g.dot"
        with pytest.raises(FileWriteError, match=f"cannot write {place}: "):
            write_file(place, b"x")
        assert not place.exists()

    unprivileged(check, tmp_path)


def unprivileged(check: Any, tmp_path: Path) -> None:
    """Run check(folder) as a user the permission bits apply to: root may write any file, so
    as root (CI) the check runs in a child process switched to the user nobody, in a folder
    that user owns; otherwise here, in tmp_path."""
    if os.geteuid() != 0:
        check(tmp_path)
        return
    folder = Path(tempfile.mkdtemp(prefix="autograd-lite-files-"))
    os.chmod(folder, 0o755)
    os.chown(folder, NOBODY, NOBODY)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the check's failure through the pipe, never return
        os.close(read)
        code = 0
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            check(folder)
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    shutil.rmtree(folder)
    assert os.waitstatus_to_exitcode(status) == 0, report


NOBODY = 65534  # the uid and gid of nobody on Debian and Ubuntu


def test_a_read_only_file_is_left_as_it_is(tmp_path: Path) -> None:
    def check(folder: Path) -> None:
        path = folder / "g.dot"
        path.write_bytes(b"the user's")
        os.chmod(path, 0o444)
        with pytest.raises(FileWriteError, match=f"cannot write {path}: permission denied"):
            write_file(path, b"new")
        assert path.read_bytes() == b"the user's" and mode(path) == 0o444

    unprivileged(check, tmp_path)


def test_a_writable_file_in_a_locked_folder_is_written_in_place(tmp_path: Path) -> None:
    def check(parent: Path) -> None:
        folder = parent / "locked"
        folder.mkdir()
        path = folder / "g.dot"
        path.write_bytes(b"old")
        inode = os.stat(path).st_ino
        os.chmod(folder, 0o500)
        try:
            write_file(path, b"new")
        finally:
            os.chmod(folder, 0o700)
        assert path.read_bytes() == b"new" and os.stat(path).st_ino == inode

    unprivileged(check, tmp_path)


def test_keep_existing_never_replaces_a_name_even_a_dangling_link(tmp_path: Path) -> None:
    (tmp_path / "g.dot").symlink_to("nowhere.dot")
    (tmp_path / "g.1.dot").write_bytes(b"mine")
    written = write_file(tmp_path / "g.dot", b"new", keep_existing=True)
    assert written == tmp_path / "g.2.dot" and written.read_bytes() == b"new"
    assert (tmp_path / "g.1.dot").read_bytes() == b"mine"
    assert not (tmp_path / "nowhere.dot").exists()


def test_render_graph_keeps_mode_symlink_and_links(tmp_path: Path) -> None:
    root = Value(2.0, label="x") * 3
    target = tmp_path / "real.dot"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    os.link(target, tmp_path / "hard.dot")
    (tmp_path / "link.dot").symlink_to("real.dot")
    render_graph(root, tmp_path / "link.dot")
    expected = draw_graph(root).source.encode("utf-8")
    assert (tmp_path / "link.dot").is_symlink()
    assert target.read_bytes() == expected == (tmp_path / "hard.dot").read_bytes()
    assert mode(target) == 0o600


def test_a_failed_drawing_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "g.dot"
    path.write_bytes(b"the user's")
    with pytest.raises(ValueError):
        render_graph(Value(1.0) * 2, path, rankdir="sideways")
    too_big = Value(1.0)
    for _ in range(5):
        too_big = too_big * 2
    with pytest.raises(Exception, match="max_nodes"):
        render_graph(too_big, path, max_nodes=3)
    assert path.read_bytes() == b"the user's" and sorted(os.listdir(tmp_path)) == ["g.dot"]


def test_render_graph_names_a_folder_path(tmp_path: Path) -> None:
    folder = tmp_path / "g.dot"
    folder.mkdir()
    with pytest.raises(RenderError, match=f"cannot write {folder}: it is a folder") as info:
        render_graph(Value(1.0) * 2, folder)
    assert info.value.path == folder


def test_the_clis_out_keeps_mode_and_writes_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real.dot"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    (tmp_path / "link.dot").symlink_to("real.dot")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "--out", "link.dot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "link.dot").is_symlink() and mode(target) == 0o600
    assert target.read_text(encoding="utf-8").startswith("digraph")


def test_nn_save_keeps_mode_and_writes_through_a_symlink(tmp_path: Path) -> None:
    from autograd_lite import nn

    target = tmp_path / "weights.npz"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    (tmp_path / "link.npz").symlink_to("weights.npz")
    nn.save({"w": np.arange(3.0)}, tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink() and mode(target) == 0o600
    np.testing.assert_array_equal(np.load(target)["w"], np.arange(3.0))
    with pytest.raises(OSError, match=f"cannot write {tmp_path / 'no' / 'w.npz'}: "):
        nn.save({"w": np.arange(3.0)}, tmp_path / "no" / "w.npz")
