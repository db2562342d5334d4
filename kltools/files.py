"""Files kltools writes for the user: checked before any work starts, replaced atomically.

Two rules. *Nothing a user already has is lost by accident*: an output file that exists is
refused unless the caller says ``force`` (:func:`check_output`), and every check happens before
the first byte is written. *A file is never left half-written*: its new content goes to a
temporary file in the same directory, which :func:`os.replace` then renames over the target in
one step (:func:`replacing`, :func:`write_text_atomically`), so a kill, a full disk or an
exception leaves either the old file or the new one.

Errors are :class:`~kltools.errors.SpecError` naming the option (``--save``) and the path.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kltools.errors import SpecError

__all__ = ["check_output", "create_exclusively", "replacing", "write_text_atomically"]


def _probe(directory: Path, path: Path, option: str) -> None:
    """Create and remove a temporary file in ``directory``: the honest test of writability
    (``os.access`` says yes to root on read-only or virtual file systems)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".kltools-probe-", dir=directory)
    except OSError as exc:
        raise SpecError(f"cannot write {path}: {exc.strerror or exc}; choose a writable "
                        "directory", option) from None
    os.close(fd)
    os.unlink(name)


def check_output(path: str | Path, option: str, *, force: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written as a new output file.

    Refuses (:class:`~kltools.errors.SpecError` naming ``option`` and the path): a directory, a
    path whose directory is missing or not writable, and an existing file unless ``force``.
    Returns the path.
    """
    p = Path(path)
    if p.is_dir():
        raise SpecError(f"{p} is a directory; give a file name", option)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise SpecError(f"cannot write {p}: directory {parent} does not exist; create it "
                        "first", option)
    if not parent.is_dir():
        raise SpecError(f"cannot write {p}: {parent} is not a directory", option)
    if p.exists() and not force:
        raise SpecError(f"{p} exists; pass --force to overwrite it, or choose another name",
                        option)
    _probe(parent, p, option)
    return p


def _temporary(path: Path, option: str) -> Path:
    """A new empty file next to ``path``, with the suffix of ``path`` (matplotlib picks the
    format from it) and the mode a new file gets (mkstemp makes it private)."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=directory)
    except OSError as exc:
        raise SpecError(f"cannot write {path}: {exc.strerror or exc}", option) from None
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpecError(f"cannot write {path}: {exc.strerror or exc}", option) from None
    return tmp


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it back at once
    os.umask(mask)
    return mask


@contextlib.contextmanager
def replacing(path: str | Path, option: str) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block ends normally, rename it over
    ``path`` in one step. On any error the temporary file is removed and ``path`` is untouched;
    an :class:`OSError` (full disk, permissions) becomes a one-line
    :class:`~kltools.errors.SpecError` with the path."""
    p = Path(path)
    tmp = _temporary(p, option)
    try:
        yield tmp
        os.replace(tmp, p)
    except OSError as exc:
        raise SpecError(f"cannot write {p}: {exc.strerror or exc}", option) from None
    finally:
        tmp.unlink(missing_ok=True)


def create_exclusively(path: str | Path, text: str, option: str) -> bool:
    """Create ``path`` holding ``text``, complete or not at all; False if ``path`` exists.

    The text goes to a temporary file (flushed to disk), which is then hard-linked as ``path``:
    the link fails if ``path`` appeared meanwhile, so nothing is ever overwritten. File systems
    without hard links get an exclusive create and one write instead.
    """
    p = Path(path)
    tmp = _temporary(p, option)
    try:
        _write_synced(tmp, text)
        try:
            os.link(tmp, p)
        except FileExistsError:
            return False
        except OSError:  # no hard links on this file system
            try:
                _write_synced(p, text, mode="x")
            except FileExistsError:
                return False
        return True
    except OSError as exc:
        raise SpecError(f"cannot write {p}: {exc.strerror or exc}", option) from None
    finally:
        tmp.unlink(missing_ok=True)


def _write_synced(path: Path, text: str, mode: str = "w") -> None:
    with open(path, mode, encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_text_atomically(path: str | Path, text: str, option: str) -> None:
    """Replace ``path``'s content by ``text`` (UTF-8), flushed to disk before the rename."""
    with replacing(path, option) as tmp:
        _write_synced(tmp, text)
