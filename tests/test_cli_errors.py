"""QA regressions: bad input to the CLI is one line `Error: ...`, exit 1, and leaves nothing behind."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from lgan_video.cli import cli


def _invoke(args: list[str]):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_line_error(result, needle: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert needle in lines[0], result.output
    assert "Traceback" not in result.output and "internal error" not in result.output


@pytest.fixture()
def image_dir(tmp_path, clip_frames):
    """A folder of 3 tiny PNG images (enough for nothing but the smallest runs)."""
    import cv2

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, frame in enumerate(clip_frames[:3]):
        cv2.imwrite(str(folder / f"i{i}.png"), np.ascontiguousarray(frame[:, :, ::-1]))
    return folder


@pytest.mark.parametrize("args, needle", [
    (["train", "g1", "{missing}", "--out", "{tmp}/run"], "missing"),
    (["export", "--g1", "{missing}", "--mapping", "{missing}", "-o", "{tmp}/b"], "missing"),
    (["eval", "sr", "{missing}", "{tmp}"], "missing"),
])
def test_missing_paths_of_train_export_eval_are_one_line(tmp_path, args, needle):
    args = [a.format(missing=tmp_path / "missing", tmp=tmp_path) for a in args]
    _one_line_error(_invoke(args), needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_eval_on_cuda_without_cuda_is_one_line(tiny_bundle, image_dir, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = _invoke(["eval", "sr", tiny_bundle, image_dir, "--n", "2", "--device", "cuda"])
    _one_line_error(result, "cuda")


@pytest.mark.parametrize("seed", ["-5", "99999999999999999999"])
def test_out_of_range_seed_is_refused(tmp_path, clip_mp4, tiny_bundle, seed):
    out = tmp_path / "o.gif"
    result = _invoke(["render", clip_mp4, "--model", tiny_bundle, "-o", out, "--seed", seed, "-q"])
    _one_line_error(result, "Invalid value for '--seed'")
    assert not out.exists()


def test_empty_seeds_is_an_error_not_seed_zero(tmp_path, clip_mp4, tiny_bundle):
    out = tmp_path / "o.gif"
    result = _invoke(["render", clip_mp4, "--model", tiny_bundle, "-o", out, "--seeds", ""])
    _one_line_error(result, "bad seeds")
    assert not out.exists()


def test_train_seed_out_of_range_leaves_no_run(tmp_path, image_dir):
    run = tmp_path / "run"
    result = _invoke(["train", "sr", image_dir, "--out", run, "--seed", "-1", "--steps", "1"])
    _one_line_error(result, "Invalid value for '--seed'")
    assert not run.exists()


def test_failed_start_leaves_no_run_folder_so_a_fixed_retry_works(tmp_path, image_dir):
    """Too few images for one batch: the error must not leave a run that blocks the retry."""
    run = tmp_path / "run"
    small = ["--channels", "8", "--blocks", "1", "--workers", "0", "--eval-every", "0", "-q"]
    result = _invoke(["train", "sr", image_dir, "--out", run, "--steps", "1", *small])
    _one_line_error(result, "lower --batch-size")
    assert not run.exists()
    result = _invoke(["train", "sr", image_dir, "--out", run, "--steps", "1", "--batch-size", "1",
                      "--patch", "32", *small])
    assert result.exit_code == 0, result.output
    assert (run / "state.pt").is_file()


def test_batch_with_a_mode_the_model_lacks_is_one_error(tmp_path, clip_mp4):
    from lgan_video.testing import make_tiny_bundle

    bundle = make_tiny_bundle(tmp_path / "edge_only", modes=("edge",))
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "a.mp4").write_bytes(clip_mp4.read_bytes())
    (clips / "b.mp4").write_bytes(clip_mp4.read_bytes())
    out = tmp_path / "out"
    result = _invoke(["batch", clips, out, "--model", bundle, "--mode", "seg", "-q"])
    _one_line_error(result, "'seg'")
    assert not out.exists()
    result = _invoke(["batch", clips, out, "--model", bundle, "--mode", "edge", "--scale", "4", "-q"])
    _one_line_error(result, "--scale 4")


def test_batch_into_its_own_input_folder_is_refused(tmp_path, clip_mp4):
    """Otherwise a.mp4 is 'skipped' (its output a.mp4 exists: it is the input) and reported done."""
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "a.mp4").write_bytes(clip_mp4.read_bytes())
    result = _invoke(["batch", clips, f"{clips}/.", "--model", "nowhere", "-q"])
    _one_line_error(result, "input folder")
    assert sorted(p.name for p in clips.iterdir()) == ["a.mp4"]


def test_fp16_on_the_cpu_is_one_line_and_writes_nothing(tiny_bundle, clip_mp4, tmp_path):
    out = tmp_path / "out.mp4"
    result = _invoke(["render", clip_mp4, "-o", out, "--model", tiny_bundle, "--device", "cpu",
                      "--precision", "fp16"])
    assert result.output == ("Error: --precision fp16 needs a CUDA device (got cpu); "
                             "use bf16 or fp32\n")
    assert result.exit_code == 1 and not out.exists()


def test_render_with_precision_and_threads(tiny_bundle, clip_mp4, tmp_path):
    from lgan_video.media import probe

    out = tmp_path / "out.mp4"
    result = _invoke(["render", clip_mp4, "-o", out, "--model", tiny_bundle, "--device", "cpu",
                      "--precision", "bf16", "--threads", "2", "--mode", "seg", "-q"])
    assert result.exit_code == 0, result.output
    assert probe(out).frame_count == 12
