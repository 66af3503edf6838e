"""Rendering speed: frames/s end to end, and ms/frame of each stage, for several input sizes.

For each input size (short side; 16:9 synthetic clip-art clips written with the media writer) and
each batch size, the same frames go through every stage in isolation, then through the real
``lgan_video.render.render`` (decode and encode threads overlapping inference). Stages:

    decode    ffmpeg -> uint8 frames at the input size
    resize    input size -> work size (short side ``work_size``, multiples of the mapping's 2**n_down)
    maps      structure maps (MapExtractor, temporal 0.5 like ``render``)
    g1_style  G1(z) for a new latent per frame (the worst case: mid-walk) + style encoding
    mapping   maps -> tensor, mapping network translation at the work size
    sr        super-resolution + conversion to uint8 (off the device)
    encode    H.264 MP4 at the output size

The pipeline works at ``work_size`` whatever the input size, so a large input mostly costs
decode, resize and encode. ``serial fps`` is 1 / (sum of stage times): what a render would reach
without any overlap. Default model: a randomly initialised bundle of the CPU default configuration
(speed does not depend on the weights); ``--model PATH|default`` times a real bundle.

Examples:
    python benchmarks/render_speed.py
    python benchmarks/render_speed.py --batch-size 1 8 --frames 64 --threads 2
    python benchmarks/render_speed.py --model default --device cuda --batch-size 8 32
    python benchmarks/render_speed.py --sizes 120 --frames 4 --json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

STAGES = ("decode", "resize", "maps", "g1_style", "mapping", "sr", "encode")
TEMPORAL = 0.5  # lgan_video.render.render's default map stabilization
FPS = 24


# The CPU default configuration (what examples/train_default.sh trains), as config keywords.
DEFAULT_G1 = {"resolution": 32, "channels": 128, "d_channels": 16, "attention": (8,),
              "d_attention": (8,)}
DEFAULT_MAPPING = {"base_channels": 16, "n_blocks": 4}
DEFAULT_SR = {"scale": 2, "channels": 16, "blocks": 2}


def default_config_bundle(path: str | Path, seed: int = 0) -> Path:
    """Write a random bundle of the CPU default configuration (edge + 8-class seg, SR x2, work 96)."""
    from lgan_video.testing import make_random_bundle

    return make_random_bundle(path, DEFAULT_G1, DEFAULT_MAPPING, DEFAULT_SR, classes=8,
                              work_size=96, seed=seed,
                              provenance={"kind": "random CPU default configuration (benchmark)"})


def input_dims(short: int) -> tuple[int, int]:
    """(W, H) of a 16:9 frame whose height is ``short`` (width rounded to even): 360 -> 640x360."""
    return max(2, 2 * round(short * 16 / 9 / 2)), short


def make_clip(path: Path, width: int, height: int, frames: int, fps: int = FPS) -> Path:
    """Write ``frames`` synthetic clip-art frames to ``path`` with the media writer."""
    from lgan_video.media import open_writer
    from lgan_video.synthetic import scene_frames

    with open_writer(path, fps) as writer:
        for frame in scene_frames(frames, width, height, seed=1):
            writer.write(frame)
    return path


class _Clock:
    """Seconds between successive ``lap()`` calls, with the device synchronised at each."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.last = self._now()

    def _now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def lap(self) -> float:
        now = self._now()
        seconds, self.last = now - self.last, now
        return seconds


def _resize_all(frames: list[np.ndarray], dims: tuple[int, int]) -> list[np.ndarray]:
    from lgan_video.resize import resize  # the pipeline's policy

    return [resize(f, dims) for f in frames]


def _maps_all(small: list[np.ndarray], map_cfg) -> np.ndarray:
    from lgan_video.maps import MapExtractor

    extractor = MapExtractor(dataclasses.replace(map_cfg, temporal=TEMPORAL))
    return np.stack([extractor(f) for f in small])


def _decode(clip: Path) -> list[np.ndarray]:
    from lgan_video.media import open_reader

    with open_reader(clip) as reader:
        return list(reader)


def _encode(frames: list[np.ndarray], path: Path) -> None:
    from lgan_video.media import open_writer

    with open_writer(path, FPS, overwrite=True) as writer:
        for frame in frames:
            writer.write(frame)


def time_networks(pipe, maps: np.ndarray, mode: str, batch_size: int) -> tuple[dict, list]:
    """Seconds of g1_style, mapping and sr over ``maps (N, h, w)`` in batches; uint8 outputs."""
    from lgan_video.imageops import to_uint8
    from lgan_video.latents import seed_latent
    from lgan_video.maps import map_to_tensor

    net, cfg, dev = pipe.mapping(mode), pipe.bundle.map_configs[mode], pipe.device
    fmt = pipe.precision.memory_format
    seconds = dict.fromkeys(("g1_style", "mapping", "sr"), 0.0)
    outputs: list[np.ndarray] = []
    for start in range(0, len(maps), batch_size):
        batch = maps[start:start + batch_size]
        z = torch.stack([seed_latent(start + k, pipe.z_dim) for k in range(len(batch))])
        with torch.inference_mode(), pipe.precision.context():
            clock = _Clock(dev)
            style = net.encode_style(pipe.generate(z))
            seconds["g1_style"] += clock.lap()
            x = map_to_tensor(batch, cfg, dev, pipe.dtype).contiguous(memory_format=fmt)
            image = pipe._paint(net, x, style)  # pads to the network's multiple, crops back
            seconds["mapping"] += clock.lap()
            outputs.extend(to_uint8(pipe.upscale(image)))
            seconds["sr"] += clock.lap()
    return seconds, outputs


def time_stages(pipe, clip: Path, mode: str, batch_size: int, work_size: int, tmp: Path) -> dict:
    """Seconds per frame of each stage on the frames of ``clip``; also work and output (W, H)."""
    from lgan_video.pipeline import work_dims

    secs = {}
    t0 = time.perf_counter()
    frames = _decode(clip)
    secs["decode"], t0 = time.perf_counter() - t0, time.perf_counter()
    h, w = frames[0].shape[:2]
    dims = work_dims(w, h, work_size)
    small = _resize_all(frames, dims)
    secs["resize"], t0 = time.perf_counter() - t0, time.perf_counter()
    del frames  # large inputs: keep only the work-size copies
    maps = _maps_all(small, pipe.bundle.map_configs[mode])
    secs["maps"] = time.perf_counter() - t0
    time_networks(pipe, maps[:batch_size], mode, batch_size)  # warm-up at this shape
    net_secs, outputs = time_networks(pipe, maps, mode, batch_size)
    secs |= net_secs
    t0 = time.perf_counter()
    _encode(outputs, tmp / "stages.mp4")
    secs["encode"] = time.perf_counter() - t0
    return {"per_frame": {k: secs[k] / len(maps) for k in STAGES}, "work": dims,
            "output": (outputs[0].shape[1], outputs[0].shape[0])}


def time_end_to_end(pipe, clip: Path, mode: str, batch_size: int, work_size: int,
                    tmp: Path) -> float:
    """Frames/s of ``lgan_video.render.render`` on ``clip`` (threads, encode and all)."""
    from lgan_video.render import render

    result = render(clip, tmp / "render.mp4", mode=mode, batch_size=batch_size, size=work_size,
                    audio=False, temporal=TEMPORAL, overwrite=True, quiet=True, pipeline=pipe)
    return result.frames / result.seconds


def _row(pipe, clip: Path, short: int, batch: int, args, tmp: Path) -> dict:
    stages = time_stages(pipe, clip, args.mode, batch, args.work_size, tmp)
    fps = time_end_to_end(pipe, clip, args.mode, batch, args.work_size, tmp)
    per_frame = stages["per_frame"]
    return {
        "input": "{}x{}".format(*input_dims(short)), "work": "{}x{}".format(*stages["work"]),
        "output": "{}x{}".format(*stages["output"]), "batch_size": batch,
        "frames": args.frames, "frames_per_second": round(fps, 2),
        "serial_frames_per_second": round(1.0 / sum(per_frame.values()), 2),
        "ms_per_frame": {k: round(v * 1000, 2) for k, v in per_frame.items()},
    }


def _print_table(report: dict) -> None:
    print(f"render speed: {report['model']}, mode {report['mode']}, {report['device']} "
          f"({report['dtype']}), {report['threads']} torch thread(s), {report['frames']} frames, "
          f"load average {' '.join(f'{x:.2f}' for x in report['load_average'])}")
    head = "".join(f"{s:>9}" for s in STAGES)
    print(f"{'input':>10} {'work':>8} {'output':>9} {'batch':>5} {'fps':>8}  |  ms/frame:"
          f"{head}  | {'serial fps':>10}")
    for r in report["rows"]:
        cells = "".join(f"{r['ms_per_frame'][s]:9.2f}" for s in STAGES)
        print(f"{r['input']:>10} {r['work']:>8} {r['output']:>9} {r['batch_size']:>5} "
              f"{r['frames_per_second']:8.2f}  |           {cells}  | "
              f"{r['serial_frames_per_second']:10.2f}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None,
                        help="bundle folder or 'default' (default: random CPU-default config)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--mode", default="edge", choices=["edge", "seg"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[360, 720, 1080],
                        help="input heights (16:9 frames)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[8])
    parser.add_argument("--frames", type=int, default=32, help="frames per clip")
    parser.add_argument("--work-size", type=int, default=None,
                        help="short side the mapping network works at (default: the bundle's)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.frames < 1 or min(args.batch_size) < 1 or min(args.sizes) < 8:
        parser.error("--frames and --batch-size must be >= 1 and --sizes >= 8")
    return args


def main() -> None:
    args = _parse_args()
    from lgan_video.pipeline import Pipeline

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="lgan-render-speed-") as tmp:
        tmp = Path(tmp)
        model = args.model or default_config_bundle(tmp / "bundle")
        pipe = Pipeline.from_bundle(model, device=args.device)
        args.work_size = args.work_size or pipe.bundle.work_size
        rows = []
        for short in args.sizes:
            clip = make_clip(tmp / f"input{short}.mp4", *input_dims(short), args.frames)
            rows += [_row(pipe, clip, short, b, args, tmp) for b in args.batch_size]
    report = {
        "model": args.model or "random CPU-default config", "mode": args.mode,
        "device": str(pipe.device), "dtype": str(pipe.dtype).removeprefix("torch."),
        "threads": torch.get_num_threads(), "frames": args.frames, "work_size": args.work_size,
        "scale": pipe.scale, "load_average": list(os.getloadavg()), "rows": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)


if __name__ == "__main__":
    from lgan_video.errors import LganError

    try:
        main()
    except LganError as e:  # a bad --model, --device, ...: one line, not a traceback
        raise SystemExit(f"Error: {e}") from None
