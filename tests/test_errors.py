"""One exception root: every error graphdl raises on purpose is a GraphdlError carrying its
diagnostics, and also the stdlib type a caller would catch; each kind of failure has its own code."""

from __future__ import annotations

import copy
import errno
import io
import os
import pickle
import subprocess
import sys
import warnings

import pytest
import torch

import graphdl
from conftest import EXAMPLES
from graphdl.catalog import Any, Inferred, LayerKind, Param, register
from graphdl.diagnostics import (
    ArgumentTypeError,
    DependencyError,
    Diagnostic,
    FileError,
    GraphdlError,
    InputError,
    RunError,
    error,
)
from graphdl.source import Span

TINY = """\
network tiny {
    input = featureInput(4)
    fc    = fullyConnected(3)
    prob  = softmax()
}
"""


def tiny():
    return graphdl.dlnetwork(graphdl.loads(TINY), seed=0)


def raised(call) -> GraphdlError:
    with pytest.raises(GraphdlError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    ("code", "kind", "stdlib"),
    [
        ("E201", InputError, ValueError),
        ("E001", FileError, OSError),
        ("E006", FileError, OSError),
        ("E008", DependencyError, ImportError),
        ("E009", RunError, RuntimeError),
    ],
)
def test_a_code_is_raised_as_one_type_that_is_also_the_stdlib_one(code, kind, stdlib):
    e = error(code, "what went wrong")
    assert type(e) is kind and isinstance(e, GraphdlError) and isinstance(e, stdlib)
    assert (e.code, e.diagnostics) == (code, (Diagnostic(code, "what went wrong"),))
    assert str(e) == f"error[{code}]: what went wrong\n\n1 error found\n"
    assert GraphdlError([Diagnostic(code, "what went wrong")]).__class__ is kind, "the root builds the subclass of the code"


def test_the_type_is_the_first_errors_and_the_span_its_place():
    span = Span("net.dlg", 3, 5, 3, 9)
    warning = Diagnostic("E306", "unused", severity=graphdl.diagnostics.Severity.WARNING)
    e = GraphdlError([warning, Diagnostic("E001", "cannot read x.dlg", span), Diagnostic("E201", "unknown")])
    assert isinstance(e, OSError) and e.code == "E001" and e.span == span
    assert e.errno is None and e.strerror is None, "not an OSError of the system's"
    assert error("E002", "no network").span is None


def test_runtime_failures_are_runtime_errors_and_graphdl_errors():
    assert issubclass(graphdl.LayerError, RunError) and issubclass(graphdl.TrainingError, RunError)
    net = tiny()
    with pytest.raises(graphdl.LayerError) as caught:
        net(torch.rand(2, 5))
    assert isinstance(caught.value, RuntimeError) and caught.value.code == "E501"
    assert (caught.value.span.line, caught.value.span.column) == (3, 5), "the declaration of `fc`"
    assert caught.value.diagnostics == (caught.value.diagnostic,)


def test_files_that_cannot_be_read_or_written_are_os_errors(tmp_path):
    e = raised(lambda: graphdl.load(tmp_path / "missing.dlg"))
    assert isinstance(e, OSError) and e.code == "E001"
    (tmp_path / "file").write_text("")
    e = raised(lambda: graphdl.save_network(tiny(), tmp_path / "file" / "net.pt"))
    assert isinstance(e, OSError) and e.code == "E006"
    torch.save({"weights": [1]}, tmp_path / "other.pt")
    e = raised(lambda: graphdl.load_network(tmp_path / "other.pt"))
    assert isinstance(e, ValueError) and not isinstance(e, OSError) and e.code == "E007"


def test_a_missing_onnx_package_is_an_import_error(tmp_path, monkeypatch):
    from graphdl.interop import export_onnx

    monkeypatch.setitem(sys.modules, "onnxscript", None)  # `import onnxscript` raises ImportError
    e = raised(lambda: export_onnx(tiny(), tmp_path / "x.onnx"))
    assert isinstance(e, ImportError) and e.code == "E008"
    assert not (tmp_path / "x.onnx").exists()


def test_pictures_unknown_formats_and_graphviz_failing(tmp_path, monkeypatch):
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    e = raised(lambda: graphdl.render(graph, tmp_path / "x.gif"))
    assert isinstance(e, ValueError) and e.code == "E010"
    monkeypatch.setenv("GRAPHDL_DOT", "/nonexistent/dot")
    e = raised(lambda: graphdl.render(graph, tmp_path / "x.svg"))
    assert isinstance(e, RuntimeError) and e.code == "E009"


class _Foreign(torch.nn.Module):
    """A module of neither torch nor graphdl, which a Python file of the network cannot carry."""

    def forward(self, x):
        return x * int(x.shape[0])  # a trace keeps the batch size it was traced at


@register
class ForeignModule(LayerKind):
    """A test-only kind whose module is defined outside graphdl and depends on the batch size."""

    name = "testForeignModule"
    category = "activation"
    summary = "A custom layer of a module outside graphdl"

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def build(self, args, inputs):
        return _Foreign()


def test_networks_that_cannot_be_exported_say_why(tmp_path):
    from graphdl.interop import export_torchscript, to_python

    net = graphdl.dlnetwork(graphdl.loads("network foreign {\n input = featureInput(4)\n odd = testForeignModule()\n}\n"))
    e = raised(lambda: to_python(net))
    assert isinstance(e, ValueError) and e.code == "E701" and "is not a module of torch's or graphdl's" in str(e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's TracerWarning about the constant batch size
        e = raised(lambda: export_torchscript(net, tmp_path / "x.pt"))
    assert isinstance(e, ValueError) and e.code == "E702"
    assert not (tmp_path / "x.pt").exists()


def test_data_options_and_losses_that_do_not_fit_have_their_own_codes():
    net = tiny()
    e = raised(lambda: net.predict(torch.rand(2, 5)))
    assert isinstance(e, ValueError) and e.code == "E801"
    X, T = torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    e = raised(lambda: graphdl.trainnet(X[:7], T, net))
    assert e.code == "E801"
    e = raised(lambda: graphdl.trainnet(X, T, net, "hinge"))
    assert isinstance(e, ValueError) and e.code == "E803"
    e = raised(lambda: graphdl.training_options("sgdm", shuffle="always", momentum=2, max_epochs=0))
    assert isinstance(e, ValueError) and [d.code for d in e.diagnostics] == ["E802"] * 3, "one diagnostic per wrong option"
    assert "3 errors found" in str(e)


def test_training_that_fails_is_a_runtime_error_with_its_code():
    options = graphdl.training_options("sgdm", max_epochs=1, mini_batch_size=4, verbose=False)

    def failing(Y, T):
        raise RuntimeError("out of memory")

    e = raised(lambda: graphdl.trainnet(torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]), tiny(), failing, options))
    assert isinstance(e, graphdl.TrainingError) and isinstance(e, RuntimeError) and e.code == "E804"
    assert isinstance(e.__cause__, RuntimeError) and "RuntimeError: out of memory" in str(e)


def command(*args, cwd):
    return subprocess.run([sys.executable, "-m", "graphdl", *map(str, args)], check=False, capture_output=True, text=True, cwd=cwd, timeout=600)


def test_the_command_line_reports_the_new_codes(tmp_path):
    path = graphdl.save_network(tiny(), tmp_path / "tiny.pt")
    result = command("compile", path, "--network", "tiny", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error[E011]: "), result.stderr
    (tmp_path / "wide.dlg").write_text("network wide {\n input = imageInput([32, 32, 3])\n fc = fullyConnected(10)\n}\n")
    result = command("train", "wide.dlg", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error[E801]: the built-in digits are 28x28x1 images"), result.stderr


# ---- pickling: an error raised in a DataLoader or multiprocessing worker reaches the parent ----


def round_trips(e: GraphdlError) -> None:
    for copied in (pickle.loads(pickle.dumps(e)), copy.deepcopy(e)):
        assert type(copied) is type(e) and copied is not e
        assert (copied.code, copied.diagnostics, copied.span, str(copied)) == (e.code, e.diagnostics, e.span, str(e))
        assert copied.sources.keys() == e.sources.keys()
        assert {k: v for k, v in vars(copied).items() if k != "sources"} == {k: v for k, v in vars(e).items() if k != "sources"}


def test_errors_pickle_and_deep_copy_keeping_their_type_code_and_text(tmp_path):
    e = raised(lambda: graphdl.loads("network n {\n input = featureInput(4)\n fc = fullyConected(3)\n}\n", path="n.dlg"))
    assert type(e) is InputError and e.code == "E201" and "n.dlg:3:" in str(e), "a source to point into"
    round_trips(e)
    round_trips(error("E008", "onnx is not installed", help="pip install onnx"))

    e = raised(lambda: graphdl.load(tmp_path / "missing.dlg"))
    round_trips(e)
    copied = pickle.loads(pickle.dumps(e))
    assert isinstance(copied, FileNotFoundError) and (copied.errno, copied.strerror, copied.filename) == (e.errno, e.strerror, e.filename)

    with pytest.raises(graphdl.LayerError) as caught:
        tiny()(torch.rand(2, 5))
    e = caught.value
    round_trips(e)
    copied = pickle.loads(pickle.dumps(e))
    assert (copied.layer, copied.kind, copied.received, copied.diagnostic) == ("fc", "fullyConnected", e.received, e.diagnostic) and e.received
    assert "error found" not in str(copied), "one diagnostic, told alone"

    def failing(Y, T):
        raise RuntimeError("out of memory")

    options = graphdl.training_options("sgdm", max_epochs=1, mini_batch_size=4, verbose=False)
    e = raised(lambda: graphdl.trainnet(torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]), tiny(), failing, options))
    assert type(e) is graphdl.TrainingError
    round_trips(e)


def test_a_message_alone_is_a_diagnostic_of_a_class_of_one_code_and_refused_elsewhere():
    e = graphdl.TrainingError("the loss diverged")
    assert isinstance(e, RuntimeError) and e.code == "E804" and str(e) == "error[E804]: the loss diverged\n\n1 error found\n"
    round_trips(e)
    e = ArgumentTypeError("from_torch takes a module")
    assert isinstance(e, TypeError) and e.code == "E229"
    for kind in (GraphdlError, InputError, FileError, RunError, DependencyError):
        with pytest.raises(TypeError, match=rf"{kind.__name__} takes a list of Diagnostic, not a message alone.*error\(code, message\)"):
            kind("some message")
    with pytest.raises(TypeError, match="takes a list of Diagnostic, not of str"):
        GraphdlError(["some message"])


# ---- file errors are the system's OSErrors ----


def test_a_file_error_carries_the_os_error_behind_it(tmp_path):
    e = raised(lambda: graphdl.load(tmp_path / "missing.dlg"))
    assert isinstance(e, FileNotFoundError) and isinstance(e, FileError) and e.code == "E001"
    assert (e.errno, e.strerror, e.filename) == (errno.ENOENT, os.strerror(errno.ENOENT), str(tmp_path / "missing.dlg"))
    assert isinstance(e.__cause__, FileNotFoundError)
    assert str(e) == f"error[E001]: cannot read {tmp_path / 'missing.dlg'}: No such file or directory\n\n1 error found\n", "not OSError's [Errno 2]"
    assert graphdl.check(tmp_path / "missing.dlg").diagnostics == e.diagnostics, "check says the same, without raising"
    e = raised(lambda: graphdl.load(tmp_path))
    assert isinstance(e, IsADirectoryError) and e.errno == errno.EISDIR and e.code == "E001"
    e = raised(lambda: graphdl.load_network(tmp_path / "missing.pt"))
    assert isinstance(e, FileNotFoundError) and e.code == "E001" and e.filename is not None
    (tmp_path / "file").write_text("")
    e = raised(lambda: graphdl.save_network(tiny(), tmp_path / "file" / "net.pt"))
    assert isinstance(e, FileExistsError) and e.code == "E006" and e.errno == errno.EEXIST, "making the folder `file` found a file there"


# ---- every error raised on purpose is a GraphdlError ----


@register
class NoteLayer(LayerKind):
    """A test-only kind with an argument of any value, as a plugin's may be."""

    name = "testNote"
    category = "activation"
    summary = "A custom layer that keeps a note"
    params = (Param("note", Any(), ""),)

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def build(self, args, inputs):
        return torch.nn.Identity()


def test_values_the_language_cannot_write_are_input_errors():
    e = raised(lambda: graphdl.layer("c", "convolution2d", 5, 20, padding="a'b\"c"))
    assert isinstance(e, ValueError) and e.code == "E203" and "found 'a\\'b\"c'" in str(e), "the argument's own problem, told"
    e = raised(lambda: graphdl.layer("n", "testNote", note="a'b\"c"))
    assert isinstance(e, ValueError) and e.code == "E230" and "cannot write the string" in str(e)
    assert graphdl.layer("n", "testNote", note="it's").args["note"] == "it's"
    e = raised(lambda: graphdl.layer("c", "convolution2d", 5, 20, padding=object()))
    assert e.code == "E203" and "found <object object at" in str(e)


def test_python_values_of_the_wrong_type_are_type_errors(tmp_path):
    from graphdl.interop import from_torch

    e = raised(lambda: from_torch("resnet18", (4,)))
    assert isinstance(e, TypeError) and e.code == "E229" and "not str" in str(e)
    e = raised(lambda: graphdl.save_network(tiny(), tmp_path / "net.pt", history=[1, 2]))
    assert isinstance(e, TypeError) and e.code == "E229"


def test_lookups_of_rows_and_metrics_are_key_errors():
    from graphdl.train import TrainingProgressMonitor

    net = tiny()
    e = raised(lambda: net.learnables["fc", "weights"])
    assert isinstance(e, KeyError) and isinstance(e, LookupError) and e.code == "E504"
    assert "did you mean `fc/weight`?" in str(e) and str(e).startswith("error[E504]: no row ('fc', 'weights')"), "not KeyError's quoted repr"
    round_trips(e)
    monitor = TrainingProgressMonitor(["loss"], stream=io.StringIO())
    e = raised(lambda: monitor.record(1, los=0.5))
    assert isinstance(e, KeyError) and e.code == "E805" and "did you mean `loss`?" in str(e)


def test_tables_of_different_rows_and_learnables_that_are_not_there_have_their_own_codes():
    net = tiny()
    other = graphdl.dlnetwork(graphdl.loads(TINY.replace("fc ", "fc2").replace("fc(", "fc2(").replace("fc2   =", "fc2  =")), seed=0)
    e = raised(lambda: net.learnables.copy_from(other.learnables))
    assert isinstance(e, ValueError) and e.code == "E503"
    e = raised(lambda: net.learnables.map(lambda a, b: a + b, other.learnables))
    assert e.code == "E503"
    e = raised(lambda: net.learn_rate_factor("fc", "wieght"))
    assert isinstance(e, ValueError) and e.code == "E227"
    e = raised(lambda: net.learn_rate_factor("prob", "weight"))
    assert e.code == "E227"
    blocks = graphdl.dlnetwork(graphdl.loads(BLOCKS))
    e = raised(lambda: blocks.learn_rate_factor("pair", "weight"))
    assert e.code == "E228" and "`pair/weight` names 2 learnables: name one of pair.a/weight, pair.b/weight" in str(e)
    blocks.set_learn_rate_factor("pair", "weight", 0.5)  # setting takes every learnable the name matches
    assert blocks.learn_rate_factor("pair.a", "weight") == blocks.learn_rate_factor("pair.b", "weight") == 0.5


BLOCKS = """\
block two_fc {
    input x
    output y
    a = fullyConnected(4)
    b = fullyConnected(4)
    x -> a -> b -> y
}

network blocks {
    input = featureInput(4)
    pair  = two_fc()
}
"""
