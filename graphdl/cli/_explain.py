"""`graphdl explain CODE`: the long form of each diagnostic, as `rustc --explain` gives it.

Each code of `graphdl.diagnostics.CODES` is explained in `docs/codes/<code>.md` (in the wheel,
`graphdl/codes/<code>.md`): what it means, why graphdl reports it and how to fix it, then, where one
file can show it, a minimal `.dlg` that makes the mistake and the same file fixed:

    # E201: unknown layer kind

    Three to eight sentences.

    ## Example

    ```dlg
    ...
    ```

    ## Fixed

    ```dlg
    ...
    ```

The diagnostics shown for the example are not written in the file: `explain` checks the example
and renders what graphdl really says about it, so they cannot drift from the checker.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from graphdl.diagnostics import CODES, render

WIDTH = 80
EXAMPLE_PATH = "example.dlg"


@dataclass(frozen=True)
class Explanation:
    """The long form of one diagnostic code. `text` is its paragraphs, each on one line, separated
    by blank lines; `mistake` is a complete `.dlg` whose diagnostics have this code and `fix` the
    same file corrected; both are None where one file cannot show it."""

    code: str
    title: str
    text: str
    mistake: str | None = None
    fix: str | None = None


def codes_folder() -> Path:
    """The explanations: inside the installed package, or in docs/codes of a source checkout
    (where an editable install finds the package)."""
    packaged = files("graphdl").joinpath("codes")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "docs" / "codes"


_HEADING = re.compile(r"# (E\d{3}): (.+)")
_SECTION = re.compile(r"^## (.+)\n", re.MULTILINE)
_DLG_BLOCK = re.compile(r"```dlg\n(.*?)```", re.DOTALL)


def parse(text: str, where: str) -> Explanation:
    """An explanation from the text of its file; ValueError, naming `where`, for a file not in
    the format of the module docstring."""
    heading, _, rest = text.partition("\n")
    match = _HEADING.fullmatch(heading)
    if not match:
        raise ValueError(f"{where}: the first line is not `# EXXX: title`")
    body, *sections = _SECTION.split(rest)
    named = dict(zip(sections[::2], sections[1::2]))
    if list(named) not in ([], ["Example", "Fixed"]):
        raise ValueError(f"{where}: sections {list(named)}, not `## Example` then `## Fixed`, or none")
    paragraphs = [" ".join(p.split()) for p in body.strip().split("\n\n")]
    examples = []
    for name, section in named.items():
        block = _DLG_BLOCK.fullmatch(section.strip())
        if not block:
            raise ValueError(f"{where}: `## {name}` holds something other than one ```dlg block")
        examples.append(block.group(1))
    mistake, fix = examples or (None, None)
    return Explanation(match.group(1), match.group(2), "\n\n".join(paragraphs), mistake, fix)


def normalize(code: str) -> str:
    """`e201`, ` E201 ` and `201` all name E201."""
    code = code.strip().upper()
    return "E" + code if code.isdigit() else code


@functools.cache
def explanation(code: str) -> Explanation:
    """The explanation of `code` (case-insensitive); KeyError for a code that does not exist."""
    key = normalize(code)
    if key not in CODES:
        raise KeyError(code)
    path = codes_folder() / f"{key}.md"
    return parse(path.read_text(encoding="utf-8"), str(path))


def explain(code: str, color: bool = False) -> str:
    """The long explanation of a diagnostic code, for the terminal: the title, what it means, and
    an example of the mistake with what graphdl says about it and the example fixed. `color`
    colours the diagnostics as `graphdl check` does. KeyError for an unknown code."""
    e = explanation(code)
    parts = [f"{e.code}: {e.title}", *map(_wrap, e.text.split("\n\n"))]
    if e.mistake is not None:
        parts += ["For example:", _indent(e.mistake), "graphdl says:", _indent(_diagnostics(e.mistake, color))]
    if e.fix is not None:
        parts += ["Fixed:", _indent(e.fix)]
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _diagnostics(text: str, color: bool) -> str:
    """What `graphdl check` prints for the example, without the count at the end."""
    from graphdl._frontend import check_source
    from graphdl.source import Source

    checked = check_source(Source(EXAMPLE_PATH, text))
    return "\n".join(render(d, checked.sources, color) for d in checked.diagnostics)


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else "" for line in text.rstrip("\n").split("\n"))


_CODE_SPAN = re.compile(r"`[^`]*`")
_KEEP_TOGETHER = "\x00"


def _wrap(text: str) -> str:
    """Fill to WIDTH columns, never breaking inside `code`."""
    glued = _CODE_SPAN.sub(lambda m: m.group(0).replace(" ", _KEEP_TOGETHER), text)
    filled = textwrap.fill(glued, WIDTH, break_long_words=False, break_on_hyphens=False)
    return filled.replace(_KEEP_TOGETHER, " ")
