"""The summary table, against golden files."""

from __future__ import annotations

import pytest

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
