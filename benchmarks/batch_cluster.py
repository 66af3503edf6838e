"""Batch throughput: one process, `--shard` over N processes, and Ray with N workers, same batch.

Every mode renders the same folder of short synthetic clips with the real CLI, in subprocesses,
into a fresh output folder. Wall time counts all a user waits for: Python and torch start-up,
model loading, and for Ray the driver's connection and the workers' start. Modes:

    1 process        lgan-video batch IN OUT   (with N times the threads of one worker)
    shard xN         N concurrent `lgan-video batch IN OUT --shard i/N`
    ray xN new       lgan-video batch IN OUT --ray --workers N   (starts a local Ray every time)
    ray xN running   the same with --ray ADDRESS, against a head node this script started
                     (`ray start --head --block` on loopback, untimed) before the run

Rounds interleave the modes, so a busy machine slows them alike; the table gives each mode's
median. On N cores the modes should be close: the point is each one's overhead. With a GPU,
``--device cuda --gpus-per-worker 0.5`` runs the Ray modes with fractional GPUs. Default model: a
random bundle of the CPU default configuration (speed does not depend on the weights).

Examples:
    python benchmarks/batch_cluster.py
    python benchmarks/batch_cluster.py --clips 16 --frames 96 --workers 2 --rounds 3
    python benchmarks/batch_cluster.py --model default --device cuda --gpus-per-worker 0.5 --workers 4
    python benchmarks/batch_cluster.py --clips 2 --frames 8 --modes 1 shard --json   # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_speed import default_config_bundle, input_dims, make_clip  # noqa: E402

MODES = ("1", "shard", "ray-new", "ray-running")


def _cli(args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lgan_video", "batch", *map(str, args)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_all(procs: list[subprocess.Popen], timeout: float) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"batch failed ({proc.returncode}): {err.decode()[-1500:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_head(cpus: int, gpus: float, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    """A one-node Ray cluster on loopback; returns it (SIGTERM stops it) and its address."""
    port = _free_port()
    cmd = [str(Path(sys.executable).with_name("ray")), "start", "--head", f"--port={port}",
           f"--ray-client-server-port={_free_port()}",
           "--num-cpus", str(cpus), "--num-gpus", str(int(gpus + 0.999)),
           "--node-ip-address", "127.0.0.1", "--include-dashboard=false",
           "--disable-usage-stats", "--block"]
    with open(log, "wb") as f:
        head = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return head, f"127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or head.poll() is not None:
                _stop(head)
                raise RuntimeError(f"the Ray head did not start; see {log}") from None
            time.sleep(0.2)


def _stop(head: subprocess.Popen) -> None:
    head.send_signal(signal.SIGTERM)
    try:
        head.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)


def run_mode(mode: str, src: Path, out: Path, common: list, args, env: dict, tmp: Path) -> float:
    """Seconds one mode takes to render the batch into ``out``."""
    n, head = args.workers, None
    ray_opts = ["--workers", n, "--threads-per-worker", args.threads,
                "--gpus-per-worker", args.gpus_per_worker]
    if mode == "ray-running":
        head, address = _start_head(n * args.threads, n * args.gpus_per_worker, env,
                                    tmp / "head.log")
    try:
        t0 = time.perf_counter()
        if mode == "1":  # all N processes' threads in one process: the same cores
            procs = [_cli([src, out, *common], {**env, "OMP_NUM_THREADS": str(n * args.threads)})]
        elif mode == "shard":
            procs = [_cli([src, out, *common, "--shard", f"{i}/{n}"], env) for i in range(n)]
        elif mode == "ray-new":
            procs = [_cli([src, out, *common, *ray_opts, "--ray"], env)]
        else:
            procs = [_cli([src, out, *common, *ray_opts, "--ray", address], env)]
        _wait_all(procs, timeout=3600)
        seconds = time.perf_counter() - t0
    finally:
        if head is not None:
            _stop(head)
    made = [p for p in out.iterdir() if not p.name.startswith(".")]
    if len(made) != args.clips:
        raise RuntimeError(f"{mode}: {len(made)} outputs for {args.clips} clips")
    return seconds


def main() -> None:
    args = _parse_args()
    with tempfile.TemporaryDirectory(prefix="lgb") as tmp:  # short: Ray's socket paths
        tmp = Path(tmp)
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "RAY_AUTH_MODE": "token",
               "RAY_AUTH_TOKEN": secrets.token_hex(16), "RAY_TMPDIR": str(tmp),
               "RAY_USAGE_STATS_ENABLED": "0"}
        env.pop("RAY_ADDRESS", None)
        model = args.model or default_config_bundle(tmp / "bundle")
        src = tmp / "clips"
        src.mkdir()
        for k in range(args.clips):
            make_clip(src / f"clip{k:03d}.mp4", *input_dims(args.size), args.frames)
        common = ["--model", model, "--device", args.device, "-q"]
        times = {mode: [] for mode in args.modes}
        for r in range(args.rounds):
            for mode in args.modes:
                times[mode].append(run_mode(mode, src, tmp / f"out-{mode}-{r}", common, args,
                                            env, tmp))
    _report(times, args)


def _report(times: dict, args) -> None:
    frames = args.clips * args.frames
    rows = [{"mode": m, "seconds": round(statistics.median(t), 2),
             "frames_per_second": round(frames / statistics.median(t), 2),
             "all_seconds": [round(x, 2) for x in t]} for m, t in times.items()]
    report = {"clips": args.clips, "frames_per_clip": args.frames, "input": "x".join(
        map(str, input_dims(args.size))), "workers": args.workers, "device": args.device,
        "threads_per_worker": args.threads, "gpus_per_worker": args.gpus_per_worker,
        "model": args.model or "random CPU-default config", "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()], "rows": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"batch of {args.clips} clips x {args.frames} frames ({report['input']}), "
          f"{report['model']}, {args.device}, N={args.workers}, {args.threads} thread(s) each, "
          f"{report['cpus']} CPUs, load average {' '.join(map(str, report['load_average']))}")
    print(f"{'mode':>12} {'seconds':>9} {'frames/s':>9}   rounds")
    for r in rows:
        print(f"{r['mode']:>12} {r['seconds']:9.2f} {r['frames_per_second']:9.2f}   "
              f"{r['all_seconds']}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8, help="clips in the batch")
    parser.add_argument("--frames", type=int, default=48, help="frames per clip")
    parser.add_argument("--size", type=int, default=240, help="input height (16:9 frames)")
    parser.add_argument("--workers", type=int, default=2, help="N: shards and Ray workers")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--model", default=None, help="bundle folder or 'default'")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--gpus-per-worker", type=float, default=0.0)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repetitions")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if min(args.clips, args.frames, args.workers, args.threads, args.rounds) < 1:
        parser.error("--clips, --frames, --workers, --threads and --rounds must be >= 1")
    return args


if __name__ == "__main__":
    main()
