"""Procedurally animated clip-art scenes: the demo clip and test fixtures, made at run time.

A scene is a white background with a few coloured shapes with dark outlines that drift, bounce and
rotate. It is deterministic for a seed and needs no files, so tests and the demo ship no media.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np

_PALETTE = [(231, 76, 60), (46, 134, 193), (241, 196, 15), (39, 174, 96), (142, 68, 173),
            (230, 126, 34), (26, 188, 156), (236, 112, 99)]


def scene_frames(
    n_frames: int, width: int = 160, height: int = 120, seed: int = 0, n_shapes: int = 5
) -> Iterator[np.ndarray]:
    """Yield ``n_frames`` uint8 RGB frames ``(height, width, 3)`` of a moving clip-art scene."""
    rng = np.random.default_rng(seed)
    shapes = [_random_shape(rng, width, height, i) for i in range(n_shapes)]
    for t in range(n_frames):
        yield _draw(shapes, t, width, height)


def scene_array(n_frames: int, width: int = 160, height: int = 120, seed: int = 0) -> np.ndarray:
    """All frames of :func:`scene_frames` stacked: ``(n_frames, height, width, 3)`` uint8."""
    return np.stack(list(scene_frames(n_frames, width, height, seed)))


def _random_shape(rng: np.random.Generator, w: int, h: int, i: int) -> dict:
    r = float(rng.uniform(0.08, 0.18)) * min(w, h)
    return {
        "kind": ("circle", "rect", "triangle")[i % 3],
        "color": _PALETTE[int(rng.integers(len(_PALETTE)))],
        "pos": np.array([rng.uniform(r, w - r), rng.uniform(r, h - r)]),
        "vel": rng.uniform(-1.0, 1.0, size=2) * min(w, h) / 60.0,
        "spin": float(rng.uniform(-0.06, 0.06)),
        "r": r,
    }


def _position(s: dict, t: int, w: int, h: int) -> tuple[float, float]:
    # Reflect the straight path off the walls so shapes bounce without state.
    out = []
    for p, v, span in zip(s["pos"], s["vel"], (w, h), strict=True):
        lo, hi = s["r"], span - s["r"]
        x = (p - lo + v * t) % (2 * (hi - lo))
        out.append(lo + (x if x < hi - lo else 2 * (hi - lo) - x))
    return out[0], out[1]


def _draw(shapes: list[dict], t: int, w: int, h: int) -> np.ndarray:
    img = np.full((h, w, 3), 255, np.uint8)
    # A soft ground band gives the segmentation a large second region.
    cv2.rectangle(img, (0, int(h * 0.8)), (w, h), (200, 230, 201), -1)
    for s in shapes:
        cx, cy = _position(s, t, w, h)
        pts = _polygon(s, cx, cy, s["spin"] * t)
        cv2.fillPoly(img, [pts], s["color"], lineType=cv2.LINE_AA)
        cv2.polylines(img, [pts], True, (30, 30, 30), max(1, w // 160), lineType=cv2.LINE_AA)
    return img


def _polygon(s: dict, cx: float, cy: float, angle: float) -> np.ndarray:
    n = {"circle": 32, "rect": 4, "triangle": 3}[s["kind"]]
    a = angle + np.arange(n) * 2 * math.pi / n + (math.pi / 4 if n == 4 else 0)
    pts = np.stack([cx + s["r"] * np.cos(a), cy + s["r"] * np.sin(a)], axis=1)
    return pts.round().astype(np.int32)


def texture(height: int = 300, width: int = 400, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture (blurred noise stretched to 0..255), uint8 ``(H, W, 3)``."""
    rng = np.random.default_rng(seed)
    field = cv2.GaussianBlur(rng.random((height, width, 3)).astype(np.float32), (0, 0), 3)
    return cv2.normalize(field, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def panning(n_frames: int, step: int = 2, width: int = 160, height: int = 120) -> list[np.ndarray]:
    """``n_frames`` uint8 ``(height, width, 3)`` views of a window moving ``step`` pixels right per
    frame over :func:`texture` (a pure translation: known flow, no occlusions but the border)."""
    big = texture(height + 80, width + 40 + step * n_frames)
    return [big[40:40 + height, 10 + step * t:10 + step * t + width].copy()
            for t in range(n_frames)]


def camera_frames(
    image: np.ndarray,
    n_frames: int,
    width: int,
    height: int,
    start: tuple[float, float, float] = (0.5, 0.3, 1.15),
    end: tuple[float, float, float] = (0.5, 0.62, 1.35),
) -> Iterator[np.ndarray]:
    """A camera moving over a still: ``n_frames`` uint8 ``(height, width, 3)`` views of ``image``.

    ``start`` and ``end`` are ``(cx, cy, zoom)``: the view's centre as fractions of the image and
    its zoom (1 = the view's width spans the image's), eased linearly in between. Area resampling
    when shrinking, bicubic when enlarging; the border is reflected.
    """
    h, w = image.shape[:2]
    for i in range(n_frames):
        t = i / max(n_frames - 1, 1)
        cx, cy, zoom = (a + (b - a) * t for a, b in zip(start, end, strict=True))
        s = w / (width * zoom)  # image pixels per output pixel
        m = np.array([[s, 0, cx * w - s * width / 2], [0, s, cy * h - s * height / 2]], np.float32)
        flags = (cv2.INTER_AREA if s > 1 else cv2.INTER_CUBIC) | cv2.WARP_INVERSE_MAP
        yield cv2.warpAffine(image, m, (width, height), flags=flags, borderMode=cv2.BORDER_REFLECT)
