"""The documentation: the site builds with ``mkdocs build --strict``, its reference pages cover
every command option, spec key, property and proof, and the examples it shows run."""

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "hooks"))
import kltools_docs  # noqa: E402  (the site's page generators, tested here)

# Pages another branch adds to docs/ (listed in the nav ahead of time; absent pages are reported
# at INFO level by mkdocs). Any other nav entry must exist.
PAGES_ADDED_ELSEWHERE = {"limits.md", "threat-model.md"}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "NO_MKDOCS_2_WARNING": "1"}


def _nav_files(nav: list) -> list[str]:
    out = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        out += _nav_files(value) if isinstance(value, list) else [value]
    return out


def _mkdocs_config() -> dict:
    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may use !!python/name tags; none are needed to read the nav.
    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)


def _python_block_after(text: str, marker: str) -> str:
    start = text.index(marker)
    m = re.compile(r"```python\n(.*?)```", re.S).search(text, start)
    assert m is not None, f"no python block after {marker!r}"
    return m.group(1)


@pytest.mark.slow
def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    from kltools.cli import main

    for name in main.commands:  # the CLI reference is generated from click: every command
        assert f"kltools {name}" in cli, name
    proofs = (site / "reference" / "proofs" / "index.html").read_text(encoding="utf-8")
    for arxiv in ("2311.15365", "2301.08117", "2006.06657", "2509.23887", "2307.00144"):
        assert arxiv in proofs
    api = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert "Integrate the gradient flow" in api  # integrate's docstring, rendered
    bench = (site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    assert "Symbolic derivation" in bench  # BENCHMARKS.md included


def test_every_nav_entry_is_a_page_of_the_site() -> None:
    files = _nav_files(_mkdocs_config()["nav"])
    assert "theory.md" in files and "reference/spec.md" in files
    missing = [f for f in files if not (DOCS / f).is_file() and f not in PAGES_ADDED_ELSEWHERE]
    assert missing == []
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")
             if "hooks" not in p.parts}
    assert pages <= set(files), f"pages left out of the nav: {sorted(pages - set(files))}"


def test_every_command_option_is_in_the_readme() -> None:
    from kltools.cli import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for name, command in main.commands.items():
        assert f"kltools {name}" in readme, name
        for param in command.params:
            if isinstance(param, click.Option):
                longest = max(param.opts, key=len)
                if longest not in readme:
                    missing.append(f"{name} {longest}")
    assert missing == []


def test_every_spec_key_and_name_is_in_the_spec_reference() -> None:
    from kltools.spec.expr import FUNCTIONS
    from kltools.spec.problem import LOSS_KINDS
    from kltools.spec.toml_spec import _NET_KEYS, _TOP

    page = (DOCS / "reference" / "spec.md").read_text(encoding="utf-8")
    keys = set(_TOP) | {k for ks in _NET_KEYS.values() for k in ks} | set(_NET_KEYS)
    keys |= {"l2", "x", "y", "theta", "seed", "scale", "expr", "vars", "name", "pieces",
             "breakpoints"}
    names = set(LOSS_KINDS) | set(FUNCTIONS) | {"linear", "relu", "abs", "sigmoid", "tanh",
                                                "softplus"}
    absent = sorted(k for k in keys | names
                    if not any(f"{a}{k}" in page for a in ("`", '`"', "[")))
    assert absent == []


def test_every_property_has_a_section_and_a_row_with_its_default_horizon() -> None:
    from kltools.checks.properties import PROPERTIES

    page = (DOCS / "reference" / "properties.md").read_text(encoding="utf-8")
    table = kltools_docs.properties_table()
    for name, spec in PROPERTIES.items():
        assert f"\n## `{name}`\n" in page, name
        assert re.search(rf"\[`{re.escape(name)}`\].*\| {re.escape(spec.default_t_end)} \|$",
                         table, re.M), name


def test_the_claims_of_a_script_are_read_with_their_expected_verdicts(tmp_path: Path) -> None:
    script = tmp_path / "p.py"
    script.write_text(
        "def run(rec, k):\n"
        "    with rec.claim('exact identity', 'proved') as r:\n"
        "        pass\n"
        "    with rec.claim(f'rate over {k} starts', 'verified', model='m'):\n"
        "        pass\n"
        "    with rec.claim('control: no L2 term', 'refuted', control=True):\n"
        "        pass\n", encoding="utf-8")
    assert kltools_docs.expected_claims(script) == [
        ("exact identity", "proved", False), ("rate over … starts", "verified", False),
        ("control: no L2 term", "refuted", True)]


def test_every_proof_page_section_lists_claims_and_a_control() -> None:
    from kltools.proving.claims import VERDICTS
    from kltools.proving.registry import available, load_proof

    for name in available():
        claims = kltools_docs.expected_claims(Path(load_proof(name).__file__))
        assert len(claims) >= 2, name
        assert {v for _, v, _ in claims} <= set(VERDICTS), name
        assert any(control for _, _, control in claims), f"{name} has no control"
        assert all(v == "refuted" for _, v, control in claims if control), name
        section = kltools_docs.proof_section(name)
        assert f"kltools prove {name}" in section and "??? example" in section


@pytest.mark.slow
@pytest.mark.parametrize("page", ["README.md", "docs/getting-started.md"])
def test_the_python_api_example_runs(page: str, tmp_path: Path) -> None:
    code = _python_block_after((ROOT / page).read_text(encoding="utf-8"), "<!-- tested:")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^(ok|sliding) ", proc.stdout, re.M), proc.stdout  # the outcome line
    assert "holds" in proc.stdout


def test_the_stored_tutorial_shows_its_results() -> None:
    # The site renders the notebook without executing it: every cell that computes something
    # must carry its output, and none an error.
    import nbformat

    nb = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 10
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    silent = [c.source.splitlines()[0] for c in code[1:] if not c.outputs]
    assert silent == [], f"cells stored without output: {silent}"


@pytest.mark.slow
def test_the_tutorial_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    monkeypatch.setenv("PYTHONPATH", _env()["PYTHONPATH"])  # the kernel inherits the environment
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(
        o.get("text", "") + "\n".join(str(v) for v in o.get("data", {}).values())
        for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "error" not in {o.output_type for c in nb.cells for o in c.get("outputs", [])}
    assert "mlp [2, 2, 1], relu; square loss; 3 samples" in text
    assert "ok: Reached the end of the time span." in text  # the flow's summary table
    assert "holds</span>" in text  # the verdicts
    assert r"\frac{5}{6}" in text  # the exact exponent of x⁴ + y⁶
    assert "2 independent conservation laws" in text
    drifts = [float(m) for m in re.findall(r"− h\(θ\(0\)\)\| = ([0-9.e+-]+)", text)]
    assert len(drifts) == 2 and max(drifts) < 1e-25  # the laws hold to the flow's digits
