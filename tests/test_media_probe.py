"""probe(): kinds, exact rates, counts, rotation, audio, and one-line errors."""

import json
import subprocess
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from lgan_video.errors import LganError
from lgan_video.media import DEFAULT_FPS, open_reader, probe


def test_probe_mp4(clip_mp4):
    info = probe(clip_mp4)
    assert (info.kind, info.width, info.height) == ("video", 160, 120)
    assert (info.fps, info.frame_count, info.rotation, info.has_audio) == (12, 12, 0, False)
    assert info.duration == pytest.approx(1.0, abs=0.01)
    d = json.loads(json.dumps(info.to_dict()))
    assert d["fps"] == "12/1" and d["fps_float"] == 12.0 and d["frame_count"] == 12


def test_probe_mp4_with_audio_and_a_space_in_the_name(clip_mp4_audio):
    info = probe(clip_mp4_audio)
    assert " " in clip_mp4_audio.name
    assert info.has_audio and info.frame_count == 12


@pytest.mark.parametrize("name, codec, rate", [
    ("c.avi", ("-c:v", "mjpeg", "-q:v", "3"), Fraction(25, 2)),
    ("c.mkv", ("-c:v", "libx264", "-pix_fmt", "yuv420p"), Fraction(30000, 1001)),
    ("c.mov", ("-c:v", "libx264", "-pix_fmt", "yuv420p"), Fraction(24000, 1001)),
    ("c.webm", ("-c:v", "libvpx", "-b:v", "1M"), Fraction(15)),
])
def test_containers_report_exact_rates_and_counts(tmp_path, make_clip, clip_frames, name, codec,
                                                  rate):
    path = make_clip(tmp_path / name, clip_frames, fps=f"{rate.numerator}/{rate.denominator}",
                     codec=codec)
    info = probe(path)
    assert (info.kind, info.fps, info.frame_count) == ("video", rate, 12)
    with open_reader(path) as r:
        assert sum(1 for _ in r) == 12


def test_rotation_is_applied(tmp_path, clip_mp4, clip_frames):
    import imageio_ffmpeg

    rotated = tmp_path / "rot.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-display_rotation:v:0",
                    "90", "-i", str(clip_mp4), "-c", "copy", str(rotated)], check=True)
    info = probe(rotated)
    assert (info.rotation, info.width, info.height) == (90, 120, 160)
    with open_reader(rotated, max_frames=1) as r:
        frame = next(iter(r))
    assert r.size == (120, 160) and frame.shape == (160, 120, 3)
    # 90 degrees counter-clockwise, like np.rot90.
    err = np.abs(frame.astype(int) - np.rot90(clip_frames[0]).astype(int)).mean()
    assert err < 6


def test_probe_gif_folder_and_image(clip_gif, frames_dir, tmp_path):
    gif = probe(clip_gif)
    assert (gif.kind, gif.frame_count, gif.fps, gif.width, gif.height) == ("gif", 12, 12, 160, 120)
    assert gif.duration == pytest.approx(1.0)
    folder = probe(frames_dir)
    assert (folder.kind, folder.frame_count, folder.fps) == ("folder", 12, DEFAULT_FPS)
    assert folder.duration == pytest.approx(12 / 24)
    Image.new("RGB", (33, 17), (1, 2, 3)).save(tmp_path / "one.jpg")
    img = probe(tmp_path / "one.jpg")
    assert (img.kind, img.frame_count, img.width, img.height) == ("image", 1, 33, 17)


def test_single_frame_gif_is_an_image(tmp_path):
    Image.new("RGB", (8, 6), (255, 0, 0)).save(tmp_path / "still.gif")
    assert probe(tmp_path / "still.gif").kind == "image"


def _error(path) -> str:
    with pytest.raises(LganError) as e:
        probe(path)
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg
    return msg


def test_bad_inputs_give_one_line_errors(tmp_path, make_clip, clip_frames):
    assert "no such file" in _error(tmp_path / "missing.mp4")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    assert "no images" in _error(tmp_path / "empty")
    (tmp_path / "text.mp4").write_text("not a video\n")
    assert "not a readable video" in _error(tmp_path / "text.mp4")
    (tmp_path / "text.png").write_text("not an image\n")
    assert "not a readable image" in _error(tmp_path / "text.png")
    sound = make_clip(tmp_path / "sound.mp4", clip_frames[:1], audio="sine=d=0.5",
                      codec=("-vn",))
    assert "no video stream" in _error(sound)
    # moov atom at the end (plain ffmpeg output) and the file cut short: unreadable.
    full = make_clip(tmp_path / "full.mp4", clip_frames).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(full[: len(full) // 2])
    assert "not a readable video" in _error(tmp_path / "cut.mp4")
