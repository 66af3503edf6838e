"""`batch --ray` on a real Ray: a local instance, then a two-node cluster on this machine (two
`ray start` processes of one CPU each) that survives a worker killed mid-job and a killed driver.

Ray starts slowly (seconds per node and per worker process), so the tests are few and share one
cluster. The local-instance test comes first: it must run before the cluster exists, or `--ray`
without an address would join that cluster instead of starting its own instance.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lgan_video.batch_ray import run_batch_ray
from lgan_video.cli import cli
from lgan_video.errors import LganError
from lgan_video.media import probe
from lgan_video.synthetic import scene_array

REPO = Path(__file__).resolve().parents[1]
CLIP_FRAMES = 48


@pytest.fixture(scope="module", autouse=True)
def ray_env():
    """Every Ray process of these tests: one random token (set before Ray is imported: it reads
    the mode once), so none writes ~/.ray/auth_token; no usage report; and a temp dir of their own
    (short: Ray's socket paths must fit 107 bytes), removed at the end with its address file."""
    temp = tempfile.mkdtemp(prefix="lgr")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "token")
        mp.setenv("RAY_AUTH_TOKEN", secrets.token_hex(16))
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        mp.setenv("RAY_TMPDIR", temp)
        mp.delenv("RAY_ADDRESS", raising=False)
        mp.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        yield Path(temp)
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, make_clip) -> Path:
    """Four 48-frame clips (different scenes) and one file that is not a video."""
    folder = tmp_path_factory.mktemp("ray_in")
    for k in range(4):
        make_clip(folder / f"clip{k}.mp4", scene_array(CLIP_FRAMES, 160, 120, seed=k))
    (folder / "z_broken.mp4").write_text("not a video")
    return folder


def _check_outputs(out: Path, names=("clip0", "clip1", "clip2", "clip3"), height=64) -> None:
    """Every clip has a complete output (all frames, the SR size) and no temporary file is left."""
    assert sorted(p.name for p in out.iterdir()) == [f"{n}.mp4" for n in names]
    for name in names:
        info = probe(out / f"{name}.mp4")
        assert (info.frame_count, info.height) == (CLIP_FRAMES, height)


def test_local_instance_cli(clips, tiny_bundle, tmp_path):
    out = tmp_path / "out"
    args = ["batch", str(clips), str(out), "--model", str(tiny_bundle), "--size", "32",
            "--device", "cpu", "--ray", "--json", "-q"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1, res.output  # the broken input
    rows = json.loads(res.stdout)
    assert [(Path(r["input"]).name, r["status"], r["frames"]) for r in rows] == [
        ("clip0.mp4", "done", 48), ("clip1.mp4", "done", 48), ("clip2.mp4", "done", 48),
        ("clip3.mp4", "done", 48), ("z_broken.mp4", "failed", 0)]
    assert rows[4]["error"].startswith("not a readable video or image: ")
    _check_outputs(out)


def test_ray_options_need_ray_and_a_valid_address(clips, tmp_path):
    res = CliRunner().invoke(cli, ["batch", str(clips), str(tmp_path / "o"), "--workers", "2"])
    assert (res.exit_code, res.output) == (
        1, "Error: --workers needs --ray (see 'cli batch --help')\n")  # CliRunner's prog name
    res = CliRunner().invoke(cli, ["batch", str(clips), str(tmp_path / "o"), "--ray", "clips/"])
    assert (res.exit_code, res.output) == (
        1, "Error: bad Ray address 'clips/': use auto, HOST:PORT or ray://HOST:PORT\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {seconds:.0f} s")
        time.sleep(0.1)


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def cluster(ray_env):
    """A head and a second node of one CPU each, on loopback; this process is connected as a
    driver (run_batch_ray reuses the session). Both nodes are stopped at the end, always."""
    import ray

    port, nodes = _free_port(), []
    ray_bin = str(Path(sys.executable).with_name("ray"))
    common = ["--num-cpus", "1", "--num-gpus", "0", "--node-ip-address", "127.0.0.1",
              "--object-store-memory", str(80 * 2**20), "--disable-usage-stats", "--block"]
    try:
        nodes.append(_start_node([ray_bin, "start", "--head", f"--port={port}",
                                  f"--ray-client-server-port={_free_port()}",
                                  "--include-dashboard=false", *common], ray_env / "head.log"))
        _wait_for(lambda: _port_open(port), 60, "the head node")
        address = f"127.0.0.1:{port}"
        nodes.append(_start_node([ray_bin, "start", f"--address={address}", *common],
                                 ray_env / "node.log"))
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        _wait_for(lambda: ray.cluster_resources().get("CPU") == 2, 60, "the second node")
        yield address
    finally:
        ray.shutdown()
        for node in reversed(nodes):  # `ray start --block` stops its node's processes on SIGTERM
            node.send_signal(signal.SIGTERM)
        for node in nodes:
            try:
                node.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)


def _start_node(cmd: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as f:
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)


def _worker_pids(title: bytes = b"ray::BatchWorker") -> list[int]:
    """Pids of this machine's Ray worker processes whose title (Ray sets it: the actor class, then
    ``.run`` while it renders a job) starts with ``title``."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().startswith(title):
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


def _partials(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob(".*partial*")) if out.exists() else []


def _finished(out: Path) -> dict[str, int]:
    """Name -> mtime of the finished outputs (pathlib's ``*`` also matches hidden partial files)."""
    found = out.glob("*.mp4") if out.exists() else []
    return {p.name: p.stat().st_mtime_ns for p in found if not p.name.startswith(".")}


def test_two_nodes_survive_a_worker_killed_mid_job(cluster, clips, tiny_bundle, tmp_path, caplog):
    import threading

    out, killed, done = tmp_path / "out", [], threading.Event()

    def kill_a_worker_mid_job():
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            pids = _worker_pids(b"ray::BatchWorker.run")
            if pids and _partials(out):  # a job is writing its output
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker_mid_job)
    killer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="lgan_video"):
            outcomes = run_batch_ray(clips, out, workers=4, model=tiny_bundle, size=32,
                                     device="cpu", quiet=True)
    finally:
        done.set()
        killer.join()
    assert killed, "no worker was caught mid-job"
    assert [(o.job.input.name, o.status, o.frames) for o in outcomes] == [
        ("clip0.mp4", "done", 48), ("clip1.mp4", "done", 48), ("clip2.mp4", "done", 48),
        ("clip3.mp4", "done", 48), ("z_broken.mp4", "failed", 0)]
    messages = [r.getMessage() for r in caplog.records]
    assert "--workers 4: the cluster's 2 CPUs and 0 GPUs hold 2; using 2" in messages
    retried = [m for m in messages if m.startswith("worker died while rendering clip")]
    assert len(retried) == 1 and retried[0].endswith("(attempt 1 of 3); retrying")
    _check_outputs(out)


def test_resume_after_the_driver_is_killed(cluster, clips, tiny_bundle, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lgan_video", "batch", str(clips), str(out), "--model",
           str(tiny_bundle), "--size", "32", "--device", "cpu", "--ray", cluster, "--json", "-q"]
    driver = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        _wait_for(lambda: _finished(out) or driver.poll() is not None, 120, "a first output")
    finally:
        driver.kill()
        stdout, stderr = driver.communicate(timeout=30)
    assert driver.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    _wait_for(lambda: not _worker_pids(), 60, "the end of the dead driver's workers")
    # A worker of the dead driver may still have committed the job it was writing before Ray
    # ended it: that output is complete, so the resume must skip it too. Snapshot after.
    finished = _finished(out)
    assert 1 <= len(finished) <= 4

    outcomes = run_batch_ray(clips, out, model=tiny_bundle, size=32, device="cpu", quiet=True)
    status = {o.job.output.name: o.status for o in outcomes}
    assert status == {name: "skipped" if name in finished else "failed" if "broken" in name
                      else "done" for name in status}
    assert {k: v for k, v in _finished(out).items() if k in finished} == finished
    _check_outputs(out)


def test_workers_that_cannot_start_are_one_error(cluster, clips, tiny_bundle, tmp_path):
    # The driver checks the model on its CPU; the device is the workers' (a GPU the driver lacks).
    with pytest.raises(LganError, match=r"^no Ray worker could start: unknown device 'nowhere' "
                                        r"\(use auto, cpu, cuda, cuda:N or mps\)$"):
        run_batch_ray(clips, tmp_path / "out", workers=1, retries=0, model=tiny_bundle,
                      device="nowhere", quiet=True)
    assert list((tmp_path / "out").iterdir()) == []
