"""Animated GIF and WebP, decoded with Pillow frame by frame (disposal and transparency handled)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from lgan_video.errors import LganError
from lgan_video.media.images import image_error, pil_errors, to_rgb8


def is_animated(path: Path) -> bool:
    """Whether the image file at ``path`` holds more than one frame."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return bool(getattr(im, "is_animated", False)) and im.n_frames > 1
    except pil_errors() as e:
        raise image_error(path, e) from None


def frame_delays(path: Path) -> tuple[list[int], int, tuple[int, int]]:
    """Per-frame delays of an animation in ms, its loop count (0 = forever) and its ``(W, H)``."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            delays = []
            for i in range(im.n_frames):
                im.seek(i)
                if im.format == "WEBP":
                    im.load()  # Pillow sets a WebP frame's duration only once it is decoded
                delays.append(int(im.info.get("duration") or 0))
            return delays, int(im.info.get("loop", 1)), im.size
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise LganError(f"corrupt animation: {path} ({type(e).__name__}: {e})") from None


def iter_animation(path: Path, indices: range) -> Iterator[np.ndarray]:
    """Yield uint8 RGB ``(H, W, 3)`` frames ``indices`` of an animation (transparency on white)."""
    from PIL import Image

    with Image.open(path) as im:
        for i in indices:
            try:
                im.seek(i)
                frame = to_rgb8(im)
            except (OSError, SyntaxError, ValueError, EOFError) as e:
                raise LganError(
                    f"corrupt animation: frame {i} of {path} could not be decoded ({e})"
                ) from None
            yield frame
