"""torchvision's VisionTransformer written by hand, as torchvision writes it (its module names, its
structure, its initialisation), to check examples/vit_b16.dlg and ViT's layers against; and
`from_torchvision`, which maps its state_dict onto graphdl's, as examples/vit_b16.dlg's header
says. torchvision itself is not a dependency of graphdl.

Copied from torchvision.models.vision_transformer (MLPBlock, EncoderBlock, Encoder,
VisionTransformer with classifier "token" and no representation layer); `vit_b_16` is
torchvision's builder's configuration.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict

import torch
from torch import nn


class MLPBlock(nn.Sequential):
    """torchvision's MLPBlock (an MLP): Linear, GELU, Dropout, Linear, Dropout, as mlp.0 ... mlp.4."""

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float):
        super().__init__(nn.Linear(in_dim, mlp_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_dim, in_dim), nn.Dropout(dropout))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)


class EncoderBlock(nn.Module):
    """torchvision's EncoderBlock, line for line."""

    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float = 0.0, attention_dropout: float = 0.0):
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        torch._assert(input.dim() == 3, f"Expected (batch_size, seq_length, hidden_dim) got {input.shape}")
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x)
        x = x + input
        y = self.ln_2(x)
        y = self.mlp(y)
        return x + y


class Encoder(nn.Module):
    """torchvision's Encoder: the position embedding added, dropout, the blocks (named
    encoder_layer_0, encoder_layer_1, ...), a layer norm."""

    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, hidden_dim).normal_(std=0.02))  # from BERT
        self.dropout = nn.Dropout(dropout)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for i in range(num_layers):
            layers[f"encoder_layer_{i}"] = EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout, attention_dropout)
        self.layers = nn.Sequential(layers)
        self.ln = nn.LayerNorm(hidden_dim, eps=1e-6)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        torch._assert(input.dim() == 3, f"Expected (batch_size, seq_length, hidden_dim) got {input.shape}")
        input = input + self.pos_embedding
        return self.ln(self.layers(self.dropout(input)))


class VisionTransformer(nn.Module):
    """torchvision's VisionTransformer, classifier on the class token, one linear head."""

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int, hidden_dim: int, mlp_dim: int,
                 dropout: float = 0.0, attention_dropout: float = 0.0, num_classes: int = 1000):
        super().__init__()
        torch._assert(image_size % patch_size == 0, "Input shape indivisible by patch size!")
        self.image_size, self.patch_size, self.hidden_dim = image_size, patch_size, hidden_dim
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        seq_length += 1
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout)
        self.seq_length = seq_length
        self.heads = nn.Sequential(OrderedDict([("head", nn.Linear(hidden_dim, num_classes))]))

        fan_in = self.conv_proj.in_channels * self.conv_proj.kernel_size[0] * self.conv_proj.kernel_size[1]
        nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
        nn.init.zeros_(self.conv_proj.bias)
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        p = self.patch_size
        torch._assert(h == self.image_size, f"Wrong image height! Expected {self.image_size} but got {h}!")
        torch._assert(w == self.image_size, f"Wrong image width! Expected {self.image_size} but got {w}!")
        n_h, n_w = h // p, w // p
        # (n, c, h, w) -> (n, hidden_dim, n_h, n_w) -> (n, hidden_dim, n_h * n_w) -> (n, seq, hidden_dim)
        x = self.conv_proj(x)
        x = x.reshape(n, self.hidden_dim, n_h * n_w)
        return x.permute(0, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._process_input(x)
        n = x.shape[0]
        batch_class_token = self.class_token.expand(n, -1, -1)
        x = torch.cat([batch_class_token, x], dim=1)
        x = self.encoder(x)
        x = x[:, 0]
        return self.heads(x)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Not torchvision's: the encoder's input after the position embedding is added (the
        first lines of forward and of Encoder.forward)."""
        x = self._process_input(x)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x + self.encoder.pos_embedding


def vit_b_16(image_size: int = 224, num_classes: int = 1000) -> VisionTransformer:
    """torchvision's vit_b_16 (image_size may be another multiple of 16, as its weights
    interpolated to it would be)."""
    return VisionTransformer(image_size, 16, num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072, num_classes=num_classes)


def perturb(model: nn.Module, seed: int = 0) -> nn.Module:
    """Every parameter that torchvision starts at zeros or ones (the class token, the head, the
    biases, the norms' scales) made random, so that an offset or a scale mixed up shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name == "class_token" or name.endswith("bias") or name.startswith("heads."):
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.1)
            elif name.endswith("weight") and name.split(".")[-2].startswith("ln"):
                parameter.copy_(1 + torch.randn(parameter.shape, generator=generator) * 0.1)
    return model


_LAYER = re.compile(r"^encoder\.layers\.encoder_layer_(\d+)\.")


def from_torchvision(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A torchvision ViT's state_dict as examples/vit_b16.dlg's (and as graphdl's selfAttention
    holds one nn.MultiheadAttention's): encoder.layers.encoder_layer_<i>. becomes
    encoder.layers.<i>., MultiheadAttention's packed in_proj is split into query, key and value and
    its out_proj is output, the class token and position embedding lose their batch dimension of 1.
    Keys of other prefixes (one EncoderBlock's, `layer.ln_1.weight`) map the same way."""
    out = {}
    for key, value in state.items():
        key = _LAYER.sub(r"encoder.layers.\1.", key)
        if key.endswith(("self_attention.in_proj_weight", "self_attention.in_proj_bias")):
            prefix, kind = key.rsplit(".in_proj_", 1)
            for projection, part in zip(("query", "key", "value"), value.chunk(3)):
                out[f"{prefix}.{projection}.{kind}"] = part
        elif ".out_proj." in key:
            out[key.replace(".out_proj.", ".output.")] = value
        elif key == "class_token":
            out["class_token.weight"] = value.reshape(-1)
        elif key == "encoder.pos_embedding":
            out["encoder.pos_embedding.weight"] = value[0]
        else:
            out[key] = value
    return out
