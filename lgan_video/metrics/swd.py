"""Sliced Wasserstein distance on Laplacian-pyramid patches (Karras et al. 2018, ProGAN).

No pretrained network needed. Each image set is decomposed into a Laplacian pyramid (5-tap
binomial filter, as ``cv2.pyrDown``) down to 16x16; from every level 128 random 7x7 neighbourhoods
per image are taken as 147-d descriptors, normalised per colour channel over the set; the distance
between the two descriptor sets is the mean, over 4 x 128 random unit directions, of the 1-D
Wasserstein-1 distance between the projections (sorted and compared). As in the paper values are
multiplied by 1e3 and reported per level (finest first) and as their mean.

One departure from the paper's code: both sets are sampled at the *same* random positions (image
``i`` of each set, same centres), common random numbers that remove the sampling noise from
comparisons, so a set compared with itself scores exactly 0. Positions are independent of content,
so the expected value for different sets is unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

NHOOD_SIZE = 7
NHOODS_PER_IMAGE = 128
DIR_REPEATS = 4
DIRS_PER_REPEAT = 128
MIN_RESOLUTION = 16


def laplacian_pyramid(image: np.ndarray, min_res: int = MIN_RESOLUTION) -> list[np.ndarray]:
    """float32 ``(H, W, 3)`` -> band-pass levels (finest first) and the low-pass residual last."""
    levels, cur = [], image.astype(np.float32)
    while min(cur.shape[:2]) // 2 >= min_res:
        down = cv2.pyrDown(cur)
        up = cv2.pyrUp(down, dstsize=(cur.shape[1], cur.shape[0]))
        levels.append(cur - up)
        cur = down
    levels.append(cur)
    return levels


def _positions(n: int, h: int, w: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Centres ``(ys, xs)``, each ``(n, 128)``, of random 7x7 neighbourhoods."""
    r = NHOOD_SIZE // 2
    return (rng.integers(r, h - r, size=(n, NHOODS_PER_IMAGE)),
            rng.integers(r, w - r, size=(n, NHOODS_PER_IMAGE)))


def _descriptors(level: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``(N, H, W, 3)`` -> ``(N * 128, 7, 7, 3)`` neighbourhoods around ``(ys, xs)``."""
    n = level.shape[0]
    r = NHOOD_SIZE // 2
    offs = np.arange(-r, r + 1)
    img = np.arange(n)[:, None, None, None]
    yy = ys[:, :, None, None] + offs[None, None, :, None]  # (N, 128, 7, 1)
    xx = xs[:, :, None, None] + offs[None, None, None, :]  # (N, 128, 1, 7)
    return level[img, yy, xx].reshape(-1, NHOOD_SIZE, NHOOD_SIZE, 3)


def _normalize(desc: np.ndarray) -> np.ndarray:
    """Zero mean, unit std per colour channel over the set; flattened to ``(M, 147)``."""
    desc = desc - desc.mean(axis=(0, 1, 2), keepdims=True)
    desc = desc / (desc.std(axis=(0, 1, 2), keepdims=True) + 1e-8)
    return desc.reshape(desc.shape[0], -1)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> float:
    """Mean 1-D Wasserstein-1 distance of ``(M, D)`` sets over random unit directions."""
    results = []
    for _ in range(DIR_REPEATS):
        dirs = rng.standard_normal((a.shape[1], DIRS_PER_REPEAT)).astype(np.float32)
        dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
        pa, pb = np.sort(a @ dirs, axis=0), np.sort(b @ dirs, axis=0)
        results.append(float(np.mean(np.abs(pa - pb))))
    return float(np.mean(results))


def swd(images_a: np.ndarray, images_b: np.ndarray, seed: int = 0) -> dict[str, float]:
    """SWD x 1e3 between two uint8 sets ``(N, H, W, 3)`` of the same image size.

    The larger set is cut to the size of the smaller. Returns ``{"swd": mean, "swd_<res>": ...}``
    with one entry per pyramid level (e.g. ``swd_32``, ``swd_16`` for 32x32 images).
    """
    if images_a.shape[1:] != images_b.shape[1:]:
        raise ValueError(f"SWD needs equal image sizes, got {images_a.shape} and {images_b.shape}")
    if min(images_a.shape[1:3]) < MIN_RESOLUTION:
        raise ValueError(f"SWD needs images of at least {MIN_RESOLUTION} pixels")
    n = min(len(images_a), len(images_b))
    rng = np.random.default_rng(seed)
    pyr_a = [laplacian_pyramid(im) for im in images_a[:n]]
    pyr_b = [laplacian_pyramid(im) for im in images_b[:n]]
    out = {}
    for lvl in range(len(pyr_a[0])):
        la = np.stack([p[lvl] for p in pyr_a])
        lb = np.stack([p[lvl] for p in pyr_b])
        ys, xs = _positions(n, la.shape[1], la.shape[2], rng)
        da, db = _normalize(_descriptors(la, ys, xs)), _normalize(_descriptors(lb, ys, xs))
        out[f"swd_{la.shape[1]}"] = 1e3 * sliced_wasserstein(da, db, rng)
    out["swd"] = float(np.mean(list(out.values())))
    return out
