"""Values as the language writes them: the one place that spells a value back as text."""

from __future__ import annotations


def format_value(value: object) -> str:
    """`5`, `0.5`, `"same"`, `true`, `[28, 28, 1]`: text that parses back to the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return repr(value)
