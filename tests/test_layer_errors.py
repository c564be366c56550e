"""Errors raised inside the compiled forward come back naming the layer, its kind and its line in
the .dlg file, with the sizes it received and expects; torch's own error is chained to them."""

from __future__ import annotations

import pytest
import torch

import graphdl
from conftest import EXAMPLES, GOLDEN
from graphdl import LayerError
from graphdl.catalog import Inferred, LayerKind, register


def seed_network():
    checked = graphdl.check_text((EXAMPLES / "mnist.dlg").read_text(), path="mnist.dlg")
    return graphdl.dlnetwork(checked.graph, seed=0)


def test_a_tensor_of_the_wrong_size_names_the_layer_that_cannot_take_it(golden):
    net = seed_network()
    with pytest.raises(LayerError) as caught:
        net(torch.rand(2, 1, 32, 32))
    error = caught.value
    assert isinstance(error, RuntimeError) and isinstance(error.__cause__, RuntimeError)
    assert "mat1 and mat2 shapes cannot be multiplied" in str(error.__cause__)
    assert (error.layer, error.kind) == ("fc", "fullyConnected")
    assert error.received == {"fc_flatten": (2, 5120)}
    golden(GOLDEN / "runtime" / "wrong_size.txt", str(error))


def test_a_tensor_of_the_wrong_type_names_the_first_layer_that_fails(golden):
    net = seed_network()
    with pytest.raises(LayerError) as caught:
        net.forward(torch.rand(2, 1, 28, 28, dtype=torch.float64), outputs=["conv1"])
    assert caught.value.layer == "conv1"
    golden(GOLDEN / "runtime" / "wrong_type.txt", str(caught.value))


class _Broken(torch.nn.Module):
    def forward(self, x):
        return x.view(x.shape[0], 3, -1)  # disagrees with its shape rule


@register
class BrokenReshape(LayerKind):
    """A test-only kind whose module does not do what its shape rule says."""

    name = "testBrokenReshape"
    category = "reshape"
    summary = "A custom layer with a bug"

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def build(self, args, inputs):
        return _Broken()


BLOCK = """\
block unit(width) {
    input x
    output y
    fc   = fullyConnected(width)
    oops = testBrokenReshape()
    x -> fc -> oops -> y
}

network custom {
    input = featureInput(4)
    first = unit(8)
    second = unit(10)
}
"""


def test_a_failing_custom_layer_in_a_block_is_named_by_its_path_and_shows_its_instance(golden):
    checked = graphdl.check_text(BLOCK, path="custom.dlg")
    net = graphdl.dlnetwork(checked.graph, seed=0)
    with pytest.raises(LayerError) as caught:
        net(torch.rand(2, 4))
    assert caught.value.layer == "first.oops" and caught.value.kind == "testBrokenReshape"
    golden(GOLDEN / "runtime" / "custom_layer.txt", str(caught.value))


def test_an_error_that_is_not_a_layers_passes_through_unchanged():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)
    with pytest.raises(TypeError, match="forward"):
        net(torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28))


def test_the_network_still_works_after_an_error():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0).eval()
    x = torch.rand(2, 1, 28, 28)
    before = net(x)
    with pytest.raises(LayerError):
        net(torch.rand(2, 1, 30, 30))
    torch.testing.assert_close(net(x), before, rtol=0, atol=0)
