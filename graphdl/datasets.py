"""Synthetic handwritten-style digits, in the spirit of MATLAB's digit data.

MATLAB's deep-learning examples train on `digitTrain4DArrayData` / `digitTest4DArrayData`:
5000 + 5000 grey 28x28 images of the digits 0-9, each rotated by a known angle. graphdl mirrors
that workflow, but its examples, tests and benchmarks must run offline and the repository carries
no data files, so this module draws comparable images from nothing: every digit is written with pen
strokes (splines through a handful of knots, like handwriting) in an individual style (knot jitter,
slant, size, aspect, stroke width, ink), rotated by a random angle in [-45, 45] degrees, shifted by
a pixel or two, rasterised with anti-aliasing and given mild sensor noise.

The result is deterministic: the same arguments give bit-identical arrays. Randomness comes only
from a `numpy.random.Generator` seeded by (split, seed), and the geometry uses only correctly
rounded elementwise arithmetic (no BLAS, no library sin/cos, no reordered sums), so the pixels do
not depend on the CPU.

numpy only: the front end must stay importable without torch.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from graphdl.diagnostics import error

# Numbers that tune the difficulty. Lengths are in pixels unless they say "unit": the glyphs below
# are drawn in a unit box, x to the right and y upwards, with the digit about 1 tall.
_SIDE = 28
_CLASSES = tuple(str(d) for d in range(10))
_SPLITS = {"train": 0, "test": 1}
_MAX_ANGLE = 45.0
_KNOT_JITTER = (0.01, 0.035)  # unit; per image, then drawn per knot: the writer's hand
_SLANT = (-0.1, 0.3)  # shear of x by y; most people lean right
_HEIGHT = (16.0, 21.0)
_ASPECT = (0.75, 1.25)  # width / height, relative to the glyph as drawn
_STROKE_WIDTH = (1.6, 3.4)
_INK = (0.7, 1.0)  # peak intensity of the stroke
_MAX_SHIFT = 1.75  # pixels, along each axis
_NOISE = (0.01, 0.06)  # standard deviation of the additive Gaussian noise
_SPLINE_STEP = 0.1  # unit; about 2 pixels, short enough that chords follow the curves
_RENDER_CHUNK = 32  # images per rasterisation batch: keeps the temporaries in cache


@dataclass(frozen=True, eq=False)  # eq=False: comparing arrays with == has no single truth value
class Digits:
    """Images of digits with their labels and rotation angles.

    `images` is float32 (N, 1, 28, 28), PyTorch's batch-channel-height-width layout, values in
    [0, 1], bright strokes on a dark background. `labels` is int64 (N,), indices into `classes`.
    `angles` is float32 (N,), the rotation in degrees applied to each digit, positive
    counter-clockwise.
    """

    images: np.ndarray
    labels: np.ndarray
    angles: np.ndarray
    classes: tuple[str, ...] = _CLASSES

    def __len__(self) -> int:
        return len(self.labels)


def digits(split: str = "train", size: int = 5000, *, seed: int = 0) -> Digits:
    """Generate `size` digit images for `split` ("train" or "test").

    The classes are balanced (`size // 10` each, the remainder spread over the first classes) and
    shuffled. Train and test come from independent random streams, so the same `seed` gives
    different images for each; the same arguments always give the same arrays.
    """
    if not isinstance(split, str) or split not in _SPLITS:
        raise error("E802", f"split must be one of {sorted(_SPLITS)}, got {split!r}")
    if not _is_int(size) or size < 1:
        raise error("E802", f"size must be a positive integer, got {size!r}")
    if not _is_int(seed) or seed < 0:
        raise error("E802", f"seed must be a non-negative integer, got {seed!r}")

    # spawn_key gives each split its own stream, independent of the other for every seed.
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(_SPLITS[split],)))
    labels = _balanced_labels(int(size), rng)
    angles = rng.uniform(-_MAX_ANGLE, _MAX_ANGLE, len(labels)).astype(np.float32)
    starts, ends, counts = _write(labels, rng)
    # The rotation uses the float32 angle itself, so that `angles` is exactly what was applied.
    starts, ends, widths = _place(starts, ends, angles.astype(np.float64), rng)
    images = _rasterise(starts, ends, counts, widths, rng)
    return Digits(images[:, None], labels, angles)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _balanced_labels(size: int, rng: np.random.Generator) -> np.ndarray:
    counts = np.full(len(_CLASSES), size // len(_CLASSES))
    counts[: size % len(_CLASSES)] += 1
    return rng.permutation(np.repeat(np.arange(len(_CLASSES), dtype=np.int64), counts))


# --- Glyphs ---------------------------------------------------------------------------------------
#
# Each digit has a few ways of writing it (a 7 with or without a bar, a closed or open 4, ...).
# A way is a set of strokes; a stroke is a spline through knots, open or closed into a loop. Knots
# with the same coordinates within one way are one knot, so the jitter moves them together and
# corners stay joined. The pen draws a straight line between two knots and a smooth curve through
# three or more.


@dataclass(frozen=True)
class _Stroke:
    knots: tuple[tuple[float, float], ...]
    closed: bool = False


@dataclass(frozen=True)
class _Way:
    weight: float  # relative frequency among the ways of writing the same digit
    strokes: tuple[_Stroke, ...]


def _line(*knots: tuple[float, float]) -> _Stroke:
    return _Stroke(knots)


def _loop(*knots: tuple[float, float]) -> _Stroke:
    return _Stroke(knots, closed=True)


def _way(weight: float, *strokes: _Stroke) -> _Way:
    return _Way(weight, strokes)


_NINE_LOOP = _loop((0.5, 1.0), (0.28, 0.92), (0.23, 0.7), (0.4, 0.53), (0.66, 0.56), (0.76, 0.8))
_EIGHT_TOP = _loop((0.5, 1.0), (0.3, 0.9), (0.31, 0.64), (0.5, 0.52), (0.69, 0.64), (0.7, 0.9))
_EIGHT_BOTTOM = _loop((0.5, 0.52), (0.25, 0.38), (0.25, 0.12), (0.5, 0.0), (0.75, 0.12),
                      (0.75, 0.38))
_TWO_TOP = ((0.2, 0.72), (0.32, 0.93), (0.55, 1.0), (0.76, 0.88), (0.76, 0.62), (0.5, 0.35))

_GLYPHS: tuple[tuple[_Way, ...], ...] = (
    (  # 0: an oval, or a pen that overshoots where it started
        _way(0.7, _loop((0.5, 1.0), (0.27, 0.88), (0.2, 0.5), (0.27, 0.12), (0.5, 0.0),
                        (0.73, 0.12), (0.8, 0.5), (0.73, 0.88))),
        _way(0.3, _line((0.64, 0.96), (0.42, 0.98), (0.23, 0.75), (0.22, 0.28), (0.44, 0.0),
                        (0.72, 0.14), (0.8, 0.55), (0.68, 0.92), (0.45, 1.0))),
    ),
    (  # 1: a bare stem, with a flag, with a flag and a base
        _way(0.4, _line((0.53, 1.0), (0.47, 0.0))),
        _way(0.4, _line((0.36, 0.82), (0.53, 1.0)), _line((0.53, 1.0), (0.47, 0.0))),
        _way(0.2, _line((0.36, 0.82), (0.53, 1.0)), _line((0.53, 1.0), (0.47, 0.0)),
             _line((0.27, 0.0), (0.69, 0.0))),
    ),
    (  # 2: a sharp corner at the base, or a base that flows on from the diagonal
        _way(0.65, _line(*_TWO_TOP, (0.18, 0.02)), _line((0.18, 0.02), (0.84, 0.02))),
        _way(0.35, _line(*_TWO_TOP, (0.2, 0.05), (0.4, 0.07), (0.62, 0.02), (0.85, 0.05))),
    ),
    (  # 3: round top, or a flat top with a diagonal
        _way(0.75, _line((0.2, 0.85), (0.45, 1.0), (0.72, 0.92), (0.74, 0.7), (0.45, 0.53)),
             _line((0.45, 0.53), (0.76, 0.38), (0.78, 0.13), (0.5, 0.0), (0.2, 0.12))),
        _way(0.25, _line((0.22, 1.0), (0.76, 1.0)), _line((0.76, 1.0), (0.42, 0.58)),
             _line((0.42, 0.58), (0.7, 0.5), (0.8, 0.25), (0.6, 0.02), (0.35, 0.0),
                   (0.18, 0.12))),
    ),
    (  # 4: closed (a triangle on the stem) or open (two uprights and a bar)
        _way(0.55, _line((0.62, 1.0), (0.15, 0.32)), _line((0.15, 0.32), (0.85, 0.32)),
             _line((0.62, 1.0), (0.62, 0.0))),
        _way(0.45, _line((0.22, 1.0), (0.18, 0.38)), _line((0.18, 0.38), (0.84, 0.38)),
             _line((0.66, 0.95), (0.66, 0.0))),
    ),
    (  # 5
        _way(1.0, _line((0.82, 1.0), (0.3, 1.0)), _line((0.3, 1.0), (0.26, 0.54)),
             _line((0.26, 0.54), (0.5, 0.64), (0.74, 0.52), (0.78, 0.24), (0.55, 0.02),
                   (0.2, 0.08))),
    ),
    (  # 6
        _way(1.0, _line((0.7, 0.98), (0.45, 0.9), (0.27, 0.62), (0.22, 0.3), (0.36, 0.04),
                        (0.6, 0.02), (0.76, 0.24), (0.66, 0.46), (0.42, 0.48), (0.25, 0.3))),
    ),
    (  # 7: plain, with a bar across the stem, with a curved stem
        _way(0.55, _line((0.18, 1.0), (0.82, 1.0)), _line((0.82, 1.0), (0.4, 0.0))),
        _way(0.25, _line((0.18, 1.0), (0.82, 1.0)), _line((0.82, 1.0), (0.4, 0.0)),
             _line((0.42, 0.5), (0.8, 0.5))),
        _way(0.2, _line((0.18, 1.0), (0.82, 1.0)),
             _line((0.82, 1.0), (0.6, 0.6), (0.48, 0.25), (0.45, 0.0))),
    ),
    (  # 8: two loops stacked, or one stroke crossing itself at the waist
        _way(0.55, _EIGHT_TOP, _EIGHT_BOTTOM),
        _way(0.45, _loop((0.72, 0.86), (0.5, 1.0), (0.28, 0.86), (0.32, 0.64), (0.5, 0.52),
                         (0.72, 0.34), (0.7, 0.08), (0.5, 0.0), (0.28, 0.08), (0.28, 0.34),
                         (0.5, 0.52), (0.68, 0.66))),
    ),
    (  # 9: a straight or a hooked stem under the loop
        _way(0.6, _NINE_LOOP, _line((0.76, 0.8), (0.72, 0.0))),
        _way(0.4, _NINE_LOOP, _line((0.76, 0.8), (0.73, 0.35), (0.6, 0.04), (0.33, 0.05))),
    ),
)


@dataclass(frozen=True)
class _Plan:
    """How to turn the knots of one way of writing into line segments.

    Point i of the sampled pen path is sum_c weights[i, c] * knots[taps[i, c]] (a Catmull-Rom
    spline, which passes through its knots); segment j runs from point segments[j, 0] to point
    segments[j, 1].
    """

    knots: np.ndarray  # (K, 2) template coordinates, unit box
    taps: np.ndarray  # (P, 4) knot indices
    weights: np.ndarray  # (P, 4)
    segments: np.ndarray  # (S, 2) point indices


def _plan(way: _Way) -> _Plan:
    index: dict[tuple[float, float], int] = {}
    for stroke in way.strokes:
        for knot in stroke.knots:
            index.setdefault(knot, len(index))
    taps: list[list[int]] = []
    weights: list[list[float]] = []
    segments: list[tuple[int, int]] = []
    for stroke in way.strokes:
        ids = [index[k] for k in stroke.knots]
        first = len(taps)
        for tap, weight in _spline_samples(stroke, ids):
            taps.append(tap)
            weights.append(weight)
        points = list(range(first, len(taps)))
        if stroke.closed:
            points.append(first)
        segments.extend(itertools.pairwise(points))
    return _Plan(np.array(list(index), dtype=np.float64), np.array(taps), np.array(weights),
                 np.array(segments))


def _spline_samples(stroke: _Stroke, ids: list[int]) -> list[tuple[list[int], list[float]]]:
    """Knot taps and weights of points along a stroke, about `_SPLINE_STEP` apart."""
    n = len(ids)
    spans = n if stroke.closed else n - 1

    def at(i: int) -> int:  # open ends repeat their end knot, loops wrap around
        return ids[i % n] if stroke.closed else ids[min(max(i, 0), n - 1)]

    samples = []
    for i in range(spans):
        a = np.array(stroke.knots[i])
        b = np.array(stroke.knots[(i + 1) % n])
        # A two-knot stroke is straight: one segment renders it exactly.
        steps = 1 if n == 2 else max(2, int(np.ceil(np.hypot(*(b - a)) / _SPLINE_STEP)))
        for t in np.arange(steps) / steps:
            samples.append(([at(i - 1), at(i), at(i + 1), at(i + 2)], _catmull_rom(float(t))))
    if not stroke.closed:
        samples.append(([at(n - 2), at(n - 1), at(n), at(n + 1)], _catmull_rom(1.0)))
    return samples


def _catmull_rom(t: float) -> list[float]:
    t2, t3 = t * t, t * t * t
    return [0.5 * (-t + 2 * t2 - t3), 0.5 * (2 - 5 * t2 + 3 * t3), 0.5 * (t + 4 * t2 - 3 * t3),
            0.5 * (t3 - t2)]


# --- Writing, placing, rasterising ----------------------------------------------------------------


def _write(labels: np.ndarray,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pen paths of every image, as segment start and end points (N, S, 2) in the unit box, and
    the number of segments of each image.

    Images with fewer segments than the longest repeat their last segment, which draws nothing new.
    """
    plans = [[_plan(way) for way in ways] for ways in _GLYPHS]
    longest = max(len(p.segments) for ways in plans for p in ways)
    starts = np.empty((len(labels), longest, 2))
    ends = np.empty((len(labels), longest, 2))
    counts = np.empty(len(labels), dtype=np.int64)
    jitter = rng.uniform(*_KNOT_JITTER, len(labels))
    for digit, ways in enumerate(_GLYPHS):
        of_digit = np.flatnonzero(labels == digit)
        odds = np.array([w.weight for w in ways])
        choice = rng.choice(len(ways), size=len(of_digit), p=odds / odds.sum())
        for w, plan in enumerate(plans[digit]):
            chosen = of_digit[choice == w]
            wobble = rng.normal(size=(len(chosen), *plan.knots.shape))
            knots = plan.knots + wobble * jitter[chosen, None, None]
            points = _spline_points(plan, knots)
            s = len(plan.segments)
            starts[chosen, :s] = points[:, plan.segments[:, 0]]
            ends[chosen, :s] = points[:, plan.segments[:, 1]]
            starts[chosen, s:] = starts[chosen, s - 1 : s]
            ends[chosen, s:] = ends[chosen, s - 1 : s]
            counts[chosen] = s
    return starts, ends, counts


def _spline_points(plan: _Plan, knots: np.ndarray) -> np.ndarray:
    # Four explicit products in a fixed order rather than a matrix product: BLAS may sum in a
    # different order on another CPU, and the images must be the same everywhere.
    taps, weights = plan.taps, plan.weights
    points = knots[:, taps[:, 0]] * weights[:, 0, None]
    for c in range(1, 4):
        points = points + knots[:, taps[:, c]] * weights[:, c, None]
    return points


def _place(starts: np.ndarray, ends: np.ndarray, angles: np.ndarray,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slant, size, rotate and shift the pen paths into pixel coordinates (x = column, y = row).

    Also returns each image's stroke width, which the fit into the frame has to allow for.
    """
    n = len(angles)
    slant = rng.uniform(*_SLANT, n)[:, None]
    height = rng.uniform(*_HEIGHT, n)[:, None]
    width = height * rng.uniform(*_ASPECT, n)[:, None]
    stroke = rng.uniform(*_STROKE_WIDTH, n)
    cos, sin = _cos_sin(np.deg2rad(angles))
    cos, sin = cos[:, None], sin[:, None]

    def transform(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = p[..., 0] - 0.5, p[..., 1] - 0.5
        x = (x + slant * y) * width
        y = y * height
        # Counter-clockwise as seen on screen, where y grows upwards; rows grow downwards.
        return x * cos - y * sin, -(x * sin + y * cos)

    (x0, y0), (x1, y1) = transform(starts), transform(ends)
    # Fit the digit into the frame, keeping its stroke clear of the outermost pixels, then shift it
    # at random within what room is left. Pixel centres run from 0 to _SIDE - 1.
    room = _SIDE - 1 - 2 * (stroke / 2 + 1.0)
    lo_x, hi_x = np.minimum(x0, x1).min(1), np.maximum(x0, x1).max(1)
    lo_y, hi_y = np.minimum(y0, y1).min(1), np.maximum(y0, y1).max(1)
    shrink = np.minimum(1.0, room / np.maximum(hi_x - lo_x, hi_y - lo_y))
    centre = (_SIDE - 1) / 2
    goal_x = centre + _shift(room - (hi_x - lo_x) * shrink, rng)
    goal_y = centre + _shift(room - (hi_y - lo_y) * shrink, rng)

    def fit(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, goal: np.ndarray) -> np.ndarray:
        return (v - ((lo + hi) / 2)[:, None]) * shrink[:, None] + goal[:, None]

    starts = np.stack([fit(x0, lo_x, hi_x, goal_x), fit(y0, lo_y, hi_y, goal_y)], -1)
    ends = np.stack([fit(x1, lo_x, hi_x, goal_x), fit(y1, lo_y, hi_y, goal_y)], -1)
    return starts, ends, stroke


def _shift(slack: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random offset from the centre: at most `_MAX_SHIFT`, and at most half the slack, each
    way."""
    reach = np.clip(slack / 2, 0.0, _MAX_SHIFT)
    return (2 * rng.random(len(slack)) - 1) * reach


def _cos_sin(radians: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin for |angle| <= pi/4 from their Taylor series.

    numpy's own cos and sin may use a vendor maths library on some CPUs and differ in the last
    bit; a polynomial evaluated with + and * is the same everywhere, and to degree 21 it is as
    accurate as float64 allows on this range.
    """
    x2 = radians * radians
    cos = np.ones_like(radians)
    sin = np.ones_like(radians)
    for k in range(20, 0, -2):  # Horner, from the highest term down
        cos = 1.0 - x2 / (k * (k - 1)) * cos
        sin = 1.0 - x2 / ((k + 1) * k) * sin
    return cos, radians * sin


def _rasterise(starts: np.ndarray, ends: np.ndarray, counts: np.ndarray, widths: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Ink each pixel by its distance to the nearest segment, with a one-pixel soft edge, then
    add noise. Returns float32 (N, 28, 28) in [0, 1]."""
    n = len(starts)
    distance = np.empty((n, _SIDE, _SIDE), dtype=np.float32)
    # Batches of images with similar segment counts, so that little time goes on padding.
    order = np.argsort(counts, kind="stable")
    for lo in range(0, n, _RENDER_CHUNK):
        batch = order[lo : lo + _RENDER_CHUNK]
        s = counts[batch].max()
        distance[batch] = _distance_squared(starts[batch, :s].astype(np.float32),
                                            ends[batch, :s].astype(np.float32))
    # Rounding can leave a hair below zero where a pixel centre lies on a segment.
    np.sqrt(np.maximum(distance, 0.0, out=distance), out=distance)
    # Full ink within half a stroke width, none a pixel beyond: a linear ramp approximates the
    # share of each pixel that the stroke covers.
    radius = (widths / 2 + 0.5).astype(np.float32)[:, None, None]
    ink = rng.uniform(*_INK, n).astype(np.float32)[:, None, None]
    images = np.clip(radius - distance, 0.0, 1.0) * ink
    noise = rng.uniform(*_NOISE, n).astype(np.float32)[:, None, None]
    images += rng.standard_normal(images.shape, dtype=np.float32) * noise
    return np.clip(images, 0.0, 1.0, out=images)


def _distance_squared(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distance from every pixel centre to the nearest segment, for a batch of images.

    For pixel p and segment a + t (b - a), t in [0, 1], the squared distance is
    |p - a|^2 - t (2 u - t L) with u = (p - a).(b - a), L = |b - a|^2 and t = clip(u / L, 0, 1).
    The pixel grid is separable, so the terms that depend on the column and on the row are
    computed on the 28 columns and 28 rows alone and only combined at full size.
    """
    grid = np.arange(_SIDE, dtype=np.float32)
    d = b - a
    length2 = np.maximum((d * d).sum(-1), np.float32(1e-6))[..., None, None]  # (n, S, 1, 1)
    px = grid - a[..., 0:1]  # (n, S, 28): column offsets
    py = grid - a[..., 1:2]  # (n, S, 28): row offsets
    u2 = (2 * px * d[..., 0:1])[:, :, None, :] + (2 * py * d[..., 1:2])[:, :, :, None]
    t = u2 / (2 * length2)
    np.clip(t, 0.0, 1.0, out=t)
    u2 -= t * length2
    u2 *= t
    far = (px * px)[:, :, None, :] + (py * py)[:, :, :, None]
    far -= u2
    return far.min(axis=1)
