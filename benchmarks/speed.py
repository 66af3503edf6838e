"""One run, every speed figure the README quotes: networks vs the convolution peak, end to end
vs the networks alone vs a naive loop, peak RSS, and training images/s; printed and written as JSON.

For each ``--precision`` (several may be given; they are measured in turn in one process, so
their ratios are comparable even on a busy machine):

- ``peak``: GFLOP/s of a 3x3 convolution (64 -> 64 channels, the batch and working size) in
  that precision and memory format: what this machine can reach on the networks' main op.
- ``networks``: for G1, the style encoder, each mapping network and SR: GFLOP per frame
  (``torch.utils.flop_counter``, 2 FLOP per multiply-add), achieved GFLOP/s, and its ratio to
  ``peak``. Per frame means per working-size frame (G1 and the style encoder: per image).
- ``render``: frames/s per mode of ``lgan_video.render.render`` on a synthetic clip
  (``end_to_end``, with ``--stabilize`` as render's default), of the mapping + SR networks alone
  on the same frames (``networks``), and of a naive loop (decode, map, networks at batch 1,
  encode, one frame at a time, no overlap, no stabilization).
- ``stages``: per mode, each stage of a render run alone in turn (decode, structure maps, motion
  analysis, networks, stabilizing blend, encode), ms per frame and share: where the time goes.
- ``training``: images/s of one full training iteration (D + G steps, optimizer steps) of each
  network's CPU default recipe (``benchmarks/train_speed.py``'s configs, with ``--train-batch``).
- ``peak_rss_mb``: the process's peak resident memory at the end.

Examples:
    python benchmarks/speed.py                                  # auto precision, default model
    python benchmarks/speed.py --precision fp32 bf16 --json speed.json
    python benchmarks/speed.py --quick                          # a few seconds: does it work?
    python benchmarks/speed.py --device cuda --work-size 256 --batch-size 32
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_speed import input_dims, make_clip  # noqa: E402
from train_speed import CASES, _source  # noqa: E402

from lgan_video.devices import pick_device, thread_budget  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, device: torch.device, repeats: int) -> float:
    """Fastest of ``repeats`` calls of ``fn()`` after one warm-up call, in seconds (as ``timeit``
    advises: slower runs measure other processes, not the code)."""
    fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return min(times)


def conv_peak(prec, device, batch: int, h: int, w: int, repeats: int) -> float:
    """GFLOP/s of a 64 -> 64 3x3 convolution on ``(batch, 64, h, w)`` in ``prec``."""
    conv = prec.prepare(torch.nn.Conv2d(64, 64, 3, padding=1).to(device).eval())
    x = prec.inputs(torch.randn(batch, 64, h, w), device)

    def run():
        with torch.inference_mode(), prec.context():
            conv(x)

    return 2 * 64 * 64 * 9 * batch * h * w / _time(run, device, repeats) / 1e9


def _flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def network_rows(pipe, batch: int, dims: tuple[int, int], repeats: int, peak: float) -> list:
    """GFLOP/frame, GFLOP/s and fraction of ``peak`` of each network of ``pipe``, at the batch a
    render passes it (``Pipeline.chunk_size``: smaller on the CPU; G1 and the style encoders
    at ``batch``)."""
    w, h = dims
    chunk = pipe.chunk_size(batch, h, w)
    dev = pipe.device
    z = torch.randn(batch, pipe.z_dim)
    looks = pipe.generate(z)
    cases = {"g1": lambda: pipe.generate(z)}
    for mode in pipe.modes:
        net = pipe.mapping(mode)
        maps = torch.rand(chunk, net.cfg.map_channels, h, w) * 2 - 1
        style = pipe.styles(list(z[:chunk]), mode)
        cases[f"style-{mode}"] = lambda net=net: _ctx(pipe, lambda: net.encode_style(pipe._in(looks)))
        cases[f"mapping-{mode}"] = lambda net=net, maps=maps, style=style: _ctx(
            pipe, lambda: pipe._paint(net, maps, style))
    if pipe.bundle.sr is not None:
        small = torch.rand(chunk, 3, h, w) * 2 - 1
        cases["sr"] = lambda: pipe.upscale(small)
    rows = []
    for name, fn in cases.items():
        n = chunk if name.startswith(("mapping", "sr")) else batch
        flops = _flops(fn) / n
        seconds = _time(fn, dev, repeats) / n
        gflops = flops / seconds / 1e9
        rows.append({"network": name, "batch": n, "gflop_per_frame": round(flops / 1e9, 4),
                     "ms_per_frame": round(seconds * 1e3, 3), "gflop_per_s": round(gflops, 2),
                     "fraction_of_peak": round(gflops / peak, 3)})
    return rows


def _ctx(pipe, fn):
    with torch.inference_mode(), pipe.precision.context():
        return fn()


def render_rows(pipe, clip: Path, frames: int, batch: int, work: int, tmp: Path,
                threads: int | None, stabilize: float) -> list:
    """Frames/s per mode: end to end (``render``, with output ``stabilize``), networks alone,
    naive loop (no stabilization)."""
    from lgan_video.render import render

    rows = []
    for mode in pipe.modes:
        out = tmp / f"{mode}.mp4"
        result = render(clip, out, mode=mode, pipeline=pipe, batch_size=batch, size=work,
                        overwrite=True, quiet=True, audio=False, threads=threads,
                        stabilize=stabilize)
        nets = frames / _networks_alone(pipe, clip, mode, batch, work)
        naive = frames / _naive(pipe, clip, mode, work, tmp / f"{mode}_naive.mp4")
        e2e = result.frames / result.seconds
        rows.append({"mode": mode, "frames": result.frames, "end_to_end_fps": round(e2e, 2),
                     "networks_fps": round(nets, 2), "naive_fps": round(naive, 2),
                     "end_to_end_vs_networks": round(e2e / nets, 3),
                     "end_to_end_vs_naive": round(e2e / naive, 3)})
    return rows


def _work_maps(pipe, clip: Path, mode: str, work: int) -> np.ndarray:
    from lgan_video.maps import MapExtractor
    from lgan_video.media import open_reader

    cfg = dataclasses.replace(pipe.bundle.map_configs[mode], temporal=0.5)
    extractor = MapExtractor(cfg)
    with open_reader(clip, size=work) as reader:
        return np.stack([extractor(np.ascontiguousarray(f)) for f in reader])


def _run_networks(pipe, maps: np.ndarray, style: torch.Tensor, mode: str) -> np.ndarray:
    """The mapping network and SR on uint8 maps ``(B, h, w)``: uint8 frames, as in a render
    (``Pipeline.paint_frames``: in cache-sized chunks on the CPU)."""
    return pipe.paint_frames(maps, style, mode)[0]


def _networks_alone(pipe, clip: Path, mode: str, batch: int, work: int) -> float:
    """Seconds of the mapping network + SR (+ uint8 copy) over the clip's maps, in batches."""
    from lgan_video.latents import seed_latent

    maps = _work_maps(pipe, clip, mode, work)
    style = pipe.styles([seed_latent(0, pipe.z_dim)] * batch, mode)  # (B, S), as in a render
    _run_networks(pipe, maps[:batch], style, mode)  # warm-up
    _sync(pipe.device)
    t0 = time.perf_counter()
    for i in range(0, len(maps), batch):
        chunk = maps[i:i + batch]
        _run_networks(pipe, chunk, style[:len(chunk)], mode)
    _sync(pipe.device)
    return time.perf_counter() - t0


def _naive(pipe, clip: Path, mode: str, work: int, out: Path) -> float:
    """Seconds of a one-frame-at-a-time loop: decode, map, networks (batch 1), encode."""
    from lgan_video.latents import seed_latent
    from lgan_video.maps import MapExtractor
    from lgan_video.media import open_reader, open_writer

    cfg = dataclasses.replace(pipe.bundle.map_configs[mode], temporal=0.5)
    extractor = MapExtractor(cfg)
    t0 = time.perf_counter()
    with open_reader(clip, size=work) as reader, open_writer(out, reader.fps,
                                                              overwrite=True) as writer:
        for frame in reader:
            m = extractor(np.ascontiguousarray(frame))
            style = pipe.styles([seed_latent(0, pipe.z_dim)], mode)  # cached after the first
            writer.write(_run_networks(pipe, m[None], style, mode)[0])
    return time.perf_counter() - t0


def stage_rows(pipe, clip: Path, mode: str, batch: int, work: int, tmp: Path,
               stabilize: float) -> dict:
    """Where a render's time goes: each stage run alone, one after the other, in ms per frame
    (decode at the working size; resize and structure map; motion analysis for stabilization;
    the networks in chunks; the stabilizing blend; encode). On an idle machine the sum is what
    one core would need per frame, and the networks' share bounds what overlapping the other
    stages can gain over a naive loop."""
    from lgan_video.latents import seed_latent
    from lgan_video.maps import MapExtractor
    from lgan_video.media import open_reader, open_writer
    from lgan_video.pipeline import _resize, work_dims
    from lgan_video.stabilize import FlowBlender, MotionAnalyzer

    t = {}
    start = time.perf_counter()
    with open_reader(clip, size=work) as reader:
        frames = [np.ascontiguousarray(f) for f in reader]
        fps = reader.fps
    t["decode"] = time.perf_counter() - start
    dims = work_dims(frames[0].shape[1], frames[0].shape[0], work)
    extractor = MapExtractor(dataclasses.replace(pipe.bundle.map_configs[mode], temporal=0.5))
    start = time.perf_counter()
    maps = np.stack([extractor(_resize(f, dims)) for f in frames])
    t["maps"] = time.perf_counter() - start
    analyzer = MotionAnalyzer(stabilize)
    start = time.perf_counter()
    motions = [analyzer(_resize(f, dims)) for f in frames]
    t["motion"] = time.perf_counter() - start
    style = pipe.styles([seed_latent(0, pipe.z_dim)] * batch, mode)
    pipe.paint_frames(maps[:batch], style, mode)  # warm-up
    start = time.perf_counter()
    outs = [pipe.paint_frames(maps[i:i + batch], style[:len(maps[i:i + batch])], mode)[0]
            for i in range(0, len(maps), batch)]
    t["networks"] = time.perf_counter() - start
    outs = list(np.concatenate(outs))
    blender = FlowBlender()
    start = time.perf_counter()
    outs = [blender(o, m) for o, m in zip(outs, motions, strict=True)]
    t["blend"] = time.perf_counter() - start
    start = time.perf_counter()
    with open_writer(tmp / f"{mode}_stages.mp4", fps, overwrite=True) as writer:
        for o in outs:
            writer.write(o)
    t["encode"] = time.perf_counter() - start
    total = sum(t.values())
    return {"mode": mode, "ms_per_frame": {k: round(v / len(frames) * 1e3, 2) for k, v in t.items()},
            "share": {k: round(v / total, 3) for k, v in t.items()}}


def _train_images_per_s(name: str, device, precision: str, steps: int, batch: int | None) -> float:
    from lgan_video.training.distributed import DistInfo
    from lgan_video.training.loop import StepContext, to_memory_format, training_precision

    make, default_batch = CASES[name]
    batch = batch or default_batch
    task = make()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        task.build(_source(), device, Path(tmp), seed=0)
    prec = training_precision(task, device, precision)
    for module in task.modules().values():
        module.to(memory_format=prec.memory_format)
    ctx = StepContext(device, DistInfo(), prec)
    data = task.collate([task.dataset[(i, 0)] for i in range(batch)])
    data = to_memory_format(task.to_device(data, device), prec.memory_format)

    def step():
        task.train_step(data, ctx)
        ctx.step += 1

    return batch / _time(step, device, steps)


def measure(args, precision: str, model: Path | str, clip: Path, tmp: Path) -> dict:
    """Every figure for one precision."""
    from lgan_video.render import load_pipeline

    pipe = load_pipeline(model, args.device, precision, args.threads)
    work = args.work_size or pipe.work_size
    dims = _work_dims(args.input_height, work)
    w_pad = dims[0] + (-dims[0] % pipe.mapping(pipe.modes[0]).cfg.multiple)
    peak = conv_peak(pipe.precision, pipe.device, args.batch_size, dims[1], w_pad, args.repeats)
    report = {"precision": pipe.precision.name,
              "memory_format": "channels_last" if pipe.precision.channels_last else "contiguous",
              "conv3x3_peak_gflop_per_s": round(peak, 2),
              "networks": network_rows(pipe, args.batch_size, dims, args.repeats, peak)}
    report["render"] = render_rows(pipe, clip, args.frames, args.batch_size, work, tmp,
                                   args.threads, args.stabilize)
    report["stages"] = [stage_rows(pipe, clip, mode, args.batch_size, work, tmp, args.stabilize)
                        for mode in pipe.modes]
    if args.train_steps:
        report["training"] = [
            {"network": name, "batch": args.train_batch or CASES[name][1],
             "images_per_s": round(_train_images_per_s(name, pipe.device, precision,
                                                       args.train_steps, args.train_batch), 2)}
            for name in args.train]
    return report


def _work_dims(input_height: int, work: int) -> tuple[int, int]:
    from lgan_video.pipeline import work_dims

    return work_dims(*input_dims(input_height), work)


def _parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="default", help="bundle folder or 'default'")
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", nargs="+", default=["auto"],
                   choices=["auto", "fp32", "bf16", "fp16"])
    p.add_argument("--threads", type=int, default=None, help="default: the cores available")
    p.add_argument("--frames", type=int, default=96, help="frames of the synthetic clip")
    p.add_argument("--input-height", type=int, default=360, help="clip height (16:9)")
    p.add_argument("--work-size", type=int, default=None, help="default: the bundle's")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--stabilize", type=float, default=0.9,
                   help="render's output stabilization (0 = off; default: render's)")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per network (fastest)")
    p.add_argument("--train", nargs="*", default=list(CASES), choices=list(CASES))
    p.add_argument("--train-steps", type=int, default=3, help="0 skips training")
    p.add_argument("--train-batch", type=int, default=None, help="default: train_speed's")
    p.add_argument("--json", type=Path, default=Path("speed.json"), help="where to write JSON")
    p.add_argument("--quick", action="store_true",
                   help="tiny run to check the script: 16 frames, 1 repeat, 1 training step")
    args = p.parse_args(argv)
    if args.quick:
        args.frames, args.repeats, args.train_steps = 16, 1, 1
    return args


def _print(report: dict) -> None:
    print(f"# {report['gpu'] or report['machine']} | torch {report['torch']} | device {report['device']} | "
          f"threads {report['threads']} | load {report['load_average']}")
    for r in report["results"]:
        print(f"\n## {r['precision']} ({r['memory_format']}): 3x3 conv peak "
              f"{r['conv3x3_peak_gflop_per_s']:.1f} GFLOP/s")
        print(f"{'network':<14}{'batch':>6}{'GFLOP/frame':>12}{'ms/frame':>10}{'GFLOP/s':>10}{'of peak':>9}")
        for n in r["networks"]:
            print(f"{n['network']:<14}{n['batch']:>6}{n['gflop_per_frame']:>12.4f}{n['ms_per_frame']:>10.2f}"
                  f"{n['gflop_per_s']:>10.1f}{n['fraction_of_peak']:>9.0%}")
        print(f"{'mode':<6}{'end-to-end fps':>16}{'networks fps':>14}{'naive fps':>11}"
              f"{'e2e/net':>9}{'e2e/naive':>11}")
        for m in r["render"]:
            print(f"{m['mode']:<6}{m['end_to_end_fps']:>16.1f}{m['networks_fps']:>14.1f}"
                  f"{m['naive_fps']:>11.1f}{m['end_to_end_vs_networks']:>9.2f}"
                  f"{m['end_to_end_vs_naive']:>11.2f}")
        for st in r.get("stages", []):
            print(f"stages {st['mode']:<5} ms/frame: " + ", ".join(
                f"{k} {v:.1f} ({st['share'][k]:.0%})" for k, v in st["ms_per_frame"].items()))
        for t in r.get("training", []):
            print(f"train {t['network']:<16} batch {t['batch']:>3}: {t['images_per_s']:.2f} images/s")
    print(f"\npeak RSS {report['peak_rss_mb']:.0f} MB")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu_name(device: torch.device) -> str | None:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else None


def main(argv=None) -> dict:
    import os

    args = _parse_args(argv)
    device = pick_device(args.device)
    budget = thread_budget(args.threads, device)
    report = {"machine": _cpu_name(), "gpu": _gpu_name(device),
              "torch": torch.__version__, "device": str(device), "threads": dataclasses.asdict(budget),
              "load_average": [round(x, 2) for x in os.getloadavg()],
              "frames": args.frames, "input": list(input_dims(args.input_height)),
              "batch_size": args.batch_size, "stabilize": args.stabilize,
              "model": str(args.model), "results": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip = make_clip(tmp / "clip.mp4", *input_dims(args.input_height), args.frames)
        for precision in args.precision:
            report["results"].append(measure(args, precision, args.model, clip, tmp))
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    _print(report)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")
    return report


if __name__ == "__main__":
    main()
