"""The layers of a vision transformer (torchvision's ViT-B/16) and of a GAN generator, against torch.

patchEmbedding, embeddingConcatenation, indexing1d and projectAndReshape, each against the torch
code it stands for; then examples/vit_b16.dlg, checked against reference_vit.py's copy of
torchvision's VisionTransformer (torchvision itself is not a dependency), with torchvision's
parameters loaded: its learnables, its outputs on 32x32 images (and on 224x224 ones, slow), the
input stage, one encoder block at ViT-B's sizes, and a small ViT of the example's block whole, in
training with its gradients. Layer norms use torchvision's epsilon of 1e-6, and outputs agree to
float32's default tolerances.

graphdl's sequences are (batch, channels, time) at run time, torchvision's (batch, time, channels):
outputs are compared transposed. selfAttention keeps its query, key and value projections apart,
where nn.MultiheadAttention packs them in `in_proj_weight`: `from_torchvision` splits them.
"""

from __future__ import annotations

import math

import pytest
import torch
from reference_vit import EncoderBlock, VisionTransformer, from_torchvision, perturb, vit_b_16
from torch import nn

import graphdl
from conftest import EXAMPLES, network, run

VIT_B16 = EXAMPLES / "vit_b16.dlg"


def output(body: str, x: torch.Tensor, layer: str) -> torch.Tensor:
    """A layer's output in inference, for a layer without a module of its own."""
    net = graphdl.dlnetwork(graphdl.loads(network(body)), seed=0)
    with net.inference(), torch.no_grad():
        return net.forward(x, outputs=[layer])


def image_net(body: str):
    return graphdl.dlnetwork(graphdl.loads(network(body)), seed=0).eval()


def analysis_of(body: str):
    return graphdl.analyze(graphdl.loads(network(body)))


def problem(body: str) -> graphdl.Diagnostic:
    (diagnostic,) = graphdl.check_text(network(body), path="t.dlg").diagnostics
    return diagnostic


# ---- patchEmbedding ----------------------------------------------------------------------------------


def test_patch_embedding_is_torchvisions_conv_proj_and_flatten():
    body = 'input = imageInput([12, 10, 3], normalization="none")\n p = patchEmbedding([3, 5], 4)'
    x = torch.randn(2, 3, 12, 10)
    y, module = run(body, x, "p")
    assert isinstance(module, nn.Conv2d) and module.weight.shape == (4, 3, 3, 5) and module.bias.shape == (4,)
    with torch.no_grad():
        # torchvision's _process_input: conv_proj, reshape (n, hidden, n_h * n_w), permute (0, 2, 1)
        expected = nn.functional.conv2d(x, module.weight, module.bias, stride=(3, 5)).reshape(2, 4, 4 * 2).permute(0, 2, 1)
    torch.testing.assert_close(y, expected.transpose(1, 2))
    assert y.shape == (2, 4, 8)
    # Step 2 is the patch of the first row of patches, second column: rows 0-2, columns 5-9.
    torch.testing.assert_close(y[:, :, 1], torch.einsum("nchw,ochw->no", x[:, :, 0:3, 5:10], module.weight.detach()) + module.bias.detach())
    analysis = analysis_of(body)
    assert str(analysis["p"].output) == "4(C)x8(T)"
    assert dict(analysis["p"].learnables) == {"weight": (4, 3, 3, 5), "bias": (4,)}
    assert analysis["p"].flops == 8 * 4 * (2 * 3 * 5 * 3 + 1)


def test_patch_embedding_column_major_takes_the_patches_column_by_column():
    body = 'input = imageInput([12, 10, 3], normalization="none")\n p = patchEmbedding([3, 5], 4, spatialFlattenMode="column-major")'
    x = torch.randn(2, 3, 12, 10)
    y, module = run(body, x, "p")
    with torch.no_grad():
        grid = nn.functional.conv2d(x, module.weight, module.bias, stride=(3, 5))  # (2, 4, rows 4, columns 2)
    torch.testing.assert_close(y, grid.permute(0, 1, 3, 2).reshape(2, 4, 8))  # MATLAB's column-major order


def test_patch_embedding_flops_agree_with_torchs_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    body = 'input = imageInput([224, 224, 3], normalization="none")\n p = patchEmbedding(16, 768)'
    net, analysis = image_net(body), analysis_of(body)
    with FlopCounterMode(display=False) as counter:
        net(torch.randn(1, 3, 224, 224))
    # torch counts the multiply-adds of the convolution; graphdl adds the bias, one per output.
    assert counter.get_total_flops() == analysis.flops - 196 * 768


def test_an_image_that_patches_do_not_tile_is_an_error_at_the_patch_size():
    body = 'input = imageInput([224, 225, 3], normalization="none")\n p = patchEmbedding(16, 768)'
    diagnostic = problem(body)
    assert diagnostic.code == "E207"
    assert diagnostic.message == "patchEmbedding cuts its 224x225x3 input into 16x16 patches, but its width 225 is not a multiple of 16"
    line = network(body).splitlines()[diagnostic.span.line - 1]
    assert line[diagnostic.span.column - 1 :].startswith("16")
    assert "225" in diagnostic.help
    with pytest.raises(graphdl.GraphdlError, match="needs an image input"):
        graphdl.loads(network("input = featureInput(6)\n p = patchEmbedding(2, 4)"))


# ---- embeddingConcatenation ------------------------------------------------------------------------------


def test_embedding_concatenation_puts_its_token_first():
    x = torch.randn(3, 6, 5)
    y, module = run("input = sequenceInput(6, length=5)\n e = embeddingConcatenation()", x, "e")
    assert module.weight.shape == (6,)
    torch.testing.assert_close(y[:, :, 1:], x)
    torch.testing.assert_close(y[:, :, 0], module.weight.detach().expand(3, -1))
    # torchvision: torch.cat([class_token.expand(n, -1, -1), x], dim=1) on (batch, time, channels)
    class_token = module.weight.detach().reshape(1, 1, 6)
    torch.testing.assert_close(y.transpose(1, 2), torch.cat([class_token.expand(3, -1, -1), x.transpose(1, 2)], dim=1))
    analysis = analysis_of("input = sequenceInput(6, length=5)\n e = embeddingConcatenation()")
    assert str(analysis["e"].output) == "6(C)x6(T)" and dict(analysis["e"].learnables) == {"weight": (6,)}
    assert analysis["e"].flops == 0


def test_embedding_concatenation_starts_at_zero_as_torchvision_and_takes_any_length():
    net = graphdl.dlnetwork(graphdl.loads(network("input = sequenceInput(4)\n e = embeddingConcatenation()")), seed=0)
    assert not net.e.weight.any()
    assert str(graphdl.analyze(net.graph)["e"].output) == "4(C)xT"
    with torch.no_grad():
        assert net.forward(torch.randn(2, 4, 7), outputs=["e"]).shape == (2, 4, 8)
    other = graphdl.dlnetwork(graphdl.loads(network('input = sequenceInput(4)\n e = embeddingConcatenation(weightsInitializer="narrow-normal")')), seed=0)
    assert 0 < other.e.weight.std() < 0.05
    with pytest.raises(graphdl.GraphdlError, match="embeddingConcatenation needs a sequence of feature vectors, but gets 6 features"):
        graphdl.loads(network("input = featureInput(6)\n e = embeddingConcatenation()"))


# ---- indexing1d ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index,position", [('"first"', 0), ('"last"', -1), ("1", 0), ("3", 2), ("5", 4)])
def test_indexing1d_takes_one_step_counted_from_one(index, position):
    x = torch.randn(3, 6, 5)
    y = output(f"input = sequenceInput(6, length=5)\n i = indexing1d({index})", x, "i")
    torch.testing.assert_close(y, x[:, :, position], rtol=0, atol=0)
    assert str(analysis_of(f"input = sequenceInput(6)\n i = indexing1d({index})")["i"].output) == "6"


def test_indexing1d_of_a_sequence_of_images_gives_an_image():
    x = torch.randn(2, 3, 8, 7, 4)
    y = output("input = sequenceInput([8, 7, 3])\n i = indexing1d(2)", x, "i")
    torch.testing.assert_close(y, x[..., 1], rtol=0, atol=0)


def test_indexing1d_problems_say_what_is_wrong():
    diagnostic = problem("input = sequenceInput(6, length=5)\n i = indexing1d(6)")
    assert diagnostic.code == "E207" and diagnostic.message == "indexing1d takes step 6 of a sequence of 5 steps"
    assert "from 1 to 5" in diagnostic.help
    diagnostic = problem("input = featureInput(6)\n i = indexing1d()")
    assert diagnostic.code == "E403" and "gets 6 features" in diagnostic.message
    for wrong in ('"middle"', "0"):
        diagnostic = problem(f"input = sequenceInput(6)\n i = indexing1d({wrong})")
        assert diagnostic.code == "E207" and '"first", "last" or a positive integer' in diagnostic.message


def test_indexing1d_past_the_end_of_a_sequence_of_any_length_fails_naming_the_layer():
    net = graphdl.dlnetwork(graphdl.loads(network("input = sequenceInput(6)\n i = indexing1d(7)")), seed=0)
    assert net(torch.randn(2, 6, 7)).shape == (2, 6)
    with pytest.raises(graphdl.LayerError, match=r"layer `i` \(indexing1d\) failed: IndexError"):
        net(torch.randn(2, 6, 5))


# ---- projectAndReshape -----------------------------------------------------------------------------------


def test_project_and_reshape_is_a_linear_layer_viewed_as_channels_height_width():
    x = torch.randn(3, 6)
    y, module = run("input = featureInput(6)\n p = projectAndReshape([4, 3, 5])", x, "p")
    assert isinstance(module, nn.Linear) and module.weight.shape == (60, 6)
    # The torch reference (DCGAN's generator): nn.Linear, then .view(N, c, h, w) for [h w c].
    reference = nn.Linear(6, 60)
    reference.load_state_dict(module.state_dict())
    with torch.no_grad():
        expected = reference(x).view(3, 5, 4, 3)
    torch.testing.assert_close(y, expected)
    # Output j of the projection is channel j // (h * w), row (j // w) % h, column j % w.
    flat = module(x).detach()
    torch.testing.assert_close(y[:, 2, 1, 0], flat[:, 2 * 12 + 1 * 3 + 0])
    analysis = analysis_of("input = featureInput(6)\n p = projectAndReshape([4, 3, 5])")
    assert str(analysis["p"].output) == "4x3x5"
    assert dict(analysis["p"].learnables) == {"weight": (60, 6), "bias": (60,)}
    assert analysis["p"].flops == 60 * (2 * 6 + 1)


def test_project_and_reshape_takes_a_1x1_image_of_channels():
    x = torch.randn(3, 6, 1, 1)
    y, module = run('input = imageInput([1, 1, 6], normalization="none")\n p = projectAndReshape([2, 2, 3])', x, "p")
    with torch.no_grad():
        torch.testing.assert_close(y, module(x.flatten(1)).view(3, 3, 2, 2))
    diagnostic = problem('input = imageInput([2, 2, 6], normalization="none")\n p = projectAndReshape([2, 2, 3])')
    assert diagnostic.code == "E403" and "projects features (or a 1x1 image of channels), but gets a 2-D image of 2x2x6" in diagnostic.message


def test_project_and_reshape_starts_a_generator():
    body = (
        "input = featureInput(16)\n p = projectAndReshape([4, 4, 32])\n b = batchNormalization()\n r = relu()\n"
        ' t = transposedConv2d(4, 3, stride=2, cropping="same")\n h = tanh()'
    )
    assert str(analysis_of(body)["t"].output) == "8x8x3"
    net = image_net(body)
    with torch.no_grad():
        out = net(torch.randn(5, 16))
    assert out.shape == (5, 3, 8, 8) and out.abs().max() <= 1


# ---- ViT-B/16: examples/vit_b16.dlg against torchvision's, written by hand in reference_vit.py -----------


def test_layer_normalization_takes_torchvisions_epsilon():
    x = torch.randn(2, 8, 5) * 1e-2  # small values, where the epsilon shows
    y, module = run("input = sequenceInput(8)\n l = layerNormalization(epsilon=1e-6)", x, "l")
    reference = nn.LayerNorm(8, eps=1e-6)
    reference.load_state_dict(module.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(y, reference(x.transpose(1, 2)).transpose(1, 2))
        # An epsilon of 1e-5, the old least one, is a few percent off here.
        other = nn.functional.layer_norm(x.transpose(1, 2), (8,), reference.weight, reference.bias, eps=1e-5)
        assert (y - other.transpose(1, 2)).abs().max() > 1e-2


def load_torchvision(net: graphdl.DLNetwork, reference: nn.Module) -> None:
    state = from_torchvision(reference.state_dict())
    assert set(state) == set(net.state_dict())
    net.load_state_dict(state)


@pytest.fixture(scope="module")
def vit_b16_32():
    """examples/vit_b16.dlg with 32x32 images (2x2 patches of 16 and the class token: 5 steps),
    and torchvision's vit_b_16 for that size, its parameters loaded into it."""
    net = graphdl.dlnetwork(graphdl.load(VIT_B16, parameters={"size": 32}), seed=0).eval()
    reference = perturb(vit_b_16(32), seed=1).eval()
    load_torchvision(net, reference)
    return net, reference


def test_the_vit_b16_example_has_torchvisions_learnables_and_sizes():
    analysis = graphdl.check(VIT_B16).analysis
    with torch.device("meta"):  # sizes only, no values
        reference = vit_b_16()
    # ViT-B/16's 86,567,656 parameters, torchvision's count.
    assert analysis.num_learnables == sum(p.numel() for p in reference.parameters()) == 86_567_656
    assert {name: tuple(value.shape) for name, value in from_torchvision(reference.state_dict()).items()} == {
        f"{layer}.{name}": tuple(shape) for layer, info in analysis.layers.items() for name, shape in info.learnables.items()
    }
    assert str(analysis["conv_proj"].output) == "768(C)x196(T)"
    assert str(analysis["class_token"].output) == "768(C)x197(T)"
    assert str(analysis["encoder.add"].output) == "768(C)x197(T)"
    assert str(analysis["encoder.layers.11.add_2"].output) == "768(C)x197(T)"
    assert str(analysis["token"].output) == "768" and str(analysis["heads.head"].output) == "1000"
    assert dict(analysis["encoder.pos_embedding"].learnables) == {"weight": (197, 768)}
    assert dict(analysis["encoder.layers.0.self_attention"].learnables)["query.weight"] == (768, 768)
    # The position embedding's length follows the image size.
    small = graphdl.analyze(graphdl.load(VIT_B16, parameters={"size": 32, "classes": 10}))
    assert dict(small["encoder.pos_embedding"].learnables) == {"weight": (5, 768)}
    assert small.num_learnables == 86_567_656 - (197 - 5) * 768 - 990 * 769


def test_the_vit_b16_example_computes_torchvisions(vit_b16_32):
    net, reference = vit_b16_32
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = reference(x)
        torch.testing.assert_close(net.predict(x), expected)  # 6e-6 apart at most, of about 10
        # The input stage (conv_proj, class_token, the position embedding added), and the class
        # token's output at the end of the encoder, each as torchvision's.
        embedded = net.forward(x, outputs=["encoder.add"])
        assert embedded.shape == (3, 768, 5)
        torch.testing.assert_close(embedded.transpose(1, 2), reference.embed(x))
        token = net.forward(x, outputs=["token"])
        torch.testing.assert_close(token, reference.encoder(torch.cat([reference.class_token.expand(3, -1, -1), reference._process_input(x)], 1))[:, 0])
    assert expected.abs().max() > 1  # the head is not torchvision's initial zeros


@pytest.mark.slow
def test_the_vit_b16_example_computes_torchvisions_on_224x224_images():
    net = graphdl.dlnetwork(graphdl.load(VIT_B16), seed=0).eval()
    reference = perturb(vit_b_16(), seed=2).eval()
    load_torchvision(net, reference)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        # Outputs of about 10 after 12 blocks over 197 steps: 1.05e-5 apart at most here, float32's
        # rounding, which the default atol of 1e-5 leaves too little room for on another BLAS.
        torch.testing.assert_close(net.predict(x), reference(x), rtol=1.3e-6, atol=5e-5)


def test_torchvisions_conv_proj_loads_into_patch_embedding_as_it_is(vit_b16_32):
    net, reference = vit_b16_32
    assert {k: v.shape for k, v in net.state_dict().items() if k.startswith("conv_proj.")} == {
        "conv_proj.weight": reference.conv_proj.weight.shape,
        "conv_proj.bias": reference.conv_proj.bias.shape,
    }
    torch.testing.assert_close(net.conv_proj.weight, reference.conv_proj.weight, rtol=0, atol=0)


def test_one_vit_b16_encoder_block_computes_torchvisions():
    # The example's block alone, at ViT-B/16's sizes (197 steps of 768).
    text = 'import "vit_b16.dlg"\n\nnetwork block {\n    input = sequenceInput(768, length=197)\n    layer = encoder_block(12, 768, 3072)\n}\n'
    net = graphdl.dlnetwork(graphdl.loads(text, search_path=[EXAMPLES]), seed=0).eval()
    torch.manual_seed(0)
    reference = perturb(EncoderBlock(12, 768, 3072)).eval()
    net.load_state_dict(from_torchvision({f"layer.{k}": v for k, v in reference.state_dict().items()}))
    x = torch.randn(2, 197, 768)
    with torch.no_grad():
        expected = reference(x)
        torch.testing.assert_close(net(x.transpose(1, 2)).transpose(1, 2), expected)
        # Each piece on its own: the norm over the channels of each step, eps 1e-6, and attention
        # as nn.MultiheadAttention's, with its parameters split.
        normed = net.forward(x.transpose(1, 2), outputs=["layer.ln_1"]).transpose(1, 2)
        torch.testing.assert_close(normed, reference.ln_1(x))
        attended = net.forward(x.transpose(1, 2), outputs=["layer.self_attention"]).transpose(1, 2)
        torch.testing.assert_close(attended, reference.self_attention(normed, normed, normed, need_weights=False)[0])
    analysis = graphdl.analyze(net.graph)
    assert analysis.num_learnables == sum(p.numel() for p in reference.parameters()) == 7_087_872


# A small ViT of the example's encoder block: 32x32 images, 8x8 patches (16 and the class token),
# 2 blocks of 4 heads over 64 channels, an MLP of 128, 10 classes.
SMALL_VIT = """
import "vit_b16.dlg"

network small_vit {
    input                 = imageInput([32, 32, 3], normalization="none")
    conv_proj             = patchEmbedding(8, 64)
    class_token           = embeddingConcatenation()
    encoder.pos_embedding = positionEmbedding(64, 17)
    encoder.add           = addition()
    encoder.layers        = encoder_block(4, 64, 128) for i in 0..1
    encoder.ln            = layerNormalization(epsilon=1e-6)
    token                 = indexing1d("first")
    heads.head            = fullyConnected(10)

    input -> conv_proj -> class_token -> encoder.add/in1
    class_token -> encoder.pos_embedding -> encoder.add/in2
    encoder.add -> encoder.layers -> encoder.ln -> token -> heads.head
}
"""


def test_a_small_vit_of_the_examples_block_computes_torchvisions_and_learns():
    net = graphdl.dlnetwork(graphdl.loads(SMALL_VIT, search_path=[EXAMPLES]), seed=0)
    torch.manual_seed(2)
    reference = perturb(VisionTransformer(32, 8, 2, 4, 64, 128, num_classes=10))
    load_torchvision(net, reference)
    x = torch.randn(4, 3, 32, 32)
    reference.eval()
    with torch.no_grad():
        torch.testing.assert_close(net.predict(x), reference(x))
    assert graphdl.analyze(net.graph).num_learnables == sum(p.numel() for p in reference.parameters())
    # In training too (no dropout in ViT-B's defaults), gradients included; they reach every
    # learnable, the class token and the position embedding with the rest.
    net.train()
    reference.train()
    y, expected = net(x), reference(x)
    torch.testing.assert_close(y, expected)
    y.square().mean().backward()
    expected.square().mean().backward()
    grads = from_torchvision({name: p.grad for name, p in reference.named_parameters()})
    for name, p in net.named_parameters():
        torch.testing.assert_close(p.grad, grads[name])
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_position_embedding_is_torchvisions_learned_additive_embedding():
    """torchvision adds pos_embedding (1, 197, 768) to the sequence; positionEmbedding(768, 197)
    holds the same values as a (197, 768) weight and gives them for the addition to add."""
    x = torch.randn(2, 768, 197)
    y, module = run("input = sequenceInput(768, length=197)\n p = positionEmbedding(768, 197)", x, "p")
    pos_embedding = module.weight.detach()[None]  # torchvision's parameter
    torch.testing.assert_close((x + y).transpose(1, 2), x.transpose(1, 2) + pos_embedding)
    assert math.prod(module.weight.shape) == 197 * 768
