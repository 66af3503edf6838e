"""Each cause of a CLI failure has its own exact one-line message (exit 1, nothing else printed).

Run in a scratch folder holding ``a.png`` (a 64x48 frame), ``tiny/`` (a tiny bundle), ``empty/``
and ``notes.txt``, so the paths in the messages are the relative ones typed.
"""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from lgan_video.cli import cli

UNKNOWN_OUTPUT = "unknown output type '{}' (use .mp4, .gif, .webp, or a folder name without a suffix): {}"
NO_RUN = "not a training run with exported weights (no network.json): {}"

CASES = [
    ("render missing.mp4", "no such file or folder: missing.mp4"),
    ("render a.png -o out.avi", UNKNOWN_OUTPUT.format(".avi", "out.avi")),
    ("render a.png --model nowhere -o o.gif", "model not found: nowhere"),
    ("render a.png --model empty -o o.gif", "not a model bundle (no bundle.json): empty"),
    ("render a.png --model tiny --scale 4 -o o.gif",
     "--scale 4 is not available: this model upscales x2 (use --scale 1 or 2)"),
    ("render a.png --model tiny --seeds 5-1 -o o.gif",
     "bad seed range '5-1': the end is before the start"),
    ("probe missing.mp4", "no such file or folder: missing.mp4"),
    ("probe empty", "no images (.png, .jpg, .jpeg, .webp, .bmp, .tif, .tiff) in folder: empty"),
    ("info missing", "no such file or folder: missing"),
    ("extract a.png maps.txt", UNKNOWN_OUTPUT.format(".txt", "maps.txt")),
    ("batch missing out", "not a folder: missing"),
    ("batch empty out", "no videos, GIFs or frame folders matching '*' in empty"),
    ("batch empty out --shard 3/2", "bad --shard '3/2': use I/N with 0 <= I < N, e.g. 0/4"),
    ("interpolate --model tiny --grid 3by3 -o w.gif", "bad --grid '3by3': use ROWSxCOLS, e.g. 3x3"),
    ("interpolate --model tiny --grid 3x3 --stages -o w.gif",
     "choose either --stages or --grid, not both"),
    ("eval sr empty empty", NO_RUN.format("empty")),
    ("eval sr tiny empty", "training data has 0 usable image(s), need at least 1: empty"),
    ("train g1 missing --out r", "training data not found: missing"),
    ("train mapping empty --out r --mode edge",
     "training data has 0 usable image(s), need at least 2: empty"),
    ("train mapping . --out r --mode edge --size 20", "--size 20 must be a multiple of 8"),
    ("export --g1 missing --mapping missing -o b", NO_RUN.format("missing")),
]


@pytest.fixture()
def scratch(tmp_path, monkeypatch, tiny_bundle):
    import cv2

    from lgan_video.synthetic import scene_array

    monkeypatch.chdir(tmp_path)
    cv2.imwrite("a.png", scene_array(1, 64, 48)[0][:, :, ::-1])
    shutil.copytree(tiny_bundle, "tiny")
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("not media")
    return tmp_path


@pytest.mark.parametrize("args, message", CASES, ids=[c[0] for c in CASES])
def test_exact_error_message(scratch, args, message):
    before = sorted(p.name for p in scratch.iterdir())
    result = CliRunner().invoke(cli, args.split())
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
    assert sorted(p.name for p in scratch.iterdir()) == before  # nothing left behind


def test_unreadable_input_names_the_file(scratch):
    result = CliRunner().invoke(cli, ["probe", "notes.txt"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: not a readable video or image: notes.txt (")
    assert result.output.count("\n") == 1
