"""A clone of the repository is self-contained: nothing in the package, the proofs, the README or
the docs points at files a clone does not have, the licence the metadata names is there, and the
version is one number."""

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import kltools
from kltools.cli import main

ROOT = Path(__file__).resolve().parents[1]

# References to material outside the repository: the project's private notes, and the internal
# names of the papers' summaries. Papers are cited by title and arXiv number instead.
# (The notes' names are matched in capitals: docs/theory.md is the repository's own page.)
FORBIDDEN = re.compile(
    r"\.\./shared|/work/|THEORY\.md|ARCHITECTURE\.md|STYLE\.md|PERFORMANCE\.md"
    r"|(?i:seed 0|seeds/|seed 00\d)")


def shipped_text_files(root: Path) -> list[Path]:
    """The files a user reads: package and proof sources, README, docs and the site config."""
    files = [*root.glob("kltools/**/*.py"), *root.glob("proofs/**/*.py"), root / "README.md",
             *root.glob("docs/**/*.md"), *root.glob("docs/**/*.ipynb"), root / "mkdocs.yml",
             root / "pyproject.toml"]
    return sorted(f for f in files if f.is_file())


def outside_references(files: list[Path]) -> list[str]:
    """``path:line: text`` for every line that refers to something outside the repository."""
    hits = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FORBIDDEN.search(line):
                hits.append(f"{path}:{number}: {line.strip()}")
    return hits


def test_the_scan_covers_package_proofs_readme_and_docs() -> None:
    files = {f.relative_to(ROOT).as_posix() for f in shipped_text_files(ROOT)}
    assert {"README.md", "kltools/cli.py", "proofs/rayleigh.py", "pyproject.toml", "mkdocs.yml",
            "docs/index.md", "docs/theory.md", "docs/reference/spec.md"} <= files


def test_nothing_refers_to_files_outside_the_repository() -> None:
    hits = outside_references(shipped_text_files(ROOT))
    assert hits == [], "\n".join(hits)


@pytest.mark.parametrize("line", [
    "per theorem of `../shared/THEORY.md`",
    "the codimension-2 situation seed 003 says",
    "(Seed 001, arXiv 2301.08117)",
    "see ARCHITECTURE.md",
    "the summaries in seeds/",
])
def test_the_scan_finds_a_planted_reference(tmp_path: Path, line: str) -> None:
    # Negative control: each kind of outside reference is caught.
    bad = tmp_path / "kltools" / "mod.py"
    bad.parent.mkdir()
    bad.write_text(f'"""Docstring."""\n# {line}\n', encoding="utf-8")
    assert len(outside_references([bad])) == 1


def test_random_seeds_are_not_mistaken_for_outside_references(tmp_path: Path) -> None:
    ok = tmp_path / "mod.py"
    ok.write_text("seed = 0\nseeds = [1, 2]  # seeds every random initialisation\n",
                  encoding="utf-8")
    assert outside_references([ok]) == []


def test_every_proof_cites_its_paper_by_title_and_arxiv_number() -> None:
    from kltools.proving.registry import load_proof

    papers = {"directional": "2006.06657", "rayleigh": "2301.08117",
              "lojasiewicz-simon": "2311.15365", "unified-linear": "2509.23887",
              "euler-balancedness": "2307.00144", "energy-blowup": "2509.23887"}
    for name, arxiv in papers.items():
        source = load_proof(name).PROOF.source
        assert f"arXiv {arxiv}" in source, (name, source)
        assert re.search(r'"[A-Z][^"]{20,}"', source), f"{name}: quote the paper's title: {source}"


def test_the_licence_named_in_the_metadata_is_in_the_repository() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["license"] == {"text": "MIT"}
    assert "License :: OSI Approved :: MIT License" in meta["classifiers"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "WITHOUT WARRANTY OF ANY KIND" in text
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(meta["urls"])


def test_one_version_number_printed_by_the_command() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in meta["project"]["dynamic"]
    assert meta["tool"]["hatch"]["version"]["path"] == "kltools/__init__.py"
    assert re.fullmatch(r"\d+\.\d+\.\d+", kltools.__version__)
    result = CliRunner().invoke(main, ["--version"], prog_name="kltools")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"kltools, version {kltools.__version__}"
