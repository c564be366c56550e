"""The categories of layer kinds, and the colours pictures draw each one's layers in: one table,
so that a new category cannot be without colours."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """How pictures draw the layers of a category: a fill and a border colour."""

    name: str
    fill: str
    border: str


CATEGORIES: Mapping[str, Category] = {
    c.name: c
    for c in (
        Category("input", "#d1fae5", "#059669"),
        Category("convolution", "#dbeafe", "#2563eb"),
        Category("dense", "#ede9fe", "#7c3aed"),
        Category("normalization", "#fef9c3", "#ca8a04"),
        Category("activation", "#ffedd5", "#ea580c"),
        Category("pooling", "#fce7f3", "#db2777"),
        Category("combination", "#e5e7eb", "#374151"),
        Category("reshape", "#f3f4f6", "#6b7280"),
        Category("regularization", "#f1f5f9", "#64748b"),
        Category("sequence", "#cffafe", "#0891b2"),
        Category("attention", "#e0e7ff", "#4f46e5"),
        Category("output", "#fde68a", "#b45309"),
    )
}
