"""The example script and the render benchmark run as users run them: as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lgan_video.media import probe

ROOT = Path(__file__).resolve().parent.parent
# One intra-op thread: tiny models on a shared machine run fastest without thread contention.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=120)


def test_python_api_example_renders_every_frame(clip_mp4, tiny_bundle, tmp_path):
    out = tmp_path / "styled.mp4"
    proc = _run(ROOT / "examples" / "python_api.py", clip_mp4, out, "--model", tiny_bundle,
                "--mode", "seg", "--device", "cpu", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    src, info = probe(clip_mp4), probe(out)
    assert info.frame_count == src.frame_count == 12
    assert info.fps == src.fps
    assert info.height == 64 * 2  # tiny bundle: work size 64, SR x2
    assert "translated (1, 3, 64, " in proc.stderr  # the single-frame walkthrough ran


def test_render_speed_benchmark_reports_positive_speeds(tmp_path):
    proc = _run(ROOT / "benchmarks" / "render_speed.py", "--sizes", "120", "--frames", "4",
                "--batch-size", "2", "4", "--threads", "1", "--device", "cpu", "--json",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["device"] == "cpu" and report["scale"] == 2 and report["work_size"] == 96
    assert [r["batch_size"] for r in report["rows"]] == [2, 4]
    for row in report["rows"]:
        assert row["input"] == "214x120"
        assert row["work"] == "172x96" and row["output"] == "344x192"  # aspect kept, long side even
        assert row["frames_per_second"] > 0 and row["serial_frames_per_second"] > 0
        assert set(row["ms_per_frame"]) == {"decode", "resize", "maps", "g1_style", "mapping",
                                            "sr", "encode"}
        assert all(ms > 0 for ms in row["ms_per_frame"].values())
    assert list(tmp_path.iterdir()) == []  # temporary clips and bundle cleaned up


def test_speed_benchmark_writes_every_figure(tiny_bundle, tmp_path):
    out = tmp_path / "speed.json"
    proc = _run(ROOT / "benchmarks" / "speed.py", "--model", tiny_bundle, "--device", "cpu",
                "--precision", "fp32", "bf16", "--threads", "1", "--frames", "4",
                "--input-height", "120", "--batch-size", "2", "--repeats", "1", "--train", "sr",
                "--train-steps", "1", "--train-batch", "2", "--json", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["threads"] == {"total": 1, "torch": 1, "maps": 1, "ffmpeg": 1}
    fp32, bf16 = report["results"]
    assert (fp32["precision"], bf16["precision"]) == ("fp32", "bf16")
    names = ["g1", "style-edge", "mapping-edge", "style-seg", "mapping-seg", "sr"]
    for r in (fp32, bf16):
        assert [n["network"] for n in r["networks"]] == names
        peak = r["conv3x3_peak_gflop_per_s"]
        for n in r["networks"]:
            assert n["gflop_per_frame"] > 0 and n["ms_per_frame"] > 0
            assert n["fraction_of_peak"] == pytest.approx(n["gflop_per_s"] / peak, abs=2e-3)
        assert [(m["mode"], m["frames"]) for m in r["render"]] == [("edge", 4), ("seg", 4)]
        assert all(m["end_to_end_fps"] > 0 and m["naive_fps"] > 0 for m in r["render"])
        assert [t["network"] for t in r["training"]] == ["sr"] and r["training"][0]["images_per_s"] > 0
    # FLOPs do not depend on the precision: the same count in both runs.
    assert [n["gflop_per_frame"] for n in fp32["networks"]] == [n["gflop_per_frame"] for n in bf16["networks"]]
    assert report["peak_rss_mb"] > 50
    assert "3x3 conv peak" in proc.stdout and "end-to-end fps" in proc.stdout
    stages = {st["mode"]: st for st in fp32["stages"]}
    assert list(stages) == ["edge", "seg"]
    for st in stages.values():
        assert list(st["ms_per_frame"]) == ["decode", "maps", "motion", "networks", "blend", "encode"]
        assert all(v > 0 for v in st["ms_per_frame"].values())
        assert sum(st["share"].values()) == pytest.approx(1.0, abs=0.01)
    assert {n["network"]: n["batch"] for n in fp32["networks"]}["sr"] == 2  # the chunk: whole batch here


def _pictures(folder: Path, seed: int) -> Path:
    """Four 48x48 clip-art PNGs in ``folder``: a training set for one-step runs."""
    import cv2

    from lgan_video.synthetic import scene_array

    folder.mkdir()
    for i, img in enumerate(scene_array(4, 48, 48, seed=seed)):
        cv2.imwrite(str(folder / f"{i}.png"), img[:, :, ::-1])
    return folder


def test_replace_network_swaps_a_mapping_network_and_keeps_the_others(tiny_bundle, tmp_path):
    from lgan_video.bundle import load_bundle

    data = _pictures(tmp_path / "data", seed=1)
    run = tmp_path / "run"
    proc = _run("-m", "lgan_video", "train", "mapping", data, "--out", run, "--mode", "edge",
                "--edge-tones", "3", "--size", "32", "--d-scales", "1", "--base-channels", "4", "--n-blocks", "0",
                "--batch-size", "2", "--steps", "1", "--workers", "0", "--eval-every", "0", "-q",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "new"
    proc = _run(ROOT / "examples" / "replace_network.py", tiny_bundle, run, out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    old_meta, new_meta = (json.loads((p / "bundle.json").read_text()) for p in (tiny_bundle, out))
    for name in ("g1", "mapping-seg", "sr"):
        assert new_meta["networks"][name]["sha256"] == old_meta["networks"][name]["sha256"], name
    assert new_meta["networks"]["mapping-edge"]["map"]["edge_tones"] == 3
    assert new_meta["work_size"] == old_meta["work_size"]
    bundle = load_bundle(out)
    assert bundle.map_configs["edge"].channels == bundle.mappings["edge"].cfg.map_channels == 4


def test_replace_network_swaps_g1(tiny_bundle, tmp_path):
    from lgan_video.bundle import load_bundle

    data = _pictures(tmp_path / "data", seed=2)
    run = tmp_path / "g1"
    proc = _run("-m", "lgan_video", "train", "g1", data, "--out", run, "--resolution", "32",
                "--channels", "16", "--batch-size", "2", "--steps", "1", "--workers", "0",
                "--eval-every", "0", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "new"
    proc = _run(ROOT / "examples" / "replace_network.py", tiny_bundle, run, out, "--half",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out}: g1 from {run}"
    old_meta, new_meta = (json.loads((p / "bundle.json").read_text()) for p in (tiny_bundle, out))
    assert new_meta["networks"]["g1"]["sha256"] != old_meta["networks"]["g1"]["sha256"]
    assert new_meta["networks"]["g1"]["config"]["channels"] == 16
    assert new_meta["provenance"]["g1"]["command"].endswith("-q")  # the run's own command line
    bundle = load_bundle(out)
    assert bundle.g1.cfg.resolution == 32 and bundle.modes == ("edge", "seg")
    assert bundle.mappings["seg"].cfg == load_bundle(tiny_bundle).mappings["seg"].cfg
