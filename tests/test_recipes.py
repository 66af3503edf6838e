"""The small-data training pieces: DiffAugment, multi-scale D with feature matching, FastGAN G1,
zoomed mapping crops, and the structure score / flat baseline used to judge recipes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lgan_video.errors import LganError
from lgan_video.metrics.structure import structure_score
from lgan_video.models import (
    G1Config,
    G1Discriminator,
    G1Generator,
    MappingConfig,
    MultiScaleDiscriminator,
)
from lgan_video.training import losses as L
from lgan_video.training.augment import diff_augment, parse_policy

# --- DiffAugment ---------------------------------------------------------------------------------


def test_parse_policy():
    assert parse_policy("color, translation,cutout") == ("color", "translation", "cutout")
    assert parse_policy("none") == () and parse_policy("") == ()
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        parse_policy("color,flip")


def test_empty_policy_is_identity():
    x = torch.randn(2, 3, 8, 8)
    (y,) = diff_augment([x], ())
    assert y is x


def test_translation_and_cutout_move_map_and_image_together():
    torch.manual_seed(3)
    maps = torch.ones(6, 1, 16, 16)
    image = torch.ones(6, 3, 16, 16)
    m, im = diff_augment([maps, image], ("translation", "cutout"), rgb=[False, True])
    zero_m, zero_im = m == 0, im == 0
    assert torch.equal(zero_m.expand_as(zero_im), zero_im)  # same pixels vacated in both
    # a cutout square of side 8 in 16: at most a quarter of each sample, at least one pixel
    per_sample = zero_m.flatten(1).float().mean(1)
    assert (per_sample > 0).all() and (per_sample < 0.25 + 2 * 16 * 2 / 256 + 1e-6).all()


def test_translation_shifts_content():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    (y,) = diff_augment([x], ("translation",), rgb=[False])
    pos = y.flatten(1).argmax(1)
    rows, cols = pos // 16, pos % 16
    assert (y.flatten(1).sum(1) == 1).all()  # the dot survives (shift <= 2 px), nothing else
    assert (rows - 8).abs().max() <= 2 and (cols - 8).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 5  # really random


def test_color_only_touches_rgb_and_is_differentiable():
    torch.manual_seed(1)
    maps = torch.full((4, 1, 8, 8), 0.5)
    image = (torch.rand(4, 3, 8, 8) * 2 - 1).requires_grad_(True)
    m, im = diff_augment([maps, image], ("color",), rgb=[False, True])
    assert torch.equal(m, maps)
    assert not torch.allclose(im, image)
    im.sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


# --- multi-scale discriminator and feature matching ------------------------------------------


def test_multiscale_discriminator_shapes():
    cfg = MappingConfig(map_channels=1, base_channels=8, d_channels=8, d_scales=2)
    d = MultiScaleDiscriminator(cfg)
    feats = d.features(torch.randn(2, 1, 64, 64), torch.randn(2, 3, 64, 64))
    assert len(feats) == 2 and len(feats[0]) == 5  # 4 LeakyReLU activations + logits
    assert feats[0][-1].shape == (2, 1, 6, 6) and feats[1][-1].shape == (2, 1, 2, 2)
    assert [f.shape for f in d(torch.randn(1, 1, 64, 64), torch.randn(1, 3, 64, 64))] == [
        (1, 1, 6, 6), (1, 1, 2, 2)]


def test_feature_matching_values():
    a = [[torch.zeros(2, 4, 3, 3), torch.zeros(2, 8, 2, 2)]]
    b = [[torch.ones(2, 4, 3, 3), torch.full((2, 8, 2, 2), 3.0)]]
    assert L.feature_matching(a, a).item() == 0.0
    assert L.feature_matching(a, b).item() == pytest.approx(2.0)  # mean of 1 and 3


def test_mapping_crop_too_small_for_scales():
    from lgan_video.training.mapping import MappingOptions

    with pytest.raises(LganError, match="--size 32 is too small for --d-scales 2"):
        MappingOptions(size=32).network_config()
    assert MappingOptions(size=48).network_config().d_scales == 2


def test_mapping_zoom_levels(tmp_path):
    import cv2

    from lgan_video.maps import MapConfig
    from lgan_video.training.data import scan_source
    from lgan_video.training.datasets import MappingDataset

    img = np.zeros((60, 80, 3), np.uint8)
    img[:, 40:] = 255
    cv2.imwrite(str(tmp_path / "a.png"), img)
    src = scan_source(tmp_path)
    ds = MappingDataset(src, 32, MapConfig(mode="edge"), 16, seed=0, zoom=2.0)
    scales = {ds._scale(np.random.default_rng(s)) for s in range(30)}
    assert scales == {32, 48, 64}
    assert ds[(0, 0)]["target"].shape == (32, 32, 3)
    flat = MappingDataset(src, 32, MapConfig(mode="edge"), 16, seed=0, zoom=1.0)
    assert {flat._scale(np.random.default_rng(s)) for s in range(5)} == {32}


# --- FastGAN pieces in G1 ------------------------------------------------------------------------


def test_g1_sle_and_reconstruction_shapes():
    cfg = G1Config(resolution=64, channels=64, d_channels=16, sle=True, d_recon=True,
                   attention=(), d_attention=())
    assert cfg.sle_pairs() == [(-1, 2), (0, 3)]  # 4 -> 32 and 8 -> 64
    g, d = G1Generator(cfg), G1Discriminator(cfg).eval()  # eval: no power iteration
    x = g(torch.randn(3, cfg.z_dim))
    scores, recon = d.scores_and_reconstruction(x)
    assert x.shape == (3, 3, 64, 64) and scores.shape == (3,) and recon.shape == (3, 3, 32, 32)
    assert torch.equal(d(x), scores)
    assert G1Discriminator(G1Config(resolution=32, channels=32, d_channels=16)) \
        .scores_and_reconstruction(torch.zeros(1, 3, 32, 32))[1] is None


def test_g1_sle_gates_change_output():
    torch.manual_seed(0)
    cfg = G1Config(resolution=32, channels=32, d_channels=16, sle=True, attention=(),
                   d_attention=())
    g = G1Generator(cfg).eval()
    z = torch.randn(2, cfg.z_dim)
    before = g(z)
    with torch.no_grad():
        g.sle["2"].net[3].bias.fill_(-20.0)  # gates ~0: the 32x32 features are switched off
    after = g(z)
    assert (before - after).abs().max() > 1e-3


def test_g1_step_logs_reconstruction(tmp_path):
    import cv2

    from lgan_video.synthetic import scene_frames
    from lgan_video.training.data import scan_source
    from lgan_video.training.distributed import DistInfo
    from lgan_video.training.g1 import G1Options, G1Task
    from lgan_video.training.loop import StepContext

    for i, frame in enumerate(scene_frames(4, 40, 40, seed=2)):
        cv2.imwrite(str(tmp_path / f"{i}.png"), frame[:, :, ::-1])
    torch.manual_seed(0)
    task = G1Task(G1Options(resolution=32, channels=32))
    task.build(scan_source(tmp_path), torch.device("cpu"), tmp_path, seed=0)
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    out = task.train_step(real, StepContext(torch.device("cpu"), DistInfo(), "fp32"))
    assert {"d_loss", "d_recon", "g_loss"} <= set(out)
    assert 0.05 < out["d_recon"] < 2  # an untrained decoder is far from the reals


# --- structure score ----------------------------------------------------------------------------


def _scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((64, 96, 3), 40, np.uint8)
    for _ in range(6):
        x, y = rng.integers(0, 80), rng.integers(0, 48)
        img[y:y + 16, x:x + 16] = rng.integers(60, 255, 3)
    return img


def test_structure_score_values():
    a = _scene(0)
    assert structure_score(a, a) == pytest.approx(1.0, abs=1e-6)
    assert structure_score(a, 255 - a) == pytest.approx(1.0, abs=1e-6)  # same edges, inverted
    assert structure_score(a, np.full_like(a, 128)) == 0.0  # flat output keeps no layout
    assert abs(structure_score(a, _scene(7))) < 0.3  # unrelated layouts
    big = np.repeat(np.repeat(a, 2, 0), 2, 1)  # reference resized to the output's size
    assert structure_score(big, a) > 0.95


# --- look statistics ----------------------------------------------------------------------------


def test_near_white_share_and_colourfulness():
    from lgan_video.metrics.look import colourfulness, near_white_share

    img = np.full((10, 10, 3), 255, np.uint8)
    img[:3] = (230, 240, 229)  # one channel at 229 <= 0.9 * 255: not near-white
    assert near_white_share(img) == pytest.approx(0.7)
    grey = np.full((8, 8, 3), 128, np.uint8)
    assert colourfulness(grey) == 0.0
    halves = np.zeros((8, 8, 3), np.uint8)
    halves[:, :4] = (255, 0, 0)
    halves[:, 4:] = (0, 0, 255)
    # rg = +255 / 0, yb = +127.5 / -255: std (127.5, 191.25), mean (127.5, -63.75)
    expected = np.hypot(127.5, 191.25) + 0.3 * np.hypot(127.5, 63.75)
    assert colourfulness(halves) == pytest.approx(expected)
