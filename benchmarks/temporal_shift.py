"""How far a model's render is from shift-equivariant: where flicker on slow pans comes from.

Takes one frame of CLIP at the model's working size and pans over it: window ``x0`` is the frame
without its last ``max(shifts)`` columns starting at column ``x0``, so window s shows the content of
window 0 moved s pixels to the left, as a camera pan would. Renders window 0 and each window s (no
stabilization, no map temporal state, one look per seed) and prints the mean squared difference in
[0, 1] RGB between render s and render 0 moved by s x the SR scale, over the interior (``--margin``
output pixels from the borders left out). An equivariant model scores about 0 for every s; a
network whose strided downsampling aliases scores higher for shifts that are not multiples of its
total stride (8 for the mapping networks) than for those that are. What remains at multiples of
the stride comes from everything else: the content entering at one border and leaving at the
other reaches the interior through the network's receptive field and instance norms, and the
structure maps' global thresholds and tones move with it. Compare with the warping errors of
``eval temporal`` (the same units). (A first version shifted with ``np.roll``, which puts the
frame's other border at the seam: for v3's networks, whose receptive field spans the frame, that
dominated every shift alike.)

Usage: python benchmarks/temporal_shift.py CLIP [--frame 5] [--seeds 0 37] [--shifts 1 2 4 8]
       [--mode edge] [--margin 16]
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--frame", type=int, default=5)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 37])
    parser.add_argument("--shifts", nargs="+", type=int, default=[1, 2, 4, 8])
    parser.add_argument("--mode", default="edge")
    parser.add_argument("--model", default="default")
    parser.add_argument("--margin", type=int, default=16)
    args = parser.parse_args()

    import numpy as np
    import torch

    from lgan_video.latents import seed_latent
    from lgan_video.media import open_reader
    from lgan_video.render import load_pipeline

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    pipe = load_pipeline(args.model, "cpu")
    with open_reader(args.clip, size=pipe.work_size, max_frames=args.frame + 1) as reader:
        frame = list(reader)[args.frame]
    work = min(frame.shape[:2])

    print(f"{args.clip.name} frame {args.frame} ({frame.shape[1]}x{frame.shape[0]}), {args.mode}")
    print("| seed | shift (working px) | MSE vs the shifted render |")
    print("| --- | --- | --- |")
    for seed in args.seeds:
        z = itertools.repeat(seed_latent(seed, pipe.z_dim))

        def render(f, z=z):
            out = next(pipe.render([f], args.mode, z, work_size=work, stabilize=0.0))
            return out.astype(np.float32) / 255.0

        width = frame.shape[1] - max(args.shifts)
        base = render(frame[:, :width])
        scale = base.shape[1] // width
        for s in args.shifts:
            moved = render(frame[:, s:s + width])  # moved[x] shows base[x + s]
            k, m = s * scale, args.margin
            diff = moved[m:-m, m:-m - k] - base[m:-m, m + k:-m]
            print(f"| {seed} | {s} | {float(np.mean(diff ** 2)):.5f} |", flush=True)


if __name__ == "__main__":
    main()
