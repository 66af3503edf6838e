"""Image-quality metrics: PSNR/SSIM (mapping, SR), SWD (G1, no weights), FID/KID (G1, optional).

Pure functions of uint8 image arrays: nothing here reads runs, bundles or training data, so
training may import it; :mod:`lgan_video.evaluate` runs them on runs and bundles (``lgan-video eval``).
"""

from lgan_video.metrics.image import MAX_PSNR, crop_border, psnr, rgb_to_y, sr_scores, ssim
from lgan_video.metrics.swd import swd

__all__ = ["MAX_PSNR", "crop_border", "psnr", "rgb_to_y", "sr_scores", "ssim", "swd"]
