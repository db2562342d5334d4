"""The ``kltools`` command.

Exit codes (STYLE.md): 0 holds / success, 1 refuted, 2 usage or spec error, 3 inconclusive,
4 internal error. JSON goes to stdout only; logs and progress go to stderr. Set
``KLTOOLS_DEBUG=1`` to see the traceback of an internal error.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from kltools.errors import KltoolsError

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_REFUTED, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_INTERNAL = 0, 1, 2, 3, 4


def _fail(message: str, code: int) -> None:
    click.echo(f"kltools: error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn kltools errors into one line on stderr and exit code 2; anything else into exit 4."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KltoolsError as exc:
            _fail(str(exc), EXIT_USAGE)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("KLTOOLS_DEBUG"):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (this is a bug in kltools; "
                  "rerun with KLTOOLS_DEBUG=1 for the traceback and report it)", EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kltools")
def main() -> None:
    """Check convergence theory of gradient flows on toy networks."""


def _load(spec: str) -> Any:
    from pathlib import Path

    from kltools.spec import load_problem

    return load_problem(Path(spec))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "python", "json"]),
              default="text", show_default=True, help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--identities", is_flag=True,
              help="Also prove the energy, Euler and balancedness identities.")
@handle_errors
def derive(spec: str, fmt: str, as_json: bool, identities: bool) -> None:
    """Derive L, its gradient and the kink surfaces of SPEC (a TOML file)."""
    import json

    from kltools.symbolic.derivation import derive as _derive
    from kltools.symbolic.export import export, to_dict

    problem = _load(spec)
    d = _derive(problem)
    if as_json:
        fmt = "json"
    ids = _identities(d) if identities else []
    if fmt == "json":
        data = to_dict(d)
        if identities:
            data["identities"] = [i.to_json() for i in ids]
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(export(d, fmt), nl=False)
    for i in ids:
        click.echo(f"{i.status:>12}  {i.name}: {i.statement}"
                   + (f"  (witness {i.witness})" if i.witness else ""))


def _identities(d: Any) -> list[Any]:
    from kltools.symbolic.identities import balancedness, energy_identity, euler_identity

    out = [energy_identity(d)]
    if d.problem.network is not None:
        out += euler_identity(d)
        if d.problem.loss.l2 == 0:
            out += balancedness(d)
    return out


if __name__ == "__main__":  # pragma: no cover
    main()
