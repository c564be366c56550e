"""The blocks of a picture: the tree that layers' dotted names make (`layer1` holds `layer1.0`,
which holds `layer1.0.conv1`), each group with its totals, and which groups a picture draws folded
into one node.

A group is any dotted prefix of a layer's name: a block instance (`layer1.0`, a `bottleneck`), the
list a repeat makes (`layer1`, three of them), or layers that merely share a prefix
(`downsample.0`, `downsample.1`). Its depth is its number of parts: `layer1` is 1, `layer1.0` 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graphdl.analysis import Analysis
from graphdl.diagnostics import error, suggest
from graphdl.graph import LayerGraph
from graphdl.views._layers import output_size


@dataclass(frozen=True)
class Group:
    """A group of layers: its name, the block it instantiates (None for a repeat's list or a shared
    prefix), the block each of its parts instantiates (for a repeat's list of one block), what it
    holds directly (layer and group names, in order), every layer inside it, and their learnables
    (shared ones counted by their owner only) and FLOPs per observation."""

    name: str
    block: str | None
    parts_block: str | None
    children: tuple[str, ...]
    layers: tuple[str, ...]
    learnables: int
    flops: int

    @property
    def depth(self) -> int:
        return self.name.count(".") + 1

    @property
    def kind(self) -> str:
        """What it is, in a word or two: `bottleneck`, `3 x bottleneck` for a repeat's list of one
        block, or `group` when its parts differ."""
        if self.block:
            return self.block
        return f"{len(self.children)} x {self.parts_block}" if self.parts_block else "group"


def groups(graph: LayerGraph, analysis: Analysis) -> dict[str, Group]:
    """Every group of the network, in the order of their first layers, a group before its parts."""
    blocks = {instance.name: instance.block for layer in graph.layers for instance in layer.instances}
    children: dict[str, dict[str, None]] = {}  # ordered sets
    members: dict[str, list[str]] = {}
    for layer in graph.layers:
        parts = layer.name.split(".")
        for end in range(1, len(parts)):
            name = ".".join(parts[:end])
            members.setdefault(name, []).append(layer.name)
            children.setdefault(name, {})[".".join(parts[: end + 1])] = None
    result = {}
    for name, inside in members.items():
        infos = [info for info in map(analysis.layers.get, inside) if info is not None]
        parts_blocks = {blocks.get(child) for child in children[name]}
        result[name] = Group(
            name,
            blocks.get(name),
            parts_blocks.pop() if len(parts_blocks) == 1 else None,
            tuple(children[name]),
            tuple(inside),
            sum(info.num_learnables for info in infos if info.layer.shares is None),
            sum(info.flops for info in infos),
        )
    return result


@dataclass(frozen=True)
class Flow:
    """An activation that crosses a group's edge: the layer and port it comes out of, and its
    size as the summary writes it (None where unknown)."""

    layer: str
    port: str
    size: str | None


def boundary(graph: LayerGraph, analysis: Analysis, group: Group) -> tuple[tuple[Flow, ...], tuple[Flow, ...]]:
    """What flows into a group and out of it: one Flow per port outside that feeds it (a ResNet
    block's input feeds two of its layers, and is one input), and per port inside that feeds a
    layer outside or is one of the network's outputs."""
    inside = set(group.layers)
    into: dict[tuple[str, str], None] = {}
    out_of: dict[tuple[str, str], None] = {}
    for name in group.layers:
        into.update(((c.source, c.source_port), None) for c in graph.incoming(name) if c.source not in inside)
        out_of.update(((c.source, c.source_port), None) for c in graph.outgoing(name) if c.destination not in inside)
    for output in graph.output_names:
        layer, _, port = output.partition("/")
        info = analysis.layers.get(layer)
        if layer in inside and info is not None:
            out_of.update(((layer, p), None) for p in ([port] if port else info.outputs))
    return (
        tuple(Flow(layer, port, output_size(analysis, layer, port)) for layer, port in into),
        tuple(Flow(layer, port, output_size(analysis, layer, port)) for layer, port in out_of),
    )


@dataclass(frozen=True)
class Folding:
    """Which groups a picture draws folded: those of depth `depth` (None: none), and inside them
    everything; `expand` names groups drawn open whatever their depth (their enclosing groups open
    too)."""

    depth: int | None = None
    expand: frozenset[str] = frozenset()

    def is_open(self, group: Group) -> bool:
        if self.depth is None or group.depth < self.depth:
            return True
        return any(name == group.name or name.startswith(group.name + ".") for name in self.expand)


def folding(tree: dict[str, Group], depth: int | None = None, expand: Iterable[str] = ()) -> Folding:
    """The folding `depth` and `expand` ask for, of the groups in `tree`: an error (E016) for a
    depth below 1, or a name to expand that is no group's."""
    if depth is not None and depth < 1:
        raise error("E016", f"cannot draw to depth {depth}", help="a depth counts levels of blocks from 1, the network's top level")
    unknown = sorted(set(expand) - set(tree))
    if unknown:
        blocks = suggest(unknown[0], tree) or (f"its blocks are {', '.join(list(tree)[:8])}" if tree else "it has no blocks")
        raise error("E016", f"cannot unfold `{unknown[0]}`: the network has no block of that name", help=blocks)
    return Folding(depth, frozenset(expand))


def drawn_as(graph: LayerGraph, tree: dict[str, Group], folding: Folding) -> dict[str, str]:
    """For each layer, the node that draws it: itself, or the outermost folded group holding it."""
    folded = {name for name, group in tree.items() if not folding.is_open(group)}
    result = {}
    for layer in graph.layers:
        parts = layer.name.split(".")
        prefixes = (".".join(parts[:end]) for end in range(1, len(parts)))
        result[layer.name] = next((p for p in prefixes if p in folded), layer.name)
    return result
