"""Losses as pure functions of tensors; each returns a scalar tensor (mean over the batch).

Adversarial losses come in D/G pairs keyed by name (``hinge`` as in SAGAN, ``wgan-gp`` as in
Gulrajani et al. with its gradient penalty, ``ns`` the non-saturating DCGAN loss). Scores are raw
discriminator outputs (logits), any shape; they are averaged over every element, so a PatchGAN map
``(B, 1, h, w)`` and a per-image score ``(B,)`` use the same functions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LOSS_NAMES = ("hinge", "wgan-gp", "ns")


def d_hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """SAGAN discriminator hinge: ``E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]``."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def g_hinge(fake: torch.Tensor) -> torch.Tensor:
    """SAGAN generator hinge: ``-E[D(G(z))]``."""
    return -fake.mean()


def d_wgan(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Wasserstein critic loss ``E[D(G(z))] - E[D(x)]`` (add :func:`gradient_penalty`)."""
    return fake.mean() - real.mean()


def g_wgan(fake: torch.Tensor) -> torch.Tensor:
    """Wasserstein generator loss ``-E[D(G(z))]``."""
    return -fake.mean()


def d_ns(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """DCGAN discriminator: binary cross-entropy with real = 1, fake = 0, on logits."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_ns(fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss ``-E[log sigmoid(D(G(z)))]``."""
    return F.softplus(-fake).mean()


def d_lsgan(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Least-squares discriminator (pix2pix/CycleGAN): ``E[(D(x)-1)^2] + E[D(G(z))^2]``, halved."""
    return 0.5 * ((real - 1.0).square().mean() + fake.square().mean())


def g_lsgan(fake: torch.Tensor) -> torch.Tensor:
    """Least-squares generator: ``E[(D(G(z)) - 1)^2]``."""
    return (fake - 1.0).square().mean()


D_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "hinge": d_hinge, "wgan-gp": d_wgan, "ns": d_ns, "lsgan": d_lsgan,
}
G_LOSSES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "hinge": g_hinge, "wgan-gp": g_wgan, "ns": g_ns, "lsgan": g_lsgan,
}


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP penalty ``E[(||grad_x D(x_hat)||_2 - 1)^2]`` on random interpolates.

    ``real`` and ``fake``: ``(B, C, H, W)``; the interpolation weights are drawn per sample from
    ``generator`` (or the global RNG). Multiply by the usual weight of 10 at the call site.
    """
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype,
                       generator=generator)
    x_hat = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)  # (B,)
    return (norms - 1.0).square().mean()


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error; for images in [-1, 1] the pix2pix reconstruction term."""
    return (pred.float() - target.float()).abs().mean()


def feature_matching(fake: list[list[torch.Tensor]], real: list[list[torch.Tensor]]) -> torch.Tensor:
    """pix2pixHD's discriminator feature matching: mean L1 between D's activations on the fake
    and on the real pair, averaged over layers and scales (real features are detached).

    ``fake[s][l]`` and ``real[s][l]``: activations of layer ``l`` at scale ``s``, same shapes.
    """
    terms = [(f.float() - r.detach().float()).abs().mean()
             for fs, rs in zip(fake, real, strict=True) for f, r in zip(fs, rs, strict=True)]
    return torch.stack(terms).mean()


def recovery_loss(logits: torch.Tensor, maps: torch.Tensor, tones: bool = False) -> torch.Tensor:
    """How well the recovery network gets the structure map back from a generated image.

    ``logits``: ``(B, C, H, W)`` from the recovery network; ``maps``: the input map tensor
    ``(B, C, H, W)`` as made by ``maps.map_to_tensor`` (edge: 1 channel in [-1, 1]; seg: one-hot in
    {-1, 1}; edge with ``tones``: the edge channel, then one-hot tones). Edges use binary
    cross-entropy on the logit, segments and tones cross-entropy over classes (summed with tones).
    """
    logits = logits.float()
    if tones:
        return recovery_loss(logits[:, :1], maps[:, :1]) + recovery_loss(logits[:, 1:], maps[:, 1:])
    if maps.shape[1] == 1:
        target = (maps.float() + 1.0) * 0.5  # {-1, 1} -> {0, 1}
        return F.binary_cross_entropy_with_logits(logits, target)
    return F.cross_entropy(logits, maps.argmax(dim=1))
