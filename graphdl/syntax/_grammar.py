"""The grammar, and the Lark parser built from it: built once per machine, loaded once per process.

The grammar lives at the top of the repository (`grammar/graphdl.lark`) and ships inside the wheel
as `graphdl/grammar/`. It is LALR; a post-lexer drops line breaks inside (...) and [...], where
statements may wrap. Lark builds no tree of its own: the parser's callbacks (`tree_builder`) build
graphdl's syntax tree as it reduces, its spans taken from the tokens, so Lark's position tracking
(`propagate_positions`) is off.

Building the LALR tables costs a third of a second or more (more when `interegular` is installed:
Lark then compares every pair of terminals), loading built ones a few milliseconds. So the built
parser is kept in the user's cache folder: `$GRAPHDL_CACHE_DIR`, else `$XDG_CACHE_HOME/graphdl`,
else `~/.cache/graphdl`, in a file named after a hash of everything that shapes it (the grammar
text, the options, the post-lexer, Lark's and Python's versions), so a changed grammar or an
upgraded Lark never meets a stale parser.

The file is what `Lark.save` writes, a pickle, and unpickling can run code: graphdl reads it only
from a folder owned by the user and writable by nobody else (it makes the folder with mode 0700),
and otherwise builds the parser without caching it. Several processes may share the folder: a
writer writes a temporary file beside the cache file and renames it into place, so a reader finds
a whole file or none. A file that does not load (damaged, cut short, not ours) is ignored and
replaced; a folder that cannot be made or written (read-only, full) only means building each time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

from lark import Lark, Tree
from lark.lark import PostLex
from lark.parse_tree_builder import ParseTreeBuilder

OPENING = {"LPAR": "RPAR", "LSQB": "RSQB"}

# Bump when what is stored changes shape (the header, or what is passed to Lark.save).
_CACHE_FORMAT = 1


def grammar_text() -> str:
    """The grammar: inside the installed package, or at the top of a source checkout (where an
    editable install finds it)."""
    packaged = files("graphdl").joinpath("grammar/graphdl.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "graphdl.lark").read_text(encoding="utf-8")


class _FreeLinesInBrackets(PostLex):
    """Drops line breaks inside (...) and [...], so that long argument lists may wrap."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        for token in stream:
            if token.type in OPENING:
                depth += 1
            elif token.type in OPENING.values():
                depth = max(0, depth - 1)
            elif token.type == "_NL" and depth:
                continue
            yield token


_OPTIONS = {"parser": "lalr", "start": ["start", "expr"], "propagate_positions": False, "maybe_placeholders": True}


@functools.cache
def lalr_parser() -> Lark:
    return cached_parser(grammar_text(), cache_folder())


@functools.cache
def tree_builder() -> ParseTreeBuilder:
    """What turns an object with a method per rule into the parser's callbacks, as Lark does for
    its `transformer=` option: it drops the tokens written as strings, inlines `_rules`, expands
    `?rules` of one child, and puts None for an absent `[optional]`."""
    return ParseTreeBuilder(lalr_parser().rules, Tree, maybe_placeholders=_OPTIONS["maybe_placeholders"])


def build_parser(grammar: str) -> Lark:
    """The parser built from the grammar text (the slow way)."""
    return Lark(grammar, postlex=_FreeLinesInBrackets(), **_OPTIONS)


def cache_key(grammar: str) -> str:
    """A hash of everything the built parser depends on."""
    import lark

    postlex = _FreeLinesInBrackets
    parts = (
        _CACHE_FORMAT, grammar, sorted(_OPTIONS.items()), lark.__version__, sys.version_info[:3],
        # The post-lexer is pickled by reference to its class, whose code may change while its name
        # does not; its name and the terminals it always accepts, which shape the tables, are keyed.
        f"{postlex.__module__}.{postlex.__qualname__}", postlex.always_accept,
    )
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def cache_folder() -> Path | None:
    """Where built parsers are kept; None when there is no home to keep them in."""
    override = os.environ.get("GRAPHDL_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME")
    if base:
        return Path(base) / "graphdl"
    try:
        return Path.home() / ".cache" / "graphdl"
    except RuntimeError:  # no home directory to be found
        return None


def cached_parser(grammar: str, folder: Path | None) -> Lark:
    """The parser of `grammar`: loaded from `folder` if built there before, else built (and stored
    there when the folder allows it)."""
    if folder is None:
        return build_parser(grammar)
    key = cache_key(grammar)
    path = folder / f"parser-{key[:32]}.lark"
    header = f"graphdl-parser {key}\n".encode("ascii")
    parser = _load(path, header)
    if parser is None:
        parser = build_parser(grammar)
        _store(parser, path, header)
    return parser


def _private(folder: Path) -> bool:
    """Whether only this user (and the administrator) can put files in `folder`."""
    if not hasattr(os, "getuid"):  # Windows: a user's profile folder is private already
        return True
    status = folder.stat()
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _load(path: Path, header: bytes) -> Lark | None:
    try:
        if not _private(path.parent):
            return None
        with open(path, "rb") as f:
            if f.readline() != header:
                return None
            return Lark.load(f)
    except Exception:  # a damaged or foreign file, whatever unpickling it raises, is built anew
        return None


def _store(parser: Lark, path: Path, header: bytes) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(path.parent):
            return
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as f:
            f.write(header)
            parser.save(f)
        os.replace(temporary, path)
    except Exception:  # a cache that cannot be written is only a slower start, never an error
        with contextlib.suppress(OSError):
            os.unlink(temporary)
