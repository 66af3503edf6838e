"""Structure score: does an output frame keep its input's layout? (pure NumPy/OpenCV)

The Pearson correlation of Sobel gradient magnitudes of the two images' grey levels, after a
Gaussian blur of sigma 1.5 (so texture and a few pixels of misalignment do not count), both at the
output's size. 1 = the same edges with proportional strengths, 0 = unrelated, negative = edges
where the other has none. A flat output scores 0.
"""

from __future__ import annotations

import cv2
import numpy as np

from lgan_video.resize import resize


def gradient_magnitude(rgb: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` -> float32 ``(H, W)`` Sobel magnitude of the blurred grey image."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    grey = cv2.GaussianBlur(grey, (0, 0), sigma)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


def structure_score(reference: np.ndarray, output: np.ndarray, sigma: float = 1.5) -> float:
    """Correlation in [-1, 1] of gradient magnitudes; ``reference`` is resized to ``output``'s size
    (area interpolation when shrinking, cubic when enlarging). 0 when either image is flat."""
    h, w = output.shape[:2]
    reference = resize(reference, (w, h))
    a = gradient_magnitude(reference, sigma).ravel().astype(np.float64)
    b = gradient_magnitude(output, sigma).ravel().astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 1e-12 else 0.0
