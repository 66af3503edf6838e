"""Output paths: the kind a path asks for, checks before work starts, and atomic replacement.

Everything is written to a hidden temporary sibling (``.name.partial-XXXXXXXX``) in the
destination directory and renamed over the destination only when complete, so an interrupted run
leaves neither a half-written file nor a temporary one.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

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


def _same_path(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.absolute().resolve() == b.absolute().resolve()


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
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(4)
        suffix = "" if is_dir else self.dest.suffix
        stem = self.dest.name if is_dir else self.dest.stem
        self.tmp = self.dest.parent / f".{stem}.partial-{token}{suffix}"
        self._extra: list[Path] = []
        if is_dir:
            self.tmp.mkdir()

    def sibling(self, tag: str) -> Path:
        """Another temporary path beside ``tmp`` (for a second pass), cleaned up by ``discard``."""
        p = self.tmp.with_name(f"{self.tmp.stem}.{tag}{self.tmp.suffix}")
        self._extra.append(p)
        return p

    def commit(self, overwrite: bool) -> None:
        """Move the finished temporary output into place."""
        if self.dest.exists() and not overwrite:
            raise LganError(f"output exists (use --overwrite to replace it): {self.dest}")
        if not self.is_dir:
            os.replace(self.tmp, self.dest)
            return
        if self.dest.exists():
            _check_replaceable(self.dest)
            trash = self.dest.parent / f".{self.dest.name}.old-{secrets.token_hex(4)}"
            os.replace(self.dest, trash)
            os.replace(self.tmp, self.dest)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(self.tmp, self.dest)

    def discard(self) -> None:
        """Remove the temporary output (and any sibling), leaving the destination untouched."""
        for p in [self.tmp, *self._extra]:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
