"""The package layout is the pipeline: imports run only from text towards the module.

Every import of graphdl's own modules is read from the source, at module level, inside
functions and under TYPE_CHECKING alike, so that no import hidden in a function can dodge a cycle
or reach back against the pipeline.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import graphdl

PACKAGE = Path(graphdl.__file__).parent

# The pipeline, earliest first: a module may import its own stage and earlier ones, never a later one.
STAGES = (
    ("limits",),
    ("source",),
    ("diagnostics",),
    ("datasets",),
    ("syntax",),
    ("catalog",),
    ("graph",),
    ("elaborate",),
    ("analysis",),
    ("_frontend",),
    ("views",),
    ("editor",),  # the language server and the lexer: the front end's answers, never torch
    ("compiler",),
    ("interop",),
    ("train",),
    ("",),  # graphdl itself: the public API
    ("cli", "__main__"),
)
RANK = {top: rank for rank, tops in enumerate(STAGES) for top in tops}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def stage(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    assert top in RANK, f"{module} is in no stage of the pipeline: add its package to STAGES"
    return RANK[top]


def imports(module: str) -> dict[str, int]:
    """graphdl's modules that `module` imports, with the line of the import."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # `from graphdl.catalog import _window` imports a module; `import LayerKind`, a name.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "graphdl" or target.startswith("graphdl."):
                found.setdefault(target, node.lineno)
    return found


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_belongs_to_a_stage():
    for module in MODULES:
        stage(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_towards_the_module(module):
    backwards = [
        f"{module}:{line} imports {target}"
        for target, line in GRAPH[module].items()
        if target in MODULES and stage(target) > stage(module)
    ]
    assert not backwards, "imports against the pipeline:\n" + "\n".join(backwards)


def test_imports_name_modules_that_exist():
    missing = [f"{module} imports {target}" for module, targets in GRAPH.items() for target in targets if target not in MODULES]
    assert not missing


def test_no_import_cycle():
    cycles = []
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in GRAPH[module]:
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_other_stages_import_a_package_not_its_private_modules():
    """A stage's private modules (`_name`) are its own business; other stages import what its
    package exports."""
    reaching_in = []
    for module, targets in GRAPH.items():
        for target, line in targets.items():
            private = next((i for i, part in enumerate(target.split(".")) if part.startswith("_") and part != "__main__"), None)
            if private is None or private < 2:
                continue
            owner = ".".join(target.split(".")[:private])
            if not (module == owner or module.startswith(owner + ".")):
                reaching_in.append(f"{module}:{line} imports {target}")
    assert not reaching_in, "\n".join(reaching_in)


def test_the_public_api_names_each_home_once_for_type_checkers_too():
    """`graphdl/__init__.py` imports its names on first use from `_HOMES`, and again, eagerly,
    under TYPE_CHECKING for editors: the two must name the same things in the same places."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING")
    declared = {alias.name: node.module for node in block.body for alias in node.names}
    assert declared == dict(graphdl._HOME_OF.items())
    assert sorted(declared) == graphdl.__all__
