"""The Pygments lexer of `.dlg` text, found by Pygments through the `pygments.lexers` entry point,
so `pygmentize`, Sphinx and MkDocs colour ```dlg code blocks once graphdl is installed.

Its words mirror grammar/graphdl.lark, whose keywords are contextual: `input`, `output` and `let`
are keywords only at a statement's start before a name, `network` and `block` only before the
name they define, and `import` only before its file, so a layer may be called `input` or
`network` and is coloured as a layer there. Inside (...) and [...] no statement starts, so those
words are names there too. A call is a layer kind when the catalog knows the name (plugins'
kinds included), else a block (or an expression's function, such as `channels(x)`).

The token patterns are public: editors/vscode/generate.py builds the TextMate grammar from them,
so the two colourings read the same words.
"""

from __future__ import annotations

import functools

from pygments.lexer import RegexLexer, bygroups, default, include, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

__all__ = ["DlgLexer"]

# The grammar's tokens (NAME, PATH, INT, FLOAT, STRING): a string has no escapes, and ends on its line.
NAME = r"[A-Za-z_][A-Za-z0-9_]*"
PATH = rf"{NAME}(?:\.[A-Za-z0-9_]+)+"
LAYER_NAME = rf"{NAME}(?:\.[A-Za-z0-9_]+)*"
FLOAT = r"(?:[0-9]+\.[0-9]+|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+"
INT = r"[0-9]+"
DOUBLE_QUOTED = r'"[^"\n]*"'
SINGLE_QUOTED = r"'[^'\n]*'"
COMMENT = r"#[^\n]*"

# Keywords wherever they stand (outside a statement's start); the grammar writes them as strings.
CONTROL = ("if", "else", "for", "in", "shares")
LOGICAL = ("and", "or", "not")
CONSTANTS = ("true", "false")
# Operators longest first, so that `//` is not read as two `/`, nor `->` as `-`.
OPERATORS = ("->", "..", "**", "//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "=")


@functools.cache
def kind_names() -> frozenset[str]:
    # Imported on first use, not with this module: Pygments imports every plugin lexer whenever it
    # looks any lexer up, and a lookup should not pay for loading graphdl's catalog.
    from graphdl.catalog import kinds

    return frozenset(kind.name for kind in kinds())


def _called(lexer, match):
    name = match.group()
    yield match.start(), Name.Builtin if name in kind_names() else Name.Function, name


class DlgLexer(RegexLexer):
    """graphdl's network description language (`.dlg` files)."""

    name = "graphdl"
    aliases = ["dlg", "graphdl"]
    filenames = ["*.dlg"]
    mimetypes = ["text/x-graphdl"]
    version_added = ""  # not one of Pygments' own lexers

    tokens = {
        "root": [
            # The statements whose first word is a keyword, or a layer's name. They come before
            # the spaces, which would otherwise take the indentation that `^` needs.
            (r"^([ \t]*)(import)\b", bygroups(Whitespace, Keyword.Namespace)),
            (rf"^([ \t]*)(network|block)([ \t]+)({NAME})", bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Class)),
            (rf"^([ \t]*)(let)([ \t]+)({NAME})", bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Constant)),
            (rf"^([ \t]*)(input|output)([ \t]+)(?={NAME})", bygroups(Whitespace, Keyword.Declaration, Whitespace), "ports"),
            (rf"^([ \t]*)({LAYER_NAME})([ \t]*)(=)(?!=)", bygroups(Whitespace, Name.Variable, Whitespace, Operator)),
            include("wiring"),
            include("expression"),
        ],
        # `input x, y` and `output aux if training`: the names a block's ports or a network's outputs take.
        "ports": [
            (r"[ \t]+", Whitespace),
            (r"if\b", Keyword, "#pop"),
            (LAYER_NAME, Name.Variable),
            (r",", Punctuation),
            default("#pop"),
        ],
        # `a/in2` beside an arrow is a layer's port; elsewhere `/` divides.
        "wiring": [
            (rf"(->)(\s*)({LAYER_NAME})(/)({NAME})", bygroups(Operator, Whitespace, Name, Punctuation, Name.Attribute)),
            (rf"({LAYER_NAME})(/)({NAME})(?=\s*->)", bygroups(Name, Punctuation, Name.Attribute)),
        ],
        "expression": [
            include("space"),
            (words(CONTROL, suffix=r"\b"), Keyword),
            (words(LOGICAL, suffix=r"\b"), Operator.Word),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (rf"{NAME}(?=\s*\()", _called),
            (LAYER_NAME, Name),
            (FLOAT, Number.Float),
            (INT, Number.Integer),
            (DOUBLE_QUOTED, String.Double),
            (SINGLE_QUOTED, String.Single),
            (words(OPERATORS), Operator),
            (r"[(\[]", Punctuation, "brackets"),
            # A brace or a closing bracket without its opening one (in text being typed) is
            # punctuation all the same.
            (r"[,{}()\[\]]", Punctuation),
        ],
        # Inside (...) and [...] lines run on and no statement starts: only expressions.
        "brackets": [
            (r"[)\]]", Punctuation, "#pop"),
            include("expression"),
        ],
        # A line break is a token of its own, so that the next line's indentation is there for `^`.
        "space": [
            (r"\n", Whitespace),
            (r"[^\S\n]+", Whitespace),
            (COMMENT, Comment.Single),
        ],
    }
