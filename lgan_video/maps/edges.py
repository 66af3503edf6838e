"""Edge maps: Canny on a blurred gray image (thresholds from the gradient-magnitude percentile or
the median rule), with optional temporal stabilization."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lgan_video.maps.config import MapConfig


@dataclass
class EdgeState:
    """What an edge ``MapExtractor`` carries from one frame to the next."""

    gray: np.ndarray  # (H, W) float32 in [0, 255]: the stabilized blurred gray image
    lo: float
    hi: float


def median_u8(image: np.ndarray) -> int:
    """Median of a uint8 array (the lower middle value for an even count), via a histogram."""
    counts = np.bincount(image.ravel(), minlength=256).cumsum()
    return int(np.searchsorted(counts, (image.size + 1) // 2))


def canny_thresholds(blurred: np.ndarray, cfg: MapConfig) -> tuple[float, float]:
    """Canny's (lo, hi) gradient thresholds for ``blurred``, a ``(H, W)`` uint8 gray image.

    ``cfg.canny_percentile > 0``: ``hi = max(P, canny_floor)`` with ``P`` that percentile of the
    image's 3x3-Sobel gradient magnitudes (L2, what Canny compares), ``lo = 0.4 * hi``, so the
    strongest few percent of gradients seed edges whatever the brightness. ``0``: the median rule
    ``lo, hi = clip((1 -/+ canny_sigma) * median(blurred), canny_floor, 255)`` (the first default
    model's; it finds almost no edges in bright, soft pictures).
    """
    if cfg.canny_percentile > 0:
        mag = cv2.magnitude(cv2.Sobel(blurred, cv2.CV_32F, 1, 0), cv2.Sobel(blurred, cv2.CV_32F, 0, 1))
        hi = max(float(np.percentile(mag, cfg.canny_percentile)), cfg.canny_floor)
        return 0.4 * hi, hi
    m = median_u8(blurred)
    lo = min(max((1.0 - cfg.canny_sigma) * m, cfg.canny_floor), 255.0)
    hi = min(max((1.0 + cfg.canny_sigma) * m, cfg.canny_floor), 255.0)
    return lo, hi


def blurred_gray(rgb: np.ndarray, cfg: MapConfig) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB -> ``(H, W)`` uint8 gray after the Gaussian pre-blur."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if cfg.blur_sigma <= 0:
        return gray
    k = cfg.blur_kernel
    return cv2.GaussianBlur(gray, (k, k), cfg.blur_sigma, borderType=cv2.BORDER_REFLECT_101)


def edge_map(
    rgb: np.ndarray, cfg: MapConfig, state: EdgeState | None = None
) -> tuple[np.ndarray, EdgeState]:
    """``(H, W, 3)`` uint8 RGB -> ``(H, W)`` uint8 in {0, 255} and the state for the next frame.

    With ``state`` (the previous frame's, and ``cfg.temporal > 0``), static pixels are blended
    with the previous gray image and the thresholds follow an exponential moving average.
    """
    return edge_from_gray(blurred_gray(rgb, cfg), cfg, state)


def edge_from_gray(
    gray: np.ndarray, cfg: MapConfig, state: EdgeState | None = None
) -> tuple[np.ndarray, EdgeState]:
    """The stateful half of :func:`edge_map`, from the :func:`blurred_gray` image ``(H, W)``."""
    if state is None or cfg.temporal <= 0:
        lo, hi = canny_thresholds(gray, cfg)
        new_state = EdgeState(gray.astype(np.float32), lo, hi)
    else:
        smooth = blend_static(gray.astype(np.float32), state.gray, cfg.temporal, cfg.temporal_motion)
        gray = np.clip(smooth + 0.5, 0, 255).astype(np.uint8)
        lo, hi = canny_thresholds(gray, cfg)
        a = cfg.temporal
        lo, hi = a * state.lo + (1 - a) * lo, a * state.hi + (1 - a) * hi
        new_state = EdgeState(smooth, lo, hi)
    edges = cv2.Canny(gray, lo, hi, L2gradient=True)
    return _thicken(edges, cfg.thickness), new_state


def blend_static(
    current: np.ndarray, previous: np.ndarray, strength: float, motion: float
) -> np.ndarray:
    """Blend ``current`` toward ``previous`` (float32 ``(H, W)`` gray) where the scene is static.

    A pixel's weight on ``previous`` is ``strength * max(0, 1 - |change| / motion)``: noise is
    averaged away over time while moving edges (large changes) pass through without trails.
    """
    change = np.abs(current - previous)
    weight = np.maximum(1.0 - change * np.float32(1.0 / motion), 0.0) * np.float32(strength)
    return current + weight * (previous - current)


def _thicken(edges: np.ndarray, thickness: int) -> np.ndarray:
    if thickness <= 1:
        return edges
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thickness, thickness))
    return cv2.dilate(edges, kernel)
