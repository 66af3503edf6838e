"""The README's before/after strip: consecutive frames of an input, its render, and its render with
stabilization, one row each, plus a row per render of |frame t - frame t-1 warped by the input's
flow| (the per-pixel warping error; dark = stable).

Usage: python benchmarks/temporal_strip.py INPUT BEFORE AFTER OUT.png [--first 30] [--count 4]
       [--height 120]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def _frames(path: Path, first: int, count: int) -> list[np.ndarray]:
    from lgan_video.media import open_reader

    with open_reader(path, start=f"{first - 1}f", max_frames=count + 1) as reader:
        return list(reader)


def _error_map(prev: np.ndarray, cur: np.ndarray, src_prev: np.ndarray,
               src_cur: np.ndarray) -> np.ndarray:
    """|cur - warp(prev)| of render frames (gray, x4 for visibility), black where occluded."""
    from lgan_video.metrics.temporal import pair_flow, warp

    motion = pair_flow(src_prev, src_cur, (cur.shape[1], cur.shape[0]))
    diff = np.abs(cur.astype(np.float32) - warp(prev.astype(np.float32), motion.flow)).mean(2)
    diff = np.clip(diff * 4, 0, 255).astype(np.uint8) * motion.mask
    return cv2.cvtColor(diff, cv2.COLOR_GRAY2RGB)


def _row(images: list[np.ndarray], label: str, width: int, height: int) -> np.ndarray:
    tiles = [cv2.resize(im, (width, height), interpolation=cv2.INTER_AREA) for im in images]
    row = np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255)
                          for t in tiles], axis=1)
    cv2.putText(row, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 2)
    cv2.putText(row, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("input", "before", "after", "out"):
        parser.add_argument(name, type=Path)
    parser.add_argument("--first", type=int, default=30)
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--height", type=int, default=120)
    args = parser.parse_args()
    src, before, after = (_frames(p, args.first, args.count)
                          for p in (args.input, args.before, args.after))
    width = round(src[0].shape[1] * args.height / src[0].shape[0])
    rows = [_row(src[1:], "input", width, args.height)]
    for name, render in (("--stabilize 0", before), ("--stabilize 0.9 (default)", after)):
        rows.append(_row(render[1:], name, width, args.height))
        errors = [_error_map(render[i], render[i + 1], src[i], src[i + 1])
                  for i in range(args.count)]
        rows.append(_row(errors, "warping error x4", width, args.height))
    from PIL import Image

    strip = Image.fromarray(np.concatenate(rows, axis=0))
    strip.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)


if __name__ == "__main__":
    main()
