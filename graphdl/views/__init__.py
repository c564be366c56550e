"""Views of a LayerGraph and its Analysis: Graphviz pictures and summary tables. No torch."""

from graphdl.views._render import render, to_dot
from graphdl.views._summary import summary, summary_data

__all__ = ["render", "summary", "summary_data", "to_dot"]
