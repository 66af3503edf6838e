"""Parameter counts and inference speed (images/s) of the recommended network configs.

Random weights (speed does not depend on them), ``torch.inference_mode``, one warm-up call, then
the median of ``--repeats`` timed calls per network.

Examples:
    python benchmarks/model_speed.py
    python benchmarks/model_speed.py --device cuda --dtype bfloat16 --batch 32 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from lgan_video.models import (
    G1Config,
    G1Generator,
    MappingConfig,
    MappingNetwork,
    SRConfig,
    SRNetwork,
    count_parameters,
)

# Defaults we recommend for CPU-trainable, CPU-renderable bundles.
CONFIGS = {
    "g1-64": G1Config(resolution=64, channels=256, min_channels=32, d_channels=32),
    "g1-64-wide": G1Config(resolution=64, channels=512, min_channels=32),
    "mapping-edge": MappingConfig(map_channels=1, base_channels=32, n_blocks=9, n_down=3),
    "sr-x2": SRConfig(scale=2),
}


def _cases(work_h: int, work_w: int):
    """(name, network, callable building the input batch for batch size b)."""
    yield "g1-64", G1Generator(CONFIGS["g1-64"]), lambda b: (torch.randn(b, 128),)
    yield "g1-64-wide", G1Generator(CONFIGS["g1-64-wide"]), lambda b: (torch.randn(b, 128),)
    yield (f"mapping-edge@{work_h}x{work_w}", MappingNetwork(CONFIGS["mapping-edge"]),
           lambda b: (torch.rand(b, 1, work_h, work_w) * 2 - 1, torch.rand(b, 3, 64, 64) * 2 - 1))
    yield (f"sr-x2@{work_h}x{work_w}", SRNetwork(CONFIGS["sr-x2"]),
           lambda b: (torch.rand(b, 3, work_h, work_w) * 2 - 1,))


def _time(net, inputs, repeats: int, device: torch.device) -> float:
    """Median seconds of one forward call."""
    times = []
    with torch.inference_mode():
        for i in range(repeats + 1):
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            net(*inputs)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i:  # the first call pays for kernel selection
                times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", default="128x224", help="mapping/SR input HxW (16:9 at 128)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    work_h, work_w = (int(v) for v in args.work.split("x"))
    torch.manual_seed(0)
    for name, net, make in _cases(work_h, work_w):
        net = net.to(device, dtype).eval()
        inputs = tuple(x.to(device, dtype) for x in make(args.batch))
        seconds = _time(net, inputs, args.repeats, device)
        row = {"network": name, "parameters": count_parameters(net), "batch": args.batch,
               "seconds_per_batch": round(seconds, 4),
               "images_per_second": round(args.batch / seconds, 2),
               "device": str(device), "dtype": args.dtype, "threads": torch.get_num_threads()}
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{name:28s} {row['parameters'] / 1e6:6.2f}M params  "
                  f"{row['images_per_second']:8.2f} images/s  (batch {args.batch}, {device})")


if __name__ == "__main__":
    main()
