"""How fast `graphdl lsp` answers a one-character edit of a 2,000-layer file (issue 16).

Two networks of about 2,000 layers, those of bench/analysis.py: the series of fully connected and
ReLU layers, each layer a line of its own (2,003 lines), and the DAG of residual units, written as
one repeated block (15 lines). Each edit changes one character of the text and changes it back at
the next edit (the number nearest the middle of the text goes up by one: a layer's size, `64` to
`65`, in the series, and the sizes after it change too; the window of every unit's convolution,
3 to 4, in the residual network). Three figures:

- check: `check_text` of the edited text in this process (parse, elaborate, analyze, every
  network of the file), what the server does for each version of the text;
- server: a didChange sent to a real `graphdl lsp` over stdio, until the diagnostics of that
  version arrive; they include the server's pause after the last change (DELAY, 0.15 s, so that
  a burst of keystrokes gives one check) and the transfer of the whole text (full sync);
- the baseline: `graphdl check FILE` as a command, from a cold process, which is what an editor
  without the server runs on save.

Medians of `--edits` edits.

    python bench/lsp.py               # 2,001 layers, 15 edits
    python bench/lsp.py --quick       # a smoke run: 201 layers, 3 edits
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from networks import residual_text, series_text  # bench/networks.py
from pygls.lsp.client import LanguageClient

from graphdl import check_text
from graphdl.editor._server import DELAY


def edits(text: str, count: int) -> list[str]:
    """`count` texts, each one character away from the one before: the last digit of the size
    nearest the middle of the text goes up by one (`64` to `65`, `16` to `17`) and back."""
    number = min(re.finditer(r"\b\d+\b", text), key=lambda m: abs(m.start() - len(text) // 2))
    digit = number.end() - 1
    changed = text[:digit] + str((int(text[digit]) + 1) % 10) + text[digit + 1 :]
    return [changed if i % 2 == 0 else text for i in range(count)]


def in_process(path: str, texts: list[str]) -> float:
    seconds = []
    for text in texts:
        start = time.perf_counter()
        check_text(text, path=path)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


async def through_server(path: Path, text: str, texts: list[str]) -> float:
    """Median seconds from a didChange to the diagnostics of its version."""
    client = LanguageClient("bench", "1")
    arrived: dict[int, asyncio.Event] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None:
            arrived.setdefault(params.version, asyncio.Event()).set()

    await client.start_io(sys.executable, "-m", "graphdl", "lsp")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "dlg", 1, text)))
    await asyncio.wait_for(arrived.setdefault(1, asyncio.Event()).wait(), 60)
    seconds = []
    for version, edited in enumerate(texts, 2):
        done = arrived.setdefault(version, asyncio.Event())
        start = time.perf_counter()
        document = types.VersionedTextDocumentIdentifier(version, uri)
        client.text_document_did_change(types.DidChangeTextDocumentParams(document, [types.TextDocumentContentChangeWholeDocument(edited)]))
        await asyncio.wait_for(done.wait(), 60)
        seconds.append(time.perf_counter() - start)
        await asyncio.sleep(0.05)  # as between two bursts of typing
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return statistics.median(seconds)


def cold_check(path: Path, runs: int) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "graphdl", "check", str(path)], capture_output=True, check=True)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=2001)
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="201 layers, 3 edits")
    args = parser.parse_args(argv)
    if args.quick:
        args.layers, args.edits = 201, 3
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"server pause after the last change (DELAY): {DELAY:.3f} s; medians of {args.edits} one-character edits")
    print(f"{'network':<9} {'layers':>6} {'lines':>6} {'check (s)':>10} {'server (s)':>11} {'server - DELAY (s)':>19} {'graphdl check (s)':>18}")
    with tempfile.TemporaryDirectory() as folder:
        for name, make in (("series", series_text), ("residual", residual_text)):
            text = make(args.layers)
            path = Path(folder) / f"{name}.dlg"
            path.write_text(text)
            layers = len(check_text(text, path=str(path)).graph)
            texts = edits(text, args.edits)
            check = in_process(str(path), texts)
            server = asyncio.run(through_server(path, text, texts))
            cold = cold_check(path, min(args.edits, 5))
            lines = text.count("\n")
            print(f"{name:<9} {layers:>6} {lines:>6} {check:>10.3f} {server:>11.3f} {server - DELAY:>19.3f} {cold:>18.3f}")


if __name__ == "__main__":
    main()
