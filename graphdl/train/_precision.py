"""Mixed precision: the forward pass and the loss under torch's autocast, in bfloat16 or float16,
the learnables and the solver's state staying float32.

float16's narrow range makes small gradients underflow, so its loss is scaled up before
differentiation and the gradients scaled back down before the update: `LossScaler` is the rule of
torch.amp.GradScaler (the same multi-tensor kernels), working on gradient tables, so that it
serves MATLAB's solvers and custom loops as well as torch optimizers. A step whose gradients
overflowed is skipped and the scale halved; after 2,000 good steps the scale doubles.
bfloat16 has float32's range and needs no scaling.
"""

from __future__ import annotations

import contextlib

import torch

from graphdl.compiler import Table

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device: torch.device, precision: str):
    """The context a training step's forward pass and loss run in: torch's autocast for "bf16"
    and "fp16", nothing for "fp32"."""
    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


class LossScaler:
    """Dynamic loss scaling for float16 training, as torch.amp.GradScaler does it, on gradient
    tables:

        gradients = dlgradient(scaler.scale(loss), net.learnables)
        gradients, finite = scaler.unscale(gradients)
        if finite:                       # reads one flag back from the device
            net, velocity = sgdmupdate(net, gradients, velocity, learn_rate)
        scaler.update()

    The scale and its growth count are tensors on the device; `state_dict` / `load_state_dict`
    carry them through a checkpoint."""

    def __init__(self, device: torch.device | str = "cpu", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000):
        self.scale_value = torch.full((), init_scale, dtype=torch.float32, device=device)
        self.growth_tracker = torch.zeros((), dtype=torch.int32, device=device)
        self.growth_factor, self.backoff_factor, self.growth_interval = growth_factor, backoff_factor, growth_interval
        self._found_inf = torch.zeros((), dtype=torch.float32, device=device)

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        return loss * self.scale_value.to(loss.dtype)

    def unscale(self, gradients: Table) -> tuple[Table, bool]:
        """The gradients divided by the scale (new tensors), and whether all are finite."""
        grads = [g.float().clone() for g in gradients.values]
        self._found_inf.zero_()
        torch._amp_foreach_non_finite_check_and_unscale_(grads, self._found_inf, self.scale_value.reciprocal())
        unscaled = Table((layer, parameter, g) for (layer, parameter), g in zip(gradients.keys, grads))
        return unscaled, not bool(self._found_inf.item())

    def update(self) -> None:
        """Halve the scale after an overflow, double it after `growth_interval` good steps."""
        torch._amp_update_scale_(self.scale_value, self.growth_tracker, self._found_inf, self.growth_factor, self.backoff_factor, self.growth_interval)

    def state_dict(self) -> dict:
        return {"scale": self.scale_value.cpu(), "growth_tracker": self.growth_tracker.cpu()}

    def load_state_dict(self, state: dict) -> None:
        self.scale_value.copy_(state["scale"])
        self.growth_tracker.copy_(state["growth_tracker"])
