"""Whole architectures written as a user would from docs/language.md (issue 13): the language
features they lean on, checked by counts and by numbers."""

from __future__ import annotations

import torch

import graphdl

# VGG-16's configuration table as torchvision writes it ("M" for a max pooling), one block that
# a condition turns into a convolution or a pooling, and torchvision's adaptive pooling to 7x7.
VGG16 = """
block item(v) {
    if v == "M" {
        pool = maxPooling2d(2, stride=2)
    } else {
        conv = convolution2d(3, v, padding=1)
        act  = relu()
    }
}

network vgg16(size = 224, classes = 1000,
              cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]) {
    input    = imageInput([size, size, 3], normalization="none")
    features = item(v) for v in cfg
    avgpool  = adaptiveAveragePooling2d(7)
    flatten  = flatten()
    fc1      = fullyConnected(4096)
    relu1    = relu()
    drop1    = dropout(0.5)
    fc2      = fullyConnected(4096)
    relu2    = relu()
    drop2    = dropout(0.5)
    fc3      = fullyConnected(classes)
}
"""


def test_vgg16_from_its_table_keeps_torchvisions_count_at_any_size():
    for size in (224, 256, 64):
        checked = graphdl.check_text(VGG16, parameters={"size": size})
        assert checked.diagnostics == (), [d.message for d in checked.diagnostics]
        assert checked.analysis.num_learnables == 138_357_544  # torchvision's vgg16
        assert checked.analysis["avgpool"].output.sizes == (7, 7, 512)


SIAMESE_DISTANCE = """
block encoder {
    conv = convolution2d(3, 8, padding="same")
    act  = relu()
    pool = globalAveragePooling2d()
    fc   = fullyConnected(16)
}

network siamese {
    left_image  = imageInput([12, 12, 1], normalization="none")
    right_image = imageInput([12, 12, 1], normalization="none")
    left        = encoder()
    right       = encoder() shares left
    difference  = subtraction()
    distance    = function("abs")
    same        = fullyConnected(1)
    prob        = sigmoid()

    left_image -> left -> difference/in1
    right_image -> right -> difference/in2
    difference -> distance -> same -> prob
}
"""


def test_a_siamese_distance_is_in_the_graph():
    net = graphdl.dlnetwork(graphdl.loads(SIAMESE_DISTANCE), seed=0).eval()
    x1, x2 = torch.rand(4, 1, 12, 12), torch.rand(4, 1, 12, 12)
    f1, f2, p = net(x1, x2, outputs=["left.fc", "right.fc", "prob"])
    expected = torch.sigmoid(torch.nn.functional.linear((f1 - f2).abs(), net.same.weight, net.same.bias))
    torch.testing.assert_close(p, expected)
    assert torch.equal(net(x2, x2), torch.sigmoid(net.same.bias).expand(4, 1))  # one twin, twice: distance 0
