"""The `graphdl` command, run as users run it: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import graphdl as graphdl_api
from conftest import DIAGNOSTICS, EXAMPLES, GOLDEN, ROOT


def graphdl(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "graphdl", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_check_a_valid_network():
    result = graphdl("check", EXAMPLES / "mnist.dlg")
    assert result.returncode == 0, result.stderr
    assert "network `mnist` is valid: 7 layers, 39,770 learnables" in result.stdout
    assert result.stderr == ""


def test_check_reports_three_mistakes_with_positions_and_no_traceback():
    bad = DIAGNOSTICS / "three_mistakes.dlg"
    result = graphdl("check", bad, "--color", "never")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("error[") == 3
    for position in ("three_mistakes.dlg:5:13", "three_mistakes.dlg:8:38", "three_mistakes.dlg:9:32"):
        assert position in result.stderr
    assert result.stderr.count("^") >= 3
    assert result.stderr.endswith("3 errors found\n")


def test_colour_on_request_only():
    bad = DIAGNOSTICS / "E201_unknown_kind.dlg"
    assert "\x1b[" not in graphdl("check", bad).stderr  # not a terminal
    assert "\x1b[1;31merror[E201]" in graphdl("check", bad, "--color", "always").stderr


def test_check_a_missing_file():
    result = graphdl("check", "no/such/file.dlg")
    assert result.returncode == 1
    assert "error[E001]: cannot read no/such/file.dlg: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_choose_a_network_by_name(tmp_path):
    path = tmp_path / "two.dlg"
    path.write_text("network a {\n input = featureInput(2)\n}\nnetwork b {\n input = featureInput(3)\n fc = fullyConnected(1)\n}\n")
    # check covers both (issue 13); a command that uses one network needs its name.
    both = graphdl("check", path)
    assert both.returncode == 0 and "network `a` is valid" in both.stdout and "network `b` is valid" in both.stdout
    assert "several networks" in graphdl("compile", path).stderr
    result = graphdl("check", path, "--network", "b")
    assert result.returncode == 0 and "network `b` is valid" in result.stdout
    assert "did you mean `b`" not in graphdl("check", path, "--network", "c").stderr
    assert "no network named `c`" in graphdl("check", path, "--network", "c").stderr


def test_summary_prints_the_table():
    result = graphdl("summary", EXAMPLES / "mnist.dlg")
    assert result.returncode == 0
    assert result.stdout == (GOLDEN / "summary" / "mnist.txt").read_text()


def test_summary_json_gives_the_table_as_data():
    result = graphdl("summary", EXAMPLES / "siamese.dlg", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    graph = graphdl_api.load(EXAMPLES / "siamese.dlg")
    net = graphdl_api.dlnetwork(graph)
    assert data["network"] == graph.name and {layer["name"] for layer in data["layers"]} == {layer.name for layer in graph.layers}
    # Shared weights are counted once, in the table as in the compiled module.
    assert data["num_learnables"] == sum(layer["num_learnables"] for layer in data["layers"])
    assert data["num_learnables"] == sum(p.numel() for p in net.parameters())
    assert any(layer["shares"] for layer in data["layers"])
    assert data["flops"] == sum(layer["flops"] for layer in data["layers"]) > 0


def test_summary_of_a_broken_network_prints_diagnostics():
    result = graphdl("summary", DIAGNOSTICS / "E401_addition_sizes.dlg")
    assert result.returncode == 1 and result.stdout == "" and "error[E401]" in result.stderr


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "dot"])
def test_render_chooses_the_format_from_the_suffix(tmp_path, fmt):
    out = tmp_path / f"mnist.{fmt}"
    result = graphdl("render", EXAMPLES / "mnist.dlg", "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out}\n"
    assert out.stat().st_size > 500


def test_render_defaults_to_svg_named_after_the_network(tmp_path):
    result = graphdl("render", EXAMPLES / "mnist.dlg", cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "mnist.svg").exists()


def test_render_draws_a_broken_network_and_says_so(tmp_path):
    out = tmp_path / "bad.svg"
    result = graphdl("render", DIAGNOSTICS / "E401_addition_sizes.dlg", "-o", out)
    assert result.returncode == 1 and out.exists()
    assert "layers with errors drawn in red" in result.stdout and "error[E401]" in result.stderr


@pytest.mark.slow
def test_train_on_the_built_in_digits(tmp_path):
    plot = tmp_path / "progress.png"
    result = graphdl(
        "train",
        EXAMPLES / "mnist.dlg",
        "--max-epochs",
        "1",
        "--train-size",
        "1000",
        "--test-size",
        "500",
        "--plots",
        plot,
        "--checkpoint-path",
        tmp_path / "ckpt",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "training `mnist` on 1000 built-in digit images, 1 epoch of sgdm"
    assert lines[1].startswith("epoch 1/1  iteration 7  loss ")
    assert "accuracy" in lines[1]
    assert lines[2].startswith("test accuracy: ") and "on 500 built-in test images" in lines[2]
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in (tmp_path / "ckpt").iterdir()] == ["mnist_epoch001_iteration7.pt"]


@pytest.mark.slow
def test_train_with_adam_and_clipped_gradients():
    result = graphdl(
        "train", EXAMPLES / "mnist.dlg", "--solver", "adam", "--gradient-threshold", "1", "--max-epochs", "2", "--train-size", "1000", "--test-size", "500"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "training `mnist` on 1000 built-in digit images, 2 epochs of adam"
    assert "learn rate 0.001" in lines[1]  # adam's default
    accuracy = float(lines[-1].split()[2].rstrip("%"))
    assert accuracy > 50  # ten classes: chance is 10 %


def test_train_refuses_a_network_that_does_not_fit_the_digits(tmp_path):
    path = tmp_path / "wide.dlg"
    path.write_text("network wide {\n input = imageInput([32, 32, 3])\n fc = fullyConnected(10)\n}\n")
    result = graphdl("train", path)
    assert result.returncode == 1
    assert "the built-in digits are 28x28x1 images, but the input `input` takes 32x32x3" in result.stderr
    path.write_text("network five {\n input = imageInput([28, 28, 1])\n fc = fullyConnected(5)\n}\n")
    assert "10 classes, but the output `fc` gives 5" in graphdl("train", path).stderr


def test_layers_lists_the_catalog():
    result = graphdl("layers")
    assert result.returncode == 0
    assert (
        'convolution2d(filterSize, numFilters, stride=1, dilationFactor=1, padding=0, weightsInitializer="glorot", biasInitializer="zeros", bias=true)'
        in result.stdout
    )
    assert "inputs: in1, in2; outputs: out" in result.stdout
    assert "factors: weightLearnRateFactor=1.0, biasLearnRateFactor=1.0, weightL2Factor=1.0, biasL2Factor=0.0" in result.stdout


def test_usage_errors_exit_2():
    assert graphdl().returncode == 2
    assert graphdl("frobnicate").returncode == 2
    assert graphdl("--version").stdout.startswith("graphdl ")


def test_check_summary_and_render_never_import_torch(tmp_path):
    example = str(EXAMPLES / "mnist.dlg")
    code = (
        "import sys; from graphdl.cli import main; "
        f"main(['check', {example!r}]); main(['summary', {example!r}]); "
        f"main(['render', {example!r}, '-o', {str(tmp_path / 'a.svg')!r}]); main(['render', {example!r}, '-o', {str(tmp_path / 'a.pdf')!r}]); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.svg").exists() and (tmp_path / "a.pdf").exists()


def test_set_overrides_network_parameters():
    result = graphdl("summary", EXAMPLES / "resnet18.dlg", "--set", "classes=10", "--set", "size=32")
    assert result.returncode == 0, result.stderr
    assert "weight 10x512, bias 10" in result.stdout
    assert "32x32x3" in result.stdout
    bad = graphdl("check", EXAMPLES / "resnet18.dlg", "--set", "clases=10")
    assert bad.returncode == 1 and "did you mean `classes`?" in bad.stderr
    assert graphdl("check", EXAMPLES / "resnet18.dlg", "--set", "classes").returncode == 2


def test_fmt_rewrites_checks_and_filters(tmp_path):
    messy = "network n {   # the network\n  input=featureInput( 4 )\n\n\n  fc=fullyConnected(2*3)\n}\n"
    path = tmp_path / "messy.dlg"
    path.write_text(messy)
    check = graphdl("fmt", "--check", path)
    assert check.returncode == 1 and check.stdout == f"would reformat {path}\n" and path.read_text() == messy
    assert graphdl("fmt", path).stdout == f"reformatted {path}\n"
    assert path.read_text() == "network n {  # the network\n    input = featureInput(4)\n\n    fc = fullyConnected(2 * 3)\n}\n"
    assert graphdl("fmt", "--check", path).returncode == 0
    piped = subprocess.run([sys.executable, "-m", "graphdl", "fmt", "-"], input=messy, capture_output=True, text=True)
    assert piped.stdout == path.read_text()
    broken = tmp_path / "broken.dlg"
    broken.write_text("network n {\n  a = relu(\n}\n")
    result = graphdl("fmt", broken)
    assert result.returncode == 1 and "never closed" in result.stderr and broken.read_text() == "network n {\n  a = relu(\n}\n"


def test_fmt_reads_only_regular_files(tmp_path):
    fifo = tmp_path / "pipe.dlg"
    os.mkfifo(fifo)
    result = graphdl("fmt", fifo)  # a FIFO would block a plain read until a writer came
    assert result.returncode == 1 and "E001" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_imports_from_a_search_path_given_on_the_command_line(tmp_path):
    library, project = tmp_path / "library", tmp_path / "project"
    library.mkdir()
    project.mkdir()
    (library / "blocks.dlg").write_text("block dense(n) {\n fc = fullyConnected(n)\n r = relu()\n}\n")
    (project / "net.dlg").write_text('import "blocks.dlg"\nnetwork n {\n input = featureInput(4)\n d = dense(3)\n}\n')
    refused = graphdl("check", project / "net.dlg")
    assert refused.returncode == 1 and "blocks.dlg" in refused.stderr
    assert graphdl("check", project / "net.dlg", "--search-path", library).returncode == 0
    outside = tmp_path / "outside.dlg"
    outside.write_text("block dense(n) {\n fc = fullyConnected(n)\n}\n")
    (project / "far.dlg").write_text('import "../outside.dlg"\nnetwork n {\n input = featureInput(4)\n d = dense(3)\n}\n')
    assert "E014" in graphdl("check", project / "far.dlg").stderr
    assert graphdl("check", project / "far.dlg", "--allow-outside-imports").returncode == 0


@pytest.mark.slow
def test_a_file_of_blocks_only_checks_and_other_commands_say_it_has_no_network(tmp_path):
    library = tmp_path / "blocks.dlg"
    library.write_text("block dense(n) {\n fc = fullyConnected(n)\n r = relu()\n}\n")
    checked = graphdl("check", library)
    assert checked.returncode == 0 and "no network to check" in checked.stdout and "Traceback" not in checked.stderr
    assert f"{library}:1:7" in checked.stderr  # the warning points at the block
    for command in ("summary", "render", "train", "compile"):
        result = graphdl(command, library)
        assert result.returncode == 1 and f"defines no network to {command}" in result.stderr and "Traceback" not in result.stderr, command


@pytest.mark.slow
def test_check_summary_and_render_cover_every_network_of_a_file(tmp_path):
    path = tmp_path / "gan.dlg"
    path.write_text(
        "block dense(n) {\n fc = fullyConnected(n)\n r = relu()\n}\n"
        "network generator {\n input = featureInput(8)\n d = dense(16)\n}\n"
        "network discriminator {\n input = featureInput(16)\n d = dense(1)\n}\n"
    )
    checked = graphdl("check", path)
    assert checked.returncode == 0, checked.stderr
    assert "network `generator` is valid" in checked.stdout and "network `discriminator` is valid" in checked.stdout
    summary = graphdl("summary", path)
    assert summary.stdout.startswith("generator: series network") and "\ndiscriminator: series network" in summary.stdout
    data = json.loads(graphdl("summary", "--json", path).stdout)
    assert [network["network"] for network in data] == ["generator", "discriminator"]
    rendered = graphdl("render", path, "-o", tmp_path / "gan.svg")
    assert rendered.returncode == 0 and (tmp_path / "gan-generator.svg").exists() and (tmp_path / "gan-discriminator.svg").exists()
    one = graphdl("summary", path, "--network", "discriminator")
    assert one.stdout.startswith("discriminator:") and "generator" not in one.stdout
    # A shared block's mistake is reported once, though both networks use it.
    path.write_text(path.read_text().replace("fullyConnected(n)", "fullyConected(n)"))
    broken = graphdl("check", path)
    assert broken.returncode == 1 and broken.stderr.count("error[E201]") == 1, broken.stderr


def test_the_examples_are_formatted():
    assert graphdl("fmt", "--check", *sorted(EXAMPLES.glob("*.dlg"))).returncode == 0


@pytest.mark.slow
def test_train_resumes_from_a_checkpoint_to_the_same_weights(tmp_path):
    import torch

    common = ("train", EXAMPLES / "mnist.dlg", "--train-size", "256", "--test-size", "100", "--max-epochs", "2", "--mini-batch-size", "64")
    whole = graphdl(*common, "--checkpoint-path", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    first, last = sorted((tmp_path / "whole").glob("*.pt"))
    resumed = graphdl(*common, "--checkpoint-path", tmp_path / "resumed", "--resume", first)
    assert resumed.returncode == 0, resumed.stderr
    (again,) = (tmp_path / "resumed").glob("*.pt")
    assert again.name == last.name
    expected, got = (torch.load(path, weights_only=True)["state_dict"] for path in (last, again))
    assert expected.keys() == got.keys() and all(torch.equal(expected[key], got[key]) for key in expected)
    assert whole.stdout.splitlines()[-1].split("(")[0] == resumed.stdout.splitlines()[-1].split("(")[0]  # the test accuracy
