"""The one resize policy and the training preprocessing on known patterns: known pixels out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lgan_video.resize import (
    center_crop,
    crop_to_multiple,
    ffmpeg_flags,
    resize,
    resize_short,
    scaled_size,
    sr_lowres,
)


def _columns(values, height: int) -> np.ndarray:
    """uint8 RGB ``(height, len(values), 3)`` whose column ``j`` is grey ``values[j]``."""
    row = np.asarray(values, np.uint8)[None, :, None]
    return np.ascontiguousarray(np.tile(row, (height, 1, 3)))


GRADIENT = _columns(np.arange(16) * 16, 8)  # 16x8, column j = 16 j


def test_shrinking_averages_areas():
    # Columns 0, 255, 0, 255, ...: area averaging gives 127.5 -> 128 everywhere (nearest: 0 or 255).
    stripes = _columns([0, 255] * 4, 8)
    assert np.all(resize(stripes, (4, 4)) == 128)
    # A gradient halved: each output column is the mean of two inputs, 16 (2j) + 8.
    out = resize_short(GRADIENT, 4)
    assert out.shape == (4, 8, 3)
    assert out[0, :, 0].tolist() == [8, 40, 72, 104, 136, 168, 200, 232]
    assert np.all(out == out[:1, :, :1])  # rows and channels alike


def test_growing_is_bicubic():
    checker = np.array([[0, 255], [255, 0]], np.uint8)[:, :, None].repeat(3, axis=2)
    out = resize(checker, (4, 4))[:, :, 0]
    # Bicubic overshoots towards the far pixel (nearest would repeat 0 0 255 255).
    assert out.tolist() == [[0, 43, 212, 255], [43, 89, 166, 212],
                            [212, 166, 89, 43], [255, 212, 43, 0]]
    assert resize_short(checker, 2) is checker  # already the size: untouched


def test_frame_and_training_sizes():
    assert scaled_size(160, 120, 64) == (86, 64)  # frames: long side even
    assert scaled_size(30, 500, 64) == (64, 1066)
    assert resize_short(np.zeros((120, 160, 3), np.uint8), 64).shape == (64, 85, 3)  # nearest px
    assert ffmpeg_flags((160, 120), (86, 64)) == "area"
    assert ffmpeg_flags((160, 120), (320, 240)) == "bicubic"


def test_center_crop_and_multiple():
    img = _columns(np.arange(10) * 10, 6)  # 10x6
    assert center_crop(img, 4)[0, :, 0].tolist() == [30, 40, 50, 60]
    assert center_crop(img, 4).shape == (4, 4, 3)
    assert crop_to_multiple(np.zeros((7, 11, 3), np.uint8), 3).shape == (6, 9, 3)


def test_sr_low_resolution_rule():
    hr = _columns(np.arange(8) * 32, 8)  # 8x8, column j = 32 j
    lr = sr_lowres(hr, 2)
    # Antialiased bicubic (MATLAB imresize): not the plain pair means 16, 80, 144, 208.
    assert lr[0, :, 0].tolist() == [17, 79, 145, 207] and np.all(lr == lr[:1, :, :1])
    # The plain kernel (mixed into real-frame degradations) samples without a prefilter.
    assert sr_lowres(hr, 2, antialias=False)[0, :, 0].tolist() == [13, 80, 144, 211]
    # A side that is not a multiple of the scale loses its last row/column first.
    ragged = np.pad(hr, ((0, 1), (0, 1), (0, 0)), mode="edge")
    assert np.array_equal(sr_lowres(ragged, 2), lr)


# --- the training sets use exactly that policy --------------------------------------------------

def _source(*images):
    from lgan_video.training.data import Source

    return Source(Path("."), list(images), [f"img{i}" for i in range(len(images))])


def test_g1_sample_is_resized_then_center_cropped():
    from lgan_video.training.datasets import G1Dataset

    sample = G1Dataset(_source(GRADIENT), resolution=4, seed=0)[(0, 0)]
    # 16x8 -> 8x4 (columns 8, 40, ..., 232) -> central 4x4, maybe mirrored.
    assert sample[0, :, 0].tolist() in ([72, 104, 136, 168], [168, 136, 104, 72])
    assert np.all(sample == sample[:1, :, :1])


def test_mapping_eval_sample_known_pixels():
    from lgan_video.maps import MapConfig
    from lgan_video.training.datasets import MappingDataset

    ds = MappingDataset(_source(GRADIENT), 4, MapConfig(mode="edge"), 8, seed=0, train=False)
    item = ds[(0, 0)]
    assert item["target"][0, :, 0].tolist() == [72, 104, 136, 168]
    assert item["appearance"].shape == (8, 8, 3)
    assert item["appearance"][3, :, 0].tolist() == [8, 40, 72, 104, 136, 168, 200, 232]
    assert item["map"].shape == (4, 4)


def test_sr_pairs_follow_the_low_resolution_rule():
    from lgan_video.training.datasets import SRDataset

    big = _columns(np.arange(32) * 8, 32)
    ds = SRDataset(_source(big), patch=9, scale=2, seed=3, degrade=False)
    pair = ds[(0, 0)]
    assert pair["hr"].shape == (8, 8, 3)  # patch rounded down to a multiple of the scale
    assert np.array_equal(pair["lr"], sr_lowres(pair["hr"], 2))


@pytest.mark.parametrize("scale", [2, 3])
def test_sr_eval_crops_and_lowres_agree(scale):
    from lgan_video.training.sr import eval_crops

    crops = eval_crops(_source(GRADIENT, GRADIENT), [0, 1], 6, scale)
    assert crops.shape[1] % scale == 0 and crops.shape[1] == crops.shape[2]
    assert sr_lowres(crops[0], scale).shape[0] * scale == crops.shape[1]
