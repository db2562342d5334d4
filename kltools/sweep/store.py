"""The results file of a sweep: a header line, then one JSON line per finished initialisation.

Line 1 (the header) records what the results are results *of*: the spec (canonical JSON and its
SHA-256), the mode and property, the options that change results (``t_end``, ``dps``, ``seed``,
``scale``, the property's options), the initialisation rule and the package versions. A file whose
header differs in any of the identifying fields is refused, never mixed.

Each result is written with one ``write`` followed by ``flush`` and ``os.fsync``, so a killed
sweep loses only the runs in flight (and at worst leaves one incomplete last line, which the next
run drops with a note on stderr and recomputes). An exclusive ``flock`` keeps two sweeps from
writing the same file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kltools.errors import SpecError
from kltools.files import create_exclusively, write_text_atomically

__all__ = ["FORMAT", "IDENTITY", "ResultFile", "canonical_json", "make_header", "slim",
           "versions"]

FORMAT = "kltools-sweep/1"
#: Longest header line read (the spec is in it): a larger first line is not a sweep header.
MAX_HEADER_CHARS = 1 << 26
#: Header fields that must agree for two runs to share a results file.
IDENTITY = ("format", "spec_sha256", "mode", "property", "options", "init_rule")
INIT_RULE = ("theta_j = scale * Rational(f'{g_j:.12g}'), g = numpy.random.default_rng("
             "SeedSequence(seed, spawn_key=(index,))).standard_normal(P)")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, no NaN: the same document always gives the same text."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"the spec cannot be recorded as JSON ({exc}); write numbers as strings "
                        "or finite numbers") from None


def versions() -> dict[str, str | None]:
    """Versions of the packages that decide the digits of a result."""
    from importlib import metadata

    out: dict[str, str | None] = {}
    for pkg in ("kltools", "sympy", "mpmath", "gmpy2", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def make_header(spec: dict[str, Any], name: str, mode: str, prop: str | None,
                options: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The header line of a new results file."""
    text = canonical_json(spec)
    return {"format": FORMAT, "name": name, "spec": json.loads(text),
            "spec_sha256": hashlib.sha256(text.encode()).hexdigest(), "mode": mode,
            "property": prop, "options": options, "init_rule": INIT_RULE,
            "versions": versions(), **extra}


@dataclass
class ResultFile:
    """An open, locked results file: the header, the runs done (:func:`slim` records by index),
    and :meth:`append`."""

    path: Path
    header: dict[str, Any]
    done: dict[int, dict[str, Any]] = field(default_factory=dict)
    handle: IO[str] | None = None

    @staticmethod
    def open(path: str | Path, header: dict[str, Any]) -> ResultFile:
        """Open ``path`` for appending under ``header``: create it, or check and resume it.

        Nothing is written before the file is known to be this sweep's: a new file appears with
        its header complete (written to a temporary file, then linked into place); an existing
        one is read and checked first, and repaired (an incomplete last line dropped, duplicate
        results removed) only by writing the repaired copy to a temporary file and renaming it
        over the original. An existing empty file is taken as new (it holds nothing to lose).

        Raises :class:`~kltools.errors.SpecError` (path ``--out``) when the file belongs to another
        spec or other options, is not a sweep file, or is being written by another sweep.
        """
        path = Path(path)
        if path.is_dir():
            raise SpecError(f"{path} is a directory; give a file name such as results.jsonl",
                            "--out")
        if not path.exists():
            create_exclusively(path, json.dumps(header, ensure_ascii=False) + "\n", "--out")
        # The file exists now (ours, or one that appeared meanwhile): checked under the lock.
        try:
            handle = open(path, "r+", encoding="utf-8")  # noqa: SIM115 (kept open: the sweep)
        except OSError as exc:
            raise SpecError(f"cannot open {path} for appending: {exc.strerror or exc}",
                            "--out") from None
        try:
            _lock(handle, path)
            rf = ResultFile(path, header, handle=handle)
            try:
                first = handle.readline(MAX_HEADER_CHARS)
                if not first:
                    rf._write(header)
                    return rf
                if _header_of(first) is None:
                    raise _ForeignFileError  # not ours: say so below, touch nothing
                return rf._resume(first + handle.read())
            except (UnicodeError, _ForeignFileError):  # undecodable bytes are not ours either
                raise SpecError(f"{path} is not a kltools sweep file (its first line is not a "
                                "sweep header); choose another --out", "--out") from None
        except BaseException:
            handle.close()
            raise

    def _resume(self, text: str) -> ResultFile:
        """Check the file's header and results; repair what an interrupted write or a copy left
        (through a temporary file and a rename); return the open file positioned at its end."""
        assert self.handle is not None
        complete = text.endswith("\n")
        lines = text.splitlines()
        old = _header_of(lines[0]) if complete or len(lines) > 1 else None
        if old is None:
            raise _ForeignFileError  # the header line itself is incomplete
        diff = [k for k in IDENTITY if old.get(k) != self.header.get(k)]
        if diff:
            raise SpecError(f"{self.path} holds results of a different sweep "
                            f"({_describe(diff, old, self.header)}); refusing to mix them: "
                            "choose another --out, or rerun with the file's spec and options",
                            "--out")
        if old.get("versions") != self.header.get("versions"):
            print(f"kltools: warning: {self.path} was started with package versions "
                  f"{old.get('versions')}, now {self.header.get('versions')}; results may "
                  "differ in the last digits", file=sys.stderr)
        self.header = old
        body = lines[1:] if complete else lines[1:-1]  # a write cut short by a kill
        kept = self._results(body, old)
        notes = [] if complete else [f"dropped an incomplete last line ({len(lines[-1])} "
                                     "characters) left by an interrupted write"]
        if len(kept) < len(body):
            notes.append(f"removed {len(body) - len(kept)} duplicate result line"
                         f"{'s' if len(body) - len(kept) > 1 else ''}")
        if notes:
            print(f"kltools: note: {self.path}: {'; '.join(notes)}", file=sys.stderr)
            self._rewrite([lines[0], *kept])
        self.handle.seek(0, os.SEEK_END)
        return self

    def _results(self, body: list[str], header: dict[str, Any]) -> list[str]:
        """The result lines to keep: the first one of each seed, in file order. A line that is
        not a result of this sweep (not JSON, no index, another seed) is refused."""
        entropy = (header.get("options") or {}).get("seed")
        kept: list[str] = []
        for k, raw in enumerate(body, start=2):
            try:
                line = json.loads(raw)
                index = int(line["index"])
                seed = line.get("seed") or {"entropy": entropy, "spawn_key": [index]}
                same = seed == {"entropy": entropy, "spawn_key": [index]}
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                raise SpecError(f"{self.path}, line {k}: not a sweep result; repair or move the "
                                "file", "--out") from None
            if not same:
                raise SpecError(f"{self.path}, line {k}: the result of seed {seed}, not of "
                                f"this sweep's seed {entropy} and index {index}; repair or move "
                                "the file", "--out")
            if index not in self.done:
                self.done[index] = slim(line)
                kept.append(raw)
        return kept

    def _rewrite(self, lines: list[str]) -> None:
        """Replace the file by ``lines`` (temporary file + rename) and move the lock and the
        handle to the new file."""
        assert self.handle is not None
        write_text_atomically(self.path, "".join(f"{ln}\n" for ln in lines), "--out")
        handle = open(self.path, "r+", encoding="utf-8")  # noqa: SIM115 (kept open: the sweep)
        try:
            _lock(handle, self.path)
        except BaseException:
            handle.close()
            raise
        self.handle.close()
        self.handle = handle

    def _write(self, obj: dict[str, Any]) -> None:
        assert self.handle is not None
        self.handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def append(self, line: dict[str, Any]) -> None:
        """Write one result durably (flush + fsync) and remember it as done."""
        self._write(line)
        self.done.setdefault(int(line["index"]), slim(line))

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing releases the flock
            self.handle = None


class _ForeignFileError(Exception):
    """The file is not a sweep file (reported by :meth:`ResultFile.open`, which writes nothing)."""


def _header_of(first: str) -> dict[str, Any] | None:
    """The sweep header on a file's first line, or None if it is not one."""
    try:
        old = json.loads(first)
    except json.JSONDecodeError:
        return None
    return old if isinstance(old, dict) and old.get("format") == FORMAT else None


def slim(line: dict[str, Any]) -> dict[str, Any]:
    """The fields of a result line the summary reads (a million full lines would not fit in
    memory; the file keeps everything): index, outcome, verdict, figures, detail, error, and the
    init of refuted runs."""
    out = {k: line.get(k) for k in ("index", "outcome", "verdict", "figures", "detail", "error")}
    if line.get("verdict") == "refuted":
        out["init"] = line.get("init")
    return out


def _describe(diff: list[str], old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    for k in diff:
        if k == "spec_sha256":
            parts.append(f"spec {old.get('name') or '?'} sha256 {str(old.get(k))[:12]} vs "
                         f"{new.get('name') or '?'} sha256 {str(new.get(k))[:12]}")
        elif k == "options":
            a, b = old.get(k) or {}, new.get(k) or {}
            keys = sorted(set(a) | set(b))
            parts.append("options " + ", ".join(f"{x} {a.get(x)!r} vs {b.get(x)!r}"
                                                 for x in keys if a.get(x) != b.get(x)))
        else:
            parts.append(f"{k} {old.get(k)!r} vs {new.get(k)!r}")
    return "; ".join(parts) + " (file vs this run)"


def _lock(handle: IO[str], path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover (not POSIX): no protection against two writers
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SpecError(f"another kltools sweep is writing {path}; wait for it or choose "
                        "another --out", "--out") from None
