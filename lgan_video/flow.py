"""Dense optical flow between video frames, shared by the temporal metric and the stabilizer.

Flow fields are float32 ``(H, W, 2)`` arrays ``(dx, dy)`` in pixels: ``flow_ab[y, x]`` says where
pixel ``(x, y)`` of frame ``a`` is in frame ``b``. Flow comes from OpenCV's DIS (Kroeger et al.
2016) on grayscale frames; occlusions from the forward-backward test of Ruder et al. 2016, the one
Lai et al. 2018 use for the warping error.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
           "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
           "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` -> uint8 gray ``(H, W)`` (BT.601 weights, as OpenCV)."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _dis(preset: str, finest_scale: int | None):
    dis = cv2.DISOpticalFlow_create(PRESETS[preset])
    if finest_scale is not None:  # presets stop at 1/2 (medium) or 1/4 size: too coarse for small frames
        dis.setFinestScale(finest_scale)
    return dis


def dis_flow(a: np.ndarray, b: np.ndarray, preset: str = "medium",
             finest_scale: int | None = None) -> np.ndarray:
    """Flow from gray uint8 frame ``a (H, W)`` to ``b (H, W)``: float32 ``(H, W, 2)``.

    ``finest_scale`` overrides the preset's finest pyramid level (0 = full resolution).
    """
    return _dis(preset, finest_scale).calc(a, b, None)


def both_flows(a: np.ndarray, b: np.ndarray, preset: str = "medium",
               finest_scale: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(flow_ab, flow_ba)`` between gray frames ``a`` and ``b``, one DIS object for both."""
    dis = _dis(preset, finest_scale)
    return dis.calc(a, b, None), dis.calc(b, a, None)


def warp(image: np.ndarray, flow: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Sample ``image (H, W[, C])`` at ``x + flow[x]`` (bilinear by default, borders replicated).

    With ``flow = flow_ba`` this brings frame ``a`` onto frame ``b``'s pixel grid.
    """
    return cv2.remap(image, flow + pixel_grid(*flow.shape[:2]), None, interpolation,
                     borderMode=cv2.BORDER_REPLICATE)


@functools.lru_cache(maxsize=8)
def pixel_grid(h: int, w: int) -> np.ndarray:
    """float32 ``(h, w, 2)``: each pixel's own ``(x, y)`` (read-only, cached: add a flow to it to
    get the absolute coordinates :func:`cv2.remap` takes)."""
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)),
                    axis=-1)
    grid.flags.writeable = False
    return grid


def inside(flow: np.ndarray) -> np.ndarray:
    """bool ``(H, W)``: where ``x + flow[x]`` lands inside the frame."""
    h, w = flow.shape[:2]
    x = np.arange(w, dtype=np.float32)[None, :] + flow[..., 0]
    y = np.arange(h, dtype=np.float32)[:, None] + flow[..., 1]
    return (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)


def _sq_norm(flow: np.ndarray) -> np.ndarray:
    return flow[..., 0] ** 2 + flow[..., 1] ** 2


def non_occluded(flow_ba: np.ndarray, flow_ab: np.ndarray) -> np.ndarray:
    """bool ``(H, W)`` on frame ``b``'s grid: pixels whose flow to ``a`` can be trusted.

    Ruder et al. 2016 (as in Lai et al. 2018's evaluation code): the flow must be
    :func:`consistent`, off motion boundaries (:func:`motion_boundary`) and inside the frame.
    """
    return consistent(flow_ba, flow_ab) & ~motion_boundary(flow_ba) & inside(flow_ba)


def consistent(flow_ba: np.ndarray, flow_ab: np.ndarray) -> np.ndarray:
    """bool ``(H, W)``: ``b -> a -> b`` comes back, ``|f_ba + f_ab(x + f_ba)|^2 <= 0.01 (|f_ba|^2 +
    |f_ab(x + f_ba)|^2) + 0.5`` (pixels, squared)."""
    back = warp(flow_ab, flow_ba)  # f_ab sampled where b's pixels are in a
    loop = _sq_norm(flow_ba + back)
    return loop <= 0.01 * (_sq_norm(flow_ba) + _sq_norm(back)) + 0.5


def motion_boundary(flow: np.ndarray) -> np.ndarray:
    """bool ``(H, W)``: ``|grad u|^2 + |grad v|^2 > 0.01 |flow|^2 + 0.002`` (forward differences)."""
    grad = np.zeros(flow.shape[:2], np.float32)
    for c in range(2):
        f = flow[..., c]
        grad[:, :-1] += (f[:, 1:] - f[:, :-1]) ** 2
        grad[:-1, :] += (f[1:, :] - f[:-1, :]) ** 2
    return grad > 0.01 * _sq_norm(flow) + 0.002


def resize_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Flow ``(h, w, 2)`` -> ``(H, W, 2)`` for ``size = (W, H)``: resampled, vectors rescaled."""
    h, w = flow.shape[:2]
    if (w, h) == tuple(size):
        return flow
    out = cv2.resize(flow, size, interpolation=cv2.INTER_LINEAR)
    out[..., 0] *= size[0] / w
    out[..., 1] *= size[1] / h
    return out


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """bool ``(h, w)`` -> bool ``(H, W)`` for ``size = (W, H)`` (nearest neighbour)."""
    if (mask.shape[1], mask.shape[0]) == tuple(size):
        return mask
    return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
