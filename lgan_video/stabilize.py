"""Flow-guided stabilization of rendered frames, and scene cuts that reset temporal state.

Two halves, one per thread of :meth:`lgan_video.pipeline.Pipeline.render`:

- :class:`MotionAnalyzer` runs in the prefetch stage on the *input* frames at the working size:
  it detects scene cuts and computes the DIS flow from each frame back to the previous one (one
  flow per frame) and a per-pixel blend weight. The weight is the strength where the motion can
  be trusted and falls to 0 near motion boundaries, where occlusions and disocclusions happen
  (:func:`steady`), where the previous frame warped by the flow does not match the current one in
  gray level or colour (lighting changes, flow errors, uncovered background), and on fast motion.
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
from lgan_video.flow import pixel_grid, to_gray
from lgan_video.scenecut import CUT_THRESHOLD, CutDetector

DEFAULT_STRENGTH = 0.9  # render, batch and Pipeline.render use it unless told otherwise
MAX_WEIGHT = 0.95  # weight at strength 1: some of every fresh frame always shows
ERODE = 3  # the weight map is eroded by this box: blending stops short of inconsistent pixels
BLUR = (3, 3)  # box blur of both frames before they are compared
MATCH_LEVELS = (6, 24)  # gray-level mismatch after warping: full weight .. no weight
COLOR_LEVELS = (12, 48)  # mean |dR|, |dG|, |dB| after warping: full weight .. no weight
SPEED_LEVELS = (0.04, 0.12)  # motion per frame, in short sides: full weight .. no weight
STEADY_TOLERANCE = 0.75  # pixels^2 (plus 1 % of the squared flows) for :func:`steady`


def motion_flow() -> cv2.DISOpticalFlow:
    """The DIS object of :class:`MotionAnalyzer`: the "fast" preset down to full resolution (the
    preset stops at 1/4 size, too coarse for working-size frames of about 170x96), with patches
    every 5 pixels instead of 4 (about 15 % less time)."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    dis.setFinestScale(0)
    dis.setPatchStride(5)
    return dis


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
        self._dis = motion_flow() if strength > 0.0 else None
        self._started = False
        self._prev: tuple[np.ndarray, np.ndarray] | None = None  # previous (gray, blurred RGB)

    def __call__(self, rgb: np.ndarray) -> Motion:
        cut = self._cuts(rgb) or not self._started
        self._started = True
        if self._dis is None:
            return Motion(cut=cut)
        blurred = cv2.blur(rgb, BLUR)
        cur = (to_gray(rgb), blurred)
        prev, self._prev = self._prev, cur
        if cut or prev[0].shape != cur[0].shape:
            return Motion(cut=cut)
        back = self._dis.calc(cur[0], prev[0], None)
        return Motion(False, back, blend_weight(prev[1], blurred, back, self.strength))


def blend_weight(prev: np.ndarray, cur: np.ndarray, flow_back: np.ndarray,
                 strength: float) -> np.ndarray:
    """float32 ``(h, w)`` weight of the warped past, for uint8 RGB frames ``prev``, ``cur
    (h, w, 3)`` (already box-blurred by ``BLUR``) and the flow ``cur -> prev``.

    ``strength * MAX_WEIGHT`` where the motion is :func:`steady` and lands inside the frame and
    where ``prev`` warped by the flow matches ``cur``; tapering to 0 with the gray-level mismatch
    (``MATCH_LEVELS``), the mean colour mismatch (``COLOR_LEVELS``: a moving edge between two
    colours of one gray level) and the speed (``SPEED_LEVELS``); eroded by one pixel so that
    blending stops short of motion boundaries.
    """
    h, w = cur.shape[:2]
    coords = flow_back + pixel_grid(h, w)  # where each pixel of cur was in prev
    x, y = coords[..., 0], coords[..., 1]
    valid = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1) & steady(flow_back, coords)
    past = cv2.remap(prev, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    weight = _MATCH_LUT[cv2.absdiff(to_gray(cur), to_gray(past))]
    color = cv2.transform(cv2.absdiff(cur, past), np.full((1, 3), 1 / 3, np.float32))
    weight *= _COLOR_LUT[color.astype(np.uint8)]  # truncated: a mean of 8.9 counts as 8
    speed = cv2.magnitude(np.ascontiguousarray(flow_back[..., 0]),
                          np.ascontiguousarray(flow_back[..., 1]))
    weight *= _ramp_down(speed / min(h, w), *SPEED_LEVELS)
    weight *= valid
    weight = cv2.erode(weight, np.ones((ERODE, ERODE), np.uint8))
    weight *= np.float32(strength * MAX_WEIGHT)
    return weight


def steady(flow: np.ndarray, coords: np.ndarray | None = None) -> np.ndarray:
    """bool ``(h, w)``: whether each pixel moves as the place it came from did.

    ``flow (h, w, 2)`` is the flow ``cur -> prev`` and ``coords = grid + flow`` (computed when
    None). With ``f' = flow`` sampled at ``coords``: ``|f - f'|^2 <= 0.01 (|f|^2 + |f'|^2) +
    STEADY_TOLERANCE``. It fails where the flow changes within one displacement: at motion
    boundaries, which is where occlusions and disocclusions happen (uncovered background takes
    the motion of the object that uncovered it, and that motion differs a displacement away). It
    stands in for the forward-backward test of Ruder et al. 2016 (``f + f_fwd(x + f)``, with
    ``f_fwd`` approximated by ``-f``), which costs a second DIS flow per frame.
    """
    if coords is None:
        coords = flow + pixel_grid(*flow.shape[:2])
    there = cv2.remap(flow, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    diff = flow - there
    return _sq_norm(diff) <= 0.01 * (_sq_norm(flow) + _sq_norm(there)) + STEADY_TOLERANCE


def _sq_norm(flow: np.ndarray) -> np.ndarray:
    return flow[..., 0] ** 2 + flow[..., 1] ** 2


def _ramp_down(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """1 below ``lo``, 0 above ``hi``, linear between (float32)."""
    return np.clip((hi - x) / (hi - lo), 0.0, 1.0).astype(np.float32)


_MATCH_LUT = _ramp_down(np.arange(256, dtype=np.float32), *MATCH_LEVELS)  # by uint8 mismatch
_COLOR_LUT = _ramp_down(np.arange(256, dtype=np.float32), *COLOR_LEVELS)


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
        prev, self._prev = self._prev, fresh.astype(np.float32)
        if motion.cut or motion.flow is None or prev is None or prev.shape != self._prev.shape:
            return fresh
        h, w = fresh.shape[:2]
        flow, weight = motion.flow, motion.weight
        if flow.shape[:2] != (h, w):
            scale = np.array([w / flow.shape[1], h / flow.shape[0]], np.float32)
            flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) * scale
            weight = cv2.resize(weight, (w, h), interpolation=cv2.INTER_LINEAR)
        past = cv2.remap(prev, flow + pixel_grid(h, w), None, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
        # weight * past + (1 - weight) * fresh in one pass (blendLinear divides by the sum of
        # the two weights + 1e-5: at most 0.003 levels off).
        self._prev = cv2.blendLinear(past, self._prev, weight, 1.0 - weight)
        return cv2.convertScaleAbs(self._prev)  # rounded to the nearest level and saturated
