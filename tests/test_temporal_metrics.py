"""Known answers for the flicker metric, the structure score, flow occlusions and scene cuts."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from lgan_video.cli import cli
from lgan_video.flow import both_flows, non_occluded, resize_flow, to_gray
from lgan_video.metrics.structure import structure_score
from lgan_video.metrics.temporal import temporal_scores
from lgan_video.scenecut import CutDetector, cut_score, thumbnail
from lgan_video.synthetic import panning, scene_array, texture


def noise_frames(n: int, sigma: float, h: int = 120, w: int = 160, seed: int = 1) -> list:
    """Mid-gray frames with independent Gaussian noise of ``sigma`` gray levels per frame."""
    rng = np.random.default_rng(seed)
    return [np.clip(128 + rng.normal(0, sigma, (h, w, 3)), 0, 255).round().astype(np.uint8)
            for _ in range(n)]


def test_translating_pattern_has_no_warping_error():
    frames = panning(8)
    s = temporal_scores(frames, frames).to_dict()
    assert s["frames"] == 8 and s["pairs"] == 7 and s["pairs_used"] == 7 and s["cuts"] == []
    assert s["warping_error"] < 1e-5  # bilinear resampling of a smooth texture: ~6e-8
    assert s["warping_error"] == s["input_warping_error"] and s["ratio"] == 1.0
    assert s["structure"] == pytest.approx(1.0)


def test_independent_noise_gives_the_variance_of_the_difference():
    # Flow on a still input is 0: the error is E[(n_t - n_{t-1})^2] = 2 sigma^2 (in [0, 1] units).
    still = [panning(1)[0]] * 6
    s = temporal_scores(still, noise_frames(6, sigma=20)).to_dict()
    assert s["warping_error"] == pytest.approx(2 * (20 / 255) ** 2, rel=0.03)
    assert s["input_warping_error"] == 0.0 and s["ratio"] is None
    assert len(s["per_pair"]) == 5 and all(p["render"] > 0.011 for p in s["per_pair"])


def test_render_size_differs_from_input():
    # Flow at 160x120 is scaled to a 320x240 render: a x2 upscaled pan still scores about 0.
    frames = panning(5, step=3)
    big = [cv2.resize(f, (320, 240), interpolation=cv2.INTER_CUBIC) for f in frames]
    s = temporal_scores(frames, big).to_dict()
    assert s["size"] == [320, 240]
    assert s["warping_error"] < 2e-4 and s["ratio"] == pytest.approx(1.0, abs=0.05)


def test_cut_is_detected_and_its_pair_excluded():
    black = np.zeros((120, 160, 3), np.uint8)
    frames = [black] * 3 + panning(5)
    renders = frames[:3] + [255 - f for f in frames[3:]]  # the cut pair alone differs wildly
    s = temporal_scores(frames, renders).to_dict()
    assert s["cuts"] == [3] and s["pairs"] == 7 and s["pairs_used"] == 6
    assert s["per_pair"][2] == {"frame": 3, "cut": True, "render": None, "input": None}
    assert s["warping_error"] < 1e-5
    # Black frames have no structure to compare: left out of the mean, not counted as 0.
    assert s["structure"] == pytest.approx(1.0)


def test_cut_scores():
    moving = scene_array(24, 160, 120, seed=3)
    scores = [cut_score(thumbnail(a), thumbnail(b)) for a, b in zip(moving[:-1], moving[1:], strict=True)]
    assert max(scores) < 10  # shapes drifting over white: far under the threshold of 30
    black = np.zeros_like(moving[0])
    assert cut_score(thumbnail(black), thumbnail(moving[0])) > 30
    other = texture(120, 160, seed=5)
    assert cut_score(thumbnail(moving[0]), thumbnail(other)) > 30
    detect = CutDetector()
    assert [detect(f) for f in [black, black, moving[0], moving[1], other]] == [
        False, False, True, False, True]


def test_structure_score():
    img = texture(96, 128)
    assert structure_score(img, img) == pytest.approx(1.0)
    assert structure_score(img, 255 - img) == pytest.approx(1.0)  # same layout, other colours
    blurred = cv2.GaussianBlur(img, (0, 0), 4)
    assert 0.2 < structure_score(img, blurred) < 0.9
    assert abs(structure_score(img, texture(96, 128, seed=9))) < 0.15  # unrelated layouts
    assert structure_score(img, np.full_like(img, 90)) == 0.0  # a blank render
    # The input is brought to the output's size first.
    assert structure_score(cv2.resize(img, (256, 192)), img) > 0.95


def test_occlusion_mask_of_a_pan():
    a, b = (to_gray(f) for f in panning(2, step=4))
    forward, backward = both_flows(a, b)
    assert np.median(backward[..., 0]) == pytest.approx(4.0, abs=0.1)  # b's pixels were 4 px right
    mask = non_occluded(backward, forward)
    assert not mask[:, -3:].any()  # they come from outside frame a
    assert mask[10:-10, 10:-10].mean() > 0.95
    scaled = resize_flow(backward, (320, 240))
    assert np.median(scaled[..., 0]) == pytest.approx(8.0, abs=0.2)


def _write_frames(folder, frames):
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"f{i:03d}.png"), np.ascontiguousarray(f[:, :, ::-1]))
    return folder


def test_cli_eval_temporal_json(tmp_path):
    still = [panning(1)[0]] * 5
    src = _write_frames(tmp_path / "in", still)
    out = _write_frames(tmp_path / "out", noise_frames(5, sigma=20))
    res = CliRunner().invoke(cli, ["eval", "temporal", str(src), str(out), "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    assert set(s) == {"input", "render", "frames", "size", "pairs", "pairs_used", "cuts",
                      "warping_error", "input_warping_error", "ratio", "structure", "per_pair"}
    assert (s["frames"], s["size"], s["pairs_used"], s["cuts"]) == (5, [160, 120], 4, [])
    assert s["warping_error"] == pytest.approx(2 * (20 / 255) ** 2, rel=0.03)
    assert s["input_warping_error"] == 0.0 and s["ratio"] is None
    res = CliRunner().invoke(cli, ["eval", "temporal", str(src), str(src)])
    assert res.exit_code == 0
    assert res.output.splitlines() == [
        "5 frames at 160x120: 4 of 4 pairs used, cuts at none",
        "warping error  render 0.000000  input 0.000000  ratio n/a",
        "structure score  1.000"]


@pytest.mark.parametrize("case, needle", [
    ("short input", "the input ran out after 3 frames, before the render did"),
    ("panel", "the render is 320x120 but the input is 160x120"),
    ("one frame", "need at least 2 frames to measure flicker, got 1"),
    ("missing", "missing"),
])
def test_cli_eval_temporal_errors(tmp_path, case, needle):
    frames = panning(5)
    src = _write_frames(tmp_path / "in", frames[:3] if case == "short input" else frames)
    renders = {"panel": [np.concatenate([f, f], axis=1) for f in frames],
               "one frame": frames[:1]}.get(case, frames)
    out = _write_frames(tmp_path / "out", renders)
    args = ["eval", "temporal", str(tmp_path / "missing" if case == "missing" else src), str(out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], res.output
