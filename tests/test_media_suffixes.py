"""One list of media suffixes: a folder of .tif frames probes, renders, batches and trains alike."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lgan_video.media.suffixes import CLIP_SUFFIXES, IMAGE_SUFFIXES, VIDEO_SUFFIXES


@pytest.fixture()
def tif_frames(tmp_path, clip_frames):
    folder = tmp_path / "clips" / "tifs"
    folder.mkdir(parents=True)
    for i, frame in enumerate(clip_frames[:3], start=1):
        assert cv2.imwrite(str(folder / f"f{i}.tif"), np.ascontiguousarray(frame[:, :, ::-1]))
    return folder


def test_the_lists():
    assert {".tif", ".tiff", ".png", ".jpg"} <= set(IMAGE_SUFFIXES)
    assert set(CLIP_SUFFIXES) == set(VIDEO_SUFFIXES) | {".gif"}
    assert all(s == s.lower() and s.startswith(".") for s in IMAGE_SUFFIXES + CLIP_SUFFIXES)


def test_tif_folder_probes_renders_batches_and_trains(tif_frames, tiny_bundle, tmp_path,
                                                      clip_frames):
    from lgan_video.batch import plan_batch
    from lgan_video.media import open_reader, probe
    from lgan_video.render import render
    from lgan_video.training.data import scan_source

    info = probe(tif_frames)
    assert (info.kind, info.frame_count, info.width, info.height) == ("folder", 3, 160, 120)
    with open_reader(tif_frames) as reader:
        assert np.array_equal(next(iter(reader)), clip_frames[0])  # TIFF is lossless
    result = render(tif_frames, tmp_path / "out.gif", model=tiny_bundle, device="cpu",
                    quiet=True)
    assert result.frames == 3 and result.size == (172, 128)  # 86x64 work size, x2
    jobs = plan_batch(tif_frames.parent, tmp_path / "out")
    assert [j.input.name for j in jobs] == ["tifs"]
    assert len(scan_source(tif_frames)) == 3
