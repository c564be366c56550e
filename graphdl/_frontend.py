"""The front end in one call: a `.dlg` file through parse, elaborate and analyze.

`check` collects every diagnostic of every stage, in source order; `load` and `loads` return the
checked LayerGraph or raise one GraphdlError carrying them all. None of this imports torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from graphdl.analysis import Analysis, analyze
from graphdl.diagnostics import Diagnostic, GraphdlError, error, has_errors
from graphdl.elaborate import elaborate
from graphdl.graph import LayerGraph
from graphdl.source import Source
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


def check(path: str | Path, network: str | None = None, parameters: Parameters = None) -> Checked:
    """Check the `.dlg` file at `path`: its only network, or the one named, with its parameters
    set from `parameters` where given."""
    try:
        source = Source.read(path)
    except (OSError, UnicodeDecodeError) as e:
        return Checked(None, None, _unreadable(path, e).diagnostics)
    return check_source(source, network, parameters)


def _unreadable(path: str | Path, e: OSError | UnicodeDecodeError) -> GraphdlError:
    """E001 for a file that cannot be read: a FileError carrying the OSError's errno and filename
    (a missing file is a FileNotFoundError)."""
    if isinstance(e, OSError):
        return error("E001", f"cannot read {path}: {e.strerror or e}", os_error=e)
    return error("E001", f"cannot read {path}: {e}")


def check_source(source: Source, network: str | None = None, parameters: Parameters = None, files: Mapping[str, str] | None = None) -> Checked:
    """Like `check`, of text; the files it imports are read from `files` (path to text) where
    given, else from the file system."""
    document, diagnostics = parse(source)
    if diagnostics and not document.definitions:
        return Checked(None, None, _in_order(diagnostics), {source.path: source})
    elaboration = elaborate(document, network, parameters, files)
    diagnostics += elaboration.diagnostics
    sources = dict(elaboration.sources)
    if elaboration.graph is None:
        return Checked(None, None, _in_order(diagnostics), sources)
    analysis = analyze(elaboration.graph, elaboration.quiet)
    return Checked(elaboration.graph, analysis, _in_order(diagnostics + list(analysis.diagnostics)), sources)


def check_text(
    text: str, network: str | None = None, parameters: Parameters = None, *, path: str = "<string>", files: Mapping[str, str] | None = None
) -> Checked:
    """Like `check`, of text given as a string (named `path` in diagnostics); the files it
    imports are read from `files` (path to text) where given, else from the file system.
    Never raises for a mistake in the text: `Checked.diagnostics` lists them all."""
    return check_source(Source(path, text), network, parameters, files)


def load(path: str | Path, network: str | None = None, parameters: Parameters = None) -> LayerGraph:
    """The checked LayerGraph of a `.dlg` file (its only network, or the one named, with its
    parameters set from `parameters`); raises GraphdlError with every problem found. The
    counterpart of MATLAB's `layerGraph(layers)`."""
    try:  # read here, not by `check`, so the FileError raised carries the OSError behind it
        source = Source.read(path)
    except (OSError, UnicodeDecodeError) as e:
        raise _unreadable(path, e) from e
    return _graph(check_source(source, network, parameters))


def loads(text: str, network: str | None = None, parameters: Parameters = None, path: str = "<string>") -> LayerGraph:
    """Like `load`, from text."""
    return _graph(check_source(Source(path, text), network, parameters))


def _graph(checked: Checked) -> LayerGraph:
    checked.raise_errors()
    if checked.graph is None:  # only warnings, and no network: a file of blocks
        raise GraphdlError(checked.diagnostics, checked.sources)
    return checked.graph


def _in_order(diagnostics: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    def position(d: Diagnostic):
        return (0, d.span.path, d.span.start) if d.span else (1, "", 0)

    return tuple(sorted(diagnostics, key=position))
