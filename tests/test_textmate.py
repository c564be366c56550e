"""The VS Code extension folder (editors/vscode/): its TextMate grammar is what generate.py writes
from the lexer and the catalog, every pattern in it compiles, its kinds are the catalog's, and
package.json points at files that are there."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess

import pytest

from conftest import ROOT
from graphdl.catalog import kinds

FOLDER = ROOT / "editors" / "vscode"
PACKAGE = json.loads((FOLDER / "package.json").read_text(encoding="utf-8"))


def generator():
    spec = importlib.util.spec_from_file_location("generate", FOLDER / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATE = generator()
GRAMMAR = json.loads(GENERATE.GRAMMAR.read_text(encoding="utf-8"))


def rules(node):
    """Every rule of the grammar, nested ones and captures' patterns included."""
    if isinstance(node, dict):
        if any(key in node for key in ("match", "begin", "include", "patterns")):
            yield node
        for value in node.values():
            yield from rules(value)
    elif isinstance(node, list):
        for value in node:
            yield from rules(value)


RULES = list(rules([GRAMMAR["patterns"], *GRAMMAR["repository"].values()]))


def test_the_grammar_is_what_generate_writes():
    assert GENERATE.GRAMMAR.read_text(encoding="utf-8") == GENERATE.text(), "run: python editors/vscode/generate.py"


def test_every_pattern_compiles():
    patterns = [rule[key] for rule in RULES for key in ("match", "begin", "end") if key in rule]
    assert len(patterns) > 30
    for pattern in patterns:
        re.compile(pattern)


def test_every_include_names_a_rule_and_every_scope_is_the_languages():
    includes = {rule["include"] for rule in RULES if "include" in rule}
    assert includes == {f"#{name}" for name in GRAMMAR["repository"]}
    scopes = [value for rule in RULES for key, value in rule.items() if key == "name"]
    scopes += [capture["name"] for rule in RULES for key in ("captures", "beginCaptures", "endCaptures") for capture in rule.get(key, {}).values()]
    assert scopes and all(scope.endswith(".dlg") for scope in scopes)


def test_the_layer_kinds_are_the_catalogs():
    (pattern,) = [rule["match"] for rule in RULES if rule.get("name") == "support.function.layer.dlg"]
    listed = re.fullmatch(r"\\b\(\?:(.*)\)\(\?=\\s\*\\\(\)", pattern).group(1).split("|")
    builtin = {kind.name for kind in kinds() if type(kind).__module__.startswith("graphdl.catalog.")}
    assert sorted(listed) == sorted(builtin)
    assert len(builtin) > 50


def test_the_package_contributes_the_language_its_grammar_and_the_server_setting():
    (language,) = PACKAGE["contributes"]["languages"]
    (grammar,) = PACKAGE["contributes"]["grammars"]
    assert language["id"] == grammar["language"] == "graphdl"
    assert language["extensions"] == [".dlg"]
    assert grammar["scopeName"] == GRAMMAR["scopeName"] == "source.dlg"
    assert (FOLDER / grammar["path"]).resolve() == GENERATE.GRAMMAR
    for path in (language["configuration"], PACKAGE["main"], "README.md", ".vscodeignore"):
        assert (FOLDER / path).is_file(), path
    assert PACKAGE["contributes"]["configuration"]["properties"]["graphdl.server.path"]["default"] == "graphdl"
    assert "vscode-languageclient" in PACKAGE["dependencies"]


def test_the_language_configuration_is_json_whose_patterns_compile():
    configuration = json.loads((FOLDER / "language-configuration.json").read_text(encoding="utf-8"))
    assert configuration["comments"] == {"lineComment": "#"}
    for pattern in configuration["indentationRules"].values():
        re.compile(pattern)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_extension_is_javascript_that_starts_graphdl_lsp():
    subprocess.run(["node", "--check", str(FOLDER / "extension.js")], check=True, timeout=60)
    assert 'args: ["lsp"]' in (FOLDER / "extension.js").read_text(encoding="utf-8")
