"""Still images and frame folders: loading any image as uint8 RGB, natural sort (resizing:
:mod:`lgan_video.resize`)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from lgan_video.errors import LganError
from lgan_video.media.suffixes import IMAGE_SUFFIXES

_DIGITS = re.compile(r"(\d+)")
_TRANSPOSED = {5, 6, 7, 8}  # EXIF orientations that swap width and height

# Pillow warns above 89 M pixels and refuses above 179 M (DecompressionBombError, which we turn
# into a one-line error); the warning would only add lines to stderr for images we can handle.
warnings.filterwarnings("ignore", message=r"Image size \(\d+ pixels\) exceeds limit")


def pil_errors() -> tuple[type[BaseException], ...]:
    """What Pillow raises for files it cannot or will not decode (truncated, garbage, bombs)."""
    from PIL import Image

    return (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


def image_error(path: Path, e: BaseException) -> LganError:
    """The one-line error for a Pillow failure on ``path``."""
    from PIL import Image

    if isinstance(e, Image.DecompressionBombError):
        return LganError(f"image too large to decode safely: {path} ({e})")
    return LganError(f"not a readable image: {path} ({type(e).__name__})")


def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers by value: ``frame2 < frame10``."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in _DIGITS.split(name)]


def list_frames(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` in natural order; ``LganError`` when there are none."""
    files = [p for p in folder.iterdir()
             if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and not p.name.startswith(".")]
    if not files:
        raise LganError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder: {folder}")
    return sorted(files, key=lambda p: natural_key(p.name))


def to_rgb8(image) -> np.ndarray:
    """A PIL image of any mode -> uint8 RGB ``(H, W, 3)``.

    Transparency is flattened onto white; grayscale is replicated; 16-bit and 32-bit gray are
    scaled to 8 bits (``value / 257``); palette, CMYK and YCbCr images are converted.
    """
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode != "F" else max(float(arr.max()), 1.0)
        gray = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def load_image(path: Path) -> np.ndarray:
    """Read one still image (EXIF orientation applied) as uint8 RGB ``(H, W, 3)``."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            return to_rgb8(ImageOps.exif_transpose(im))
    except pil_errors() as e:
        raise image_error(path, e) from None


def image_size(path: Path) -> tuple[int, int]:
    """``(W, H)`` of a still image after its EXIF orientation, from the header alone (a
    12000x12000 PNG is not decoded); ``LganError`` when the header is unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
            # PNG keeps EXIF anywhere (getexif() would decode the image to find it); JPEG and WebP
            # keep it in the header.
            has_exif = im.format != "PNG" or "exif" in im.info
            orientation = im.getexif().get(0x0112, 1) if has_exif else 1
    except pil_errors() as e:
        raise image_error(path, e) from None
    return (h, w) if orientation in _TRANSPOSED else (w, h)

