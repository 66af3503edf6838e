"""Structure maps: edge/seg extraction, temporal stabilization, tensors, previews, config."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import cv2
import numpy as np
import pytest
import torch

from lgan_video.errors import LganError
from lgan_video.maps import (
    MapConfig,
    MapExtractor,
    canny_thresholds,
    extract_map,
    map_preview,
    map_to_tensor,
    palette,
    tensor_to_map,
)
from lgan_video.synthetic import scene_array

EDGE = MapConfig(mode="edge")
SEG = MapConfig(mode="seg")


def _rectangle_image(h: int = 64, w: int = 80) -> np.ndarray:
    # A dark filled rectangle, rows 16..47 and columns 20..59, on a light flat background.
    img = np.full((h, w, 3), 200, np.uint8)
    img[16:48, 20:60] = 40
    return img


def _distance_to_rectangle_border(h: int = 64, w: int = 80) -> np.ndarray:
    outline = np.full((h, w), 255, np.uint8)
    cv2.rectangle(outline, (20, 16), (59, 47), 0, 1)
    return cv2.distanceTransform(outline, cv2.DIST_L2, 3)


def _noisy_sequence(base: np.ndarray, n: int, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frames = [base + rng.normal(0.0, sigma, base.shape) for _ in range(n)]
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)


def _changed_fraction(cfg: MapConfig, frames: np.ndarray) -> float:
    extractor = MapExtractor(cfg)
    maps = np.stack([extractor(f) for f in frames])
    return float((maps[1:] != maps[:-1]).mean())


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# --- edges -------------------------------------------------------------------------------------


def test_edge_map_is_binary_and_outlines_a_rectangle():
    edges = extract_map(_rectangle_image(), EDGE)
    assert edges.shape == (64, 80) and edges.dtype == np.uint8
    assert set(np.unique(edges)) == {0, 255}
    dist = _distance_to_rectangle_border()
    on = edges == 255
    assert dist[on].max() <= 2.0  # every edge pixel hugs the rectangle's border
    assert not on[dist > 3].any()  # nothing in the flat areas
    border = dist == 0
    near_edge = cv2.dilate(on.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert near_edge[border].mean() > 0.95  # and the whole outline is found


def test_flat_and_dark_noisy_images_give_no_edges():
    assert extract_map(np.full((48, 64, 3), 128, np.uint8), EDGE).max() == 0
    rng = np.random.default_rng(1)
    dark = np.clip(12 + rng.normal(0, 3, (48, 64, 3)), 0, 255).astype(np.uint8)
    assert extract_map(dark, EDGE).max() == 0  # the threshold floor keeps sensor noise out


def test_thickness_dilates_the_lines():
    thin = extract_map(_rectangle_image(), EDGE) > 0
    thick = extract_map(_rectangle_image(), MapConfig(thickness=3)) > 0
    assert thick[thin].all() and thick.sum() > 2 * thin.sum()


def test_canny_thresholds_follow_the_median_rule():
    values = np.array([10, 50, 100, 120, 130, 200, 250], np.uint8)  # median 120
    img = np.tile(values, (3, 1))
    assert canny_thresholds(img, EDGE) == pytest.approx((0.67 * 120, 1.33 * 120))
    cfg = MapConfig(canny_sigma=0.5, canny_floor=30.0)
    assert canny_thresholds(np.full((5, 5), 40, np.uint8), cfg) == pytest.approx((30.0, 60.0))
    assert canny_thresholds(np.full((5, 5), 240, np.uint8), EDGE) == pytest.approx((160.8, 255))
    rng = np.random.default_rng(0)
    odd = rng.integers(0, 256, (7, 9), dtype=np.uint8)
    lo, _ = canny_thresholds(odd, MapConfig(canny_sigma=0.0, canny_floor=0.0))
    assert lo == float(np.median(odd))


def test_gradient_rule_finds_edges_the_median_rule_misses():
    """A soft step between two bright greys: the median rule's thresholds (about 220) are above
    the step's gradient (Sobel L2: 4 x 30 = 120); the percentile rule seeds edges on it."""
    img = np.full((40, 40, 3), 150, np.uint8)
    img[:, 20:] = 180
    median = extract_map(img, EDGE) > 0
    gradient_cfg = MapConfig(canny_percentile=85.0)
    gradient = extract_map(img, gradient_cfg) > 0
    assert median.sum() == 0
    assert gradient[:, 19:21].any(axis=1).all() and gradient.sum() == gradient[:, 19:21].sum()
    # flat almost everywhere: the 85th percentile is 0, so the floor sets hi and lo = 0.4 hi
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    assert canny_thresholds(gray, gradient_cfg) == pytest.approx((8.0, 20.0))
    ramp = np.tile(np.arange(0, 200, 2, dtype=np.uint8), (10, 1))  # gradient 4 x 2 = 8 inside
    mag = np.hypot(cv2.Sobel(ramp, cv2.CV_32F, 1, 0), cv2.Sobel(ramp, cv2.CV_32F, 0, 1))
    cfg = MapConfig(canny_percentile=50.0, canny_floor=0.0)
    assert canny_thresholds(ramp, cfg) == pytest.approx((0.4 * np.percentile(mag, 50), np.percentile(mag, 50)))
    with pytest.raises(LganError, match="canny_percentile must be a number in"):
        MapConfig(canny_percentile=100.0)


# --- segmentation ------------------------------------------------------------------------------

PATCHES = [(20, 20, 20), (200, 30, 30), (40, 160, 60), (250, 250, 250)]  # by luminance


def _patch_image(colours=PATCHES, size: int = 32) -> np.ndarray:
    return np.concatenate([np.full((size, size, 3), c, np.uint8) for c in colours], axis=1)


def _patch_labels(labels: np.ndarray, n: int, size: int = 32) -> list[int]:
    # The label of each patch's interior, asserting the interior is uniform.
    out = []
    for i in range(n):
        inner = labels[6:-6, i * size + 6 : (i + 1) * size - 6]
        assert len(np.unique(inner)) == 1
        out.append(int(inner[0, 0]))
    return out


def test_seg_labels_are_in_range_and_ordered_by_luminance():
    labels = extract_map(_patch_image(), SEG)
    assert labels.shape == (32, 128) and labels.dtype == np.uint8
    assert labels.max() < SEG.classes
    found = _patch_labels(labels, 4)
    assert found == sorted(found) and len(set(found)) == 4  # dark -> low label, bright -> high
    exact = extract_map(_patch_image(), MapConfig(mode="seg", classes=4))
    assert _patch_labels(exact, 4) == [0, 1, 2, 3]


def test_seg_labels_follow_absolute_luminance_when_few_colours():
    cfg = MapConfig(mode="seg", classes=8)
    two = extract_map(_patch_image([(0, 0, 0), (255, 255, 255)]), cfg)
    assert _patch_labels(two, 2) == [0, 7]
    shuffled = extract_map(_patch_image([PATCHES[3], PATCHES[1], PATCHES[0], PATCHES[2]]), cfg)
    ordered = _patch_labels(extract_map(_patch_image(), cfg), 4)
    assert _patch_labels(shuffled, 4) == [ordered[3], ordered[1], ordered[0], ordered[2]]


@pytest.mark.parametrize("temporal", [0.0, 0.5])
def test_seg_background_keeps_its_label_in_a_moving_scene(temporal):
    frames = scene_array(8, 160, 120, seed=0)
    extractor = MapExtractor(MapConfig(mode="seg", temporal=temporal))
    seen = set()
    for frame in frames:
        labels = extractor(frame)
        white = (frame == 255).all(axis=2).astype(np.uint8)
        background = cv2.erode(white, np.ones((9, 9), np.uint8)).astype(bool)
        assert background.sum() > 0.3 * background.size
        seen |= set(np.unique(labels[background]).tolist())
    assert seen == {SEG.classes - 1}  # white is the brightest colour, every frame


# --- determinism and temporal stabilization ----------------------------------------------------


@pytest.mark.parametrize("mode", ["edge", "seg"])
def test_maps_are_deterministic(mode):
    frames = _noisy_sequence(scene_array(1, 96, 72, seed=2)[0].astype(np.float32), 4, 6.0, 0)
    cfg = MapConfig(mode=mode, temporal=0.5)
    assert _sha(extract_map(frames[0], cfg)) == _sha(extract_map(frames[0].copy(), cfg))
    runs = [_sha(np.stack([e(f) for f in frames])) for e in (MapExtractor(cfg), MapExtractor(cfg))]
    assert runs[0] == runs[1]


@pytest.mark.parametrize("mode", ["edge", "seg"])
def test_extractor_without_temporal_equals_extract_map(mode):
    frames = scene_array(4, 96, 72, seed=3)
    plain = MapExtractor(MapConfig(mode=mode))
    for f in frames:
        np.testing.assert_array_equal(plain(f), extract_map(f, MapConfig(mode=mode)))
    cfg = MapConfig(mode=mode, temporal=0.7)
    smooth = MapExtractor(cfg)
    np.testing.assert_array_equal(smooth(frames[0]), extract_map(frames[0], cfg))
    smooth(frames[1])
    smooth.reset()
    np.testing.assert_array_equal(smooth(frames[3]), extract_map(frames[3], cfg))
    assert smooth(frames[0][:40]).shape == (40, 96)  # a new frame size starts afresh


def _textured_gray(size: int = 96, amplitude: float = 30.0) -> np.ndarray:
    field = np.random.default_rng(5).normal(0.0, 1.0, (size, size)).astype(np.float32)
    field = cv2.GaussianBlur(field, (0, 0), 2.0)
    return np.repeat((128 + field / field.std() * amplitude)[..., None], 3, axis=2)


@pytest.mark.parametrize("mode", ["edge", "seg"])
def test_temporal_stabilization_reduces_flicker(mode):
    frames = _noisy_sequence(_textured_gray(), 10, 6.0, seed=7)
    without = _changed_fraction(MapConfig(mode=mode), frames)
    with_temporal = _changed_fraction(MapConfig(mode=mode, temporal=0.7), frames)
    assert without > 0.01  # the noise does make the maps flicker
    assert with_temporal < 0.7 * without


# --- tensors and previews ----------------------------------------------------------------------


def test_edge_maps_to_tensor_and_back():
    maps = np.stack([extract_map(_rectangle_image(), EDGE), np.zeros((64, 80), np.uint8)])
    t = map_to_tensor(maps, EDGE, dtype=torch.float64)
    assert t.shape == (2, 1, 64, 80) and t.dtype == torch.float64
    assert set(torch.unique(t).tolist()) == {-1.0, 1.0}
    assert (t[1] == -1).all() and int((t[0] == 1).sum()) == int((maps[0] == 255).sum())
    np.testing.assert_array_equal(tensor_to_map(t, EDGE), maps)
    assert map_to_tensor(maps[0], EDGE).shape == (1, 1, 64, 80)


def test_seg_maps_to_one_hot_and_back():
    cfg = MapConfig(mode="seg", classes=5)
    maps = np.random.default_rng(0).integers(0, 5, (3, 8, 12)).astype(np.uint8)
    t = map_to_tensor(maps, cfg)
    assert t.shape == (3, 5, 8, 12) and t.dtype == torch.float32
    assert set(torch.unique(t).tolist()) == {-1.0, 1.0}
    assert (t.sum(dim=1) == 2 - 5).all()  # exactly one +1 per pixel
    assert (t.argmax(dim=1).numpy() == maps).all()
    np.testing.assert_array_equal(tensor_to_map(t, cfg), maps)
    np.testing.assert_array_equal(tensor_to_map(t * 3.7 + 0.2, cfg), maps)  # logits work too
    with pytest.raises(LganError, match="label 5"):
        map_to_tensor(np.full((4, 4), 5, np.uint8), cfg)
    with pytest.raises(LganError, match=r"\(B, 5, H, W\)"):
        tensor_to_map(torch.zeros(1, 4, 8, 8), cfg)


def test_map_preview_draws_dark_edges_and_palette_colours():
    edges = extract_map(_rectangle_image(), EDGE)
    view = map_preview(edges, EDGE)
    assert view.shape == (64, 80, 3) and view.dtype == np.uint8
    assert (view[edges == 255] == 0).all() and (view[edges == 0] == 255).all()
    labels = np.arange(8, dtype=np.uint8).reshape(2, 4)
    colours = map_preview(labels, SEG)
    assert colours.shape == (2, 4, 3)
    np.testing.assert_array_equal(colours.reshape(8, 3), palette(8))
    assert len({tuple(c) for c in palette(32)}) == 32
    with pytest.raises(LganError):
        map_preview(np.full((2, 2), 8, np.uint8), SEG)


# --- config and bad input ----------------------------------------------------------------------


def test_map_config_round_trips_through_json():
    cfg = MapConfig(mode="seg", classes=12, temporal=0.4, seg_smooth=3, color_space="rgb")
    assert MapConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.channels == 12 and EDGE.channels == 1
    assert MapConfig.from_dict({"mode": "seg"}) == SEG
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.classes = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "bad",
    [
        {"mode": "depth"},
        {"colour": 1},
        {"classes": 1},
        {"classes": 8.0},
        {"canny_sigma": 1.5},
        {"temporal": 1.0},
        {"temporal": float("nan")},
        {"thickness": 0},
        {"blur_kernel": 4},
        {"seg_smooth": 4},
        {"seg_size": True},
        {"color_space": "hsv"},
    ],
)
def test_map_config_rejects_bad_values(bad):
    with pytest.raises(LganError) as err:
        MapConfig.from_dict(bad)
    assert "\n" not in str(err.value) and str(next(iter(bad))) in str(err.value)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((8, 8, 3), np.float32),
        np.zeros((8, 8), np.uint8),
        np.zeros((8, 8, 4), np.uint8),
        [[0, 0, 0]],
    ],
)
def test_bad_images_raise_one_line_errors(image):
    for call in (lambda: extract_map(image, SEG), lambda: MapExtractor(EDGE)(image)):
        with pytest.raises(LganError) as err:
            call()
        assert "\n" not in str(err.value)


# --- edge maps with tones ----------------------------------------------------------------------

TONES = MapConfig(mode="edge", edge_tones=4)


def test_edge_map_with_tones_is_the_seg_tones_plus_the_edge_bit():
    img = scene_array(1, 96, 72, seed=4)[0]
    m = extract_map(img, TONES)
    edges = extract_map(img, EDGE)
    tones = extract_map(img, MapConfig(mode="seg", classes=4))
    np.testing.assert_array_equal(m & 127, tones)
    np.testing.assert_array_equal(m >= 128, edges == 255)
    assert 0.01 < (m >= 128).mean() < 0.5 and len(np.unique(tones)) >= 3
    assert TONES.channels == 5 and TONES.slots == 4 and EDGE.slots == 1 and SEG.slots == 8
    assert TONES.tone_config() == MapConfig(mode="seg", classes=4)
    # a video: frame by frame (temporal 0) the same bytes; temporal state per part
    frames = scene_array(3, 96, 72, seed=5)
    plain = MapExtractor(TONES)
    for f in frames:
        np.testing.assert_array_equal(plain(f), extract_map(f, TONES))
    cfg = dataclasses.replace(TONES, temporal=0.5)
    smooth = MapExtractor(cfg)
    np.testing.assert_array_equal(smooth(frames[0]), extract_map(frames[0], cfg))
    second = smooth(frames[1])
    assert second.shape == (72, 96) and (second & 127).max() <= 3


def test_edge_maps_with_tones_to_tensor_preview_and_back():
    maps = np.array([[[0, 1, 130], [131, 3, 2]]], np.uint8)
    t = map_to_tensor(maps, TONES)
    assert t.shape == (1, 5, 2, 3)
    assert t[0, 0].tolist() == [[-1, -1, 1], [1, -1, -1]]  # the edge channel
    assert t[0, 1:].argmax(0).tolist() == [[0, 1, 2], [3, 3, 2]]  # the tones, one-hot
    assert (t[0, 1:].sum(0) == 2 - 4).all()
    np.testing.assert_array_equal(tensor_to_map(t, TONES), maps)
    view = map_preview(maps[0], TONES)
    assert view[..., 0].tolist() == [[64, 128, 0], [0, 255, 191]]  # black edges over grey tones
    with pytest.raises(LganError, match="edge map tone 4 is out of range: the config has 4"):
        map_to_tensor(np.full((2, 2), 132, np.uint8), TONES)
    with pytest.raises(LganError, match="edge_tones must be 0"):
        MapConfig(mode="edge", edge_tones=1)
