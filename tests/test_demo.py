"""The demo end to end on a tiny random bundle: every file, with exact frame counts."""

from click.testing import CliRunner

from lgan_video.cli import cli
from lgan_video.demo import DEMO_SEEDS, run_demo
from lgan_video.interpolate import walk_length
from lgan_video.media import probe


def test_demo_writes_walk_and_clip_renders(tiny_bundle, tmp_path):
    files = run_demo(tmp_path / "demo", model=tiny_bundle, device="cpu", quiet=True)
    assert float(files.pop("seconds")) > 0
    assert sorted(files) == ["clip", "edge.gif", "edge.mp4", "seg.gif", "seg.mp4", "walk"]
    walk = probe(files["walk"])
    assert walk.kind == "gif"
    assert walk.frame_count == walk_length(len(DEMO_SEEDS), 16, loop=True) == 48
    clip = probe(files["clip"])
    assert (clip.frame_count, clip.width, clip.height) == (48, 344, 192)
    for name in ("edge.mp4", "edge.gif", "seg.mp4", "seg.gif"):
        info = probe(files[name])
        assert info.frame_count == 48, name
        assert info.fps == clip.fps, name
    assert probe(files["edge.mp4"]).height == 64 * 2  # tiny bundle: work size 64, SR x2


def test_demo_refuses_to_overwrite_then_overwrites(tiny_bundle, tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    (out / "clip_seg.gif").write_bytes(b"mine")
    args = ["demo", "-o", str(out), "--model", str(tiny_bundle), "-q"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1 and "clip_seg.gif" in res.output
    assert (out / "clip_seg.gif").read_bytes() == b"mine"
    res = CliRunner().invoke(cli, args + ["--overwrite"])
    assert res.exit_code == 0, res.output
    assert probe(out / "clip_seg.gif").frame_count == 48


def test_camera_frames_views_and_moves():
    import numpy as np

    from lgan_video.synthetic import camera_frames

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (100, 200, 3), dtype=np.uint8)
    still = list(camera_frames(image, 3, 100, 50, start=(0.5, 0.5, 2.0), end=(0.5, 0.5, 2.0)))
    assert len(still) == 3
    for frame in still:  # zoom 2: one image pixel per output pixel, the central 100x50 crop
        np.testing.assert_array_equal(frame, image[25:75, 50:150])
    pan = list(camera_frames(image, 2, 100, 50, start=(0.5, 0.5, 2.0), end=(0.6, 0.5, 2.0)))
    np.testing.assert_array_equal(pan[1], image[25:75, 70:170])  # 0.1 x 200 px to the right
