"""What each declaration of the text made, with its sizes: the layers of `conv1 = ...` (one, or
one per instance of the block it is in, or per member of a repetition) and the block instances
of `stage = basic(64)`. Hover and inlay hints show them at the declaration.

A declaration is known by where its call starts (`Site`): a layer's call and an instance's call
are the same text, written once however many layers or instances it made.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from graphdl.editor._checking import Report
from graphdl.views import boundary, groups


@dataclass(frozen=True)
class Site:
    """Where a declaration's call is: the file, and the offsets of the call in it."""

    path: str
    start: int
    end: int


@dataclass(frozen=True)
class Made:
    """A layer or block instance that a declaration made: its full name, the block it
    instantiates (None for a layer) and its output sizes, as `graphdl summary` writes them."""

    name: str
    block: str | None
    outputs: str


@functools.lru_cache(maxsize=8)
def declarations(report: Report) -> dict[Site, tuple[Made, ...]]:
    """Every declaration whose layers' sizes are known, with what it made, in execution order."""
    made: dict[Site, dict[str, Made]] = {}
    for info, row in report.layers():
        layer = info.layer
        if layer.call is not None and _declared(report, layer.call.span.path, layer.call.span.start):
            site = Site(layer.call.span.path, layer.call.span.start, layer.call.span.end)
            made.setdefault(site, {})[layer.name] = Made(layer.name, None, row[3])
    for checked in report.checks:
        if checked.graph is None or checked.analysis is None:
            continue
        for instance, outputs in _instance_outputs(checked).items():
            span = instance.span
            if _declared(report, span.path, span.start):
                made.setdefault(Site(span.path, span.start, span.end), {})[instance.name] = Made(instance.name, instance.block, outputs)
    return {site: tuple(found.values()) for site, found in made.items()}


def _declared(report: Report, path: str, start: int) -> bool:
    """Whether the call at `start` is a declaration's (`name = call`), not an inline one of a
    chain (`a -> relu() -> b`)."""
    source = report.sources.get(path)
    return source is not None and source.text[:start].rstrip().endswith("=")


def _instance_outputs(checked) -> dict:
    """The output sizes of each block instance of a network: those of its layers' ports that
    leave it (to a layer outside it, or as outputs of the network), as one text."""
    graph, analysis = checked.graph, checked.analysis
    tree = groups(graph, analysis)
    instances = {instance.name: instance for layer in graph.layers for instance in layer.instances}
    found = {}
    for name, instance in instances.items():
        sizes = [flow.size for flow in boundary(graph, analysis, tree[name])[1] if flow.size is not None]
        if sizes:
            found[instance] = ", ".join(dict.fromkeys(sizes))
    return found


def call_after(text: str, name_end: int) -> int | None:
    """Where the call of the declaration whose name ends at `name_end` starts."""
    found = _EQUALS.match(text, name_end)
    return found.end() if found else None


_EQUALS = re.compile(r"[ \t]*=[ \t]*")


def at(found: Mapping[Site, tuple[Made, ...]], path: str, start: int) -> tuple[Made, ...]:
    """What the declaration whose call starts at `start` made."""
    return next((made for site, made in found.items() if site.path == path and site.start == start), ())


def shown(made: tuple[Made, ...], most: int = 3) -> str:
    """The sizes of what a declaration made, as one short text: the size where all agree, else
    the first few different ones and `...`."""
    sizes = list(dict.fromkeys(m.outputs for m in made))
    return " | ".join(sizes[:most]) + (" ..." if len(sizes) > most else "")
