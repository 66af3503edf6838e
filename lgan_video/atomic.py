"""Atomic writes: every file or folder lgan-video leaves is complete, or absent.

Content goes to a hidden temporary sibling in the destination's folder
(``.name.partial-HOST-PID-XXXXXXXX``, so the rename never crosses file systems and a later run can
tell whose it was) and is renamed over the destination only once complete; on any error
(KeyboardInterrupt included) the temporary is removed and the destination is as it was. Only
SIGKILL (or a power cut) can leave a temporary behind: :func:`remove_stale_temporaries` removes
those whose process, on this host, is gone (temporaries of live processes and of other hosts
sharing the folder are kept).

One helper for rendered outputs (``media.writer`` through ``media.atomic.AtomicTarget``), bundles,
training state and weights, logs, sample grids and cached maps.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("lgan_video.atomic")

_TEMPORARY = re.compile(r"^\..+\.(?:partial|old)-([0-9a-f]{6})-(\d+)-[0-9a-f]{8}(?:\..*)?$")


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def tag(kind: str = "partial") -> str:
    """``partial-HOST-PID-TOKEN``: who wrote a temporary, so a later run can tell if it is stale."""
    return f"{kind}-{_host_tag()}-{os.getpid()}-{secrets.token_hex(4)}"


def temp_sibling(dest: str | os.PathLike, is_dir: bool = False) -> Path:
    """A fresh hidden path beside ``dest`` keeping its suffix (``.out.partial-...-1a2b3c4d.mp4``).

    The parent folder is created; a temporary folder is created too (usual umask permissions),
    a temporary file is not.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    name = f".{dest.name}.{tag()}" if is_dir else f".{dest.stem}.{tag()}{dest.suffix}"
    tmp = dest.parent / name
    if is_dir:
        tmp.mkdir()
    return tmp


def replace(tmp: Path, dest: Path) -> None:
    """Move the finished ``tmp`` over ``dest``. Where a folder is involved (a rename cannot
    replace one), the old ``dest`` is moved aside first and deleted after, so a failure never
    leaves neither."""
    dest = Path(dest)
    if not (Path(tmp).is_dir() or dest.is_dir()) or not (dest.exists() or dest.is_symlink()):
        os.replace(tmp, dest)
        return
    trash = dest.parent / f".{dest.name}.{tag('old')}"
    os.replace(dest, trash)
    os.replace(tmp, dest)
    discard(trash)


def discard(path: Path) -> None:
    """Remove a temporary file or folder (missing is fine), never raising: cleanup must not hide
    the error that caused it."""
    path = Path(path)
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as e:
        log.debug("could not remove %s: %s", path, e)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporaries in ``folder`` left by killed writers on this host; returns them."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    host = _host_tag()
    for p in entries:
        m = _TEMPORARY.match(p.name)
        if m is None or m.group(1) != host or _alive(int(m.group(2))):
            continue
        discard(p)
        removed.append(p)
        log.info("removed a temporary left by an interrupted run: %s", p)
    return removed


@contextmanager
def atomic_path(dest: str | os.PathLike, is_dir: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of ``dest`` to write; it replaces ``dest`` when the block ends
    normally and is removed when the block raises.

    Example::

        with atomic_path(run_dir / "state.pt") as tmp:
            torch.save(state, tmp)
    """
    tmp = temp_sibling(dest, is_dir)
    try:
        yield tmp
        replace(tmp, Path(dest))
    except BaseException:
        discard(tmp)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; returns the path."""
    return write_bytes(path, text.encode("utf-8"))


def discard_partials(dest: str | os.PathLike) -> list[Path]:
    """Delete every temporary of ``dest`` whoever left it (any host, any process); returns them.

    For a caller that knows no live process writes ``dest``: a batch driver whose worker process
    died, possibly on another host (:func:`remove_stale_temporaries` only judges this host's).
    """
    dest = Path(dest)
    stem, suffix = (dest.stem, dest.suffix) if dest.suffix else (dest.name, "")
    own = re.compile(rf"\.{re.escape(stem)}\.(?:partial|old)-[0-9a-f]{{6}}-\d+-[0-9a-f]{{8}}"
                     rf"(?:\.[^.]+)?{re.escape(suffix)}")
    try:
        found = [p for p in dest.parent.iterdir() if own.fullmatch(p.name)]
    except OSError:
        return []
    for p in found:
        discard(p)
    return found
