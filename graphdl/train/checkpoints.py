"""Checkpoints: a network's weights and the source it was compiled from, written atomically so
that a failure while writing never leaves a broken file where the last good one was, and read
back safely (tensors only: no pickled code runs)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch


def save_checkpoint(net, path: str | Path, **metadata) -> Path:
    """Write `net`'s state and source text to `path` (a .pt file torch.load(weights_only=True)
    can read), replacing any file there only once the new one is complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "network": net.graph.name,
        "sources": {name: source.text for name, source in net.graph.sources.items()},
        "state_dict": net.state_dict(),
        **metadata,
    }
    partial = path.with_name(f".{path.name}.partial")
    try:
        torch.save(payload, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


FORMAT = "graphdl-checkpoint-1"


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu"):
    """The DLNetwork saved in a checkpoint: its source compiled again, its weights and state
    loaded. Raises ValueError for a file that is not a whole graphdl checkpoint."""
    from graphdl.compile import dlnetwork
    from graphdl.load import check_source
    from graphdl.source import Source

    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except (OSError, EOFError, RuntimeError, pickle.UnpicklingError) as e:
        raise ValueError(f"cannot read the checkpoint {path}: {e}") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a graphdl checkpoint")
    (source_path, text), *_ = payload["sources"].items()
    checked = check_source(Source(source_path, text), payload["network"])
    checked.raise_errors()
    net = dlnetwork(checked.graph).to(device)
    try:
        net.load_state_dict(payload["state_dict"])
    except RuntimeError as e:
        raise ValueError(f"the weights in {path} do not fit network `{payload['network']}`: {e}") from e
    return net
