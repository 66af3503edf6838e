"""open_reader(): pixels, start/stride/max_frames/size, images, folders, corrupt input."""

from fractions import Fraction

import cv2
import numpy as np
import pytest
from PIL import Image

from lgan_video.errors import LganError
from lgan_video.media import open_reader, open_writer, read_batches


def _read(path, **kw):
    with open_reader(path, **kw) as r:
        return r, np.stack(list(r))


def _mae(a, b) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_mp4_frames_match_the_source(clip_mp4, clip_frames):
    r, frames = _read(clip_mp4)
    assert frames.shape == (12, 120, 160, 3) and frames.dtype == np.uint8
    assert r.expected_frames == 12 and r.fps == 12 and r.start_seconds == 0
    assert _mae(frames, clip_frames) < 6
    assert frames.flags.writeable


@pytest.mark.parametrize("start, first", [("0.5", 6), ("00:00.5", 6), ("3f", 3), (0.26, 4)])
def test_start_stride_and_limit_pick_the_right_frames(clip_mp4, clip_frames, start, first):
    r, frames = _read(clip_mp4, start=start, stride=2, max_frames=3)
    expected = clip_frames[first::2][:3]
    assert len(frames) == r.expected_frames == len(expected)
    assert r.fps == 6 and r.start_seconds == pytest.approx(first / 12)
    assert _mae(frames, expected) < 6
    # Each frame is closest to the intended source frame, not a neighbour.
    for f, i in zip(frames, range(first, 12, 2), strict=False):
        errs = [_mae(f, c) for c in clip_frames]
        assert int(np.argmin(errs)) == i


def test_size_resizes_short_side(clip_mp4, clip_frames):
    r, frames = _read(clip_mp4, size=60, max_frames=2)
    assert r.size == (80, 60) and frames.shape == (2, 60, 80, 3)
    small = cv2.resize(clip_frames[0], (80, 60), interpolation=cv2.INTER_AREA)
    assert _mae(frames[0], small) < 8


def test_gif_and_folder_readers(clip_gif, frames_dir, clip_frames):
    _, gif = _read(clip_gif, start="2f", stride=5)
    assert gif.shape == (2, 120, 160, 3)                      # frames 2 and 7
    assert _mae(gif, clip_frames[[2, 7]]) < 12                # ffmpeg's fixed GIF palette
    r, folder = _read(frames_dir, start=0.25, max_frames=4, size=60)
    assert r.start_seconds == 0.25 and r.fps == 24            # frame 6 of a 24 fps folder
    small = [cv2.resize(f, (80, 60), interpolation=cv2.INTER_AREA) for f in clip_frames[6:10]]
    np.testing.assert_array_equal(folder, np.stack(small))
    with pytest.raises(LganError, match="past the end"):
        open_reader(frames_dir, start=0.5)                    # frame 12 of 12


def test_folder_is_read_in_natural_order(frames_dir, clip_frames):
    _, frames = _read(frames_dir)
    np.testing.assert_array_equal(frames, clip_frames)       # f2 before f10


def test_folder_with_mixed_sizes_names_the_file(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a1.png")
    Image.new("RGB", (9, 8)).save(tmp_path / "a2.png")
    with pytest.raises(LganError, match=r"a2\.png is 9x8 but the first frame is 8x8"):
        _read(tmp_path)


def test_images_become_uint8_rgb(tmp_path):
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255                                      # top opaque red, bottom transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    _, f = _read(tmp_path / "alpha.png")
    assert f.shape == (1, 4, 6, 3)
    assert f[0, 0, 0].tolist() == [200, 0, 0] and f[0, 3, 0].tolist() == [255, 255, 255]
    gray16 = (np.arange(24, dtype=np.uint16).reshape(4, 6) * 2000)
    cv2.imwrite(str(tmp_path / "g16.png"), gray16)
    _, g = _read(tmp_path / "g16.png")
    assert g.dtype == np.uint8 and g[0, 0, 0].tolist() == [0, 0, 0]
    assert g[0, 3, 5].tolist() == [179] * 3                   # 46000 / 257 = 179
    rgb16 = np.full((4, 6, 3), 65535, np.uint16)
    rgb16[..., 0] = 0                                         # BGR: blue 0
    cv2.imwrite(str(tmp_path / "c16.png"), rgb16)
    assert _read(tmp_path / "c16.png")[1][0, 0, 0].tolist() == [255, 255, 0]
    Image.fromarray(np.full((4, 6), 77, np.uint8), "L").save(tmp_path / "gray.jpg", quality=100)
    assert _read(tmp_path / "gray.jpg")[1][0, 0, 0].tolist() == [77, 77, 77]


def test_read_batches(clip_mp4):
    with open_reader(clip_mp4) as r:
        shapes = [b.shape for b in read_batches(r, 5)]
    assert shapes == [(5, 120, 160, 3), (5, 120, 160, 3), (2, 120, 160, 3)]


def test_stopping_early_kills_the_decoder(clip_mp4):
    with open_reader(clip_mp4) as r:
        it = iter(r)
        next(it)
        proc = r._proc
        assert proc is not None and proc.poll() is None
    assert proc.poll() is not None and r._proc is None


def test_reader_memory_is_streaming(tmp_path):
    # 240 frames of 320x240 (55 MB decoded) must not be held at once: the pipe delivers one by one.
    import tracemalloc

    src = tmp_path / "long.mp4"
    frame = np.zeros((240, 320, 3), np.uint8)
    with open_writer(src, 24, quality=10) as w:
        for i in range(240):
            frame[:, :, 0] = i
            w.write(frame)
    tracemalloc.start()
    with open_reader(src) as r:
        n = sum(1 for _ in r)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 240 and peak < 5 * 320 * 240 * 3


def test_start_past_the_end_and_bad_options(clip_mp4):
    with pytest.raises(LganError, match="past the end"):
        open_reader(clip_mp4, start="12f")
    with pytest.raises(LganError, match="past the end"):
        open_reader(clip_mp4, start=5)
    with pytest.raises(LganError, match="invalid stride"):
        open_reader(clip_mp4, stride=0)


def test_truncated_video_says_where_decoding_stopped(tmp_path, clip_frames):
    src = tmp_path / "long.mp4"
    with open_writer(src, 12) as w:                           # faststart: the index is first
        for f in np.concatenate([clip_frames] * 4):
            w.write(f)
    data = src.read_bytes()
    bad = tmp_path / "truncated.mp4"
    bad.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(LganError) as e:
        _read(bad)
    msg = str(e.value)
    assert "\n" not in msg and "truncated.mp4" in msg
    assert "corrupt or truncated video: decoding failed after frame" in msg


def test_ntsc_reader_fps(tmp_path, clip_frames):
    src = tmp_path / "n.mp4"
    with open_writer(src, Fraction(30000, 1001)) as w:
        for f in clip_frames:
            w.write(f)
    r, frames = _read(src, stride=3)
    assert r.fps == Fraction(10000, 1001) and len(frames) == 4
