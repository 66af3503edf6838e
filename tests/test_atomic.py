"""The one atomic-write helper: complete or absent, never half-written, no temporaries left."""

from __future__ import annotations

import pytest

from lgan_video.atomic import atomic_path, write_bytes, write_text


def test_write_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "log.json"
    write_text(path, "first")
    write_bytes(path, b"second")
    assert path.read_text() == "second"
    assert [p.name for p in path.parent.iterdir()] == ["log.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "state.pt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".state.partial-")
        assert tmp.suffix == ".pt"
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]


def test_folders_replace_folders_and_files(tmp_path):
    dest = tmp_path / "bundle"
    dest.mkdir()
    (dest / "old.txt").write_text("old")
    with atomic_path(dest, is_dir=True) as tmp:
        assert tmp.is_dir()
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in dest.iterdir()] == ["new.txt"]
    blocker = tmp_path / "was_a_file"
    blocker.write_text("x")
    with atomic_path(blocker, is_dir=True) as tmp:
        (tmp / "a").write_text("a")
    assert (blocker / "a").read_text() == "a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "was_a_file"]


def test_bundle_files_get_the_usual_permissions(tiny_bundle):
    import os

    umask = os.umask(0)
    os.umask(umask)
    for file in tiny_bundle.iterdir():
        assert file.stat().st_mode & 0o777 == 0o666 & ~umask, file.name


def test_discard_partials_removes_only_that_outputs_temporaries(tmp_path):
    """Whoever wrote them (another host, a live-looking pid): a batch driver whose worker died
    knows nobody writes that output any more."""
    from lgan_video.atomic import discard_partials

    mine = [".a.partial-0a1b2c-1-0123abcd.mp4", ".a.partial-ffffff-99999-0123abcd.audio.mp4"]
    others = [".ab.partial-0a1b2c-1-0123abcd.mp4", ".a.partial-0a1b2c-1-0123abcd.gif",
              ".a.partial-0123abcd.mp4", "a.mp4", "b.mp4"]
    for name in mine + others:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".frames.partial-0a1b2c-1-89abcdef").mkdir()  # a frame folder's temporary
    assert sorted(p.name for p in discard_partials(tmp_path / "a.mp4")) == sorted(mine)
    assert [p.name for p in discard_partials(tmp_path / "frames")] == [
        ".frames.partial-0a1b2c-1-89abcdef"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(others)
