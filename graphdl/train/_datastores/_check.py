"""Held-out splits by label (MATLAB's splitEachLabel), and the check of a datastore against a
network before training, which reports every observation that does not fit."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from graphdl.diagnostics import GraphdlError, error, reason
from graphdl.train._datastores._images import ImageDatastore


def split_each_label(ds: Dataset, fraction, *, randomized: bool = True, seed: int | None = None):
    """MATLAB's `splitEachLabel(imds, p)`: two datastores, the first with `fraction` of each label's
    observations (rounded to the nearest whole number; an integer `fraction` >= 1 is a count per
    label, all of a label that has fewer), the second with the rest. Both keep the order of `ds`.

    `randomized` picks each label's share at random (MATLAB's "randomized"), from `seed` when given,
    else from torch's global generator; otherwise each label's first observations are taken.
    """
    labels = getattr(ds, "labels", None)
    if labels is None:
        raise error("E802", "split_each_label needs a datastore with labels (classes), such as image_datastore's")
    is_count = isinstance(fraction, (int, np.integer)) and not isinstance(fraction, bool)
    valid = fraction >= 1 if is_count else isinstance(fraction, float) and 0 < fraction < 1
    if not valid:
        raise error("E802", f"split_each_label: fraction must be a fraction in (0, 1) or a count of at least 1, not {fraction!r}")
    labels = np.asarray(labels)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    first = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        take = min(int(fraction), len(members)) if is_count else round(fraction * len(members))
        if randomized:
            members = members[torch.randperm(len(members), generator=generator).numpy()]
        first.extend(members[:take].tolist())
    chosen = np.zeros(len(labels), dtype=bool)
    chosen[first] = True
    a, b = np.flatnonzero(chosen), np.flatnonzero(~chosen)
    if hasattr(ds, "subset"):
        return ds.subset(a), ds.subset(b)
    return Subset(ds, a.tolist()), Subset(ds, b.tolist())


def _size(tensor: torch.Tensor) -> str:
    """A run-time observation's size (channels, *spatial) as MATLAB writes it: spatial, then channels."""
    size = tuple(tensor.shape)
    return "x".join(str(s) for s in (*size[1:], size[0])) if size else "a scalar"


def check_datastore(ds: Dataset, net, *, max_notes: int = 10) -> None:
    """Read every observation of `ds` and raise E801 listing those that do not fit `net` (its first
    input and output): a file that cannot be read, an image of another size or channel count than
    the input layer takes, a label outside the output's classes, a response of another size than
    the output's, or a datastore of more classes than the output gives. Every problem is found
    before any is reported: the message names the first, the notes the first `max_notes`."""
    given = net.analysis[net.input_names[0]].output
    produced = net.analysis[net.output_names[0]].output
    expected = None if given.is_sequence else tuple(given.torch_size(1)[1:])
    problems = []
    classes = getattr(ds, "classes", None)
    if classes is not None and len(classes) != produced.channels:
        problems.append(f"the datastore has {len(classes)} classes, the output `{net.output_names[0]}` gives {produced.channels}")
    describe = getattr(ds, "describe", lambda i: f"observation {i}")
    for i in range(len(ds)):
        try:
            # An image datastore's own check compares channels with its first file; here the network decides.
            item = ds.read(i) if isinstance(ds, ImageDatastore) else ds[i]
            if isinstance(ds, ImageDatastore) and ds.labels is not None:
                item = (item, int(ds.labels[i]))
        except GraphdlError as e:
            problems.append(e.diagnostics[0].message)
            continue
        except Exception as e:  # a user's Dataset: say which observation failed and how
            problems.append(f"{describe(i)}: cannot be read: {reason(e)}")
            continue
        x, y = item if isinstance(item, tuple) else (item, None)
        x = torch.as_tensor(x)
        if expected is not None and tuple(x.shape) != expected:
            problems.append(f"{describe(i)} is of size {_size(x)}; the input layer `{net.input_names[0]}` takes {given}")
        if y is None:
            continue
        y = torch.as_tensor(y)
        if not y.is_floating_point():
            if y.numel() != 1 or not 0 <= int(y) < produced.channels:
                problems.append(f"{describe(i)} has label {y.tolist()}; the output `{net.output_names[0]}` "
                                f"has {produced.channels} classes (0 to {produced.channels - 1})")
        elif y.numel() != produced.numel:
            problems.append(f"{describe(i)} has a response of {y.numel()} values; the output `{net.output_names[0]}` gives {produced}")
    if problems:
        more = [f"... and {len(problems) - max_notes} more"] if len(problems) > max_notes else []
        raise error("E801", f"{len(problems)} problems with the data for `{net.graph.name}`; the first: {problems[0]}",
                    notes=(*problems[:max_notes], *more))
