"""Short-term warping error (Lai et al. 2018, "Learning Blind Video Temporal Consistency").

For consecutive frames ``t-1, t`` of an input video and its render::

    E_warp(t) = sum_x M_t(x) |O_t(x) - W(O_{t-1})(x)|^2 / (3 sum_x M_t(x))

``O`` are render frames in [0, 1] RGB; ``W`` warps frame ``t-1`` onto frame ``t`` with the optical
flow of the *input* frames (OpenCV DIS, both directions, at the input's size, then scaled to the
render's size); ``M_t`` is the non-occlusion mask of :func:`lgan_video.flow.non_occluded` (scaled
the same way). The input's own error, its frames resized to the render's size and warped with the
same flow, is the floor a render cannot beat in practice: a render as stable as its input has a
ratio of 1. Pairs whose second frame starts a new shot (:mod:`lgan_video.scenecut`) are excluded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from lgan_video.flow import both_flows, non_occluded, resize_flow, resize_mask, to_gray, warp
from lgan_video.metrics.structure import gradient_magnitude, structure_score
from lgan_video.resize import resize
from lgan_video.scenecut import CUT_THRESHOLD, CutDetector


@dataclass(frozen=True)
class PairFlow:
    """Input motion from frame ``t`` back to ``t-1`` at the render's size ``(H, W)``."""

    flow: np.ndarray  # (H, W, 2) float32: where frame t's pixels are in frame t-1
    mask: np.ndarray  # (H, W) bool: non-occluded pixels of frame t


def pair_flow(prev: np.ndarray, cur: np.ndarray, size: tuple[int, int],
              preset: str = "medium") -> PairFlow:
    """Flow and mask of uint8 RGB input frames ``prev``, ``cur (h, w, 3)``, scaled to ``size``
    ``(W, H)``."""
    forward, backward = both_flows(to_gray(prev), to_gray(cur), preset)
    mask = non_occluded(backward, forward)
    return PairFlow(resize_flow(backward, size), resize_mask(mask, size))


def warping_error(prev: np.ndarray, cur: np.ndarray, motion: PairFlow) -> float:
    """E_warp of one pair of uint8 RGB frames ``(H, W, 3)``: mean squared difference in [0, 1]
    units over the non-occluded pixels and the 3 channels; 0 when every pixel is occluded."""
    n = int(motion.mask.sum())
    if n == 0:
        return 0.0
    warped = warp(prev.astype(np.float32) / 255.0, motion.flow)
    diff = cur.astype(np.float32) / 255.0 - warped
    return float(np.square(diff[motion.mask]).sum() / (3 * n))


def has_structure(rgb: np.ndarray) -> bool:
    """Whether a uint8 RGB frame has gradients a structure score can compare (a black or flat
    frame has none: its score would say nothing about the render)."""
    return float(gradient_magnitude(rgb).max()) > 1e-3


@dataclass
class TemporalScores:
    """Warping errors of a render and of its input, per pair and averaged over kept pairs."""

    frames: int = 0
    size: tuple[int, int] = (0, 0)  # render (W, H)
    cuts: list[int] = field(default_factory=list)  # frames that start a new shot
    pairs: list[dict] = field(default_factory=list)  # {frame, cut, render, input}
    structure: list[float] = field(default_factory=list)  # per frame with structure in the input

    def to_dict(self) -> dict:
        kept = [p for p in self.pairs if not p["cut"]]
        render = _mean([p["render"] for p in kept])
        floor = _mean([p["input"] for p in kept])
        ratio = render / floor if render is not None and floor else None
        return {"frames": self.frames, "size": list(self.size), "pairs": len(self.pairs),
                "pairs_used": len(kept), "cuts": self.cuts,
                "warping_error": render, "input_warping_error": floor, "ratio": ratio,
                "structure": _mean(self.structure), "per_pair": self.pairs}


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def temporal_scores(
    inputs: Iterable[np.ndarray], renders: Iterable[np.ndarray],
    cut_threshold: float = CUT_THRESHOLD, preset: str = "medium",
) -> TemporalScores:
    """Score a render against its input, streaming (memory flat in the number of frames).

    ``inputs`` and ``renders`` yield uint8 RGB ``(H, W, 3)`` frames in step; the render's frames
    set the size and the count (extra input frames are ignored). Cuts are detected on the input.
    """
    scores, cuts = TemporalScores(), CutDetector(cut_threshold)
    prev_in = prev_out = None
    for t, (frame, out) in enumerate(zip(inputs, renders, strict=False)):
        size = (out.shape[1], out.shape[0])
        scores.frames, scores.size = t + 1, size
        cut = cuts(frame)
        if has_structure(frame):
            scores.structure.append(structure_score(frame, out))
        if t > 0 and cut:
            scores.cuts.append(t)
            scores.pairs.append({"frame": t, "cut": True, "render": None, "input": None})
        elif t > 0:
            motion = pair_flow(prev_in, frame, size, preset)
            scores.pairs.append({
                "frame": t, "cut": False, "render": warping_error(prev_out, out, motion),
                "input": warping_error(resize(prev_in, size), resize(frame, size), motion)})
        prev_in, prev_out = frame, out
    return scores

