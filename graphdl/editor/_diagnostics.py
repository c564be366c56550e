"""graphdl's diagnostics as the editor shows them: one LSP diagnostic each, in the file its span
points into, its code linked to the code's explanation (`graphdl explain`), its notes and help
under the message as the terminal rendering writes them, its labels as related locations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from lsprotocol import types

from graphdl.diagnostics import Diagnostic
from graphdl.editor._positions import Lines
from graphdl.source import Source

SOURCE = "graphdl"


def by_path(
    diagnostics: tuple[Diagnostic, ...], sources: Mapping[str, Source], home: str, uri_of: Callable[[str], str], explanations: Path | None
) -> dict[str, list[types.Diagnostic]]:
    """The diagnostics in LSP's terms, grouped by the path of the file each points into (`home`,
    the checked document, for one that points nowhere)."""
    lines: dict[str, Lines] = {}

    def range_(span) -> types.Range:
        source = sources.get(span.path)
        if source is None:
            return types.Range(types.Position(max(span.line - 1, 0), 0), types.Position(max(span.line - 1, 0), 0))
        if span.path not in lines:
            lines[span.path] = Lines(source.text)
        return lines[span.path].range(span)

    grouped: dict[str, list[types.Diagnostic]] = {}
    for d in diagnostics:
        path = d.span.path if d.span and d.span.path in sources else home
        where = range_(d.span) if d.span and d.span.path in sources else types.Range(types.Position(0, 0), types.Position(0, 0))
        related = [types.DiagnosticRelatedInformation(types.Location(uri_of(label.span.path), range_(label.span)), label.text) for label in d.labels]
        grouped.setdefault(path, []).append(
            types.Diagnostic(
                range=where,
                message=message(d),
                severity=types.DiagnosticSeverity.Error if d.is_error else types.DiagnosticSeverity.Warning,
                code=d.code,
                code_description=types.CodeDescription(href=(explanations / f"{d.code}.md").as_uri()) if explanations else None,
                source=SOURCE,
                related_information=related or None,
            )
        )
    return grouped


def message(d: Diagnostic) -> str:
    """The message, then its notes and help on lines of their own, as the terminal says them."""
    return "\n".join([d.message, *(f"note: {note}" for note in d.notes), *([f"help: {d.help}"] if d.help else [])])
