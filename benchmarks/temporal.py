"""Flicker, structure and cost of flow-guided stabilization on real clips (the README's table).

For each clip, mode and ``--stabilize`` strength: render with the default model (one loaded
pipeline), then ``eval temporal`` against the input: the warping-error ratio to the input's own
(Lai et al. 2018), the structure score, and the CPU time spent in stabilization (motion analysis in the prefetch
thread + blending on the render thread) as a share of the render's CPU time (this process, all
threads), measured inside the same run, so a loaded machine slows both alike.

Usage: python benchmarks/temporal.py CLIP [CLIP ...] [--modes edge seg] [--strengths 0 0.9]
       [--frames 48] [--out /tmp/temporal_bench]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


class _Clock:
    """CPU time spent inside wrapped methods (each thread's own), summed over threads."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()

    def wrap(self, cls: type, name: str) -> None:
        inner = getattr(cls, name)

        def timed(obj, *args, **kwargs):
            t0 = time.thread_time()
            try:
                return inner(obj, *args, **kwargs)
            finally:
                with self._lock:
                    self.seconds += time.thread_time() - t0

        setattr(cls, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--modes", nargs="+", default=["edge", "seg"])
    parser.add_argument("--strengths", nargs="+", type=float, default=[0.0, 0.9])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--model", default="default")
    parser.add_argument("--seed", type=int, default=0, help="G1 seed of the look (37: colourful)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/temporal_bench"))
    args = parser.parse_args()

    import torch

    from lgan_video.render import load_pipeline, render
    from lgan_video.stabilize import FlowBlender, MotionAnalyzer
    from lgan_video.temporal_eval import eval_temporal

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    clock = _Clock()
    clock.wrap(MotionAnalyzer, "__call__")
    clock.wrap(FlowBlender, "__call__")
    pipe = load_pipeline(args.model, "cpu")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"seed {args.seed}")
    print("| clip | mode | stabilize | warping error | input's | ratio | structure "
          "| render wall s | stabilization CPU share |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for clip in args.clips:
        for mode in args.modes:
            for strength in args.strengths:
                out = args.out / f"{clip.stem}_{mode}_{strength:g}.mp4"
                clock.seconds, cpu0 = 0.0, time.process_time()
                result = render(clip, out, mode=mode, seeds=(args.seed,), stabilize=strength, max_frames=args.frames,
                                overwrite=True, quiet=True, pipeline=pipe)
                share = clock.seconds / (time.process_time() - cpu0)
                s = eval_temporal(clip, out, max_frames=args.frames)
                print(f"| {clip.stem} | {mode} | {strength:g} | {s['warping_error']:.6f} | "
                      f"{s['input_warping_error']:.6f} | {s['ratio']:.2f} | {s['structure']:.3f} "
                      f"| {result.seconds:.1f} | {100 * share:.1f} % |", flush=True)


if __name__ == "__main__":
    main()
