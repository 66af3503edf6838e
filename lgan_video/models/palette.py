"""Palettes: an appearance image's colour per seg label, and structure maps painted with it.

A seg map numbers its segments by lightness (:func:`lgan_video.maps.segment.luminance_slots`):
with as many segments as labels, label ``k`` is the ``k``-th darkest. :func:`slot_palette`
segments the appearance image the same way and takes the mean colour of each label, so
:func:`paint` turns a frame's map into a picture with the frame's layout and light and dark and
the appearance's colours: a coloured starting point that the mapping network refines
(``MappingConfig.palette``). With one slot (edge maps carry no light and dark) the palette is the
appearance's mean colour.
"""

from __future__ import annotations

import numpy as np
import torch

LIGHTNESS_SPACES = ("lab", "rgb")  # the seg maps' colour spaces
_LUMA = (0.299, 0.587, 0.114)  # BT.601


def slot_palette(appearance: torch.Tensor, slots: int, space: str = "lab") -> torch.Tensor:
    """Appearance ``(B, 3, h, w)`` in [-1, 1] -> palette ``(B, slots, 3)`` in [-1, 1].

    ``slots == 1``: the mean colour. Otherwise the appearance is segmented as frames are
    (:func:`lgan_video.maps.segment.seg_map`, ``classes=slots``, colour space ``space``) and row
    ``k`` is the mean colour of its pixels labelled ``k``; a label it does not use takes the
    nearest used label's colour (the darker one on a tie) plus the grey offset that moves its
    luma to ``k / (slots - 1)``, clamped. Runs on the CPU (OpenCV), not differentiable.
    """
    if slots < 1:
        raise ValueError(f"slots must be positive, got {slots}")
    if slots == 1:
        return appearance.float().mean(dim=(2, 3))[:, None].to(appearance.dtype)
    from lgan_video.maps import MapConfig
    from lgan_video.maps.segment import seg_map

    cfg = MapConfig(mode="seg", classes=slots, color_space=space)
    rgb = ((appearance.detach().float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    rows = [_label_colours(im, seg_map(np.ascontiguousarray(im), cfg)[0], slots)
            for im in rgb.permute(0, 2, 3, 1).cpu().numpy()]
    palette = torch.from_numpy(np.stack(rows)).to(appearance.device)
    return palette.mul(2 / 255).sub(1).to(appearance.dtype)


def _label_colours(rgb: np.ndarray, labels: np.ndarray, slots: int) -> np.ndarray:
    """``(h, w, 3)`` uint8 + labels ``(h, w)`` -> ``(slots, 3)`` float32 colours in [0, 255]."""
    counts = np.bincount(labels.ravel(), minlength=slots)[:slots]
    sums = np.stack([np.bincount(labels.ravel(), rgb[..., c].ravel().astype(np.float64),
                                 minlength=slots)[:slots] for c in range(3)], axis=1)
    means = sums / np.maximum(counts, 1)[:, None]
    used = np.flatnonzero(counts)
    k = np.arange(slots)
    nearest = used[np.abs(k[:, None] - used[None]).argmin(1)]  # first minimum: the darker
    filled = means[nearest]
    shift = 255.0 * k / (slots - 1) - filled @ np.array(_LUMA)
    out = np.where((counts > 0)[:, None], means, np.clip(filled + shift[:, None], 0, 255))
    return out.astype(np.float32)


def paint(maps: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Maps ``(B, C, H, W)`` in [-1, 1] + palette ``(B, K, 3)`` -> image ``(B, 3, H, W)`` in [-1, 1].

    Seg maps (one-hot, ``C == K``): each pixel takes its label's colour. Edge maps (``K == 1``):
    the flat palette colour everywhere.
    """
    b, c, h, w = maps.shape
    if palette.shape[1] == 1:
        return palette[:, 0, :, None, None].expand(b, 3, h, w).to(maps.dtype)
    if palette.shape[1] != c:
        raise ValueError(f"palette has {palette.shape[1]} slots for maps with {c} channels")
    return torch.einsum("bkhw,bkc->bchw", (maps + 1) / 2, palette.to(maps.dtype))
