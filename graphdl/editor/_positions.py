"""Text offsets to LSP positions and back.

graphdl's spans carry offsets into their text; LSP speaks of 0-based lines and columns counted in
UTF-16 code units, lines ending at `\\n`, `\\r\\n` or `\\r` (the protocol's definition, not
Python's `splitlines`, which also splits at `\\f`, `\\v` and Unicode separators that a `.dlg` file
may hold in a comment). Converting from offsets keeps both sides exact whatever the text holds.
"""

from __future__ import annotations

import bisect
import re

from lsprotocol import types

from graphdl.source import Span

_BREAK = re.compile(r"\r\n|\n|\r")


class Lines:
    """The line starts of one text, for converting positions in it."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0, *(m.end() for m in _BREAK.finditer(text))]

    def position(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return types.Position(line, _utf16(self.text[self.starts[line] : offset]))

    def range(self, span: Span) -> types.Range:
        return types.Range(self.position(span.start), self.position(span.end))

    def offset(self, position: types.Position) -> int:
        """The offset of a client's position; a column past the end of its line is the line's end
        (the protocol's rule), a line past the end is the text's end."""
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[position.line]
        end = self.line_end(position.line)
        units, offset = 0, start
        while offset < end and units < position.character:
            units += 2 if ord(self.text[offset]) > 0xFFFF else 1
            offset += 1
        return offset

    def line_end(self, line: int) -> int:
        """The offset where `line`'s text ends, before its line break."""
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        while end > self.starts[line] and self.text[end - 1] in "\r\n":
            end -= 1
        return end

    @property
    def end(self) -> types.Position:
        return self.position(len(self.text))


def _utf16(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
