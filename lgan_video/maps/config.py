"""``MapConfig``: every parameter of structure-map extraction, saved with checkpoints and bundles."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from lgan_video.errors import LganError

MODES = ("edge", "seg")
COLOR_SPACES = ("lab", "rgb")
MAX_CLASSES = 32
EDGE_BIT = 128  # an edge pixel of an edge map with tones: tone + EDGE_BIT


@dataclass(frozen=True)
class MapConfig:
    """How frames become structure maps; the same values at training and at render time.

    Edge mode (``mode="edge"``): the RGB frame goes to gray, is Gaussian-blurred with
    ``blur_sigma`` (kernel ``blur_kernel``, 0 = derived from the sigma), and Canny runs with
    thresholds from the gradient rule when ``canny_percentile > 0``::

        hi = max(canny_percentile-th percentile of the Sobel gradient magnitude, canny_floor)
        lo = 0.4 * hi

    or else (``canny_percentile = 0``, the first default model's) the median rule::

        m  = median of the blurred gray image (uint8, lower middle value)
        lo = clip((1 - canny_sigma) * m, canny_floor, 255)
        hi = clip((1 + canny_sigma) * m, canny_floor, 255)

    ``canny_floor`` keeps dark or flat images from turning sensor noise into edges. Edges are
    then dilated to ``thickness`` pixels (1 = thin Canny lines). Output: 0/255.

    Edge maps with tones (``mode="edge"``, ``edge_tones = T > 0``): the frame is also segmented
    into ``T`` lightness tones exactly as seg mode would with ``classes = T`` (every ``seg_*``
    and ``color_space`` field applies), and each pixel stores ``tone + EDGE_BIT`` (128) on an
    edge, ``tone`` elsewhere: line art over a few flat tones, so the map carries the light and
    dark that plain edges lack. ``edge_tones = 0``: plain 0/255 edges.

    Segmentation mode (``mode="seg"``): the frame is blurred (``seg_blur``), converted to
    ``color_space``, and k-means with ``classes`` centres runs on a colour histogram of a copy
    whose short side is ``seg_size`` (at most ``seg_iterations`` Lloyd steps from a deterministic
    k-means++ init). Centres closer than ``seg_merge`` colour units merge (so noise does not
    split a flat region). Labels increase with centre luminance; with fewer centres than
    ``classes`` each takes the label nearest ``luminance * (classes - 1)``, so white stays
    ``classes - 1`` as other colours come and go. Full-resolution pixels go to the nearest
    centre and a ``seg_smooth`` median filter on the labels removes speckles (1 = off).
    Output: labels in ``0..classes-1``.

    Temporal stabilization (``temporal`` in [0, 1), used by ``MapExtractor``; 0 = off). Edges:
    static pixels of the blurred gray image are blended with the previous frame's (a change of
    ``temporal_motion`` gray levels or more counts as motion and is not blended, so moving edges
    leave no trails) and the thresholds follow an exponential moving average. Seg: k-means
    starts from the previous centres and a pixel keeps its previous label until it is past
    ``(1 + temporal) / 2`` of the way to another centre.
    """

    mode: str = "edge"
    blur_sigma: float = 1.0
    blur_kernel: int = 0
    canny_sigma: float = 0.33
    canny_floor: float = 20.0
    canny_percentile: float = 0.0
    thickness: int = 1
    edge_tones: int = 0
    classes: int = 8
    color_space: str = "lab"
    seg_blur: float = 1.0
    seg_size: int = 128
    seg_iterations: int = 8
    seg_smooth: int = 5
    seg_merge: float = 8.0
    temporal: float = 0.0
    temporal_motion: float = 24.0

    def __post_init__(self) -> None:
        _check_choice("mode", self.mode, MODES)
        _check_choice("color_space", self.color_space, COLOR_SPACES)
        _check_range("blur_sigma", self.blur_sigma, 0.0, 20.0)
        _check_int("blur_kernel", self.blur_kernel, 0, 61)
        if self.blur_kernel and self.blur_kernel % 2 == 0:
            raise LganError(f"map config: blur_kernel must be 0 or odd, got {self.blur_kernel}")
        _check_range("canny_sigma", self.canny_sigma, 0.0, 1.0)
        _check_range("canny_floor", self.canny_floor, 0.0, 255.0)
        _check_range("canny_percentile", self.canny_percentile, 0.0, 100.0, hi_open=True)
        _check_int("thickness", self.thickness, 1, 15)
        _check_int("classes", self.classes, 2, MAX_CLASSES)
        _check_int("edge_tones", self.edge_tones, 0, MAX_CLASSES)
        if self.edge_tones == 1:
            raise LganError("map config: edge_tones must be 0 (plain edges) or at least 2, got 1")
        _check_range("seg_blur", self.seg_blur, 0.0, 20.0)
        _check_int("seg_size", self.seg_size, 8, 4096)
        _check_int("seg_iterations", self.seg_iterations, 1, 100)
        _check_int("seg_smooth", self.seg_smooth, 1, 15)
        if self.seg_smooth % 2 == 0:
            raise LganError(f"map config: seg_smooth must be odd, got {self.seg_smooth}")
        _check_range("seg_merge", self.seg_merge, 0.0, 100.0)
        _check_range("temporal", self.temporal, 0.0, 1.0, hi_open=True)
        _check_range("temporal_motion", self.temporal_motion, 1.0, 255.0)

    @property
    def channels(self) -> int:
        """Channels of the network input: 1 for edge maps (plus ``edge_tones`` one-hot tone
        channels), ``classes`` (one-hot) for seg."""
        return 1 + self.tones if self.mode == "edge" else self.classes

    @property
    def tones(self) -> int:
        """Tone labels of an edge map (``edge_tones`` in edge mode, else 0)."""
        return self.edge_tones if self.mode == "edge" else 0

    @property
    def slots(self) -> int:
        """Lightness slots a palette needs for these maps: seg classes, edge tones, or 1 (the
        mean colour, for plain edges)."""
        return self.classes if self.mode == "seg" else max(self.tones, 1)

    def tone_config(self) -> MapConfig:
        """The seg config that makes this edge config's tones (``classes = edge_tones``)."""
        return dataclasses.replace(self, mode="seg", classes=self.edge_tones, edge_tones=0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field (``from_dict`` inverts it)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MapConfig:
        """Build from ``to_dict()`` output; unknown keys or bad values raise ``LganError``."""
        if not isinstance(d, dict):
            raise LganError(f"map config: expected a dict, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise LganError(f"map config: unknown key(s) {', '.join(map(str, unknown))}")
        return cls(**d)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise LganError(f"map config: {name} must be one of {', '.join(choices)}, got {value!r}")


def _check_int(name: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise LganError(f"map config: {name} must be an integer in [{lo}, {hi}], got {value!r}")


def _check_range(name: str, value: Any, lo: float, hi: float, hi_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and lo <= value and (value < hi if hi_open else value <= hi)
    if not ok:
        bracket = ")" if hi_open else "]"
        raise LganError(f"map config: {name} must be a number in [{lo}, {hi}{bracket}, got {value!r}")
