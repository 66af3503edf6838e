"""DiffAugment (Zhao et al. 2020): differentiable augmentations of everything D sees.

Augmenting real and fake images alike, with operations gradients flow through, keeps a
discriminator from memorising a small training set, which is what makes GANs collapse on a few
hundred or thousand images. Policies: ``color`` (brightness, saturation, contrast), ``translation``
(up to 1/8 of the side, zero fill), ``cutout`` (a zeroed square of half the side).

Paired inputs (a structure map and its image) must move together: :func:`diff_augment` takes a
list of tensors and draws one set of parameters per sample, shared by every tensor of the list;
``color`` only touches the tensors flagged as RGB. Randomness comes from torch's global RNG (saved
and restored by training checkpoints, so resume stays exact).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,translation,cutout"`` -> a tuple of names; ``""`` or ``"none"`` -> ``()``."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip() and p.strip() != "none")
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown[0]!r} (choose from {', '.join(POLICIES)})")
    return names


def diff_augment(xs: Sequence[torch.Tensor], policy: Sequence[str],
                 rgb: Sequence[bool] | None = None) -> list[torch.Tensor]:
    """Augment ``xs`` (each ``(B, C_i, H, W)``, same B, H, W) with shared per-sample parameters.

    ``rgb[i]`` marks the tensors that are images in [-1, 1] (colour jitter applies to them only).
    Returns new tensors; an empty ``policy`` returns the inputs unchanged.
    """
    out = list(xs)
    rgb = list(rgb) if rgb is not None else [True] * len(out)
    for name in policy:
        if name == "color":
            out = _color(out, rgb)
        elif name == "translation":
            out = _translation(out)
        elif name == "cutout":
            out = _cutout(out)
    return out


def _rand(b: int, ref: torch.Tensor) -> torch.Tensor:
    return torch.rand(b, 1, 1, 1, device=ref.device, dtype=torch.float32)


def _color(xs: list[torch.Tensor], rgb: list[bool]) -> list[torch.Tensor]:
    """Brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5] (in [-1, 1] units: doubled)."""
    b = xs[0].shape[0]
    bright, sat, con = _rand(b, xs[0]) - 0.5, _rand(b, xs[0]) * 2, _rand(b, xs[0]) + 0.5
    out = []
    for x, is_rgb in zip(xs, rgb, strict=True):
        if not is_rgb:
            out.append(x)
            continue
        x = x + bright.to(x.dtype) * 2.0
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * sat.to(x.dtype) + mean
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        out.append((x - mean) * con.to(x.dtype) + mean)
    return out


def _translation(xs: list[torch.Tensor], ratio: float = 0.125) -> list[torch.Tensor]:
    """Shift each sample by up to ``ratio`` of its height/width; vacated pixels become 0."""
    b, _, h, w = xs[0].shape
    dev = xs[0].device
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), device=dev)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), device=dev)
    gb, gy, gx = torch.meshgrid(torch.arange(b, device=dev), torch.arange(h, device=dev),
                                torch.arange(w, device=dev), indexing="ij")
    gy = (gy + ty + 1).clamp(0, h + 1)
    gx = (gx + tx + 1).clamp(0, w + 1)
    out = []
    for x in xs:
        padded = torch.nn.functional.pad(x, (1, 1, 1, 1))  # zero border to sample from
        out.append(padded.permute(0, 2, 3, 1)[gb, gy, gx].permute(0, 3, 1, 2).contiguous())
    return out


def _cutout(xs: list[torch.Tensor], ratio: float = 0.5) -> list[torch.Tensor]:
    """Zero a ``ratio``-sized square at a random place in each sample."""
    b, _, h, w = xs[0].shape
    dev = xs[0].device
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=dev)
    ox = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=dev)
    ys = torch.arange(h, device=dev).view(1, h, 1)
    xs_ = torch.arange(w, device=dev).view(1, 1, w)
    dy, dx = ys - oy + ch // 2, xs_ - ox + cw // 2  # position inside the square
    inside = (dy >= 0) & (dy < ch) & (dx >= 0) & (dx < cw)  # (B, H, W)
    keep = (~inside).unsqueeze(1)  # (B, 1, H, W)
    return [x * keep.to(x.dtype) for x in xs]
