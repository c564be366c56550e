"""Diagnostics: what every stage reports instead of raising on the first problem.

A `Diagnostic` is data (a stable code, a severity, a message, a primary span, labelled secondary
spans, notes, a help line); `render` turns it into the text a good compiler prints:

    error[E201]: unknown layer kind `convolution2D`
     --> net.dlg:3:13
      |
    3 |     conv1 = convolution2D(5, 20, padding="same")
      |             ^^^^^^^^^^^^^ not a layer kind
      |
      = help: did you mean `convolution2d`?

The public API raises one `GraphdlError` that carries all of them: an instance of the subclass
that also derives from the stdlib type a caller would catch (`ValueError` for a mistake in a
network or in the values given to graphdl, `OSError` for a file that cannot be read or written,
`ImportError` for a missing optional dependency, `RuntimeError` for a failure while running).
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from graphdl.source import Source, Span

# Stable codes, grouped by stage: E0xx files, E1xx syntax, E2xx names and arguments,
# E3xx structure, E4xx shapes, E5xx running, E6xx importing from PyTorch, E7xx exporting,
# E8xx training and data. A code, once published, keeps its meaning, and means one thing.
# Each code's long explanation is docs/codes/<code>.md, whose heading repeats the title.
CODES: Mapping[str, str] = {
    "E001": "cannot read file",
    "E002": "no network to use",
    "E003": "cannot import file",
    "E004": "import cycle",
    "E005": "name defined twice",
    "E006": "cannot write file",
    "E007": "not a network or weights file",
    "E008": "missing optional dependency",
    "E009": "Graphviz failed",
    "E010": "unknown file format",
    "E011": "option for a .dlg file given a network file",
    "E101": "syntax error",
    "E201": "unknown layer kind",
    "E202": "unknown argument",
    "E203": "wrong argument type",
    "E204": "too many positional arguments",
    "E205": "missing required argument",
    "E206": "argument given twice",
    "E207": "argument out of range",
    "E210": "duplicate layer name",
    "E211": "unknown layer",
    "E212": "unknown port",
    "E213": "ambiguous input port",
    "E215": "replacement does not fit",
    "E216": "invalid layer name",
    "E217": "unknown name",
    "E218": "invalid expression",
    "E219": "reference into a block instance",
    "E220": "misused block port",
    "E221": "block output never produced",
    "E222": "block input never used",
    "E223": "sharing mismatch",
    "E224": "network parameter problem",
    "E225": "block instantiates itself",
    "E301": "cycle",
    "E302": "input port not connected",
    "E303": "input port connected twice",
    "E304": "no input layer",
    "E305": "input layer with an incoming connection",
    "E306": "unused output",
    "E307": "layer connected to nothing",
    "E401": "input sizes do not agree",
    "E402": "window larger than its input",
    "E403": "layer cannot take this input",
    "E404": "shared learnables differ",
    "E501": "layer failed at run time",
    "E502": "weights do not fit the network",
    "E601": "cannot import from PyTorch",
    "E701": "cannot write the network as Python",
    "E702": "cannot export to TorchScript",
    "E801": "data does not fit the network",
    "E802": "invalid training option or argument",
    "E803": "loss does not fit the network",
    "E804": "training stopped by a failure",
}


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Label:
    """A secondary span with a short text ("first defined here")."""

    span: Span
    text: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    label: str = ""
    labels: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None
    severity: Severity = Severity.ERROR

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code!r}")

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def render(self, sources: Mapping[str, Source] | None = None, color: bool = False) -> str:
        return render(self, sources or {}, color)


class GraphdlError(Exception):
    """The root of every error graphdl raises on purpose. `diagnostics` says what went wrong (each
    with its code), `sources` holds the files they point into, `span` is where the first one
    points (None when no place in a `.dlg` source is to blame).

    Raised as one of its subclasses, each also the stdlib type a caller would catch; constructed
    as `GraphdlError(diagnostics)` it becomes the subclass its first error's code is raised as
    (as `pathlib.Path(...)` becomes a PosixPath), so `except ValueError` keeps catching a mistake
    in a network and `except OSError` a file that cannot be read."""

    def __new__(cls, diagnostics: Sequence[Diagnostic] = (), *args, **kwargs):
        kind = raised_as(diagnostics) if cls is GraphdlError else cls
        # Along `kind`'s bases (OSError's own __new__ for a FileError), and without arguments:
        # OSError's would take two of them for an errno and a message.
        return super(GraphdlError, kind).__new__(kind)

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: Mapping[str, Source] | None = None):
        self.diagnostics = tuple(diagnostics)
        self.sources = dict(sources or {})
        text = render_all(self.diagnostics, self.sources)
        super().__init__(text)
        self.args = (text,)  # set here too: an OSError made by __new__ ignores its __init__ arguments

    @property
    def code(self) -> str | None:
        """The code of the first error (or diagnostic)."""
        first = _first(self.diagnostics)
        return first.code if first else None

    @property
    def span(self) -> Span | None:
        first = _first(self.diagnostics)
        return first.span if first else None


class InputError(GraphdlError, ValueError):
    """A mistake in what graphdl was given: a `.dlg` source, a network, or an argument, option or
    data passed to a function."""


class FileError(GraphdlError, OSError):
    """A file that cannot be read or written (E001, E006)."""


class DependencyError(GraphdlError, ImportError):
    """An optional package or program that a function needs is not installed (E008)."""


class RunError(GraphdlError, RuntimeError):
    """A failure while something ran: a layer (LayerError), training (TrainingError), Graphviz."""


# The codes not raised as InputError. LayerError (E501) and TrainingError (E804) are raised by
# their own stages, which this module cannot import.
_RAISED_AS: Mapping[str, type[GraphdlError]] = {
    "E001": FileError,
    "E006": FileError,
    "E008": DependencyError,
    "E009": RunError,
    "E501": RunError,
    "E804": RunError,
}


def raised_as(diagnostics: Iterable[Diagnostic]) -> type[GraphdlError]:
    """The GraphdlError subclass for these diagnostics: the one of the first error's code."""
    first = _first(list(diagnostics))
    return _RAISED_AS.get(first.code, InputError) if first else InputError


def _first(diagnostics: Sequence[Diagnostic]) -> Diagnostic | None:
    return next((d for d in diagnostics if d.is_error), diagnostics[0] if diagnostics else None)


def error(code: str, message: str, span: Span | None = None, **details) -> GraphdlError:
    """A GraphdlError holding one diagnostic, of the subclass its code is raised as: for mistakes
    found while using the Python API."""
    return GraphdlError([Diagnostic(code, message, span, **details)])


def reason(e: BaseException) -> str:
    """What an exception says, in one line for a diagnostic to quote: its message's first line, and
    of a long one its first sentence (torch's messages go on to advice that would be cut mid-word)."""
    lines = str(e).strip().splitlines()
    if not lines:
        return "(no message)"
    line = lines[0]
    return line.split(". ")[0] if len(line) > 160 else line


@contextlib.contextmanager
def writing(path) -> Iterator[None]:
    """A failure to write `path` as a diagnostic (E006). torch's writers report a folder or a
    missing one as RuntimeError, Python's as OSError."""
    try:
        yield
    except GraphdlError:  # already says what went wrong (a FileError is an OSError too)
        raise
    except (OSError, RuntimeError) as e:
        message = e.strerror if isinstance(e, OSError) and e.strerror else reason(e)
        raise error("E006", f"cannot write {path}: {message}") from e


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def counted(n: int, word: str) -> str:
    """`1 error`, `3 errors`: a number and a noun that agrees with it (nouns with a plain `s`)."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """'did you mean ...?' for a misspelt name, or None when nothing is close."""
    candidates = sorted(set(candidates))
    by_case = [c for c in candidates if c.lower() == name.lower()]
    close = by_case or difflib.get_close_matches(name, candidates, n=4, cutoff=0.6)
    if not close:
        return None
    if len(close) == 1:
        return f"did you mean `{close[0]}`?"
    return "did you mean one of " + ", ".join(f"`{c}`" for c in close) + "?"


def render_all(diagnostics: Iterable[Diagnostic], sources: Mapping[str, Source], color: bool = False) -> str:
    """All diagnostics, then a one-line count of errors and warnings."""
    diagnostics = list(diagnostics)
    parts = [render(d, sources, color) for d in diagnostics]
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    counts = [counted(n, word) for n, word in ((errors, "error"), (warnings, "warning")) if n]
    if counts:
        parts.append(_paint(" and ".join(counts) + " found", "bold", color) + "\n")
    return "\n".join(parts)


_STYLES = {"error": "1;31", "warning": "1;33", "bold": "1", "gutter": "1;34", "help": "1;36"}


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if color else text


def render(d: Diagnostic, sources: Mapping[str, Source], color: bool = False) -> str:
    sev = d.severity.value
    out = [_paint(f"{sev}[{d.code}]", sev, color) + _paint(f": {d.message}", "bold", color)]
    marks = [(d.span, d.label, "^", sev)] if d.span else []
    marks += [(label.span, label.text, "-", "gutter") for label in d.labels]
    width = max([len(str(span.line)) for span, *_ in marks] + [1])
    bar = _paint(" " * width + " |", "gutter", color)
    if d.span:
        out.append(" " * width + _paint("--> ", "gutter", color) + str(d.span))
    shown_path = d.span.path if d.span else None
    by_line: dict[tuple[str, int], list] = {}
    for mark in marks:
        by_line.setdefault((mark[0].path, mark[0].line), []).append(mark)
    previous = None
    for path, line in sorted(by_line, key=lambda key: (key[0] != shown_path, key)):
        source = sources.get(path)
        if source is None:
            continue
        if path != shown_path:
            out.append(" " * width + _paint("::: ", "gutter", color) + str(by_line[path, line][0][0]))
            shown_path, previous = path, None
        if previous is None:
            out.append(bar)
        elif line > previous + 1:
            out.append(_paint("...", "gutter", color))
        text = source.line(line)
        out.append(_paint(f"{line:>{width}} |", "gutter", color) + (" " + _expand(text) if text else ""))
        for span, text_, char, style in by_line[path, line]:
            start = len(_expand(text[: span.column - 1]))
            end_col = span.end_column if span.end_line == span.line else len(text) + 1
            length = max(1, len(_expand(text[: end_col - 1])) - start)
            marker = " " * start + _paint(char * length + (f" {text_}" if text_ else ""), style, color)
            out.append(bar + " " + marker)
        previous = line
    if marks and any(sources.get(span.path) for span, *_ in marks):
        out.append(bar)
    for note in d.notes:
        out.append(" " * width + _paint(" = ", "gutter", color) + _paint("note", "bold", color) + f": {note}")
    if d.help:
        out.append(" " * width + _paint(" = ", "gutter", color) + _paint("help", "help", color) + f": {d.help}")
    return "\n".join(out) + "\n"


def _expand(text: str) -> str:
    return text.expandtabs(4)
