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
        sle: FastGAN skip-layer excitation: the block output at side r gates the channels of the
            block output at side 8r (4 -> 32, 8 -> 64, ...), a cheap long-range shortcut.
        d_recon: FastGAN's self-supervised discriminator: a small decoder reconstructs the real
            image at 32x32 from D's 8x8 features (trained with a reconstruction loss on reals).
    """

    z_dim: int = 128
    resolution: int = 64
    channels: int = 512
    min_channels: int = 32
    attention: tuple[int, ...] = (32,)
    d_channels: int = 64
    d_attention: tuple[int, ...] = (32,)
    sle: bool = False
    d_recon: bool = False

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

    def sle_pairs(self) -> list[tuple[int, int]]:
        """(source block, target block) index pairs of skip-layer excitations (block i is 8 << i
        pixels wide; -1 is the 4x4 input)."""
        if not self.sle:
            return []
        return [(i, i + 3) for i in range(-1, self.n_blocks - 3)]

    @property
    def n_blocks(self) -> int:
        """Number of x2 blocks between 4x4 and ``resolution``."""
        return int(math.log2(self.resolution)) - 2

    def g_channels(self, block: int) -> int:
        """Generator channels after block ``block`` (-1: the 4x4 input)."""
        return max(self.channels >> (block + 1), self.min_channels)


class SkipExcitation(nn.Module):
    """FastGAN's skip-layer excitation: low-resolution features -> per-channel gates in (0, 1).

    ``(B, C_low, h, w)`` -> pool to 4x4 -> conv 4x4 -> LeakyReLU -> conv 1x1 -> sigmoid
    -> ``(B, C_high, 1, 1)``, multiplied onto the high-resolution features.
    """

    def __init__(self, c_low: int, c_high: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Conv2d(c_low, c_high, 4),
                                 nn.LeakyReLU(0.1, inplace=True), nn.Conv2d(c_high, c_high, 1),
                                 nn.Sigmoid())

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return high * self.net(low)


class G1Generator(nn.Module):
    """z -> image. Linear to 4x4, then [nearest x2, conv 3x3, BN, ReLU, optional attention] blocks,
    with optional skip-layer excitations (``cfg.sle``) between blocks 8x apart in resolution.

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
        self.sle = nn.ModuleDict({str(dst): SkipExcitation(cfg.g_channels(src), cfg.g_channels(dst))
                                  for src, dst in cfg.sle_pairs()})
        self.sle_src = {dst: src for src, dst in cfg.sle_pairs()}
        self.to_rgb = nn.Conv2d(cfg.g_channels(cfg.n_blocks - 1), 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).view(z.shape[0], -1, 4, 4)  # (B, C0, 4, 4)
        x = F.relu(self.fc_norm(x))
        outs = {-1: x}
        for i, block in enumerate(self.blocks):
            x = block(x)  # (B, C_i, 8 << i, 8 << i)
            if i in self.sle_src:
                x = self.sle[str(i)](outs[self.sle_src[i]], x)
            outs[i] = x
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
        self.decoder = _Decoder(self._channels_at(8)) if cfg.d_recon else None

    def _channels_at(self, side: int) -> int:
        """Channels of the block output whose side is ``side``."""
        i = int(math.log2(self.cfg.resolution // side)) - 1
        return min(self.cfg.d_channels * 2 ** (i + 1), self.cfg.d_channels * 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scores_and_reconstruction(x)[0]

    def scores_and_reconstruction(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Scores ``(B,)`` and, with ``d_recon``, the 32x32 reconstruction ``(B, 3, 32, 32)``
        decoded from the 8x8 features (None without a decoder)."""
        h, recon = self.stem(x), None
        for layer in self.blocks:
            h = layer(h)
            if self.decoder is not None and recon is None and h.shape[-1] == 8:
                recon = self.decoder(h)
        h = F.leaky_relu(h, 0.2).sum(dim=(2, 3))  # (B, C)
        return self.head(h).squeeze(1), recon


class _Decoder(nn.Module):
    """8x8 discriminator features -> 32x32 RGB in [-1, 1] (FastGAN's simple decoder)."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        c = max(16, c_in // 2)
        self.net = nn.Sequential(
            nn.Upsample(scale_factor=2.0), nn.Conv2d(c_in, c, 3, 1, 1), nn.BatchNorm2d(c),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2.0), nn.Conv2d(c, c // 2, 3, 1, 1), nn.BatchNorm2d(c // 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c // 2, 3, 3, 1, 1), nn.Tanh())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)
