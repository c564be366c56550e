"""Expressions in arguments: constants, parameters, repeat indices, arithmetic.

Values are Python's: int, float, bool, str, and tuples for lists. `/` divides exactly (a float);
layer arguments that want integers take whole floats, as MATLAB, where every number is a double,
does. A mistake raises `EvaluationError` pointing at the sub-expression at fault.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping

from graphdl.diagnostics import suggest
from graphdl.limits import LIMITS, raising
from graphdl.source import Span
from graphdl.syntax import Binary, Conditional, Expr, Function, Index, ListExpr, Literal, Name, Unary, show_value


class EvaluationError(Exception):
    """A mistake in an expression; `reported` when it comes from a mistake reported already (a
    parameter given no value), so that nothing more is said."""

    def __init__(self, message: str, span: Span, code: str = "E218", help: str | None = None, reported: bool = False):
        super().__init__(message)
        self.message = message
        self.span = span
        self.code = code
        self.help = help
        self.reported = reported


class _Unset:
    """The value of a parameter that was given none (reported where it is declared)."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET = _Unset()

# The key under which an environment holds what answers `channels(x)` and `size(x)`: a function of
# the name and the expression's span, returning the Shape that flows there. Not a name the
# language can write, so no constant or parameter can take its place.
SIZES = "<sizes>"
SIZE_FUNCTIONS = ("channels", "size")


def _numbers(*values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _min_max(choose):
    def function(*values):
        if len(values) == 1 and isinstance(values[0], tuple):
            values = values[0]
        if not values or not _numbers(*values):
            raise TypeError("expects numbers, or one list of numbers")
        return choose(values)

    return function


def _of_a_number(function, integer: bool = False):
    def checked(*values):
        if len(values) != 1 or not _numbers(*values):
            raise TypeError("expects one number")
        if integer and not math.isfinite(values[0]):
            raise ArithmeticError(f"of {show_value(values[0])} has no whole value")
        return function(values[0])

    return checked


def _of_a_list(function):
    def checked(*values):
        if len(values) != 1 or not isinstance(values[0], tuple):
            raise TypeError("expects one list")
        return function(values[0])

    return checked


def _sum(items: tuple) -> object:
    if not _numbers(*items):
        raise TypeError("expects a list of numbers")
    return sum(items)


FUNCTIONS = {
    "min": _min_max(min),
    "max": _min_max(max),
    "floor": _of_a_number(math.floor, integer=True),
    "ceil": _of_a_number(math.ceil, integer=True),
    "round": _of_a_number(round, integer=True),
    "abs": _of_a_number(abs),
    "len": _of_a_list(len),
    "sum": _of_a_list(_sum),
    "enumerate": _of_a_list(lambda items: tuple(enumerate(items))),
}

_ARITHMETIC = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


# Integers grow without bound in Python: a few squarings make numbers of millions of digits, which
# take seconds to compute and cannot be printed. Every integer an expression makes is below this.
_INTEGER_BOUND = 10**LIMITS.integer_digits


def evaluate(expr: Expr, env: Mapping[str, object]) -> object:
    """The value of an expression, with `env` giving the names in scope."""
    if isinstance(expr, Literal):
        if isinstance(expr.value, float) and not math.isfinite(expr.value):
            raise EvaluationError("this number is too large: numbers end at about 1.8e308", expr.span)
        return expr.value
    if isinstance(expr, Name):
        if expr.name not in env:
            known = suggest(expr.name, [name for name in env if name != SIZES])
            raise EvaluationError(f"unknown name `{expr.name}`", expr.span, "E217", known or "define it with `let`, or make it a parameter")
        if env[expr.name] is UNSET:
            raise EvaluationError(f"`{expr.name}` has no value", expr.span, reported=True)
        return env[expr.name]
    if isinstance(expr, ListExpr):
        return tuple(evaluate(item, env) for item in expr.items)
    if isinstance(expr, Index):
        return _item(expr, env)
    if isinstance(expr, Unary):
        value = evaluate(expr.operand, env)
        if expr.op == "-":
            if not _numbers(value):
                raise EvaluationError(f"cannot negate {show_value(value)}", expr.span)
            return _bounded(-value, expr.span)
        return not _boolean(value, expr.operand.span)
    if isinstance(expr, Binary):
        return _binary(expr, env)
    if isinstance(expr, Conditional):
        chosen = expr.then if _boolean(evaluate(expr.condition, env), expr.condition.span) else expr.otherwise
        return evaluate(chosen, env)
    if isinstance(expr, Function):
        return _call(expr, env)
    raise TypeError(f"not an expression: {expr!r}")


def _item(expr: Index, env: Mapping[str, object]) -> object:
    items, position = evaluate(expr.items, env), evaluate(expr.position, env)
    if not isinstance(items, tuple):
        raise EvaluationError(f"only a list can be indexed, not {show_value(items)}", expr.items.span)
    if not (_numbers(position) and float(position).is_integer()):
        raise EvaluationError(f"a list's index is a whole number, not {show_value(position)}", expr.position.span)
    if not -len(items) <= position < len(items):
        reach = f"0 to {len(items) - 1}, or -1 to -{len(items)} from the end" if items else "none: the list is empty"
        raise EvaluationError(
            f"index {show_value(position)} is outside a list of {len(items)} item{'s' if len(items) != 1 else ''}",
            expr.position.span,
            help=f"its indices are {reach}; the first item is [0]",
        )
    return items[int(position)]


def truth(expr: Expr, env: Mapping[str, object]) -> bool:
    """The value of a condition, which must be `true` or `false`."""
    return _boolean(evaluate(expr, env), expr.span)


def _boolean(value: object, span: Span) -> bool:
    if not isinstance(value, bool):
        raise EvaluationError(f"expected `true` or `false`, found {show_value(value)}", span)
    return value


def _binary(expr: Binary, env: Mapping[str, object]) -> object:
    if expr.op in ("and", "or"):
        left = _boolean(evaluate(expr.left, env), expr.left.span)
        if (expr.op == "and") != left:  # false and ..., true or ...: decided
            return left
        return _boolean(evaluate(expr.right, env), expr.right.span)
    left, right = evaluate(expr.left, env), evaluate(expr.right, env)
    if expr.op == "==":
        return left == right
    if expr.op == "!=":
        return left != right
    if expr.op in _ORDER:
        if not (_numbers(left, right) or (isinstance(left, str) and isinstance(right, str))):
            raise EvaluationError(f"cannot compare {show_value(left)} and {show_value(right)}", expr.span)
        return _ORDER[expr.op](left, right)
    if not _numbers(left, right):
        raise EvaluationError(f"`{expr.op}` needs numbers, not {show_value(left)} and {show_value(right)}", expr.span)
    if expr.op in ("/", "//", "%") and right == 0:
        raise EvaluationError("division by zero", expr.right.span)
    if expr.op == "**" and _power_too_large(left, right):
        raise EvaluationError(f"{show_value(left)} ** {show_value(right)} is too large", expr.span, help=_DIGITS_HELP)
    try:
        result = _ARITHMETIC[expr.op](left, right)
    except ZeroDivisionError:  # 0 ** -1, 0.0 ** -0.5: a division in disguise
        raise EvaluationError("division by zero", expr.span) from None
    except (OverflowError, ValueError):  # a float out of range, an integer too large for one
        result = math.inf
    if isinstance(result, complex) or (isinstance(result, float) and not math.isfinite(result)):
        raise EvaluationError(f"{show_value(left)} {expr.op} {show_value(right)} has no finite real value", expr.span)
    return _bounded(result, expr.span)


_DIGITS_HELP = f"an integer in an expression has at most {LIMITS.integer_digits} digits: {raising('integer_digits')}"


def _power_too_large(base: object, exponent: object) -> bool:
    """Whether an integer power would pass the bound, judged before computing it: computing
    first is what takes the time."""
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent < 1 or abs(base) < 2:
        return False
    return (abs(base).bit_length() - 1) * exponent >= _INTEGER_BOUND.bit_length()


def _bounded(value: object, span: Span) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _INTEGER_BOUND:
        raise EvaluationError(f"the result is too large: it has more than {LIMITS.integer_digits} digits", span, help=_DIGITS_HELP)
    return value


def _call(expr: Function, env: Mapping[str, object]) -> object:
    if expr.name in SIZE_FUNCTIONS:
        return _size(expr, env)
    function = FUNCTIONS.get(expr.name)
    if function is None:
        known = [*FUNCTIONS, *SIZE_FUNCTIONS]
        raise EvaluationError(f"unknown function `{expr.name}`", expr.name_span, "E217", suggest(expr.name, known) or f"the functions: {', '.join(known)}")
    values = [evaluate(argument, env) for argument in expr.arguments]
    try:
        return _bounded(function(*values), expr.span)
    except (TypeError, ArithmeticError) as e:
        raise EvaluationError(f"`{expr.name}` {e}", expr.span) from None


def _size(expr: Function, env: Mapping[str, object]) -> object:
    """`channels(x)` and `size(x)`: of what flows out of the layer or block instance `x`, or into
    the block's input `x`, as analysis infers it."""
    if len(expr.arguments) != 1 or not isinstance(expr.arguments[0], Name):
        raise EvaluationError(f"`{expr.name}` takes the name of a layer, a block instance or a block's input", expr.span, help=f"`{expr.name}(x)`")
    sizes = env.get(SIZES)
    if sizes is None:
        raise EvaluationError(f"`{expr.name}` asks what flows through a network; a value given from outside has none", expr.span)
    (name,) = expr.arguments
    shape = sizes(name.name, expr.span)
    if expr.name == "channels":
        return shape.channels
    if None in shape.sizes:
        raise EvaluationError(
            f"the length of the sequences at `{name.name}` is known only at run time", expr.span, "E233",
            help=f"use `channels({name.name})`, or give the sequence input a fixed length",
        )  # fmt: skip
    return tuple(shape.sizes)


def names_in(expr) -> list[str]:
    """The names an expression uses."""
    if isinstance(expr, Name):
        return [expr.name]
    children = {
        ListExpr: lambda e: e.items,
        Index: lambda e: [e.items, e.position],
        Unary: lambda e: [e.operand],
        Binary: lambda e: [e.left, e.right],
        Conditional: lambda e: [e.then, e.condition, e.otherwise],
        Function: lambda e: e.arguments,
    }
    for kind, parts in children.items():
        if isinstance(expr, kind):
            return [name for part in parts(expr) for name in names_in(part)]
    return []
