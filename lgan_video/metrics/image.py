"""Full-reference image metrics: PSNR and SSIM on uint8 RGB, and the SR convention (Y, border).

Inputs are uint8 RGB ``(H, W, 3)`` arrays (or ``(H, W)`` single channels) in [0, 255]. PSNR of two
identical images is infinite; we return :data:`MAX_PSNR` (100 dB) so averages and JSON stay finite.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

MAX_PSNR = 100.0


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(peak^2 / MSE)``, capped at ``MAX_PSNR``."""
    _check_pair(a, b)
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    if mse == 0.0:
        return MAX_PSNR
    return min(MAX_PSNR, 10.0 * math.log10(peak * peak / mse))


def ssim(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """Structural similarity (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, K1 0.01,
    K2 0.03, valid region only, averaged over channels. Identical images give exactly 1.0.

    Images must be at least 11 pixels on each side.
    """
    _check_pair(a, b)
    x, y = a.astype(np.float64), b.astype(np.float64)
    if x.ndim == 2:
        return _ssim_channel(x, y, peak)
    return float(np.mean([_ssim_channel(x[..., c], y[..., c], peak) for c in range(x.shape[2])]))


def _ssim_channel(x: np.ndarray, y: np.ndarray, peak: float) -> float:
    if min(x.shape) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels, got {x.shape}")
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    g = cv2.getGaussianKernel(11, 1.5)
    window = g @ g.T

    def filt(img: np.ndarray) -> np.ndarray:
        return cv2.filter2D(img, -1, window)[5:-5, 5:-5]  # 'valid' as in the reference code

    mu_x, mu_y = filt(x), filt(y)
    var_x = filt(x * x) - mu_x**2
    var_y = filt(y * y) - mu_y**2
    cov = filt(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return float(np.mean(num / den))


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float64 luma Y in [16, 235] (ITU-R BT.601, as MATLAB ``rgb2ycbcr``).

    ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255`` with R, G, B in [0, 255], the
    convention of SR papers (EDSR, ESRGAN, BasicSR) so numbers are comparable.
    """
    x = rgb.astype(np.float64)
    return 16.0 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255.0


def crop_border(img: np.ndarray, border: int) -> np.ndarray:
    """Drop ``border`` pixels on each side (SR evaluation ignores the upscaling's edge effects)."""
    return img[border:-border, border:-border] if border > 0 else img


def sr_scores(sr: np.ndarray, hr: np.ndarray, scale: int) -> dict[str, float]:
    """PSNR and SSIM on the Y channel with ``scale`` border pixels cropped (the SR convention).

    Y is kept as float (not rounded), as in BasicSR's ``test_y_channel``.
    """
    y_sr = crop_border(rgb_to_y(sr), scale)
    y_hr = crop_border(rgb_to_y(hr), scale)
    return {"psnr_y": psnr(y_sr, y_hr), "ssim_y": ssim(y_sr, y_hr)}


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
