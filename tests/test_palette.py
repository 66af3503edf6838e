"""Palette-painted maps: the appearance's colour per seg label, and the mapping network built on it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lgan_video.imageops import to_tensor
from lgan_video.maps import MapConfig, extract_map, map_to_tensor
from lgan_video.maps.segment import seg_map
from lgan_video.models import MappingConfig
from lgan_video.models.mapping import MappingNetwork
from lgan_video.models.palette import paint, slot_palette
from lgan_video.training.run import config_differences


def _quadrants(colours: list[tuple[int, int, int]], side: int = 64) -> np.ndarray:
    """A (side, side, 3) uint8 picture of four flat quadrants."""
    img = np.zeros((side, side, 3), np.uint8)
    h = side // 2
    for (y, x), c in zip([(0, 0), (0, h), (h, 0), (h, h)], colours, strict=True):
        img[y:y + h, x:x + h] = c
    return img


def test_palette_rows_are_the_colours_of_the_labels():
    colours = [(20, 30, 160), (200, 40, 40), (90, 200, 90), (250, 240, 200)]
    img = _quadrants(colours)
    labels = seg_map(img, MapConfig(mode="seg", classes=4))[0]
    palette = slot_palette(to_tensor(img), 4)  # (1, 4, 3) in [-1, 1]
    assert palette.shape == (1, 4, 3)
    got = (palette[0].numpy() + 1) * 127.5
    for (y, x), c in zip([(8, 8), (8, 56), (56, 8), (56, 56)], colours, strict=True):
        assert np.abs(got[labels[y, x]] - c).max() < 4  # only boundary pixels may stray


def test_unused_labels_take_the_nearest_colour_at_their_lightness():
    grey = np.full((32, 32, 3), 128, np.uint8)  # one centre: label 3 of 8 (nearest 0.5 * 7)
    rows = (slot_palette(to_tensor(grey), 8)[0].numpy() + 1) * 127.5
    want = np.array([255 * k / 7 for k in range(8)])
    used = int(seg_map(grey, MapConfig(mode="seg", classes=8))[0][0, 0])
    want[used] = 128
    np.testing.assert_allclose(rows, np.repeat(want[:, None], 3, 1), atol=1e-3)


def test_one_slot_is_the_mean_colour():
    img = _quadrants([(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)])
    palette = slot_palette(to_tensor(img), 1)
    np.testing.assert_allclose((palette[0, 0].numpy() + 1) * 127.5, [63.75, 63.75, 63.75], atol=1e-3)


def test_paint_seg_and_edge_maps():
    cfg = MapConfig(mode="seg", classes=3)
    labels = np.array([[[0, 1], [2, 1]]], np.uint8)
    palette = torch.tensor([[[-1.0, -1, -1], [1, 0, -1], [0.5, 0.5, 0.5]]])
    out = paint(map_to_tensor(labels, cfg), palette)
    assert out.shape == (1, 3, 2, 2)
    assert out[0, :, 0, 0].tolist() == [-1, -1, -1]
    assert out[0, :, 0, 1].tolist() == [1, 0, -1] == out[0, :, 1, 1].tolist()
    assert out[0, :, 1, 0].tolist() == [0.5, 0.5, 0.5]
    edge = paint(torch.zeros(2, 1, 4, 5), torch.tensor([[[0.1, 0.2, 0.3]], [[0, 0, 0]]]))
    assert edge.shape == (2, 3, 4, 5) and edge[0, :, 3, 4].tolist() == pytest.approx([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="palette has 3 slots for maps with 4 channels"):
        paint(torch.zeros(1, 4, 2, 2), palette)


def test_palette_network_starts_as_the_painted_map_and_mixes_linearly():
    torch.manual_seed(0)
    cfg = MappingConfig(map_channels=4, style_dim=16, base_channels=8, n_down=2, n_blocks=1,
                        appearance_size=32, palette=True)
    assert cfg.style_length == 16 + 12
    net = MappingNetwork(cfg).eval()
    looks = [_quadrants([(20, 30, 160), (200, 40, 40), (90, 200, 90), (250, 240, 200)], 32),
             _quadrants([(0, 0, 0), (60, 60, 60), (255, 128, 0), (255, 255, 255)], 32)]
    mcfg = MapConfig(mode="seg", classes=4)
    maps = map_to_tensor(np.stack([seg_map(look, mcfg)[0] for look in looks]), mcfg)
    with torch.no_grad():
        style = net.encode_style(to_tensor(np.stack(looks)))
        out = net.translate(maps, style)
    assert style.shape == (2, 28)
    palette = style[:, 16:].unflatten(1, (4, 3))
    torch.testing.assert_close(palette, slot_palette(to_tensor(np.stack(looks)), 4))
    painted = paint(maps, palette).clamp(-0.98, 0.98)
    torch.testing.assert_close(out, painted, atol=1e-5, rtol=0)
    # each look painted from its own map comes back as itself (up to the tanh clamp)
    back = (out.permute(0, 2, 3, 1).numpy() + 1) * 127.5
    assert np.abs(back - np.stack(looks)).mean() < 5
    # a walk halfway between two looks paints with the mean of their palettes
    mid = (0.5 * (style[:1] + style[1:])).expand(2, -1)
    with torch.no_grad():
        halfway = net.translate(maps, mid)
    mean_palette = 0.5 * (palette[:1] + palette[1:])
    torch.testing.assert_close(halfway, paint(maps, mean_palette.expand(2, -1, -1)).clamp(-0.98, 0.98),
                               atol=1e-5, rtol=0)
    # the stem sees the painted map: its input has map + 3 channels
    assert net.stem[0][1].in_channels == 4 + 3


def test_runs_that_predate_the_palette_resume_without_it():
    old = {"task": "mapping", "mode": "seg", "network": {"style_dim": 64}}
    assert config_differences(old, {**old, "palette": False,
                                     "network": {"style_dim": 64, "palette": False,
                                                 "lightness": "lab"}}) == []
    diffs = config_differences(old, {**old, "palette": True,
                                     "network": {"style_dim": 64, "palette": True,
                                                 "lightness": "lab"}})
    assert diffs == ["palette: False -> True", "network.palette: False -> True"]


def test_palette_seed_walks_mix_the_seeds_looks(tmp_path, clip_mp4):
    """With a palette network, a walk through seeds is a walk through the seeds' G1 pictures as
    reference looks (palettes are not continuous in z): the same frames as --style with them."""
    import cv2

    from lgan_video.media import open_reader
    from lgan_video.render import load_pipeline, render
    from lgan_video.testing import TINY_G1, TINY_MAPPING, make_random_bundle

    bundle = make_random_bundle(tmp_path / "b", TINY_G1, {**TINY_MAPPING, "palette": True}, None,
                                modes=("seg",), classes=4, work_size=64)
    pipe = load_pipeline(bundle, device="cpu", precision="fp32")
    assert pipe.palette("seg")
    pictures = pipe.seed_pictures([3, 8])
    assert [p.shape for p in pictures] == [(32, 32, 3)] * 2 and pictures[0].dtype == np.uint8
    paths = [tmp_path / "s3.png", tmp_path / "s8.png"]
    for p, img in zip(paths, pictures, strict=True):
        cv2.imwrite(str(p), img[:, :, ::-1])
    kw = {"mode": "seg", "style_period": 0.5, "stabilize": 0.0, "overwrite": True, "quiet": True,
          "pipeline": pipe}
    render(clip_mp4, tmp_path / "seeds", seeds=(3, 8), **kw)
    render(clip_mp4, tmp_path / "refs", style=tuple(paths), **kw)
    render(clip_mp4, tmp_path / "first", seeds=(3,), **kw)
    with open_reader(tmp_path / "seeds") as a, open_reader(tmp_path / "refs") as b, \
            open_reader(tmp_path / "first") as c:
        seeds, refs, first = (np.stack(list(r)) for r in (a, b, c))
    assert seeds.shape == (12, 64, 86, 3)
    np.testing.assert_array_equal(seeds, refs)
    np.testing.assert_array_equal(seeds[0], first[0])  # the walk starts on the first seed
    assert np.abs(seeds[-1].astype(int) - first[-1]).mean() > 1  # and ends elsewhere


def test_edge_network_with_tones_paints_the_tones_and_ignores_the_edge_channel():
    torch.manual_seed(0)
    cfg = MappingConfig(map_channels=5, style_dim=16, base_channels=8, n_down=2, n_blocks=1,
                        appearance_size=32, palette=True, palette_slots=4)
    assert cfg.slots == 4 and cfg.style_length == 16 + 12
    net = MappingNetwork(cfg).eval()
    look = _quadrants([(20, 30, 160), (200, 40, 40), (90, 200, 90), (250, 240, 200)], 32)
    mcfg = MapConfig(mode="edge", edge_tones=4)
    maps = map_to_tensor(extract_map(look, mcfg), mcfg)
    with torch.no_grad():
        style = net.encode_style(to_tensor(look[None]))
        out = net.translate(maps, style)
        no_edges = net.translate(torch.cat([-torch.ones_like(maps[:, :1]), maps[:, 1:]], 1), style)
    palette = style[:, 16:].unflatten(1, (4, 3))
    torch.testing.assert_close(palette, slot_palette(to_tensor(look[None]), 4))
    painted = paint(maps[:, 1:], palette).clamp(-0.98, 0.98)
    torch.testing.assert_close(out, painted, atol=1e-5, rtol=0)  # at init: the tones painted
    torch.testing.assert_close(no_edges, out, atol=1e-5, rtol=0)  # edges only reach the stem
    assert net.stem[0][1].in_channels == 5 + 3
    back = (out[0].permute(1, 2, 0).numpy() + 1) * 127.5
    assert np.abs(back - look).mean() < 8
    with pytest.raises(ValueError, match="palette_slots must be in 0..map_channels"):
        MappingConfig(map_channels=1, palette_slots=2)


def test_runs_that_predate_edge_tones_resume_without_them():
    old = {"task": "mapping", "mode": "edge", "map": {"mode": "edge"}, "network": {"style_dim": 64}}
    new = {**old, "edge_tones": 0, "map": {"mode": "edge", "edge_tones": 0},
           "network": {"style_dim": 64, "palette_slots": 0}}
    assert config_differences(old, new) == []
    tones = {**old, "edge_tones": 4, "map": {"mode": "edge", "edge_tones": 4},
             "network": {"style_dim": 64, "palette_slots": 4}}
    assert config_differences(old, tones) == ["edge_tones: 0 -> 4", "map.edge_tones: 0 -> 4",
                                              "network.palette_slots: 0 -> 4"]


def test_edge_renders_with_tones_keep_the_inputs_light_and_dark(tmp_path, clip_mp4):
    """Plain edges carry no light and dark: an untrained palette network paints the look's flat
    mean colour. With tones it paints the frame's tones, so the render follows the input."""
    from lgan_video.media import open_reader
    from lgan_video.render import load_pipeline, render
    from lgan_video.testing import TINY_G1, TINY_MAPPING, make_random_bundle

    def luma(tones: int) -> tuple[np.ndarray, np.ndarray]:
        bundle = make_random_bundle(tmp_path / f"b{tones}", TINY_G1, {**TINY_MAPPING, "palette": True},
                                    None, modes=("edge",), work_size=64, edge_tones=tones)
        pipe = load_pipeline(bundle, device="cpu", precision="fp32")
        out = tmp_path / f"r{tones}.mp4"
        render(clip_mp4, out, mode="edge", pipeline=pipe, stabilize=0.0, ink=0.0, quiet=True)
        with open_reader(out) as r, open_reader(clip_mp4, size=64) as src:
            frames, inputs = np.stack(list(r)), np.stack(list(src))
        assert frames.shape == (12, 64, 86, 3)
        return frames.astype(float).mean(-1), inputs.astype(float).mean(-1)

    flat, inputs = luma(0)
    assert flat.std(axis=(1, 2)).max() < 1.5  # one colour per frame (up to the codec)
    toned, _ = luma(4)
    r = np.corrcoef(toned.ravel(), inputs.ravel())[0, 1]
    assert r > 0.6
