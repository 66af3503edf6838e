"""G2 mapping: a style-modulated ResNet translator from structure maps to images, and its helpers.

``MappingNetwork`` paints a structure map (edges or segments) in the look of an appearance image
(a G1 sample): a :class:`StyleEncoder` squeezes the appearance into a style vector that modulates
the instance norms of the translator. ``PatchDiscriminator`` judges (map, image) pairs and
``RecoveryNetwork`` maps images back to structure-map logits (the paper's image recovery path).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lgan_video.models.config import JsonConfig
from lgan_video.models.layers import InstanceNorm, ReflectPad, StyleNorm, reflect_conv, sn_conv
from lgan_video.models.palette import LIGHTNESS_SPACES, paint, slot_palette


@dataclass(frozen=True)
class MappingConfig(JsonConfig):
    """Architecture of the mapping network, its patch discriminator and the recovery network.

    Args:
        map_channels: channels C of the structure-map tensor (1 for edges, ``classes`` for seg).
        style_dim: length S of the style vector.
        base_channels: translator channels at full resolution (ngf); doubled per downsampling.
        n_down: stride-2 downsampling stages (H and W must be multiples of ``2 ** n_down``).
        n_blocks: style-modulated residual blocks at the bottleneck.
        appearance_size: side the appearance image is resized to before style encoding.
        d_channels: patch discriminator channels of the first layer.
        d_layers: stride-2 layers of the patch discriminator (3 gives 70x70 receptive fields).
        recovery_channels: width of the recovery network.
        d_scales: patch discriminators at 1, 1/2, 1/4... of the input size (pix2pixHD's
            multi-scale D; 1 is pix2pix's single PatchGAN).
        palette: paint the map with the appearance's colour per lightness slot
            (:mod:`lgan_video.models.palette`), feed that picture to the translator beside the
            map, and predict the output as a correction of it (zero at initialisation). The
            style vector then carries the palette after the learned style
            (``style_length = style_dim + 3 * slots``).
        lightness: how the palette ranks lightness, as the seg maps' ``color_space`` does.
        palette_slots: the palette's lightness slots, painted from the last ``palette_slots``
            map channels (edge maps with tones: the tone channels after the edge channel);
            0 = ``map_channels`` (seg maps, and plain edges: one slot, the mean colour).
        antialias: low-pass before each stride-2 stage (a [1, 2, 1] binomial blur, Zhang 2019,
            "Making Convolutional Networks Shift-Invariant Again") and bilinear instead of
            nearest x2 upsampling, so that strided stages alias less. No parameters are added
            (the blur is fixed). Off by default: with edge maps with tones it measured no less
            flicker, 0.05 dB less PSNR and 13-21 % more time (docs/ABLATION.md, round 5).
    """

    map_channels: int = 1
    style_dim: int = 64
    base_channels: int = 32
    n_down: int = 3
    n_blocks: int = 9
    appearance_size: int = 64
    d_channels: int = 64
    d_layers: int = 3
    recovery_channels: int = 32
    d_scales: int = 1
    palette: bool = False
    lightness: str = "lab"
    palette_slots: int = 0
    antialias: bool = False

    def __post_init__(self) -> None:
        for name in ("map_channels", "style_dim", "base_channels", "appearance_size",
                     "d_channels", "d_layers", "recovery_channels", "d_scales"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 1 <= self.n_down <= 5:
            raise ValueError(f"n_down must be in 1..5, got {self.n_down}")
        if self.n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {self.n_blocks}")
        if self.appearance_size < 8:
            raise ValueError(f"appearance_size must be >= 8, got {self.appearance_size}")
        if not 0 <= self.palette_slots <= self.map_channels:
            raise ValueError(f"palette_slots must be in 0..map_channels ({self.map_channels}), "
                             f"got {self.palette_slots}")
        if self.lightness not in LIGHTNESS_SPACES:
            raise ValueError(f"lightness must be one of {LIGHTNESS_SPACES}, got {self.lightness!r}")

    @property
    def multiple(self) -> int:
        """H and W of translated maps must be multiples of this (``2 ** n_down``)."""
        return 2**self.n_down

    @property
    def slots(self) -> int:
        """Lightness slots of the palette (``palette_slots``, or ``map_channels`` when 0)."""
        return self.palette_slots or self.map_channels

    @property
    def style_length(self) -> int:
        """Length of what :meth:`MappingNetwork.encode_style` returns (style, then palette)."""
        return self.style_dim + (3 * self.slots if self.palette else 0)


class StyleEncoder(nn.Module):
    """Appearance image -> style vector: strided convs, global average pooling, linear.

    No normalisation layers: they would erase exactly the colour statistics the style carries.
    Input ``(B, 3, s, s)`` in [-1, 1] with ``s = appearance_size``; output ``(B, style_dim)``.
    """

    def __init__(self, cfg: MappingConfig) -> None:
        super().__init__()
        c = cfg.base_channels
        layers: list[nn.Module] = [nn.Conv2d(3, c, 3, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        for _ in range(3):
            c_out = min(c * 2, cfg.base_channels * 4)
            layers += [nn.Conv2d(c, c_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            c = c_out
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, cfg.style_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean(dim=(2, 3)))


class _StyleBlock(nn.Module):
    """Residual block: two reflect-padded 3x3 convs, each followed by a style-modulated IN."""

    def __init__(self, channels: int, style_dim: int) -> None:
        super().__init__()
        self.conv1 = reflect_conv(channels, channels, 3)
        self.norm1 = StyleNorm(channels, style_dim)
        self.conv2 = reflect_conv(channels, channels, 3)
        self.norm2 = StyleNorm(channels, style_dim)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.norm1(self.conv1(x), style))
        return x + self.norm2(self.conv2(h), style)


class _UpStage(nn.Module):
    """Nearest (or, ``smooth``, bilinear) x2, reflect-padded 3x3 conv, style-modulated IN, ReLU
    (no checkerboards)."""

    def __init__(self, c_in: int, c_out: int, style_dim: int, smooth: bool = False) -> None:
        super().__init__()
        self.conv = reflect_conv(c_in, c_out, 3)
        self.norm = StyleNorm(c_out, style_dim)
        self.mode = "bilinear" if smooth else "nearest"

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode=self.mode)
        return F.relu(self.norm(self.conv(x), style))


class Blur(nn.Module):
    """Fixed 3x3 binomial low-pass (``[1, 2, 1] / 4`` in each direction), per channel, reflect
    padded; the antialiasing filter of a stride-2 stage. Its kernel is a non-persistent buffer,
    so weights files are unchanged. Shapes: ``(B, C, H, W) -> (B, C, H, W)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0]) / 4
        kernel = (taps[:, None] * taps[None, :]).expand(channels, 1, 3, 3).contiguous()
        self.register_buffer("kernel", kernel, persistent=False)
        self.pad = ReflectPad(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(self.pad(x), self.kernel.to(x.dtype), groups=x.shape[1])


def _down_stage(c_in: int, c_out: int, antialias: bool = False) -> nn.Sequential:
    conv = nn.Conv2d(c_in, c_out, 3, 2, 1)
    if antialias:  # blur then subsample (the stride-2 conv): blur and conv commute
        return nn.Sequential(Blur(c_in), conv, InstanceNorm(), nn.ReLU(True))
    return nn.Sequential(conv, InstanceNorm(), nn.ReLU(True))


class MappingNetwork(nn.Module):
    """Structure maps + appearance -> image: the paper's G2 ResNet translation generator.

    7x7 stem, ``n_down`` stride-2 stages, ``n_blocks`` style-modulated residual blocks, ``n_down``
    upsampling stages (their norms are style-modulated too, so the style survives to the output),
    7x7 conv, tanh. With ``cfg.palette`` the stem also sees the palette-painted map ``P`` and the
    output is ``tanh(atanh(P) + conv)``, the conv starting at zero: a correction of ``P``.
    """

    def __init__(self, cfg: MappingConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c, s = cfg.base_channels, cfg.style_dim
        self.style_encoder = StyleEncoder(cfg)
        self.stem = nn.Sequential(
            reflect_conv(cfg.map_channels + 3 * cfg.palette, c, 7), InstanceNorm(), nn.ReLU(True)
        )
        self.down = nn.Sequential(*[_down_stage(c * 2**i, c * 2 ** (i + 1), cfg.antialias)
                                    for i in range(cfg.n_down)])
        bottleneck = c * 2**cfg.n_down
        self.blocks = nn.ModuleList([_StyleBlock(bottleneck, s) for _ in range(cfg.n_blocks)])
        self.up = nn.ModuleList(
            [_UpStage(c * 2 ** (i + 1), c * 2**i, s, cfg.antialias)
             for i in reversed(range(cfg.n_down))]
        )
        self.to_rgb = reflect_conv(c, 3, 7)
        if cfg.palette:  # start as the painted map itself
            nn.init.zeros_(self.to_rgb[-1].weight)
            nn.init.zeros_(self.to_rgb[-1].bias)

    def _appearance(self, appearance: torch.Tensor) -> torch.Tensor:
        size = self.cfg.appearance_size
        if appearance.shape[-2:] != (size, size):
            appearance = F.interpolate(
                appearance, size=(size, size), mode="bilinear", align_corners=False, antialias=True
            )
        return appearance

    def palette_of(self, appearance: torch.Tensor) -> torch.Tensor:
        """The flattened palette ``(B, 3 * cfg.slots)`` of appearance ``(B, 3, h, w)`` in [-1, 1],
        as :meth:`encode_style` appends it (k-means on the CPU, not differentiable): training
        computes it once per step for both of its passes."""
        appearance = self._appearance(appearance)
        return slot_palette(appearance, self.cfg.slots, self.cfg.lightness).flatten(1)

    def encode_style(self, appearance: torch.Tensor, palette: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """``(B, 3, h, w)`` in [-1, 1] -> style ``(B, cfg.style_length)``: the learned style, then
        (with ``cfg.palette``) the flattened palette (``palette`` when given, else
        :meth:`palette_of`); resized to ``appearance_size`` first. Linear mixes of these vectors
        mix looks (and palettes)."""
        appearance = self._appearance(appearance)
        style = self.style_encoder(appearance)
        if not self.cfg.palette:
            return style
        if palette is None:
            palette = self.palette_of(appearance)
        return torch.cat([style, palette.to(style.dtype)], dim=1)

    def translate(self, maps: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Maps ``(B, C, H, W)`` in [-1, 1] + style ``(B, cfg.style_length)`` -> image
        ``(B, 3, H, W)`` in [-1, 1].

        Raises ``ValueError`` unless H and W are multiples of ``2 ** n_down`` (callers pad).
        """
        h, w = maps.shape[-2:]
        m = self.cfg.multiple
        if h % m or w % m:
            raise ValueError(f"map size {h}x{w} is not a multiple of {m} (pad it first)")
        painted = None
        if self.cfg.palette:
            k = self.cfg.slots
            style, palette = style.split([self.cfg.style_dim, 3 * k], dim=1)
            painted = paint(maps[:, maps.shape[1] - k:], palette.unflatten(1, (k, 3)))
            maps = torch.cat([maps, painted], dim=1)
        x = self.down(self.stem(maps))  # (B, C * 2**n_down, H / m, W / m)
        for block in self.blocks:
            x = block(x, style)
        for stage in self.up:
            x = stage(x, style)
        x = self.to_rgb(x)
        if painted is not None:  # a correction of the painted map, in tanh's input space
            x = x + torch.atanh(painted.to(x.dtype).clamp(-0.98, 0.98))
        return torch.tanh(x)

    def forward(self, maps: torch.Tensor, appearance: torch.Tensor,
                palette: torch.Tensor | None = None) -> torch.Tensor:
        """``translate(maps, encode_style(appearance, palette))``."""
        return self.translate(maps, self.encode_style(appearance, palette))


class PatchDiscriminator(nn.Module):
    """PatchGAN on ``concat(maps, image)``: one real/fake logit per overlapping patch.

    Spectral-norm 4x4 convs: ``d_layers`` stride-2 layers, one stride-1 layer, a 1-channel head
    (``d_layers=3`` is pix2pix's 70x70 receptive field).
    Input ``maps (B, C, H, W)``, ``image (B, 3, H, W)``; output ``(B, 1, h, w)`` logits.
    """

    def __init__(self, cfg: MappingConfig) -> None:
        super().__init__()
        c = cfg.d_channels
        layers: list[nn.Module] = [sn_conv(cfg.map_channels + 3, c, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for i in range(1, cfg.d_layers + 1):
            stride = 2 if i < cfg.d_layers else 1
            c_out = cfg.d_channels * min(2**i, 8)
            layers += [sn_conv(c, c_out, 4, stride, 1), nn.LeakyReLU(0.2, True)]
            c = c_out
        layers.append(sn_conv(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def features(self, maps: torch.Tensor, image: torch.Tensor) -> list[torch.Tensor]:
        """Every activation (after each LeakyReLU), then the logits ``(B, 1, h, w)`` last."""
        x, feats = torch.cat([maps, image], dim=1), []
        for layer in self.net:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU) or layer is self.net[-1]:
                feats.append(x)
        return feats

    def forward(self, maps: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([maps, image], dim=1))


class MultiScaleDiscriminator(nn.Module):
    """``d_scales`` PatchGANs, the k-th judging the pair average-pooled ``k`` times (pix2pixHD).

    The coarse ones see global layout and colour, the fine one texture. :meth:`features` returns,
    per scale, the list of activations with the logits last (for feature matching).
    """

    def __init__(self, cfg: MappingConfig) -> None:
        super().__init__()
        self.scales = nn.ModuleList([PatchDiscriminator(cfg) for _ in range(cfg.d_scales)])

    def features(self, maps: torch.Tensor, image: torch.Tensor) -> list[list[torch.Tensor]]:
        out = []
        for i, d in enumerate(self.scales):
            if i:
                maps, image = (F.avg_pool2d(t, 3, 2, 1, count_include_pad=False) for t in (maps, image))
            out.append(d.features(maps, image))
        return out

    def forward(self, maps: torch.Tensor, image: torch.Tensor) -> list[torch.Tensor]:
        """Logits per scale: ``[(B, 1, h, w), (B, 1, h/2, w/2), ...]``."""
        return [f[-1] for f in self.features(maps, image)]


class RecoveryNetwork(nn.Module):
    """Image -> structure-map logits (the paper's image recovery path; a cycle constraint).

    A small encoder-decoder: two stride-2 stages, two residual blocks, two nearest-upsampling
    stages. Input ``(B, 3, H, W)`` in [-1, 1] (any H, W: padded internally to multiples of 4);
    output ``(B, map_channels, H, W)`` logits.
    """

    def __init__(self, cfg: MappingConfig) -> None:
        super().__init__()
        c = cfg.recovery_channels

        def conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, stride, 1), InstanceNorm(), nn.ReLU(True)]

        self.encoder = nn.Sequential(*conv(3, c), *conv(c, 2 * c, 2), *conv(2 * c, 4 * c, 2))
        self.blocks = nn.ModuleList([nn.Sequential(*conv(4 * c, 4 * c), nn.Conv2d(4 * c, 4 * c, 3, 1, 1))
                                     for _ in range(2)])
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2.0), *conv(4 * c, 2 * c),
            nn.Upsample(scale_factor=2.0), *conv(2 * c, c),
            nn.Conv2d(c, cfg.map_channels, 3, 1, 1),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        x = F.pad(image, (0, -w % 4, 0, -h % 4), mode="replicate")
        x = self.encoder(x)  # (B, 4c, H/4, W/4)
        for block in self.blocks:
            x = x + block(x)
        return self.decoder(x)[..., :h, :w]
