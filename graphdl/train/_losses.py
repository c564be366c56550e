"""Losses, as MATLAB defines them, on PyTorch's (batch, channels, ...) layout."""

from __future__ import annotations

import torch

from graphdl.diagnostics import error

# Probabilities are clamped before the log so that a confident wrong answer costs a large but
# finite loss, as MATLAB's crossentropy does.
_EPSILON = 1e-8


def crossentropy(Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of predicted probabilities `Y` (a softmax output, batch first, classes on
    dimension 1) against targets `T`: class indices (batch,...) or probabilities/one-hot of Y's
    size. Averaged over the observations (and over pixels, for per-pixel classification)."""
    log_y = torch.log(Y.clamp_min(_EPSILON))
    if T.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
        return torch.nn.functional.nll_loss(log_y, T.long())
    if T.shape != Y.shape:
        raise error("E801", f"crossentropy: targets of size {tuple(T.shape)} do not match predictions of size {tuple(Y.shape)}")
    return -(T * log_y).sum(1).mean()


def mse(Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """MATLAB's mse: half the squared error, summed over each observation, averaged over the
    batch."""
    if T.shape != Y.shape:
        raise error("E801", f"mse: targets of size {tuple(T.shape)} do not match predictions of size {tuple(Y.shape)}")
    return 0.5 * (Y - T).pow(2).sum() / Y.shape[0]


LOSSES = {"crossentropy": crossentropy, "mse": mse}
