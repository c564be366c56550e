"""Checkpoints: a network's weights and the source it was compiled from, written atomically so
that a failure while writing never leaves a broken file where the last good one was."""

from __future__ import annotations

import os
from pathlib import Path

import torch


def save_checkpoint(net, path: str | Path, **metadata) -> Path:
    """Write `net`'s state and source text to `path` (a .pt file torch.load(weights_only=True)
    can read), replacing any file there only once the new one is complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": "graphdl-checkpoint-1",
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
