"""Torch modules of the recurrent and word embedding layers.

A sequence of features runs as (batch, channels, time); torch's recurrent modules want (batch,
time, channels), so these transpose on the way in and out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from graphdl.catalog._torch_modules import checks_values
from graphdl.catalog._torch_modules.convolution import initialize


class _ChannelsFirst:
    """Runs a torch recurrent module on (batch, channels, time) and returns every step the same
    way, or only the last step as (batch, features)."""

    last: bool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = super().forward(x.transpose(1, 2))
        # For a bidirectional module this is MATLAB's "last" too: the last step of the
        # concatenated output, where the backward direction has seen only the last input.
        return y[:, -1] if self.last else y.transpose(1, 2)

    def extra_repr(self) -> str:
        return super().extra_repr() + (", output last step" if self.last else "")


class LSTM(_ChannelsFirst, nn.LSTM):
    def __init__(self, input_size: int, hidden_size: int, *, bidirectional: bool = False, last: bool = False):
        super().__init__(input_size, hidden_size, batch_first=True, bidirectional=bidirectional)
        self.last = last


class GRU(_ChannelsFirst, nn.GRU):
    def __init__(self, input_size: int, hidden_size: int, *, last: bool = False):
        super().__init__(input_size, hidden_size, batch_first=True)
        self.last = last


def initialize_recurrent(module: nn.RNNBase, gates: int, input_weights: str, recurrent_weights: str, bias: str) -> None:
    """MATLAB's initialisers of a recurrent layer with `gates` gates of torch's (and MATLAB's)
    order, for each direction. Torch has two biases where MATLAB has one: MATLAB's goes into
    bias_ih and bias_hh starts at zero, so that their sum, which torch adds, is MATLAB's."""
    hidden = module.hidden_size
    for suffix in ("_l0", "_l0_reverse")[: 1 + module.bidirectional]:
        initialize_weight(getattr(module, "weight_ih" + suffix), input_weights, module.input_size, gates * hidden)
        initialize_weight(getattr(module, "weight_hh" + suffix), recurrent_weights, hidden, gates * hidden)
        bias_ih, bias_hh = getattr(module, "bias_ih" + suffix), getattr(module, "bias_hh" + suffix)
        with torch.no_grad():
            bias_hh.zero_()
            if bias == "unit-forget-gate":
                bias_ih.zero_()
                bias_ih[hidden : 2 * hidden] = 1.0  # gates are input, forget, cell, output
            else:
                initialize(bias_ih, bias, module.input_size, gates * hidden)


def initialize_weight(weight: torch.Tensor, method: str, fan_in: int, fan_out: int) -> None:
    """MATLAB's weight initialisers, "orthogonal" (Q of the QR decomposition of a normal matrix)
    among them."""
    if method == "orthogonal":
        nn.init.orthogonal_(weight)
    else:
        initialize(weight, method, fan_in, fan_out)


class WordEmbedding(nn.Module):
    """MATLAB's word embedding: word indices counted from 1, as MATLAB counts, to rows 0 ... of
    `weight`. The last row is the out-of-vocabulary vector: indices outside 1..num_words and NaN
    (an unknown word) map to it, or are an error with `oov="error"`. A value that is not a whole
    number is no word index at all, and always an error."""

    def __init__(self, num_words: int, dimension: int, oov: str = "map-to-last"):
        super().__init__()
        self.num_words = num_words
        self.dimension = dimension
        self.oov = oov
        self.weight = nn.Parameter(torch.empty(num_words + 1, dimension))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        words = x[:, 0]  # (batch, time): the one channel holds the indices
        if words.is_floating_point():
            fractional = words != torch.floor(words)  # NaN too, which is not fractional
            if checks_values() and bool((fractional & ~words.isnan()).any()):
                bad = words[fractional & ~words.isnan()][0].item()
                raise ValueError(f"wordEmbedding takes word indices, whole numbers from 1 to {self.num_words}, but gets {bad:g}")
            words = torch.nan_to_num(words, nan=0.0)  # NaN is an unknown word, as 0 is
        known = (words >= 1) & (words <= self.num_words)
        if self.oov == "error" and checks_values() and not bool(known.all()):
            bad = x[:, 0][~known][0].item()
            raise ValueError(f"wordEmbedding with OOVMode \"error\" gets {bad:g}, not a word index from 1 to {self.num_words}")
        index = torch.where(known, words, torch.zeros_like(words)).long() - 1
        index = torch.where(known, index, torch.full_like(index, self.num_words))
        return F.embedding(index, self.weight).transpose(1, 2)

    def extra_repr(self) -> str:
        return f"{self.num_words} words (+1 out-of-vocabulary), dimension {self.weight.shape[1]}, {self.oov}"
