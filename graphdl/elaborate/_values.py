"""Values given from outside the text: `--set name=TEXT` on the command line, `parameters={...}`
from Python.

Either may hold anything: a text that is an expression the language refuses (`0**-1`, a sum of
5,000 terms), a Python object it has no word for (`None`, `object()`), numbers past the limits, a
list that holds itself. Each is checked here, once, into a value the language holds, or the
reason it is none, which elaboration reports at the parameter it was given for.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from graphdl.diagnostics import GraphdlError
from graphdl.elaborate._evaluate import EvaluationError, evaluate
from graphdl.limits import LIMITS
from graphdl.syntax import format_value, read_expression


@dataclass(frozen=True)
class Refused:
    """A value given that the language cannot hold, and why (`division by zero`)."""

    given: str
    reason: str


def parameter_value(text: str) -> object:
    """The value of one expression of constants (`100`, `[32, 32, 3]`, `"same"`, `2 * 64`), as
    `--set name=value` gives it; a text that is no such expression (`relu`) is taken as a
    string; an expression that has no value (`1/0`) is `Refused`, said where it is used."""
    if len(text) > LIMITS.line_characters:
        return Refused(shortened(text), f"it is longer than {LIMITS.line_characters:,} characters, the longest line the language reads")
    expr, problem = read_expression(text)
    if problem is not None:
        return Refused(shortened(text), problem)
    if expr is None:
        return text
    try:
        return evaluate(expr, {})
    except EvaluationError as e:
        if e.code == "E217":  # a word, or words, that name nothing: meant as a string
            return text
        return Refused(shortened(text), e.message)


def language_value(value: object) -> object:
    """`value` as the language holds it: lists as tuples, other number types (numpy's) as
    Python's; or `Refused`, saying why it cannot be one."""
    try:
        converted = _converted(value, LIMITS.nesting)
        format_value(converted)  # a string the language cannot write (both quotes, a line break)
    except _NotAValue as e:
        return Refused(described(value), str(e))
    except GraphdlError as e:
        return Refused(described(value), e.diagnostics[0].message)
    return converted


class _NotAValue(Exception):
    pass


def _converted(value: object, depth: int) -> object:
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        value = int(value)
        if abs(value) >= 10**LIMITS.integer_digits:
            raise _NotAValue(f"an integer of more than {LIMITS.integer_digits} digits is too large")
        return value
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise _NotAValue(f"{value} is no finite number")
        return value
    if isinstance(value, (list, tuple)):
        if depth == 0:
            raise _NotAValue(f"lists nested more than {LIMITS.nesting} deep")
        return tuple(_converted(item, depth - 1) for item in value)
    raise _NotAValue(f"the language has no values of type {type(value).__name__}")


def described(value: object) -> str:
    """A value for a message, whatever it is: `repr` may fail, or be millions of characters."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**LIMITS.integer_digits:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value):,} items"
    try:
        return shortened(repr(value))
    except Exception:  # a repr that raises belongs to the object, and says nothing here
        return f"a {type(value).__name__}"


def shortened(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
