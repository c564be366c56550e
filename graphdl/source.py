"""Source text and positions in it.

Everything that came from a `.dlg` file carries a `Span`, so that any stage of the pipeline can point
at the text that caused a problem. A `Source` keeps the text itself: spans stay small and the
diagnostics renderer asks the source for the line to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Span:
    """A stretch of source text: 1-based line and column of its first character, and of the
    character just after its end (Lark's convention), plus the offsets in the text."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Source:
    """The text of one `.dlg` file and the name to show for it."""

    path: str
    text: str

    @classmethod
    def read(cls, path: str | Path) -> Source:
        # utf-8-sig: a byte-order mark, as some Windows editors write, is not part of the text.
        return cls(str(path), Path(path).read_text(encoding="utf-8-sig"))

    def line(self, number: int) -> str:
        """The text of 1-based line `number`, without its line break ('' past the end)."""
        # Lines end at "\n" only, as `position` counts them (splitlines would also split at \f,
        # \v and Unicode line separators, and shift every line after them).
        lines = self.text.split("\n")
        return lines[number - 1].removesuffix("\r") if 0 < number <= len(lines) else ""

    def span(self, start: int, end: int) -> Span:
        """The span of text offsets [start, end)."""
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(self.path, line, column, end_line, end_column, start, end)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a text offset."""
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return line, column
