"""G1 training: the SAGAN-like unconditional GAN, with an EMA copy of the generator.

Losses: ``hinge`` (SAGAN: TTUR learning rates 1e-4 for G and 4e-4 for D, Adam betas (0, 0.9)),
``wgan-gp`` (gradient penalty weight 10, same optimizers) and ``ns`` (non-saturating DCGAN loss,
2e-4 for both, betas (0.5, 0.999)). Every loss runs one D step per G step (TTUR rather than
WGAN-GP's five critic steps). ``attention=False`` drops self-attention from both networks: the
DCGAN-style baseline. The exported generator is the EMA copy.

Small-data pieces from FastGAN (Liu et al. 2021), none of which needs pretrained weights:
skip-layer excitation in G (``sle``); a discriminator that also reconstructs real images at 32x32
from its 8x8 features, trained with L1 (``recon_weight``), so it must learn real content rather
than memorise; and DiffAugment (colour, translation, cutout) on everything D sees (``augment``).
The first default model's recipe is ``sle=False, recon_weight=0, augment="none"``.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lgan_video.errors import LganError
from lgan_video.imageops import to_uint8
from lgan_video.resize import center_crop, resize_short
from lgan_video.training import losses as L
from lgan_video.training.augment import diff_augment, parse_policy
from lgan_video.training.data import Source
from lgan_video.training.datasets import G1Dataset, collate_images
from lgan_video.training.logger import image_grid
from lgan_video.training.loop import StepContext, Task, TrainOptions, train

GP_WEIGHT = 10.0
EVAL_IMAGES = 64
# (lr_g, lr_d, betas) per loss
OPTIMIZER_DEFAULTS = {"hinge": (1e-4, 4e-4, (0.0, 0.9)), "wgan-gp": (1e-4, 4e-4, (0.0, 0.9)),
                      "ns": (2e-4, 2e-4, (0.5, 0.999))}


@dataclass(frozen=True)
class G1Options:
    """G1 task options. ``channels``: generator width at 4x4 (the discriminator's first layer gets
    ``channels // 8``, at least 16). ``lr_g``/``lr_d`` None take the loss's defaults."""

    resolution: int = 64
    channels: int = 512
    z_dim: int = 128
    attention: bool = True
    loss: str = "hinge"
    lr_g: float | None = None
    lr_d: float | None = None
    ema: float = 0.999
    sle: bool = True
    recon_weight: float = 1.0
    augment: str = "color,translation,cutout"

    def network_config(self):
        from lgan_video.models import G1Config

        # Attention at a quarter of the output side (SAGAN: 32 for 128), capped at 32x32 because
        # its cost grows with the square of the number of positions.
        att = (min(32, max(8, self.resolution // 4)),) if self.attention else ()
        try:
            parse_policy(self.augment)
            return G1Config(z_dim=self.z_dim, resolution=self.resolution, channels=self.channels,
                            d_channels=max(16, self.channels // 8), attention=att, d_attention=att,
                            sle=self.sle, d_recon=self.recon_weight > 0)
        except ValueError as e:
            raise LganError(f"invalid G1 configuration: {e}") from None


class G1Task(Task):
    """Generator G, discriminator D, their Adam optimizers and the EMA generator."""

    name = "g1"

    def __init__(self, opts: G1Options) -> None:
        if opts.loss not in OPTIMIZER_DEFAULTS:
            raise LganError(f"unknown G1 loss {opts.loss!r} (hinge, wgan-gp, ns)")
        self.opts, self.cfg = opts, opts.network_config()
        lr_g, lr_d, self.betas = OPTIMIZER_DEFAULTS[opts.loss]
        self.lr_g, self.lr_d = opts.lr_g or lr_g, opts.lr_d or lr_d
        self.collate = collate_images
        self.policy = parse_policy(opts.augment)

    def options(self) -> dict[str, Any]:
        return {**asdict(self.opts), "lr_g": self.lr_g, "lr_d": self.lr_d,
                "betas": list(self.betas), "network": self.cfg.to_dict()}

    def video_short_side(self) -> int:
        return self.opts.resolution

    def build(self, source: Source, device: torch.device, run_dir: Path, seed: int) -> None:
        from lgan_video.models import G1Discriminator, G1Generator

        self.g = G1Generator(self.cfg).to(device)
        self.d = G1Discriminator(self.cfg).to(device)
        self.ema = copy.deepcopy(self.g).eval().requires_grad_(False)
        self.opt_g = torch.optim.Adam(self.g.parameters(), self.lr_g, betas=self.betas)
        self.opt_d = torch.optim.Adam(self.d.parameters(), self.lr_d, betas=self.betas)
        self.dataset = G1Dataset(source, self.opts.resolution, seed)
        self.device, self.seed = device, seed
        # An unconditional GAN has nothing to hold out: SWD compares with a spread-out sample.
        idx = np.linspace(0, len(source) - 1, min(EVAL_IMAGES, len(source))).round().astype(int)
        res = self.opts.resolution
        self.real = np.stack([center_crop(resize_short(source.load(i), res), res) for i in idx.tolist()])

    def modules(self) -> dict[str, nn.Module]:
        return {"g": self.g, "d": self.d, "g_ema": self.ema}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"g": self.opt_g, "d": self.opt_d}

    def to_device(self, batch: torch.Tensor, device: torch.device) -> torch.Tensor:
        return batch.to(device, non_blocking=True)

    def train_step(self, real: torch.Tensor, ctx: StepContext) -> dict[str, float]:
        out = self.d_step(real, ctx)
        out.update(self.g_step(real.shape[0], ctx))
        self.update_ema(ctx.step)
        return out

    def d_step(self, real: torch.Tensor, ctx: StepContext) -> dict[str, float]:
        """Score augmented reals and (detached) fakes in one D pass; hinge/wgan/ns loss (+ GP),
        plus the reconstruction of the reals from D's 8x8 features."""
        z = torch.randn(real.shape[0], self.cfg.z_dim, device=real.device)
        with ctx.autocast():
            with torch.no_grad():
                fake = self.g(z)
            both = diff_augment([torch.cat([real, fake.to(real.dtype)])], self.policy)[0]
            scores, recon = self.d.scores_and_reconstruction(both)  # (2B,), (2B, 3, 32, 32)
        real_s, fake_s = scores.float().chunk(2)
        loss = L.D_LOSSES[self.opts.loss](real_s, fake_s)
        out = {"d_loss": loss.item(), "d_real": real_s.mean().item(), "d_fake": fake_s.mean().item()}
        if recon is not None:
            target = F.adaptive_avg_pool2d(both.chunk(2)[0].float(), 32)
            rec = L.l1(recon.chunk(2)[0], target)
            loss = loss + self.opts.recon_weight * rec
            out["d_recon"] = rec.item()
        if self.opts.loss == "wgan-gp":
            gp = L.gradient_penalty(self.d, real.float(), fake.float())
            loss = loss + GP_WEIGHT * gp
            out["gp"] = gp.item()
        ctx.optimize("d", loss, self.opt_d)
        return out

    def g_step(self, batch: int, ctx: StepContext) -> dict[str, float]:
        """Fool the (frozen) discriminator with fresh, augmented samples."""
        z = torch.randn(batch, self.cfg.z_dim, device=self.device)
        self.d.requires_grad_(False)
        with ctx.autocast():
            scores = self.d(diff_augment([self.g(z)], self.policy)[0]).float()
        loss = L.G_LOSSES[self.opts.loss](scores)
        ctx.optimize("g", loss, self.opt_g)
        self.d.requires_grad_(True)
        return {"g_loss": loss.item()}

    @torch.no_grad()
    def update_ema(self, step: int) -> None:
        """``ema = beta * ema + (1 - beta) * g`` with a warm-up ``beta <= (1 + t) / (10 + t)``
        so early samples are not dominated by the random init; buffers are copied."""
        beta = min(self.opts.ema, (1.0 + step) / (10.0 + step))
        for p_ema, p in zip(self.ema.parameters(), self.g.parameters(), strict=True):
            p_ema.lerp_(p.detach(), 1.0 - beta)
        for b_ema, b in zip(self.ema.buffers(), self.g.buffers(), strict=True):
            b_ema.copy_(b)

    @torch.no_grad()
    def generate(self, n: int) -> np.ndarray:
        """``n`` EMA samples from fixed latents (seeded by the run's seed): uint8 ``(n, R, R, 3)``."""
        gen = torch.Generator().manual_seed(self.seed)
        z = torch.randn(n, self.cfg.z_dim, generator=gen).to(self.device)
        return np.concatenate([to_uint8(self.ema(z[i:i + 64])) for i in range(0, n, 64)])

    def sample_grid(self) -> np.ndarray:
        n = 64 if self.opts.resolution <= 64 else 16
        return image_grid(self.generate(n), cols=int(np.sqrt(n)))

    def evaluate(self) -> dict[str, float]:
        from lgan_video.metrics import swd

        fake = self.generate(len(self.real))
        return {f"eval/{k}": v for k, v in swd(fake, self.real, seed=self.seed).items()}

    def export(self) -> tuple[dict[str, nn.Module], dict[str, Any]]:
        return {"g1_ema": self.ema}, {"network": "g1", "weights": "g1_ema.safetensors",
                                      "config": self.cfg.to_dict()}


def train_g1(opts: TrainOptions, g1: G1Options) -> Path:
    """Train G1 on the images in ``opts.data`` into the run folder ``opts.out``."""
    return train(G1Task(g1), opts)
