"""The shipped default bundle (``lgan_video/assets/default``) loads, verifies and renders.

The pinned statistics below belong to the shipped weights: whenever ``assets/default`` changes,
re-pin them in the same commit (run this file, read the new values off the failure). They are
computed in float32 on the CPU (``precision="fp32"``; ``auto`` is bf16 on CPUs with native bf16).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from lgan_video.bundle import DEFAULT_DIR, load_bundle, resolve_model
from lgan_video.latents import iter_latents
from lgan_video.pipeline import Pipeline
from lgan_video.synthetic import scene_array


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    return Pipeline.from_bundle("default", device="cpu", precision="fp32")


def test_default_bundle_files_match_their_checksums():
    assert resolve_model("default") == DEFAULT_DIR
    meta = json.loads((DEFAULT_DIR / "bundle.json").read_text())
    assert set(meta["networks"]) == {"g1", "mapping-edge", "mapping-seg", "sr"}
    for name, entry in meta["networks"].items():
        digest = hashlib.sha256((DEFAULT_DIR / entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], name
    bundle = load_bundle(DEFAULT_DIR)  # verifies checksums and that weights fit the configs
    assert (bundle.modes, bundle.scale, bundle.work_size) == (("edge", "seg"), 2, 192)
    assert (bundle.g1.cfg.resolution, bundle.g1.cfg.z_dim) == (64, 128)
    assert bundle.map_configs["seg"].classes == bundle.mappings["seg"].cfg.map_channels == 8
    assert bundle.mappings["seg"].cfg.palette and bundle.mappings["edge"].cfg.palette
    assert bundle.map_configs["edge"].canny_percentile == 85.0
    assert bundle.map_configs["edge"].edge_tones == 4 == bundle.mappings["edge"].cfg.palette_slots


# Per-channel mean and std of 4 rendered frames of scene_array(4, 160, 120, seed=0), seed 0,
# no temporal or flow stabilization, float32: (mean RGB, std RGB). Re-pin when assets/default changes.
PINNED = {
    "edge": ([229.35, 231.48, 211.72], [30.47, 24.97, 27.34]),  # v3: tones, ink 0.5
    "seg": ([232.04, 233.15, 214.92], [20.68, 18.76, 32.58]),
}


@pytest.mark.parametrize("mode", ["edge", "seg"])
def test_default_bundle_output_statistics_are_pinned(pipe, mode):
    frames = scene_array(4, 160, 120, seed=0)
    out = np.stack(list(pipe.render(iter(frames), mode, iter_latents([0], 4, z_dim=pipe.z_dim),
                                    batch_size=4, map_temporal=0.0, stabilize=0.0)))
    assert out.shape == (4, 384, 512, 3)  # short side 192 (256x192), SR x2
    mean, std = PINNED[mode]
    np.testing.assert_allclose(out.mean((0, 1, 2)), mean, atol=0.1)
    np.testing.assert_allclose(out.std((0, 1, 2)), std, atol=0.1)


def test_default_bundle_renders_four_frames_of_a_clip(clip_mp4, tmp_path):
    from lgan_video.media import probe
    from lgan_video.render import render

    result = render(clip_mp4, tmp_path / "out.mp4", model="default", device="cpu", max_frames=4,
                    quiet=True)
    info = probe(tmp_path / "out.mp4")
    assert (result.frames, info.frame_count) == (4, 4)
    assert (info.width, info.height) == result.size == (512, 384)
