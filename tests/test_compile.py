"""The compiler and DLNetwork: numeric equivalence with hand-written modules, the generated code,
and MATLAB's view (learnables, state, forward/predict with named outputs)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import graphdl
from conftest import EXAMPLES, GOLDEN, network
from graphdl import GraphdlError


class HandWrittenSeed(nn.Module):
    """The seed network as one would write it in PyTorch."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, 1, 1))  # one per channel
        self.conv1 = nn.Conv2d(1, 20, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(20)
        self.fc = nn.Linear(14 * 14 * 20, 10)

    def forward(self, x):
        x = self.conv1(x - self.mean)
        x = torch.relu(self.bn1(x))
        x = nn.functional.max_pool2d(x, 2, 2)
        return torch.softmax(self.fc(torch.flatten(x, 1)), dim=1)


def seed_pair():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=1)
    reference = HandWrittenSeed()
    reference.load_state_dict(
        {
            "mean": net.input.mean,
            **{k: v for k, v in net.state_dict().items() if not k.startswith("input.")},
        }
    )
    return net, reference


def test_seed_network_equals_a_hand_written_module():
    net, reference = seed_pair()
    net.reset_input_normalization(torch.rand(64, 1, 28, 28))
    reference.mean.copy_(net.input.mean)
    x = torch.rand(8, 1, 28, 28)
    for mode in ("train", "eval"):
        getattr(net, mode)()
        getattr(reference, mode)()
        torch.testing.assert_close(net(x), reference(x), rtol=0, atol=0)
    # Training-mode batch norm updated both networks' running statistics alike.
    torch.testing.assert_close(net.bn1.running_mean, reference.bn1.running_mean, rtol=0, atol=0)


def test_gradients_equal_the_hand_written_module():
    net, reference = seed_pair()
    x, t = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    graphdl.crossentropy(net(x), t).backward()
    graphdl.crossentropy(reference(x), t).backward()
    for name, p in reference.named_parameters():
        torch.testing.assert_close(net.get_parameter(name).grad, p.grad)


DAG = """
network dag {
    input = imageInput([16, 16, 3], normalization="none")
    conv1 = convolution2d(3, 8, padding="same")
    relu1 = relu()
    conv2 = convolution2d(3, 8, padding="same")
    add = addition(2)
    skip = convolution2d(1, 4)
    cat = depthConcatenation(2)
    pool = globalAveragePooling2d()
    fc = fullyConnected(5)
    input -> conv1 -> relu1 -> conv2 -> add/in1
    relu1 -> add/in2
    add -> cat/in1
    input -> skip -> cat/in2
    cat -> pool -> fc
}
"""


def test_dag_equals_a_hand_written_module():
    net = graphdl.dlnetwork(graphdl.loads(DAG), seed=0)

    def reference(x):
        r = torch.relu(net.conv1(x))
        a = net.conv2(r) + r
        c = torch.cat([a, net.skip(x)], 1)
        return net.fc(torch.flatten(c.mean((2, 3), keepdim=True), 1))

    x = torch.randn(4, 3, 16, 16)
    torch.testing.assert_close(net(x), reference(x))


def test_generated_code_reads_like_the_source(golden):
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"))
    golden(GOLDEN / "code" / "mnist.py", net.code.strip() + "\n")
    dag = graphdl.dlnetwork(graphdl.loads(DAG))
    golden(GOLDEN / "code" / "dag.py", dag.code.strip() + "\n")


def test_forward_returns_named_intermediate_outputs():
    net = graphdl.dlnetwork(graphdl.loads(DAG), seed=0)
    x = torch.randn(2, 3, 16, 16)
    relu1, fc = net.forward(x, outputs=["relu1", "fc"])
    assert relu1.shape == (2, 8, 16, 16)
    torch.testing.assert_close(fc, net(x))
    torch.testing.assert_close(net.forward(x, outputs=["input"]), x)
    with pytest.raises(GraphdlError, match="did you mean `relu1`"):
        net.forward(x, outputs=["relu"])


def test_predict_is_inference_whatever_the_mode():
    net = graphdl.dlnetwork(graphdl.loads("network d {\n input = featureInput(50)\n drop = dropout(0.5)\n}\n"))
    x = torch.ones(4, 50)
    assert net.training
    assert (net(x) == 0).any()  # training behaviour: dropout active
    torch.testing.assert_close(net.predict(x), x)  # inference behaviour
    assert net.training  # and the mode is as it was
    torch.testing.assert_close(net.predict(x.numpy()), x)  # arrays welcome


def test_learnables_and_state_tables_read_and_write_the_network():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)
    learnables = net.learnables
    assert learnables.keys == (("conv1", "weight"), ("conv1", "bias"), ("bn1", "weight"), ("bn1", "bias"), ("fc", "weight"), ("fc", "bias"))
    assert learnables["conv1", "weight"] is net.conv1.weight
    learnables["fc", "bias"] = torch.arange(10.0)
    torch.testing.assert_close(net.fc.bias, torch.arange(10.0))
    with pytest.raises(GraphdlError, match="size 10"):
        learnables["fc", "bias"] = torch.zeros(3)
    assert [(row.layer, row.parameter) for row in net.state] == [
        ("input", "mean"), ("bn1", "running_mean"), ("bn1", "running_var"), ("bn1", "num_batches_tracked")
    ]
    other = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=5)
    net.learnables = other.learnables
    torch.testing.assert_close(net.conv1.weight, other.conv1.weight)
    assert "conv1  weight     20x1x5x5 float32" in repr(net.learnables)


def test_initialisation_follows_matlab_and_the_seed():
    a = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=3)
    b = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=3)
    c = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=4)
    torch.testing.assert_close(a.conv1.weight, b.conv1.weight)
    assert not torch.equal(a.conv1.weight, c.conv1.weight)
    # glorot: uniform within sqrt(6 / (fan_in + fan_out)); biases zero
    bound = (6 / (25 * 1 + 25 * 20)) ** 0.5
    assert a.conv1.weight.abs().max() <= bound and a.conv1.weight.abs().max() > 0.8 * bound
    assert torch.count_nonzero(a.conv1.bias) == 0
    graph = graphdl.loads('network n {\n input = featureInput(4)\n fc = fullyConnected(3, weightsInitializer="ones", biasInitializer="ones")\n}\n')
    net = graphdl.dlnetwork(graph)
    assert torch.equal(net.fc.weight, torch.ones(3, 4)) and torch.equal(net.fc.bias, torch.ones(3))


def test_a_seed_does_not_disturb_the_global_random_state():
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=9)
    assert torch.equal(torch.rand(1), expected)


def test_input_normalisation_statistics_come_from_data():
    graph = graphdl.loads('network n {\n input = featureInput(3, normalization="zscore")\n}\n')
    net = graphdl.dlnetwork(graph)
    data = torch.tensor([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]])
    net.reset_input_normalization(data)
    torch.testing.assert_close(net.predict(data), torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]))


@pytest.mark.parametrize("mode", ["zerocenter", "zscore", "rescale-zero-one", "rescale-symmetric"])
def test_an_input_layers_module_called_alone_normalises_as_the_network_does(mode):
    # The generated forward inlines the normalisation; the module itself (what a user reaches as
    # net.input, and what export to Python copies) must compute the same, and say its mode.
    graph = graphdl.loads(f'network n {{\n input = featureInput(3, normalization="{mode}")\n}}\n')
    net = graphdl.dlnetwork(graph)
    data = torch.tensor([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0], [2.0, 5.0, 4.0]])
    net.reset_input_normalization(data)
    torch.testing.assert_close(net.input(data), net.predict(data))
    assert repr(net.input) == f"InputNormalization({mode})"


def test_normalisation_statistics_are_taken_only_from_data_that_fits():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"))
    before = net.input.mean.clone()
    with pytest.raises(ValueError, match=r"takes 28x28x1 observations.* but was given one of size \(4, 1, 32, 32\)"):
        net.reset_input_normalization(torch.rand(4, 1, 32, 32))
    with pytest.raises(ValueError, match=r"takes 1 input \(input\), not 2"):
        net.reset_input_normalization(torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28))
    assert torch.equal(net.input.mean, before)


def test_outputs_name_layers():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"))
    with pytest.raises(TypeError, match=r"E229.*outputs names layers: 3 is not a layer name") as caught:
        net.forward(torch.rand(2, 1, 28, 28), outputs=["conv1", 3])
    assert isinstance(caught.value, GraphdlError), "an argument of the wrong Python type, not an unknown layer"
    with pytest.raises(ValueError, match=r"E211.*no layer named `conv9`"):
        net.forward(torch.rand(2, 1, 28, 28), outputs=["conv9"])


def test_compiling_a_graph_with_errors_raises_every_diagnostic():
    graph = graphdl.loads(DAG)
    graph.disconnect("relu1", "add/in2")
    graph.disconnect("cat", "pool")
    with pytest.raises(GraphdlError) as info:
        graphdl.dlnetwork(graph)
    assert [d.code for d in info.value.diagnostics] == ["E302", "E302"]


def test_a_compiled_network_is_an_ordinary_module():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"))
    assert list(net.state_dict())[:3] == ["input.mean", "conv1.weight", "conv1.bias"]
    clone = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=7)
    clone.load_state_dict(net.state_dict())
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(clone.predict(x), net.predict(x))
    assert net.input_names == ("input",) and net.output_names == ("prob",)
    assert net.graph.name == "mnist" and net.device.type == "cpu"
    assert "39,770 learnables" in repr(net)


def test_reserved_names_cover_every_attribute_of_a_compiled_network():
    from graphdl.graph import NETWORK_ATTRIBUTES, name_problem

    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"))
    # TorchScript export runs the forward as an fx GraphModule: its attributes are reserved too.
    attributes = set(dir(net)) | set(vars(net)) | set(dir(torch.fx.GraphModule(net, net._main.graph)))
    public = {name for name in attributes if not name.startswith("_")} - set(net.analysis.layers)
    assert public <= NETWORK_ATTRIBUTES
    assert all(name_problem(name) for name in attributes - set(net.analysis.layers))
    with pytest.raises(GraphdlError, match="the compiled network has an attribute `training`"):
        graphdl.layer("training", "relu")


def test_uneven_same_padding_puts_the_extra_row_and_column_after():
    body = 'input = imageInput([3, 3, 1], normalization="none")\n c = convolution2d(2, 1, padding="same", weightsInitializer="ones")'
    graph = graphdl.loads(network(body))
    net = graphdl.dlnetwork(graph)
    expected = torch.tensor([[4.0, 4.0, 2.0], [4.0, 4.0, 2.0], [2.0, 2.0, 1.0]])
    torch.testing.assert_close(net(torch.ones(1, 1, 3, 3))[0, 0], expected)


def test_a_compiled_network_does_not_follow_later_edits_of_its_graph():
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    net = graphdl.dlnetwork(graph)
    graph.remove_layers("prob")
    assert net.output_names == ("prob",)
    assert net.forward(torch.rand(1, 1, 28, 28), outputs=["prob"]).shape == (1, 10)


def test_predict_checks_its_inputs():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"))
    with pytest.raises(ValueError, match=r"takes 28x28x1 observations, tensors of size \(N, 1, 28, 28\), but was given one of size \(2, 1, 32, 32\)"):
        net.predict(torch.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match="takes 1 input"):
        net.predict(torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28))


def test_a_declared_output_that_also_feeds_a_layer_returns_its_value():
    graph = graphdl.loads("network n {\n x = featureInput(4)\n a = fullyConnected(4)\n b = fullyConnected(2)\n x -> a -> b\n output b, a\n}\n")
    net = graphdl.dlnetwork(graph, seed=0)
    b, a = net(torch.ones(3, 4))
    assert a.shape == (3, 4) and b.shape == (3, 2)
    torch.testing.assert_close(b, net.b(a))
