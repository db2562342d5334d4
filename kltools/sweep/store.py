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

__all__ = ["FORMAT", "IDENTITY", "ResultFile", "canonical_json", "make_header", "slim",
           "versions"]

FORMAT = "kltools-sweep/1"
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

        Raises :class:`~kltools.errors.SpecError` (path ``--out``) when the file belongs to another
        spec or other options, is not a sweep file, or is being written by another sweep.
        """
        path = Path(path)
        if path.is_dir():
            raise SpecError(f"{path} is a directory; give a file name such as results.jsonl",
                            "--out")
        try:
            handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (kept open: the sweep)
        except OSError as exc:
            raise SpecError(f"cannot open {path} for appending: {exc}", "--out") from None
        try:
            _lock(handle, path)
            handle.seek(0)
            text = handle.read()
            rf = ResultFile(path, header, handle=handle)
            if not text:
                rf._write(header)
            else:
                rf._resume(text)
            return rf
        except BaseException:
            handle.close()
            raise

    def _resume(self, text: str) -> None:
        assert self.handle is not None
        if not text.endswith("\n"):
            # A write cut short by a kill: an incomplete result, recomputed below.
            keep = text.rfind("\n") + 1
            if keep == 0:
                raise SpecError(f"{self.path} holds no complete line; it is not a sweep file "
                                "(or its header was cut short): move it away", "--out")
            print(f"kltools: note: {self.path}: dropped an incomplete last line "
                  f"({len(text) - keep} bytes) left by an interrupted write", file=sys.stderr)
            self.handle.truncate(len(text[:keep].encode("utf-8")))
            self.handle.seek(0, os.SEEK_END)
            text = text[:keep]
        lines = text.splitlines()
        try:
            old = json.loads(lines[0])
        except json.JSONDecodeError:
            old = None
        if not isinstance(old, dict) or old.get("format") != FORMAT:
            raise SpecError(f"{self.path} is not a kltools sweep file (its first line is not a "
                            "sweep header); choose another --out", "--out")
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
        for k, raw in enumerate(lines[1:], start=2):
            try:
                line = json.loads(raw)
                index = int(line["index"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                raise SpecError(f"{self.path}, line {k}: not a sweep result; repair or move the "
                                "file", "--out") from None
            self.done.setdefault(index, slim(line))

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
