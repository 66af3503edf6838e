"""examples/datasets/prepare.py: dedupe, the hash split and composite frames, on generated images."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "examples" / "datasets" / "prepare.py"
_spec = importlib.util.spec_from_file_location("prepare", _PATH)
prepare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prepare)


def _picture(seed: int, h: int = 96, w: int = 128) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3)).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def test_dedupe_keeps_the_largest_copy():
    a, b = _picture(1), _picture(2)
    a_small = cv2.resize(a, (64, 48), interpolation=cv2.INTER_AREA)
    kept = prepare.dedupe([("a_small", a_small), ("a", a), ("b", b)])
    assert [k for k, _ in kept] == ["a", "b"]
    assert prepare.dhash(a) == prepare.dhash(a)


def test_holdout_split_is_stable_and_near_its_fraction():
    keys = [f"img_{i}" for i in range(4000)]
    held = [k for k in keys if prepare.is_holdout(k, 0.1)]
    assert 330 < len(held) < 470
    assert held == [k for k in keys if prepare.is_holdout(k, 0.1)]
    assert not any(prepare.is_holdout(k, 0.0) for k in keys[:100])


def test_composite_pastes_sprites_on_the_background():
    bg = np.full((200, 300, 3), 30, np.uint8)
    sprite = np.zeros((60, 60, 4), np.uint8)
    sprite[10:50, 10:50] = (250, 20, 20, 255)  # an opaque red square in a transparent frame
    assert prepare.is_sprite(sprite) and not prepare.is_opaque(sprite)
    out = prepare.composite(bg, [sprite], 120, np.random.default_rng(0))
    assert out.shape == (120, 180, 3)
    red = (out[..., 0] > 200) & (out[..., 1] < 60)
    assert red.sum() > 20  # at least one sprite landed
    assert (out[..., 1:] <= 30).all()  # only red and its blends with the grey background
    neutral = (out[..., 0] == out[..., 1]) & (out[..., 1] == out[..., 2])
    assert neutral.mean() > 0.5  # most of the frame is still the background...
    assert out[neutral].min() >= 29 and out[neutral].max() <= 30  # ...untouched by alpha-0 pixels


def test_reserved_package_is_refused(tmp_path):
    with pytest.raises(Exception, match="reserved as the independent test set"):
        prepare.fetch_package("opencv-doc", tmp_path)
