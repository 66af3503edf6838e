"""Output paths: the kind a path asks for, checks before work starts, and atomic replacement.

Everything is written to a hidden temporary sibling (``.name.partial-HOST-PID-XXXXXXXX``, made by
:mod:`lgan_video.atomic`, the one atomic-write helper) in the destination directory and renamed
over the destination only when complete, so an interrupted run leaves neither a half-written file
nor a temporary one. Only SIGKILL (or a power cut) can leave a temporary behind; the next writer
in that folder removes every temporary whose process, on this host, is gone (temporaries of live
processes and of other hosts sharing the folder are kept).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lgan_video import atomic
from lgan_video.atomic import remove_stale_temporaries
from lgan_video.errors import LganError

OUTPUT_KINDS = {".mp4": "mp4", ".gif": "gif", ".webp": "webp"}
_FRAME_FILE = re.compile(r"^frame_\d+\.png$")


def output_kind(path: str | os.PathLike) -> str:
    """``"mp4"``, ``"gif"``, ``"webp"`` or ``"folder"`` (no suffix, a trailing slash, or an
    existing folder); ``LganError`` for any other suffix."""
    text = os.fspath(path)
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir() or p.suffix == "":
        return "folder"
    kind = OUTPUT_KINDS.get(p.suffix.lower())
    if kind is None:
        raise LganError(f"unknown output type '{p.suffix}' (use .mp4, .gif, .webp, or a folder "
                        f"name without a suffix): {text}")
    return kind


def check_output(path: str | os.PathLike, inputs=(), overwrite: bool = False) -> Path:
    """Check ``path`` before any work: known kind, not one of ``inputs``, and not existing unless
    ``overwrite``. Returns it as a ``Path``; raises a one-line ``LganError``."""
    kind = output_kind(path)
    out = Path(path)
    _check_folder(out)
    for inp in inputs:
        if inp is not None and _same_path(out, Path(inp)):
            raise LganError(f"output is the same as the input: {path}")
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise LganError(f"output exists (use --overwrite to replace it): {path}")
        if kind == "folder" and not out.is_dir():
            raise LganError(f"output is a file but a frame folder was asked for: {path}")
        if kind != "folder" and out.is_dir():
            raise LganError(f"output is a folder but a {kind} file was asked for: {path}")
        if kind == "folder":
            _check_replaceable(out)
    return out


def _check_folder(out: Path) -> None:
    """The output's folder is (or can be made) a writable folder: nearest existing ancestor."""
    for folder in out.absolute().parents:
        if folder.exists():
            if not folder.is_dir():
                raise LganError(f"cannot write the output: {folder} is a file, not a folder: {out}")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise LganError(f"cannot write the output: folder {folder} is not writable "
                                f"(read-only or no permission): {out}")
            return


def _same_path(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    try:
        return a.absolute().resolve() == b.absolute().resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare the paths as written
        return a.absolute() == b.absolute()


def _check_replaceable(folder: Path) -> None:
    """Only frame folders we could have written are replaced, never a folder with other files."""
    others = [p.name for p in folder.iterdir() if not _FRAME_FILE.match(p.name)]
    if others:
        raise LganError(f"refusing to replace a folder that holds other files "
                        f"(e.g. {others[0]}): {folder}")


class AtomicTarget:
    """A temporary sibling of ``dest`` (a file, or a folder when ``is_dir``) renamed on commit."""

    def __init__(self, dest: Path, is_dir: bool) -> None:
        self.dest, self.is_dir = Path(dest), is_dir
        self._extra: list[Path] = []
        try:
            self.dest.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(self.dest.parent)
            self.tmp = atomic.temp_sibling(self.dest, is_dir)
        except OSError as e:
            raise LganError(f"cannot write the output {self.dest}: {e.strerror or e}") from None

    def sibling(self, tag: str) -> Path:
        """Another temporary path beside ``tmp`` (for a second pass), cleaned up by ``discard``."""
        p = self.tmp.with_name(f"{self.tmp.stem}.{tag}{self.tmp.suffix}")
        self._extra.append(p)
        return p

    def commit(self, overwrite: bool) -> None:
        """Move the finished temporary output into place."""
        if self.dest.exists() and not overwrite:
            raise LganError(f"output exists (use --overwrite to replace it): {self.dest}")
        try:
            if self.is_dir and self.dest.exists():
                _check_replaceable(self.dest)
            atomic.replace(self.tmp, self.dest)
        except OSError as e:
            raise LganError(f"cannot write the output {self.dest}: {e.strerror or e}") from None

    def discard(self) -> None:
        """Remove the temporary output (and any sibling), leaving the destination untouched.

        Never raises: on a read-only or full disk the cleanup's own failure must not replace the
        error that caused it."""
        for p in [self.tmp, *self._extra]:
            atomic.discard(p)
