"""What a repetition means: its members, each with a label (its name's last part) and the values
its names take.

`for i in first..last` has one member per whole number from first to last, labelled by the
number; `for w in widths` one per item of the list, labelled by its position from 0, as
torchvision numbers the members of `features`; with several names (`for t, c in table`), each
item is a list unpacked into them. A repetition may be empty (`1..0`, `[]`): it makes no layers,
and what flows into it flows through.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphdl.elaborate._evaluate import EvaluationError, evaluate, names_in
from graphdl.limits import LIMITS, raising
from graphdl.syntax import Repeat, show_value


@dataclass(frozen=True)
class Members:
    """The members of a repetition: `count` of them, the first labelled `first` for a range."""

    repeat: Repeat
    count: int
    first: int = 0  # the first index of a range
    items: tuple | None = None  # the list's items, for a repetition over a list

    def __iter__(self) -> Iterator[tuple[int, dict[str, object]]]:
        """Each member's label and the values of the repetition's names."""
        names = self.repeat.names
        if self.items is None:
            for index in range(self.first, self.first + self.count):
                yield index, {names[0]: index}
            return
        for position, item in enumerate(self.items):
            yield position, dict(zip(names, item if len(names) > 1 else (item,)))

    def uses_names(self, expressions) -> bool:
        """Whether any of `expressions` uses the repetition's names (members then differ)."""
        return any(name in self.repeat.names for expr in expressions for name in names_in(expr))


class RepeatProblem(Exception):
    """A repetition that has no members to make: a code, a message and help."""

    def __init__(self, code: str, message: str, help: str):
        super().__init__(message)
        self.code, self.message, self.help = code, message, help


def members(repeat: Repeat, env: Mapping[str, object]) -> Members:
    """The members of `repeat` with `env` in scope; raises EvaluationError for a bound or list
    that does not evaluate, RepeatProblem for one that makes no sense or too many members."""
    if repeat.over_list:
        items = evaluate(repeat.first, env)
        if not isinstance(items, tuple):
            raise EvaluationError(
                f"`for {', '.join(repeat.names)} in` takes a list or a range `first..last`, not {show_value(items)}", repeat.first.span,
                help=f"repeat over a range: `for i in 1..{show_value(items)}`" if isinstance(items, int) else None,
            )  # fmt: skip
        _within_limit(len(items))
        if len(repeat.names) > 1:
            for position, item in enumerate(items):
                if not isinstance(item, tuple) or len(item) != len(repeat.names):
                    raise RepeatProblem(
                        "E218",
                        f"`for {', '.join(repeat.names)} in ...` unpacks each item into {len(repeat.names)} names, but item {position} is {show_value(item)}",
                        f"each item of the list is a list of {len(repeat.names)} values",
                    )
        return Members(repeat, len(items), items=items)
    if len(repeat.names) > 1:
        raise RepeatProblem("E218", f"a range gives one index, not {len(repeat.names)}", "unpack the items of a list: `for t, c in table`")
    first, last = evaluate(repeat.first, env), evaluate(repeat.last, env)
    count = last - first + 1 if _whole(first) and _whole(last) else None
    if count is not None:
        _within_limit(count)
    if count is None or count < 0:
        raise RepeatProblem(
            "E218",
            f"a repetition needs whole numbers first..last with last >= first - 1, not {show_value(first)}..{show_value(last)}",
            "`for i in 1..3` makes three, numbered 1, 2, 3; `1..0` makes none",
        )
    return Members(repeat, int(count), int(first))


def _within_limit(count: int | float) -> None:
    if count > LIMITS.repeat:
        shown = f"{int(count):,}" if count < 10**15 else f"{float(count):.3g}"
        raise RepeatProblem(
            "E231",
            f"a repetition of {shown} members; one `for` makes at most {LIMITS.repeat:,}",
            f"a network this large is no network anyone can train: {raising('repeat')}",
        )


def _whole(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()
