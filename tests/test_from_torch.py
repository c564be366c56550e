"""graphdl.from_torch: PyTorch modules imported as LayerGraphs, compared with the modules they came
from. Each import is compiled, loaded with the module's own state_dict (strict) and run against the
module in inference; its `.dlg` text parses back to a network that computes the same."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from reference_resnet import resnet18
from torch import nn

import graphdl
from graphdl import from_torch
from graphdl.catalog import Inferred, LayerKind, importers, kinds, layer_spec, refuse_if, register
from graphdl.diagnostics import Diagnostic


def _vary_statistics(module: nn.Module) -> None:
    """Batch-norm statistics and affine parameters away from their identity initial values, so
    that a layer that ignored them would be caught."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.rand(m.num_features, generator=generator) - 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
            if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm, nn.modules.instancenorm._InstanceNorm)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=generator) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=generator) - 0.5)


def _same_outputs(graph: graphdl.LayerGraph, module: nn.Module, x: torch.Tensor) -> graphdl.DLNetwork:
    net = graphdl.dlnetwork(graph)
    net.load_state_dict(module.state_dict(), strict=True)
    module.eval()
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(net(x), module(x))
    return net


def _assert_imports(module: nn.Module, input_size, x: torch.Tensor, **options) -> graphdl.LayerGraph:
    """Import, compare, then compare the network parsed back from the printed text."""
    _vary_statistics(module)
    graph = from_torch(module, input_size, **options)
    _same_outputs(graph, module, x)
    again = graphdl.loads(graphdl.to_dlg(graph))
    assert again == graph
    _same_outputs(again, module, x)
    return graph


# ---- whole networks ------------------------------------------------------------------------------


def test_a_sequential_mlp_reads_as_written_by_hand():
    mlp = nn.Sequential(
        OrderedDict(fc1=nn.Linear(10, 32), relu1=nn.ReLU(), drop=nn.Dropout(0.25), fc2=nn.Linear(32, 5), prob=nn.Softmax(dim=1))
    )
    graph = _assert_imports(mlp, (10,), torch.randn(4, 10), name="mlp")
    assert graphdl.to_dlg(graph) == (
        "network mlp {\n"
        "    input = featureInput(10)\n"
        "    fc1   = fullyConnected(32)\n"
        "    relu1 = relu()\n"
        "    drop  = dropout(0.25)\n"
        "    fc2   = fullyConnected(5)\n"
        "    prob  = softmax()\n"
        "}\n"
    )


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16, eps=1e-3)
        self.fc = nn.Linear(16 * 4 * 4, 10)
        self.prob = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.pool1(self.relu1(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.prob(self.fc(torch.flatten(x, 1)))


def test_a_small_cnn_keeps_its_names_and_its_arguments():
    graph = _assert_imports(SmallCNN(), (16, 16, 3), torch.randn(3, 3, 16, 16))
    assert graphdl.to_dlg(graph) == (
        "network SmallCNN {\n"
        '    input   = imageInput([16, 16, 3], normalization="none")\n'
        "    conv1   = convolution2d(3, 8, padding=1)\n"
        "    bn1     = batchNormalization()\n"
        "    relu1   = relu()\n"
        "    pool1   = maxPooling2d(2, stride=2)\n"
        "    conv2   = convolution2d(3, 16, stride=2, padding=1, bias=false)\n"
        "    bn2     = batchNormalization(epsilon=0.001)\n"
        "    relu    = relu()\n"
        "    flatten = flatten()\n"
        "    fc      = fullyConnected(10)\n"
        "    prob    = softmax()\n"
        "}\n"
    )


@pytest.mark.slow
def test_resnet18_imports_with_torchvision_names_and_parameter_count():
    module = resnet18(classes=10)
    graph = _assert_imports(module, (64, 64, 3), torch.randn(2, 3, 64, 64))
    net = graphdl.dlnetwork(graphdl.loads(graphdl.to_dlg(graph)))
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in module.parameters()) == 11_181_642
    assert net.state_dict().keys() == module.state_dict().keys()
    # The residual additions are named after the block whose forward adds, as a hand-written
    # .dlg names them, and the block's ReLU, called twice, makes two layers.
    assert {"layer2.0.add", "layer2.0.relu", "layer2.0.relu_1", "layer2.0.downsample.0"} <= {layer.name for layer in graph}
    assert graph["layer2.0.downsample.0"].arguments == ((None, 1), (None, 128), ("stride", 2), ("bias", False))


def test_importing_leaves_the_module_as_it_was():
    module = SmallCNN().train()
    before = {name: value.clone() for name, value in module.state_dict().items()}
    from_torch(module, (16, 16, 3))
    assert module.training and all(m.training for m in module.modules())
    for name, value in module.state_dict().items():
        assert torch.equal(value, before[name]), name


# ---- each kind of layer ------------------------------------------------------------------------------


class Branches(nn.Module):
    """Concatenation along the channels, multiplication, and a flatten written as a view."""

    def __init__(self):
        super().__init__()
        self.left = nn.Conv2d(3, 4, 1)
        self.right = nn.Conv2d(3, 4, 3, padding="same")
        self.gate = nn.Sigmoid()
        self.fc = nn.Linear(8 * 6 * 6, 2)

    def forward(self, x):
        joined = torch.cat([self.left(x), self.right(x)], dim=1)
        gated = joined * self.gate(joined)
        return self.fc(gated.view(gated.size(0), -1))


class Twice(nn.Module):
    """One convolution applied twice: the second layer shares the first one's weights."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.skip = nn.Identity()

    def forward(self, x):
        return self.conv(torch.relu(self.conv(self.skip(x)))) + x


class Functional(nn.Module):
    """Activations written as functions and methods."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        x = F.leaky_relu(self.fc(x), 0.2)
        x = F.gelu(x, approximate="tanh") + F.elu(x, alpha=0.5)
        x = F.hardtanh(x, 0.0, 2.0) + F.relu6(x) + F.silu(x) + F.softplus(x) + F.hardsigmoid(x) + F.hardswish(x)
        return torch.softmax(x.tanh().sigmoid(), dim=-1).reshape(x.shape[0], -1)


class _Differences(nn.Module):
    """Subtraction and the elementwise functions, written as operators, functions and methods."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 5)

    def forward(self, x):
        y = self.fc(x)
        d = torch.sub(x, y) - torch.exp(y).sqrt() + y.abs().log() + torch.square(y) - y.sub(x)
        return -torch.neg(d.exp().negative() + torch.abs(y).sqrt().square())


class _SqueezeExcite(nn.Module):
    """An image times a per-channel gate, which the product broadcasts."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.squeeze = nn.Conv2d(6, 2, 1)
        self.excite = nn.Conv2d(2, 6, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.excite(torch.relu(self.squeeze(self.pool(x)))))


CASES = {
    "grouped and depthwise convolutions": (
        nn.Sequential(OrderedDict(grouped=nn.Conv2d(4, 8, 3, groups=2), depthwise=nn.Conv2d(8, 8, (3, 1), groups=8, dilation=2))),
        (12, 12, 4),
    ),
    "transposed convolution with output padding": (
        nn.Sequential(OrderedDict(up=nn.ConvTranspose2d(3, 5, 3, stride=2, padding=1, output_padding=1), act=nn.LeakyReLU(0.1))),
        (5, 7, 3),
    ),
    "pooling": (
        nn.Sequential(
            OrderedDict(avg=nn.AvgPool2d(3, stride=2, padding=1), max=nn.MaxPool2d((2, 3), stride=1), gmax=nn.AdaptiveMaxPool2d((1, 1)), flat=nn.Flatten())
        ),
        (9, 9, 2),
    ),
    "pooling rounding up": (
        nn.Sequential(OrderedDict(max=nn.MaxPool2d(3, stride=2, ceil_mode=True), avg=nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True))),
        (10, 9, 2),
    ),
    "subtraction and elementwise functions": (_Differences(), (5,)),
    "adaptive pooling": (
        nn.Sequential(OrderedDict(avg=nn.AdaptiveAvgPool2d((5, None)), max=nn.AdaptiveMaxPool2d(3), gap=nn.AdaptiveAvgPool2d((None, 1)))),
        (7, 6, 2),
    ),
    "normalisations and activations": (
        nn.Sequential(
            OrderedDict(
                group=nn.GroupNorm(2, 4),
                instance=nn.InstanceNorm2d(4, affine=True),
                elu=nn.ELU(0.5),
                gelu=nn.GELU(),
                swish=nn.SiLU(),
                soft=nn.Softplus(),
                clip=nn.Hardtanh(0.0, 1.5),
                six=nn.ReLU6(),
                tanh=nn.Tanh(),
                hsig=nn.Hardsigmoid(),
                hswish=nn.Hardswish(),
                up=nn.Upsample(scale_factor=2, mode="bilinear"),
                near=nn.Upsample(size=(10, 12)),
                gap=nn.AdaptiveAvgPool2d(1),
                flat=nn.Flatten(),
                norm=nn.LayerNorm(4),
            )
        ),
        (4, 5, 4),
    ),
    "squeeze-and-excitation": (_SqueezeExcite(), (5, 4, 6)),
    "channel shuffle": (nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 6, 1, groups=3), shuffle=nn.ChannelShuffle(3))), (4, 5, 3)),
    "local response normalisation": (
        nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 6, 1), lrn=nn.LocalResponseNorm(3, alpha=0.5, beta=0.6, k=1.5))),
        (4, 4, 3),
    ),
    "3-D images": (
        nn.Sequential(OrderedDict(conv=nn.Conv3d(2, 4, 3, padding=1), bn=nn.BatchNorm3d(4), pool=nn.AvgPool3d(2), gap=nn.AdaptiveAvgPool3d(1))),
        (6, 6, 4, 2),
    ),
    "branches": (Branches(), (6, 6, 3)),
    "a module called twice": (Twice(), (5, 5, 4)),
    "functions and methods": (Functional(), (6,)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_supported_layer_computes_what_the_module_computes(case):
    module, size = CASES[case]
    x = torch.randn(3, *graphdl.Shape.image(*size).torch_size(1)[1:]) if len(size) > 1 else torch.randn(3, *size)
    _assert_imports(module, size, x)


def test_sequences_of_features_take_any_length():
    module = nn.Sequential(
        OrderedDict(
            conv=nn.Conv1d(4, 8, 3, padding=2, dilation=2),
            bn=nn.BatchNorm1d(8),
            norm=nn.InstanceNorm1d(8, affine=True),
            pool=nn.MaxPool1d(2),
            up=nn.ConvTranspose1d(8, 3, 4, stride=2, padding=1),
        )
    )
    graph = _assert_imports(module, (4, 20), torch.randn(2, 4, 20), input_kind="sequenceInput")
    assert graph["input"].arguments == ((None, 4),)  # no length: the module takes any
    _same_outputs(graph, module, torch.randn(2, 4, 33))


def test_a_module_called_twice_shares_its_weights():
    graph = from_torch(Twice(), (5, 5, 4))
    assert graph["conv_1"].shares == "conv"
    assert graph["relu"].kind == "relu" and "skip" not in graph


def test_a_module_may_return_several_tensors_in_its_own_order():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(4, 4)
            self.digit = nn.Linear(4, 2)
            self.angle = nn.Linear(4, 1)

        def forward(self, x):
            features = torch.relu(self.body(x))
            digit = self.digit(features)
            return self.angle(features), digit

    graph = from_torch(TwoHeads(), (4,))
    assert graph.outputs == graph.output_names == ("angle", "digit")
    module = TwoHeads().eval()
    net = graphdl.dlnetwork(graphdl.loads(graphdl.to_dlg(graph)))
    net.load_state_dict(module.state_dict())
    x = torch.randn(2, 4)
    with torch.no_grad():
        torch.testing.assert_close(net.eval()(x), module(x))


def test_every_importer_names_something_this_torch_has():
    import pydoc

    for qualified, (kind, _) in importers().items():
        assert pydoc.locate(qualified) is not None, f"{kind.name} imports `{qualified}`, which torch does not have"


class _Concatenate(nn.Module):
    """Images joined along their channels by the function it is given (torch.cat, torch.concat)."""

    def __init__(self, concatenate):
        super().__init__()
        self.concatenate = concatenate

    def forward(self, x):
        return self.concatenate([x, torch.relu(x)], dim=1)


# Each kind that another kind's importer makes (`imported_by`), for each name it gives: a module
# that uses what the name stands for with the settings that make the kind, its input size, and the
# layer made of it (named after the module, or after fx's node of the function).
MADE_BY_ANOTHER_KINDS_IMPORTER = {
    ("groupedConvolution2d", "torch.nn.Conv2d"): (nn.Sequential(OrderedDict(conv=nn.Conv2d(4, 8, 3, groups=2))), (6, 6, 4), "conv"),
    ("depthConcatenation", "torch.cat"): (_Concatenate(torch.cat), (6, 6, 3), "cat"),
    ("depthConcatenation", "torch.concat"): (_Concatenate(torch.concat), (6, 6, 3), "concat"),
    ("adaptiveAveragePooling2d", "torch.nn.AdaptiveAvgPool2d"): (nn.Sequential(OrderedDict(pool=nn.AdaptiveAvgPool2d((2, 3)))), (7, 5, 2), "pool"),
    ("adaptiveMaxPooling2d", "torch.nn.AdaptiveMaxPool2d"): (nn.Sequential(OrderedDict(pool=nn.AdaptiveMaxPool2d(3))), (7, 5, 2), "pool"),
}


def test_every_imported_by_of_a_built_in_kind_has_its_case():
    declared = {(kind.name, qualified) for kind in kinds() if type(kind).__module__.startswith("graphdl.catalog.") for qualified in kind.imported_by}
    assert declared == set(MADE_BY_ANOTHER_KINDS_IMPORTER)


@pytest.mark.parametrize(("kind", "qualified"), list(MADE_BY_ANOTHER_KINDS_IMPORTER))
def test_the_importer_a_kind_names_in_imported_by_makes_it(kind, qualified):
    module, size, layer_name = MADE_BY_ANOTHER_KINDS_IMPORTER[kind, qualified]
    owner = importers()[qualified][0]
    assert owner.name != kind
    graph = _assert_imports(module, size, torch.randn(2, *graphdl.Shape.image(*size).torch_size(1)[1:]))
    assert graph[layer_name].kind == kind


# ---- a kind registered from Python ----------------------------------------------------------------


class ChannelScale(nn.Module):
    """A PyTorch module of a user's own: each channel times a learnable factor."""

    def __init__(self, channels: int, initial: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), initial))

    def forward(self, x):
        return x * self.weight.view(-1, *([1] * (x.dim() - 2)))


def _import_channel_scale(m: ChannelScale, x) -> object:
    refuse_if(m.weight.numel() != x.size[1], f"{m.weight.numel()} factors for {x.size[1]} channels")
    return layer_spec("testChannelScale", x)


@register
class ChannelScaleKind(LayerKind):
    """A kind registered from Python with an importer for the user's own module: from_torch keeps
    that module whole, as it keeps torch.nn's, and imports it as this kind."""

    name = "testChannelScale"
    category = "activation"
    summary = "Multiplies each channel by a learnable factor"
    importers = {f"{__name__}.ChannelScale": _import_channel_scale}

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]}, learnables={"weight": (inputs["in"].channels,)})

    def build(self, args, inputs):
        return ChannelScale(inputs["in"].channels)


def test_a_registered_kind_imports_the_module_its_importer_names():
    module = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 4, 1), scale=ChannelScale(4, 0.5), relu=nn.ReLU()))
    with torch.no_grad():
        module.scale.weight.copy_(torch.tensor([0.5, -1.0, 2.0, 3.0]))
    graph = _assert_imports(module, (5, 5, 3), torch.randn(2, 3, 5, 5))
    assert graph["scale"].kind == "testChannelScale"


# ---- what cannot be imported -------------------------------------------------------------------------


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


class Sine(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.sin(self.fc(x))


def _refusal(module: nn.Module, input_size, **options) -> Diagnostic:
    """The one diagnostic of a refused import: E601, its problems as notes."""
    with pytest.raises(graphdl.GraphdlError) as caught:
        from_torch(module, input_size, **options)
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)  # no traceback of fx's
    (diagnostic,) = error.diagnostics
    assert diagnostic.code == "E601"
    return diagnostic


def _problems(module: nn.Module, input_size, **options) -> str:
    """Everything a refusal says, on one line."""
    d = _refusal(module, input_size, **options)
    return " ".join([d.message, *d.notes, d.help or ""])


def test_an_unsupported_layer_is_named_with_its_node_and_line():
    refusal = _refusal(Tagger(), (5, 4), input_kind="sequenceInput")
    assert refusal.message == "cannot import Tagger"
    # What depends on the LSTM is not reported again.
    (note,) = refusal.notes
    assert note.startswith("module `lstm` (nn.LSTM), node `lstm` at test_from_torch.py:")
    assert note.endswith("(`out, _ = self.lstm(x)`): nn.LSTM is not one of the PyTorch layers graphdl imports")
    assert refusal.help.startswith("graphdl imports the PyTorch modules ChannelScale, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool2d")
    assert "; the functions *, +, -, -x, F.elu" in refusal.help and "; the methods x.abs(), x.add(), x.chunk(), x.exp(), x.flatten()" in refusal.help


def test_an_unsupported_function_is_named_with_the_module_that_calls_it():
    (note,) = _refusal(nn.Sequential(OrderedDict(block=Sine())), (4,)).notes
    assert note.startswith("`torch.sin` in `block`, node `sin` at test_from_torch.py:")
    assert note.endswith("(`return torch.sin(self.fc(x))`): torch.sin is not one of the PyTorch functions graphdl imports")


def test_every_refusal_is_reported_in_one_run():
    module = nn.Sequential(
        OrderedDict(
            conv=nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"),
            bn=nn.BatchNorm2d(4, momentum=0.01),
            pool=nn.MaxPool2d(2, dilation=2),
            up=nn.Upsample(scale_factor=2, mode="bicubic"),
            norm=nn.InstanceNorm2d(4),
        )
    )
    refusal = _refusal(module, (8, 8, 3))
    assert refusal.message == "cannot import Sequential"
    # Each module's own settings are checked, even after a refusal upstream.
    conv, bn, pool, up, norm = refusal.notes
    assert conv == "module `conv` (nn.Conv2d), node `conv`: padding_mode=\"reflect\": graphdl's convolutions pad with zeros only"
    assert bn.startswith("module `bn` (nn.BatchNorm2d), node `bn`: momentum=0.01: ")
    assert pool.startswith("module `pool` (nn.MaxPool2d), node `pool`: dilation=2: ")
    assert up.startswith("module `up` (nn.Upsample), node `up`: mode=\"bicubic\": ")
    assert norm.startswith("module `norm` (nn.InstanceNorm2d), node `norm`: affine=False (PyTorch's default): ")
    # Every module is one graphdl imports: no list of them is needed.
    assert refusal.help is None
    # As a compiler prints it: the error, then each problem as a note.
    text = str(graphdl.GraphdlError([refusal]))
    assert text.startswith("error[E601]: cannot import Sequential\n") and "  = note: module `bn` (nn.BatchNorm2d)" in text


class _InPlace(nn.Module):
    def __init__(self, chained: bool):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU(inplace=True)
        self.chained = chained

    def forward(self, x):
        y = self.fc(x)
        return self.act(y) if self.chained else y + F.relu(y, inplace=True)


def test_in_place_operations_import_unless_they_overwrite_a_tensor_used_elsewhere():
    _assert_imports(_InPlace(chained=True), (4,), torch.randn(3, 4))
    message = _problems(_InPlace(chained=False), (4,))
    assert "works in place (inplace=True) on `fc`, which `add` also uses" in message and "set inplace=False" in message


class _Twice(nn.Module):
    def __init__(self, alias: bool):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        if alias:
            self.again = self.fc

    def forward(self, x):
        y = self.fc(x)
        return y, y


def test_a_module_under_two_names_and_an_output_returned_twice_are_refused():
    assert "returns `fc` twice: a graphdl network's outputs are distinct layers" in _problems(_Twice(alias=False), (4,))
    assert "one module is registered under several names (`fc`, `again`)" in _problems(_Twice(alias=True), (4,))


@pytest.mark.parametrize(
    ("module", "input_size", "expected"),
    [
        (nn.Sequential(OrderedDict(conv=nn.Conv1d(4, 4, 3, groups=2))), (4, 9), "groups=2: the catalog has grouped convolutions in 2-D only"),
        (nn.Sequential(OrderedDict(fc=nn.Linear(5, 2))), (3, 5, 1), "flatten first"),
        (nn.Sequential(OrderedDict(norm=nn.LayerNorm([2, 3, 3]))), (3, 3, 2), "features (batch, channels) only"),
        (nn.Sequential(OrderedDict(bn=nn.BatchNorm2d(2, eps=1e-6))), (3, 3, 2), "eps=1e-06: graphdl's epsilon is at least 1e-5"),
        (nn.Sequential(OrderedDict(pool=nn.AdaptiveAvgPool3d(2))), (4, 4, 4, 2), "output_size=2: graphdl pools to other sizes than 1 in 2-D only"),
        (nn.Sequential(OrderedDict(pool=nn.AdaptiveMaxPool2d(2, return_indices=True))), (4, 4, 2), "return_indices=True"),
        (nn.Sequential(OrderedDict(pool=nn.MaxPool3d(2, ceil_mode=True))), (5, 5, 5, 2), "ceil_mode=True: graphdl's pooling rounds"),
        (nn.Sequential(OrderedDict(prob=nn.Softmax(dim=2))), (4, 4, 2), "dim=2: graphdl's softmax works over the channels"),
        (nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Softplus(beta=2))), (2,), "beta=2"),
        (nn.Sequential(OrderedDict(lrn=nn.LocalResponseNorm(4))), (3, 3, 6), "size=4: an even window reaches one channel further back"),
    ],
)
def test_a_setting_without_a_catalog_equivalent_is_refused(module, input_size, expected):
    kind = "sequenceInput" if isinstance(module[0], nn.Conv1d) else None
    assert expected in _problems(module, input_size, input_kind=kind)


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return x


def test_control_flow_is_refused_with_its_line_not_an_fx_traceback():
    refusal = _refusal(Gate(), (4,))
    assert refusal.message.startswith("torch.fx cannot trace Gate.forward at test_from_torch.py:")
    assert "(`if x.sum() > 0:`)" in refusal.message and "control flow" in refusal.help


def test_a_forward_of_several_inputs_is_refused():
    class Pair(nn.Module):
        def forward(self, x, y):
            return x + y

    assert "Pair.forward takes 2 inputs (x, y); from_torch imports a module of one input" in _problems(Pair(), (4,))


def test_a_numbered_sequential_says_how_to_keep_its_names():
    message = _problems(nn.Sequential(nn.Linear(4, 2)), (4,))
    assert "module `0` (nn.Linear)" in message and "OrderedDict" in message


def test_an_input_size_the_module_cannot_take_is_refused():
    message = _refusal(SmallCNN(), (10, 10, 3)).message
    assert message.startswith("SmallCNN fails on one observation of size (10, 10, 3) (a tensor of size (1, 3, 10, 10)), at module `fc` (nn.Linear)")
    assert message.endswith("mat1 and mat2 shapes cannot be multiplied (1x144 and 256x10)")


def test_a_graph_that_does_not_analyze_raises_its_diagnostics():
    class FlattenSequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 2, 1)

        def forward(self, x):
            return torch.flatten(self.conv(x), 1)

    with pytest.raises(graphdl.GraphdlError, match="flatten works on one observation at a time"):
        from_torch(FlattenSequence(), (2, 6), input_kind="sequenceInput")
