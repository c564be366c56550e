"""Metrics beyond the loss (MATLAB's Metrics training option): each is a function of one output's
predictions and targets giving a scalar tensor, so that a training step records it without
reading anything back from the device.

By name: "accuracy" (percent), "topK-accuracy" such as "top5-accuracy" (percent: the target is
among the K highest scores), "fscore" (the F1 score, macro-averaged over the classes that occur
in the targets or the predictions; a micro average of single-label classification would be the
accuracy again), which apply to outputs trained on class indices; and "rmse" (the root of the
mean squared error over every element), which applies to the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch

CLASSIFICATION_METRICS = ("accuracy", "topK-accuracy", "fscore")
REGRESSION_METRICS = ("rmse",)
_TOP_K = re.compile(r"top-?(\d+)[- ]accuracy")


def accuracy(Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    return (Y.argmax(1) == T).float().mean() * 100


def top_k_accuracy(k: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    def metric(Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
        hits = (Y.topk(min(k, Y.shape[1]), dim=1).indices == T.unsqueeze(1)).any(1)
        return hits.float().mean() * 100

    return metric


def fscore(Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    classes = Y.shape[1]
    predicted, actual = Y.argmax(1).flatten(), T.flatten().long()
    # scatter_add rather than bincount or boolean indexing: both of those size their result on the
    # host, which would read the data back every iteration.
    zeros = torch.zeros(classes, device=Y.device)
    hits = zeros.scatter_add(0, actual, (predicted == actual).float())
    ones = torch.ones(actual.shape, device=Y.device)
    counted = zeros.scatter_add(0, predicted, ones) + zeros.scatter_add(0, actual, ones)
    present = counted > 0
    per_class = torch.where(present, 2 * hits / counted.clamp(min=1), zeros)
    return per_class.sum() / present.sum().clamp(min=1)


def rmse(Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    return (Y - T.to(Y.dtype)).square().mean().sqrt()


def named_metric(name: str) -> tuple[Callable, bool] | None:
    """The function a metric's name stands for and whether it is a classification metric; None
    for a name that is not one."""
    if name == "accuracy":
        return accuracy, True
    if name == "fscore":
        return fscore, True
    if name == "rmse":
        return rmse, False
    match = _TOP_K.fullmatch(name)
    if match and int(match.group(1)) >= 1:
        return top_k_accuracy(int(match.group(1))), True
    return None
