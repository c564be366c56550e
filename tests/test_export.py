"""Leaving graphdl: ONNX (run with onnxruntime), TorchScript, torch.compile without graph breaks,
and the network as a standalone PyTorch module, each checked against the compiled network."""

from __future__ import annotations

import functools
import re
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest
import torch
from catalog_cases import all_cases

import graphdl
from conftest import EXAMPLE_NETWORKS, EXAMPLES, GOLDEN, TRACEABLE_EXAMPLES, load_example
from graphdl import GraphdlError
from graphdl.interop import example_inputs, export_onnx, export_torchscript, to_python

# One network per catalog kind: every kind exports, each within the suite's time.
FIRST_CASES = {kind: texts[0] for kind, texts in all_cases().items()}


@pytest.fixture(scope="module", autouse=True)
def onnx_functions_built_once():
    """torch.onnx.export builds its table of ONNX functions afresh on every call: 0.8 s here, most
    of an export's time, for a table that depends only on the opset. This module's hundred exports
    share one per opset, so that they fit in the suite's time; each export is otherwise torch's own,
    and each is still checked against the network by onnxruntime."""
    from torch.onnx._internal.exporter import _registration

    build = _registration.ONNXRegistry.from_torchlib
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_registration.ONNXRegistry, "from_torchlib", staticmethod(functools.cache(build)))
        yield


def compiled(name: str):
    net = graphdl.dlnetwork(load_example(name), seed=0).eval()
    _nontrivial_state(net)
    return net


def case(text: str):
    net = graphdl.dlnetwork(graphdl.loads("network t {\n" + text + "\n}\n"), seed=0).eval()
    _nontrivial_state(net)
    return net


def _nontrivial_state(net) -> None:
    generator = torch.Generator().manual_seed(1)
    for name, value in net.state_dict().items():
        if name.endswith(("running_mean", ".mean")):
            value.uniform_(-0.2, 0.2, generator=generator)
        elif name.endswith(("running_var", ".std")):
            value.uniform_(0.5, 2.0, generator=generator)


def outputs(value) -> tuple[np.ndarray, ...]:
    values = value if isinstance(value, (tuple, list)) else (value,)
    return tuple(np.asarray(v.detach().numpy() if isinstance(v, torch.Tensor) else v) for v in values)


def assert_onnx_matches(net, path) -> None:
    export_onnx(net, path)
    session = onnxruntime.InferenceSession(str(path))
    # Another batch size, and another length for sequences, than the export traced.
    inputs = example_inputs(net, batch=3, length=7, seed=2)
    got = session.run(None, {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)})
    with torch.no_grad():
        expected = outputs(net(*inputs))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLE_NETWORKS)
def test_onnx_of_every_example_matches_the_network(name, tmp_path):
    net = compiled(name)
    assert_onnx_matches(net, tmp_path / f"{name}.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / f"{name}.onnx"))
    assert [i.name for i in session.get_inputs()] == list(net.input_names)
    assert [o.name for o in session.get_outputs()] == list(net.output_names)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(FIRST_CASES))
def test_onnx_of_every_layer_kind_matches_the_network(kind, tmp_path):
    assert_onnx_matches(case(FIRST_CASES[kind]), tmp_path / "net.onnx")


def test_onnx_export_without_its_packages_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if not installed: importing it fails
    with pytest.raises(GraphdlError, match=r'ONNX export needs the packages onnx and onnxscript(.|\n)*pip install "graphdl\[onnx\]"'):
        export_onnx(compiled("mnist"), tmp_path / "net.onnx")


# TorchScript is deprecated in recent torch, which says so on every load.
TORCHSCRIPT_DEPRECATED = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")


@TORCHSCRIPT_DEPRECATED
@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLE_NETWORKS)
def test_torchscript_of_every_example_runs_without_graphdl(name, tmp_path):
    net = compiled(name)
    module = torch.jit.load(str(export_torchscript(net, tmp_path / f"{name}.pt")))
    inputs = example_inputs(net, batch=3, seed=2)
    with torch.no_grad():
        for a, b in zip(outputs(module(*inputs)), outputs(net(*inputs))):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert set(module.state_dict()) == set(net.state_dict())


@pytest.mark.slow
@pytest.mark.parametrize("name", TRACEABLE_EXAMPLES)
def test_torch_compile_takes_every_example_whole(name):
    """fullgraph=True fails on any graph break; the eager backend keeps the test quick."""
    net = compiled(name)
    inputs = example_inputs(net, batch=2, seed=3)
    torch._dynamo.reset()
    fast = torch.compile(net, fullgraph=True, backend="eager")
    with torch.no_grad():
        for a, b in zip(outputs(fast(*inputs)), outputs(net(*inputs))):
            np.testing.assert_array_equal(a, b)


def run_python_module(source: str, net):
    namespace: dict = {}
    exec(compile(source, "<emitted>", "exec"), namespace)
    (cls,) = [v for k, v in namespace.items() if isinstance(v, type) and issubclass(v, torch.nn.Module) and k == source.split("\nclass ")[-1].split("(")[0]]
    model = cls()
    model.load_state_dict(net.state_dict(), strict=True)
    return model.eval()


def assert_python_computes_the_same(net) -> None:
    model = run_python_module(to_python(net), net)
    inputs = example_inputs(net, batch=3, seed=4)
    with torch.no_grad():
        for a, b in zip(outputs(model(*inputs)), outputs(net(*inputs))):
            np.testing.assert_array_equal(a, b)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLE_NETWORKS)
def test_the_python_of_every_example_computes_the_same(name):
    assert_python_computes_the_same(compiled(name))


@pytest.mark.parametrize("kind,text", [(k, t) for k, texts in all_cases().items() for t in texts])
def test_the_python_of_every_layer_kind_computes_the_same(kind, text):
    assert_python_computes_the_same(case(text))


def test_the_python_of_the_seed_network_reads_as_written_by_hand(golden):
    golden(GOLDEN / "code" / "mnist_module.py", to_python(compiled("mnist")))


BLOCK_NAMES = """block attention {
    keys   = fullyConnected(4)
    values = relu()
}
network reshape {
    input = featureInput(4, normalization="none")
    first = attention()
    second = attention()
    fc = fullyConnected(2)
}
"""


def test_the_python_holds_any_layer_name_and_names_its_class_apart():
    net = graphdl.dlnetwork(graphdl.loads(BLOCK_NAMES), seed=0)
    source = to_python(net)
    assert "self.first = _layers({" in source  # nn.ModuleDict would refuse `keys` and `values`
    assert_python_computes_the_same(net)
    # A network named like a module the file copies, or like an import, gets a class name of its own.
    for name, normalization, expected in (("f", "none", "FNetwork"), ("input_normalization", "zerocenter", "InputNormalizationNetwork")):
        text = f'network {name} {{\n    input = featureInput(4, normalization="{normalization}")\n    fc = fullyConnected(3)\n}}\n'
        net = graphdl.dlnetwork(graphdl.loads(text), seed=0)
        assert f"\nclass {expected}(nn.Module):" in to_python(net)
        assert_python_computes_the_same(net)


@pytest.mark.slow
def test_onnx_keeps_the_layer_names_dots_and_all(tmp_path):
    text = (
        'block head {\n    b = fullyConnected(3)\n}\nnetwork n {\n    input = featureInput(4, normalization="none")\n'
        "    a = head()\n    a_b = fullyConnected(3)\n    input -> a\n    input -> a_b\n}\n"
    )
    net = graphdl.dlnetwork(graphdl.loads(text), seed=0)
    export_onnx(net, tmp_path / "n.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "n.onnx"))
    assert [o.name for o in session.get_outputs()] == ["a.b", "a_b"]


@pytest.mark.slow
def test_writing_where_nothing_can_be_written_is_a_diagnostic(tmp_path):
    def command(*args):
        return subprocess.run([sys.executable, "-m", "graphdl", *map(str, args)], capture_output=True, text=True, cwd=tmp_path)

    for args in (("compile", EXAMPLES / "mnist.dlg", "-o", tmp_path / "missing" / "x.py"), ("compile", EXAMPLES / "mnist.dlg", "-o", tmp_path)):
        result = command(*args)
        assert result.returncode == 1 and result.stderr.startswith("error[E006]: cannot write "), result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_python_needs_torch_alone(tmp_path):
    path = tmp_path / "resnet18_module.py"
    path.write_text(to_python(compiled("resnet18")))
    code = "import sys, torch; sys.path.insert(0, sys.argv[1]); import resnet18_module as m; print(sorted(k for k in sys.modules if k.startswith('graphdl')))"
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@TORCHSCRIPT_DEPRECATED
@pytest.mark.slow
def test_the_commands_compile_and_export(tmp_path):
    net = compiled("mnist")
    saved = graphdl.save_network(net, tmp_path / "mnist.pt")

    def command(*args):
        return subprocess.run([sys.executable, "-m", "graphdl", *map(str, args)], capture_output=True, text=True, cwd=tmp_path)

    emitted = command("compile", saved)
    assert emitted.returncode == 0, emitted.stderr
    assert emitted.stdout == to_python(graphdl.load_network(saved))
    flat = command("compile", EXAMPLES / "resnet18.dlg", "--emit", "dlg", "--set", "classes=10")
    assert flat.returncode == 0 and re.search(r"\n    layer1\.0\.conv1 +\= convolution2d\(3, 64, stride=1, padding=1, bias=false\)\n", flat.stdout)
    assert graphdl.loads(flat.stdout) == graphdl.load(EXAMPLES / "resnet18.dlg", parameters={"classes": 10})
    exported = command("export", saved, "--onnx", "mnist.onnx", "--torchscript", "mnist.ts")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == "wrote mnist.onnx\nwrote mnist.ts\n" and exported.stderr == ""
    session = onnxruntime.InferenceSession(str(tmp_path / "mnist.onnx"))
    x = example_inputs(net, batch=2)[0]
    np.testing.assert_allclose(session.run(None, {"input": x.numpy()})[0], outputs(net(x))[0], rtol=1e-4, atol=1e-5)
    with_weights = command("export", EXAMPLES / "mnist.dlg", "--weights", saved, "--torchscript", "w.ts")
    assert with_weights.returncode == 0, with_weights.stderr
    torch.testing.assert_close(torch.jit.load(str(tmp_path / "w.ts"))(x), net(x))
    assert command("export", saved).returncode == 2
    refused = command("export", saved, "--weights", saved, "--onnx", "x.onnx")
    assert refused.returncode == 1 and "is a network file" in refused.stderr
    broken = command("compile", EXAMPLES.parent / "tests" / "diagnostics" / "E201_unknown_kind.dlg")
    assert broken.returncode == 1 and "error[E201]" in broken.stderr and broken.stdout == ""
