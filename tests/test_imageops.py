"""The one uint8 <-> [-1, 1] conversion: exact round trips, rounding, clipping, layouts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lgan_video.imageops import to_tensor, to_uint8


def test_round_trip_is_exact_for_all_256_values():
    x = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    t = to_tensor(x)
    assert t.shape == (1, 3, 16, 16) and t.dtype == torch.float32
    assert t.min().item() == -1.0 and t.max().item() == 1.0
    assert np.array_equal(to_uint8(t)[0], x)
    # float16 keeps 11 significant bits: still exact after rounding to nearest.
    assert np.array_equal(to_uint8(to_tensor(x, dtype=torch.float16))[0], x)


def test_rounds_to_nearest_and_clips():
    # 100.4 and 100.6 grey levels in [-1, 1]: nearest is 100 and 101 (flooring gives 100, 100).
    levels = torch.tensor([100.4, 100.6, 254.7, 0.3]) / 127.5 - 1.0
    out = to_uint8(levels.view(1, 1, 1, 4).expand(1, 3, 1, 4))
    assert out[0, 0, :, 0].tolist() == [100, 101, 255, 0]
    assert to_uint8(torch.tensor([-3.0, 3.0]).view(1, 1, 1, 2).expand(1, 3, 1, 2))[0, 0, :, 1].tolist() == [0, 255]


def test_layouts_and_channels():
    rgb = np.zeros((2, 3, 4, 3), np.uint8)
    rgb[..., 0] = 255  # red
    t = to_tensor(rgb)
    assert t.shape == (2, 3, 3, 4)
    assert t[:, 0].eq(1).all() and t[:, 1:].eq(-1).all()  # channel order kept
    assert to_uint8(t).shape == (2, 3, 4, 3)
    with pytest.raises(TypeError, match="uint8"):
        to_tensor(rgb.astype(np.float32))
