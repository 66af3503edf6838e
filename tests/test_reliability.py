"""Reliability (issue 13): signals, collisions, full disks, machine-readable output, one-line errors.

Signals are sent to real subprocesses; full disks are real write failures (``RLIMIT_FSIZE`` makes
the kernel refuse writes past a size, for our process and its ffmpeg children alike) or, for the
audio mux, an ffmpeg that fails mid-mux. Every subprocess wait is bounded.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lgan_video.cli import cli

REPO = Path(__file__).resolve().parents[1]
TINY_SR = ["--channels", "4", "--blocks", "0", "--patch", "16", "--batch-size", "1",
           "--eval-every", "0", "--sample-every", "100000", "-q"]


def _invoke(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_line_error(result, needle: str, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert needle in lines[0], result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return lines[0]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1"}


def _default_signals() -> None:
    # The child must see default dispositions even if pytest runs under nohup or in background.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _spawn(args, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lgan_video", *map(str, args)], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_signals, start_new_session=True, **kw)


def _run(args, timeout=120, preexec_fn=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lgan_video", *map(str, args)], env=_env(),
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise
    return proc.returncode, out.decode(), err.decode()


def _kill_group(proc: subprocess.Popen) -> None:
    """Whatever happened, leave no process of the test's session behind."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """30 s of 96x64 test pattern at 24 fps: a render of it runs long enough to be interrupted."""
    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("long") / "long.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=96x64:rate=24", "-t", "30", "-c:v", "libx264", "-preset",
                    "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


# --- 1. --json stdout stays JSON when a warning is logged --------------------------------------

def test_json_stdout_is_json_when_a_warning_is_logged(tmp_path, clip_frames, make_clip,
                                                      tiny_bundle):
    avi = make_clip(tmp_path / "c.avi", clip_frames, codec=("-c:v", "mpeg4", "-q:v", "2"))
    data = bytearray(avi.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 40] = bytes(b ^ 0xFF for b in data[middle:middle + 40])
    bad = tmp_path / "bad.avi"
    bad.write_bytes(bytes(data))  # every frame still decodes, with complaints from ffmpeg
    out = tmp_path / "o.gif"
    result = _invoke(["render", bad, "--model", tiny_bundle, "-o", out, "--json", "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["frames"] == 12
    assert result.stderr.startswith("warning: ffmpeg reported problems decoding"), result.stderr


# --- 2. a lost audio track is a failed output ---------------------------------------------------

@pytest.fixture()
def ffmpeg_failing_mux(tmp_path, monkeypatch):
    """The real ffmpeg, except that muxing audio writes part of its output and then fails as a
    full disk does."""
    from lgan_video.media import _ffmpeg

    real = _ffmpeg.ffmpeg_exe()
    fake = tmp_path / "ffmpeg"
    fake.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" -c:a aac "*)\n'
        '  for last; do :; done; printf partial > "${last#file:}"\n'
        '  echo "[aost#0:1/aac @ 0x1] Error writing trailer: No space left on device" >&2\n'
        "  exit 1;;\n"
        "esac\n"
        f'exec "{real}" "$@"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setattr(_ffmpeg, "ffmpeg_exe", lambda: str(fake))
    return fake


def test_audio_mux_failure_is_an_error_and_writes_nothing(tmp_path, clip_mp4_audio, tiny_bundle,
                                                          ffmpeg_failing_mux):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "o.mp4"
    result = _invoke(["render", clip_mp4_audio, "--model", tiny_bundle, "-o", out, "-q"])
    line = _one_line_error(result, "could not add the audio track")
    assert "No space left on device" in line and "--no-audio" in line
    assert list(out_dir.iterdir()) == []
    result = _invoke(["render", clip_mp4_audio, "--model", tiny_bundle, "-o", out, "-q",
                      "--no-audio"])
    assert result.exit_code == 0, result.output
    from lgan_video.media import probe

    info = probe(out)
    assert (info.frame_count, info.has_audio) == (12, False)


# --- 3. SIGTERM / SIGHUP / SIGINT: clean up, end children, one line, exit 128+N -----------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])  # SIGINT takes the same path
def test_signal_during_render_cleans_up(tmp_path, long_clip, tiny_bundle, sig):
    out = tmp_path / "o.mp4"
    proc = _spawn(["render", long_clip, "--model", tiny_bundle, "-o", out, "-q", "--no-audio"])
    try:
        _wait_for(lambda: _partials(tmp_path), 60, "the temporary output")
        encoders = _wait_for(lambda: _children(proc.pid), 10, "the ffmpeg children")
        os.kill(proc.pid, sig)
        code, stdout, stderr = _finish(proc)
    finally:
        _kill_group(proc)
    name = signal.Signals(sig).name
    assert (code, stdout, stderr) == (128 + sig, "", f"Error: interrupted by {name}\n")
    assert list(tmp_path.iterdir()) == []
    assert not any(_alive(pid) for pid in encoders)


def test_sigterm_while_probe_waits_on_a_fifo_ends_ffmpeg(tmp_path):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    proc = _spawn(["probe", fifo])
    try:
        (child,) = _wait_for(lambda: _children(proc.pid), 30, "ffmpeg opening the FIFO")
        os.kill(proc.pid, signal.SIGTERM)
        code, _, stderr = _finish(proc, timeout=30)
    finally:
        _kill_group(proc)
    assert (code, stderr) == (143, "Error: interrupted by SIGTERM\n")
    _wait_for(lambda: not _alive(child), 5, "the orphaned ffmpeg to end")


# --- 4. temporaries left by kill -9 are removed by the next run --------------------------------

def test_stale_partial_from_kill_9_is_removed_by_the_next_run(tmp_path, long_clip, clip_mp4,
                                                              tiny_bundle):
    out = tmp_path / "o.mp4"
    proc = _spawn(["render", long_clip, "--model", tiny_bundle, "-o", out, "-q"])
    try:
        stale = _wait_for(lambda: _partials(tmp_path), 60, "the temporary output")
        encoders = _children(proc.pid)
        proc.kill()
        _finish(proc)
    finally:
        _kill_group(proc)
    _wait_for(lambda: not any(_alive(p) for p in encoders), 10, "the orphaned encoder to end")
    assert _partials(tmp_path) == stale  # kill -9 cannot be cleaned up by the killed process
    result = _invoke(["render", clip_mp4, "--model", tiny_bundle, "-o", tmp_path / "x.gif", "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gif"]


def test_temporaries_of_live_processes_and_other_hosts_are_kept(tmp_path):
    from lgan_video.atomic import _host_tag, remove_stale_temporaries

    dead = _dead_pid()
    host = _host_tag()
    names = [f".a.partial-{host}-{os.getpid()}-0123abcd.mp4",  # this live process
             f".b.partial-000000-{dead}-0123abcd.mp4",          # another host's process
             f".c.partial-{host}-{dead}-0123abcd.mp4",          # dead here: stale
             f".d.partial-{host}-{dead}-0123abcd.audio.mp4",    # its audio sibling: stale
             f".e.old-{host}-{dead}-0123abcd",                  # a replaced folder: stale
             "f.partial-x.mp4"]                                 # not ours
    for name in names:
        (tmp_path / name).mkdir() if ".old-" in name else (tmp_path / name).write_bytes(b"x")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(names[2:5])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[:2] + names[5:])


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# --- 5. batch: distinct outputs, "skipped" means this input's output exists --------------------

def test_batch_inputs_sharing_a_stem_get_distinct_outputs(tmp_path, clip_frames, make_clip,
                                                          tiny_bundle):
    import cv2

    clips = tmp_path / "clips"
    (clips / "a").mkdir(parents=True)
    for i in range(3):  # the folder: 3 frames
        cv2.imwrite(str(clips / "a" / f"f{i}.png"), clip_frames[i][:, :, ::-1])
    make_clip(clips / "a.avi", clip_frames[:4], codec=("-c:v", "mpeg4", "-q:v", "2"))
    make_clip(clips / "a.mp4", clip_frames[:5])
    make_clip(clips / "b.mp4", clip_frames[:6])
    out = tmp_path / "out"
    args = ["batch", clips, out, "--model", tiny_bundle, "--json", "-q", "--format", ".gif"]
    result = _invoke(args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(Path(r["input"]).name, Path(r["output"]).name, r["status"], r["frames"])
            for r in rows] == [("a", "a.gif", "done", 3), ("a.avi", "a.avi.gif", "done", 4),
                               ("a.mp4", "a.mp4.gif", "done", 5), ("b.mp4", "b.gif", "done", 6)]
    from lgan_video.media import probe

    assert [probe(out / n).frame_count for n in ("a.gif", "a.avi.gif", "a.mp4.gif", "b.gif")] \
        == [3, 4, 5, 6]
    rerun = json.loads(_invoke(args).output)
    assert [(Path(r["output"]).name, r["status"]) for r in rerun] == [
        ("a.gif", "skipped"), ("a.avi.gif", "skipped"), ("a.mp4.gif", "skipped"),
        ("b.gif", "skipped")]
    only = json.loads(_invoke(args + ["--pattern", "*.avi", "--overwrite"]).output)
    assert [Path(r["output"]).name for r in only] == ["a.avi.gif"]  # --pattern renames nothing


def test_output_names_resolve_chains_of_collisions(tmp_path):
    from lgan_video.batch import output_names

    for name in ("a.avi", "a.mp4", "a.avi.mov", "b.mp4"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "c").mkdir()
    inputs = sorted(tmp_path.iterdir())
    names = {p.name: n for p, n in output_names(inputs).items()}
    assert names == {"a.avi": "a.avi", "a.mp4": "a.mp4", "a.avi.mov": "a.avi.mov",
                     "b.mp4": "b", "c": "c"}


# --- 6. training state that cannot be resumed: one line naming the file and the cause ----------

@pytest.fixture()
def sr_run(tmp_path, clip_frames):
    import cv2

    data = tmp_path / "data"
    data.mkdir()
    for i in range(2):
        cv2.imwrite(str(data / f"i{i}.png"), clip_frames[i][:, :, ::-1])
    run = tmp_path / "run"
    args = ["train", "sr", data, "--out", run, "--steps", "1", "--workers", "0", *TINY_SR]
    result = _invoke(args)
    assert result.exit_code == 0, result.output
    return run, args[:5] + ["--steps", "2"] + args[7:]


def test_pickled_state_is_refused_in_one_line(sr_run):
    import torch

    run, resume = sr_run
    torch.save({"step": 1, "evil": Path("/x")}, run / "state.pt")  # a pickled class
    line = _one_line_error(_invoke(resume), "cannot read training state")
    assert str(run / "state.pt") in line and "pickled object (pathlib" in line


def test_state_with_wrong_shapes_is_refused_in_one_line(sr_run):
    import torch

    run, resume = sr_run
    state = torch.load(run / "state.pt", weights_only=True)
    state["modules"]["g"]["stem.weight"] = torch.zeros(2, 3, 3, 3)
    torch.save(state, run / "state.pt")
    line = _one_line_error(_invoke(resume), "cannot resume from")
    assert line == (f"Error: cannot resume from {run / 'state.pt'}: network g does not fit this "
                    f"run's configuration (1 mis-shaped tensor(s), e.g. stem.weight (2, 3, 3, 3) "
                    f"instead of (4, 3, 3, 3))")


# --- 7. causes, not "internal error" ------------------------------------------------------------

def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims ``width x height`` gray pixels and holds one empty IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


def test_symlink_loop_is_named(tmp_path, tiny_bundle):
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "other")
    (tmp_path / "other").symlink_to(loop)
    for args in (["probe", loop], ["render", loop, "--model", tiny_bundle, "-o", tmp_path / "o.gif"]):
        _one_line_error(_invoke(args), f"cannot open {loop}: Too many levels of symbolic links")
    _one_line_error(_invoke(["batch", tmp_path, loop, "--model", tiny_bundle]),
                    "the output folder is not a folder")


def test_decompression_bomb_is_named(tmp_path, tiny_bundle):
    bomb = _png_header_only(tmp_path / "bomb.png", 20000, 20000)
    for args in (["probe", bomb], ["render", bomb, "--model", tiny_bundle, "-o", tmp_path / "o.gif"]):
        _one_line_error(_invoke(args), f"image too large to decode safely: {bomb}")


def test_output_under_a_file_is_named(tmp_path, clip_mp4, tiny_bundle):
    (tmp_path / "f").write_text("")
    result = _invoke(["render", clip_mp4, "--model", tiny_bundle, "-o", tmp_path / "f" / "o.gif"])
    _one_line_error(result, f"cannot write the output: {tmp_path / 'f'} is a file, not a folder")


def test_read_only_output_folder_is_named(tmp_path, clip_mp4, tiny_bundle):
    """A real read-only folder: chmod for a normal user; for root (whom permissions do not stop),
    a read-only tmpfs in a private mount namespace."""
    folder = tmp_path / "ro"
    folder.mkdir()
    args = [sys.executable, "-m", "lgan_video", "render", str(clip_mp4), "--model",
            str(tiny_bundle), "-o", str(folder / "o.gif"), "-q"]
    if os.geteuid() != 0:
        folder.chmod(0o555)
    elif _can_mount():
        args = ["unshare", "-rm", "sh", "-c",
                f'mount -t tmpfs -o ro,size=1m tmpfs "{folder}" && exec "$@"', "sh", *args]
    else:
        pytest.skip("running as root without user namespaces: no way to make a folder read-only")
    proc = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    assert proc.stderr == (f"Error: cannot write the output: folder {folder} is not writable "
                           f"(read-only or no permission): {folder / 'o.gif'}\n")


@pytest.mark.parametrize("output, message", [
    ("frames", r"could not write frame \d+ of {out}: No space left on device"),
    ("o.mp4", r"ffmpeg could not encode the mp4 output: {out} \(.*No space left on device\)"),
])
def test_a_full_disk_is_named_and_leaves_nothing(tmp_path, clip_mp4, tiny_bundle, output,
                                                 message):
    """A real full disk: an 8 KiB tmpfs in a private mount namespace (the file-size-limit test
    below covers the same paths where mounting is not allowed)."""
    import re

    if not _can_mount():
        pytest.skip("no user namespaces: cannot mount a small tmpfs")
    folder = tmp_path / "small"
    folder.mkdir()
    out = folder / output
    listing = tmp_path / "left.txt"
    script = (f'mount -t tmpfs -o size=8k tmpfs "{folder}" && "$@"; rc=$?; '
              f'ls -A "{folder}" > "{listing}"; exit $rc')
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", sys.executable, "-m", "lgan_video",
         "render", str(clip_mp4), "--model", str(tiny_bundle), "-o", str(out), "-q",
         "--no-audio"],
        env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    assert re.fullmatch("Error: " + message.format(out=re.escape(str(out))) + "\n", proc.stderr), \
        proc.stderr
    assert listing.read_text() == ""  # nothing left in the full folder


@functools.lru_cache(maxsize=1)
def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


def _file_size_limit(limit: int):
    def apply() -> None:
        _default_signals()
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_writes_failing_mid_output_leave_nothing(tmp_path, clip_mp4, tiny_bundle):
    """Where no tmpfs can be mounted this still makes the kernel refuse our writes."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out, message = out_dir / "frames/", "could not write frame 1 of {out}: File too large"
    proc = _run(["render", clip_mp4, "--model", tiny_bundle, "-o", out, "-q", "--no-audio"],
                preexec_fn=_file_size_limit(4096))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: " + message.format(out=out)), lines
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("error, expected", [
    (OSError(28, "No space left on device", "/out/x.png"),
     "Error: No space left on device: /out/x.png"),
    (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 bytes.\n"
                  "more"),
     "Error: out of memory (DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 "
     "bytes.); lower --size or --batch-size"),
    (ValueError("first line\nsecond line"),
     "Error: internal error: ValueError: first line (run with -v for the traceback)"),
])
def test_unexpected_failures_are_still_one_line(monkeypatch, tmp_path, error, expected):
    import lgan_video.render

    def fail(*_a, **_k):
        raise error

    monkeypatch.setattr(lgan_video.render, "render", fail)
    result = _invoke(["render", tmp_path / "x.mp4"])
    assert (result.exit_code, result.output) == (1, expected + "\n")


@pytest.mark.parametrize("args, option", [
    (["render", "{clip}", "--style-period", "nan"], "--style-period"),
    (["render", "{clip}", "--style-period", "inf"], "--style-period"),
    (["render", "{clip}", "--temporal", "nan"], "--temporal"),
    (["interpolate", "--fps", "nan"], "--fps"),
    (["train", "g1", "{clip}", "--out", "{tmp}/r", "--lr-g", "nan"], "--lr-g"),
])
def test_nan_and_inf_options_are_refused(tmp_path, clip_mp4, args, option):
    args = [a.format(clip=clip_mp4, tmp=tmp_path) for a in args]
    line = _one_line_error(_invoke(args), f"Invalid value for '{option}'")
    assert "is not a finite number" in line
    assert list(tmp_path.iterdir()) == []


# --- 8. a working size that cannot fit is refused before any work --------------------------------

def test_size_beyond_memory_is_refused_with_the_estimate(tmp_path, clip_mp4, tiny_bundle):
    out = tmp_path / "o.mp4"
    line = _one_line_error(_invoke(["render", clip_mp4, "--model", tiny_bundle, "-o", out,
                                    "--size", "20000"]), "--size 20000 needs about")
    assert "(26666x20000 working frames, batch 8)" in line and "GB is available" in line
    assert list(tmp_path.iterdir()) == []


# --- 9. probe reads image headers, not pixels ---------------------------------------------------

def test_probe_of_a_huge_png_reads_only_its_header(tmp_path):
    path = tmp_path / "huge.png"
    _write_gray_png(path, 12000, 12000)
    code = ("import json, sys; from lgan_video.media import probe; i = probe(sys.argv[1]); "
            "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]; "
            "print(json.dumps([i.width, i.height, i.kind, int(hwm.split()[1]) * 1024]))")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], env=_env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    width, height, kind, peak = json.loads(proc.stdout)
    assert (width, height, kind) == (12000, 12000, "image")
    assert peak < 300 * 2**20  # decoding would take 432 MB for the RGB pixels alone


def _write_gray_png(path: Path, width: int, height: int) -> None:
    """A real (all-black) 8-bit gray PNG, streamed: little memory, ~140 KB on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    z = zlib.compressobj(6)
    row = bytes(width + 1)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))


def test_probe_applies_exif_orientation_from_the_header(tmp_path):
    from PIL import Image

    from lgan_video.media import open_reader, probe

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90: stored 40x30, shown 30x40
    Image.new("RGB", (40, 30), (200, 10, 10)).save(tmp_path / "r.jpg", exif=exif)
    info = probe(tmp_path / "r.jpg")
    assert (info.width, info.height) == (30, 40)
    with open_reader(tmp_path / "r.jpg") as reader:
        assert [f.shape for f in reader] == [(40, 30, 3)]


# --- 10. usage errors: one line, exit 1, like every other bad input ------------------------------

@pytest.mark.parametrize("args, expected", [
    (["render", "x.mp4", "--batch-size", "0"],
     "Error: Invalid value for '--batch-size': 0 is not in the range x>=1. "
     "(see 'cli render --help')"),
    (["render", "x.mp4", "--mode", "sketch"],
     "Error: Invalid value for '--mode': 'sketch' is not one of 'edge', 'seg'. "
     "(see 'cli render --help')"),
    (["render"], "Error: Missing argument 'INPUT'. (see 'cli render --help')"),
    (["probe", "x.mp4", "--jsn"],
     "Error: No such option '--jsn'. Did you mean '--json'? (see 'cli probe --help')"),
    (["renderr"], "Error: No such command 'renderr'. Did you mean 'render'? (see 'cli --help')"),
])
def test_usage_errors_are_one_line_with_exit_1(args, expected):
    result = _invoke(args)
    assert (result.exit_code, result.output) == (1, expected + "\n")


def test_help_and_version_still_exit_0():
    assert _invoke(["render", "--help"]).exit_code == 0
    assert _invoke(["--version"]).exit_code == 0
    alone = _invoke([])  # the group alone prints its help
    assert alone.exit_code == 0 and alone.output.startswith("Usage: ")


def test_closed_stdout_is_not_an_error(clip_mp4):
    """`lgan-video probe x --json | true`: the reader is gone before Python even starts; no
    traceback, no 'Error' about the pipe."""
    proc = subprocess.run(f'"{sys.executable}" -m lgan_video probe "{clip_mp4}" --json | true',
                          shell=True, env=_env(), capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


# --- 11. a bundle.json without work_size is refused ----------------------------------------------

def test_bundle_without_work_size_is_refused(tmp_path, clip_mp4):
    from lgan_video.testing import make_tiny_bundle

    bundle = make_tiny_bundle(tmp_path / "b")
    meta = json.loads((bundle / "bundle.json").read_text())
    del meta["work_size"]
    (bundle / "bundle.json").write_text(json.dumps(meta))
    result = _invoke(["render", clip_mp4, "--model", bundle, "-o", tmp_path / "o.gif"])
    _one_line_error(result, f"bundle {bundle}: bundle.json has no work_size")


# --- 12. loader workers die with the trainer; truncated images are counted at scan --------------

@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_loader_workers_end_with_the_trainer(tmp_path, clip_frames, sig):
    import cv2

    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        cv2.imwrite(str(data / f"i{i}.png"), clip_frames[i][:, :, ::-1])
    proc = _spawn(["train", "sr", data, "--out", tmp_path / "run", "--steps", "1000000",
                   "--workers", "2", "--checkpoint-every", "1000000", *TINY_SR])
    try:
        workers = _wait_for(lambda: len(_children(proc.pid)) >= 2 and _children(proc.pid), 90,
                            "two data loader workers")
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)  # the trainer; communicate() would also wait for the workers
        # torch's own watchdog would notice a dead trainer only after up to 5 s
        _wait_for(lambda: not any(_alive(w) for w in workers), 2.0, "the workers to end")
        code, _, stderr = _finish(proc)
    finally:
        _kill_group(proc)
    if sig == signal.SIGTERM:
        assert (code, stderr) == (143, "Error: interrupted by SIGTERM\n")


def test_truncated_images_are_counted_at_scan(tmp_path, clip_frames, caplog):
    import cv2

    from lgan_video.training.data import scan_source

    for i in range(3):
        cv2.imwrite(str(tmp_path / f"ok{i}.jpg"), clip_frames[i][:, :, ::-1])
    cv2.imwrite(str(tmp_path / "ok.png"), clip_frames[3][:, :, ::-1])
    for name in ("ok0.jpg", "ok.png"):
        data = (tmp_path / name).read_bytes()
        (tmp_path / f"cut_{name}").write_bytes(data[: len(data) * 2 // 3])
    padded = (tmp_path / "ok1.jpg").read_bytes() + b"\x00" * 10  # complete, with padding
    (tmp_path / "padded.jpg").write_bytes(padded)
    src = scan_source(tmp_path)
    assert (len(src), src.skipped) == (5, 2)
    assert "skipped 2 unreadable file(s)" in caplog.text
    assert sorted(Path(p).name for p in src.items) == ["ok.png", "ok0.jpg", "ok1.jpg", "ok2.jpg",
                                                        "padded.jpg"]
    assert np.asarray(src.load(0)).shape == (120, 160, 3)
