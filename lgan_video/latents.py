"""Latent walks for G1: seed -> z, eased spherical interpolation, smooth (optionally looping) paths.

A walk visits the seeds' latents in order; each segment between two consecutive seeds lasts
``frames_per_seed`` frames and is eased in and out, so the look drifts smoothly and rests briefly on
each seed. A looping walk also returns from the last seed to the first, so the frame after the last
equals the first and the animation repeats without a jump.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence

import torch

from lgan_video.errors import LganError

_MAX_SEEDS = 10_000


def seed_latent(seed: int, z_dim: int = 128) -> torch.Tensor:
    """The latent of ``seed``: ``(z_dim,)`` float32 standard normal, identical on every machine."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn(z_dim, generator=generator, dtype=torch.float32)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation from ``a`` (t=0) to ``b`` (t=1) along the last dimension.

    The angle comes from the normalised vectors; the weights apply to the raw ones, so norms stay
    typical for Gaussian latents. Nearly parallel vectors fall back to linear interpolation.
    """
    a32, b32 = a.float(), b.float()
    cos = (a32 / a32.norm(dim=-1, keepdim=True) * b32 / b32.norm(dim=-1, keepdim=True)).sum(-1)
    omega = torch.arccos(cos.clamp(-1.0, 1.0)).unsqueeze(-1)
    sin = torch.sin(omega)
    near = sin.abs() < 1e-6
    safe = torch.where(near, torch.ones_like(sin), sin)
    wa = torch.where(near, torch.full_like(sin, 1.0 - t), torch.sin((1.0 - t) * omega) / safe)
    wb = torch.where(near, torch.full_like(sin, t), torch.sin(t * omega) / safe)
    return (wa * a32 + wb * b32).to(a.dtype)


def ease(t: float) -> float:
    """Cosine ease-in-out on [0, 1]: 0 -> 0, 1 -> 1, zero speed at both ends (peak speed pi/2)."""
    t = min(max(float(t), 0.0), 1.0)
    return 0.5 - 0.5 * math.cos(math.pi * t)


def walk_position(n: int, u: float, loop: bool) -> tuple[int, int, float]:
    """Where a walk through ``n`` stops is after ``u`` segments: ``(k, next, t)``, eased ``t`` in
    [0, 1] from stop ``k`` to stop ``next``. Segment k goes from stop k to k + 1 (to stop 0 after
    the last when looping); an open walk rests on its last stop. Shared by latent walks and
    reference-picture walks (:mod:`lgan_video.looks`)."""
    n_seg = n if loop else n - 1
    if n_seg <= 0:
        return 0, 0, 0.0
    u = u % n_seg if loop else min(max(u, 0.0), float(n_seg))
    k = min(int(u), n_seg - 1)
    return k, (k + 1) % n, ease(u - k)


def _latent_at(zs: Sequence[torch.Tensor], u: float, loop: bool) -> torch.Tensor:
    k, nxt, t = walk_position(len(zs), u, loop)
    return zs[0].clone() if len(zs) == 1 else slerp(zs[k], zs[nxt], t)


def latent_path(
    seeds: Sequence[int],
    n_frames: int,
    frames_per_seed: int | None = None,
    loop: bool = False,
    z_dim: int = 128,
) -> torch.Tensor:
    """Latents for ``n_frames`` frames walking through ``seeds``: ``(n_frames, z_dim)`` float32.

    One seed gives a constant path. With ``frames_per_seed=None`` the walk is spread over the whole
    clip: it ends on the last seed, or (``loop=True``) returns towards the first so that
    ``path[n_frames]`` would equal ``path[0]``. With ``frames_per_seed`` each segment lasts that
    many frames; afterwards the walk rests on the last seed, or cycles when looping.
    """
    if not seeds:
        raise LganError("no seeds given for the latent walk")
    if n_frames < 1:
        raise LganError(f"a latent path needs at least 1 frame, got {n_frames}")
    if frames_per_seed is not None and frames_per_seed < 1:
        raise LganError(f"frames per seed must be at least 1, got {frames_per_seed}")
    zs = [seed_latent(s, z_dim) for s in seeds]
    n_seg = len(zs) if loop else len(zs) - 1
    if frames_per_seed is not None:
        step = 1.0 / frames_per_seed
    elif loop:
        step = n_seg / n_frames
    else:
        step = n_seg / max(n_frames - 1, 1)
    return torch.stack([_latent_at(zs, i * step, loop) for i in range(n_frames)])


def iter_latents(
    seeds: Sequence[int], period_frames: int, loop: bool = True, z_dim: int = 128
) -> Iterator[torch.Tensor]:
    """Endless stream of ``(z_dim,)`` latents, ``period_frames`` frames per segment between seeds.

    Matches ``latent_path(seeds, n, frames_per_seed=period_frames, loop=loop)`` frame by frame, for
    videos of any length; without ``loop`` it rests on the last seed once the walk is done.
    """
    if not seeds:
        raise LganError("no seeds given for the latent walk")
    if period_frames < 1:
        raise LganError(f"frames per seed must be at least 1, got {period_frames}")
    zs = [seed_latent(s, z_dim) for s in seeds]
    i = 0
    while True:
        yield _latent_at(zs, i / period_frames, loop)
        i += 1


def parse_seeds(text: str) -> list[int]:
    """``"3,14,15"`` -> ``[3, 14, 15]``; ranges ``"1-4"`` -> ``[1, 2, 3, 4]``; LganError on bad input."""
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", part):
            lo, hi = int(m[1]), int(m[2])
            if hi < lo:
                raise LganError(f"bad seed range {part!r}: the end is before the start")
            if hi - lo >= _MAX_SEEDS:
                raise LganError(f"too many seeds in {text!r} (at most {_MAX_SEEDS})")
            seeds.extend(range(lo, hi + 1))
        elif re.fullmatch(r"\d+", part):
            seeds.append(int(part))
        else:
            raise LganError(f"bad seeds {text!r}: expected numbers like '3,14,15' or '1-4'")
        if len(seeds) > _MAX_SEEDS:
            raise LganError(f"too many seeds in {text!r} (at most {_MAX_SEEDS})")
    if any(s >= 2**63 for s in seeds):
        raise LganError(f"bad seeds {text!r}: seeds must be below 2**63")
    return seeds
