"""Helpers for tests and smoke runs: tiny random model bundles that build in well under a second."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch

from lgan_video.models.layers import StyleNorm

TINY_G1 = {"z_dim": 16, "resolution": 32, "channels": 64, "min_channels": 16,
           "attention": (16,), "d_channels": 16, "d_attention": (8,)}
TINY_MAPPING = {"style_dim": 16, "base_channels": 8, "n_down": 2, "n_blocks": 2,
                "appearance_size": 32, "d_channels": 8, "d_layers": 2, "recovery_channels": 8}
TINY_SR = {"scale": 2, "channels": 8, "blocks": 1, "growth": 8, "dense_layers": 2}


def make_tiny_bundle(
    path: str | Path, modes: Sequence[str] = ("edge", "seg"), seed: int = 0, sr: bool = True
) -> Path:
    """Write a bundle of tiny randomly initialised networks to ``path`` and return it.

    G1 makes 32x32 images from 16-d latents; the mapping networks (one per mode; seg uses 4
    classes) need sizes that are multiples of 4; SR is x2 (``sr=False``: no SR, scale 1). The
    weights depend only on ``seed``; the global RNG state is left untouched. Work size 64.
    """
    return make_random_bundle(path, TINY_G1, TINY_MAPPING, TINY_SR if sr else None, modes=modes,
                              classes=4, work_size=64, seed=seed,
                              provenance={"kind": "tiny random test bundle", "seed": seed})


def make_random_bundle(
    path: str | Path,
    g1: dict,
    mapping: dict,
    sr: dict | None,
    modes: Sequence[str] = ("edge", "seg"),
    classes: int = 8,
    work_size: int = 128,
    seed: int = 0,
    provenance: dict | None = None,
    edge_tones: int = 0,
) -> Path:
    """A bundle of randomly initialised networks built from config keyword dicts (for tests and
    benchmarks, where only shapes and speed matter). ``mapping`` omits ``map_channels``; with
    ``edge_tones`` the edge maps carry tones (and a palette network paints them)."""
    from lgan_video.bundle import save_bundle
    from lgan_video.maps import MapConfig
    from lgan_video.models.registry import build_network

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = build_network("g1", g1)
        mappings = {}
        for mode in modes:
            map_cfg = MapConfig(mode=mode, classes=classes,
                                edge_tones=edge_tones if mode == "edge" else 0)
            net = build_network("mapping", {"map_channels": map_cfg.channels,
                                            "palette_slots": map_cfg.tones, **mapping})
            mappings[mode] = (net, map_cfg)
        upscaler = build_network("sr", sr) if sr is not None else None
        _randomize_norms(generator)
        _amplify(generator, [net for net, _ in mappings.values()])
    return save_bundle(path, g1=generator, mappings=mappings, sr=upscaler, work_size=work_size,
                       provenance=provenance or {"kind": "random bundle", "seed": seed})


def _randomize_norms(net: torch.nn.Module) -> None:
    # Fresh BatchNorm stats (mean 0, var 1) and gamma 0 attention hide bugs; make them non-trivial.
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0.0, 0.1)
            module.running_var.uniform_(0.5, 2.0)
        if hasattr(module, "gamma") and isinstance(module.gamma, torch.nn.Parameter):
            module.gamma.data.fill_(0.5)


@torch.no_grad()
def _amplify(generator: torch.nn.Module, mappings: list[torch.nn.Module]) -> None:
    # At PyTorch's default init G1 paints near-flat grey and the style barely moves the mapping
    # output (1e-5), so a pipeline that ignored the latent would pass every test. Scaled up, G1's
    # images have contrast and the look shifts translations by a few grey levels.
    generator.to_rgb.weight.mul_(6.0)
    for net in mappings:
        for module in net.style_encoder.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                module.weight.mul_(3.0)
        for module in net.modules():
            if isinstance(module, StyleNorm):
                module.affine.weight.mul_(3.0)


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run torch ops on ``n`` intra-op threads, then restore the previous setting.

    Tiny test models gain nothing from threads, and on a busy machine OpenMP threads that wait
    for a shared core make them many times slower.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
