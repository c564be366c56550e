"""The front end in one call: a `.dlg` file through parse, elaborate and analyze.

`check` collects every diagnostic of every stage, in source order; `load` and `loads` return the
checked LayerGraph or raise one GraphdlError carrying them all; `networks` names the networks a
file defines. None of this imports torch.

Each takes the rules for imports: `search_path`, folders to look in after the importing file's own
(None: the environment's GRAPHDL_PATH), and `allow_outside`, which lets an import read a file
outside the checked file's folder and the search path (an absolute path, a `..` or a link leading
out); without it such an import is refused (E014), so that checking a file someone else wrote
reads nothing beyond where it lies.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from graphdl.analysis import Analysis, analyze
from graphdl.catalog import Shape
from graphdl.diagnostics import Diagnostic, FileError, GraphdlError, error, has_errors
from graphdl.elaborate import Elaboration, Question, elaborate
from graphdl.graph import LayerGraph
from graphdl.source import FileTooLarge, ImportRules, Source, shown
from graphdl.syntax import parse


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one network: its graph and analysis as far as they got, and every
    diagnostic."""

    graph: LayerGraph | None
    analysis: Analysis | None
    diagnostics: tuple[Diagnostic, ...]
    sources: Mapping[str, Source] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No errors: warnings allowed."""
        return not has_errors(self.diagnostics)

    def raise_errors(self) -> None:
        if not self.ok:
            raise GraphdlError(self.diagnostics, self.sources)


Parameters = Mapping[str, object] | None
SearchPath = Sequence[str | os.PathLike] | str | os.PathLike | None


def check(
    path: str | Path, network: str | None = None, parameters: Parameters = None, *, search_path: SearchPath = None, allow_outside: bool = False
) -> Checked:
    """Check the `.dlg` file at `path`: its only network, or the one named, with its parameters
    set from `parameters` where given; its imports read as `search_path` and `allow_outside` say
    (see the module's text). A path that is not a readable regular file (a folder, a FIFO, a
    device) or is over the size limit is a diagnostic, as every mistake in the text is."""
    try:
        source = _read(path)
    except FileError as e:  # a path of the wrong type is the caller's mistake, and raises
        return Checked(None, None, e.diagnostics)
    return check_source(source, network, parameters, imports=ImportRules.of(search_path, allow_outside))


def _read(path: str | Path) -> Source:
    """The source at `path`, or GraphdlError: E001 for a file that cannot be read (a FileError
    carrying the OSError's errno and filename: a missing file is a FileNotFoundError), E013 for
    one over the size limit, E229 for a path of the wrong type."""
    if not isinstance(path, (str, os.PathLike)):
        raise error("E229", f"the path of a .dlg file is a str or a pathlib.Path, not {type(path).__name__}")
    try:
        return Source.read(path)
    except FileTooLarge as e:
        raise error("E013", f"cannot read {shown(path)}: {e.strerror}", os_error=e, help=FileTooLarge.HELP) from e
    except OSError as e:
        raise error("E001", f"cannot read {shown(path)}: {e.strerror or e}", os_error=e) from e
    except UnicodeDecodeError as e:
        raise error("E001", f"cannot read {shown(path)}: {e}") from e


def check_source(
    source: Source, network: str | None = None, parameters: Parameters = None, files: Mapping[str, str] | None = None, imports: ImportRules | None = None
) -> Checked:
    """Like `check`, of text; the files it imports are read from `files` (path to text) where
    given, else from the file system as `imports` allow (by default: beside the text, and below)."""
    with _collector_paused():
        document, diagnostics = parse(source)
        if diagnostics and not document.definitions:
            return Checked(None, None, _in_order(diagnostics), {source.path: source})
        elaboration, analysis, unsettled = _elaborated(document, network, parameters, files, imports)
        diagnostics += elaboration.diagnostics
        sources = dict(elaboration.sources)
        if elaboration.graph is None:
            return Checked(None, None, _in_order(diagnostics), sources)
        diagnostics += analysis.diagnostics
        if unsettled:
            diagnostics += [_unsettled(question) for question in unsettled]
        else:
            unanswered = [question for question in elaboration.questions if question.guess is None]
            if unanswered and not has_errors(diagnostics):
                diagnostics += [_unanswered(question) for question in unanswered]
        return Checked(elaboration.graph, analysis, _in_order(diagnostics), sources)


def _elaborated(document, network, parameters, files, imports) -> tuple[Elaboration, Analysis | None, list[Question]]:
    """The network elaborated and analysed, its sizes questions answered. Expansion infers the
    sizes it is asked as it goes, where what flows there is wired or foreseen (a series, a chain
    from a block's input); analysis confirms them. What expansion could not infer, or inferred
    otherwise than analysis, is answered by analysis and elaborated again, until nothing new is
    learnt."""
    sizes: dict[str, Shape] = {}
    rounds = spent = 0
    while True:
        elaboration = elaborate(document, network, parameters, files, imports, sizes)
        if elaboration.graph is None:
            return elaboration, None, []
        analysis = analyze(elaboration.graph, elaboration.quiet)
        learnt = _answers(elaboration.questions, analysis)
        rounds, spent = rounds + 1, spent + len(elaboration.graph)
        if not learnt:
            return elaboration, analysis, []
        if spent + len(elaboration.graph) > _ROUNDS_BUDGET:
            # Refused rather than elaborated again and again: each size still open is said.
            open_ = [q for q in elaboration.questions if q.key in learnt or q.guess is None]
            return elaboration, analysis, [replace(q, guess=rounds) for q in open_]
        sizes.update(learnt)


# Sizes settle in one round where expansion foresees what feeds them, and in one round per
# instance of a chain where it cannot (an inline layer between instances): the rounds stop when
# the layers elaborated in all of them would pass this.
_ROUNDS_BUDGET = 50_000


def _answers(questions: tuple[Question, ...], analysis: Analysis) -> dict[str, Shape]:
    """The sizes analysis inferred where questions point; a question about an instance fed by its
    block's input has the answer about that input."""
    # A size inferred during expansion is a guess that analysis confirms, or corrects.
    answers = {q.key: shape for q in questions if (shape := _answer(q, analysis)) is not None and shape != q.guess}
    aliases = {q.key: q.endpoint[1] for q in questions if q.endpoint is not None and q.endpoint[0] == "alias" and q.guess is None}
    for _ in range(len(aliases)):  # a chain of instances nested in instances, each fed by the one around it
        found = {key: answers[target] for key, target in aliases.items() if key not in answers and target in answers}
        if not found:
            break
        answers.update(found)
    return answers


def _answer(question: Question, analysis: Analysis) -> Shape | None:
    """The size analysis inferred where a question points, if it could."""
    if question.endpoint is None or question.endpoint[0] == "alias":
        return None
    side, layer, port = question.endpoint
    info = analysis.layers.get(layer)
    if info is None:
        return None
    return (info.inputs if side == "input" else info.outputs).get(port)


def _unsettled(question: Question) -> Diagnostic:
    """A size that analysis still changed when the rounds stopped (`guess` holds their number)."""
    name = question.key.rsplit(".", 1)[-1]
    return Diagnostic(
        "E233", f"the size of `{name}` did not settle in {question.guess} rounds of inference", question.span, "asked here",
        help="each round infers the sizes that wait on the round before: give this size as a number, or declare what feeds it before it",
    )  # fmt: skip


def _unanswered(question: Question) -> Diagnostic:
    name = question.key.rsplit(".", 1)[-1]
    return Diagnostic(
        "E233", f"the size of `{name}` cannot be known before running", question.span, "asked here",
        help=f"nothing with a size known from the network's inputs flows through `{name}`: connect it, or give the size as a number",
    )  # fmt: skip


@contextlib.contextmanager
def _collector_paused():
    """CPython's cyclic garbage collector off while a file is checked. Every stage makes tens of
    thousands of objects that all live on (syntax nodes, layers, the graph's dictionaries); the
    collector, started by their number, walks the growing heap again and again: a quarter of the
    check of a 20,000-layer file (1.4 s, 1.05 s without). Cycles made meanwhile wait for the next
    collection; the work itself is bounded by graphdl.limits."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_text(
    text: str,
    network: str | None = None,
    parameters: Parameters = None,
    *,
    path: str = "<string>",
    files: Mapping[str, str] | None = None,
    search_path: SearchPath = None,
    allow_outside: bool = False,
    editing: Mapping[str, str] | None = None,
) -> Checked:
    """Like `check`, of text given as a string (named `path` in diagnostics, and in the folder of
    `path`: the current one by default). The files it imports are read from `files` (path to
    text: the sources a network file keeps) alone where given, else from the file system as
    `search_path` and `allow_outside` say, with `editing`'s texts (path to text: files open in an
    editor) in place of what is saved. Never raises for a mistake in the text:
    `Checked.diagnostics` lists them all."""
    return check_source(Source(path, text), network, parameters, files, ImportRules.of(search_path, allow_outside, editing))


def load(
    path: str | Path, network: str | None = None, parameters: Parameters = None, *, search_path: SearchPath = None, allow_outside: bool = False
) -> LayerGraph:
    """The checked LayerGraph of a `.dlg` file (its only network, or the one named, with its
    parameters set from `parameters`; its imports read as `search_path` and `allow_outside` say:
    see `check`); raises GraphdlError with every problem found. The counterpart of MATLAB's
    `layerGraph(layers)`."""
    # Read here, not by `check`, so the FileError raised carries the OSError behind it.
    return _graph(check_source(_read(path), network, parameters, imports=ImportRules.of(search_path, allow_outside)))


def loads(
    text: str, network: str | None = None, parameters: Parameters = None, path: str = "<string>", *, search_path: SearchPath = None, allow_outside: bool = False
) -> LayerGraph:
    """Like `load`, from text (in the folder of `path`: the current one by default)."""
    return _graph(check_source(Source(path, text), network, parameters, imports=ImportRules.of(search_path, allow_outside)))


def networks(path: str | Path) -> tuple[str, ...]:
    """The names of the networks the `.dlg` file at `path` defines itself, in order: what
    `network=` can name, beside the networks it imports. A mistake in the text is left to `check`
    (the networks parsed are named); a file that cannot be read raises GraphdlError, as `load`."""
    document, _ = parse(_read(path))
    return tuple(network.name for network in document.networks)


def _graph(checked: Checked) -> LayerGraph:
    checked.raise_errors()
    if checked.graph is None:  # only warnings, and no network: a file of blocks
        raise GraphdlError(checked.diagnostics, checked.sources)
    return checked.graph


def _in_order(diagnostics: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    def position(d: Diagnostic):
        return (0, d.span.path, d.span.start) if d.span else (1, "", 0)

    return tuple(sorted(diagnostics, key=position))
