"""render / interpolate / batch / info end to end, on tiny random bundles and tiny generated clips."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lgan_video.batch import parse_shard, plan_batch, run_batch
from lgan_video.cli import cli
from lgan_video.errors import LganError
from lgan_video.interpolate import interpolate, walk_length
from lgan_video.media import open_reader, probe
from lgan_video.render import load_pipeline, render


@pytest.fixture(scope="module")
def pipe(tiny_bundle):
    return load_pipeline(tiny_bundle, device="cpu")


def _frames(path: Path) -> list[np.ndarray]:
    with open_reader(path) as reader:
        return list(reader)


def test_render_mp4_keeps_frame_count_fps_and_audio(clip_mp4_audio, pipe, tmp_path):
    src = probe(clip_mp4_audio)
    out = tmp_path / "out.mp4"
    result = render(clip_mp4_audio, out, mode="edge", size=64, pipeline=pipe, quiet=True)
    info = probe(out)
    assert result.frames == src.frame_count == info.frame_count
    assert info.fps == src.fps
    assert info.has_audio
    assert info.height == 64 * pipe.scale
    assert abs(info.width - src.width * 64 * pipe.scale / src.height) <= 8 * pipe.scale
    assert (info.width, info.height) == result.size
    assert abs(info.duration - src.duration) < 0.15


def test_render_no_audio_drops_the_track(clip_mp4_audio, pipe, tmp_path):
    out = tmp_path / "silent.mp4"
    render(clip_mp4_audio, out, size=64, audio=False, pipeline=pipe, quiet=True)
    assert not probe(out).has_audio


@pytest.mark.parametrize("name", ["out.gif", "frames/"])
def test_render_gif_and_folder_keep_frame_count(clip_mp4, pipe, tmp_path, name):
    out = tmp_path / name
    result = render(clip_mp4, out, mode="seg", size=64, pipeline=pipe, quiet=True)
    frames = _frames(out)
    assert len(frames) == probe(clip_mp4).frame_count == result.frames
    assert frames[0].shape[0] == 64 * pipe.scale
    # What was written is what the pipeline paints for these frames (PNG exact, GIF palettised).
    from lgan_video.latents import iter_latents

    with open_reader(clip_mp4, size=64) as reader:
        latents = iter_latents([0], round(4.0 * float(reader.fps)), z_dim=pipe.z_dim)
        expected = list(pipe.render(reader, "seg", latents, work_size=64, map_temporal=0.5))
    diff = np.abs(np.stack(frames).astype(int) - np.stack(expected))
    if name.endswith("/"):
        assert diff.max() <= 1 and diff.mean() < 1e-3  # PNG: exact but for a rare rounding
    else:
        assert diff.mean() < 9  # a 256-colour palette: about 6.5 grey levels


def test_render_stages_panel_and_scale_one(clip_gif, pipe, tmp_path):
    panel = render(clip_gif, tmp_path / "p/", size=64, stages=True, pipeline=pipe, quiet=True)
    plain = render(clip_gif, tmp_path / "s1/", size=64, scale=1, pipeline=pipe, quiet=True)
    assert plain.size[1] == 64
    assert panel.size[0] >= 4 * plain.size[0] - 8  # frame | map | translated | upscaled
    assert panel.frames == plain.frames == probe(clip_gif).frame_count


def test_render_is_deterministic(clip_mp4, pipe, tmp_path):
    a = render(clip_mp4, tmp_path / "a/", size=64, seeds=(3, 4), style_period=0.5,
               pipeline=pipe, quiet=True)
    b = render(clip_mp4, tmp_path / "b/", size=64, seeds=(3, 4), style_period=0.5,
               pipeline=pipe, quiet=True)
    for fa, fb in zip(_frames(Path(a.output)), _frames(Path(b.output)), strict=True):
        np.testing.assert_array_equal(fa, fb)


def test_render_refuses_unavailable_scale_and_existing_output(clip_mp4, pipe, tmp_path):
    with pytest.raises(LganError, match="--scale 3 is not available"):
        render(clip_mp4, tmp_path / "x.mp4", scale=3, pipeline=pipe, quiet=True)
    out = tmp_path / "kept.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(LganError, match="exists"):
        render(clip_mp4, out, pipeline=pipe, quiet=True)
    assert out.read_bytes() == b"precious"


def test_cli_render_errors_are_one_line(clip_mp4, tiny_bundle, tmp_path):
    runner = CliRunner()
    cases = [
        ["render", str(clip_mp4), "--model", str(tiny_bundle), "--seeds", "1,x"],
        ["render", str(clip_mp4), "--model", str(tmp_path / "nope")],
        ["render", str(tmp_path / "missing.mp4"), "--model", str(tiny_bundle)],
        ["render", str(clip_mp4), "--model", str(tiny_bundle), "--scale", "4"],
        ["render", str(clip_mp4), "--model", str(tiny_bundle), "--device", "cuda"],
    ]
    import torch

    for args in cases:
        if "cuda" in args and torch.cuda.is_available():
            continue
        res = runner.invoke(cli, args + ["-o", str(tmp_path / "o.mp4")])
        assert res.exit_code != 0, args
        assert "Traceback" not in res.output
        assert len(res.output.strip().splitlines()) == 1, res.output
    assert not (tmp_path / "o.mp4").exists()


def test_cli_render_json(clip_mp4, tiny_bundle, tmp_path):
    out = tmp_path / "cli.gif"
    res = CliRunner().invoke(cli, ["render", str(clip_mp4), "-o", str(out), "--model",
                                   str(tiny_bundle), "--size", "64", "--json", "-q"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["frames"] == probe(clip_mp4).frame_count
    assert Fraction(data["fps"]) == probe(clip_mp4).fps
    assert out.is_file()


def test_interpolate_loop_is_seamless(pipe, tmp_path):
    out = tmp_path / "walk/"
    result = interpolate(out, seeds=(1, 2, 3), frames_per_seed=6, loop=True, size=32,
                         pipeline=pipe, quiet=True)
    frames = np.stack(_frames(out)).astype(np.float32)
    assert len(frames) == result.frames == walk_length(3, 6, True) == 18
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    wrap = np.abs(frames[-1] - frames[0]).mean()
    assert 0 < wrap <= 2.5 * np.median(steps) + 1.0  # closing step is like any other step
    assert np.abs(frames[0] - frames[6]).mean() > wrap  # the walk goes somewhere


def test_interpolate_stages_and_grid(pipe, tmp_path):
    staged = interpolate(tmp_path / "s.gif", seeds=(1, 2), frames_per_seed=3, stages=True,
                         pipeline=pipe, quiet=True)
    grid = interpolate(tmp_path / "g/", seeds=(1, 2), frames_per_seed=3, grid="2x3", size=32,
                       pipeline=pipe, quiet=True)
    assert staged.frames == grid.frames == walk_length(2, 3, False) == 4
    assert grid.size == (3 * 32, 2 * 32)
    assert staged.size[0] > 3 * staged.size[1]
    with pytest.raises(LganError, match="--grid"):
        interpolate(tmp_path / "x.gif", grid="3", pipeline=pipe)


def _batch_inputs(root: Path, clip_mp4: Path, clip_gif: Path, frames_dir: Path) -> Path:
    import shutil

    src = root / "in"
    src.mkdir()
    shutil.copy(clip_mp4, src / "a clip.mp4")
    shutil.copy(clip_gif, src / "b.gif")
    shutil.copytree(frames_dir, src / "c_frames")
    (src / "d_broken.mp4").write_text("not a video")
    (src / "notes.txt").write_text("ignored")
    return src


def test_batch_reports_failures_and_resumes_after_crash(
    clip_mp4, clip_gif, frames_dir, pipe, tmp_path, monkeypatch
):
    src = _batch_inputs(tmp_path, clip_mp4, clip_gif, frames_dir)
    dst = tmp_path / "out"
    jobs = plan_batch(src, dst)
    assert [j.input.name for j in jobs] == ["a clip.mp4", "b.gif", "c_frames", "d_broken.mp4"]

    import lgan_video.render as render_module

    real = render_module.render
    calls = []

    def crash_on_second(*args, **kw):
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt  # the machine dies mid-batch
        return real(*args, **kw)

    monkeypatch.setattr(render_module, "render", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        run_batch(src, dst, size=32, pipeline=pipe, quiet=True)
    assert sorted(p.name for p in dst.iterdir()) == ["a clip.mp4"]  # nothing half-written
    first_mtime = (dst / "a clip.mp4").stat().st_mtime_ns

    monkeypatch.setattr(render_module, "render", real)
    outcomes = run_batch(src, dst, size=32, pipeline=pipe, quiet=True)
    assert [o.status for o in outcomes] == ["skipped", "done", "done", "failed"]
    assert "d_broken.mp4" in outcomes[3].error
    assert (dst / "a clip.mp4").stat().st_mtime_ns == first_mtime
    assert probe(dst / "b.mp4").frame_count == probe(clip_gif).frame_count


def test_cli_batch_exit_code_and_summary(clip_mp4, clip_gif, frames_dir, tiny_bundle, tmp_path):
    src = _batch_inputs(tmp_path, clip_mp4, clip_gif, frames_dir)
    args = ["batch", str(src), str(tmp_path / "o"), "--model", str(tiny_bundle), "--size", "32",
            "--format", ".gif", "--json", "-q"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1
    statuses = [o["status"] for o in json.loads(res.output)]
    assert statuses == ["done", "done", "done", "failed"]
    res = CliRunner().invoke(cli, args[:-2] + ["--pattern", "[abc]*", "--json", "-q"])
    assert res.exit_code == 0
    assert [o["status"] for o in json.loads(res.output)] == ["skipped"] * 3


def test_shards_split_jobs(tmp_path, clip_mp4, clip_gif, frames_dir):
    src = _batch_inputs(tmp_path, clip_mp4, clip_gif, frames_dir)
    parts = [plan_batch(src, tmp_path / "o", shard=(i, 3)) for i in range(3)]
    assert sorted(j.input.name for p in parts for j in p) == sorted(
        j.input.name for j in plan_batch(src, tmp_path / "o"))
    with pytest.raises(LganError):
        parse_shard("3/3")


def test_info_bundle_and_media(tiny_bundle, clip_mp4):
    for path, kind in ((tiny_bundle, "bundle"), (clip_mp4, "media")):
        res = CliRunner().invoke(cli, ["info", str(path), "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["type"] == kind
    res = CliRunner().invoke(cli, ["info", str(clip_mp4), "--json"])
    assert json.loads(res.output)["frame_count"] == 12
    res = CliRunner().invoke(cli, ["info", str(tiny_bundle)])
    assert "g1" in res.output and "Traceback" not in res.output
