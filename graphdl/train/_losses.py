"""Losses, as MATLAB defines them, on PyTorch's (batch, channels, ...) layout."""

from __future__ import annotations

import torch

from graphdl.diagnostics import error

# Probabilities are clamped before the log so that a confident wrong answer costs a large but
# finite loss, as MATLAB's crossentropy does.
_EPSILON = 1e-8

_INTEGERS = (torch.int64, torch.int32, torch.int16, torch.uint8)
CLASSIFICATION_MODES = ("single-label", "multilabel")


def crossentropy(Y: torch.Tensor, T: torch.Tensor, *, classification_mode: str = "single-label") -> torch.Tensor:
    """Cross-entropy of predicted probabilities `Y` (batch first, classes on dimension 1) against
    targets `T`, MATLAB's `crossentropy(Y, T, ClassificationMode=...)`:

    - "single-label" (the default): `Y` a softmax output, one class per observation; `T` class
      indices (batch, ...) or probabilities / one-hot of Y's size. The loss is `-sum(T .* log(Y))`
      over the classes.
    - "multilabel": `Y` independent probabilities (a sigmoid output), each class present or not;
      `T` 0/1 (or probabilities) of Y's size. The loss is
      `-sum(T .* log(Y) + (1 - T) .* log(1 - Y))` over the classes; one channel is binary
      cross-entropy (`binary_crossentropy`).

    Either way it is averaged over the observations, MATLAB's NormalizationFactor "batch-size"
    (and over pixels, for per-pixel classification). A single-label cross-entropy of one channel
    is refused (E803): its `-T .* log(Y)` alone would silently ignore every negative example."""
    if classification_mode not in CLASSIFICATION_MODES:
        raise error("E803", f'crossentropy: classification_mode must be "single-label" or "multilabel", not {classification_mode!r}')
    if Y.dim() < 2:
        raise error("E801", f"crossentropy: predictions have size {tuple(Y.shape)}: they are (batch, classes, ...), batch first")
    if classification_mode == "multilabel":
        return _multilabel(Y, T, "crossentropy")
    if Y.shape[1] == 1:
        raise error(
            "E803",
            "crossentropy: a single-label cross-entropy of one channel is -T*log(Y), which ignores the observations of "
            "target 0: for one sigmoid output use binary_crossentropy(Y, T) "
            '(crossentropy(Y, T, classification_mode="multilabel")), or give softmax two channels',
        )
    log_y = torch.log(Y.clamp_min(_EPSILON))
    if T.dtype in _INTEGERS:
        return torch.nn.functional.nll_loss(log_y, T.long())
    if T.shape != Y.shape:
        raise error("E801", f"crossentropy: targets of size {tuple(T.shape)} do not match predictions of size {tuple(Y.shape)}")
    return -(T * log_y).sum(1).mean()


def binary_crossentropy(Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy, `-(T .* log(Y) + (1 - T) .* log(1 - Y))`, of probabilities `Y` (a
    sigmoid output, batch first) against targets of 0 and 1 (or probabilities), summed over the
    channels and averaged over the observations: MATLAB's "binary-crossentropy" loss, which is
    `crossentropy(Y, T, classification_mode="multilabel")`. Targets may be of Y's size or, for
    one channel, one per observation."""
    if Y.dim() < 2:
        raise error("E801", f"binary_crossentropy: predictions have size {tuple(Y.shape)}: they are (batch, channels, ...), batch first")
    if Y.shape[1] == 1 and T.shape == Y.shape[:1] + Y.shape[2:]:
        T = T.unsqueeze(1)  # one target per observation, for one channel
    return _multilabel(Y, T, "binary_crossentropy")


def _multilabel(Y: torch.Tensor, T: torch.Tensor, name: str) -> torch.Tensor:
    if T.shape != Y.shape:
        raise error("E801", f"{name}: targets of size {tuple(T.shape)} do not match predictions of size {tuple(Y.shape)}")
    T = T.to(Y.dtype)
    # Both logs clamped, as the single-label one is: a confident wrong answer costs a finite loss.
    log_y, log_not_y = torch.log(Y.clamp_min(_EPSILON)), torch.log((1 - Y).clamp_min(_EPSILON))
    return -(T * log_y + (1 - T) * log_not_y).sum(1).mean()


def mse(Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """MATLAB's mse: half the squared error, summed over each observation, averaged over the
    batch."""
    if T.shape != Y.shape:
        raise error("E801", f"mse: targets of size {tuple(T.shape)} do not match predictions of size {tuple(Y.shape)}")
    return 0.5 * (Y - T).pow(2).sum() / Y.shape[0]


# trainnet's loss names, MATLAB's ("binary-crossentropy" is trainnet's name for it).
LOSSES = {"crossentropy": crossentropy, "binary-crossentropy": binary_crossentropy, "mse": mse}
