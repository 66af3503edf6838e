"""Pipeline: network calls, padding, streaming render, stages panels and errors (tiny bundle, CPU)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lgan_video.errors import LganError
from lgan_video.latents import iter_latents, latent_path, seed_latent
from lgan_video.pipeline import Pipeline, work_dims
from lgan_video.synthetic import scene_array
from lgan_video.testing import make_tiny_bundle


@pytest.fixture(scope="module")
def pipe(tiny_bundle) -> Pipeline:
    return Pipeline.from_bundle(tiny_bundle, device="cpu", precision="fp32")


def _z(n: int = 2) -> torch.Tensor:
    return torch.stack([seed_latent(s, 16) for s in range(n)])


def test_properties_and_cpu_defaults(pipe):
    assert (pipe.scale, pipe.modes, pipe.z_dim) == (2, ("edge", "seg"), 16)
    assert pipe.device == torch.device("cpu") and pipe.dtype == torch.float32
    assert pipe.precision.name == "fp32" and pipe.precision.autocast is None


def test_generate_translate_upscale_shapes(pipe):
    look = pipe.generate(_z(3))
    assert look.shape == (3, 3, 32, 32)
    maps = torch.rand(3, 4, 24, 20) * 2 - 1
    painted = pipe.translate(maps, look, "seg")
    assert painted.shape == (3, 3, 24, 20)
    big = pipe.upscale(painted)
    assert big.shape == (3, 3, 48, 40)
    assert big.min() >= -1.0 and big.max() <= 1.0



@pytest.mark.parametrize("mode", ["edge", "seg"])
def test_paint_frames_in_chunks_matches_the_whole_batch(pipe, mode, monkeypatch):
    from lgan_video.maps import MapExtractor

    extract = MapExtractor(pipe.bundle.map_configs[mode])
    maps = np.stack([extract(f) for f in scene_array(5, 40, 24, seed=3)])  # (5, 24, 40)
    style = pipe.styles([seed_latent(s, 16) for s in range(5)], mode)
    monkeypatch.setattr("lgan_video.pipeline.CPU_CHUNK_PIXELS", 10**9)
    assert pipe.chunk_size(5, 24, 40) == 5
    whole, mid = pipe.paint_frames(maps, style, mode, translations=True)
    monkeypatch.setattr("lgan_video.pipeline.CPU_CHUNK_PIXELS", 2 * 24 * 40)
    assert pipe.chunk_size(5, 24, 40) == 2  # chunks of 2, 2 and 1 frames
    chunked, mid_chunked = pipe.paint_frames(maps, style, mode, translations=True)
    assert whole.shape == chunked.shape == (5, 48, 80, 3) and mid.shape == (5, 24, 40, 3)
    assert np.abs(whole.astype(int) - chunked).max() <= 1  # rounding of the uint8 outputs
    assert np.abs(mid.astype(int) - mid_chunked).max() <= 1
    assert pipe.chunk_size(5, 1000, 1000) == 1  # never fewer than one frame

def test_translate_pads_odd_sizes_and_crops_back(pipe):
    look = pipe.generate(_z(1))
    maps = torch.rand(1, 1, 23, 17) * 2 - 1
    out = pipe.translate(maps, look, "edge")
    assert out.shape == (1, 3, 23, 17)
    # Padding happens at the bottom/right: the top-left content matches a manual reflect pad.
    padded = torch.nn.functional.pad(maps, (0, 3, 0, 1), mode="reflect")
    torch.testing.assert_close(pipe.translate(padded, look, "edge")[..., :23, :17], out)


def test_bad_mode_and_bad_shapes(pipe, tmp_path):
    edge_only = Pipeline.from_bundle(make_tiny_bundle(tmp_path / "e", modes=("edge",)), "cpu")
    with pytest.raises(LganError, match=r"has no 'seg' mapping network \(it has: edge\)"):
        edge_only.translate(torch.zeros(1, 4, 8, 8), torch.zeros(1, 3, 32, 32), "seg")
    with pytest.raises(LganError, match="no 'seg'"):
        next(edge_only.render(iter(scene_array(1, 32, 32)), "seg", iter_latents([0], 1, z_dim=16)))
    with pytest.raises(LganError, match=r"\(B, 1, H, W\)"):
        pipe.translate(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 32, 32), "edge")
    with pytest.raises(LganError, match=r"\(B, 16\)"):
        pipe.generate(torch.zeros(2, 7))


def test_work_dims_keep_the_aspect_ratio():
    assert work_dims(160, 120, 64) == (86, 64)
    assert work_dims(1920, 1080, 128) == (228, 128)
    assert work_dims(30, 500, 64) == (64, 1066)


def test_render_keeps_the_aspect_ratio_of_odd_work_sizes(pipe):
    frames = list(scene_array(2, 160, 120))
    out = list(pipe.render(frames, "edge", iter_latents([1], 4, z_dim=pipe.z_dim), work_size=60))
    assert out[0].shape == (120, 160, 3)  # 80x60 work size (not a multiple of 4), then x2


@pytest.mark.parametrize("mode, batch_size", [("edge", 2), ("seg", 3)])
def test_render_yields_one_frame_per_input_in_order(pipe, mode, batch_size):
    frames = scene_array(5, 120, 90, seed=1)
    latents = iter_latents([1, 2], 3, z_dim=16)
    out = list(pipe.render(iter(frames), mode, latents, batch_size=batch_size, work_size=32))
    assert len(out) == 5
    assert all(f.shape == (64, 84, 3) and f.dtype == np.uint8 for f in out)  # 42x32, x2
    assert out[0].std() > 1
    # Batching does not change the result: the same frames rendered in one batch of 5.
    whole = list(pipe.render(iter(frames), mode, iter_latents([1, 2], 3, z_dim=16), batch_size=5,
                             work_size=32))
    for a, b in zip(whole, out, strict=True):
        np.testing.assert_allclose(a.astype(int), b.astype(int), atol=2)


def test_render_uses_the_frame_latent(pipe):
    frames = np.repeat(scene_array(1, 64, 64), 4, axis=0)
    z = latent_path([1, 2], 4, z_dim=16)
    # Stabilization off: on a still scene it would average the look over frames on purpose.
    out = list(pipe.render(frames, "edge", iter(z), batch_size=4, upscale=False, stabilize=0.0))
    assert out[0].shape == (64, 64, 3)  # bundle work size 64, no SR
    diffs = [np.abs(out[i].astype(int) - out[i + 1]).mean() for i in range(3)]
    assert all(d > 0 for d in diffs)
    same = list(pipe.render(frames, "edge", itertools.repeat(z[0]), batch_size=2, upscale=False))
    assert all(np.array_equal(same[0], f) for f in same)


def test_render_stages_panel(pipe):
    frames = scene_array(3, 100, 70, seed=2)
    out = list(pipe.render(frames, "seg", iter_latents([5], 2, z_dim=16), batch_size=2,
                           work_size=32, stages=True))
    assert len(out) == 3
    height, width = 64, 46 * 2  # 32 short side -> 46x32 work size, x2 SR
    assert out[0].shape == (height, round(100 * height / 70) + width + width + width, 3)
    # The third panel is the translation, the fourth its upscaled version: similar colours.
    third, fourth = out[0][:, -2 * width:-width], out[0][:, -width:]
    assert np.abs(third.mean((0, 1)) - fourth.mean((0, 1))).max() < 12


def test_render_errors(pipe):
    frames = scene_array(3, 64, 48)
    with pytest.raises(LganError, match="latent walk ended"):
        list(pipe.render(frames, "edge", iter(latent_path([1], 2, z_dim=16)), batch_size=1))
    with pytest.raises(LganError, match="batch size"):
        list(pipe.render(frames, "edge", iter_latents([1], 2, z_dim=16), batch_size=0))
    with pytest.raises(LganError, match="uint8"):
        list(pipe.render([frames[0].astype(np.float32)], "edge", iter_latents([1], 2, z_dim=16)))


def test_caches_hold_more_latents_than_their_size(pipe):
    zs = [seed_latent(i, pipe.z_dim) for i in range(70)]  # more than the 64-entry caches
    images = pipe.appearance(zs)
    assert images.shape == (70, 3, 32, 32)
    torch.testing.assert_close(images[5], pipe.generate(zs[5][None])[0])
    styles = pipe.styles(zs + zs[:3], "edge")
    assert styles.shape[0] == 73
    expected = pipe.mapping("edge").encode_style(images[3:4])[0]
    torch.testing.assert_close(styles[3], expected)
    torch.testing.assert_close(styles[70], styles[0])


@pytest.mark.parametrize("mode", ["edge", "seg"])
def test_map_workers_give_the_same_maps_as_one_thread(mode):
    """Map workers compute the stateless half ahead; the temporal half stays in frame order."""
    import dataclasses

    from lgan_video.maps import MapConfig, MapExtractor
    from lgan_video.pipeline import _prepare
    from lgan_video.stabilize import MotionAnalyzer

    cfg = MapConfig(mode=mode, temporal=0.5)
    frames = list(scene_array(10, 80, 60, seed=4))
    extractor = MapExtractor(cfg)
    one = [extractor(f) for f in frames]
    pooled = [m for _, m, _ in _prepare(iter(frames), MapExtractor(cfg), 60, False,
                                        MotionAnalyzer(0.0), workers=3)]
    assert len(pooled) == 10 and all(np.array_equal(a, b) for a, b in zip(one, pooled, strict=True))
    fresh = [MapExtractor(dataclasses.replace(cfg, temporal=0.0))(f) for f in frames]
    assert np.array_equal(one[0], fresh[0])  # temporal state matters from the second frame on
    assert any(not np.array_equal(a, b) for a, b in zip(one[1:], fresh[1:], strict=True))
