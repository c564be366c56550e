"""The summary table, against golden files, and as a notebook shows it: an HTML table of the same
rows, and its text printed as it is."""

from __future__ import annotations

import copy
import html
import pickle
import re

import pytest
from IPython.lib.pretty import pretty

import graphdl
from conftest import EXAMPLE_NETWORKS, EXAMPLES, GOLDEN, load_example


@pytest.mark.parametrize("example", EXAMPLE_NETWORKS)
def test_summary_of_each_example_matches_golden(example, golden):
    graph = load_example(example)
    golden(GOLDEN / "summary" / f"{example}.txt", graphdl.summary(graph))


def test_summary_totals_match_the_compiled_network():
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    net = graphdl.dlnetwork(graph)
    assert f"Total learnables: {sum(p.numel() for p in net.parameters()):,}" in graphdl.summary(graph)


def table(markup: str) -> list[list[str]]:
    """The rows of an HTML table, header first, each cell's text as a reader sees it."""
    return [[html.unescape(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)] for row in re.findall(r"<tr>(.*?)</tr>", markup)]


def test_a_summary_is_a_str_of_its_text_and_survives_pickle_and_copy():
    summary = graphdl.summary(graphdl.load(EXAMPLES / "mnist.dlg"))
    assert isinstance(summary, str)
    assert str(summary) == (GOLDEN / "summary" / "mnist.txt").read_text(encoding="utf-8")
    for again in (pickle.loads(pickle.dumps(summary)), copy.copy(summary), copy.deepcopy(summary)):
        assert again == summary and again._repr_html_() == summary._repr_html_()


def test_ipython_prints_a_summary_as_its_table_not_as_a_quoted_string():
    summary = graphdl.summary(graphdl.load(EXAMPLES / "mnist.dlg"))
    assert pretty(summary) == summary.rstrip("\n")


def test_the_html_table_holds_the_rows_of_the_text_with_the_header_and_totals_around_it():
    summary = graphdl.summary(load_example("resnet18"))
    markup = summary._repr_html_()
    rows = table(markup)
    lines = summary.splitlines()
    assert rows[0] == lines[2].split()  # the column names
    assert rows[1:] == [list(row) for row in summary.rows]
    assert [row[1] for row in rows[1:]] == [line.split()[1] for line in lines[4:-4]]  # each layer, in the text's order
    assert markup.startswith(f"<div><p>{html.escape(lines[0])}</p>")
    assert markup.endswith("<p>" + "<br>".join(lines[-3:]) + "</p></div>")
    # Numbers line up on the right, words on the left, whatever a notebook's style does to tables.
    aligned = re.findall(r'<th style="text-align:(\w+)">', markup)
    assert aligned == ["right", "left", "left", "left", "left", "right", "right", "right", "left"]


def test_the_html_escapes_what_the_cells_hold(monkeypatch):
    # No built-in kind describes itself with HTML's special characters; a kind a user writes may.
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    monkeypatch.setattr(graph["relu1"].catalog_kind, "describe", lambda args: 'keeps <b>x</b> & "y"')
    summary = graphdl.summary(graph)
    assert summary.rows[3][-1] == 'keeps <b>x</b> & "y"'
    markup = summary._repr_html_()
    assert "keeps &lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;" in markup and "<b>" not in markup
    assert table(markup)[4][-1] == 'keeps <b>x</b> & "y"'
