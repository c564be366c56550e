"""Checking an editor's document: its text as it is now, with the other open documents' unsaved
texts in place of their files, every network of it, as `graphdl check` does.

A document's imports are read from the disk under the same rules as `graphdl check` (beside the
file, the search path, nothing outside them), except where another open document holds text that
differs from its file: then the open texts lie over the disk (see `OpenFiles`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphdl._frontend import Checked, check_text
from graphdl.analysis import LayerInfo
from graphdl.diagnostics import Diagnostic
from graphdl.source import ImportRules, Source
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
    files = _overlay(path, open_texts)
    first = check_text(text, path=path, files=files)
    if first.graph is None and any(d.code == "E002" for d in first.diagnostics):
        # No network could be chosen: the file defines several (or none), each checked in turn.
        names = [network.name for network in parse(Source(path, text))[0].networks]
        if len(names) > 1:
            return Report(path, text, version, tuple(check_text(text, name, path=path, files=files) for name in names))
    return Report(path, text, version, (first,))


def _overlay(path: str, open_texts: Mapping[str, str]) -> OpenFiles | None:
    """The open texts to read imports from, or None where every one of them is its file's text
    (the usual case: then the check reads as `graphdl check` does, every rule and note kept)."""
    unsaved = {other: text for other, text in open_texts.items() if other != path and _differs(other, text)}
    return OpenFiles(unsaved, path) if unsaved else None


def _differs(path: str, text: str) -> bool:
    try:
        return Source.read(path).text != text
    except (OSError, UnicodeDecodeError):
        return True


class OpenFiles(Mapping[str, str]):
    """Unsaved texts over the files on disk, for `check_text(files=...)`, which reads imports from
    `files` alone: a path not open is read from the disk where the import rules let `graphdl
    check` read it (the checked file's folder and the search path), and is missing elsewhere."""

    def __init__(self, texts: Mapping[str, str], top: str):
        self.texts, self.top, self.rules = dict(texts), top, ImportRules.of()

    def __getitem__(self, path: str) -> str:
        if path in self.texts:
            return self.texts[path]
        if not self._readable(path):
            raise KeyError(path)
        return Source.read(path, self.rules.limits.file_bytes).text  # OSError is the import's diagnostic

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and (path in self.texts or self._readable(path))

    def _readable(self, path: str) -> bool:
        try:  # an absolute path is located as itself, refused where it lies outside the allowed folders
            self.rules.locate(self.top, os.path.abspath(path), self.top)
        except OSError:
            return False
        return os.path.isfile(path)

    def __iter__(self):
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)
