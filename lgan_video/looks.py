"""Looks from reference pictures: read them, and walk between them over time.

A render's look normally comes from G1(z_t) along a latent walk. With reference images the
appearance path takes the pictures themselves: each picture's style vector is computed once, and
frame t is painted with a convex mix of them whose weights walk from picture to picture with the
same eased timing as a seed walk (``style_period`` per step, resting on the last one).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from lgan_video.errors import LganError
from lgan_video.latents import walk_position

_MAX_REFERENCES = 64


def parse_style(text: str) -> tuple[Path, ...]:
    """``"a.png,b.jpg"`` -> paths; LganError for an empty list or a missing file."""
    paths = tuple(Path(p.strip()) for p in str(text).split(",") if p.strip())
    if not paths:
        raise LganError("--style needs at least one image path")
    if len(paths) > _MAX_REFERENCES:
        raise LganError(f"--style takes at most {_MAX_REFERENCES} images, got {len(paths)}")
    for p in paths:
        if not p.is_file():
            raise LganError(f"style image not found: {p}")
    return paths


def read_references(paths: Sequence[str | Path]) -> list[np.ndarray]:
    """The reference pictures as uint8 RGB ``(H, W, 3)`` (one-line LganError if unreadable)."""
    from lgan_video.media.images import load_image

    return [load_image(Path(p)) for p in paths]


def mix_at(n: int, u: float, loop: bool = False) -> torch.Tensor:
    """Mixing weights ``(n,)`` (non-negative, summing to 1) after walking ``u`` steps: step k
    goes from picture k to picture k + 1 (to picture 0 after the last when looping), eased as
    seed walks are (:func:`latents.walk_position`)."""
    k, nxt, t = walk_position(n, u, loop)
    w = torch.zeros(n, dtype=torch.float32)
    w[k] += 1.0 - t
    w[nxt] += t
    return w


def iter_mixes(n: int, period_frames: int, loop: bool = False) -> Iterator[torch.Tensor]:
    """Endless ``(n,)`` weights, ``period_frames`` frames per step (like ``latents.iter_latents``)."""
    if period_frames < 1:
        raise LganError(f"frames per style must be at least 1, got {period_frames}")
    i = 0
    while True:
        yield mix_at(n, i / period_frames, loop)
        i += 1


def mix_path(n: int, n_frames: int, frames_per_style: int, loop: bool = False) -> torch.Tensor:
    """``(n_frames, n)`` weights: the first ``n_frames`` of :func:`iter_mixes`."""
    it = iter_mixes(n, frames_per_style, loop)
    return torch.stack([next(it) for _ in range(n_frames)])
