"""Argument types of layer kinds: what a value may be, and its normal form.

Each type turns a value written in a `.dlg` file or passed from Python into its normal form (lists
become tuples, `5` becomes `(5, 5)` for a 2-D size) or raises `ArgumentProblem` saying what was
expected. Shape rules and builders see arguments in normal form (`Layer.args`); a `Layer` itself
keeps them as written.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from graphdl.diagnostics import counted, suggest
from graphdl.syntax import show_value

# Sizes and counts beyond this are mistakes, not networks (and would overflow torch's int32 sizes).
MAX_INT = 2**31 - 1


class ArgumentProblem(Exception):
    """A value that does not fit its argument; `code` is E203 (type) or E207 (range)."""

    def __init__(self, message: str, code: str = "E203", help: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.help = help




# Arguments by their PyTorch and Keras names (lower case, without `_`), to MATLAB's names that a
# kind may have; a value where only one value is the same thing.
_ELSEWHERE = {
    "kernelsize": ("filterSize", "poolSize"), "poolsize": ("poolSize",), "outchannels": ("numFilters",), "filters": ("numFilters",),
    "outfeatures": ("outputSize",), "units": ("outputSize", "numHiddenUnits"), "hiddensize": ("numHiddenUnits",),
    "dilation": ("dilationFactor",), "dilationrate": ("dilationFactor",), "strides": ("stride",), "eps": ("epsilon",),
    "p": ("probability",), "rate": ("probability",), "groups": ("numGroups",), "ceilmode": ('roundingMode="ceil"',),
    "usebias": ("bias",), "numfeatures": (), "inchannels": (), "infeatures": (), "inputsize": (),
}


def _elsewhere(name: str, by_name) -> str | None:
    """What an argument written with PyTorch's or Keras' name (`kernel_size`, `ceil_mode`,
    `out_channels`) is here: its MATLAB name, or that graphdl infers it."""
    key = name.replace("_", "").lower()
    if key not in _ELSEWHERE:
        return None
    here = [alias for alias in _ELSEWHERE[key] if alias.split("=")[0] in by_name]
    if here:
        return f"`{name}` is PyTorch's or Keras' name: here it is `{here[0]}`"
    if not _ELSEWHERE[key]:
        return f"`{name}` is inferred from what flows in: leave it out"
    return None


def _quoted_suggestion(value: str, choices) -> str | None:
    """'did you mean "same"?' for a misspelt word among `choices`, as the word is written: quoted."""
    close = difflib.get_close_matches(value, list(choices), n=3, cutoff=0.6) or [c for c in choices if c.lower() == value.lower()]
    if not close:
        return None
    return "did you mean " + " or ".join(f'"{c}"' for c in close) + "?"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _integral(value: object) -> object:
    """A whole number written as a float (`width / 4` is 16.0) as the integer it is, as MATLAB,
    where every number is a double, takes it; anything else unchanged."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INT:
        return int(value)
    if isinstance(value, tuple):
        return tuple(_integral(v) for v in value)
    return value


def _too_big(value: int) -> bool:
    return abs(value) > MAX_INT


class ArgType:
    """Base of argument types: `normalize(value)` returns the normal form or raises."""

    expected = "a value"

    def normalize(self, value: object) -> object:
        raise NotImplementedError

    def wrong(self, value: object) -> ArgumentProblem:
        return ArgumentProblem(f"expected {self.expected}, found {show_value(value)}")


@dataclass(frozen=True)
class Int(ArgType):
    min: int | None = None
    max: int | None = None
    max_help: str | None = None  # where the maximum is a limit: how to raise it

    @property
    def expected(self) -> str:
        if self.max is not None:
            return f"an integer from {self.min} to {self.max:,}"
        return {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
            self.min, f"an integer of at least {self.min}"
        )

    def normalize(self, value: object) -> int:
        value = _integral(value)
        if not _is_int(value):
            raise self.wrong(value)
        if _too_big(value):
            raise ArgumentProblem(f"expected {self.expected}, found {value}, more than {MAX_INT}", "E207")
        if self.min is not None and value < self.min:
            raise ArgumentProblem(f"expected {self.expected}, found {value}", "E207")
        if self.max is not None and value > self.max:
            raise ArgumentProblem(f"expected {self.expected}, found {value:,}", "E207", self.max_help)
        return value


@dataclass(frozen=True)
class Float(ArgType):
    min: float | None = None
    max: float | None = None
    max_inclusive: bool = True

    @property
    def expected(self) -> str:
        if self.min is not None and self.max is not None:
            close = "]" if self.max_inclusive else ")"
            return f"a number in [{self.min:g}, {self.max:g}{close}"
        if self.min is not None:
            return f"a number of at least {self.min:g}"
        return "a number"

    def normalize(self, value: object) -> float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.wrong(value)
        value = float(value) if abs(value) < 1e308 else math.inf
        # Networks compute in float32: a number past its range would overflow there, at run time.
        if not abs(value) <= _FLOAT32_MAX:
            raise ArgumentProblem(f"expected {self.expected}, found a number too large (networks compute in float32, up to 3.4e38)", "E207")
        too_big = self.max is not None and (value > self.max or (value == self.max and not self.max_inclusive))
        if (self.min is not None and value < self.min) or too_big:
            raise ArgumentProblem(f"expected {self.expected}, found {value:g}", "E207")
        return value


_FLOAT32_MAX = 3.4028234663852886e38


@dataclass(frozen=True)
class Bool(ArgType):
    expected = "`true` or `false`"

    def normalize(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise self.wrong(value)
        return value


@dataclass(frozen=True)
class Choice(ArgType):
    choices: tuple[str, ...]

    @property
    def expected(self) -> str:
        return "one of " + ", ".join(f'"{c}"' for c in self.choices)

    def normalize(self, value: object) -> str:
        if not isinstance(value, str):
            raise self.wrong(value)
        if value not in self.choices:
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", "E207", _quoted_suggestion(value, self.choices))
        return value


@dataclass(frozen=True)
class Size(ArgType):
    """A size per spatial dimension: one positive integer for all, or a list of `n`."""

    n: int
    min: int = 1

    @property
    def expected(self) -> str:
        kind = "positive integer" if self.min == 1 else "non-negative integer"
        return f"a {kind} or a list of {self.n} {kind}s"

    def normalize(self, value: object) -> tuple[int, ...]:
        value = _integral(value)
        values = value if isinstance(value, tuple) else (value,) * self.n
        if len(values) != self.n or not all(_is_int(v) for v in values):
            raise self.wrong(value)
        if any(_too_big(v) for v in values):
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}, more than {MAX_INT}", "E207")
        if any(v < self.min for v in values):
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", "E207")
        return values


@dataclass(frozen=True)
class Padding(ArgType):
    """MATLAB's padding of an `n`-D window: "same", one size for every side, a size per dimension
    or, for 2-D, [top, bottom, left, right]. Normal form: "same" or a (before, after) pair per
    spatial dimension."""

    n: int

    @property
    def expected(self) -> str:
        sides = " or [top, bottom, left, right]" if self.n == 2 else ""
        return f'"same", a non-negative integer, a list of {self.n}{sides}'

    def normalize(self, value: object) -> str | tuple[tuple[int, int], ...]:
        if value == "same":
            return "same"
        if isinstance(value, str):
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", "E203", _quoted_suggestion(value, ("same",)))
        value = _integral(value)
        values = value if isinstance(value, tuple) else (value,)
        if not values or not all(_is_int(v) for v in values):
            raise self.wrong(value)
        if any(v < 0 or _too_big(v) for v in values):
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", "E207")
        if len(values) == 1:
            return tuple((values[0], values[0]) for _ in range(self.n))
        if len(values) == self.n:
            return tuple((v, v) for v in values)
        if len(values) == 2 * self.n:
            return tuple((values[2 * i], values[2 * i + 1]) for i in range(self.n))
        raise self.wrong(value)


@dataclass(frozen=True)
class IntList(ArgType):
    """A list of positive integers whose length is one of `lengths`."""

    lengths: tuple[int, ...]

    @property
    def expected(self) -> str:
        counts = " or ".join(str(n) for n in self.lengths)
        return f"a list of {counts} positive integers"

    def normalize(self, value: object) -> tuple[int, ...]:
        value = _integral(value)
        if not isinstance(value, tuple) or len(value) not in self.lengths or not all(_is_int(v) for v in value):
            raise self.wrong(value)
        if any(v < 1 or _too_big(v) for v in value):
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", "E207")
        return value


@dataclass(frozen=True)
class SequenceSize(ArgType):
    """The size of one step of a sequence: a number of features, or a list of an image's sizes
    ending with its channels. Normal form: a tuple."""

    expected = "a positive integer (features) or a list of 3 or 4 positive integers (an image)"

    def normalize(self, value: object) -> tuple[int, ...]:
        value = _integral(value)
        values = value if isinstance(value, tuple) else (value,)
        if len(values) not in (1, 3, 4) or not all(_is_int(v) for v in values):
            raise self.wrong(value)
        if any(v < 1 or _too_big(v) for v in values):
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", "E207")
        return values


DIMENSION_NAMES = ("height", "width", "depth", "channel", "time")


@dataclass(frozen=True)
class Dimension(ArgType):
    """A dimension of an observation: a name (`"channel"`, `"time"`, `"height"`, `"width"`,
    `"depth"`) or MATLAB's number of it (spatial ones, then channels, batch, time)."""

    expected = 'a dimension: "channel", "time", "height", "width", "depth", or a positive integer'

    def normalize(self, value: object) -> int | str:
        value = _integral(value)
        if _is_int(value) and 1 <= value <= MAX_INT:
            return value
        if value in DIMENSION_NAMES:
            return value
        raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", "E207" if _is_int(value) or isinstance(value, str) else "E203")


def matlab_dimension(dim: int | str, shape) -> int | None:
    """MATLAB's number of a dimension given by name or number, for inputs of `shape`; None for a
    spatial name the shape lacks (`"depth"` of a 2-D image)."""
    if isinstance(dim, int):
        return dim
    spatial = shape.format.count("S")
    numbers = {"channel": spatial + 1, "time": spatial + 3, "height": 1, "width": 2, "depth": 3}
    if dim in ("height", "width", "depth") and numbers[dim] > spatial:
        return None
    return numbers[dim]


@dataclass(frozen=True)
class Any(ArgType):
    """Any value: the parameters of blocks, which pass them on to layers that check them."""

    expected = "a value"

    def normalize(self, value: object) -> object:
        return value


REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One argument of a layer kind. `positional` ones may be written without their name, in
    order; all may be written by name."""

    name: str
    type: ArgType
    default: object = REQUIRED
    positional: bool = False
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def as_value(value: object) -> object:
    """A Python value as the language has it: lists and tuples become tuples, recursively, and
    numpy's numbers Python's."""
    if isinstance(value, (list, tuple)):
        return tuple(as_value(v) for v in value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


@dataclass(frozen=True)
class BindingProblem:
    """A problem binding the arguments of one call; `index` is the offending argument's position
    in the call, or None when the problem is the call as a whole (a missing argument)."""

    index: int | None
    code: str
    message: str
    help: str | None = None
    on_name: bool = False  # point at the argument's name rather than its value


def parameter_names(params: Sequence[Param], arguments: Sequence[tuple[str | None, object]]) -> list[str | None]:
    """The parameter each argument is for: its name, or for a positional one the next positional
    parameter (None past the last)."""
    positional = iter(p.name for p in params if p.positional)
    return [name if name is not None else next(positional, None) for name, _ in arguments]


def is_factor_param(param: Param) -> bool:
    """A learn-rate or L2 factor (`weightLearnRateFactor`), as `register` adds them."""
    return param.name.endswith(("LearnRateFactor", "L2Factor"))


def bind(params: Sequence[Param], arguments: Sequence[tuple[str | None, object]]) -> tuple[dict[str, object], list[BindingProblem]]:
    """Match `(name or None, value)` arguments to `params`. Returns the given arguments in normal
    form, keyed by name in parameter order, and every problem found."""
    by_name = {p.name: p for p in params}
    positional = [p for p in params if p.positional]
    given: dict[str, object] = {}
    problems: list[BindingProblem] = []
    for index, ((name, value), bound) in enumerate(zip(arguments, parameter_names(params, arguments))):
        if bound is None:
            what = f"takes {counted(len(positional), 'positional argument')}"
            # The learn-rate and L2 factors are left out: a stray positional value is not one.
            names = [p.name for p in params if not p.positional and p.name not in given and not is_factor_param(p)]
            hint = f"name it: one of {', '.join(names)}" if names else None
            problems.append(BindingProblem(index, "E204", f"too many positional arguments: this kind {what}", hint))
            continue
        if bound not in by_name:
            problems.append(BindingProblem(index, "E202", f"unknown argument `{name}`", _elsewhere(name, by_name) or suggest(name, by_name), on_name=True))
            continue
        param = by_name[bound]
        if param.name in given:
            problems.append(BindingProblem(index, "E206", f"argument `{param.name}` is given twice", on_name=name is not None))
            continue
        try:
            given[param.name] = param.type.normalize(as_value(value))
        except ArgumentProblem as problem:
            problems.append(BindingProblem(index, problem.code, f"`{param.name}`: {problem.message}", problem.help))
            given[param.name] = None  # given, though wrong: not also "missing"
    for param in params:
        if param.required and param.name not in given:
            what = f": {param.doc}" if param.doc else ""
            problems.append(BindingProblem(None, "E205", f"missing required argument `{param.name}`", f"give `{param.name}`{what}"))
    if problems:
        return {}, problems
    return {p.name: given[p.name] for p in params if p.name in given}, problems
