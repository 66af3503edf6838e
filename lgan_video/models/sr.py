"""Super-resolution: residual-dense blocks on top of a bicubic skip (RRDB-like, small)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lgan_video.models.config import JsonConfig


@dataclass(frozen=True)
class SRConfig(JsonConfig):
    """Architecture of the super-resolution network.

    Args:
        scale: upscaling factor (2, 3 or 4).
        channels: feature channels of the body.
        blocks: residual-dense blocks.
        growth: channels each dense layer adds.
        dense_layers: convs per residual-dense block.
    """

    scale: int = 2
    channels: int = 32
    blocks: int = 4
    growth: int = 16
    dense_layers: int = 4

    def __post_init__(self) -> None:
        if self.scale not in (2, 3, 4):
            raise ValueError(f"scale must be 2, 3 or 4, got {self.scale}")
        for name in ("channels", "growth", "dense_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.blocks < 0:
            raise ValueError(f"blocks must be >= 0, got {self.blocks}")


class ResidualDenseBlock(nn.Module):
    """Dense 3x3 convs (each sees all earlier features), 1x1 local fusion, residual scaled by 0.2.

    Shapes: ``(B, C, H, W) -> (B, C, H, W)``.
    """

    def __init__(self, channels: int, growth: int, layers: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv2d(channels + i * growth, growth, 3, padding=1) for i in range(layers)]
        )
        self.fuse = nn.Conv2d(channels + layers * growth, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for conv in self.convs:
            features.append(F.leaky_relu(conv(torch.cat(features, dim=1)), 0.2))
        return x + 0.2 * self.fuse(torch.cat(features, dim=1))


class SRNetwork(nn.Module):
    """Image -> ``scale`` times larger image: ``bicubic(x) + body(x)``.

    The body is a conv stem, ``blocks`` residual-dense blocks with a global residual, PixelShuffle
    upsampling (x4 = two x2) and a conv to RGB whose weights start small, so an untrained network
    is close to bicubic and training only has to learn the detail.

    Input ``(B, 3, H, W)`` in [-1, 1]; output ``(B, 3, scale*H, scale*W)``, not clamped.
    """

    def __init__(self, cfg: SRConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.body = nn.Sequential(
            *[ResidualDenseBlock(c, cfg.growth, cfg.dense_layers) for _ in range(cfg.blocks)]
        )
        self.body_out = nn.Conv2d(c, c, 3, padding=1)
        factors = [2, 2] if cfg.scale == 4 else [cfg.scale]
        up: list[nn.Module] = []
        for f in factors:
            up += [nn.Conv2d(c, c * f * f, 3, padding=1), nn.PixelShuffle(f), nn.LeakyReLU(0.2, True)]
        self.upsample = nn.Sequential(*up)
        self.to_rgb = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1), nn.LeakyReLU(0.2, True), nn.Conv2d(c, 3, 3, padding=1)
        )
        with torch.no_grad():
            self.to_rgb[-1].weight.mul_(0.1)
            self.to_rgb[-1].bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.stem(x)  # (B, C, H, W)
        feat = feat + self.body_out(self.body(feat))
        detail = self.to_rgb(self.upsample(feat))  # (B, 3, sH, sW)
        base = F.interpolate(x, scale_factor=self.cfg.scale, mode="bicubic", align_corners=False)
        return base + detail
