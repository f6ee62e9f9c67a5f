"""`write_file`: the one place the package writes a file (drawings, pages, example pictures).

A file is written the way a user who owns it expects:

- a symlink is written through to its target (a chain of them is followed to its end, a
  relative one from the folder that holds it; a dangling one creates its target, as the
  shell's `>` does); the link itself stays a link;
- an existing regular file keeps its permission bits; a new file gets 0o666 minus the umask,
  as `open(path, "w")` would give;
- a file with other hard links is rewritten in place, so that every name sees the new
  content (a rename would give this name a new file and leave the others the old one);
  if that write fails, the old content is written back;
- otherwise the data goes to a temporary file beside the target, which then replaces it by
  a rename: readers see the old file or the new one, never half of one, and a failure
  leaves the old file as it was and nothing else behind;
- anything else (a folder, a missing folder, a place nobody may write, a file the user may
  not write, even in a folder where a rename could replace it) is a `FileWriteError` that
  names the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["FileWriteError", "write_file"]

_MAX_LINKS = 40  # symlinks followed before giving up, as Linux's own limit
_MAX_FREE_NAMES = 100  # names `keep_existing` tries before giving up


class FileWriteError(OSError):
    """A file could not be written; the message names the path asked for and why.

    `filename` is that path; `errno` the system's error number when there was one.
    """

    def __init__(self, path: Path, reason: str, number: int | None = None) -> None:
        super().__init__(number, f"cannot write {path}: {reason}")
        self.filename = str(path)

    def __str__(self) -> str:
        return str(self.strerror)


def write_file(path: str | os.PathLike[str], data: bytes, *, keep_existing: bool = False) -> Path:
    """Write `data` to `path` (see the module's docstring for how); return the path written.

    With `keep_existing`, no existing name is replaced: the data goes to the first free name
    of `path`, `stem.1.suffix`, `stem.2.suffix`, ... (a symlink, even a dangling one, counts
    as taken) and the name used is returned.
    Raises `FileWriteError`, naming `path`, when it cannot be written.
    """
    path = Path(path)
    if keep_existing:
        return _write_new(path, data)
    target = _final_target(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _error(path, e) from e
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise FileWriteError(path, "it is a folder, not a file", errno.EISDIR)
    if st is not None and not os.access(target, os.W_OK):
        # A rename could replace it, but a read-only file says: do not change me (as `>` has it).
        raise FileWriteError(path, "permission denied: the file is read-only", errno.EACCES)
    if st is not None and (not stat.S_ISREG(st.st_mode) or st.st_nlink > 1):
        _write_in_place(path, target, data)  # a device, a pipe, or a file of several names
        return path
    try:
        _replace(target, data, st)
    except PermissionError as e:
        # No temporary file may be made in the folder, but the file itself is writable.
        if st is None:
            raise _error(path, e) from e
        _write_in_place(path, target, data)
    except OSError as e:
        raise _error(path, e) from e
    return path


def _error(path: Path, e: OSError) -> FileWriteError:
    return FileWriteError(path, e.strerror or str(e), e.errno)


def _final_target(path: Path) -> Path:
    """The file a chain of symlinks at `path` ends at (`path` itself if it is no symlink).

    A relative link is read from the folder holding it; the target need not exist.
    """
    seen = 0
    while True:
        try:
            link = os.readlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return path  # a new file, or a parent that is missing: opening it will say which
        except OSError as e:
            if e.errno == errno.EINVAL:  # not a symlink
                return path
            raise _error(path, e) from e
        seen += 1
        if seen > _MAX_LINKS:
            raise FileWriteError(path, "too many levels of symbolic links", errno.ELOOP)
        path = path.parent / link  # an absolute link replaces the whole path


def _temporary(folder: Path, mode: int) -> tuple[Path, int]:
    """A new, empty file in `folder` created with `mode` (minus the umask) and its fd."""
    # A short name of its own: the path's name plus a suffix could pass the 255-byte limit.
    tmp = folder / f".autograd-lite-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return tmp, os.open(tmp, flags, mode)


def _replace(target: Path, data: bytes, old: os.stat_result | None) -> None:
    """Write a temporary file beside `target` and rename it over `target`.

    A new file (`old` None) gets 0o666 minus the umask, as open() gives; a replaced one the
    old file's permission bits, set before any data is written (a 0o600 file is never
    readable by others, not even for a moment), and its owner when that may be set.
    """
    tmp, fd = _temporary(target.parent, 0o666 if old is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            if old is not None:
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.chown(f.fileno(), old.st_uid, old.st_gid)
                os.chmod(f.fileno(), stat.S_IMODE(old.st_mode))
            f.write(data)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # gone already after the rename


def _write_in_place(path: Path, target: Path, data: bytes) -> None:
    """Overwrite `target` itself, so that every hard link sees the new content; a regular
    file gets its old content back if the new one cannot be written whole."""
    try:
        if not stat.S_ISREG(os.stat(target).st_mode):  # a device or a pipe: just write
            with open(target, "wb") as f:
                f.write(data)
            return
        with open(target, "r+b") as f:
            old = f.read()
            try:
                _overwrite(f, data)
            except OSError:
                with contextlib.suppress(OSError):
                    _overwrite(f, old)
                raise
    except OSError as e:
        raise _error(path, e) from e


def _overwrite(f: BinaryIO, data: bytes) -> None:
    f.seek(0)
    f.write(data)
    f.truncate()
    f.flush()


def _write_new(path: Path, data: bytes) -> Path:
    """Write `data` to the first free name of `path`, `stem.1.suffix`, ...; return it."""
    try:
        tmp, fd = _temporary(path.parent, 0o666)
    except OSError as e:
        raise _error(path, e) from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        for k in range(_MAX_FREE_NAMES):
            name = path if k == 0 else path.with_name(f"{path.stem}.{k}{path.suffix}")
            try:
                try:
                    os.link(tmp, name)  # unlike a rename, a link never replaces a file
                except FileExistsError:
                    raise
                except OSError:  # no hard links on this file system: create it exclusively
                    with open(name, "xb") as f:
                        f.write(data)
            except FileExistsError:
                continue
            return name
        raise FileWriteError(path, f"it and {_MAX_FREE_NAMES - 1} more names are taken")
    except FileWriteError:
        raise
    except OSError as e:
        raise _error(path, e) from e
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # after a link, the second name
