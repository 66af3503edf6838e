"""Ink: the edge map's lines drawn over an edge-mode translation (``render --ink``).

Mapping networks trained on photos learn not to draw lines (their targets have none), so an edge
network paints the frame's tones and leaves the lines faint. Ink darkens the translation on the
map's edge pixels, before SR, as a drawing has them. Imports nothing heavy (the CLI reads the
default).
"""

from __future__ import annotations

DEFAULT_INK = 0.5


def ink_lines(images, edges, ink: float):
    """Translations ``(B, 3, H, W)`` in [-1, 1] (a torch tensor) darkened to ``1 - ink`` of their
    brightness where the edge channel ``edges (B, 1, H, W)`` is positive."""
    keep = 1.0 - ink * (edges > 0).to(images.dtype)
    return (images + 1.0) * keep - 1.0
