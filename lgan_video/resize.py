"""The one resize policy, for frames at render time and images at training time alike.

- Shrinking averages pixel areas (OpenCV ``INTER_AREA``, ffmpeg ``flags=area``): no aliasing, so
  edge and segment maps of a downscaled frame match those of a downscaled training image.
- Growing is bicubic (OpenCV ``INTER_CUBIC``, ffmpeg ``flags=bicubic``).
- A "short side" resize keeps the aspect ratio; for frames the long side is rounded to an even
  number (H.264's 4:2:0 sampling wants it), for training images to the nearest pixel.
- SR's low-resolution input (training, evaluation, degradation) is the HR image cut to a multiple
  of the scale, then downscaled by the scale with an antialiased bicubic, as MATLAB ``imresize``
  and the SR benchmarks do: :func:`sr_lowres`.

Images are uint8 RGB ``(H, W, 3)`` (or ``(H, W)``); sizes are ``(W, H)`` as OpenCV takes them.
"""

from __future__ import annotations

import numpy as np

from lgan_video.errors import LganError


def shrinks(src: tuple[int, int], dst: tuple[int, int]) -> bool:
    """Whether going from ``src`` (W, H) to ``dst`` (W, H) loses pixels (then: area averaging)."""
    return dst[0] * dst[1] < src[0] * src[1]


def ffmpeg_flags(src: tuple[int, int], dst: tuple[int, int]) -> str:
    """The ffmpeg ``scale`` filter's ``flags=`` for this policy."""
    return "area" if shrinks(src, dst) else "bicubic"


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 ``(H, W, ...)`` -> ``(size[1], size[0], ...)``: area averaging down, bicubic up."""
    import cv2

    h, w = image.shape[:2]
    size = (int(size[0]), int(size[1]))
    if (w, h) == size:
        return image
    interp = cv2.INTER_AREA if shrinks((w, h), size) else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp)


def scaled_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """``(W, H)`` of a frame resized so the short side is ``short_side``, keeping the aspect.

    The long side is scaled by the same factor and rounded to the nearest even number (at least
    2), which H.264's 4:2:0 sampling prefers. ``None`` keeps the size.
    """
    if short_side is None:
        return width, height
    if short_side < 1:
        raise LganError(f"invalid size {short_side}: must be at least 1 pixel")
    short, long = min(width, height), max(width, height)
    new_long = max(2, 2 * round(long * short_side / short / 2))
    return (new_long, short_side) if width >= height else (short_side, new_long)


def resize_short(image: np.ndarray, short: int) -> np.ndarray:
    """A training image resized so its short side is ``short`` (long side to the nearest pixel)."""
    h, w = image.shape[:2]
    if min(h, w) == short:
        return image
    k = short / min(h, w)
    return resize(image, (max(short, round(w * k)), max(short, round(h * k))))


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central ``size x size`` window (the image must be at least that big)."""
    h, w = image.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return image[y:y + size, x:x + size]


def bicubic_resize(image: np.ndarray, width: int, height: int,
                   antialias: bool = True) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` -> ``(height, width, 3)``, antialiased bicubic (as MATLAB imresize).

    ``antialias=False`` is the plain bicubic kernel (as OpenCV's and most video scalers' fast
    paths), which aliases when shrinking.
    """
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    y = F.interpolate(x, size=(height, width), mode="bicubic", antialias=antialias,
                      align_corners=False)
    return y.round().clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0).contiguous().numpy()


def crop_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Drop the last rows and columns so both sides are multiples of ``multiple``."""
    h, w = image.shape[:2]
    return image[: h - h % multiple, : w - w % multiple]


def sr_lowres(hr: np.ndarray, scale: int, antialias: bool = True) -> np.ndarray:
    """The SR low-resolution input of an HR image: ``(H // s, W // s, 3)``, antialiased bicubic
    (``antialias=False``: the plain, aliasing bicubic that real-frame degradations mix in).

    Sides that are not multiples of ``scale`` lose their last rows/columns first (cut ``hr`` with
    :func:`crop_to_multiple` to get the matching target).
    """
    hr = crop_to_multiple(hr, scale)
    return bicubic_resize(hr, hr.shape[1] // scale, hr.shape[0] // scale, antialias=antialias)
