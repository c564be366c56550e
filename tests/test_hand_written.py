"""Every example against the same network written by hand in PyTorch: the compiled network's
state_dict loads into the hand-written module as it is (strict), and both compute the same.
(The seed network and its DAG: tests/test_compile.py; the ResNets: tests/test_language_examples.py.)"""

from __future__ import annotations

import torch
from torch import nn

import graphdl
from conftest import EXAMPLES


class DigitsTwoHeads(nn.Module):
    """MATLAB's "Train Network with Multiple Outputs" as one would write it in PyTorch."""

    def __init__(self):
        super().__init__()
        self.conv_1, self.bn_1 = nn.Conv2d(1, 16, 5, padding=2), nn.BatchNorm2d(16)
        self.conv_2, self.bn_2 = nn.Conv2d(16, 32, 3, stride=2), nn.BatchNorm2d(32)
        self.conv_3, self.bn_3 = nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.conv_skip, self.bn_skip = nn.Conv2d(16, 32, 1, stride=2), nn.BatchNorm2d(32)
        self.fc_1, self.fc_2 = nn.Linear(32 * 14 * 14, 10), nn.Linear(32 * 14 * 14, 1)

    def forward(self, x):
        x = torch.relu(self.bn_1(self.conv_1(x)))
        # MATLAB's "same" at stride 2 on 28 pixels pads 0 before and 1 after.
        branch = torch.relu(self.bn_2(self.conv_2(nn.functional.pad(x, (0, 1, 0, 1)))))
        branch = torch.relu(self.bn_3(self.conv_3(branch)))
        skip = torch.relu(self.bn_skip(self.conv_skip(x)))
        trunk = torch.flatten(branch + skip, 1)
        return torch.softmax(self.fc_1(trunk), dim=1), self.fc_2(trunk)


class Encoder(nn.Module):
    def __init__(self, features: int = 32):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, features)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2, 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2, 2)
        return self.fc(torch.flatten(x, 1))


class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.left = Encoder()
        self.same = nn.Linear(32, 1)

    def forward(self, left_image, right_image):
        return torch.sigmoid(self.same((self.left(left_image) - self.left(right_image)).abs()))


class SeedCustomLoop(nn.Module):
    """The seed's second network: the mean image subtracted, conv, relu, pool, fc, softmax."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, 28, 28))
        self.conv1, self.fc = nn.Conv2d(1, 20, 5), nn.Linear(20 * 12 * 12, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x - self.mean)), 2, 2)
        return torch.softmax(self.fc(torch.flatten(x, 1)), dim=1)


def assert_same(name: str, reference: nn.Module, inputs, rename=lambda key: key):
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / f"{name}.dlg"), seed=0)
    generator = torch.Generator().manual_seed(0)
    for key, value in net.state_dict().items():
        if key.endswith(("running_mean", "input.mean")):
            value.uniform_(-0.3, 0.3, generator=generator)
        elif key.endswith("running_var"):
            value.uniform_(0.5, 2.0, generator=generator)
    reference.load_state_dict({rename(key): value for key, value in net.state_dict().items()}, strict=True)
    for mode in ("train", "eval"):
        getattr(net, mode)()
        getattr(reference, mode)()
        expected, actual = reference(*inputs), net(*inputs)
        for a, b in zip(expected if isinstance(expected, tuple) else (expected,), actual if isinstance(actual, tuple) else (actual,)):
            torch.testing.assert_close(b, a)


def test_digits_two_heads():
    assert_same("digits_two_heads", DigitsTwoHeads(), (torch.rand(4, 1, 28, 28),))


def test_siamese():
    assert_same("siamese", Siamese(), (torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)))


def test_the_seed_custom_loop_network():
    assert_same("mnist_dlnetwork", SeedCustomLoop(), (torch.rand(4, 1, 28, 28),), rename=lambda key: key.removeprefix("input."))
