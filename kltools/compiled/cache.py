"""The compiled-program cache: straight-line programs kept on disk between processes.

Deriving a problem (SymPy) and compiling its programs costs seconds, and importing SymPy alone
about 0.3 s; the programs themselves are plain data (:class:`~kltools.compiled.program.Program`:
integers, operation names and exact ``Fraction`` constants). This module stores such data per
*key* and reads it back without importing SymPy.

Key
    ``sha256(format | kltools version | code fingerprint | spec digest)`` where the spec digest
    is the SHA-256 of the spec document as canonical JSON (:func:`spec_digest`: sorted keys, no
    spaces, so formatting and key order of the TOML file do not matter) and the code fingerprint
    digests the size and modification time of every module of the installed ``kltools`` package
    (an edited checkout invalidates the cache even when the version number stays).
Place
    ``$KLTOOLS_CACHE_DIR`` when set, else the user cache directory of ``platformdirs``
    (``~/.cache/kltools`` on Linux, honouring ``XDG_CACHE_HOME``), sub-directory ``programs``.
Files
    One directory per key, one JSON file per entry (``flow.json``, ``sliding-3.json``, …). A file
    is a header line ``{"format", "key", "entry", "sha256"}`` and the body text; the body is used
    only when its SHA-256 matches the header. JSON, not pickle: a cache file never runs code.
Concurrency
    A writer writes a temporary file in the same directory and renames it over the entry
    (``os.replace``, atomic on POSIX and Windows): concurrent sweeps writing the same entry leave
    one complete file, and readers see the old file or the new one, never a mixture.
Failure
    The cache is an optimisation. An unreadable, truncated or tampered file is a miss (the
    caller recompiles and overwrites it); a cache directory that cannot be written is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from kltools.compiled.program import Program

__all__ = ["FORMAT", "ProgramCache", "cache_root", "code_version", "program_from_json",
           "program_to_json", "spec_digest"]

#: Layout of the cached files; bump when their content changes meaning.
FORMAT = "kltools-programs/1"


def cache_root() -> Path:
    """The directory holding every cache entry (created on the first write)."""
    env = os.environ.get("KLTOOLS_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("kltools", appauthor=False)) / "programs"


def spec_digest(doc: Mapping[str, Any]) -> str:
    """SHA-256 of a spec document (the parsed TOML) as canonical JSON.

    >>> spec_digest({"b": 1, "a": "x"}) == spec_digest({"a": "x", "b": 1})
    True
    """
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """The kltools version and a fingerprint of its modules (path, size, mtime of each .py)."""
    import kltools

    package = Path(kltools.__file__).parent
    h = hashlib.sha256(str(kltools.__version__).encode())
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return f"{kltools.__version__}+{h.hexdigest()[:16]}"


def program_to_json(p: Program) -> dict[str, Any]:
    """A :class:`Program` as JSON-ready data (Fractions as ``"p/q"`` strings), exactly."""
    return {
        "n_inputs": p.n_inputs, "n_switches": p.n_switches,
        "constants": [str(c) for c in p.constants],
        "instrs": [[op, a, b, None if c is None else str(c)] for op, a, b, c in p.instrs],
        "outputs": list(p.outputs),
        "input_names": list(p.input_names), "switch_names": list(p.switch_names),
    }


def program_from_json(data: Mapping[str, Any]) -> Program:
    """Inverse of :func:`program_to_json` (``program_from_json(program_to_json(p)) == p``)."""
    return Program(
        n_inputs=int(data["n_inputs"]), n_switches=int(data["n_switches"]),
        constants=tuple(Fraction(c) for c in data["constants"]),
        instrs=tuple((str(op), int(a), int(b), None if c is None else Fraction(c))
                     for op, a, b, c in data["instrs"]),
        outputs=tuple(int(o) for o in data["outputs"]),
        input_names=tuple(data["input_names"]), switch_names=tuple(data["switch_names"]),
    )


class ProgramCache:
    """Entries (JSON documents) per key, on disk. See the module docstring.

    Parameters
    ----------
    root
        The cache directory (default :func:`cache_root`).
    version
        The code version the keys include (default :func:`code_version`).
    """

    def __init__(self, root: Path | str | None = None, version: str | None = None) -> None:
        self.root = Path(root) if root is not None else cache_root()
        self.version = version if version is not None else code_version()

    def key(self, digest: str) -> str:
        """The entry directory name of a spec digest under this code version."""
        return hashlib.sha256(f"{FORMAT}|{self.version}|{digest}".encode()).hexdigest()

    def _path(self, key: str, entry: str) -> Path:
        return self.root / key / f"{entry}.json"

    def load(self, key: str, entry: str) -> Any | None:
        """The stored document, or ``None`` when absent, unreadable or corrupt."""
        try:
            raw = self._path(key, entry).read_bytes()
            head, _, body = raw.partition(b"\n")
            header = json.loads(head)
            if (header.get("format") != FORMAT or header.get("key") != key
                    or header.get("entry") != entry
                    or header.get("sha256") != hashlib.sha256(body).hexdigest()):
                return None
            return json.loads(body)
        except (OSError, ValueError, AttributeError):
            return None

    def store(self, key: str, entry: str, document: Any) -> bool:
        """Write ``document`` atomically; ``False`` (and nothing raised) when it cannot."""
        try:
            body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        except (TypeError, ValueError):  # not JSON data: nothing to keep
            return False
        header = json.dumps({"format": FORMAT, "key": key, "entry": entry,
                             "sha256": hashlib.sha256(body).hexdigest()}).encode()
        target = self._path(key, entry)
        tmp = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{entry}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(header + b"\n" + body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            return True
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return False

    def entries(self) -> list[Path]:
        """The entry directories present: only directories named by a key (64 hex digits), so
        a cache directory pointed at a folder with other content never loses that content."""
        try:
            return sorted(p for p in self.root.iterdir()
                          if p.is_dir() and len(p.name) == 64
                          and all(ch in "0123456789abcdef" for ch in p.name))
        except OSError:
            return []

    def clear(self) -> int:
        """Remove every entry (of every version); the number of entry directories removed.
        Nothing but entry directories is touched."""
        gone = 0
        for p in self.entries():
            shutil.rmtree(p, ignore_errors=True)
            gone += not p.exists()
        return gone
