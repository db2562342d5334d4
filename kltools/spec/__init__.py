"""What the user describes: activations, architectures, losses, data, objectives, specs."""

from kltools.spec.activations import Activation, activation_from_spec, parse_activation
from kltools.spec.expr import parse_expression, parse_number
from kltools.spec.network import Network, diagonal_linear, graph_network, mean_field, mlp
from kltools.spec.problem import Data, Init, Loss, Objective, Problem
from kltools.spec.toml_spec import load_problem, problem_from_dict, problem_to_toml

__all__ = [
    "Activation", "Data", "Init", "Loss", "Network", "Objective", "Problem",
    "activation_from_spec", "diagonal_linear", "graph_network", "load_problem", "mean_field",
    "mlp", "parse_activation", "parse_expression", "parse_number", "problem_from_dict",
    "problem_to_toml",
]
