"""Golden values and dependence: the tiny seeded bundle's networks and Pipeline.render see their input.

Golden values are pinned as diffusers pins them: a seeded tiny model, a fixed input, a few output
values and the per-channel means. They are computed in float32 on the CPU (``precision="fp32"``
is passed explicitly: ``auto`` is bf16 autocast on CPUs with native bf16); the tolerance covers
CPU-kernel differences between machines (about 1e-5), not a changed network. When a deliberate
change to a network, to ``make_tiny_bundle`` or to the map extractor moves them, re-pin them in the
same commit and say why.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lgan_video.bundle import load_bundle
from lgan_video.imageops import to_tensor
from lgan_video.latents import iter_latents
from lgan_video.maps import extract_map, map_to_tensor
from lgan_video.pipeline import Pipeline
from lgan_video.synthetic import scene_array
from lgan_video.testing import make_tiny_bundle

ATOL = 1e-3  # float32 outputs in [-1, 1]


@pytest.fixture(scope="module")
def bundle(tiny_bundle):
    return load_bundle(tiny_bundle, device="cpu", dtype=torch.float32)


@pytest.fixture(scope="module")
def pipe(tiny_bundle) -> Pipeline:
    return Pipeline.from_bundle(tiny_bundle, device="cpu", precision="fp32")


def _z() -> torch.Tensor:
    return torch.randn(2, 16, generator=torch.Generator().manual_seed(0))


def _maps(bundle, mode: str, seed: int = 5) -> torch.Tensor:
    """The structure map of a 64x64 synthetic frame as network input ``(1, C, 64, 64)``."""
    cfg = bundle.map_configs[mode]
    return map_to_tensor(extract_map(scene_array(1, 64, 64, seed=seed)[0], cfg), cfg)


def _close(actual: torch.Tensor, expected: list) -> None:
    torch.testing.assert_close(actual, torch.tensor(expected), rtol=0, atol=ATOL)


# --- golden slices ------------------------------------------------------------------------------

@torch.no_grad()
def test_g1_golden(bundle):
    look = bundle.g1(_z())
    assert look.shape == (2, 3, 32, 32)
    _close(look[0, 0, 14:17, 14:17], [[-0.1501, -0.1949, -0.1604],
                                      [-0.1952, -0.2494, -0.2048],
                                      [-0.1321, -0.2037, -0.1604]])
    _close(look.mean((0, 2, 3)), [-0.2534, 0.0639, -0.5289])


@pytest.mark.parametrize("mode, window, means", [
    ("edge", [[-0.4546, -0.3838, -0.3567],
              [-0.3988, -0.1889, -0.3605],
              [0.0557, 0.2451, 0.1026]], [-0.1642, 0.3318, 0.3241]),
    ("seg", [[-0.4774, -0.4740, -0.1480],
             [-0.1756, -0.2683, -0.1661],
             [0.2655, 0.0969, 0.0850]], [0.1855, 0.4386, 0.5624]),
])
@torch.no_grad()
def test_mapping_golden(bundle, mode, window, means):
    out = bundle.mappings[mode](_maps(bundle, mode), bundle.g1(_z())[:1])
    assert out.shape == (1, 3, 64, 64)
    _close(out[0, 0, 30:33, 30:33], window)
    _close(out.mean((0, 2, 3)), means)


@torch.no_grad()
def test_sr_golden(bundle):
    out = bundle.sr(to_tensor(scene_array(1, 24, 16, seed=6)[0]))
    assert out.shape == (1, 3, 32, 48)
    _close(out[0, 1, 8:11, 8:11], [[0.0570, 0.4401, 0.4829],
                                   [0.1008, 0.4657, 0.5356],
                                   [0.0482, 0.3911, 0.4692]])
    _close(out.mean((0, 2, 3)), [0.4889, 0.5658, 0.5217])


def _render(pipe, frames, mode: str = "seg", seeds=(3,)) -> np.ndarray:
    # Every option that shapes the output is explicit, so a changed default does not move the pins.
    latents = iter_latents(list(seeds), 2, z_dim=16)
    return np.stack(list(pipe.render(iter(frames), mode, latents, batch_size=2, work_size=64,
                                     map_temporal=0.0, upscale=True, stabilize=0.0, ink=0.0)))


def test_ink_halves_the_brightness_of_exactly_the_edge_pixels(pipe):
    frames = scene_array(2, 96, 72, seed=7)

    def run(ink: float) -> np.ndarray:
        latents = iter_latents([3], 2, z_dim=16)
        return np.stack(list(pipe.render(iter(frames), "edge", latents, work_size=64,
                                         map_temporal=0.0, upscale=False, stabilize=0.0,
                                         ink=ink))).astype(int)

    plain, inked = run(0.0), run(0.5)
    cfg = pipe.bundle.map_configs["edge"]
    from lgan_video.pipeline import _resize

    edges = np.stack([extract_map(_resize(f, (86, 64)), cfg) for f in frames]) == 255
    assert 0.02 < edges.mean() < 0.5
    np.testing.assert_array_equal(inked[~edges], plain[~edges])  # elsewhere untouched
    np.testing.assert_allclose(inked[edges], plain[edges] * 0.5, atol=1.01)  # half as bright
    seg = list(pipe.render(iter(frames), "seg", iter_latents([3], 2, z_dim=16), work_size=64,
                           upscale=False, stabilize=0.0, ink=1.0))
    assert np.array_equal(np.stack(seg), np.stack(list(pipe.render(
        iter(frames), "seg", iter_latents([3], 2, z_dim=16), work_size=64, upscale=False,
        stabilize=0.0, ink=0.0))))  # seg mode has no lines to ink


@pytest.mark.parametrize("mode, pixels, means", [
    ("seg", [[[165, 169, 192], [169, 170, 192], [159, 168, 199]],
             [[135, 153, 204], [142, 139, 200], [141, 133, 196]],
             [[161, 179, 197], [162, 184, 192], [150, 180, 190]],
             [[178, 182, 222], [168, 180, 221], [158, 178, 216]]],
     [[149.40, 180.37, 197.82], [149.76, 180.42, 198.01],
      [150.15, 180.98, 198.02], [149.49, 180.38, 197.67]]),
    ("edge", [[[96, 195, 179], [95, 198, 183], [90, 194, 181]],
              [[79, 150, 194], [85, 149, 195], [86, 159, 190]],
              [[56, 163, 193], [41, 176, 196], [36, 188, 196]],
              [[33, 194, 183], [38, 198, 180], [46, 205, 184]]],
     [[106.02, 166.40, 179.52], [106.10, 165.98, 179.27],
      [106.45, 166.71, 178.38], [105.90, 167.12, 178.23]]),
])
def test_pipeline_render_golden(pipe, mode, pixels, means):
    """4 frames of a generated 96x72 clip: work size 64 (86x64), SR x2 -> 172x128."""
    out = _render(pipe, scene_array(4, 96, 72, seed=7), mode)
    assert out.shape == (4, 128, 172, 3) and out.dtype == np.uint8
    # uint8 outputs: a float difference of 1e-5 can flip a rounding, hence 1 grey level.
    np.testing.assert_allclose(out[:, 40, 40:43].astype(int), np.array(pixels), atol=1)
    np.testing.assert_allclose(out.mean((1, 2)), np.array(means), atol=0.05)


# --- dependence ---------------------------------------------------------------------------------

def test_render_depends_on_the_frames_and_is_repeatable(pipe):
    a, b = scene_array(4, 96, 72, seed=7), scene_array(4, 96, 72, seed=8)
    out_a, out_b = _render(pipe, a), _render(pipe, b)
    assert np.array_equal(_render(pipe, a), out_a)  # same input, same output, bit for bit
    # Another scene: the outputs differ everywhere, not in a few pixels.
    assert np.abs(out_a.astype(int) - out_b).mean() > 10
    # Within a clip, moving shapes move the output (one latent, so only the frames change).
    assert all(np.abs(out_a[i].astype(int) - out_a[i + 1]).mean() > 1 for i in range(3))
    # The edge network sees edges: a blank frame and a scene give different outputs.
    blank = np.full_like(a, 255)
    assert np.abs(_render(pipe, blank, "edge").astype(int) - _render(pipe, a, "edge")).mean() > 10


def test_render_depends_on_the_latent(pipe):
    frames = scene_array(2, 96, 72, seed=7)
    one, other = _render(pipe, frames, seeds=(3,)), _render(pipe, frames, seeds=(4,))
    assert np.abs(one.astype(int) - other).mean() > 1.5  # 3.0 grey levels with the tiny bundle


@torch.no_grad()
@pytest.mark.parametrize("mode", ["edge", "seg"])
def test_translation_depends_on_map_and_look(bundle, mode):
    net, looks = bundle.mappings[mode], bundle.g1(_z())
    base = net(_maps(bundle, mode), looks[:1])
    assert (net(_maps(bundle, mode, seed=9), looks[:1]) - base).abs().mean() > 0.05
    assert (net(_maps(bundle, mode), looks[1:]) - base).abs().mean() > 0.015  # 0.03
    assert torch.equal(net(_maps(bundle, mode), looks[:1]), base)


@torch.no_grad()
def test_g1_and_sr_depend_on_their_input(bundle):
    look = bundle.g1(_z())
    assert (look[0] - look[1]).abs().mean() > 0.02
    a = to_tensor(scene_array(1, 24, 16, seed=6)[0])
    b = to_tensor(scene_array(1, 24, 16, seed=11)[0])
    assert (bundle.sr(a) - bundle.sr(b)).abs().mean() > 0.1


def test_tiny_bundle_weights_follow_the_seed(tmp_path):
    """Same seed: identical tensors; another seed: every network's weights differ."""
    from safetensors.torch import load_file

    dirs = [make_tiny_bundle(tmp_path / name, seed=seed) for name, seed in
            (("a", 0), ("b", 0), ("c", 1))]
    for file in ("g1", "mapping-edge", "mapping-seg", "sr"):
        a, b, c = (load_file(str(d / f"{file}.safetensors")) for d in dirs)
        assert all(torch.equal(a[k], b[k]) for k in a), file
        weights = [k for k in a if k.endswith("weight") and a[k].ndim > 1]
        assert weights and all(not torch.equal(a[k], c[k]) for k in weights), file


def test_tiny_bundle_leaves_the_global_rng_alone(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_tiny_bundle(tmp_path / "t", modes=("edge",), sr=False)
    assert torch.equal(torch.rand(3), expected)


def test_batching_is_exact_on_the_cpu(pipe):
    frames = scene_array(5, 96, 72, seed=7)
    outs = [np.stack(list(pipe.render(iter(frames), "edge", itertools.repeat(_z()[0]),
                                      batch_size=n, map_temporal=0.0))) for n in (1, 5)]
    np.testing.assert_allclose(outs[0].astype(int), outs[1], atol=1)


def test_cli_ink_default_is_the_library_default():
    from lgan_video.commands.render import render
    from lgan_video.ink import DEFAULT_INK

    option = next(p for p in render.params if p.name == "ink")
    assert option.default == DEFAULT_INK == 0.5
