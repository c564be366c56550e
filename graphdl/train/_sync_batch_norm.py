"""Batch normalisation over the whole mini-batch of a distributed run, on the CPU as on GPUs.

With several processes each normalises its own share of the mini-batch unless the statistics are
synchronised. torch's `nn.SyncBatchNorm` does that between GPUs but refuses CPU tensors, so
`GlooSyncBatchNorm` does it with plain collectives (gloo on the CPU), and `synchronize_batch_norm`
puts one or the other in place of a network's batch normalisations for the length of a training.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

# What a batch normalisation holds, shared between a module and its synchronised stand-in.
_STATE = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


class _AllReduceSum(torch.autograd.Function):
    """The sum of a tensor over the processes of a group, differentiable: each process's input
    gets the sum over the processes of the gradients of the output.

    torch.distributed.nn.functional.all_reduce is the same, but from torch 2.13 warns at every call
    that it is deprecated, and the replacement it names (torch.distributed._functional_collectives)
    is private and differentiable only in recent versions."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, group) -> torch.Tensor:
        ctx.group = group
        total = tensor.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(total, group=group)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return _AllReduceSum.apply(grad, ctx.group), None


class GlooSyncBatchNorm(_BatchNorm):
    """Batch normalisation of a tensor of any rank (batch, channels, ...) whose training-mode
    statistics are those of the mini-batch of all the processes of `process_group` (None: all the
    processes), computed with collectives that work on any device and backend, gloo on the CPU
    included. Autograd differentiates through the collectives, so the gradients are those of batch
    normalisation over the whole mini-batch: each process's input gets d(sum of every process's
    loss)/d(input), as with nn.SyncBatchNorm. In eval mode, in a single process, or without a
    process group, it is torch's batch normalisation."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group=None,
        device=None,
        dtype=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype)
        self.process_group = process_group

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected a tensor of at least 2 dimensions (batch, channels, ...), got {input.dim()}")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size(self.process_group) > 1):
            return super().forward(input)
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"expected {self.num_features} channels, got input of size {tuple(input.shape)}")
        shape = (1, -1) + (1,) * (input.dim() - 2)
        dims = [0, *range(2, input.dim())]
        # Statistics in float32 at least, as torch's kernels accumulate half-precision inputs.
        x = input.to(torch.promote_types(input.dtype, torch.float32))
        # Two collectives: the mean first, then the squared deviations from it, which a sum of
        # squares minus the squared mean would lose to cancellation. The count goes with the sums
        # because a process's share may differ (the last mini-batch of an epoch), or be empty.
        local_count = x.new_full((1,), input.shape[0] * math.prod(input.shape[2:]))
        totals = _AllReduceSum.apply(torch.cat([x.sum(dims), local_count]), self.process_group)
        count = int(totals[-1].item())
        if count < 2:
            raise ValueError(f"expected more than 1 value per channel when training, got {count} in the processes' mini-batch")
        mean = totals[:-1] / count
        centred = x - mean.view(shape)
        var = _AllReduceSum.apply(centred.square().sum(dims), self.process_group) / count

        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
            with torch.no_grad():
                # torch's update, unbiased variance and all.
                self.running_mean.copy_(factor * mean + (1 - factor) * self.running_mean)
                self.running_var.copy_(factor * var * (count / (count - 1)) + (1 - factor) * self.running_var)

        scale = torch.rsqrt(var + self.eps)
        if self.weight is not None:
            scale = scale * self.weight
        output = centred * scale.view(shape)
        if self.bias is not None:
            output = output + self.bias.view(shape)
        return output.to(input.dtype)


def synchronize_batch_norm(net: nn.Module, process_group=None) -> Callable[[], None]:
    """Put a synchronised batch normalisation in place of each one below `net` (every
    torch.nn.modules.batchnorm._BatchNorm held by a module of the tree): torch's nn.SyncBatchNorm
    where its learnables and statistics are on a GPU, GlooSyncBatchNorm elsewhere. Each stand-in
    shares the Parameter and buffer objects of the module it stands for, so training it trains the
    network. Returns the function that puts the original modules back, with what their stand-ins
    hold then (a network moved meanwhile has new buffer objects) and their training mode."""
    if isinstance(net, _BatchNorm):
        raise TypeError("synchronize_batch_norm: replaces the batch normalisations inside a network, not the network itself")
    # Every place, not only every module: the same module may be held under several names.
    places = [
        (parent, name, child)
        for parent in net.modules()
        for name, child in list(parent._modules.items())
        if isinstance(child, _BatchNorm) and not isinstance(child, (nn.SyncBatchNorm, GlooSyncBatchNorm))
    ]
    stand_ins: dict[int, _BatchNorm] = {}
    for parent, name, child in places:
        if id(child) not in stand_ins:
            stand_ins[id(child)] = _synchronized(child, process_group)
        setattr(parent, name, stand_ins[id(child)])

    def restore() -> None:
        for parent, name, child in places:
            stand_in = stand_ins[id(child)]
            _share(stand_in, child)
            child.train(stand_in.training)
            setattr(parent, name, child)

    return restore


def _synchronized(module: _BatchNorm, process_group) -> _BatchNorm:
    """The synchronised batch normalisation that stands for `module`, sharing its state."""
    cuda = any(t is not None and t.is_cuda for t in (getattr(module, name) for name in _STATE))
    kind = nn.SyncBatchNorm if cuda else GlooSyncBatchNorm
    # On the meta device: every tensor it would allocate is replaced by the module's own.
    stand_in = kind(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats, process_group=process_group, device="meta")
    _share(module, stand_in)
    stand_in.train(module.training)
    return stand_in


def _share(source: _BatchNorm, target: _BatchNorm) -> None:
    for name in _STATE:
        setattr(target, name, getattr(source, name))
