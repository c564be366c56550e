"""Views of a LayerGraph and its Analysis: Graphviz pictures and summary tables, in files and in
notebooks. No torch."""

from graphdl.views._groups import Group, boundary, groups
from graphdl.views._notebook import show_pictures_in
from graphdl.views._render import render, to_dot
from graphdl.views._summary import summary, summary_data

__all__ = ["Group", "boundary", "groups", "render", "show_pictures_in", "summary", "summary_data", "to_dot"]
