"""Media throughput: frames/s for encoding and decoding each output kind.

Run: ``.venv/bin/python benchmarks/media_speed.py [--width 640 --height 360 --frames 240]``.
Prints one JSON line per measurement (kind, direction, frames, seconds, frames_per_second).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from lgan_video.media import open_reader, open_writer
from lgan_video.synthetic import scene_frames


def _measure(kind: str, frames: list[np.ndarray], folder: Path) -> list[dict]:
    path = folder / ("frames" if kind == "folder" else f"clip.{kind}")
    t0 = time.perf_counter()
    with open_writer(path, 24) as w:
        for f in frames:
            w.write(f)
    t1 = time.perf_counter()
    with open_reader(path) as r:
        n = sum(1 for _ in r)
    t2 = time.perf_counter()
    return [
        {"kind": kind, "direction": "encode", "frames": len(frames), "seconds": round(t1 - t0, 3),
         "frames_per_second": round(len(frames) / (t1 - t0), 1)},
        {"kind": kind, "direction": "decode", "frames": n, "seconds": round(t2 - t1, 3),
         "frames_per_second": round(n / (t2 - t1), 1)},
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--frames", type=int, default=240)
    args = ap.parse_args()
    frames = list(scene_frames(args.frames, args.width, args.height))
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("mp4", "gif", "webp", "folder"):
            for row in _measure(kind, frames, Path(tmp)):
                print(json.dumps({"size": f"{args.width}x{args.height}", **row}))


if __name__ == "__main__":
    main()
