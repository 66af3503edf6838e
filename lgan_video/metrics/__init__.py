"""Image-quality metrics: PSNR/SSIM (mapping, SR), SWD (G1, no weights), FID/KID (G1, optional).

``evaluate`` runs them on a training run or bundle against a folder of images (``lgan-video eval``).
"""

from lgan_video.metrics.image import MAX_PSNR, crop_border, psnr, rgb_to_y, sr_scores, ssim
from lgan_video.metrics.swd import swd

__all__ = ["MAX_PSNR", "crop_border", "psnr", "rgb_to_y", "sr_scores", "ssim", "swd"]
