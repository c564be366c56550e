"""Bad input never gives a traceback, and one mistake gives one diagnostic.

Every example and golden file is mutated line by line, in the ways people get a network wrong
(a misspelt kind, a misspelt reference, a wrong number, a stray comma); then arbitrary text in
the language's alphabet is thrown at the front end.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import graphdl
from conftest import DIAGNOSTICS, EXAMPLES

VALID = [*sorted(EXAMPLES.glob("*.dlg")), DIAGNOSTICS / "E401_addition_sizes.dlg"]


def front_end(text: str, network: str | None = None):
    """Everything the front end does with a text, as the CLI's check, summary and render would."""
    checked = graphdl.check_text(text, network, path="m.dlg")
    if checked.graph is not None:
        graphdl.to_dot(checked.graph, checked.analysis)
        if checked.ok:
            graphdl.summary(checked.graph, checked.analysis)
    return checked


def errors_of_each_network(text: str, networks: tuple[str, ...]) -> tuple[list, dict]:
    """The errors of checking each network of a file of several, each once (as `graphdl check`
    prints them: a mistake in a block both use is one mistake), and their sources."""
    errors, sources = {}, {}
    for network in networks if len(networks) > 1 else (None,):
        checked = front_end(text, network)
        sources.update(checked.sources)
        errors.update({(d.code, d.span, d.message): d for d in checked.diagnostics if d.is_error})
    return list(errors.values()), sources


def mutations(text: str):
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not line.startswith("    ") or line.strip().startswith("#"):
            continue

        def replaced(new: str, what: str, i: int = i):
            return what, i + 1, "\n".join([*lines[:i], new, *lines[i + 1:]])

        kind = re.search(r"= (\w+)\(", line)
        if kind:
            yield replaced(line.replace(kind.group(1) + "(", kind.group(1) + "x(", 1), "misspelt kind")
        number = re.search(r"\((\d+)", line)
        if number:
            yield replaced(line.replace("(" + number.group(1), "(-" + number.group(1), 1), "negative number")
        reference = re.search(r"(\w+) ->", line)
        if reference:
            yield replaced(line.replace(reference.group(1) + " ->", reference.group(1) + "q ->", 1), "misspelt reference")
        yield replaced(line + " ,", "stray comma")


CASES = [(path, what, line, text) for path in VALID for what, line, text in mutations(path.read_text())]


@pytest.mark.parametrize("path,what,line,text", CASES, ids=[f"{c[0].stem}:{c[2]}:{c[1]}" for c in CASES])
def test_one_mistake_one_diagnostic(path, what, line, text):
    errors, sources = errors_of_each_network(text, graphdl.networks(path))
    expected = 1 if path.stem != "E401_addition_sizes" else 2  # that file carries a mistake of its own
    assert len(errors) <= expected, [d.render(sources) for d in errors]
    assert any(d.span and d.span.line == line for d in errors), [d.render(sources) for d in errors]


ALPHABET = st.sampled_from(
    ["network", " ", "\n", "{", "}", "(", ")", "[", "]", ",", "=", "->", "/", "#", '"same"', "'x'", "true", "1", "-2", "3.5",
     "1e999", "a", "b", "input", "conv", "relu", "imageInput", "featureInput", "convolution2d", "addition", "add/in2", "in1",
     "fullyConnected", "softmax", "\t", "\r\n", "\u2028", "é", "٣", "self", "forward", "class", "_x"]
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_arbitrary_text_gives_diagnostics_not_tracebacks(text):
    front_end(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_arbitrary_edits_of_an_example_give_diagnostics_not_tracebacks(data):
    text = (EXAMPLES / "digits_two_heads.dlg").read_text()
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 12))
        insert = data.draw(st.lists(ALPHABET, max_size=3).map("".join))
        text = text[:position] + insert + text[position + cut :]
    front_end(text)


@pytest.mark.parametrize(
    "value",
    ["[" * 5000 + "1" + "]" * 5000, "max(" * 5000 + "1" + ")" * 5000, "-" * 5000 + "1", "(" * 5000 + "[" * 9 + "1" + "]" * 9 + ")" * 5000],
    ids=["lists", "calls", "signs", "lists in parentheses"],
)
def test_values_nested_thousands_deep_are_diagnostics_in_a_file_and_with_set(value, tmp_path):
    (diagnostic,) = front_end("network n {\n input = featureInput(" + value + ")\n}\n").diagnostics
    assert diagnostic.code == "E102" and "nested more than" in diagnostic.message and diagnostic.span.line == 2
    path = tmp_path / "n.dlg"
    path.write_text("network n(width=4) {\n input = featureInput(width)\n}\n")
    # `--set` reads an expression nested too deeply as one, and says so at the parameter.
    result = subprocess.run([sys.executable, "-m", "graphdl", "check", str(path), "--set", f"width={value}"], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert "error[E224]" in result.stdout + result.stderr and "nested more than" in result.stdout + result.stderr
