"""Training throughput (images/s) of each network's full iteration (D step + G step) on a device.

Runs the real training tasks (:mod:`lgan_video.training`) on in-memory clip-art images, so the
numbers include the losses, optimizer steps, EMA and (on CUDA) AMP, but not disk or the data
loader. One warm-up step, then the median of ``--steps`` timed steps. Where ``--precision auto``
is mixed (CUDA: bf16 or fp16; CPUs with native bf16: bf16 autocast) each network is timed with
it (amp on) and in fp32 (amp off); elsewhere only fp32. channels_last as in training.

Configs (the CLI defaults unless noted):
    g1               64x64, channels 256 (CLI default 512), hinge, attention, batch 16
    mapping          the first recipe, which issue 9's "today" figures measured: plain edge maps,
                     128x128 crops, base_channels 32, 9 blocks, one PatchGAN, no feature matching,
                     no DiffAugment, no palette, recovery on, batch 4
    mapping-default  the same size with today's defaults: palette, edge maps with 4 tones,
                     2-scale PatchGAN + feature matching, DiffAugment
    sr               x2, 64x64 HR patches, channels 32, 4 blocks, L1 only, batch 16

Examples:
    python benchmarks/train_speed.py
    python benchmarks/train_speed.py --device cuda --steps 20 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from lgan_video.devices import resolve_precision
from lgan_video.synthetic import scene_frames
from lgan_video.training.data import Source
from lgan_video.training.distributed import DistInfo
from lgan_video.training.g1 import G1Options, G1Task
from lgan_video.training.loop import StepContext, to_memory_format, training_precision
from lgan_video.training.mapping import MappingOptions, MappingTask
from lgan_video.training.sr import SROptions, SRTask

CASES = {
    "g1": (lambda: G1Task(G1Options(resolution=64, channels=256)), 16),
    "mapping": (lambda: MappingTask(MappingOptions(
        mode="edge", size=128, d_scales=1, fm_weight=0.0, augment="none", palette=False,
        edge_tones=0, canny_percentile=0.0)), 4),
    "mapping-default": (lambda: MappingTask(MappingOptions(mode="edge", size=128)), 4),
    "sr": (lambda: SRTask(SROptions(scale=2, patch=64)), 16),
}


def _source(n: int = 32) -> Source:
    frames = list(scene_frames(n, 192, 144, seed=0))
    return Source(Path("."), list(frames), [f"frame{i}" for i in range(n)])


def _time_task(name: str, device: torch.device, amp: bool, steps: int) -> float:
    """Median images/s of ``steps`` training iterations."""
    make, batch_size = CASES[name]
    task = make()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        task.build(_source(), device, Path(tmp), seed=0)
    precision = training_precision(task, device, "auto" if amp else "fp32")
    for module in task.modules().values():
        module.to(memory_format=precision.memory_format)
    ctx = StepContext(device, DistInfo(), precision)
    batch = task.collate([task.dataset[(i, 0)] for i in range(batch_size)])
    batch = to_memory_format(task.to_device(batch, device), precision.memory_format)
    times = []
    for i in range(steps + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        ctx.step = i
        task.train_step(batch, ctx)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:  # the first step pays for allocation and kernel selection
            times.append(time.perf_counter() - t0)
    return batch_size / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--networks", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    amps = [False, True] if resolve_precision(device, "auto").name != "fp32" else [False]
    rows = []
    for name in args.networks:
        for amp in amps:
            ips = _time_task(name, device, amp, args.steps)
            rows.append({"network": name, "batch": CASES[name][1], "amp": amp,
                         "images_per_s": round(ips, 2)})
    if args.json:
        print(json.dumps({"device": str(device), "threads": torch.get_num_threads(),
                          "results": rows}, indent=2))
        return
    print(f"device {device}, torch threads {torch.get_num_threads()}")
    for r in rows:
        print(f"{r['network']:>8}  batch {r['batch']:>3}  amp {'on ' if r['amp'] else 'off'}  "
              f"{r['images_per_s']:8.2f} images/s")


if __name__ == "__main__":
    main()
