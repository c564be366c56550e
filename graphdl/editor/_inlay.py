"""Inlay hints: the output size at the end of each declaration's line, for layers and block
instances alike; for a declaration that made several (in a block used several times, or
repeated), their sizes where they agree, else the first few different ones."""

from __future__ import annotations

from dataclasses import dataclass

from graphdl.editor._checking import Report
from graphdl.editor._declarations import declarations, shown


@dataclass(frozen=True)
class Hint:
    """A size to show at the end of a line: the offset where the line's text ends (before a
    comment at its end), and the text."""

    offset: int
    label: str


def hints(report: Report, first: int, last: int) -> list[Hint]:
    """The hints of the document's declarations whose call ends within offsets [first, last]."""
    found = {}
    for site, made in declarations(report).items():
        if site.path == report.path and first <= site.end <= last:
            end = _line_end(report.text, site.end)
            found[end] = Hint(end, shown(made))
    return [found[offset] for offset in sorted(found)]


def _line_end(text: str, offset: int) -> int:
    """The end of the line holding `offset`, before a comment that ends it and trailing blanks:
    the statement's own text ends there (strings do not span lines, and hold no `#` here, as
    the call ends before the comment)."""
    end = len(text)
    for brk in ("\n", "\r"):
        found = text.find(brk, offset)
        if found != -1:
            end = min(end, found)
    comment = text.find("#", offset, end)
    if comment != -1:
        end = comment
    while end > offset and text[end - 1] in " \t\f":
        end -= 1
    return end
