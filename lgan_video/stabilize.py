"""Flow-guided stabilization of rendered frames, and scene cuts that reset temporal state.

Two halves, one per thread of :meth:`lgan_video.pipeline.Pipeline.render`:

- :class:`MotionAnalyzer` runs in the prefetch stage on the *input* frames at the working size:
  it detects scene cuts and computes the DIS flow from each frame back to the previous one and a
  per-pixel blend weight. The weight is the strength where the motion can be trusted and falls to
  0 at occlusions and disocclusions (forward-backward test), where the previous frame warped by
  the flow does not match the current one (lighting changes, flow errors), and on fast motion.
- :class:`FlowBlender` runs where the output frames come out: it warps its previous *output* onto
  the current frame with that flow (scaled to the output size) and blends it in with the weight.
  Output ``t`` = ``(1 - w) fresh_t + w warp(output_{t-1})``: a running average along motion
  paths, so flicker that differs from frame to frame averages out while anything new or moving
  too fast for the flow is shown fresh. Only the previous frame is kept: memory is flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lgan_video.errors import LganError
from lgan_video.flow import both_flows, consistent, inside, resize_flow, to_gray, warp
from lgan_video.scenecut import CUT_THRESHOLD, CutDetector

DEFAULT_STRENGTH = 0.9  # render, batch and Pipeline.render use it unless told otherwise
MAX_WEIGHT = 0.95  # weight at strength 1: some of every fresh frame always shows
ERODE = 3  # the weight map is eroded by this box: blending stops short of inconsistent pixels
MATCH_LEVELS = (6.0, 24.0)  # gray-level mismatch after warping: full weight .. no weight
SPEED_LEVELS = (0.04, 0.12)  # motion per frame, in short sides: full weight .. no weight


@dataclass(frozen=True)
class Motion:
    """What the prefetch stage learned about one input frame (at the working size ``(h, w)``)."""

    cut: bool  # the frame starts a new shot (or is the first frame)
    flow: np.ndarray | None = None  # (h, w, 2) float32: where its pixels were in the previous frame
    weight: np.ndarray | None = None  # (h, w) float32 in [0, MAX_WEIGHT]: share of the past


class MotionAnalyzer:
    """``analyzer(rgb (h, w, 3) uint8) -> Motion`` for consecutive frames of one sequence.

    ``strength`` in [0, 1] scales the blend weight (0: cut detection only, no flow is computed).
    """

    def __init__(self, strength: float, cut_threshold: float = CUT_THRESHOLD) -> None:
        if not 0.0 <= strength <= 1.0:
            raise LganError(f"stabilization strength must be in [0, 1], got {strength}")
        self.strength = strength
        self._cuts = CutDetector(cut_threshold)
        self._prev: np.ndarray | None = None  # previous gray frame

    def __call__(self, rgb: np.ndarray) -> Motion:
        cut = self._cuts(rgb) or self._prev is None
        gray = to_gray(rgb)
        prev, self._prev = self._prev, gray
        if cut or self.strength == 0.0 or prev.shape != gray.shape:
            return Motion(cut=cut)
        forward, backward = both_flows(prev, gray, "fast", finest_scale=0)  # small frames
        return Motion(False, backward, blend_weight(prev, gray, backward, forward, self.strength))


def blend_weight(prev: np.ndarray, cur: np.ndarray, flow_back: np.ndarray,
                 flow_fwd: np.ndarray, strength: float) -> np.ndarray:
    """float32 ``(h, w)`` weight of the warped past for gray frames ``prev``, ``cur (h, w)``.

    ``strength * MAX_WEIGHT`` where the flow ``cur -> prev`` is consistent and the warped
    ``prev`` matches ``cur``, tapering to 0 with the mismatch and with the speed; eroded by one
    pixel so that blending stops short of motion boundaries.
    """
    valid = (consistent(flow_back, flow_fwd) & inside(flow_back)).astype(np.float32)
    blur = (3, 3)
    mismatch = np.abs(cv2.blur(cur, blur).astype(np.float32)
                      - warp(cv2.blur(prev, blur).astype(np.float32), flow_back))
    speed = np.sqrt(flow_back[..., 0] ** 2 + flow_back[..., 1] ** 2) / min(cur.shape)
    weight = valid * _ramp_down(mismatch, *MATCH_LEVELS) * _ramp_down(speed, *SPEED_LEVELS)
    weight = cv2.erode(weight, np.ones((ERODE, ERODE), np.uint8))
    return weight * np.float32(strength * MAX_WEIGHT)


def _ramp_down(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """1 below ``lo``, 0 above ``hi``, linear between (float32)."""
    return np.clip((hi - x) / (hi - lo), 0.0, 1.0).astype(np.float32)


class FlowBlender:
    """``blender(fresh (H, W, 3) uint8, motion) -> (H, W, 3) uint8``, in frame order.

    The motion may be at a smaller size than the output (the working size before SR): flow and
    weight are resized. A cut, a first frame or a change of output size shows ``fresh`` as is.
    """

    def __init__(self) -> None:
        self._prev: np.ndarray | None = None  # previous output, float32 (H, W, 3)

    def reset(self) -> None:
        """Forget the previous output."""
        self._prev = None

    def __call__(self, fresh: np.ndarray, motion: Motion) -> np.ndarray:
        out = fresh.astype(np.float32)
        prev, self._prev = self._prev, out
        if motion.cut or motion.flow is None or prev is None or prev.shape != out.shape:
            return fresh
        size = (out.shape[1], out.shape[0])
        weight = motion.weight
        if weight.shape != out.shape[:2]:
            weight = cv2.resize(weight, size, interpolation=cv2.INTER_LINEAR)
        past = warp(prev, resize_flow(motion.flow, size))
        out += weight[..., None] * (past - out)
        self._prev = out
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
