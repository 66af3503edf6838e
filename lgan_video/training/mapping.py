"""Mapping-network training: structure map + appearance -> image, pix2pix-style with a style input.

Per iteration (like CycleGAN's ``optimize_parameters``):

1. D step: the multi-scale patch discriminator scores (map, target) as real and
   (map, G(map, appearance)) as fake (least-squares GAN loss, as pix2pix/CycleGAN), both through
   the same DiffAugment (colour, translation, cutout) so D cannot memorise a small training set.
2. R step (when ``recovery_weight > 0``): the recovery network learns image -> map on real targets.
3. G step: fool D, match D's features of the real pair (feature matching, weight ``fm_weight``,
   pix2pixHD/SPADE), stay close to the target (L1, weight ``l1_weight``), and let the frozen
   recovery network find the input map again in the output (the paper's cycle constraint).

Crops: each image is resized so its short side is ``size`` (times a zoom in ``[1, zoom]``, three
levels, when ``zoom > 1``), then cropped to ``size``. Zoom is off by default: whole frames at the
working size show objects at zoom 1, and the ablation (docs/ABLATION.md) measured zoom 2 about
1 dB worse on held-out frames.

The pix2pix recipe of the first default model is ``d_scales=1, fm_weight=0, augment="none"``.

Optimizers: Adam 2e-4, betas (0.5, 0.999) (pix2pix). The maps come from ``lgan_video.maps`` with
the MapConfig saved in the run, the same code the renderer uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lgan_video.errors import LganError
from lgan_video.imageops import to_uint8
from lgan_video.training import losses as L
from lgan_video.training.augment import diff_augment, parse_policy
from lgan_video.training.data import Source, split_holdout
from lgan_video.training.datasets import MappingDataset, collate_mapping
from lgan_video.training.logger import image_grid
from lgan_video.training.loop import StepContext, Task, TrainOptions, train

LR, BETAS = 2e-4, (0.5, 0.999)
EVAL_IMAGES = 8


@dataclass(frozen=True)
class MappingOptions:
    """Mapping task options: map ``mode`` (``classes`` for seg), crop ``size``, network width
    (``base_channels``, also used for the discriminator and the recovery network), loss weights."""

    mode: str = "edge"
    size: int = 128
    classes: int = 8
    base_channels: int = 32
    n_blocks: int = 9
    style_dim: int = 64
    appearance_size: int = 64
    l1_weight: float = 10.0
    gan_weight: float = 1.0
    recovery_weight: float = 1.0
    cache_maps: bool = False
    d_scales: int = 2
    fm_weight: float = 10.0
    augment: str = "color,translation,cutout"
    zoom: float = 1.0
    palette: bool = True
    canny_percentile: float = 85.0
    edge_tones: int = 4
    antialias: bool = False

    def map_config(self):
        from lgan_video.maps import MapConfig

        if self.mode == "edge":
            return MapConfig(mode="edge", canny_percentile=self.canny_percentile,
                             edge_tones=self.edge_tones)
        return MapConfig(mode=self.mode, classes=self.classes)

    def network_config(self):
        """The mapping network's config for these options' maps (their channels and tones)."""
        from lgan_video.models import MappingConfig

        map_cfg = self.map_config()
        try:
            cfg = MappingConfig(map_channels=map_cfg.channels, style_dim=self.style_dim,
                                base_channels=self.base_channels, n_blocks=self.n_blocks,
                                appearance_size=self.appearance_size,
                                d_channels=self.base_channels, recovery_channels=self.base_channels,
                                d_scales=self.d_scales, palette=self.palette,
                                lightness=map_cfg.color_space, palette_slots=map_cfg.tones,
                                antialias=self.antialias)
            parse_policy(self.augment)
            if self.zoom < 1:
                raise ValueError(f"zoom must be >= 1, got {self.zoom}")
        except ValueError as e:
            raise LganError(f"invalid mapping configuration: {e}") from None
        if self.size % cfg.multiple:
            raise LganError(f"--size {self.size} must be a multiple of {cfg.multiple}")
        coarsest = self.size // 2 ** (self.d_scales - 1)
        if coarsest < 3 * 2**cfg.d_layers:
            raise LganError(f"--size {self.size} is too small for --d-scales {self.d_scales} "
                            f"(the coarsest discriminator needs {3 * 2**cfg.d_layers} px)")
        return cfg


class MappingTask(Task):
    """Mapping network G, patch discriminator D, optional recovery network R."""

    name = "mapping"

    def __init__(self, opts: MappingOptions) -> None:
        self.opts, self.map_cfg = opts, opts.map_config()
        self.cfg = opts.network_config()
        self.collate = collate_mapping
        self.policy = parse_policy(opts.augment)

    def options(self) -> dict[str, Any]:
        return {**asdict(self.opts), "lr": LR, "betas": list(BETAS),
                "network": self.cfg.to_dict(), "map": self.map_cfg.to_dict()}

    def video_short_side(self) -> int:
        return self.opts.size

    def channels_last(self, device: torch.device) -> bool:
        # On the CPU PyTorch's instance norm returns NCHW, so a channels_last mapping step pays
        # layout copies around every norm: bf16 training ran 18-23 % faster contiguous (fp32
        # level) on this project's 2-core EPYC. SR and G1 train faster in channels_last.
        return device.type != "cpu"

    def min_items(self) -> int:
        return 2

    def build(self, source: Source, device: torch.device, run_dir: Path, seed: int) -> None:
        from lgan_video.models import MappingNetwork, MultiScaleDiscriminator, RecoveryNetwork

        self.g = MappingNetwork(self.cfg).to(device)
        self.d = MultiScaleDiscriminator(self.cfg).to(device)
        self.opt_g = torch.optim.Adam(self.g.parameters(), LR, betas=BETAS)
        self.opt_d = torch.optim.Adam(self.d.parameters(), LR, betas=BETAS)
        self.r = None
        if self.opts.recovery_weight > 0:
            self.r = RecoveryNetwork(self.cfg).to(device)
            self.opt_r = torch.optim.Adam(self.r.parameters(), LR, betas=BETAS)
        train_idx, held = split_holdout(len(source))
        cache = run_dir / "map_cache" if self.opts.cache_maps else None
        self.dataset = MappingDataset(source.subset(train_idx), self.opts.size, self.map_cfg,
                                      self.cfg.appearance_size, seed, cache, zoom=self.opts.zoom)
        eval_src = source.subset(held or train_idx[:EVAL_IMAGES])
        eval_set = MappingDataset(eval_src, self.opts.size, self.map_cfg,
                                  self.cfg.appearance_size, seed, cache, train=False)
        self.eval_batch = collate_mapping([eval_set[(i, 0)] for i in range(len(eval_set))])
        self.device = device

    def modules(self) -> dict[str, nn.Module]:
        return {"g": self.g, "d": self.d} | ({"r": self.r} if self.r is not None else {})

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"g": self.opt_g, "d": self.opt_d} | ({"r": self.opt_r} if self.r is not None else {})

    def to_device(self, batch: dict[str, torch.Tensor], device: torch.device) -> dict:
        from lgan_video.maps import map_to_tensor

        return {"map": map_to_tensor(batch["map"].numpy(), self.map_cfg, device),
                "appearance": batch["appearance"].to(device, non_blocking=True),
                "target": batch["target"].to(device, non_blocking=True)}

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        maps, appearance, target = batch["map"], batch["appearance"], batch["target"]
        palette = None
        if self.cfg.palette:  # k-means of each appearance: once per step, for D's and G's pass
            with torch.no_grad():
                palette = self.g.palette_of(appearance)
        out = self.d_step(maps, appearance, target, ctx, palette)
        if self.r is not None:
            out.update(self.r_step(maps, target, ctx))
        out.update(self.g_step(maps, appearance, target, ctx, palette))
        return out

    def _judge(self, maps, images):
        """D's features per scale for (maps, image) pairs, through DiffAugment (shared geometry)."""
        maps, images = diff_augment([maps, images], self.policy, rgb=[False, True])
        return self.d.features(maps, images)

    def d_step(self, maps, appearance, target, ctx: StepContext, palette=None) -> dict[str, float]:
        """(map, target) is real, (map, G(map, appearance)) fake; one D pass over both."""
        with ctx.autocast():
            with torch.no_grad():
                fake = self.g(maps, appearance, palette).to(target.dtype)
            feats = self._judge(torch.cat([maps, maps]), torch.cat([target, fake]))
        loss = torch.stack([L.d_lsgan(*f[-1].float().chunk(2)) for f in feats]).mean()
        ctx.optimize("d", loss, self.opt_d)
        return {"d_loss": loss.item()}

    def _adversarial(self, maps, target, fake) -> tuple[torch.Tensor, torch.Tensor]:
        """G's LSGAN loss over D's scales, and feature matching against the real pair (D sees
        the real pair only when ``fm_weight > 0``)."""
        if self.opts.fm_weight == 0:
            feats = self._judge(maps, fake)
            adv = torch.stack([L.g_lsgan(f[-1].float()) for f in feats]).mean()
            return adv, torch.zeros((), device=fake.device)
        feats = self._judge(torch.cat([maps, maps]), torch.cat([target, fake]))
        adv = torch.stack([L.g_lsgan(f[-1].float().chunk(2)[1]) for f in feats]).mean()
        fm = L.feature_matching([[t.chunk(2)[1] for t in f[:-1]] for f in feats],
                                [[t.chunk(2)[0] for t in f[:-1]] for f in feats])
        return adv, fm

    def r_step(self, maps, target, ctx: StepContext) -> dict[str, float]:
        """The recovery network learns to read the structure map off real images."""
        with ctx.autocast():
            loss = L.recovery_loss(self.r(target), maps, self.map_cfg.tones > 0)
        ctx.optimize("r", loss, self.opt_r)
        return {"r_loss": loss.item()}

    def g_step(self, maps, appearance, target, ctx: StepContext, palette=None) -> dict[str, float]:
        """Adversarial + L1 to the target + recovery of the input map from the output."""
        self.d.requires_grad_(False)
        if self.r is not None:
            self.r.requires_grad_(False)
        with ctx.autocast():
            fake = self.g(maps, appearance, palette)
            adv, fm = self._adversarial(maps, target.to(fake.dtype), fake)
            rec = L.l1(fake, target)
            loss = (self.opts.gan_weight * adv + self.opts.l1_weight * rec
                    + self.opts.fm_weight * fm)
            out = {"g_adv": adv.item(), "g_l1": rec.item(), "g_fm": fm.item()}
            if self.r is not None:
                cyc = L.recovery_loss(self.r(fake), maps, self.map_cfg.tones > 0)
                loss = loss + self.opts.recovery_weight * cyc
                out["g_recovery"] = cyc.item()
        ctx.optimize("g", loss, self.opt_g, clip=10.0)
        self.d.requires_grad_(True)
        if self.r is not None:
            self.r.requires_grad_(True)
        return out

    @torch.no_grad()
    def translate_eval(self) -> np.ndarray:
        """Outputs for the evaluation batch: uint8 ``(N, size, size, 3)``."""
        b = self.to_device(self.eval_batch, self.device)
        self.g.eval()
        try:
            return to_uint8(self.g(b["map"], b["appearance"]))
        finally:
            self.g.train()

    def sample_grid(self) -> np.ndarray:
        """Rows of [map | appearance | output | target]."""
        import cv2

        from lgan_video.maps import map_preview

        s = self.opts.size
        out, target = self.translate_eval(), to_uint8(self.eval_batch["target"])
        app = to_uint8(self.eval_batch["appearance"])
        tiles = []
        for i in range(len(out)):
            tiles += [map_preview(self.eval_batch["map"][i].numpy(), self.map_cfg),
                      cv2.resize(app[i], (s, s), interpolation=cv2.INTER_CUBIC), out[i], target[i]]
        return image_grid(np.stack(tiles), cols=4)

    def evaluate(self) -> dict[str, float]:
        from lgan_video.metrics import psnr

        out, target = self.translate_eval(), to_uint8(self.eval_batch["target"])
        return {"eval/psnr": float(np.mean([psnr(o, t) for o, t in zip(out, target, strict=True)]))}

    def export(self) -> tuple[dict[str, nn.Module], dict[str, Any]]:
        return {"mapping": self.g}, {"network": "mapping", "weights": "mapping.safetensors",
                                     "config": self.cfg.to_dict(), "map": self.map_cfg.to_dict()}


def train_mapping(opts: TrainOptions, mapping: MappingOptions) -> Path:
    """Train a mapping network for ``mapping.mode`` maps of ``opts.data`` into ``opts.out``."""
    return train(MappingTask(mapping), opts)
