"""The grammar, and the Lark parser and lexer built from it, once per process.

The grammar lives at the top of the repository (`grammar/graphdl.lark`) and ships inside the wheel
as `graphdl/grammar/`. It is LALR with positions on; a post-lexer drops line breaks inside (...) and
[...], where statements may wrap.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from pathlib import Path

from lark import Lark
from lark.lark import PostLex

OPENING = {"LPAR": "RPAR", "LSQB": "RSQB"}


def grammar_text() -> str:
    """The grammar: inside the installed package, or at the top of a source checkout (where an
    editable install finds it)."""
    packaged = files("graphdl").joinpath("grammar/graphdl.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "graphdl.lark").read_text(encoding="utf-8")


@functools.cache
def lalr_parser() -> Lark:
    return Lark(
        grammar_text(), parser="lalr", start=["start", "expr"], propagate_positions=True, maybe_placeholders=True, postlex=_FreeLinesInBrackets()
    )


@functools.cache
def _lexer() -> Lark:
    """A plain lexer of the same grammar, built once, for looking at the tokens around an error
    (Lark.lex of the parser would build a new lexer each call)."""
    return Lark(grammar_text(), parser=None, lexer="basic")


def tokens(text: str):
    return _lexer().lex(text, dont_ignore=False)


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
