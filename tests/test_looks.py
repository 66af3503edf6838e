"""Looks from reference pictures: the weight walk, the pipeline, and render/interpolate/batch."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from lgan_video.cli import cli
from lgan_video.errors import LganError
from lgan_video.looks import iter_mixes, mix_at, mix_path, parse_style
from lgan_video.media import open_reader
from lgan_video.render import load_pipeline


@pytest.fixture(scope="module")
def pipe(tiny_bundle):
    return load_pipeline(tiny_bundle, device="cpu")


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """Two very different reference pictures on disk: a red/yellow gradient and blue stripes."""
    root = tmp_path_factory.mktemp("styles")
    a = np.zeros((40, 60, 3), np.uint8)
    a[..., 0] = 230
    a[..., 1] = np.linspace(0, 255, 60, dtype=np.uint8)[None, :]
    b = np.zeros((50, 50, 3), np.uint8)
    b[::4, :, 2] = 255
    b[1::4, :, 1] = 120
    paths = [root / "a.png", root / "b.jpg"]
    for p, img in zip(paths, (a, b), strict=True):
        cv2.imwrite(str(p), img[:, :, ::-1])
    return paths, [a, b]


def test_mix_weights_walk():
    assert mix_at(3, 0.0).tolist() == [1.0, 0.0, 0.0]
    assert mix_at(3, 0.5).tolist() == pytest.approx([0.5, 0.5, 0.0])  # eased midpoint
    assert mix_at(3, 0.25)[1].item() == pytest.approx(0.5 - 0.5 * np.cos(np.pi / 4))
    assert mix_at(3, 7.0).tolist() == [0.0, 0.0, 1.0]  # rests on the last picture
    assert mix_at(3, 2.5, loop=True).tolist() == pytest.approx([0.5, 0.0, 0.5])
    assert mix_at(1, 3.3).tolist() == [1.0]
    path = mix_path(2, 9, frames_per_style=4)
    assert path.shape == (9, 2) and torch.allclose(path.sum(1), torch.ones(9))
    assert path[0].tolist() == [1.0, 0.0] and path[4].tolist() == [0.0, 1.0]
    it = iter_mixes(2, 4)
    assert torch.equal(torch.stack([next(it) for _ in range(9)]), path)


def test_parse_style(pictures, tmp_path):
    paths, _ = pictures
    assert parse_style(f"{paths[0]}, {paths[1]}") == tuple(paths)
    with pytest.raises(LganError, match="style image not found: .*nope.png"):
        parse_style(f"{paths[0]},{tmp_path / 'nope.png'}")
    with pytest.raises(LganError, match="at least one image"):
        parse_style(" , ")


def test_pipeline_paints_in_the_pictures_looks(pipe, pictures, clip_frames):
    _, (a, b) = pictures
    frames = list(clip_frames[:2])

    def run(refs, weights):
        return np.stack(list(pipe.render(iter(frames), "seg", iter(weights), work_size=32,
                                         references=refs, upscale=False)))

    only_a = run([a], [torch.ones(1)] * 2)
    only_b = run([b], [torch.ones(1)] * 2)
    first_of_two = run([a, b], [torch.tensor([1.0, 0.0])] * 2)
    assert np.array_equal(only_a, first_of_two)  # weight 1 on a picture = that picture's look
    assert np.abs(only_a.astype(int) - only_b.astype(int)).mean() > 0.2  # the look changed
    # a mix is painted with the mixed style vector
    styles = pipe.reference_styles([a, b], "seg")
    assert styles.shape == (2, pipe.mapping("seg").cfg.style_dim)
    half = run([a, b], [torch.tensor([0.5, 0.5])] * 2)
    assert not np.array_equal(half, only_a) and not np.array_equal(half, only_b)
    # the layout still comes from the frame: different frames, same look, different outputs
    assert not np.array_equal(only_a[0], only_a[1])


def test_cli_render_and_batch_with_style(clip_mp4, tiny_bundle, pictures, tmp_path):
    paths, _ = pictures
    style = ",".join(str(p) for p in paths)
    out = tmp_path / "styled.mp4"
    res = CliRunner().invoke(cli, ["render", str(clip_mp4), "--model", str(tiny_bundle), "-o",
                                   str(out), "--mode", "seg", "--size", "32", "--style", style,
                                   "--style-period", "0.5", "-q"])
    assert res.exit_code == 0, res.output
    with open_reader(out) as r:
        styled = np.stack(list(r))
    assert len(styled) == 12
    plain = tmp_path / "plain.mp4"
    res = CliRunner().invoke(cli, ["render", str(clip_mp4), "--model", str(tiny_bundle), "-o",
                                   str(plain), "--mode", "seg", "--size", "32", "-q"])
    with open_reader(plain) as r:
        assert np.abs(np.stack(list(r)).astype(int) - styled.astype(int)).mean() > 0.2
    src = tmp_path / "in"
    src.mkdir()
    (src / "c.mp4").write_bytes(clip_mp4.read_bytes())
    res = CliRunner().invoke(cli, ["batch", str(src), str(tmp_path / "o"), "--model",
                                   str(tiny_bundle), "--size", "32", "--style", str(paths[0]),
                                   "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "c.mp4").is_file()


def test_cli_style_errors(clip_mp4, tiny_bundle, pictures, tmp_path):
    paths, _ = pictures
    runner = CliRunner()
    res = runner.invoke(cli, ["render", str(clip_mp4), "--model", str(tiny_bundle), "-o",
                              str(tmp_path / "x.mp4"), "--style", str(tmp_path / "no.png")])
    assert res.exit_code == 1
    assert res.output == f"Error: style image not found: {tmp_path / 'no.png'}\n"
    assert not (tmp_path / "x.mp4").exists()
    res = runner.invoke(cli, ["render", str(clip_mp4), "--model", str(tiny_bundle), "-o",
                              str(tmp_path / "x.mp4"), "--style", str(paths[0]), "--seed", "3"])
    assert res.exit_code != 0 and "give --style or --seed/--seeds, not both" in res.output
    res = runner.invoke(cli, ["interpolate", "--model", str(tiny_bundle), "-o",
                              str(tmp_path / "w.gif"), "--style", str(paths[0])])
    assert res.exit_code == 1
    assert res.output == "Error: --style paints the walk through the pipeline: add --stages\n"


def test_interpolate_stages_with_style(tiny_bundle, pictures, tmp_path):
    from lgan_video.interpolate import interpolate

    paths, _ = pictures
    result = interpolate(tmp_path / "w/", model=tiny_bundle, seeds=(1, 2), frames_per_seed=3,
                         stages=True, mode="seg", style=tuple(paths), device="cpu", quiet=True,
                         precision="fp32")  # tiny random nets: style effects near bf16's rounding
    assert result.frames == 4
    own = interpolate(tmp_path / "v/", model=tiny_bundle, seeds=(1, 2), frames_per_seed=3,
                      stages=True, mode="seg", device="cpu", quiet=True, precision="fp32")
    a = cv2.imread(str(sorted((tmp_path / "w").glob("*.png"))[0]))
    b = cv2.imread(str(sorted((tmp_path / "v").glob("*.png"))[0]))
    assert a.shape == b.shape
    half = a.shape[1] // 2  # [G1 | map] are the same; [translated | upscaled] take the new look
    assert np.array_equal(a[:, :half // 2], b[:, :half // 2])
    assert np.abs(a[:, half:].astype(int) - b[:, half:].astype(int)).mean() > 0.2
    assert own.frames == 4
