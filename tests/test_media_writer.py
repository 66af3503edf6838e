"""Writers: round trips keep frame count, fps and pixels; audio muxing; atomic outputs."""

from fractions import Fraction

import numpy as np
import pytest

from lgan_video.errors import LganError
from lgan_video.media import audio_duration, check_output, open_reader, open_writer, probe


def _write(path, frames, fps=12, **kw):
    with open_writer(path, fps, **kw) as w:
        for f in frames:
            w.write(f)
    return w


def _read(path, **kw) -> np.ndarray:
    with open_reader(path, **kw) as r:
        return np.stack(list(r))


def _mae(a, b) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_mp4_round_trip_keeps_count_fps_and_pixels(tmp_path, clip_frames):
    out = tmp_path / "rt.mp4"
    w = _write(out, clip_frames, fps=12, quality=90)
    info = probe(out)
    assert (w.frames_written, info.frame_count, info.fps) == (12, 12, Fraction(12))
    assert (info.width, info.height, info.kind, info.has_audio) == (160, 120, "video", False)
    assert info.duration == pytest.approx(1.0, abs=0.01)
    back = _read(out)
    assert back.shape == clip_frames.shape
    assert _mae(back, clip_frames) < 6


def test_mp4_keeps_ntsc_rate_exactly(tmp_path, clip_frames):
    out = tmp_path / "ntsc.mp4"
    frames = np.concatenate([clip_frames, clip_frames])
    _write(out, frames, fps=Fraction(24000, 1001))
    info = probe(out)
    assert info.fps == Fraction(24000, 1001)
    assert info.frame_count == 24 == len(_read(out))
    with open_reader(out, stride=2) as r:
        assert r.fps == Fraction(12000, 1001)


def test_mp4_odd_size_is_padded_to_even(tmp_path, clip_frames):
    odd = clip_frames[:4, :119, :157]
    out = tmp_path / "odd.mp4"
    _write(out, odd, quality=90)
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (158, 120, 4)
    back = _read(out)
    assert _mae(back[:, :119, :157], odd) < 6


def test_gif_round_trip_loops_forever_with_exact_timing(tmp_path, clip_frames):
    out = tmp_path / "rt.gif"
    _write(out, clip_frames, fps=12)
    data = out.read_bytes()
    assert b"NETSCAPE2.0\x03\x01\x00\x00\x00" in data  # loop count 0 = forever
    info = probe(out)
    assert (info.kind, info.frame_count, info.fps) == ("gif", 12, Fraction(12))
    assert info.duration == pytest.approx(1.0)
    assert _mae(_read(out), clip_frames) < 6


def test_gif_play_once_has_no_loop_extension_and_ntsc_rate_survives(tmp_path, clip_frames):
    # 48 frames: at GIF's 10 ms resolution 24000/1001 and 24 fps differ only after 43 frames.
    out = tmp_path / "once.gif"
    _write(out, np.concatenate([clip_frames[:, ::2, ::2]] * 4), fps=Fraction(24000, 1001), loop=-1)
    assert b"NETSCAPE2.0" not in out.read_bytes()
    info = probe(out)
    assert (info.frame_count, info.fps) == (48, Fraction(24000, 1001))


def test_webp_round_trip_frame_count_and_fps(tmp_path, clip_frames):
    out = tmp_path / "rt.webp"
    _write(out, clip_frames, fps=12, quality=90)
    info = probe(out)
    assert (info.kind, info.frame_count, info.fps, info.width) == ("gif", 12, Fraction(12), 160)
    assert _mae(_read(out), clip_frames) < 8


def test_folder_output_is_lossless_and_numbered(tmp_path, clip_frames):
    out = tmp_path / "frames"
    _write(out, clip_frames[:3])
    assert sorted(p.name for p in out.iterdir()) == [
        "frame_000001.png", "frame_000002.png", "frame_000003.png"]
    np.testing.assert_array_equal(_read(out), clip_frames[:3])


def test_trailing_slash_means_folder_even_with_a_dot(tmp_path, clip_frames):
    _write(f"{tmp_path}/out.v2/", clip_frames[:2])
    assert len(list((tmp_path / "out.v2").glob("frame_*.png"))) == 2


def test_audio_is_muxed_with_the_video_duration(tmp_path, clip_frames, clip_mp4_audio):
    out = tmp_path / "with audio.mp4"
    _write(out, clip_frames, fps=12, audio_from=clip_mp4_audio)
    info = probe(out)
    assert info.has_audio and info.frame_count == 12
    assert audio_duration(out) == pytest.approx(1.0, abs=0.03)


def _pcm_rms(path, seconds_from=0.0) -> float:
    import subprocess

    import imageio_ffmpeg

    pcm = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path),
                          "-ss", str(seconds_from), "-map", "0:a:0", "-f", "s16le", "-ac", "1",
                          "-"], capture_output=True, check=True).stdout
    return float(np.sqrt(np.mean(np.frombuffer(pcm, np.int16).astype(np.float64) ** 2)))


def test_audio_is_trimmed_from_audio_start(tmp_path, clip_frames, make_clip):
    # 2 s source: silence for 1 s, then a tone.
    src = make_clip(tmp_path / "src.mp4", np.concatenate([clip_frames] * 2),
                    audio="aevalsrc=if(gte(t\\,1)\\,0.5*sin(2*PI*440*t)\\,0):s=44100:d=2")
    silent, tone = tmp_path / "silent.mp4", tmp_path / "tone.mp4"
    _write(silent, clip_frames[:6], fps=12, audio_from=src, audio_start=0.0)
    _write(tone, clip_frames[:6], fps=12, audio_from=src, audio_start=1.25)
    assert audio_duration(silent) == pytest.approx(0.5, abs=0.03)
    assert audio_duration(tone) == pytest.approx(0.5, abs=0.03)
    assert _pcm_rms(silent) < 50
    assert _pcm_rms(tone, 0.05) > 5000


def test_audio_from_a_silent_source_writes_video_only(tmp_path, clip_frames, clip_mp4):
    out = tmp_path / "v.mp4"
    _write(out, clip_frames[:3], audio_from=clip_mp4)
    assert not probe(out).has_audio and audio_duration(out) is None


@pytest.mark.parametrize("name", ["x.mp4", "x.gif", "x.webp", "x"])
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_interrupted_write_leaves_nothing(tmp_path, clip_frames, name, error):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(error):
        with open_writer(out_dir / name, 12) as w:
            w.write(clip_frames[0])
            w.write(clip_frames[1])
            raise error()
    assert list(out_dir.iterdir()) == []


def test_existing_output_needs_overwrite(tmp_path, clip_frames):
    out = tmp_path / "x.gif"
    out.write_bytes(b"keep me")
    with pytest.raises(LganError, match="exists.*--overwrite"):
        open_writer(out, 12)
    assert out.read_bytes() == b"keep me"
    _write(out, clip_frames[:2], overwrite=True)
    assert probe(out).frame_count == 2
    assert [p.name for p in tmp_path.iterdir()] == ["x.gif"]


def test_overwrite_never_replaces_a_folder_with_other_files(tmp_path, clip_frames):
    out = tmp_path / "frames"
    _write(out, clip_frames[:3])
    _write(out, clip_frames[:2], overwrite=True)  # a frame folder may be replaced
    assert len(list(out.iterdir())) == 2
    (out / "notes.txt").write_text("mine")
    with pytest.raises(LganError, match="refusing to replace.*notes.txt"):
        open_writer(out, 12, overwrite=True)


def test_size_change_and_empty_output_are_errors_that_leave_nothing(tmp_path, clip_frames):
    with pytest.raises(LganError, match="frame 2 is 80x60 but the output is 160x120"):
        with open_writer(tmp_path / "a.mp4", 12) as w:
            w.write(clip_frames[0])
            w.write(clip_frames[1, :60, :80])
    with pytest.raises(LganError, match="no frames to write"):
        with open_writer(tmp_path / "b.gif", 12):
            pass
    assert list(tmp_path.iterdir()) == []


def test_check_output_refuses_the_input_itself(tmp_path, clip_mp4, monkeypatch):
    monkeypatch.chdir(clip_mp4.parent)
    with pytest.raises(LganError, match="same as the input"):
        check_output("./" + clip_mp4.name, [clip_mp4], overwrite=True)
    with pytest.raises(LganError, match="unknown output type"):
        check_output(tmp_path / "x.txt", [clip_mp4])
    assert check_output(tmp_path / "new.mp4", [clip_mp4]) == tmp_path / "new.mp4"


def test_awkward_paths_work(tmp_path, clip_frames, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ["-leading dash.mp4", "ünïcödé clip.gif", "100% a:b.webp"]:
        _write(name, clip_frames[:3])
        assert probe(name).frame_count == 3
        assert len(_read(name, start="1f")) == 2

