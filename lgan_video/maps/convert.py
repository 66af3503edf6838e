"""Structure maps as network tensors and as pictures for people."""

from __future__ import annotations

import colorsys

import numpy as np
import torch

from lgan_video.errors import LganError
from lgan_video.maps.config import EDGE_BIT, MapConfig

# Kelly's colours of maximum contrast (minus white and black), then golden-angle hues.
_KELLY = [
    (255, 179, 0), (128, 62, 117), (255, 104, 0), (166, 189, 215), (193, 0, 32),
    (206, 162, 98), (129, 112, 102), (0, 125, 52), (246, 118, 142), (0, 83, 138),
    (255, 122, 92), (83, 55, 122), (255, 142, 0), (179, 40, 81), (244, 200, 0),
    (127, 24, 13), (147, 170, 0), (89, 51, 21), (241, 58, 19), (35, 44, 22),
]


def palette(k: int) -> np.ndarray:
    """``(k, 3)`` uint8 RGB colours, fixed and distinguishable; ``palette(k)[i]`` = label i."""
    colours = list(_KELLY[:k])
    for i in range(len(colours), k):
        r, g, b = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.75, 0.55 + 0.4 * (i % 2))
        colours.append((round(r * 255), round(g * 255), round(b * 255)))
    return np.array(colours, np.uint8)


def map_to_tensor(
    maps: np.ndarray,
    cfg: MapConfig,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Maps ``(H, W)`` or ``(B, H, W)`` uint8 -> network input ``(B, cfg.channels, H, W)``.

    Edge: one channel, 0 -> -1 and 255 -> 1 (linear in between). Seg: one-hot over
    ``cfg.classes`` channels with values in {-1, 1}; a label >= classes raises ``LganError``.
    Edge with tones: the edge channel (-1 or 1), then the tones one-hot over ``cfg.edge_tones``.
    """
    batch = _check_maps(maps)
    t = torch.from_numpy(np.ascontiguousarray(batch)).to(device)
    if cfg.mode == "edge" and not cfg.tones:
        return t[:, None].to(dtype).div(127.5).sub(1.0)
    if cfg.tones:
        _check_top(batch & (EDGE_BIT - 1), cfg.tones, "edge map tone")
        edges = (t >= EDGE_BIT)[:, None].to(dtype).mul(2.0).sub(1.0)
        return torch.cat([edges, _onehot(t & (EDGE_BIT - 1), cfg.tones, dtype)], dim=1)
    _check_top(batch, cfg.classes, "seg map label")
    return _onehot(t, cfg.classes, dtype)


def _onehot(labels: torch.Tensor, k: int, dtype: torch.dtype) -> torch.Tensor:
    """uint8 labels ``(B, H, W)``, all < k -> one-hot ``(B, k, H, W)`` in {-1, 1}."""
    onehot = torch.nn.functional.one_hot(labels.long(), k)  # (B, H, W, k)
    return onehot.permute(0, 3, 1, 2).to(dtype).mul(2.0).sub(1.0)


def tensor_to_map(t: torch.Tensor, cfg: MapConfig) -> np.ndarray:
    """Inverse of :func:`map_to_tensor`: ``(B, cfg.channels, H, W)`` -> ``(B, H, W)`` uint8.

    Edge: 255 where the channel is > 0, else 0. Seg: argmax over channels (logits welcome).
    Edge with tones: argmax over the tone channels, plus ``EDGE_BIT`` where the edge channel > 0.
    """
    if t.ndim != 4 or t.shape[1] != cfg.channels:
        raise LganError(
            f"expected a (B, {cfg.channels}, H, W) map tensor for {cfg.mode}, got {tuple(t.shape)}"
        )
    t = t.detach()
    if cfg.tones:
        out = t[:, 1:].float().argmax(dim=1).to(torch.uint8) | (t[:, 0] > 0).to(torch.uint8) * EDGE_BIT
    elif cfg.mode == "edge":
        out = (t[:, 0] > 0).to(torch.uint8).mul(255)
    else:
        out = t.float().argmax(dim=1).to(torch.uint8)
    return out.cpu().numpy()


def map_preview(map_: np.ndarray, cfg: MapConfig) -> np.ndarray:
    """``(H, W)`` uint8 map -> ``(H, W, 3)`` uint8 RGB: dark edges on white, coloured labels, or
    black edges over grey tones (darkest tone 64, lightest 255)."""
    if not isinstance(map_, np.ndarray) or map_.dtype != np.uint8 or map_.ndim != 2:
        raise LganError(f"map preview: expected an (H, W) uint8 map, got {_describe(map_)}")
    if cfg.tones:
        tones = map_ & (EDGE_BIT - 1)
        _check_top(tones, cfg.tones, "edge map tone")
        grey = np.linspace(64, 255, cfg.tones).round().astype(np.uint8)[tones]
        return np.repeat(np.where(map_ >= EDGE_BIT, 0, grey).astype(np.uint8)[..., None], 3, axis=2)
    if cfg.mode == "edge":
        return np.repeat((255 - map_)[..., None], 3, axis=2)
    _check_top(map_, cfg.classes, "seg map label")
    return palette(cfg.classes)[map_]


def _check_top(labels: np.ndarray, k: int, what: str) -> None:
    top = int(labels.max()) if labels.size else 0
    if top >= k:
        raise LganError(f"{what} {top} is out of range: the config has {k}")


def _check_maps(maps: object) -> np.ndarray:
    if not isinstance(maps, np.ndarray) or maps.dtype != np.uint8 or maps.ndim not in (2, 3):
        raise LganError(f"expected (H, W) or (B, H, W) uint8 maps, got {_describe(maps)}")
    return maps[None] if maps.ndim == 2 else maps


def _describe(a: object) -> str:
    if isinstance(a, np.ndarray):
        return f"{a.dtype} array of shape {a.shape}"
    return type(a).__name__
