"""How many layers a declaration expands to, known before it is expanded.

Expansion makes every layer it counts, so a network of 2^40 layers (forty blocks, each
instantiating the one before twice; repeats within repeats) would run until killed before any
count said no. Counted first, without making a layer, the network is refused at the declaration
that asks for too many, in time that grows with the text, not with the layers: a block's count
is kept per argument values, and a repetition whose arguments do not use its index is one count
times the number of members.

A declaration that cannot be counted (an unknown kind, a value that does not evaluate, a block
that instantiates itself) counts as one layer: expansion reports it where it is written.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphdl.catalog import lookup
from graphdl.elaborate._binding import bind_block
from graphdl.elaborate._evaluate import UNSET, EvaluationError, evaluate, truth
from graphdl.elaborate._imports import Scope
from graphdl.elaborate._repeat import RepeatProblem, members
from graphdl.limits import LIMITS
from graphdl.syntax import BlockDecl, Call, Chain, Condition, LayerDecl, Let, NetworkDecl


class LayerCount:
    """Counts of layers, each exact up to `limit`; past it, a count may stop early at any number
    above the limit (a repetition that gives each member its own arguments is not counted to
    its end)."""

    def __init__(self, limit: int = LIMITS.layers):
        self.limit = limit
        self._blocks: dict[tuple, int] = {}

    def statement(self, statement, scope: Scope, env: Mapping[str, object], blocks: tuple[str, ...] = ()) -> int:
        """The layers a declaration or a chain of a body makes (its inline layers)."""
        if isinstance(statement, Chain):
            return sum(self.call(node, scope, env, blocks) for node in statement.nodes if isinstance(node, Call))
        if not isinstance(statement, LayerDecl):
            return 0
        if statement.repeat is None:
            return self.call(statement.call, scope, env, blocks)
        try:
            unrolled = members(statement.repeat, env)
        except (EvaluationError, RepeatProblem):
            return 1
        if not unrolled.uses_names(argument.value for argument in statement.call.arguments):
            return unrolled.count * self.call(statement.call, scope, env, blocks)
        total = 0
        for _, values in unrolled:
            total += self.call(statement.call, scope, {**env, **values}, blocks)
            if total > self.limit:
                break
        return total

    def call(self, call: Call, scope: Scope, env: Mapping[str, object], blocks: tuple[str, ...]) -> int:
        definition = scope.names.get(call.callee)
        if lookup(call.callee) is not None or definition is None or not isinstance(definition[0], BlockDecl):
            return 1
        block, home = definition
        # A block within itself is counted too: a condition may end the recursion (expansion
        # reports one that nothing ends), and the depth limit bounds it either way.
        if len(blocks) >= LIMITS.block_depth:
            return 1
        arguments = _block_arguments(block, call, env)
        if arguments is None:
            return 1
        key = (id(block), tuple(arguments.items()))
        try:
            return self._blocks[key]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be a key: counted each time
            return self.body(block, home, arguments, (*blocks, block.name))
        count = self._blocks[key] = self.body(block, home, arguments, (*blocks, block.name))
        return count

    def body(self, decl: NetworkDecl | BlockDecl, scope: Scope, env: Mapping[str, object], blocks: tuple[str, ...]) -> int:
        return self._statements(decl.body, scope, dict(env), blocks)

    def _statements(self, statements, scope: Scope, env: dict[str, object], blocks: tuple[str, ...]) -> int:
        total = 0
        for statement in statements:
            if isinstance(statement, Let):
                try:
                    env.setdefault(statement.name, evaluate(statement.value, env))
                except EvaluationError:
                    env.setdefault(statement.name, UNSET)
            elif isinstance(statement, Condition):
                try:
                    branch = statement.then if truth(statement.test, env) else statement.otherwise
                except EvaluationError:
                    continue
                total += self._statements(branch, scope, env, blocks)
            else:
                total += self.statement(statement, scope, env, blocks)
        return total


def _block_arguments(block: BlockDecl, call: Call, env: Mapping[str, object]) -> dict[str, object] | None:
    """A block's parameters bound to a call's arguments; None where that fails (reported by
    expansion)."""
    try:
        arguments = [(argument.name, evaluate(argument.value, env)) for argument in call.arguments]
    except EvaluationError:
        return None
    return bind_block(block, arguments)[0]
