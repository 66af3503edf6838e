"""Segmentation maps: deterministic k-means on a downscaled copy, labels by luminance.

Pipeline for one frame: blur, convert to Lab (or RGB), k-means on the colour histogram of a copy
whose short side is ``seg_size`` (init: a deterministic k-means++, or the previous frame's
centres), merge centres closer than ``seg_merge``, give each centre a label by absolute
luminance (:func:`luminance_slots`), assign every full-resolution pixel to its nearest centre,
then median-filter the labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lgan_video.maps.config import MapConfig

# cv2's 8-bit Lab stores L * 255 / 100; rescaling gives L the same units as a and b.
_LAB_SCALE = (100.0 / 255.0, 1.0, 1.0, 0.0)
_RGB_LUMA = np.array([0.299, 0.587, 0.114], np.float32) / 255.0
_BIN = 4.0  # colour units per histogram cell for k-means
_NO_LABEL = 255  # in a previous-label map: no label to keep (moving pixel, vanished centre)
_CUT_RATIO = 1.5  # previous-frame centres are dropped when they fit this much worse
_TOLERANCE = 0.25  # centre movement (colour units) below which Lloyd iterations stop


@dataclass
class SegState:
    """What a seg ``MapExtractor`` carries from one frame to the next."""

    init: np.ndarray  # (K, 3) float32 k-means centres before merging: the next frame's init
    labels: np.ndarray  # (H, W) uint8, the previous map
    gray: np.ndarray  # (H, W) uint8, the previous blurred gray image (to tell motion)


@dataclass
class SegInput:
    """The per-frame work of :func:`seg_map` that needs no state (can run ahead, in any thread)."""

    feats: np.ndarray  # (H, W, 3) float32 blurred colour features
    gray: np.ndarray  # (H, W) uint8 blurred gray image
    points: np.ndarray  # (M, 3) float32 colour-histogram bin means
    weights: np.ndarray  # (M,) float64 bin counts
    fresh: tuple[np.ndarray, np.ndarray]  # k-means from greedy_init: (centres (K, 3), mass (K,))


def seg_input(rgb: np.ndarray, cfg: MapConfig) -> SegInput:
    """Features, colour histogram and the fresh k-means of one frame (stateless, thread-safe)."""
    feats, gray = features(rgb, cfg)
    points, weights = colour_bins(_downscale(feats, cfg.seg_size).reshape(-1, 3))
    fresh = kmeans(points, weights, greedy_init(points, weights, cfg.classes), cfg.seg_iterations)
    return SegInput(feats, gray, points, weights, fresh)


def seg_map(
    rgb: np.ndarray, cfg: MapConfig, state: SegState | None = None
) -> tuple[np.ndarray, SegState]:
    """``(H, W, 3)`` uint8 RGB -> ``(H, W)`` uint8 labels in ``0..classes-1`` and the next state.

    With ``state`` and ``cfg.temporal > 0``, k-means starts from the previous centres and static
    pixels (gray change < ``cfg.temporal_motion``) keep their previous label unless clearly
    closer to another centre (see :func:`assign`).
    """
    return seg_labels(seg_input(rgb, cfg), cfg, state)


def seg_labels(
    inp: SegInput, cfg: MapConfig, state: SegState | None = None
) -> tuple[np.ndarray, SegState]:
    """The stateful half of :func:`seg_map`: centres (from the previous ones), labels, state."""
    points, weights = inp.points, inp.weights
    temporal = state is not None and cfg.temporal > 0
    centres, mass = fit_centres(points, weights, cfg, state.init if temporal else None, inp.fresh)
    previous = None
    if temporal:
        previous = state.labels.copy()
        previous[cv2.absdiff(inp.gray, state.gray) >= cfg.temporal_motion] = _NO_LABEL  # moving
    labels = assign(inp.feats, label_table(centres, mass, cfg), previous, cfg.temporal)
    if cfg.seg_smooth > 1:
        labels = cv2.medianBlur(labels, cfg.seg_smooth)
    return labels, SegState(reseed_empty(points, weights, centres, mass), labels, inp.gray)


def fit_centres(
    points: np.ndarray, weights: np.ndarray, cfg: MapConfig, init: np.ndarray | None = None,
    fresh: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means centres ``(K, 3)`` and their weights ``(K,)`` for a colour histogram.

    Starts from :func:`greedy_init` (``fresh``: that result, when already computed). With
    ``init`` (the previous frame's centres) it also runs from there and keeps that solution, for
    stable centres, unless it fits more than ``_CUT_RATIO`` times worse than the fresh one (a
    scene cut).
    """
    if fresh is None:
        fresh = kmeans(points, weights, greedy_init(points, weights, cfg.classes),
                       cfg.seg_iterations)
    if init is None:
        return fresh
    kept = kmeans(points, weights, init, cfg.seg_iterations)
    if inertia(points, weights, kept[0]) > _CUT_RATIO * inertia(points, weights, fresh[0]):
        return fresh
    return kept


def inertia(points: np.ndarray, weights: np.ndarray, centres: np.ndarray) -> float:
    """Weighted sum of squared distances from ``points (M, 3)`` to their nearest centre."""
    nearest = _scores(points, centres).min(axis=1) + (points**2).sum(axis=1)
    return float((weights * np.maximum(nearest, 0.0)).sum())


def features(rgb: np.ndarray, cfg: MapConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(H, W, 3)`` uint8 RGB -> blurred colour features ``(H, W, 3)`` float32 (Lab or RGB)
    and the blurred gray image ``(H, W)`` uint8."""
    if cfg.seg_blur > 0:
        rgb = cv2.GaussianBlur(rgb, (0, 0), cfg.seg_blur, borderType=cv2.BORDER_REFLECT_101)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if cfg.color_space == "rgb":
        return rgb.astype(np.float32), gray
    return cv2.multiply(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB), _LAB_SCALE, dtype=cv2.CV_32F), gray


def colour_bins(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of ``x (N, 3)`` on a ``_BIN``-unit grid -> (bin means ``(M, 3)``, counts ``(M,)``).

    k-means runs on the bins (weighted by count): the same result as on the pixels up to the
    quantization, and much less work on flat-colour frames.
    """
    cells = np.floor(x * (1.0 / _BIN)).astype(np.int64) + 512  # >= 0 for any colour feature
    key = (cells[:, 0] << 20) | (cells[:, 1] << 10) | cells[:, 2]
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    sums = np.stack([np.bincount(inverse, x[:, c]) for c in range(3)], axis=1)
    return (sums / counts[:, None]).astype(np.float32), counts.astype(np.float64)


def greedy_init(points: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Initial centres ``(k, 3)``: the heaviest point, then greedily the point maximizing
    ``weight * squared distance to the nearest chosen centre`` (a deterministic k-means++).

    Every colour with real support gets a centre before anti-aliasing blends or before a large
    region is split by noise; ties go to the first point, so it is deterministic.
    """
    first = points[int(weights.argmax())]
    return np.concatenate([first[None], _greedy_more(points, weights, first[None], k - 1)])


def reseed_empty(
    points: np.ndarray, weights: np.ndarray, centres: np.ndarray, mass: np.ndarray
) -> np.ndarray:
    """Move centres that caught nothing (``mass == 0``) to greedy picks, like :func:`greedy_init`.

    Used between frames, so colours that enter the scene can claim a centre.
    """
    empty = np.flatnonzero(mass <= 0)
    if len(empty) == 0 or len(empty) == len(centres):
        return centres
    out = centres.copy()
    out[empty] = _greedy_more(points, weights, centres[mass > 0], len(empty))
    return out


def _greedy_more(points: np.ndarray, weights: np.ndarray, chosen: np.ndarray, n: int) -> np.ndarray:
    # n more centres, each the point with the largest weight * squared distance to the chosen.
    nearest = ((points[:, None] - chosen[None]) ** 2).sum(-1).min(axis=1)
    picks = []
    for _ in range(n):
        pick = points[int((nearest * weights).argmax())]
        picks.append(pick)
        nearest = np.minimum(nearest, ((points - pick) ** 2).sum(axis=1))
    return np.asarray(picks, np.float32).reshape(n, 3)


def kmeans(
    x: np.ndarray, weights: np.ndarray, centres: np.ndarray, iterations: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Lloyd steps on ``x (N, 3)`` from ``centres (K, 3)`` -> (centres, weight per centre).

    An empty cluster keeps its centre, so the result always has K rows.
    """
    centres = centres.astype(np.float32)
    k = len(centres)
    for _ in range(iterations):
        labels = _scores(x, centres).argmin(axis=1)
        mass = np.bincount(labels, weights, minlength=k)
        sums = np.stack([np.bincount(labels, weights * x[:, c], minlength=k) for c in range(3)], 1)
        new = np.where(mass[:, None] > 0, sums / np.maximum(mass, 1e-12)[:, None], centres)
        shift = float(np.abs(new - centres).max())
        centres = new.astype(np.float32)
        if shift < _TOLERANCE:
            break
    return centres, mass


def label_table(raw: np.ndarray, counts: np.ndarray, cfg: MapConfig) -> np.ndarray:
    """``(classes, 3)`` float32 colour of each label; NaN rows for labels no centre took.

    Empty centres are dropped, centres closer than ``cfg.seg_merge`` are merged, and the rest
    are numbered by luminance with :func:`luminance_slots`.
    """
    centres = merge_close(raw[counts > 0], counts[counts > 0], cfg.seg_merge)
    lum = centres @ _RGB_LUMA if cfg.color_space == "rgb" else centres[:, 0] / 100.0
    order = np.lexsort((centres[:, 2], centres[:, 1], centres[:, 0], lum))
    table = np.full((cfg.classes, 3), np.nan, np.float32)
    table[luminance_slots(np.clip(lum[order], 0.0, 1.0), cfg.classes)] = centres[order]
    return table


def merge_close(centres: np.ndarray, weights: np.ndarray, distance: float) -> np.ndarray:
    """Merge the closest pair of ``centres (n, 3)`` while it is nearer than ``distance``."""
    c, w = centres.astype(np.float64), weights.astype(np.float64)
    while len(c) > 1:
        d = ((c[:, None] - c[None]) ** 2).sum(-1)
        np.fill_diagonal(d, np.inf)
        i, j = np.unravel_index(int(d.argmin()), d.shape)
        if d[i, j] >= distance**2:
            break
        i, j = min(i, j), max(i, j)
        c[i] = (c[i] * w[i] + c[j] * w[j]) / (w[i] + w[j])
        w[i] += w[j]
        c, w = np.delete(c, j, axis=0), np.delete(w, j)
    return c.astype(np.float32)


def luminance_slots(lum: np.ndarray, k: int) -> list[int]:
    """Labels for ``n <= k`` centres sorted by luminance ``lum`` in [0, 1]: strictly increasing,
    as close as possible (least total distance) to ``lum * (k - 1)``.

    With ``n == k`` this is plain ranking; with fewer centres a colour keeps its label when
    others come and go (white stays ``k - 1``, black stays 0). Dynamic programming, O(n k).
    """
    ideal = [float(v) * (k - 1) for v in lum]
    cost = [abs(j - ideal[0]) for j in range(k)]
    back = []
    for target in ideal[1:]:
        best, arg = float("inf"), -1
        new, ptr = [float("inf")] * k, [-1] * k
        for j in range(1, k):
            if cost[j - 1] < best:
                best, arg = cost[j - 1], j - 1
            new[j], ptr[j] = best + abs(j - target), arg
        cost = new
        back.append(ptr)
    slots = [min(range(k), key=cost.__getitem__)]
    for ptr in reversed(back):
        slots.append(ptr[slots[-1]])
    return slots[::-1]


def assign(
    feats: np.ndarray,
    table: np.ndarray,
    previous: np.ndarray | None = None,
    hysteresis: float = 0.0,
) -> np.ndarray:
    """Nearest-centre labels ``(H, W)`` uint8 for ``feats (H, W, 3)`` and a ``label_table``.

    With ``previous`` labels, a pixel switches from its previous label p to the nearest centre n
    only when ``d(p)^2 - d(n)^2 > hysteresis * |c_p - c_n|^2``, i.e. once it is past
    ``(1 + hysteresis) / 2`` of the way from c_p to c_n. ``_NO_LABEL`` (255) in ``previous``
    marks pixels without a previous label to honour.
    """
    h, w = feats.shape[:2]
    active = np.flatnonzero(~np.isnan(table[:, 0]))
    if len(active) == 1:
        return np.full((h, w), active[0], np.uint8)
    centres = table[active]
    lin = np.concatenate([-2.0 * centres, (centres**2).sum(1, keepdims=True)], axis=1)
    score = cv2.transform(feats, lin).reshape(-1, len(active))  # |x - c|^2 - |x|^2
    best = score.argmin(axis=1).astype(np.uint8)  # index into ``active``
    if previous is not None and hysteresis > 0:
        to_index = np.full(256, _NO_LABEL, np.uint8)  # label -> index into ``active``
        to_index[active] = np.arange(len(active))
        prev = cv2.LUT(previous, to_index).reshape(-1)
        best = _hysteresis(score, best, prev, centres, hysteresis)
    to_label = np.zeros(256, np.uint8)
    to_label[: len(active)] = active
    return cv2.LUT(best.reshape(h, w), to_label)


def _hysteresis(
    score: np.ndarray, best: np.ndarray, prev: np.ndarray, centres: np.ndarray, strength: float
) -> np.ndarray:
    # Only pixels whose nearest centre differs from their previous label need a decision.
    idx = np.flatnonzero((prev != best) & (prev != _NO_LABEL))
    p, b = prev[idx].astype(np.intp), best[idx].astype(np.intp)
    gap = score[idx, p] - score[idx, b]
    pair = ((centres[:, None] - centres[None]) ** 2).sum(-1)  # (n, n) squared distances
    keep = gap <= np.float32(strength) * pair[p, b]
    best[idx[keep]] = prev[idx[keep]]
    return best


def _scores(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    # |x - c|^2 - |x|^2 = |c|^2 - 2 x.c: a small matmul instead of an (N, K, 3) tensor.
    return x @ (-2.0 * centres.T) + (centres**2).sum(axis=1)


def _downscale(feats: np.ndarray, short_side: int) -> np.ndarray:
    h, w = feats.shape[:2]
    scale = short_side / min(h, w)
    if scale >= 1:
        return feats
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(feats, size, interpolation=cv2.INTER_AREA)
