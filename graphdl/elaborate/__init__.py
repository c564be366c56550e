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

from graphdl.catalog import Shape
from graphdl.diagnostics import Diagnostic, Severity, suggest
from graphdl.elaborate._evaluate import UNSET, EvaluationError, evaluate
from graphdl.elaborate._expand import Expander, Question
from graphdl.elaborate._imports import Scope, resolve_imports
from graphdl.elaborate._values import Refused, described, language_value, parameter_value, shortened
from graphdl.graph import LayerGraph
from graphdl.source import ImportRules, Source, Span
from graphdl.syntax import Document, NetworkDecl

__all__ = ["Elaboration", "Question", "elaborate", "parameter_value"]


@dataclass(frozen=True)
class Elaboration:
    graph: LayerGraph | None
    diagnostics: tuple[Diagnostic, ...]
    quiet: frozenset[str] = frozenset()
    sources: Mapping[str, Source] = field(default_factory=dict)
    questions: tuple[Question, ...] = ()  # sizes expressions asked for and `sizes` did not answer


def elaborate(
    document: Document,
    network: str | None = None,
    parameters: Mapping[str, object] | None = None,
    files: Mapping[str, str] | None = None,
    imports: ImportRules | None = None,
    sizes: Mapping[str, Shape] | None = None,
) -> Elaboration:
    """The LayerGraph of one network visible from the document (`network`; by default the only one
    the document defines, or, if it defines none, the only one it imports), with its parameters
    set from `parameters` where given; imports read from `files` where given (path to text), else
    from the file system as `imports` allow.

    `sizes` answers the questions of an earlier elaboration of the same network: an expression
    that uses `channels(x)` or `size(x)` asks what analysis will know, and until it is answered
    the layer or block instance that uses it is left out, quietly. The front end elaborates,
    analyses and answers until nothing more is asked."""
    scope, sources, diagnostics = resolve_imports(document, files, imports)
    chosen = _choose(document, scope, network, diagnostics)
    if chosen is None:
        return Elaboration(None, tuple(diagnostics), sources=sources)
    decl, home = chosen
    graph = LayerGraph(decl.name)
    graph.span = decl.name_span
    graph.sources = sources
    given = _given(decl, parameters, diagnostics)
    graph.parameters = {name: value for name, value in given.items() if not isinstance(value, Refused)}
    env = _parameters(decl, given, diagnostics)
    expander = Expander(graph, sizes)
    expander.body(decl, home, env)
    questions = tuple(expander.questions.values())
    return Elaboration(graph, tuple(diagnostics + expander.diagnostics), frozenset(expander.quiet), sources, questions)


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
        second = list(networks.values())[1][0]  # where the choice first arises
        diagnostics.append(
            Diagnostic(
                "E002", f"{path} defines several networks ({names}); say which to use", second.name_span, "another network",
                help=f'pass the name of one: network="{next(iter(networks))}" from Python, --network {next(iter(networks))} on the command line',
            )
        )
    elif document.blocks:
        names = ", ".join(f"`{b.name}`" for b in document.blocks)
        diagnostics.append(
            Diagnostic(
                "E002",
                f"{path} defines blocks ({names}) but no network",
                document.blocks[0].name_span,
                "a block, and no network uses it here",
                severity=Severity.WARNING,
                help="its blocks are checked where a network uses them: import this file from one",
            )
        )
    else:
        help = "write one: `network name { ... }`"
        diagnostics.append(Diagnostic("E002", f"{path} defines no network", _start(document.source), "no `network` here", help=help))
    return None


def _start(source) -> Span | None:
    """The file's first line with text on it, for a diagnostic about the whole file (None when
    the file is blank)."""
    text = source.text
    stripped = text.lstrip()
    if not stripped:
        return None
    offset = len(text) - len(stripped)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    return Span(source.path, line, column, line, column + (end - offset), offset, end)


def _given(decl: NetworkDecl, parameters: object, diagnostics: list[Diagnostic]) -> dict[str, object]:
    """The values given for parameters the network has, each as the language holds it (or
    `Refused`); what names no parameter is reported."""
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        diagnostics.append(
            Diagnostic("E229", f"parameters= takes a mapping of parameter names to values, not a {type(parameters).__name__}", decl.name_span, "")
        )
        return {}
    names = [p.name for p in decl.parameters]
    given: dict[str, object] = {}
    for name, value in parameters.items():
        if not isinstance(name, str):
            hint = f"its parameters: {', '.join(names) or 'none'}"
            diagnostics.append(Diagnostic("E224", f"a parameter is named by a string, not by {described(name)}", decl.name_span, "", help=hint))
        elif name not in names:
            hint = suggest(name, names) or (f"its parameters: {', '.join(names)}" if names else "it has none")
            diagnostics.append(Diagnostic("E224", f"network `{decl.name}` has no parameter `{shortened(name)}`", decl.name_span, "", help=hint))
        else:
            given[name] = value if isinstance(value, Refused) else language_value(value)
    return given


def _parameters(decl: NetworkDecl, given: Mapping[str, object], diagnostics: list[Diagnostic]) -> dict[str, object]:
    """The network's parameters: given values, else their defaults."""
    env: dict[str, object] = {}
    for parameter in decl.parameters:
        value = given.get(parameter.name)
        if isinstance(value, Refused):
            env[parameter.name] = UNSET  # its uses say nothing more: the value is reported here
            diagnostics.append(
                Diagnostic(
                    "E224", f"the value given for `{parameter.name}` cannot be used: {value.reason}", parameter.span, "given a value here",
                    notes=(f"given: {value.given}",), help="give a number, a string, `true`, `false` or a list of them",
                )
            )  # fmt: skip
        elif parameter.name in given:
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
