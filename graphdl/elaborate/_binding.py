"""A block's parameters bound to the arguments of a call that instantiates it: as layer
arguments are bound (positional, then by name), each default evaluated with the parameters
before it."""

from __future__ import annotations

from collections.abc import Sequence

from graphdl.catalog import REQUIRED, Any, BindingProblem, Param, bind
from graphdl.elaborate._evaluate import EvaluationError, evaluate
from graphdl.syntax import BlockDecl

Bound = tuple[dict[str, object] | None, list[BindingProblem], EvaluationError | None]


def bind_block(block: BlockDecl, arguments: Sequence[tuple[str | None, object]]) -> Bound:
    """The block's parameters, or None with what went wrong: the binding's problems, or the
    default that does not evaluate."""
    params = [Param(p.name, Any(), REQUIRED if p.default is None else None, positional=True) for p in block.parameters]
    given, problems = bind(params, arguments)
    if problems:
        return None, problems, None
    env: dict[str, object] = {}
    for parameter in block.parameters:
        if parameter.name in given:
            env[parameter.name] = given[parameter.name]
            continue
        try:
            env[parameter.name] = evaluate(parameter.default, env)
        except EvaluationError as e:
            return None, [], e
    return env, [], None
