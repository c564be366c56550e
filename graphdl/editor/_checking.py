"""Checking an editor's document: its text as it is now, with the other open documents' unsaved
texts in place of their files, every network of it, as `graphdl check` does.

A document's imports are found under the same rules as `graphdl check` (beside the file, the
search path, nothing outside them), and read from the editor where they are open (unsaved text
counts), else from the disk.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphdl._frontend import Checked, check_text
from graphdl.analysis import LayerInfo
from graphdl.diagnostics import Diagnostic
from graphdl.source import Source
from graphdl.syntax import Document, parse
from graphdl.views import summary


@dataclass(frozen=True, eq=False)
class Report:
    """What one check of a document found: one Checked per network it defines (one when it
    defines one or none), and every diagnostic of all of them once. Compared and hashed as
    itself (each check makes a new one), so that what is derived from it can be cached by it."""

    path: str
    text: str
    version: int | None
    checks: tuple[Checked, ...]

    @functools.cached_property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(dict.fromkeys(d for checked in self.checks for d in checked.diagnostics))

    @functools.cached_property
    def sources(self) -> dict[str, Source]:
        """Every file the check read, by path: the document's own text and its imports'."""
        return {path: source for checked in self.checks for path, source in checked.sources.items()}

    @functools.cached_property
    def _rows(self) -> tuple[tuple[tuple[str, ...], ...], ...]:
        """`graphdl summary`'s rows of each network, one a layer, in the order of its analysis."""
        return tuple(
            summary(checked.graph, checked.analysis).rows if checked.graph is not None and checked.analysis is not None else ()
            for checked in self.checks
        )

    def tree(self, path: str) -> Document | None:
        """The syntax tree of the document or of a file it imports, as far as it parses (parsed
        again: `Checked` keeps none); None for a file the check did not read."""
        if path == self.path:
            return parsed(path, self.text)
        source = self.sources.get(path)
        return parsed(path, source.text) if source is not None else None

    def layers(self) -> Iterator[tuple[LayerInfo, tuple[str, ...]]]:
        """Every layer whose sizes are known, with its row of `graphdl summary` (kind, activations,
        learnables, count, FLOPs, memory, description: summary's COLUMNS)."""
        for checked, rows in zip(self.checks, self._rows):
            if checked.analysis is not None:
                yield from zip(checked.analysis.layers.values(), rows)


@functools.lru_cache(maxsize=8)
def parsed(path: str, text: str) -> Document:
    """The syntax tree of a text, as far as it parses (the last few kept: the same texts are
    asked for again, request after request)."""
    return parse(Source(path, text))[0]


def check_document(path: str, text: str, version: int | None, open_texts: Mapping[str, str]) -> Report:
    """Check the text of the document at `path` (`open_texts`: the other open documents' texts, by
    path). A file that defines several networks is checked once for each, as `graphdl check` does."""
    editing = {other: other_text for other, other_text in open_texts.items() if other != path}
    first = check_text(text, path=path, editing=editing)
    if first.graph is None and any(d.code == "E002" for d in first.diagnostics):
        # No network could be chosen: the file defines several (or none), each checked in turn.
        names = [network.name for network in parse(Source(path, text))[0].networks]
        if len(names) > 1:
            return Report(path, text, version, tuple(check_text(text, name, path=path, editing=editing) for name in names))
    return Report(path, text, version, (first,))


