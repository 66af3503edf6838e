"""Memory of a long render: the process RSS stays flat however many frames go through.

Writes a long synthetic clip-art video (streamed into the media writer, never held in memory),
then renders it with the real ``lgan_video.render.render`` (decode thread, batched inference,
encode thread) to a temporary MP4, reading this process's resident set size (VmRSS in
/proc/self/status) and its peak so far (VmHWM) every ``--interval`` seconds in a thread and when
10%, 25%, 50% and 75% of the frames are out. The streaming design (bounded queues, no
whole-video buffering) means the peak after the first 10% of the frames, once buffers and
caches are warm, is the peak at the end: the RSS goes up and down within each batch but does not
grow with the length. Exit status 1 when the peak grows by more than ``--tolerance-mb`` after
the 10% mark.

The default model is a random bundle of the CPU default configuration (memory does not depend
on the weights); ``--model PATH|default`` uses a real one. A few minutes on a 2-core CPU
with the defaults; ``--frames`` changes the length.

Examples:
    python benchmarks/render_memory.py
    python benchmarks/render_memory.py --frames 300 --json
    python benchmarks/render_memory.py --model default --device cuda --frames 5000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_speed import default_config_bundle  # noqa: E402

MB = 1024 * 1024


def memory() -> tuple[int, int]:
    """(current RSS, peak RSS so far) of this process in bytes: VmRSS and VmHWM from /proc.

    Without /proc (macOS) both are the peak from ``resource.getrusage``.
    """
    found = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in ("VmRSS", "VmHWM"):
                    found[key] = int(line.split()[1]) * 1024
    except OSError:
        pass
    if len(found) == 2:
        return found["VmRSS"], found["VmHWM"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = peak if sys.platform == "darwin" else peak * 1024  # macOS: bytes, Linux: KiB
    return peak, peak


class RssSampler:
    """Samples :func:`memory` every ``interval`` seconds in a daemon thread while entered."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []  # (seconds since start, RSS, peak)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._t0 = time.perf_counter()

    def sample(self) -> tuple[float, int, int]:
        """Take one sample now: (seconds since start, RSS bytes, peak RSS bytes so far)."""
        sample = (time.perf_counter() - self._t0, *memory())
        self.samples.append(sample)
        return sample

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class CountingPipeline:
    """A Pipeline whose ``render`` samples memory when given fractions of the frames are out."""

    def __init__(self, pipeline, total: int, sampler: RssSampler,
                 marks: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75)) -> None:
        self._pipeline, self._sampler = pipeline, sampler
        self._marks = {max(1, round(total * m)): m for m in marks}
        self.at_mark: dict[float, tuple[float, int, int]] = {}  # fraction -> sample

    def __getattr__(self, name: str):
        return getattr(self._pipeline, name)

    def render(self, *args, **kwargs):
        for count, frame in enumerate(self._pipeline.render(*args, **kwargs), start=1):
            if count in self._marks:
                self.at_mark[self._marks[count]] = self._sampler.sample()
            yield frame


def make_long_clip(path: Path, frames: int, width: int, height: int, fps: int = 24) -> Path:
    """Stream ``frames`` synthetic frames into an MP4 (nothing but one frame in memory at once)."""
    from lgan_video.media import open_writer
    from lgan_video.synthetic import scene_frames

    with open_writer(path, fps) as writer:
        for frame in scene_frames(frames, width, height, seed=2):
            writer.write(frame)
    return path


def measure(args: argparse.Namespace, tmp: Path) -> dict:
    """Write the clip, render it while sampling RSS; the figures as a JSON-safe dict."""
    from lgan_video.pipeline import Pipeline
    from lgan_video.render import render

    t0 = time.perf_counter()
    clip = make_long_clip(tmp / "long.mp4", args.frames, args.width, args.height)
    clip_seconds = time.perf_counter() - t0
    model = args.model or default_config_bundle(tmp / "bundle")
    pipe = Pipeline.from_bundle(model, device=args.device)
    with RssSampler(args.interval) as sampler:
        counting = CountingPipeline(pipe, args.frames, sampler)
        result = render(clip, tmp / "out.mp4", mode=args.mode, batch_size=args.batch_size,
                        scale=args.scale, audio=False, quiet=True, pipeline=counting)
    marks = [("loaded", sampler.samples[0])]
    marks += [(f"{round(f * 100)}%", counting.at_mark[f]) for f in sorted(counting.at_mark)]
    marks.append(("end", sampler.samples[-1]))
    growth = sampler.samples[-1][2] - counting.at_mark[0.1][2]
    return {
        "model": args.model or "random CPU-default config", "device": str(pipe.device),
        "threads": torch.get_num_threads(), "frames": result.frames,
        "input": f"{args.width}x{args.height}", "output": "{}x{}".format(*result.size),
        "batch_size": args.batch_size, "clip_seconds": round(clip_seconds, 1),
        "render_seconds": round(result.seconds, 1),
        "frames_per_second": round(result.frames / result.seconds, 2),
        "marks": [{"at": name, "seconds": round(t, 1), "rss_mb": round(rss / MB, 1),
                   "peak_mb": round(peak / MB, 1)} for name, (t, rss, peak) in marks],
        "rss_min_mb": round(min(s[1] for s in sampler.samples) / MB, 1),
        "rss_max_mb": round(max(s[1] for s in sampler.samples) / MB, 1),
        "samples": len(sampler.samples), "peak_growth_after_10pct_mb": round(growth / MB, 1),
        "tolerance_mb": args.tolerance_mb, "bounded": growth <= args.tolerance_mb * MB,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _print_report(r: dict) -> None:
    print(f"render memory: {r['frames']} frames {r['input']} -> {r['output']}, {r['model']}, "
          f"{r['device']}, {r['threads']} torch thread(s), batch {r['batch_size']}, "
          f"load average {' '.join(str(x) for x in r['load_average'])}")
    print(f"  clip written in {r['clip_seconds']} s; rendered in {r['render_seconds']} s "
          f"({r['frames_per_second']} frames/s)")
    print(f"  {'frames out':>10} {'seconds':>8} {'RSS MB':>8} {'peak MB':>8}")
    for m in r["marks"]:
        print(f"  {m['at']:>10} {m['seconds']:8.1f} {m['rss_mb']:8.1f} {m['peak_mb']:8.1f}")
    print(f"  {r['samples']} RSS samples while rendering: {r['rss_min_mb']:.1f} to "
          f"{r['rss_max_mb']:.1f} MB (buffers freed and reallocated batch by batch)")
    verdict = "bounded" if r["bounded"] else "NOT bounded"
    print(f"  peak at the end vs peak after the first 10% of the frames: "
          f"{r['peak_growth_after_10pct_mb']:+.1f} MB -> {verdict} "
          f"(tolerance {r['tolerance_mb']:g} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1500)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--model", default=None,
                        help="bundle folder or 'default' (default: random CPU-default config)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--mode", default="edge", choices=["edge", "seg"])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--scale", type=int, default=None, help="1 skips SR (default: bundle's)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--tolerance-mb", type=float, default=64.0,
                        help="allowed growth of the peak after the first 10%% of the frames")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.frames < 10:
        parser.error("--frames must be at least 10")
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="lgan-render-memory-") as tmp:
        report = measure(args, Path(tmp))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report)
    sys.exit(0 if report["bounded"] else 1)


if __name__ == "__main__":
    from lgan_video.errors import LganError

    try:
        main()
    except LganError as e:  # a bad --model, --device, ...: one line, not a traceback
        raise SystemExit(f"Error: {e}") from None
