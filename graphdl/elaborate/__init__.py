"""Elaborate: from syntax trees to the LayerGraph of one network.

Resolves imports, picks the network, binds its parameters (defaults, or values given from the
command line or Python), expands blocks and repetitions into hierarchically named layers, names
anonymous layers as MATLAB does, records weight sharing, and wires everything. Problems are
reported with their spans; the graph is built even so, so that analysis can find the independent
problems too. Layers already reported on are listed in `quiet`: later stages say nothing more
about them or about what they feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphdl.diagnostics import Diagnostic, Severity, suggest
from graphdl.elaborate._evaluate import UNSET, EvaluationError, evaluate
from graphdl.elaborate._expand import Expander
from graphdl.elaborate._imports import Scope, resolve_imports
from graphdl.graph import LayerGraph
from graphdl.source import ImportRules, Source
from graphdl.syntax import Document, NetworkDecl, parse_expression

__all__ = ["Elaboration", "elaborate", "parameter_value"]


@dataclass(frozen=True)
class Elaboration:
    graph: LayerGraph | None
    diagnostics: tuple[Diagnostic, ...]
    quiet: frozenset[str] = frozenset()
    sources: Mapping[str, Source] = field(default_factory=dict)


def elaborate(
    document: Document,
    network: str | None = None,
    parameters: Mapping[str, object] | None = None,
    files: Mapping[str, str] | None = None,
    imports: ImportRules | None = None,
) -> Elaboration:
    """The LayerGraph of one network visible from the document (`network`; by default the only one
    the document defines, or, if it defines none, the only one it imports), with its parameters
    set from `parameters` where given; imports read from `files` where given (path to text), else
    from the file system as `imports` allow."""
    scope, sources, diagnostics = resolve_imports(document, files, imports)
    chosen = _choose(document, scope, network, diagnostics)
    if chosen is None:
        return Elaboration(None, tuple(diagnostics), sources=sources)
    decl, home = chosen
    graph = LayerGraph(decl.name)
    graph.span = decl.name_span
    graph.sources = sources
    graph.parameters = dict(parameters or {})
    env = _parameters(decl, parameters or {}, diagnostics)
    expander = Expander(graph)
    expander.body(decl, home, env)
    return Elaboration(graph, tuple(diagnostics + expander.diagnostics), frozenset(expander.quiet), sources)


def parameter_value(text: str) -> object:
    """The value of one expression of constants (`100`, `[32, 32, 3]`, `"same"`, `2 * 64`), as
    `--set name=value` gives it; a text that is no such expression is taken as a string."""
    expr = parse_expression(text)
    if expr is None:
        return text
    try:
        return evaluate(expr, {})
    except EvaluationError:
        return text


def _choose(document: Document, scope: Scope, name: str | None, diagnostics: list[Diagnostic]) -> tuple[NetworkDecl, Scope] | None:
    networks = scope.networks()
    path = document.source.path
    if name is not None:
        if name not in networks:
            help = suggest(name, networks) or (f"the networks here: {', '.join(networks)}" if networks else None)
            diagnostics.append(Diagnostic("E002", f"no network named `{name}` in {path}", help=help))
            return None
        return networks[name]
    # By default, the file's own network; an imported one if the file defines none.
    own = {n: d for n, d in networks.items() if d[1] is scope}
    candidates = own or networks
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    if candidates:
        networks = candidates
        names = ", ".join(f"`{n}`" for n in networks)
        diagnostics.append(
            Diagnostic("E002", f"{path} defines several networks ({names}); say which to use", help="pass its name (`--network NAME` on the command line)")
        )
    elif document.blocks:
        names = ", ".join(f"`{b.name}`" for b in document.blocks)
        diagnostics.append(
            Diagnostic(
                "E002",
                f"{path} defines blocks ({names}) but no network",
                severity=Severity.WARNING,
                help="its blocks are checked where a network uses them: import this file from one",
            )
        )
    else:
        diagnostics.append(Diagnostic("E002", f"{path} defines no network", help="write one: `network name { ... }`"))
    return None


def _parameters(decl: NetworkDecl, given: Mapping[str, object], diagnostics: list[Diagnostic]) -> dict[str, object]:
    """The network's parameters: given values, else their defaults."""
    names = [p.name for p in decl.parameters]
    for name in given:
        if name not in names:
            hint = suggest(name, names) or (f"its parameters: {', '.join(names)}" if names else "it has none")
            diagnostics.append(Diagnostic("E224", f"network `{decl.name}` has no parameter `{name}`", decl.name_span, "", help=hint))
    env: dict[str, object] = {}
    for parameter in decl.parameters:
        if parameter.name in given:
            env[parameter.name] = given[parameter.name]
        elif parameter.default is not None:
            try:
                env[parameter.name] = evaluate(parameter.default, env)
            except EvaluationError as e:
                diagnostics.append(Diagnostic(e.code, e.message, e.span, help=e.help))
        else:
            env[parameter.name] = UNSET
            diagnostics.append(
                Diagnostic(
                    "E224",
                    f"the parameter `{parameter.name}` of network `{decl.name}` has no value",
                    parameter.span,
                    "no default",
                    help=f"give one: `--set {parameter.name}=...`, or a default here",
                )
            )
    return env
