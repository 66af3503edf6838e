"""The one place where images cross between uint8 arrays and network tensors.

Networks see ``(B, 3, H, W)`` float tensors in ``[-1, 1]``; media code sees ``(B, H, W, 3)`` or
``(H, W, 3)`` uint8 RGB arrays. Everything converts through these two functions.
"""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(
    images: np.ndarray,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """uint8 RGB ``(H, W, 3)`` or ``(B, H, W, 3)`` in [0, 255] -> ``(B, 3, H, W)`` in [-1, 1]."""
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 images, got {images.dtype}")
    batch = images[None] if images.ndim == 3 else images
    t = torch.from_numpy(np.ascontiguousarray(batch)).to(device)
    t = t.permute(0, 3, 1, 2).to(dtype)  # (B, 3, H, W)
    return t.div(127.5).sub(1.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """``(B, 3, H, W)`` in [-1, 1] (any float dtype or device) -> uint8 ``(B, H, W, 3)``.

    Values outside [-1, 1] are clipped; rounding is to nearest, so ``to_uint8(to_tensor(x)) == x``.
    """
    x = images.detach().float().clamp(-1.0, 1.0).add(1.0).mul(127.5).round()
    return x.to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu().numpy()
