"""MkDocs hook: pages generated from the code, so that the docs cannot drift from it.

* ``<!-- kltools:properties -->`` becomes the table of properties (name, claim, default horizon)
  read from :data:`kltools.checks.properties.PROPERTIES`;
* ``<!-- kltools:proofs -->`` becomes one section per proof script: title, source, hypotheses,
  every claim with the verdict it is expected to get (read from the script's ``rec.claim(...)``
  calls without running it), the mathematics (the script's docstring) and the toy models.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

_ROLE = re.compile(r":(?:class|func|meth|data|mod|attr|exc):`~?([^`]+)`")


_STAR = re.compile(r"(?<![*\\])\*(?!\*)")


def _plain(doc: str) -> str:
    """A docstring as Markdown: Sphinx roles become code spans, and a lone ``*`` (L*, θ*) is a
    character, not emphasis; ``**bold**`` and ``* `` bullets stay."""
    lines = []
    for line in _ROLE.sub(lambda m: f"`{m.group(1).split('.')[-1]}`", doc).splitlines():
        bullet = re.match(r"^(\s*\* )", line)
        head = bullet.group(1) if bullet else ""
        lines.append(head + _STAR.sub(r"\\*", line[len(head):]))
    return "\n".join(lines)


def properties_table() -> str:
    from kltools.checks.properties import PROPERTIES

    rows = ["| property | claim | default `--t-end` |", "| --- | --- | --- |"]
    for name, spec in PROPERTIES.items():
        rows.append(f"| [`{name}`](#{name}) | {spec.claim.replace('|', '&#124;')} | "
                    f"{spec.default_t_end} |")
    return "\n".join(rows)


def expected_claims(path: Path) -> list[tuple[str, str, bool]]:
    """(claim text, expected verdict, is a control) of every ``rec.claim(...)`` in a script.

    f-string parts computed at run time are shown as ``…``.
    """
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "claim" and len(node.args) >= 2):
            continue
        text, expected = node.args[0], node.args[1]
        if isinstance(text, ast.Constant):
            claim = str(text.value)
        elif isinstance(text, ast.JoinedStr):
            claim = "".join(str(v.value) if isinstance(v, ast.Constant) else "…"
                            for v in text.values)
        else:
            claim = "…"
        verdict = expected.value if isinstance(expected, ast.Constant) else "(computed)"
        control = any(k.arg == "control" and isinstance(k.value, ast.Constant) and k.value.value
                      for k in node.keywords)
        out.append((claim, str(verdict), control))
    return out


def proof_section(name: str) -> str:
    from kltools.proving.registry import load_proof

    module = load_proof(name)
    proof = module.PROOF
    lines = [f"## `{name}`", "", f"**{proof.title}.**", "", f"*Source:* {proof.source}.", "",
             f"Run it: `kltools prove {name}` (add `--quick` for the reduced mode).", "",
             "**Hypotheses**", ""]
    lines += [f"- {_STAR.sub(r'&#42;', h)}" for h in proof.hypotheses]
    lines += ["", "**Claims and the verdict each is expected to get**", "",
              "| claim | expected | control |", "| --- | --- | --- |"]
    for claim, verdict, control in expected_claims(Path(module.__file__)):
        cell = claim.replace("|", "&#124;").replace("*", "&#42;")
        lines.append(f"| {cell} | {verdict} | {'yes' if control else ''} |")
    doc = inspect.getdoc(module) or ""
    lines += ["", '??? note "The mathematics and the verdict rules (the script\'s docstring)"', ""]
    lines += [f"    {ln}" if ln else "" for ln in _plain(doc).splitlines()]
    for model, toml in proof.models.items():
        lines += ["", f'??? example "Toy model `{model}`"', "", "    ```toml"]
        lines += [f"    {ln}" if ln else "" for ln in toml.strip().splitlines()]
        lines += ["    ```"]
    return "\n".join(lines) + "\n"


def proofs_sections() -> str:
    from kltools.proving.registry import available

    return "\n".join(proof_section(name) for name in available())


_MARKERS = {"<!-- kltools:properties -->": properties_table,
            "<!-- kltools:proofs -->": proofs_sections}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for marker, make in _MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
