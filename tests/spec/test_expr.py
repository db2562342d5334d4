"""The expression parser on hostile input: Unicode aliasing, value-size and depth caps."""

from __future__ import annotations

import pytest
import sympy as sp

from kltools.errors import SpecError
from kltools.spec import graph_network, load_problem
from kltools.spec.expr import normalize_name, parse_expression, real_symbol


def objective(expr: str, variables: list[str]) -> str:
    names = ", ".join(f'"{v}"' for v in variables)
    return f"[objective]\nexpr = {expr!r}\nvars = [{names}]\n"


# -- issue 19, item 3: Unicode aliasing -----------------------------------------------------------

def test_two_variables_python_reads_as_one_are_refused() -> None:
    # Fullwidth ｘ is x to Python's parser: `ｘ**2 + x` used to be parsed as x**2 + x.
    with pytest.raises(SpecError, match="same name as 'x'") as err:
        load_problem(objective("ｘ**2 + x", ["x", "ｘ"]))
    assert err.value.path == "objective.vars[1]"
    assert "'ｘ'" in err.value.message  # as written, not normalised


def test_two_names_with_one_normal_form_are_refused_by_the_parser() -> None:
    x, fx = real_symbol("x"), real_symbol("ｘ")
    with pytest.raises(SpecError, match="same name to Python"):
        parse_expression("ｘ**2 + x", [x, fx])


def test_an_unknown_name_is_reported_as_written() -> None:
    with pytest.raises(SpecError, match="unknown symbol 'ﬁ'"):
        load_problem(objective("ﬁ**2", ["x"]))


def test_a_ligature_variable_keeps_its_name_and_its_meaning() -> None:
    p = load_problem(objective("ﬁ**2 + 3*ﬁ", ["ﬁ"]))
    assert p.parameters == ("ﬁ",)
    (v,) = p.symbols
    assert str(v) == "ﬁ" and p.objective is not None
    assert sp.expand(p.objective.expr - (v**2 + 3 * v)) == 0


@pytest.mark.parametrize("name, what", [("ｅｘｐ", "function"), ("ｉｆ", "keyword"),
                                        ("ｃｈｉ1", "reserved")])
def test_checks_apply_to_the_normal_form(name: str, what: str) -> None:
    with pytest.raises(SpecError, match=what):
        load_problem(objective("1", [name]))


def test_graph_names_python_reads_as_one_are_refused() -> None:
    with pytest.raises(SpecError, match="same name to Python") as err:
        graph_network([{"name": "h"}, {"name": "ｈ"}], [["x", "h"], ["x", "ｈ"], ["h", "ｈ"]],
                      inputs=["x"], outputs=["ｈ"])
    assert err.value.path == "network.nodes[1].name"


def test_normal_form() -> None:
    assert normalize_name("ｘ") == "x" and normalize_name("x") == "x"
    assert normalize_name("ﬁ") == "fi"
