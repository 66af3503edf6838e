"""`lgan-video probe` and `extract` through Click: real files, exit codes, one-line errors."""

import json
import shutil
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

from lgan_video.cli import cli
from lgan_video.media import open_reader, open_writer, probe


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_probe_json(clip_mp4_audio):
    res = _run("probe", clip_mp4_audio, "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["kind"] == "video" and (d["width"], d["height"]) == (160, 120)
    assert Fraction(d["fps"]) == 12 and d["frame_count"] == 12 and d["has_audio"] is True
    assert d["duration"] == pytest.approx(1.0, abs=0.03) and d["path"] == str(clip_mp4_audio)


def test_probe_table_and_leading_dash_paths(tmp_path, clip_gif, monkeypatch):
    shutil.copy(clip_gif, tmp_path / "-x.gif")
    monkeypatch.chdir(tmp_path)
    for args in (["./-x.gif"], ["--", "-x.gif"]):
        res = _run("probe", *args)
        assert res.exit_code == 0, res.output
        assert "gif" in res.output and "160x120" in res.output and "12" in res.output


@pytest.mark.parametrize("out_name, args, frames, fps, size", [
    ("edges.gif", [], 12, 12, (160, 120)),
    ("edges.mp4", ["--stride", "2"], 6, 6, (160, 120)),
    ("segs.webp", ["--mode", "seg", "--size", "60"], 12, 12, (80, 60)),
    ("maps", ["--start", "2f", "--frames", "5"], 5, 12, (160, 120)),
])
def test_extract_writes_all_frames(tmp_path, clip_mp4, out_name, args, frames, fps, size):
    out = tmp_path / out_name
    res = _run("extract", clip_mp4, out, "-q", "--json", *args)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["frames"] == frames and Fraction(summary["fps"]) == fps
    info = probe(out)
    assert info.frame_count == frames and (info.width, info.height) == size
    if info.kind != "folder":
        assert info.fps == fps


def test_extract_previews_look_like_maps(tmp_path, clip_mp4, tiny_bundle):
    from lgan_video.testing import TINY_G1, TINY_MAPPING, make_random_bundle

    toned = make_random_bundle(tmp_path / "toned", TINY_G1, TINY_MAPPING, None, modes=("edge",),
                               work_size=64, edge_tones=4)
    for name, model, mode in [("e", tiny_bundle, "edge"), ("s", tiny_bundle, "seg"),
                              ("t", toned, "edge")]:
        res = _run("extract", clip_mp4, tmp_path / name, "--frames", "2", "--mode", mode,
                   "--model", model, "-q")
        assert res.exit_code == 0, res.output
    def first(name: str) -> np.ndarray:
        with open_reader(tmp_path / name) as r:
            return next(iter(r))

    edge, seg, tones = (first(n) for n in "est")
    assert edge.mean() > 200 and (edge.min(axis=2) < 64).sum() > 100      # dark lines on white
    assert len(np.unique(seg.reshape(-1, 3), axis=0)) >= 3                # colour-coded regions
    grey = tones[..., 0][tones[..., 0] > 40]  # lossless PNGs: black lines over 4 grey tones
    assert set(np.unique(grey)) <= {64, 128, 191, 255} and len(np.unique(grey)) >= 3
    assert (tones[..., 0] == 0).sum() > 100
    res = _run("extract", clip_mp4, tmp_path / "x", "--mode", "seg", "--model", toned)
    assert res.exit_code == 1 and res.output.startswith("Error: bundle ") and \
        "has no 'seg' mapping network (it has: edge)" in res.output


def _assert_one_line_error(res, path_text):
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    assert lines[0].startswith("Error: ") and path_text in lines[0]
    assert "Traceback" not in res.output


def test_bad_inputs_are_one_line_errors(tmp_path, clip_mp4, clip_frames):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.mp4").write_text("hello")
    src = tmp_path / "long.mp4"
    with open_writer(src, 12) as w:
        for f in np.concatenate([clip_frames] * 4):
            w.write(f)
    data = src.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "out.gif"
    for bad in ["missing.mp4", "empty", "notes.mp4"]:
        _assert_one_line_error(_run("probe", tmp_path / bad), bad)
        _assert_one_line_error(_run("extract", tmp_path / bad, out), bad)
    res = _run("extract", tmp_path / "cut.mp4", out, "-q")
    _assert_one_line_error(res, "cut.mp4")
    assert "decoding failed after frame" in res.output
    _assert_one_line_error(_run("extract", clip_mp4, out, "--start", "99"), "past the end")
    _assert_one_line_error(_run("extract", clip_mp4, out, "--start", "soon"), "soon")
    _assert_one_line_error(_run("extract", clip_mp4, tmp_path / "x.avi"), "x.avi")
    _assert_one_line_error(_run("extract", clip_mp4, clip_mp4, "--overwrite"), clip_mp4.name)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "cut.mp4", "empty", "long.mp4", "notes.mp4"]


def test_extract_refuses_to_overwrite_without_flag(tmp_path, clip_mp4):
    out = tmp_path / "e.gif"
    out.write_bytes(b"precious")
    _assert_one_line_error(_run("extract", clip_mp4, out), "--overwrite")
    assert out.read_bytes() == b"precious"
    assert _run("extract", clip_mp4, out, "--overwrite", "-q", "--frames", "3").exit_code == 0
    assert probe(out).frame_count == 3
