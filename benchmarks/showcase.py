"""The README's showcase: clips rendered in edge and seg mode and with a reference-picture look.

For each clip: render it with ``--mode edge``, ``--mode seg`` and ``--mode seg --style PICTURE``
(default options otherwise, one loaded pipeline), then write

- ``OUT/showcase.gif``: the clips one after another, each frame a row of panels
  input | edge | seg | seg in the picture's look, ``--height`` px high;
- ``OUT/showcase.png``: a still grid, one row per (clip, frame index in ``--stills``).

Usage: python benchmarks/showcase.py CLIP [CLIP ...] --style PICTURE [--model default]
       [--frames 48] [--height 144] [--stills 12 36] [--out docs]
"""

from __future__ import annotations

import argparse
import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _read(path: Path, frames: int) -> list[np.ndarray]:
    from lgan_video.media import open_reader

    with open_reader(path, max_frames=frames) as reader:
        return list(reader)


def _row(panels: list[np.ndarray], height: int) -> np.ndarray:
    from lgan_video.resize import resize

    fitted = [resize(p, (round(p.shape[1] * height / p.shape[0]), height)) for p in panels]  # (W, H)
    gap = np.full((height, 4, 3), 255, np.uint8)
    out = [fitted[0]]
    for p in fitted[1:]:
        out += [gap, p]
    return np.concatenate(out, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--style", type=Path, required=True)
    parser.add_argument("--model", default="default")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--height", type=int, default=144)
    parser.add_argument("--stills", nargs="+", type=int, default=[12, 36])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()

    import torch

    from lgan_video.media import open_writer
    from lgan_video.render import load_pipeline, render

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    pipe = load_pipeline(args.model, "cpu")
    work = args.out / "showcase_renders"
    work.mkdir(parents=True, exist_ok=True)
    animation, stills = [], []
    for clip in args.clips:
        columns = [_read(clip, args.frames)]
        for name, kw in (("edge", {"mode": "edge"}), ("seg", {"mode": "seg"}),
                         ("style", {"mode": "seg", "style": (args.style,)})):
            out = work / f"{clip.stem}_{name}.mp4"
            render(clip, out, max_frames=args.frames, overwrite=True, quiet=True, pipeline=pipe, **kw)
            columns.append(_read(out, args.frames))
        rows = [_row(list(panels), args.height) for panels in zip(*columns, strict=True)]
        animation += rows
        stills += [rows[i] for i in args.stills if i < len(rows)]
    gap = np.full((4, stills[0].shape[1], 3), 255, np.uint8)
    grid = np.concatenate([x for s in stills for x in (s, gap)][:-1], axis=0)
    cv2.imwrite(str(args.out / "showcase.png"), grid[:, :, ::-1])
    with open_writer(args.out / "showcase.gif", Fraction(12), overwrite=True) as w:
        for frame in animation:
            w.write(frame)
    print(f"wrote {args.out / 'showcase.gif'} ({len(animation)} frames) and {args.out / 'showcase.png'}")


if __name__ == "__main__":
    main()
