"""``extract_map`` for one image and ``MapExtractor`` for a sequence of video frames."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from lgan_video.errors import LganError
from lgan_video.maps.config import EDGE_BIT, MapConfig
from lgan_video.maps.edges import EdgeState, blurred_gray, edge_from_gray, edge_map
from lgan_video.maps.segment import SegInput, SegState, seg_input, seg_labels, seg_map

log = logging.getLogger(__name__)


def check_rgb(rgb: object) -> np.ndarray:
    """Return ``rgb`` if it is a uint8 ``(H, W, 3)`` array, else raise a one-line ``LganError``."""
    if not isinstance(rgb, np.ndarray):
        raise LganError(f"structure map: expected a numpy RGB image, got {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise LganError(f"structure map: expected a uint8 RGB image, got dtype {rgb.dtype}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise LganError(f"structure map: expected an (H, W, 3) RGB image, got shape {rgb.shape}")
    return np.ascontiguousarray(rgb)


def extract_map(rgb: np.ndarray, cfg: MapConfig) -> np.ndarray:
    """Structure map of one image: ``(H, W, 3)`` uint8 RGB -> ``(H, W)`` uint8.

    Edge mode: 0/255 Canny map, or with ``cfg.edge_tones`` tone labels plus ``EDGE_BIT`` on
    edges. Seg mode: labels ``0..cfg.classes-1`` numbered by region luminance (darkest = 0).
    Deterministic: the same input and config give the same bytes. ``cfg.temporal`` plays no part
    here (one image has no previous frame).
    """
    rgb = check_rgb(rgb)
    if cfg.mode == "seg":
        return seg_map(rgb, cfg)[0]
    edges = edge_map(rgb, cfg)[0]
    return with_tones(edges, seg_map(rgb, cfg.tone_config())[0]) if cfg.tones else edges


def with_tones(edges: np.ndarray, tones: np.ndarray) -> np.ndarray:
    """0/255 edges + tone labels (both ``(H, W)`` uint8) -> ``tone + EDGE_BIT`` on edges, else
    ``tone``: the edge map with tones (``MapConfig.edge_tones``)."""
    return tones | (edges & EDGE_BIT)


class MapExtractor:
    """Structure maps for one frame sequence, stabilized over time when ``cfg.temporal > 0``.

    ``extractor(rgb (H, W, 3) uint8) -> (H, W) uint8``, same meaning as :func:`extract_map`.
    The first frame (and every frame when ``cfg.temporal == 0``) equals ``extract_map``.
    Call ``reset()`` between sequences (shot changes, new clips); a change of frame size resets
    by itself.
    """

    def __init__(self, cfg: MapConfig) -> None:
        self.cfg = cfg
        self._state: EdgeState | SegState | tuple | None = None
        self._shape: tuple[int, ...] | None = None

    def reset(self) -> None:
        """Forget the previous frames; the next frame is handled like a first frame."""
        self._state = None
        self._shape = None

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The map of the next frame: ``(H, W, 3)`` uint8 RGB -> ``(H, W)`` uint8."""
        return self.finish(self.prepare(rgb))

    def prepare(self, rgb: np.ndarray) -> Prepared:
        """The stateless part of a frame's map (thread-safe: map workers run it ahead, in
        parallel); :meth:`finish`, called in frame order, completes it."""
        rgb = check_rgb(rgb)
        if self.cfg.mode == "seg":
            return Prepared(rgb.shape, seg_input(rgb, self.cfg))
        gray = blurred_gray(rgb, self.cfg)
        if self.cfg.tones:
            return Prepared(rgb.shape, (gray, seg_input(rgb, self.cfg.tone_config())))
        return Prepared(rgb.shape, gray)

    def finish(self, prepared: Prepared) -> np.ndarray:
        """The map of the next frame from its :meth:`prepare` result (stateful: in order)."""
        if self._shape is not None and prepared.shape != self._shape:
            log.debug("frame size changed from %s to %s: resetting", self._shape, prepared.shape)
            self.reset()
        self._shape = prepared.shape
        cfg, data, state = self.cfg, prepared.data, self._state
        if cfg.mode == "seg":
            out, state = seg_labels(data, cfg, state)  # type: ignore[arg-type]
        elif cfg.tones:
            (gray, seg), (edge_state, tone_state) = data, state or (None, None)  # type: ignore[misc]
            edges, edge_state = edge_from_gray(gray, cfg, edge_state)
            tones, tone_state = seg_labels(seg, cfg.tone_config(), tone_state)
            out, state = with_tones(edges, tones), (edge_state, tone_state)
        else:
            out, state = edge_from_gray(data, cfg, state)  # type: ignore[arg-type]
        self._state = state if cfg.temporal > 0 else None
        return out


@dataclass(frozen=True)
class Prepared:
    """A frame's stateless map work: its shape and the gray image (edge), :class:`SegInput`
    (seg) or both (edge with tones)."""

    shape: tuple[int, ...]
    data: np.ndarray | SegInput | tuple[np.ndarray, SegInput]
