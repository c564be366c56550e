"""A compiled network is a conventional nn.Module: its generated forward is defined on a class of
its own, so DataParallel replicas, torch.fx, copy, pickle and print treat it as a hand-written
module's, and torch.jit.script is refused with a clear message."""

from __future__ import annotations

import copy
import inspect
import io
import pickle
import subprocess
import sys

import pytest
import torch
from torch import nn

import graphdl
from conftest import EXAMPLES, ROOT, TRACEABLE_EXAMPLES, load_example
from graphdl import GraphdlError
from graphdl.interop import example_inputs, export_torchscript


def mnist(seed: int = 0):
    """The seed network in inference behaviour, with a non-zero input mean, so every layer works."""
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=seed)
    net.reset_input_normalization(torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(seed)))
    return net.eval()


def outputs(value) -> tuple[torch.Tensor, ...]:
    return value if isinstance(value, tuple) else (value,)


def assert_same(a, b) -> None:
    for x, y in zip(outputs(a), outputs(b), strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


_TWO_LAYERS = "network two {\n input = featureInput(4)\n fc = fullyConnected(3)\n}\n"


def test_each_network_has_a_class_whose_forward_is_the_generated_code():
    net = mnist()
    cls = type(net)
    assert cls.__name__ == "DLNetwork_mnist" and cls.__bases__ == (graphdl.DLNetwork,)
    assert "forward" in vars(cls) and "forward" not in vars(net)
    assert cls.forward.__qualname__ == "DLNetwork_mnist.forward"
    other = graphdl.dlnetwork(graphdl.loads(_TWO_LAYERS))
    assert type(other).__name__ == "DLNetwork_two" and type(other).forward is not cls.forward
    assert "self.fc(" in other.code and "self.conv1(" not in other.code


def test_a_data_parallel_replica_runs_its_own_modules():
    # What nn.parallel.replicate does per device: a shallow replica of the network, then each
    # child replaced by the child's replica on that device. Here the replica's `fc` is zeroed.
    net = mnist()
    x = torch.rand(4, 1, 28, 28)
    expected = net(x)
    replica = net._replicate_for_data_parallel()
    fc = copy.deepcopy(net.fc)
    nn.init.zeros_(fc.weight)
    nn.init.zeros_(fc.bias)
    replica.fc = fc
    # Softmax of zeros: the replica ran its own `fc`, and the original is untouched.
    torch.testing.assert_close(replica(x), torch.full((4, 10), 0.1))
    torch.testing.assert_close(replica.forward(x, outputs=["fc"]), torch.zeros(4, 10))
    assert_same(net(x), expected)
    assert_same(nn.DataParallel(net)(x), expected)


@pytest.mark.slow
@pytest.mark.parametrize("name", TRACEABLE_EXAMPLES)
def test_torch_fx_traces_every_example(name):
    net = graphdl.dlnetwork(load_example(name), seed=0).eval()
    inputs = example_inputs(net, batch=3, seed=1)
    traced = torch.fx.symbolic_trace(net)
    # The traced module takes the network's inputs, nothing else, and computes what it computes.
    assert list(inspect.signature(traced.forward).parameters) == list(inspect.signature(net.forward).parameters)[: len(inputs)]
    with torch.no_grad():
        assert_same(traced(*inputs), net(*inputs))
        assert_same(torch.fx.symbolic_trace(net, concrete_args={"outputs": None})(*inputs), net(*inputs))


# torch deprecates TorchScript, and warns so before it asks the network to prepare for scripting.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_torch_jit_script_is_refused_and_tracing_export_works(tmp_path):
    net = mnist()
    with pytest.raises(GraphdlError, match=r"(?s)E702.*cannot script network `mnist`.*graphdl.export_torchscript"):
        torch.jit.script(net)
    module = torch.jit.load(str(export_torchscript(net, tmp_path / "mnist.pt")))
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(module(x), net(x))


def test_a_deep_copy_is_an_independent_network_that_computes_the_same():
    net = mnist()
    net.set_learn_rate_factor("fc", "weight", 0.5)
    clone = copy.deepcopy(net)
    x = torch.rand(4, 1, 28, 28)
    assert type(clone).__name__ == "DLNetwork_mnist"
    assert_same(clone(x), net(x))
    assert_same(clone.forward(x, outputs=["conv1"]), net.forward(x, outputs=["conv1"]))
    assert clone.learn_rate_factor("fc", "weight") == 0.5
    expected = net(x)
    with torch.no_grad():
        clone.fc.weight.zero_()
        clone.fc.bias.zero_()
    clone.set_learn_rate_factor("fc", "weight", 2.0)
    torch.testing.assert_close(clone(x), torch.full((4, 10), 0.1))
    assert_same(net(x), expected)
    assert net.learn_rate_factor("fc", "weight") == 0.5
    assert clone.learnables["fc", "weight"] is clone.fc.weight


def test_pickle_and_torch_save_give_back_the_network():
    net = mnist()
    net.freeze("conv1")
    x = torch.rand(4, 1, 28, 28)
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    for copy_ in (pickle.loads(pickle.dumps(net)), torch.load(buffer, weights_only=False)):
        assert type(copy_).__name__ == "DLNetwork_mnist" and isinstance(copy_, graphdl.DLNetwork)
        assert copy_.code == net.code and not copy_.training
        assert_same(copy_(x), net(x))
        assert_same(copy_.predict(x, outputs=["bn1", "fc"]), net.predict(x, outputs=["bn1", "fc"]))
        assert copy_.learn_rate_factor("conv1", "weight") == 0 and not copy_.conv1.weight.requires_grad
        # Layer errors still point at the .dlg source: the forward was made again, with its lines.
        with pytest.raises(graphdl.LayerError) as info:
            copy_(torch.rand(2, 1, 32, 32))
        assert info.value.layer == "fc" and "mnist.dlg" in str(info.value)


def test_a_network_saved_whole_loads_in_a_fresh_process(tmp_path):
    # Where the class made at run time matters: a process that never compiled the network.
    net = mnist()
    x = torch.rand(2, 1, 28, 28)
    torch.save({"net": net, "x": x, "y": net(x)}, tmp_path / "net.pt")
    script = (
        "import sys, torch\n"
        "saved = torch.load(sys.argv[1], weights_only=False)\n"
        "net = saved['net']\n"
        "assert type(net).__name__ == 'DLNetwork_mnist', type(net)\n"
        "assert torch.equal(net(saved['x']), saved['y'])\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "net.pt")], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


def test_print_shows_the_tree_of_modules():
    net = mnist()
    text = repr(net)
    lines = text.splitlines()
    assert lines[0] == "DLNetwork_mnist("
    assert lines[1] == "  7 layers, 39,770 learnables, inputs ['input'], outputs ['prob']"
    assert "  (conv1): Conv2d(1, 20, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))" in lines
    assert "  (fc): Linear(in_features=3920, out_features=10, bias=True)" in lines
    assert lines[-1] == ")"
    resnet = graphdl.dlnetwork(graphdl.load(EXAMPLES / "resnet18.dlg"))
    # A block instance's layers hang under it, as a hand-written ResNet's do.
    assert "  (layer1): Module(" in repr(resnet).splitlines()
    # The tables stay short.
    assert repr(net.learnables).splitlines()[0] == "6x3 table (Layer, Parameter, Value)"


def test_the_class_itself_makes_a_network_of_its_own_class():
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    made = graphdl.dlnetwork(graph, seed=0)
    net = graphdl.DLNetwork(made.graph, made.analysis, made.layer_modules)
    assert type(net).__name__ == "DLNetwork_mnist" and isinstance(net, graphdl.DLNetwork)
    assert net.code == made.code
    x = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(net(x), made(x), rtol=0, atol=0)  # the same modules, so the same numbers
    assert list(net.layer_modules) == [name for name in made.layer_names if name in ("input", "conv1", "bn1", "relu1", "pool1", "fc", "prob")]
