"""Exact resume (stop at step k, resume -> the same weights) and 2-process data-parallel training.

Resume is bit-exact in fp32 and under bf16 autocast (fp32 master weights, channels_last on x86):
the checkpoint holds the fp32 weights and optimizer state, so both runs compute the same steps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import cv2
import pytest
import torch

from lgan_video.synthetic import scene_frames
from lgan_video.training.loop import TrainOptions


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume_data")
    for i, frame in enumerate(scene_frames(10, 48, 40, seed=7)):
        cv2.imwrite(str(root / f"f{i}.png"), frame[:, :, ::-1])
    return root


def _state(run):
    return torch.load(run / "state.pt", weights_only=True)


def _assert_same_tensors(a, b, path=""):
    """Recursively compare nested dicts/lists of tensors for bit equality."""
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f"differs at {path}"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _assert_same_tensors(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, (list, tuple)):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same_tensors(x, y, f"{path}/{i}")
    else:
        assert a == b, f"differs at {path}: {a} != {b}"


def _split_vs_straight(make_task, train_fn, data_dir, tmp_path, workers, steps=(2, 4),
                       precision="fp32"):
    def opts(out, n):
        return TrainOptions(data=str(data_dir), out=str(tmp_path / out), steps=n, batch_size=3,
                            seed=11, workers=workers, sample_every=100, eval_every=0,
                            checkpoint_every=100, quiet=True, precision=precision, threads=1)

    train_fn(opts("straight", steps[1]), make_task())
    train_fn(opts("split", steps[0]), make_task())
    assert _state(tmp_path / "split")["step"] == steps[0]
    train_fn(opts("split", steps[1]), make_task())  # same command, larger --steps: resumes
    a, b = _state(tmp_path / "straight"), _state(tmp_path / "split")
    assert a["step"] == b["step"] == steps[1] and a["data_position"] == b["data_position"]
    _assert_same_tensors(a["modules"], b["modules"])
    _assert_same_tensors(a["optimizers"], b["optimizers"])
    return a


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_g1_resume_is_bit_identical(data_dir, tmp_path, precision):
    from lgan_video.training.g1 import G1Options, train_g1

    state = _split_vs_straight(lambda: G1Options(resolution=32, channels=32, loss="wgan-gp"),
                               train_g1, data_dir, tmp_path, workers=0, precision=precision)
    assert set(state["modules"]) == {"g", "d", "g_ema"}
    assert state["modules"]["g"]["fc.weight"].dtype == torch.float32  # fp32 master weights


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_mapping_resume_with_workers_is_bit_identical(data_dir, tmp_path, precision):
    from lgan_video.training.mapping import MappingOptions, train_mapping

    _split_vs_straight(lambda: MappingOptions(size=48, base_channels=8, n_blocks=2),
                       train_mapping, data_dir, tmp_path, workers=2, precision=precision)


def test_sr_resume_with_gan_and_degradations_fp32_and_bf16(data_dir, tmp_path):
    from lgan_video.training.sr import SROptions, train_sr

    opts = lambda: SROptions(channels=8, blocks=1, patch=24, gan_weight=0.1, degrade=True)  # noqa: E731
    runs = {p: _split_vs_straight(opts, train_sr, data_dir, tmp_path / p, workers=1,
                                  steps=(3, 5), precision=p) for p in ("fp32", "bf16")}
    fp32, bf16 = (runs[p]["modules"]["g"]["stem.weight"] for p in ("fp32", "bf16"))
    assert fp32.dtype == bf16.dtype == torch.float32
    assert 0 < (fp32 - bf16).abs().max() < 1e-2  # autocast really ran, and stayed close


def test_interrupted_segment_log_is_cut_back(data_dir, tmp_path):
    from lgan_video.training.logger import read_log
    from lgan_video.training.sr import SROptions, train_sr

    out = tmp_path / "run"
    opts = TrainOptions(data=str(data_dir), out=str(out), steps=2, batch_size=2, workers=0,
                        log_every=1, eval_every=1, quiet=True)
    train_sr(opts, SROptions(channels=8, blocks=1, patch=24))
    with open(out / "log.jsonl", "a") as f:  # as if a crash happened after step 2's checkpoint
        f.write(json.dumps({"step": 3, "loss/g_l1": 9.0}) + "\n")
    train_sr(TrainOptions(**{**opts.__dict__, "steps": 3}), SROptions(channels=8, blocks=1, patch=24))
    steps = [r["step"] for r in read_log(out) if "loss/g_l1" in r]
    assert steps == [1, 2, 3] and read_log(out)[-2]["loss/g_l1"] != 9.0


DDP_SCRIPT = textwrap.dedent("""
    import os, sys, torch
    torch.set_num_threads(1)
    from lgan_video.training.g1 import G1Options, G1Task
    from lgan_video.training.loop import TrainOptions, train
    data, out = sys.argv[1], sys.argv[2]
    task = G1Task(G1Options(resolution=32, channels=32))
    train(task, TrainOptions(data=data, out=out, steps=3, batch_size=2, workers=0, quiet=True,
                             sample_every=100, checkpoint_every=100, eval_every=0))
    rank = os.environ["RANK"]
    torch.save({k: m.state_dict() for k, m in task.modules().items()},
               os.path.join(os.path.dirname(out), f"rank{rank}.pt"))
""")


def test_two_process_gloo_training_keeps_ranks_identical(data_dir, tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(script), str(data_dir), str(tmp_path / "run")]
    # Own session, so a hang can be ended with the workers (not just the launcher).
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    assert proc.returncode == 0, err[-3000:]
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    _assert_same_tensors(r0, r1)
    run = tmp_path / "run"
    assert len(list(run.glob("events.out.tfevents*"))) == 1  # rank 0 logs alone
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [3]
    state = _state(run)
    assert state["options"]["world_size"] == 2 and len(state["rng"]) == 2
    _assert_same_tensors(state["modules"], r0)
