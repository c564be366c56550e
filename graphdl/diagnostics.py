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
network or in the values given to graphdl, `TypeError` for an argument of the wrong Python type,
`KeyError` for a name looked up that is not there, `OSError` for a file that cannot be read or
written, `ImportError` for a missing optional dependency or a broken plugin, `RuntimeError` for a
failure while running). A GraphdlError pickles (so one raised in a DataLoader worker reaches
the parent) and deep-copies, keeping its type, diagnostics and attributes.
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
    "E012": "layer plugin failed to load",
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
    "E226": "no such connection",
    "E227": "no such learnable",
    "E228": "ambiguous learnable name",
    "E229": "argument of the wrong Python type",
    "E230": "value the language cannot write",
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
    "E503": "tables of different rows",
    "E504": "no such table row",
    "E601": "cannot import from PyTorch",
    "E701": "cannot write the network as Python",
    "E702": "cannot export to TorchScript",
    "E801": "data does not fit the network",
    "E802": "invalid training option, or argument to a training or data function",
    "E803": "loss does not fit the network",
    "E804": "training stopped by a failure",
    "E805": "unknown metric",
    "E013": "file too large",
    "E014": "import outside the allowed folders",
    "E015": "imports nested too deeply",
    "E016": "cannot draw as asked",
    "E102": "text over a limit",
    "E231": "network over a limit",
    "E232": "empty repetition with nothing to pass on",
    "E233": "size not known before running",
    "E405": "network too large to run",
    "E406": "normalisation over a single value",
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
    in a network and `except OSError` a file that cannot be read.

    A subclass of one meaning also takes a message alone, as a diagnostic of its code
    (`TrainingError("stop")` is E804); the others refuse one with a TypeError, since a message
    alone does not say which failure it is: `error(code, message)` builds one of a code."""

    # The code of a message given alone; None where the class covers several failures.
    message_code: str | None = None

    def __new__(cls, diagnostics: Sequence[Diagnostic] | str = (), *args, **kwargs):
        if cls is GraphdlError:  # through the subclass's own __new__ (FileError's chooses by errno)
            kind = raised_as(cls._diagnostics(diagnostics))
            return kind.__new__(kind, diagnostics, *args, **kwargs)
        # Along the bases (OSError's own __new__ for a FileError), and without arguments: OSError's
        # would take two of them for an errno and a message. A subclass's __init__ reads its own.
        return super().__new__(cls)

    def __init__(self, diagnostics: Sequence[Diagnostic] | str, sources: Mapping[str, Source] | None = None):
        self.diagnostics = self._diagnostics(diagnostics)
        self.sources = dict(sources or {})
        text = self._text()
        super().__init__(text)
        self.args = (text,)  # set here too: an OSError made by __new__ ignores its __init__ arguments

    @classmethod
    def _diagnostics(cls, diagnostics: Sequence[Diagnostic] | str) -> tuple[Diagnostic, ...]:
        if isinstance(diagnostics, str):
            if cls.message_code is None:
                raise TypeError(
                    f"{cls.__name__} takes a list of Diagnostic, not a message alone, which does not say which failure it is: "
                    "graphdl.diagnostics.error(code, message) builds one of a code"
                )
            return (Diagnostic(cls.message_code, diagnostics),)
        diagnostics = tuple(diagnostics)
        for d in diagnostics:
            if not isinstance(d, Diagnostic):
                raise TypeError(f"{cls.__name__} takes a list of Diagnostic, not of {type(d).__name__}")
        return diagnostics

    def _text(self) -> str:
        """What str() says: every diagnostic, then the count."""
        return render_all(self.diagnostics, self.sources)

    def __str__(self) -> str:
        # The rendered diagnostics, never OSError's `[Errno 2] ...` or KeyError's quoted repr.
        return self.args[0] if self.args else ""

    def __reduce__(self):
        # Pickle's default rebuilds an exception as `cls(*self.args)`, and args is the rendered
        # text: rebuilt from the diagnostics and sources instead, then the attributes restored.
        return _rebuilt, (type(self), self.diagnostics, self.sources), dict(self.__dict__)

    @property
    def code(self) -> str | None:
        """The code of the first error (or diagnostic)."""
        first = _first(self.diagnostics)
        return first.code if first else None

    @property
    def span(self) -> Span | None:
        first = _first(self.diagnostics)
        return first.span if first else None


def _rebuilt(kind: type[GraphdlError], diagnostics: tuple[Diagnostic, ...], sources: Mapping[str, Source]) -> GraphdlError:
    """A pickled GraphdlError made again, whatever its subclass's constructor takes (LayerError's
    takes the layer too, which `__reduce__`'s attributes bring back)."""
    made = GraphdlError.__new__(kind, diagnostics)
    GraphdlError.__init__(made, diagnostics, sources)
    return made


class InputError(GraphdlError, ValueError):
    """A mistake in what graphdl was given: a `.dlg` source, a network, or an argument, option or
    data passed to a function."""


class ArgumentTypeError(GraphdlError, TypeError):
    """An argument of a graphdl function of the wrong Python type (E229)."""

    message_code = "E229"


class NotFoundError(GraphdlError, KeyError):
    """A name looked up that is not there: a table's row (E504), a metric (E805). A KeyError, as
    a dictionary's missing key is."""


class FileError(GraphdlError, OSError):
    """A file that cannot be read or written (E001, E006), or too large to read (E013). Made from
    the OSError that said so (`error(code, message, os_error=e)`), it carries its errno, strerror
    and filename, and is the subclass that also derives from the OSError subclass of that errno, as
    `OSError(errno, ...)` itself is: a missing file is a FileNotFoundError. (CPython maps the errno
    only when OSError itself is constructed, never a subclass, hence the subclasses below.)"""

    def __new__(cls, diagnostics: Sequence[Diagnostic] | str = (), sources: Mapping[str, Source] | None = None, os_error: OSError | None = None):
        if cls is FileError and os_error is not None:
            cls = _FILE_ERRORS.get(type(OSError(os_error.errno, "")), FileError)
        return super().__new__(cls, diagnostics)

    def __init__(self, diagnostics: Sequence[Diagnostic] | str, sources: Mapping[str, Source] | None = None, os_error: OSError | None = None):
        super().__init__(diagnostics, sources)
        if os_error is not None:
            self.errno, self.strerror = os_error.errno, os_error.strerror
            self.filename, self.filename2 = os_error.filename, os_error.filename2

    def __reduce__(self):
        # errno and the rest are OSError's slots, not in __dict__: restored by setattr, which is
        # what BaseException.__setstate__ does with each item.
        rebuild, arguments, state = super().__reduce__()
        os_state = {"errno": self.errno, "strerror": self.strerror, "filename": self.filename, "filename2": self.filename2}
        return rebuild, arguments, {**state, **os_state}


class MissingFileError(FileError, FileNotFoundError):
    """A file or folder that does not exist (ENOENT)."""


class FileExistsFileError(FileError, FileExistsError):
    """A file in the way of one to be made (EEXIST)."""


class IsADirectoryFileError(FileError, IsADirectoryError):
    """A folder where a file was expected (EISDIR)."""


class NotADirectoryFileError(FileError, NotADirectoryError):
    """A file where a folder was expected (ENOTDIR)."""


class FilePermissionError(FileError, PermissionError):
    """A file or folder that may not be read or written (EACCES, EPERM)."""


# The FileError of each OSError subclass that an errno maps to.
_FILE_ERRORS: Mapping[type[OSError], type[FileError]] = {
    FileNotFoundError: MissingFileError,
    FileExistsError: FileExistsFileError,
    IsADirectoryError: IsADirectoryFileError,
    NotADirectoryError: NotADirectoryFileError,
    PermissionError: FilePermissionError,
}


class DependencyError(GraphdlError, ImportError):
    """An optional package or program that a function needs is not installed (E008), or a layer
    plugin failed to load (E012)."""


class RunError(GraphdlError, RuntimeError):
    """A failure while something ran: a layer (LayerError), training (TrainingError), Graphviz."""


# The codes not raised as InputError. LayerError (E501) and TrainingError (E804) are raised by
# their own stages, which this module cannot import.
_RAISED_AS: Mapping[str, type[GraphdlError]] = {
    "E001": FileError,
    "E006": FileError,
    "E013": FileError,
    "E008": DependencyError,
    "E009": RunError,
    "E012": DependencyError,
    "E229": ArgumentTypeError,
    "E501": RunError,
    "E504": NotFoundError,
    "E804": RunError,
    "E805": NotFoundError,
}


def raised_as(diagnostics: Iterable[Diagnostic]) -> type[GraphdlError]:
    """The GraphdlError subclass for these diagnostics: the one of the first error's code."""
    first = _first(list(diagnostics))
    return _RAISED_AS.get(first.code, InputError) if first else InputError


def _first(diagnostics: Sequence[Diagnostic]) -> Diagnostic | None:
    return next((d for d in diagnostics if d.is_error), diagnostics[0] if diagnostics else None)


def error(code: str, message: str, span: Span | None = None, *, os_error: OSError | None = None, **details) -> GraphdlError:
    """A GraphdlError holding one diagnostic, of the subclass its code is raised as: for mistakes
    found while using the Python API. `os_error`, for a file's code, is the OSError that said the
    file cannot be read or written: the FileError carries its errno, strerror and filename."""
    diagnostics = [Diagnostic(code, message, span, **details)]
    return GraphdlError(diagnostics) if os_error is None else GraphdlError(diagnostics, os_error=os_error)


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
        if isinstance(e, OSError):
            raise error("E006", f"cannot write {path}: {e.strerror or reason(e)}", os_error=e) from e
        raise error("E006", f"cannot write {path}: {reason(e)}") from e


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def one_line(e: BaseException) -> str:
    """An exception in one line, for a message that reports it: a GraphdlError's first message
    with its code (its rendering is several lines), else the exception's type and message."""
    if isinstance(e, GraphdlError) and e.diagnostics:
        return f"{e.diagnostics[0].message} ({e.code})"
    return f"{type(e).__name__}: {e}"


def counted(n: int, word: str) -> str:
    """`1 error`, `3 errors`: a number and a noun that agrees with it (nouns with a plain `s`)."""
    return f"{n} {word}{'' if n == 1 else 's'}"


# Names compared with a misspelt one, at most: difflib's ratio costs a few microseconds a pair,
# and a file of thousands of names with thousands of misspellings would compare every pair.
_SUGGESTION_CANDIDATES = 200


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """'did you mean ...?' for a misspelt name, or None when nothing is close. Among many
    candidates, those nearest in length to `name` are compared, of those the ones that share the
    longest start with it first: a misspelling rarely changes the length by much."""
    candidates = sorted({c for c in candidates if isinstance(c, str)})
    by_case = [c for c in candidates if c.lower() == name.lower()]
    if len(candidates) > _SUGGESTION_CANDIDATES:
        nearest = sorted(candidates, key=lambda c: (abs(len(c) - len(name)), -_shared_start(c, name)))
        candidates = sorted(nearest[:_SUGGESTION_CANDIDATES])
    close = by_case or difflib.get_close_matches(name, candidates, n=4, cutoff=0.6)
    if not close:
        return None
    if len(close) == 1:
        return f"did you mean `{close[0]}`?"
    return "did you mean one of " + ", ".join(f"`{c}`" for c in close) + "?"


def _shared_start(a: str, b: str) -> int:
    """How many characters `a` and `b` start with alike."""
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


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
