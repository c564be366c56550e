"""Observations held in arrays or array files: MATLAB's arrayDatastore, and the files arrays come in
(NumPy's .npy and .npz, MNIST's IDX, a CSV table of features and responses)."""

from __future__ import annotations

import csv
import errno
import gzip
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from graphdl.diagnostics import error, reason

# IDX's type codes (the third byte of the magic number); the data are big-endian.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class ArrayDatastore(Dataset):
    """Observations batch first, in the network's run-time layout (images (N, channels, height,
    width), features (N, channels)), with responses: item i is (observation, response), or the
    observation alone without responses. Class labels are int64 indices into `classes` (also
    `labels`); other responses are float32."""

    def __init__(self, observations: torch.Tensor, responses: torch.Tensor | None, classes: tuple[str, ...] | None, source: str = "array"):
        if responses is not None and len(responses) != len(observations):
            raise error("E801", f"{source}: {len(observations)} observations but {len(responses)} responses")
        self.observations = observations
        self.responses = responses
        self.classes = classes
        self.source = source

    @property
    def labels(self) -> np.ndarray | None:
        """Class indices, for responses that are classes."""
        return None if self.classes is None else self.responses.numpy()

    def __len__(self) -> int:
        return len(self.observations)

    def describe(self, index: int) -> str:
        return f"observation {index} of {self.source}"

    def __getitem__(self, index: int):
        x = self.observations[index]
        if self.responses is None:
            return x
        y = self.responses[index]
        return (x, int(y)) if self.classes is not None else (x, y)

    def subset(self, indices) -> ArrayDatastore:
        index = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        responses = None if self.responses is None else self.responses[index]
        return ArrayDatastore(self.observations[index], responses, self.classes, self.source)

    def __repr__(self) -> str:
        kind = "no responses" if self.responses is None else "responses" if self.classes is None else f"{len(self.classes)} classes"
        return f"<ArrayDatastore: {len(self)} observations of size {tuple(self.observations.shape[1:])}, {kind}>"


def array_datastore(data, responses=None, *, classes=None, categorical: bool | None = None) -> ArrayDatastore:
    """Observations and responses from arrays or files (MATLAB's arrayDatastore, and readtable for CSV).

    `data` is an array, or a file:
    - `.npy`: the observations; `responses` an array or another `.npy`/IDX file.
    - `.npz`: two arrays, observations then responses, in the order they were saved; or with
      several, `responses` names the responses' key and the observations are the other one.
    - IDX (MNIST's `train-images-idx3-ubyte`, `.gz` too): images (N, height, width) get one channel;
      `responses` an IDX file of labels (or an array).
    - `.csv`: a table with a header row; `responses` names the response column (or a list of
      them), by default the last one; the other columns are the features (N, channels).

    Arrays are taken in the run-time layout, batch first, as `trainnet` takes them; uint8
    observations are pixels, read as float32 in [0, 1] as image files are. Integer or text
    responses are classes (text sorted, as MATLAB's categorical; integers index `classes`, by
    default "0" to the largest); floating ones are regression targets unless `categorical=True`.
    """
    source = "array"
    if isinstance(data, (str, Path)):
        path = Path(data)
        source = str(path)
        kind = _kind(path)
        if kind == "csv":
            return _csv(path, responses, classes, categorical)
        if kind == "npz":
            data, responses = _npz(path, responses)
        else:
            data = np.load(path, allow_pickle=False) if kind == "npy" else read_idx(path)
            if kind == "idx" and data.ndim == 3:  # IDX images have no channel axis
                data = data[:, None]
    if isinstance(responses, (str, Path)):
        path = Path(responses)
        responses = np.load(path, allow_pickle=False) if _kind(path) == "npy" else read_idx(path)
    observations = _observations(data, source)
    if responses is None:
        return ArrayDatastore(observations, None, None, source)
    targets, classes = _responses(np.asarray(responses), classes, categorical, source)
    return ArrayDatastore(observations, targets, classes, source)


def _kind(path: Path) -> str:
    if not path.is_file():  # a missing path is a file that cannot be read, not one of the wrong kind
        code = errno.EISDIR if path.is_dir() else errno.ENOENT
        cause = OSError(code, os.strerror(code), str(path))
        raise error("E001", f"cannot read {path}: {'it is a folder, not a file' if path.is_dir() else 'no such file'}", os_error=cause)
    name = path.name.lower()
    if name.endswith((".npy", ".npz", ".csv")):
        return name[-3:]
    if "idx" in name:  # train-images-idx3-ubyte, t10k-labels.idx1-ubyte.gz, data.idx
        return "idx"
    raise error("E802", f"{path}: not a file array_datastore reads (.npy, .npz, .csv, IDX as *-idx3-ubyte or .idx, optionally .gz)")


def read_idx(path) -> np.ndarray:
    """An IDX file (MNIST's format, gzipped or not) as a NumPy array in native byte order."""
    path = Path(path)
    try:
        with (gzip.open if path.suffix.lower() == ".gz" else open)(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError as e:
        raise error("E001", f"cannot read {path}: {e.strerror}", os_error=e) from e
    except (OSError, EOFError) as e:  # gzip's errors for a damaged file
        raise error("E801", f"{path}: not an IDX file: {reason(e)}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise error("E801", f"{path}: not an IDX file (its magic number is {raw[:4].hex() or 'missing'})")
    rank = raw[3]
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=rank, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    count = int(np.prod(shape))
    if len(raw) != 4 + 4 * rank + count * dtype.itemsize:
        raise error("E801", f"{path}: an IDX file of size {shape} should hold {count} values of {dtype.itemsize} bytes; its length differs")
    return np.frombuffer(raw, dtype, offset=4 + 4 * rank).reshape(shape).astype(dtype.newbyteorder("="))


def _npz(path: Path, responses):
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.keys())
        if responses is None and len(keys) == 2:
            return archive[keys[0]], archive[keys[1]]
        if isinstance(responses, str) and responses in keys and len(keys) == 2:
            return archive[keys[0] if keys[1] == responses else keys[1]], archive[responses]
        if len(keys) == 1 and responses is None:
            return archive[keys[0]], None
    raise error("E802", f"{path} holds the arrays {keys}: give responses= the key of the responses, with one other array for the observations")


def _observations(data, source: str) -> torch.Tensor:
    array = data.numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
    if array.ndim < 2:
        raise error("E801", f"{source}: observations of size {array.shape}: they are batch first, (N, channels, ...)")
    if array.dtype == np.uint8:
        return torch.from_numpy(array.astype(np.float32) / 255.0)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise error("E801", f"{source}: observations of type {array.dtype} are not numbers")
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def _responses(array: np.ndarray, classes, categorical: bool | None, source: str):
    if array.dtype.kind in "US" or (categorical and array.dtype.kind in "iuf"):
        if array.ndim != 1:
            raise error("E801", f"{source}: class labels must be one per observation, not of size {array.shape}")
        found = np.unique(array)  # sorted: MATLAB's categorical order
        names = tuple(str(v.item()) if isinstance(v, np.generic) else str(v) for v in found)
        if classes is not None:
            names = tuple(str(c) for c in classes)
            missing = sorted({str(v.item()) for v in found} - set(names))
            if missing:
                raise error("E801", f"{source}: labels {missing} are not among the classes {list(names)}")
        index = {name: i for i, name in enumerate(names)}
        return torch.tensor([index[str(v.item())] for v in array], dtype=torch.int64), names
    if array.dtype.kind in "iu" and categorical is not False:
        if array.ndim != 1:
            raise error("E801", f"{source}: class labels must be one per observation, not of size {array.shape}")
        labels = torch.from_numpy(array.astype(np.int64))
        if len(labels) and labels.min() < 0:
            raise error("E801", f"{source}: class label {int(labels.min())} is negative: labels index the classes")
        names = tuple(str(c) for c in classes) if classes is not None else tuple(str(i) for i in range(int(labels.max()) + 1 if len(labels) else 0))
        if len(labels) and labels.max() >= len(names):
            raise error("E801", f"{source}: class label {int(labels.max())} is past the {len(names)} classes")
        return labels, names
    if array.dtype.kind not in "iuf":
        raise error("E801", f"{source}: responses of type {array.dtype} are neither numbers nor class names")
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)), None


def _csv(path: Path, responses, classes, categorical):
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise error("E001", f"cannot read {path}: {e.strerror or reason(e)}", os_error=e) from e
    if len(rows) < 2:
        raise error("E801", f"{path}: a CSV table needs a header row and at least one row of data")
    header, body = rows[0], rows[1:]
    wanted = [header[-1]] if responses is None else [responses] if isinstance(responses, str) else list(responses)
    unknown = [name for name in wanted if name not in header]
    if unknown:
        raise error("E802", f"{path}: no column {unknown[0]!r}; the columns are {header}")
    targets = [header.index(name) for name in wanted]
    features = [i for i in range(len(header)) if i not in targets]
    for line, row in enumerate(body, 2):
        if len(row) != len(header):
            raise error("E801", f"{path}:{line}: {len(row)} values for {len(header)} columns")
    try:
        x = np.array([[float(row[i]) for i in features] for row in body], dtype=np.float32)
    except ValueError as e:
        raise error("E801", f"{path}: a feature is not a number: {reason(e)}") from None
    y = np.array([[row[i] for i in targets] for row in body])
    if len(targets) == 1:
        y = y[:, 0]
    # Numbers written as integers are classes, as integer arrays are; "2.0" is a number to regress.
    # Several response columns are a regression target (a vector per observation).
    for kind in (int, float) if len(targets) == 1 else (float,):
        try:
            y = np.vectorize(kind, otypes=[np.int64 if kind is int else np.float64])(y)
            break
        except ValueError:
            continue  # text: class names
    labels, names = _responses(y, classes, categorical, str(path))
    return ArrayDatastore(torch.from_numpy(x), labels, names, str(path))
