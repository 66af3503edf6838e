"""Training: data sources and order, losses, one step per network, run folders, export, CLI."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from lgan_video.cli import cli
from lgan_video.errors import LganError
from lgan_video.synthetic import scene_frames
from lgan_video.training import losses as L
from lgan_video.training.data import BatchSampler, read_image, scan_source, split_holdout
from lgan_video.training.distributed import DistInfo
from lgan_video.training.loop import StepContext, TrainOptions

TINY_G1 = ["--resolution", "32", "--channels", "32"]
TINY_MAP = ["--size", "32", "--base-channels", "8", "--n-blocks", "2", "--d-scales", "1"]
TINY_SR = ["--channels", "8", "--blocks", "1", "--patch", "32"]
FAST = ["--batch-size", "4", "--workers", "0", "--sample-every", "1", "--eval-every", "1",
        "--checkpoint-every", "1", "-q"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """12 clip-art PNGs (64x48) in a nested folder."""
    root = tmp_path_factory.mktemp("train_data")
    (root / "sub").mkdir()
    for i, frame in enumerate(scene_frames(12, 64, 48, seed=3)):
        folder = root / "sub" if i % 3 == 0 else root
        cv2.imwrite(str(folder / f"img{i:02d}.png"), frame[:, :, ::-1])
    return root


def _train(*args: str):
    result = CliRunner().invoke(cli, ["train", *args], catch_exceptions=False)
    return result


# --- data ------------------------------------------------------------------------------------

def test_scan_skips_unreadable_files_with_count(data_dir, tmp_path, caplog):
    for f in data_dir.rglob("*.png"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("ignored")
    src = scan_source(tmp_path)
    assert (len(src), src.skipped) == (12, 2)
    assert "skipped 2 unreadable file(s)" in caplog.text
    assert src.load(0).shape == (48, 64, 3)


def test_empty_or_missing_source_is_one_line_error(tmp_path):
    with pytest.raises(LganError, match="0 usable image"):
        scan_source(tmp_path)
    with pytest.raises(LganError, match="not found"):
        scan_source(tmp_path / "nope")
    result = CliRunner().invoke(cli, ["train", "g1", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: training data has 0 usable image(s)")
    assert len(result.output.strip().splitlines()) == 1


def test_read_image_alpha_gray_16bit(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 2] = 200  # BGR order on disk: red 200, alpha 0 -> white
    rgba[0, 0, 3] = 255
    cv2.imwrite(str(tmp_path / "a.png"), rgba)
    img = read_image(tmp_path / "a.png")
    assert img[0, 0].tolist() == [200, 0, 0] and img[1, 1].tolist() == [255, 255, 255]
    cv2.imwrite(str(tmp_path / "g.png"), np.full((4, 4), 77, np.uint8))
    assert read_image(tmp_path / "g.png")[2, 2].tolist() == [77, 77, 77]
    cv2.imwrite(str(tmp_path / "d.png"), np.full((4, 4, 3), 65535, np.uint16))
    assert read_image(tmp_path / "d.png").min() == 255


def test_video_source_samples_frames_with_stride(clip_mp4):
    src = scan_source(clip_mp4, frame_stride=4, video_short_side=32)
    assert len(src) == 3  # 12 frames, every 4th
    assert src.names[1].endswith("#4")
    assert min(src.load(0).shape[:2]) == 32


def test_batch_sampler_is_seeded_resumable_and_sharded():
    full = BatchSampler(10, 3, seed=5)
    seq = [full.batch(k) for k in range(7)]
    resumed = BatchSampler(10, 3, seed=5, start=4)
    assert list(itertools.islice(resumed, 3)) == seq[4:7]
    assert [e for _, e in seq[3][:1]] == [1]  # 3 batches per epoch: the 4th starts epoch 1
    assert len({i for b in seq[:3] for i, _ in b}) == 9  # no repeats within an epoch
    r0, r1 = BatchSampler(10, 2, 5, rank=0, world=2), BatchSampler(10, 2, 5, rank=1, world=2)
    shard0 = {i for k in range(2) for i, _ in r0.batch(k)}
    shard1 = {i for k in range(2) for i, _ in r1.batch(k)}
    assert len(shard0) == len(shard1) == 4 and not shard0 & shard1
    with pytest.raises(LganError, match="fewer than one batch"):
        BatchSampler(3, 4, 0)


def test_split_holdout():
    assert split_holdout(12) == (list(range(12)), [])
    train, held = split_holdout(40)
    assert held == [9, 19, 29, 39] and len(train) == 36


def test_sr_dataset_degrade_is_deterministic(data_dir):
    from lgan_video.training.datasets import SRDataset

    ds = SRDataset(scan_source(data_dir), patch=33, scale=3, seed=1, degrade=True)
    a, b = ds[(2, 0)], ds[(2, 0)]
    assert a["hr"].shape == (33, 33, 3) and a["lr"].shape == (11, 11, 3)
    assert np.array_equal(a["lr"], b["lr"]) and not np.array_equal(a["lr"], ds[(2, 1)]["lr"])


def test_sr_degrade_clean_share():
    from lgan_video.resize import sr_lowres
    from lgan_video.training.datasets import degrade

    hr = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    clean = {sr_lowres(hr, 2, antialias=a).tobytes() for a in (True, False)}
    outs = [degrade(hr, 2, np.random.default_rng(s), clean=1.0).tobytes() for s in range(12)]
    assert set(outs) == clean  # only downscales, both kinds
    # clean=0 draws nothing extra: these bytes are the degrade() of before the option existed
    # (computed with that code), so runs started then still resume exactly
    stream = b"".join(degrade(hr, 2, np.random.default_rng(s), clean=0.0).tobytes() for s in range(5))
    assert hashlib.sha256(stream).hexdigest() == (
        "ee2a60539edb77aef61515594d233f259ab07203a5d188a0800b32a441a79623")
    mixed = [degrade(hr, 2, np.random.default_rng(s), clean=0.5).tobytes() for s in range(40)]
    share = sum(o in clean for o in mixed) / len(mixed)
    assert 0.3 < share < 0.8  # about half clean (plus the few degraded draws that stay clean)


def test_mapping_cache_holds_the_extracted_maps(data_dir, tmp_path):
    from lgan_video.maps import MapConfig, extract_map
    from lgan_video.resize import resize_short
    from lgan_video.training.datasets import MappingDataset

    cfg = MapConfig(mode="seg", classes=4)
    src = scan_source(data_dir)
    ds = MappingDataset(src, 32, cfg, 16, seed=0, cache_dir=tmp_path, train=False)
    item = ds[(0, 0)]
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == 1
    assert np.array_equal(np.load(files[0]), extract_map(resize_short(src.load(0), 32), cfg))
    assert item["map"].shape == (32, 32) and item["map"].max() < 4
    assert item["appearance"].shape == (16, 16, 3) and item["target"].shape == (32, 32, 3)
    assert np.array_equal(ds[(0, 0)]["map"], item["map"])  # read back from the cache


# --- losses ----------------------------------------------------------------------------------

def test_losses_known_values():
    one, neg = torch.ones(4), -torch.ones(4)
    assert L.d_hinge(one, neg).item() == 0.0
    assert L.d_hinge(neg, one).item() == 4.0
    assert L.g_hinge(one).item() == -1.0
    assert L.d_ns(torch.zeros(2), torch.zeros(2)).item() == pytest.approx(2 * np.log(2))
    assert L.g_ns(torch.zeros(2)).item() == pytest.approx(np.log(2))
    assert L.d_wgan(one * 3, one).item() == -2.0
    assert L.d_lsgan(one, torch.zeros(4)).item() == 0.0
    assert L.l1(torch.zeros(2, 3), torch.ones(2, 3)).item() == 1.0


def test_gradient_penalty_of_linear_critic():
    w = torch.tensor([3.0, 4.0])  # ||grad|| = 5 everywhere -> penalty (5 - 1)^2 = 16
    gp = L.gradient_penalty(lambda x: x.flatten(1) @ w, torch.rand(3, 2, 1, 1), torch.rand(3, 2, 1, 1))
    assert gp.item() == pytest.approx(16.0)


def test_recovery_loss_edge_and_seg():
    maps = torch.tensor([[[[1.0, -1.0]]]])  # (1, 1, 1, 2): edge, no edge
    good = L.recovery_loss(torch.tensor([[[[9.0, -9.0]]]]), maps).item()
    bad = L.recovery_loss(torch.tensor([[[[-9.0, 9.0]]]]), maps).item()
    assert good < 1e-3 < 8 < bad
    onehot = torch.tensor([[[[1.0]], [[-1.0]]]])  # class 0 of 2
    assert L.recovery_loss(torch.tensor([[[[5.0]], [[-5.0]]]]), onehot).item() < 1e-3
    # edge with tones: BCE on the edge channel plus CE over the tones
    both = torch.cat([maps[..., :1], onehot], dim=1)  # edge, tone 0
    logits = torch.tensor([[[[2.0]], [[0.5]], [[-0.5]]]])
    expected = (L.recovery_loss(logits[:, :1], both[:, :1]) + L.recovery_loss(logits[:, 1:], onehot))
    assert L.recovery_loss(logits, both, tones=True).item() == pytest.approx(expected.item())
    assert expected.item() == pytest.approx(0.1269 + 0.3133, abs=1e-3)


# --- one step per network ----------------------------------------------------------------------

def _one_step(task, data_dir, tmp_path):
    src = scan_source(data_dir)
    torch.manual_seed(0)
    task.build(src, torch.device("cpu"), tmp_path, seed=0)
    before = {k: {n: p.detach().clone() for n, p in m.named_parameters()}
              for k, m in task.modules().items()}
    batch = task.collate([task.dataset[(i, 0)] for i in range(4)])
    cpu = torch.device("cpu")
    ctx = StepContext(cpu, DistInfo(), "fp32")
    losses = task.train_step(task.to_device(batch, cpu), ctx)
    assert losses and all(np.isfinite(v) for v in losses.values()), losses
    changed = {k: any(not torch.equal(p, before[k][n]) for n, p in m.named_parameters())
               for k, m in task.modules().items()}
    return losses, changed


@pytest.mark.parametrize("loss", ["hinge", "wgan-gp", "ns"])
def test_g1_step(loss, data_dir, tmp_path):
    from lgan_video.training.g1 import G1Options, G1Task

    losses, changed = _one_step(G1Task(G1Options(resolution=32, channels=32, loss=loss)),
                                data_dir, tmp_path)
    assert changed == {"g": True, "d": True, "g_ema": True}
    assert ("gp" in losses) == (loss == "wgan-gp")


@pytest.mark.parametrize(("mode", "tones"), [("edge", 0), ("seg", 0), ("edge", 3)])
def test_mapping_step(mode, tones, data_dir, tmp_path):
    from lgan_video.training.mapping import MappingOptions, MappingTask

    opts = MappingOptions(mode=mode, classes=4, size=48, base_channels=8, n_blocks=2,
                          edge_tones=tones)
    task = MappingTask(opts)
    assert (task.map_cfg.channels, task.cfg.slots) == {("edge", 0): (1, 1), ("seg", 0): (4, 4),
                                                       ("edge", 3): (4, 3)}[mode, tones]
    losses, changed = _one_step(task, data_dir, tmp_path)
    assert changed == {"g": True, "d": True, "r": True}
    assert set(losses) == {"d_loss", "r_loss", "g_adv", "g_l1", "g_recovery", "g_fm"}
    assert losses["g_fm"] > 0  # two discriminator scales, real features differ from fake


def test_sr_step_with_and_without_gan(data_dir, tmp_path):
    from lgan_video.training.sr import SROptions, SRTask

    losses, changed = _one_step(SRTask(SROptions(channels=8, blocks=1, patch=32)), data_dir, tmp_path)
    assert changed == {"g": True} and set(losses) == {"g_l1"}
    opts = SROptions(scale=3, channels=8, blocks=1, patch=32, gan_weight=0.1)
    losses, changed = _one_step(SRTask(opts), data_dir, tmp_path)
    assert changed == {"g": True, "d": True} and set(losses) == {"d_loss", "g_l1", "g_adv"}


def test_no_attention_is_the_dcgan_baseline():
    from lgan_video.training.g1 import G1Options

    assert G1Options(resolution=64, attention=False).network_config().attention == ()
    assert G1Options(resolution=128).network_config().attention == (32,)


# --- run folders --------------------------------------------------------------------------------

def test_run_folder_contents(data_dir, tmp_path):
    out = tmp_path / "g1"
    result = _train("g1", str(data_dir), "--out", str(out), "--steps", "2", *TINY_G1, *FAST,
                    "--precision", "bf16", "--threads", "1")
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"training_options.json", "state.pt", "log.jsonl", "g1_ema.safetensors",
            "network.json", "samples"} <= names
    assert any(n.startswith("events.out.tfevents") for n in names)
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "samples-0000001.png", "samples-0000002.png"]
    grid = cv2.imread(str(out / "samples" / "samples-0000002.png"))
    assert grid.shape == (8 * 34 + 2, 8 * 34 + 2, 3)  # 8x8 grid of 32px tiles, 2px gaps
    records = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 2]  # eval at 1; losses (mean of 2) and eval at 2
    assert records[0]["eval/swd"] > 0 and np.isfinite(records[1]["loss/d_loss"])
    opts = json.loads((out / "training_options.json").read_text())
    assert opts["task"] == "g1" and opts["lr_g"] == 1e-4 and opts["lr_d"] == 4e-4
    assert opts["network"]["resolution"] == 32
    assert opts["precision"] == "bf16" and "threads" not in opts  # threads may change on resume
    state = torch.load(out / "state.pt", weights_only=True)
    assert state["step"] == 2 and state["data_position"] == 2
    assert set(state["modules"]) == {"g", "d", "g_ema"}


def test_config_mismatch_is_refused_unless_overwrite(data_dir, tmp_path):
    out = str(tmp_path / "run")
    base = ["sr", str(data_dir), "--out", out, "--steps", "1", *TINY_SR, *FAST]
    assert _train(*base).exit_code == 0
    result = CliRunner().invoke(cli, ["train", *base, "--scale", "3"])
    assert result.exit_code == 1
    assert "different configuration (scale: 2 -> 3; network.scale: 2 -> 3)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _train(*base, "--scale", "3", "--overwrite").exit_code == 0
    assert json.loads((tmp_path / "run" / "training_options.json").read_text())["scale"] == 3
    # a larger --steps continues the same run
    assert _train(*base[:4], "--steps", "2", *base[6:], "--scale", "3").exit_code == 0
    assert torch.load(tmp_path / "run" / "state.pt", weights_only=True)["step"] == 2


def test_resume_flag_needs_a_run_and_foreign_folders_are_refused(data_dir, tmp_path):
    args = ["sr", str(data_dir), *TINY_SR, *FAST]
    result = CliRunner().invoke(cli, ["train", *args, "--out", str(tmp_path / "new"), "--resume"])
    assert result.exit_code == 1 and "nothing to resume" in result.output
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["train", *args, "--out", str(tmp_path / "foreign"),
                                      "--overwrite"])
    assert result.exit_code == 1 and "not a training run" in result.output
    assert (tmp_path / "foreign" / "keep.txt").read_text() == "mine"


def test_train_options_defaults():
    opts = TrainOptions(data="d", out="o")
    assert (opts.precision, opts.device, opts.threads, opts.workers) == ("auto", "auto", None, None)


# --- export and render --------------------------------------------------------------------------

def test_export_bundle_then_render(data_dir, tmp_path, clip_frames):
    from lgan_video.pipeline import Pipeline

    runs = {"g1": TINY_G1, "edge": ["--mode", "edge", *TINY_MAP],
            "seg": ["--mode", "seg", "--classes", "4", *TINY_MAP], "sr": TINY_SR}
    for name, extra in runs.items():
        cmd = "mapping" if name in ("edge", "seg") else name
        result = _train(cmd, str(data_dir), "--out", str(tmp_path / name), "--steps", "1",
                        *extra, *FAST)
        assert result.exit_code == 0, result.output
    bundle = tmp_path / "bundle"
    args = ["export", "--g1", str(tmp_path / "g1"), "--mapping", str(tmp_path / "edge"),
            "--mapping", str(tmp_path / "seg"), "--sr", str(tmp_path / "sr"), "-o", str(bundle)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    meta = json.loads((bundle / "bundle.json").read_text())
    assert meta["work_size"] == 32 and meta["provenance"]["g1"]["steps"] == 1
    assert meta["provenance"]["sr"]["data"] == str(data_dir.resolve())
    assert CliRunner().invoke(cli, args).exit_code == 1  # exists: needs --overwrite
    pipe = Pipeline.from_bundle(bundle, device="cpu")
    assert pipe.modes == ("edge", "seg") and pipe.scale == 2
    z = [torch.randn(pipe.z_dim) for _ in range(3)]
    frames = list(pipe.render(list(clip_frames[:3]), mode="seg", latents=z, work_size=32))
    assert len(frames) == 3
    assert frames[0].dtype == np.uint8 and frames[0].shape == (64, 84, 3)  # 42x32 work size, x2
    # eval reads bundles too
    res = CliRunner().invoke(cli, ["eval", "mapping", str(bundle), str(data_dir), "--mode", "seg",
                                   "--n", "3", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["n"] == 3


def test_a_diverging_run_stops_before_checkpointing_nan(data_dir, tmp_path, monkeypatch):
    from lgan_video.training.sr import SRTask

    real_step = SRTask.train_step

    def step(self, batch, ctx):
        losses = real_step(self, batch, ctx)
        return {**losses, "g_l1": float("nan")} if ctx.step == 2 else losses  # the third step

    monkeypatch.setattr(SRTask, "train_step", step)
    out = tmp_path / "run"
    result = _train("sr", str(data_dir), "--out", str(out), "--steps", "5", *TINY_SR, *FAST)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: training diverged at step 3 (g_l1 nan)")
    state = torch.load(out / "state.pt", weights_only=True)
    assert state["step"] == 2
    assert all(torch.isfinite(v).all() for v in state["modules"]["g"].values()
               if v.is_floating_point())


def test_palette_k_means_runs_once_per_mapping_step(data_dir, tmp_path, monkeypatch):
    """D's and G's passes share one palette per step; it is the palette each would compute."""
    import lgan_video.models.mapping as mapping_module
    from lgan_video.training.mapping import MappingOptions, MappingTask

    task = MappingTask(MappingOptions(mode="seg", classes=4, size=48, base_channels=8, n_blocks=1))
    calls = []
    real = mapping_module.slot_palette
    monkeypatch.setattr(mapping_module, "slot_palette",
                        lambda *a, **k: calls.append(a[0].shape) or real(*a, **k))
    losses, _ = _one_step(task, data_dir, tmp_path)
    assert calls == [(4, 3, 64, 64)] and np.isfinite(losses["g_l1"])
    batch = task.to_device(task.collate([task.dataset[(i, 0)] for i in range(2)]), torch.device("cpu"))
    with torch.no_grad():
        shared = task.g(batch["map"], batch["appearance"], task.g.palette_of(batch["appearance"]))
        own = task.g(batch["map"], batch["appearance"])
    assert torch.equal(shared, own)


def test_mapping_trains_contiguous_on_the_cpu_and_the_others_channels_last():
    from lgan_video.devices import resolve_precision
    from lgan_video.training.loop import training_precision
    from lgan_video.training.mapping import MappingOptions, MappingTask
    from lgan_video.training.sr import SROptions, SRTask

    cpu = torch.device("cpu")
    mapping, sr = MappingTask(MappingOptions(size=48)), SRTask(SROptions())
    for name in ("fp32", "bf16"):
        base = resolve_precision(cpu, name, training=True)
        assert training_precision(mapping, cpu, name) == dataclasses.replace(base, channels_last=False)
        assert training_precision(sr, cpu, name) == base  # channels_last where the CPU has it
    assert mapping.channels_last(torch.device("cuda")) and sr.channels_last(cpu)


def test_mapping_antialias_is_recorded_and_exported(data_dir, tmp_path):
    from lgan_video.training.export import load_run_network

    out = tmp_path / "aa"
    result = _train("mapping", str(data_dir), "--out", str(out), "--mode", "edge", "--steps", "1",
                    *TINY_MAP, *FAST, "--antialias")
    assert result.exit_code == 0, result.output
    opts = json.loads((out / "training_options.json").read_text())
    assert opts["antialias"] is True and opts["network"]["antialias"] is True
    net, meta = load_run_network(out, "mapping")
    assert meta["config"]["antialias"] is True and net.cfg.antialias
    assert type(net.down[0][0]).__name__ == "Blur" and net.up[0].mode == "bilinear"
