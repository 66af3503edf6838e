"""Frames per second of structure-map extraction, per mode, with and without temporal smoothing.

Runs single-threaded by default (OpenCV, BLAS and torch limited to one thread) on a procedurally
animated clip-art scene with mild sensor noise, so figures are comparable between machines.

Usage: python benchmarks/maps_speed.py [--size 512] [--frames 60] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import time


def _limit_threads(n: int) -> None:
    # Must run before numpy/cv2/torch load their thread pools.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def _frames(content: str, size: int, n: int):
    # (n, size, size, 3) uint8 with mild sensor noise: flat clip-art, or a panning colour texture
    # (many colours, like natural footage; the harder case for k-means).
    import cv2
    import numpy as np

    from lgan_video.synthetic import scene_array

    rng = np.random.default_rng(0)
    if content == "clip-art":
        clean = scene_array(n, size, size, seed=1).astype(np.float32)
    else:
        field = cv2.GaussianBlur(rng.normal(0, 1, (size, size, 3)).astype(np.float32), (0, 0), 6)
        field = field / field.std() * 60 + 128
        clean = np.stack([np.roll(field, 2 * i, axis=1) for i in range(n)])
    return np.clip(clean + rng.normal(0.0, 4.0, clean.shape), 0, 255).astype(np.uint8)


def _fps(frames, cfg) -> tuple[float, float]:
    # (frames per wall-clock second, frames per CPU second of this process).
    from lgan_video.maps import MapExtractor

    extractor = MapExtractor(cfg)
    extractor(frames[0])  # warm-up: first-call allocations, lazy OpenCV init
    extractor.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        extractor(frame)
    n = len(frames)
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="frame width and height")
    parser.add_argument("--frames", type=int, default=60, help="frames per measurement")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads")
    args = parser.parse_args()
    _limit_threads(args.threads)

    import cv2
    import torch

    from lgan_video.maps import MapConfig

    cv2.setNumThreads(args.threads)
    torch.set_num_threads(args.threads)
    print(f"structure maps at {args.size}x{args.size}, {args.frames} frames, "
          f"{args.threads} thread(s); CPU frames/s counts this process's CPU time only "
          "(steadier on a shared machine)")
    for content in ("clip-art", "texture"):
        frames = _frames(content, args.size, args.frames)
        for mode in ("edge", "seg"):
            for temporal in (0.0, 0.5):
                wall, cpu = _fps(frames, MapConfig(mode=mode, temporal=temporal))
                print(f"  {content:8s}  {mode:4s}  temporal={temporal:.1f}  "
                      f"{wall:7.1f} frames/s  {cpu:7.1f} CPU frames/s")


if __name__ == "__main__":
    main()
