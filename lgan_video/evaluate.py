"""``lgan-video eval``: score a training run or a bundle against a folder of images.

Application level, beside ``render``: it reads runs and bundles and uses the training data code,
while :mod:`lgan_video.metrics` stays a leaf of pure functions that training may import.

- G1: SWD (always) and FID/KID (optional package) of ``n`` generated images vs up to ``n`` real
  images resized (short side) and center-cropped to G1's resolution.
- Mapping: PSNR/SSIM of translations of images from their own maps and appearance (central
  crops at the working size, as in training's evaluation).
- SR: PSNR/SSIM on Y (BT.601) with ``scale`` border pixels cropped, for SR and for bicubic, on HR
  images cut to a multiple of the scale and bicubic-downscaled.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lgan_video.devices import pick_device
from lgan_video.errors import LganError
from lgan_video.imageops import to_tensor, to_uint8

log = logging.getLogger("lgan_video.evaluate")


def load_for_eval(model: str | Path, kind: str, device: torch.device, mode: str | None = None):
    """``(network, info)`` from a run folder (``network.json``), a bundle (``bundle.json``) or
    ``"default"`` (the shipped bundle).

    ``info`` holds what evaluation needs besides the network: the MapConfig and working size for
    mapping networks. For a bundle with several mapping networks ``mode`` picks one.
    """
    from lgan_video.bundle import resolve_model
    from lgan_video.maps import MapConfig
    from lgan_video.training.export import load_run_network

    path = resolve_model(model)
    if (path / "bundle.json").is_file():
        return _from_bundle(path, kind, device, mode)
    net, meta = load_run_network(path, kind, device)
    info: dict[str, Any] = {"source": "run"}
    if kind == "mapping":
        info["map"] = MapConfig.from_dict(meta["map"])
        info["size"] = int(meta.get("provenance", {}).get("options", {}).get("size", 128))
    return net, info


def _from_bundle(path: Path, kind: str, device: torch.device, mode: str | None):
    from lgan_video.bundle import load_bundle

    b = load_bundle(path, device)
    if kind == "g1":
        return b.g1, {"source": "bundle"}
    if kind == "sr":
        if b.sr is None:
            raise LganError(f"bundle has no SR network: {path}")
        return b.sr, {"source": "bundle"}
    mode = mode or b.modes[0]
    if mode not in b.mappings:
        raise LganError(f"bundle has no {mode} mapping network (has {', '.join(b.modes)}): {path}")
    return b.mappings[mode], {"source": "bundle", "map": b.map_configs[mode], "size": b.work_size}


def real_images(data: str | Path, n: int, size: int) -> np.ndarray:
    """Up to ``n`` images of ``data`` resized (short side) and center-cropped to ``size``."""
    from lgan_video.resize import center_crop, resize_short
    from lgan_video.training.data import scan_source

    src = scan_source(data, video_short_side=size)
    idx = np.linspace(0, len(src) - 1, min(n, len(src))).round().astype(int)
    return np.stack([center_crop(resize_short(src.load(int(i)), size), size) for i in idx])


@torch.no_grad()
def evaluate_g1(model: str | Path, data: str | Path, n: int = 1000, fid: bool = True,
                device: str = "cpu", seed: int = 0) -> dict[str, float]:
    """SWD (+ FID, KID) of ``n`` G1 samples (latents from ``seed``) against ``data``, and the
    looks' median near-white share and mean colourfulness beside the real images'."""
    from lgan_video.metrics.look import colourfulness, near_white_share
    from lgan_video.metrics.swd import swd

    dev = pick_device(device)
    g, _ = load_for_eval(model, "g1", dev)
    real = real_images(data, n, g.cfg.resolution)
    z = torch.randn(n, g.cfg.z_dim, generator=torch.Generator().manual_seed(seed))
    fake = np.concatenate([to_uint8(g(z[i:i + 64].to(dev))) for i in range(0, n, 64)])
    out: dict[str, float] = {"n_fake": n, "n_real": len(real), **swd(fake, real, seed=seed)}
    for name, imgs in (("", fake), ("real_", real)):
        out[f"{name}near_white_median"] = float(np.median([near_white_share(i) for i in imgs]))
        out[f"{name}colourfulness"] = float(np.mean([colourfulness(i) for i in imgs]))
    if fid:
        from lgan_video.metrics.inception import fid_kid

        if len(real) < 2:
            raise LganError(f"FID needs at least 2 real images, found {len(real)}: {data}")
        out.update(fid_kid(fake, real, str(dev)))
    return out


@torch.no_grad()
def evaluate_mapping(model: str | Path, data: str | Path, n: int = 100, device: str = "cpu",
                     mode: str | None = None, size: int | None = None) -> dict[str, float]:
    """Mean PSNR/SSIM of translations of ``data``'s images from their own maps and appearance.

    Beside them: the same scores for a flat image of each target's mean colour (``flat_*``: the
    baseline a translation must beat to carry any layout), their PSNR difference, and the
    structure score (gradient-magnitude correlation of output and target).
    """
    from lgan_video.maps import map_to_tensor
    from lgan_video.metrics.image import psnr, ssim
    from lgan_video.metrics.structure import structure_score
    from lgan_video.training.data import scan_source
    from lgan_video.training.datasets import MappingDataset

    dev = pick_device(device)
    net, info = load_for_eval(model, "mapping", dev, mode)
    size = size or info["size"]  # central square crops of this side (default: the trained size)
    size -= size % net.cfg.multiple
    src = scan_source(data, video_short_side=size)
    ds = MappingDataset(src, size, info["map"], net.cfg.appearance_size, 0, train=False)
    rows = []
    for i in range(min(n, len(ds))):
        item = ds[(i, 0)]
        maps = map_to_tensor(item["map"], info["map"], dev)
        out, target = to_uint8(net(maps, to_tensor(item["appearance"], dev)))[0], item["target"]
        flat = np.broadcast_to(target.reshape(-1, 3).mean(0).round().astype(np.uint8), target.shape)
        rows.append((psnr(out, target), ssim(out, target), psnr(flat, target),
                     ssim(np.ascontiguousarray(flat), target), structure_score(target, out)))
    m = np.mean(np.array(rows), axis=0)
    return {"n": len(rows), "size": size, "psnr": float(m[0]), "ssim": float(m[1]),
            "flat_psnr": float(m[2]), "flat_ssim": float(m[3]),
            "psnr_over_flat": float(m[0] - m[2]), "structure": float(m[4])}


@torch.no_grad()
def evaluate_sr(model: str | Path, data: str | Path, n: int = 100,
                device: str = "cpu") -> dict[str, float]:
    """PSNR/SSIM-Y of SR and of bicubic upscaling on ``data``'s HR images (border = scale), with
    LR made by antialiased bicubic downscaling, and ``plain_*`` the same with plain bicubic
    (aliased) downscaling: an SR network should gain over bicubic under both."""
    from lgan_video.metrics.image import sr_scores
    from lgan_video.resize import bicubic_resize, crop_to_multiple, sr_lowres
    from lgan_video.training.data import scan_source

    dev = pick_device(device)
    net, _ = load_for_eval(model, "sr", dev)
    s = net.cfg.scale
    src = scan_source(data)
    rows = []
    for i in range(min(n, len(src))):
        hr = crop_to_multiple(src.load(i), s)
        row = []
        for antialias in (True, False):
            lr = sr_lowres(hr, s, antialias=antialias)
            sr = to_uint8(net(to_tensor(lr, dev)))[0]
            bic = bicubic_resize(lr, hr.shape[1], hr.shape[0])
            a, b = sr_scores(sr, hr, s), sr_scores(bic, hr, s)
            row += [a["psnr_y"], a["ssim_y"], b["psnr_y"], b["ssim_y"]]
        rows.append(row)
    m = np.mean(np.array(rows), axis=0)
    return {"n": len(rows), "scale": s, "psnr_y": float(m[0]), "ssim_y": float(m[1]),
            "bicubic_psnr_y": float(m[2]), "bicubic_ssim_y": float(m[3]),
            "gain_db": float(m[0] - m[2]),
            "plain_psnr_y": float(m[4]), "plain_ssim_y": float(m[5]),
            "plain_bicubic_psnr_y": float(m[6]), "plain_bicubic_ssim_y": float(m[7]),
            "plain_gain_db": float(m[4] - m[6])}
