"""G1: the SAGAN-like unconditional generator that gives the "look", and its discriminator."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lgan_video.models.config import JsonConfig
from lgan_video.models.layers import SelfAttention, check_power_of_two, sn_conv, sn_linear

_RESOLUTIONS = (32, 64, 128, 256)


@dataclass(frozen=True)
class G1Config(JsonConfig):
    """Architecture of G1 and its discriminator.

    Args:
        z_dim: latent size.
        resolution: output side R (32, 64, 128 or 256).
        channels: generator channels at 4x4; halved by each upsampling block.
        min_channels: floor of the generator channels.
        attention: resolutions after whose generator block a self-attention layer runs.
        d_channels: discriminator channels at full resolution; doubled by each downsampling
            block up to ``8 * d_channels``.
        d_attention: resolutions at which the discriminator applies self-attention.
    """

    z_dim: int = 128
    resolution: int = 64
    channels: int = 512
    min_channels: int = 32
    attention: tuple[int, ...] = (32,)
    d_channels: int = 64
    d_attention: tuple[int, ...] = (32,)

    def __post_init__(self) -> None:
        check_power_of_two("resolution", self.resolution, _RESOLUTIONS)
        for name in ("z_dim", "channels", "min_channels", "d_channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        g_res = [4 * 2**i for i in range(1, self.n_blocks + 1)]
        if bad := [r for r in self.attention if r not in g_res]:
            raise ValueError(f"attention resolutions {bad} are not generator block outputs {g_res}")
        d_res = [self.resolution // 2**i for i in range(self.n_blocks + 1)]
        if bad := [r for r in self.d_attention if r not in d_res]:
            raise ValueError(f"d_attention resolutions {bad} are not discriminator stages {d_res}")

    @property
    def n_blocks(self) -> int:
        """Number of x2 blocks between 4x4 and ``resolution``."""
        return int(math.log2(self.resolution)) - 2

    def g_channels(self, block: int) -> int:
        """Generator channels after block ``block`` (-1: the 4x4 input)."""
        return max(self.channels >> (block + 1), self.min_channels)


class G1Generator(nn.Module):
    """z -> image. Linear to 4x4, then [nearest x2, conv 3x3, BN, ReLU, optional attention] blocks.

    Input ``z (B, z_dim)`` (standard normal); output ``(B, 3, R, R)`` in [-1, 1] (tanh).
    """

    def __init__(self, cfg: G1Config) -> None:
        super().__init__()
        self.cfg = cfg
        c0 = cfg.g_channels(-1)
        self.fc = nn.Linear(cfg.z_dim, c0 * 16)
        self.fc_norm = nn.BatchNorm2d(c0)
        blocks = []
        for i in range(cfg.n_blocks):
            c_in, c_out = cfg.g_channels(i - 1), cfg.g_channels(i)
            layers: list[nn.Module] = [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]
            if 4 * 2 ** (i + 1) in cfg.attention:
                layers.append(SelfAttention(c_out))
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.Sequential(*blocks)
        self.to_rgb = nn.Conv2d(cfg.g_channels(cfg.n_blocks - 1), 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).view(z.shape[0], -1, 4, 4)  # (B, C0, 4, 4)
        x = F.relu(self.fc_norm(x))
        x = self.blocks(x)  # (B, C, R, R)
        return torch.tanh(self.to_rgb(x))


class _DBlock(nn.Module):
    """Residual spectral-norm block: two 3x3 convs with LeakyReLU, then 2x2 average pooling."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = sn_conv(c_in, c_out)
        self.conv2 = sn_conv(c_out, c_out)
        self.skip = sn_conv(c_in, c_out, kernel=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.leaky_relu(x, 0.2))
        h = self.conv2(F.leaky_relu(h, 0.2))
        return F.avg_pool2d(h + self.skip(x), 2)


class G1Discriminator(nn.Module):
    """SAGAN-style critic: image -> one raw score per image (hinge or non-saturating loss).

    Spectral-norm residual downsampling blocks from R to 4x4, self-attention at ``d_attention``,
    global sum pooling and a spectral-norm linear layer.

    Input ``(B, 3, R, R)`` in [-1, 1]; output ``(B,)`` unbounded scores.
    """

    def __init__(self, cfg: G1Config) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.d_channels
        self.stem = sn_conv(3, c)
        layers: list[nn.Module] = []
        if cfg.resolution in cfg.d_attention:
            layers.append(SelfAttention(c, spectral=True))
        for i in range(cfg.n_blocks):
            c_out = min(cfg.d_channels * 2 ** (i + 1), cfg.d_channels * 8)
            layers.append(_DBlock(c, c_out))
            if cfg.resolution // 2 ** (i + 1) in cfg.d_attention:
                layers.append(SelfAttention(c_out, spectral=True))
            c = c_out
        self.blocks = nn.Sequential(*layers)
        self.head = sn_linear(c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x))  # (B, C, 4, 4)
        h = F.leaky_relu(h, 0.2).sum(dim=(2, 3))  # (B, C)
        return self.head(h).squeeze(1)
