"""Torch modules of the Swin Transformer's layers (torchvision.models.swin_transformer, V1),
on images as graphdl has them, (batch, channels, height, width): each moves the channels last,
computes exactly what torchvision's module computes on (batch, height, width, channels), and
moves them back. Parameters keep torchvision's names, so its state_dict entries load one for one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def relative_position_index(window: tuple[int, int]) -> torch.Tensor:
    """For each pair of positions in a window, the row of the relative position bias table that
    holds the bias of their offset: torchvision's define_relative_position_index."""
    coords = torch.stack(torch.meshgrid(torch.arange(window[0]), torch.arange(window[1]), indexing="ij"))
    flat = torch.flatten(coords, 1)
    relative = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
    relative[:, :, 0] += window[0] - 1
    relative[:, :, 1] += window[1] - 1
    relative[:, :, 0] *= 2 * window[1] - 1
    return relative.sum(-1).flatten()


def shift_mask(padded: tuple[int, int], window: tuple[int, int], shift: tuple[int, int]) -> torch.Tensor:
    """The additive attention mask of the shifted windows, (windows, tokens, tokens): -100 between
    tokens that the cyclic shift brought together from different regions, else 0."""
    mask = torch.zeros(padded)
    h_slices = ((0, -window[0]), (-window[0], -shift[0]), (-shift[0], None))
    w_slices = ((0, -window[1]), (-window[1], -shift[1]), (-shift[1], None))
    count = 0
    for h in h_slices:
        for w in w_slices:
            mask[h[0] : h[1], w[0] : w[1]] = count
            count += 1
    windows = (padded[0] // window[0]) * (padded[1] // window[1])
    mask = mask.view(padded[0] // window[0], window[0], padded[1] // window[1], window[1])
    mask = mask.permute(0, 2, 1, 3).reshape(windows, window[0] * window[1])
    mask = mask.unsqueeze(1) - mask.unsqueeze(2)
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


class ShiftedWindowAttention(nn.Module):
    """torchvision's ShiftedWindowAttention for an image of a known size: multi-head
    self-attention within windows of `window` pixels (after padding to whole windows), shifted
    cyclically by `shift`, with a learnt bias per head for each relative position. The shift is
    0 along a dimension that one window covers, as torchvision makes it; the shift's mask and
    the table's index (torchvision's buffer relative_position_index) are constants of the window
    and the image's size, outside the state_dict."""

    def __init__(self, channels: int, heads: int, window: tuple[int, int], shift: tuple[int, int], size: tuple[int, int]):
        super().__init__()
        self.channels, self.heads, self.window = channels, heads, tuple(window)
        self.size = tuple(size)
        self.pad = tuple((w - n % w) % w for n, w in zip(size, window))  # bottom, right
        self.padded = tuple(n + p for n, p in zip(size, self.pad))
        self.shift = tuple(0 if w >= n else s for s, w, n in zip(shift, window, self.padded))
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window[0] - 1) * (2 * window[1] - 1), heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self._constants()

    def _constants(self) -> None:
        """The table's index and the shift's mask, on the table's device: constants of the
        window and the image's size, so neither learnables nor state (not buffers, which a
        network's state table lists), made again wherever the module moves."""
        table = self.relative_position_bias_table
        self.relative_position_index = relative_position_index(self.window).to(table.device)
        shifted = sum(self.shift) > 0
        self.attention_mask = shift_mask(self.padded, self.window, self.shift).to(table.device, table.dtype) if shifted else None

    def _apply(self, fn, *args, **kwargs):
        module = super()._apply(fn, *args, **kwargs)
        self._constants()
        return module

    def _follow(self, device: torch.device) -> None:
        """The constants on the input's device, where they are not: a DataParallel replica
        shares its original's (not being buffers, they are not broadcast). Under torch.fx's
        symbolic tracing the device is not known, and the constants stay where they are."""
        if isinstance(device, torch.device) and self.relative_position_index.device != device:
            self.relative_position_index = self.relative_position_index.to(device)
            if self.attention_mask is not None:
                self.attention_mask = self.attention_mask.to(device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._follow(x.device)
        x = x.permute(0, 2, 3, 1)  # (batch, height, width, channels), torchvision's layout
        batch, channels = x.shape[0], self.channels
        (wh, ww), (ph, pw) = self.window, self.padded
        tokens, windows = wh * ww, (ph // wh) * (pw // ww)
        x = F.pad(x, (0, 0, 0, self.pad[1], 0, self.pad[0]))
        if self.attention_mask is not None:
            x = torch.roll(x, shifts=(-self.shift[0], -self.shift[1]), dims=(1, 2))
        x = x.view(batch, ph // wh, wh, pw // ww, ww, channels).permute(0, 1, 3, 2, 4, 5).reshape(-1, tokens, channels)
        qkv = self.qkv(x).reshape(x.size(0), tokens, 3, self.heads, channels // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attention = (q * (channels // self.heads) ** -0.5).matmul(k.transpose(-2, -1))
        bias = self.relative_position_bias_table[self.relative_position_index].view(tokens, tokens, -1)
        attention = attention + bias.permute(2, 0, 1).unsqueeze(0)
        if self.attention_mask is not None:
            attention = attention.view(-1, windows, self.heads, tokens, tokens) + self.attention_mask.unsqueeze(1).unsqueeze(0)
            attention = attention.view(-1, self.heads, tokens, tokens)
        attention = F.softmax(attention, dim=-1)
        x = self.proj(attention.matmul(v).transpose(1, 2).reshape(x.size(0), tokens, channels))
        x = x.view(batch, ph // wh, pw // ww, wh, ww, channels).permute(0, 1, 3, 2, 4, 5).reshape(batch, ph, pw, channels)
        if self.attention_mask is not None:
            x = torch.roll(x, shifts=self.shift, dims=(1, 2))
        return x[:, : self.size[0], : self.size[1], :].permute(0, 3, 1, 2)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, heads={self.heads}, window={self.window}, shift={self.shift}"


class PatchMerging(nn.Module):
    """torchvision's PatchMerging: each 2x2 neighbourhood's channels concatenated (x0, x1, x2, x3:
    top left, bottom left, top right, bottom right; odd sizes padded at the bottom and right),
    layer-normalised and linearly reduced to twice the channels."""

    def __init__(self, channels: int, eps: float):
        super().__init__()
        self.channels, self.eps = channels, eps
        self.reduction = nn.Linear(4 * channels, 2 * channels, bias=False)
        self.norm = nn.LayerNorm(4 * channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        height, width = x.shape[-3], x.shape[-2]
        x = F.pad(x, (0, 0, 0, width % 2, 0, height % 2))
        x = torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]], -1)
        return self.reduction(self.norm(x)).permute(0, 3, 1, 2)
