"""Small networks that exercise each layer kind, a module per family of the catalog.

Each module defines CASES: for each kind of its family, network bodies that use it, together
covering the arguments that change shapes. A body is a series (no arrows) unless it wires
itself. tests/test_shapes.py compiles and runs every one. Sequences of any length run with
LENGTH steps.
"""

from __future__ import annotations

import importlib
import pkgutil

IMAGE = 'input = imageInput([12, 10, 3], normalization="zscore")'
FEATURES = "input = featureInput(6)"
LENGTH = 5


def all_cases() -> dict[str, list[str]]:
    cases: dict[str, list[str]] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        for kind, bodies in importlib.import_module(f"{__name__}.{module}").CASES.items():
            cases.setdefault(kind, []).extend(bodies)
    return cases
