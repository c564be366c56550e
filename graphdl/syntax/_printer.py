"""Values and expressions as the language writes them: the one place that spells them as text."""

from __future__ import annotations

from graphdl.diagnostics import GraphdlError, error
from graphdl.syntax._tree import Binary, Conditional, Expr, Function, Index, ListExpr, Literal, Name, Unary


def format_value(value: object) -> str:
    """`5`, `0.5`, `"same"`, `true`, `[28, 28, 1]`: text that parses back to the same value.
    Raises an InputError (E230) for a value the language cannot write: one given from Python
    (a string holding both quotes, an object), which a network's text could not hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if '"' not in value and "\n" not in value:
            return f'"{value}"'
        if "'" not in value and "\n" not in value:
            return f"'{value}'"
        raise error("E230", f"the language cannot write the string {value!r}", help="a string may hold `'` or `\"`, not both, and no line break")
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # inf and nan (from a literal such as 1e999) print as Python does, for messages; no
        # argument accepts them, so no valid network holds them.
        text = repr(value)
        return text if any(c in text for c in ".ein") else text + ".0"
    raise error("E230", f"the language cannot write {value!r}", help="give a number, a string, `true`, `false` or a list of them")


def show_value(value: object) -> str:
    """A value for a message: as the language writes it, else as Python does. Never raises, so a
    message about a wrong value can always be told (a wrong value is often unwritable)."""
    try:
        return format_value(value)
    except GraphdlError:
        return repr(value)


# Binding strength of each operator: higher binds tighter.
_PRECEDENCE = {"if": 1, "or": 2, "and": 3, "not": 4, "==": 5, "!=": 5, "<": 5, "<=": 5, ">": 5, ">=": 5,
               "+": 6, "-": 6, "*": 7, "/": 7, "//": 7, "%": 7, "neg": 8, "**": 9}
_ATOM = 10


def format_expr(expr: Expr) -> str:
    """An expression, with just the parentheses its meaning needs."""
    return _expr(expr, 0)


def _precedence(expr: Expr) -> int:
    if isinstance(expr, Binary):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, Unary):
        return _PRECEDENCE["neg" if expr.op == "-" else "not"]
    if isinstance(expr, Conditional):
        return _PRECEDENCE["if"]
    if isinstance(expr, Literal) and isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool) and expr.value < 0:
        return _PRECEDENCE["neg"]  # a negative number reads as a negation
    return _ATOM


def _expr(expr: Expr, needed: int) -> str:
    text = _bare(expr)
    return f"({text})" if _precedence(expr) < needed else text


def _bare(expr: Expr) -> str:
    if isinstance(expr, Literal):
        return format_value(expr.value)
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, ListExpr):
        return "[" + ", ".join(_expr(item, 0) for item in expr.items) + "]"
    if isinstance(expr, Function):
        return f"{expr.name}(" + ", ".join(_expr(a, 0) for a in expr.arguments) + ")"
    if isinstance(expr, Index):
        return f"{_expr(expr.items, _ATOM)}[{_expr(expr.position, 0)}]"
    if isinstance(expr, Unary):
        if expr.op == "-":
            return "-" + _expr(expr.operand, _PRECEDENCE["neg"])
        return "not " + _expr(expr.operand, _PRECEDENCE["not"])
    if isinstance(expr, Conditional):
        cut = _PRECEDENCE["if"] + 1
        return f"{_expr(expr.then, cut)} if {_expr(expr.condition, cut)} else {_expr(expr.otherwise, _PRECEDENCE['if'])}"
    if isinstance(expr, Binary):
        level = _PRECEDENCE[expr.op]
        if expr.op == "**":  # right-associative; its right side is a unary
            return f"{_expr(expr.left, level + 1)} ** {_expr(expr.right, _PRECEDENCE['neg'])}"
        if level == _PRECEDENCE["=="]:  # comparisons do not chain
            return f"{_expr(expr.left, level + 1)} {expr.op} {_expr(expr.right, level + 1)}"
        return f"{_expr(expr.left, level)} {expr.op} {_expr(expr.right, level + 1)}"
    raise TypeError(f"not an expression: {expr!r}")
