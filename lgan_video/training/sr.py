"""Super-resolution training: L1 to the HR crop (PSNR-oriented), optionally plus a GAN term.

With ``gan_weight == 0`` (the default) there is no discriminator: plain L1 training, the stable
choice and what evaluation by PSNR rewards. With ``gan_weight > 0`` a conditional PatchGAN (the
project's :class:`PatchDiscriminator` judging (bicubic upscale, image) pairs) adds a
non-saturating adversarial term for sharper textures, as ESRGAN does after its PSNR phase.
Optimizers: Adam 2e-4, betas (0.9, 0.99) (BasicSR); generator gradients clipped at norm 10.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lgan_video.errors import LganError
from lgan_video.imageops import to_tensor, to_uint8
from lgan_video.resize import bicubic_resize, center_crop, sr_lowres
from lgan_video.training import losses as L
from lgan_video.training.data import Source, split_holdout
from lgan_video.training.datasets import SRDataset, collate_sr
from lgan_video.training.logger import image_grid
from lgan_video.training.loop import StepContext, Task, TrainOptions, train

LR, BETAS = 2e-4, (0.9, 0.99)
EVAL_IMAGES = 4


@dataclass(frozen=True)
class SROptions:
    """SR task options: ``scale``, network width/depth, HR ``patch`` side (rounded down to a
    multiple of ``scale``), ``gan_weight`` (0 = L1 only) and ``degrade`` (Real-ESRGAN-like LR; ``clean``: the share of pairs only downscaled)."""

    scale: int = 2
    channels: int = 32
    blocks: int = 4
    patch: int = 64
    gan_weight: float = 0.0
    degrade: bool = False
    clean: float = 0.0

    def network_config(self):
        from lgan_video.models import SRConfig

        try:
            return SRConfig(scale=self.scale, channels=self.channels, blocks=self.blocks)
        except ValueError as e:
            raise LganError(f"invalid SR configuration: {e}") from None


class SRTask(Task):
    """SR network G and, with a GAN term, a conditional patch discriminator D."""

    name = "sr"

    def __init__(self, opts: SROptions) -> None:
        if opts.patch < 4 * opts.scale:
            raise LganError(f"--patch {opts.patch} is too small for scale {opts.scale}")
        self.opts, self.cfg = opts, opts.network_config()
        self.patch = opts.patch - opts.patch % opts.scale
        self.collate = collate_sr

    def options(self) -> dict[str, Any]:
        return {**asdict(self.opts), "lr": LR, "betas": list(BETAS), "network": self.cfg.to_dict()}

    def min_items(self) -> int:
        return 2

    def build(self, source: Source, device: torch.device, run_dir: Path, seed: int) -> None:
        from lgan_video.models import MappingConfig, PatchDiscriminator, SRNetwork

        self.g = SRNetwork(self.cfg).to(device)
        self.opt_g = torch.optim.Adam(self.g.parameters(), LR, betas=BETAS)
        self.d = None
        if self.opts.gan_weight > 0:
            d_cfg = MappingConfig(map_channels=3, d_channels=self.opts.channels, d_layers=2)
            self.d = PatchDiscriminator(d_cfg).to(device)
            self.opt_d = torch.optim.Adam(self.d.parameters(), LR, betas=BETAS)
        train_idx, held = split_holdout(len(source))
        self.dataset = SRDataset(source.subset(train_idx), self.patch, self.opts.scale, seed,
                                 self.opts.degrade, self.opts.clean)
        self.eval_hr = eval_crops(source, held or train_idx[:EVAL_IMAGES], 2 * self.patch,
                                  self.opts.scale)
        self.eval_lr = np.stack([sr_lowres(hr, self.opts.scale) for hr in self.eval_hr])
        self.device = device

    def modules(self) -> dict[str, nn.Module]:
        return {"g": self.g} | ({"d": self.d} if self.d is not None else {})

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"g": self.opt_g} | ({"d": self.opt_d} if self.d is not None else {})

    def to_device(self, batch: dict[str, torch.Tensor], device: torch.device) -> dict:
        return {k: v.to(device, non_blocking=True) for k, v in batch.items()}

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, float]:
        lr, hr = batch["lr"], batch["hr"]
        out = self.d_step(lr, hr, ctx) if self.d is not None else {}
        out.update(self.g_step(lr, hr, ctx))
        return out

    def _bicubic(self, lr: torch.Tensor) -> torch.Tensor:
        return F.interpolate(lr, scale_factor=self.opts.scale, mode="bicubic", align_corners=False)

    def d_step(self, lr: torch.Tensor, hr: torch.Tensor, ctx: StepContext) -> dict[str, float]:
        """(bicubic, HR) is real, (bicubic, G(LR)) fake; non-saturating loss."""
        cond = self._bicubic(lr)
        with ctx.autocast():
            with torch.no_grad():
                fake = self.g(lr).to(hr.dtype)
            scores = self.d(torch.cat([cond, cond]), torch.cat([hr, fake])).float()
        loss = L.d_ns(*scores.chunk(2))
        ctx.optimize("d", loss, self.opt_d)
        return {"d_loss": loss.item()}

    def g_step(self, lr: torch.Tensor, hr: torch.Tensor, ctx: StepContext) -> dict[str, float]:
        """L1 to the HR crop, plus ``gan_weight`` x adversarial when there is a discriminator."""
        with ctx.autocast():
            sr = self.g(lr)
            pix = L.l1(sr, hr)
            loss, out = pix, {"g_l1": pix.item()}
            if self.d is not None:
                self.d.requires_grad_(False)
                adv = L.g_ns(self.d(self._bicubic(lr), sr).float())
                loss = loss + self.opts.gan_weight * adv
                out["g_adv"] = adv.item()
        ctx.optimize("g", loss, self.opt_g, clip=10.0)
        if self.d is not None:
            self.d.requires_grad_(True)
        return out

    @torch.no_grad()
    def upscale_eval(self) -> np.ndarray:
        """SR outputs of the evaluation LR crops: uint8 ``(N, H, W, 3)``."""
        self.g.eval()
        try:
            return to_uint8(self.g(to_tensor(self.eval_lr, self.device)))
        finally:
            self.g.train()

    def sample_grid(self) -> np.ndarray:
        """Rows of [bicubic | SR | HR]."""
        s = self.eval_hr.shape[1]
        bic = [bicubic_resize(x, s, s) for x in self.eval_lr]
        sr = self.upscale_eval()
        return image_grid(np.stack([t for row in zip(bic, sr, self.eval_hr, strict=True) for t in row]), 3)

    def evaluate(self) -> dict[str, float]:
        from lgan_video.metrics import psnr

        sr = self.upscale_eval()
        return {"eval/psnr": float(np.mean([psnr(a, b) for a, b in zip(sr, self.eval_hr, strict=True)]))}

    def export(self) -> tuple[dict[str, nn.Module], dict[str, Any]]:
        return {"sr": self.g}, {"network": "sr", "weights": "sr.safetensors",
                                "config": self.cfg.to_dict()}


def eval_crops(source: Source, indices: list[int], size: int, scale: int) -> np.ndarray:
    """Central square crops (side ``size`` or the short side, a multiple of ``scale``)."""
    imgs = [source.load(i) for i in indices]
    side = min([size] + [min(im.shape[:2]) for im in imgs])
    side -= side % scale
    return np.stack([center_crop(im, side) for im in imgs])


def train_sr(opts: TrainOptions, sr: SROptions) -> Path:
    """Train an SR network on the images in ``opts.data`` into ``opts.out``."""
    return train(SRTask(sr), opts)
