"""Layout layers (reshape, permute, resize, crop), multiplication, and output layers: what they
compute, and what they refuse."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import graphdl
from conftest import network
from graphdl.train import training_options, trainnet


def net(body: str) -> graphdl.DLNetwork:
    return graphdl.dlnetwork(graphdl.loads(network(body)), seed=0)


IMAGE = 'input = imageInput([6, 4, 2], normalization="none")'


def test_reshape_takes_elements_in_pytorchs_order():
    x = torch.randn(2, 2, 6, 4)
    torch.testing.assert_close(net(f"{IMAGE}\n r = reshape([3, 4, 4])")(x), x.reshape(2, 4, 3, 4))
    torch.testing.assert_close(net(f"{IMAGE}\n r = reshape([48])")(x), x.reshape(2, 48))


def test_permute_reorders_dimensions():
    x = torch.randn(2, 2, 6, 4)
    torch.testing.assert_close(net(f"{IMAGE}\n p = permute([2, 1, 3])")(x), x.transpose(2, 3))
    # MATLAB order [channels, height, width] as output dims 1..3: (B, C', H', W') = (B, W, C, H)
    torch.testing.assert_close(net(f"{IMAGE}\n p = permute([3, 1, 2])")(x), x.permute(0, 3, 1, 2))


def test_resize_by_scale_or_to_a_size():
    x = torch.randn(1, 2, 6, 4)
    torch.testing.assert_close(net(f"{IMAGE}\n r = resize2d(scale=2)")(x), F.interpolate(x, scale_factor=2, mode="nearest"))
    bilinear = net(f'{IMAGE}\n r = resize2d(outputSize=[9, 5], method="bilinear")')(x)
    torch.testing.assert_close(bilinear, F.interpolate(x, size=(9, 5), mode="bilinear", align_corners=False))


def test_crop_to_the_reference_at_the_centre_or_a_corner():
    body = f"{IMAGE}\n p = maxPooling2d(2, stride=2)\n c = crop2d({{mode}})\n input -> c/in\n input -> p -> c/ref"
    x = torch.arange(48.0).reshape(1, 2, 6, 4)
    torch.testing.assert_close(net(body.format(mode=""))(x), x[..., 1:4, 1:3])
    torch.testing.assert_close(net(body.format(mode="[3, 4]"))(x), x[..., 3:6, 2:4])


def test_multiplication_multiplies():
    m = net('input = featureInput(3)\n f = fullyConnected(3)\n m = multiplication()\n input -> f -> m/in1\n input -> m/in2')
    x = torch.randn(4, 3)
    torch.testing.assert_close(m(x), m.f(x) * x)


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_channel_shuffle_is_torchs(groups):
    m = net(f'input = imageInput([5, 4, 6], normalization="none")\n s = channelShuffle({groups})')
    x = torch.randn(3, 6, 5, 4)
    torch.testing.assert_close(m(x), torch.nn.ChannelShuffle(groups)(x), rtol=0, atol=0)
    assert m.analysis["s"].flops == 0
    with pytest.raises(graphdl.GraphdlError, match="channelShuffle of 4 groups needs channels that split into them, but gets 6"):
        net('input = imageInput([5, 4, 6], normalization="none")\n s = channelShuffle(4)')


def test_multiplication_gates_an_image_by_a_value_per_channel():
    se = 'input = imageInput([5, 4, 6], normalization="none")\n g = globalAveragePooling2d()\n c = convolution2d(1, 6)\n s = sigmoid()\n m = multiplication()\n'
    m = net(se + " input -> g -> c -> s -> m/in2\n input -> m/in1")
    x = torch.randn(3, 6, 5, 4)
    with torch.no_grad():
        torch.testing.assert_close(m(x), x * torch.sigmoid(m.c(x.mean((2, 3), keepdim=True))), rtol=0, atol=0)
    assert m.analysis["m"].output == graphdl.Shape.image(5, 4, 6) and m.analysis["m"].flops == 5 * 4 * 6
    with pytest.raises(graphdl.GraphdlError, match="multiplication needs inputs of one size"):
        net(se.replace("convolution2d(1, 6)", "convolution2d(1, 3)") + " input -> g -> c -> s -> m/in2\n input -> m/in1")


def test_subtraction_subtracts_its_second_input_from_its_first():
    m = net('input = featureInput(3)\n f = fullyConnected(3)\n d = subtraction()\n input -> f -> d/in2\n input -> d/in1')
    x = torch.randn(4, 3)
    torch.testing.assert_close(m(x), x - m.f(x), rtol=0, atol=0)
    assert m.analysis["d"].flops == 3
    with pytest.raises(graphdl.GraphdlError, match="subtraction needs inputs of one size"):
        net('input = featureInput(3)\n f = fullyConnected(2)\n d = subtraction()\n input -> f -> d/in2\n input -> d/in1')
    with pytest.raises(graphdl.GraphdlError, match="unknown argument"):
        net("input = featureInput(3)\n d = subtraction(numInputs=3)")


@pytest.mark.parametrize(
    "body,message",
    [
        (f"{IMAGE}\n r = reshape([5, 5, 2])", r"cannot reshape 6x4x2 \(48 elements\) to 5x5x2 \(50 elements\)"),
        (f"{IMAGE}\n p = permute([1, 1, 3])", r"needs a permutation of 1..3"),
        (f"{IMAGE}\n r = resize2d()", "a scale or an outputSize"),
        (f"{IMAGE}\n r = resize2d(scale=0.1)", "leaves no pixel"),
        (f"{IMAGE}\n c = crop2d()\n u = resize2d(scale=2)\n input -> c/in\n input -> u -> c/ref", "cannot crop 6x4x2 to the larger 12x8x2"),
        ("input = sequenceInput(3)\n f = flatten()", "works on one observation at a time, but gets a sequence of 3 features"),
        ("input = sequenceInput(3)\n c = classification()", 'outputMode="last"'),
    ],
)
def test_layout_mistakes_are_diagnostics(body, message):
    with pytest.raises(graphdl.GraphdlError, match=message):
        graphdl.loads(network(body))


def test_output_layers_pass_through_and_name_the_loss():
    classifier = net("input = featureInput(4)\n fc = fullyConnected(3)\n prob = softmax()\n out = classification()")
    x = torch.randn(5, 4)
    torch.testing.assert_close(classifier(x), classifier.forward(x, outputs=["prob"]))
    assert classifier.output_names == ("out",)
    options = training_options("sgdm", max_epochs=2, mini_batch_size=5, verbose=False, initial_learn_rate=0.1)
    T = torch.tensor([0, 1, 2, 0, 1])
    _, info = trainnet(x, T, classifier, options=options)  # no loss given: the classification layer's
    assert info.final("loss") < info.history["loss"][1][0]
    assert "accuracy" in info.history
    regressor = net("input = featureInput(4)\n fc = fullyConnected(1)\n out = regression()")
    _, info = trainnet(x, torch.randn(5, 1), regressor, options=options)
    assert "accuracy" not in info.history


def test_fully_connected_takes_a_sequence_a_step_at_a_time():
    stepwise = net("input = sequenceInput(6)\n f = fullyConnected(4)")
    x = torch.randn(2, 6, 5)
    torch.testing.assert_close(stepwise(x), torch.nn.functional.linear(x.transpose(1, 2), stepwise.f.weight, stepwise.f.bias).transpose(1, 2))
    # A sequence where one target per observation is expected: said before training starts.
    with pytest.raises(ValueError, match=r'one target per observation: .*outputMode="last"'):
        trainnet(torch.randn(8, 6, 5), torch.zeros(8, dtype=torch.long), stepwise, "mse", training_options("sgdm", verbose=False, mini_batch_size=4))
