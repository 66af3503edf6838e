"""Statistics of a look: how washed out and how colourful images are (pure NumPy).

Used to judge G1 samples and renders: a model trained on clip art on white paints most pixels
near-white, whatever the input.
"""

from __future__ import annotations

import numpy as np


def near_white_share(rgb: np.ndarray, threshold: float = 0.9) -> float:
    """Share in [0, 1] of pixels whose every channel exceeds ``threshold`` (of 255).

    ``rgb``: uint8 ``(..., H, W, 3)``; the share is over all pixels given."""
    return float((rgb.reshape(-1, 3) > threshold * 255).all(axis=1).mean())


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Suesstrunk's (2003) colourfulness of uint8 ``(H, W, 3)``: 0 for grey images,
    about 15 for dull, 45 for average, 100+ for very colourful photos."""
    x = rgb.reshape(-1, 3).astype(np.float64)
    rg = x[:, 0] - x[:, 1]
    yb = 0.5 * (x[:, 0] + x[:, 1]) - x[:, 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
