"""How renders of real clips look, per model: structure, colour, near-white share and flicker.

For each model, clip, mode and seed: render the clip (default options, one loaded pipeline per
model), then score the render against its input:

- structure: gradient-magnitude correlation with the input (``eval temporal``'s), mean of frames;
- colourfulness ratio: the output's colourfulness (Hasler and Suesstrunk) over the input's, means
  over frames;
- near-white: the share of output pixels with every channel above 0.9;
- flicker: the warping-error ratio to the input's own (Lai et al. 2018, ``eval temporal``).

These are issue 11's targets: structure >= 0.5, colourfulness >= 0.5x, near-white <= 35 %,
and (issue 12) flicker <= 3x. The clips are this project's own (``benchmarks/temporal_clips.py``),
never opencv-doc's.

Usage: python benchmarks/real_clips.py CLIP [CLIP ...] [--models default PATH] [--modes edge seg]
       [--seeds 0 37] [--frames 48] [--out /tmp/real_clips] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _look_stats(clip: Path, render: Path, frames: int) -> tuple[float, float]:
    """(colourfulness ratio output/input, near-white share of the output) over the frames."""
    from lgan_video.media import open_reader
    from lgan_video.metrics.look import colourfulness, near_white_share

    cin, cout, white = [], [], []
    with open_reader(clip, max_frames=frames) as src, open_reader(render, max_frames=frames) as out:
        for a, b in zip(src, out, strict=False):
            cin.append(colourfulness(a))
            cout.append(colourfulness(b))
            white.append(near_white_share(b))
    return float(np.mean(cout) / max(np.mean(cin), 1e-6)), float(np.mean(white))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--models", nargs="+", default=["default"])
    parser.add_argument("--modes", nargs="+", default=["edge", "seg"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 37])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--out", type=Path, default=Path("/tmp/real_clips"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import torch

    from lgan_video.render import load_pipeline, render
    from lgan_video.temporal_eval import eval_temporal

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    print("| model | clip | mode | seed | structure | colourfulness ratio | near-white | flicker ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for m, model in enumerate(args.models):
        pipe = load_pipeline(model, "cpu")
        for clip in args.clips:
            for mode in args.modes:
                for seed in args.seeds:
                    out = args.out / f"m{m}_{clip.stem}_{mode}_{seed}.mp4"
                    render(clip, out, mode=mode, seeds=(seed,), max_frames=args.frames,
                           overwrite=True, quiet=True, pipeline=pipe)
                    t = eval_temporal(clip, out, max_frames=args.frames)
                    colour, white = _look_stats(clip, out, args.frames)
                    row = {"model": model, "clip": clip.stem, "mode": mode, "seed": seed,
                           "structure": t["structure"], "colourfulness_ratio": colour,
                           "near_white": white, "flicker_ratio": t["ratio"], "render": str(out)}
                    rows.append(row)
                    print(f"| {model} | {clip.stem} | {mode} | {seed} | {t['structure']:.3f} | "
                          f"{colour:.2f} | {100 * white:.1f} % | {t['ratio']:.2f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
