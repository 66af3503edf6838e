"""Training data: what a source is, how its images are read, and the order they are seen in.

A source is an image file, a folder of images (searched recursively), a video or GIF, or a folder
mixing both; videos contribute every ``frame_stride``-th frame, decoded once through the media layer
and kept in memory at the short side the task asks for. Image files are read lazily (in the loader
workers) by ``media.images.load_image``: grayscale becomes RGB, 16-bit becomes 8-bit, alpha is
composited onto white.

The order is ours, not the DataLoader's: :class:`BatchSampler` derives epoch ``e``'s permutation
from ``(seed, e)`` and deals it out to ranks like ``DistributedSampler``; a run's *data position*
is simply the number of batches consumed, saved in the checkpoint, so a resumed run sees exactly
the batches an uninterrupted one would. Each sample carries its ``(index, epoch)`` so augmentation
randomness comes from ``(seed, epoch, index)`` and does not depend on the number of workers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lgan_video.errors import LganError
from lgan_video.media.suffixes import CLIP_SUFFIXES, IMAGE_SUFFIXES

log = logging.getLogger("lgan_video.training")



@dataclass
class Source:
    """The items of a training source: image paths (read lazily) and decoded video frames.

    ``items[i]`` is a ``Path`` or a uint8 RGB ``(H, W, 3)`` array; ``names[i]`` a stable id used
    for caches (``path`` or ``path#frame``); ``skipped`` counts unreadable files.
    """

    root: Path
    items: list[Path | np.ndarray] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    skipped: int = 0

    def __len__(self) -> int:
        return len(self.items)

    def load(self, i: int) -> np.ndarray:
        """Item ``i`` as uint8 RGB ``(H, W, 3)``; an image that fails to decode is replaced by
        the next readable item (deterministically) with a warning."""
        for k in range(len(self.items)):
            item = self.items[(i + k) % len(self.items)]
            if isinstance(item, np.ndarray):
                return item
            try:
                return read_image(item)
            except LganError as e:
                log.warning("%s; using another image", e)
        raise LganError(f"no readable image in {self.root}")

    def subset(self, indices: list[int]) -> Source:
        """A source holding only ``indices`` (e.g. a held-out split)."""
        return Source(self.root, [self.items[i] for i in indices],
                      [self.names[i] for i in indices], 0)


def read_image(path: Path) -> np.ndarray:
    """Decode an image file to uint8 RGB ``(H, W, 3)`` through the media layer (alpha onto white,
    gray and 16-bit to RGB8, EXIF orientation applied); ``LganError`` when it cannot."""
    from lgan_video.media.images import load_image

    return load_image(Path(path))


_TAILS = {"JPEG": b"\xff\xd9", "PNG": b"IEND\xaeB`\x82"}  # how a complete file ends


def _looks_readable(path: Path) -> bool:
    """Check at scan time that the image parses and is complete.

    Cheap for the usual formats: the header parses and a JPEG ends with its EOI marker, a PNG with
    its IEND chunk (what truncation cuts off). Anything else, or a file whose end looks wrong, is
    decoded once to be sure, so a truncated image is counted here rather than replaced later.
    """
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.width <= 0 or im.height <= 0:
                return False
            if im.format in _TAILS and _ends_with(path, _TAILS[im.format]):
                return True
            if im.format == "JPEG":
                im.draft("RGB", (1, 1))  # decode at 1/8 scale: still reads every byte
            im.load()
            return True
    except Exception:  # PIL raises many types for garbage; any of them means unreadable
        return False


def _ends_with(path: Path, tail: bytes) -> bool:
    with open(path, "rb") as f:
        f.seek(max(0, f.seek(0, 2) - 64))
        return f.read().rstrip(b"\x00\r\n ").endswith(tail)


def scan_source(
    path: str | Path, frame_stride: int = 10, video_short_side: int | None = None,
    min_items: int = 1,
) -> Source:
    """List the training items under ``path`` (see the module docstring).

    ``video_short_side`` resizes decoded video frames (None keeps them as they are). Raises
    ``LganError`` when the path is missing or yields fewer than ``min_items`` items.
    """
    root = Path(path)
    if not root.exists():
        raise LganError(f"training data not found: {root}")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    src = Source(root)
    for f in files:
        suffix = f.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            _add_image(src, f)
        elif suffix in CLIP_SUFFIXES:
            _add_video(src, f, frame_stride, video_short_side)
        else:
            log.debug("ignoring %s (not an image or video)", f)
    if src.skipped:
        log.warning("skipped %d unreadable file(s) in %s", src.skipped, root)
    if len(src) < min_items:
        raise LganError(f"training data has {len(src)} usable image(s), need at least "
                        f"{min_items}: {root}")
    return src


def _add_image(src: Source, f: Path) -> None:
    if not _looks_readable(f):
        log.warning("unreadable image skipped: %s", f)
        src.skipped += 1
        return
    src.items.append(f)
    src.names.append(str(f.relative_to(src.root) if f != src.root else f.name))


def _add_video(src: Source, f: Path, stride: int, short_side: int | None) -> None:
    from lgan_video.media import open_reader

    try:
        with open_reader(f, stride=stride, size=short_side) as reader:
            frames = [np.ascontiguousarray(fr) for fr in reader]
    except (LganError, OSError, RuntimeError, ValueError) as e:
        log.warning("unreadable video skipped: %s (%s)", f, e)
        src.skipped += 1
        return
    name = str(f.relative_to(src.root) if f != src.root else f.name)
    for k, frame in enumerate(frames):
        src.items.append(frame)
        src.names.append(f"{name}#{k * stride}")
    log.info("%s: %d frames (stride %d)", f, len(frames), stride)


def split_holdout(n: int, max_holdout: int = 8) -> tuple[list[int], list[int]]:
    """Deterministic (train, held-out) index lists: every 10th item, at most ``max_holdout``.

    Sources with fewer than 20 items hold nothing out (too few to spare); the evaluation during
    training then uses the first training items, which the log says.
    """
    held = [i for i in range(9, n, 10)][:max_holdout] if n >= 20 else []
    held_set = set(held)
    return [i for i in range(n) if i not in held_set], held


class BatchSampler:
    """An endless, seeded sequence of batches of ``(index, epoch)`` pairs, resumable by position.

    Epoch ``e`` is ``np.random.default_rng([seed, e]).permutation(n)``; rank ``r`` of ``world``
    takes ``perm[r::world]`` (as ``DistributedSampler``) and cuts it into whole batches. ``start``
    is the number of batches already consumed (the saved data position).
    """

    def __init__(self, n: int, batch_size: int, seed: int, start: int = 0, rank: int = 0,
                 world: int = 1) -> None:
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start, self.rank, self.world = start, rank, world
        self.per_epoch = (n // world) // batch_size
        if self.per_epoch < 1:
            raise LganError(f"training data has {n} image(s), fewer than one batch of "
                            f"{batch_size} per process ({world} process(es)); lower --batch-size")

    def batch(self, k: int) -> list[tuple[int, int]]:
        """The ``k``-th batch of this rank (0-based, counted from the start of training)."""
        epoch, b = divmod(k, self.per_epoch)
        perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        shard = perm[self.rank::self.world][: self.per_epoch * self.batch_size]
        return [(int(i), epoch) for i in shard[b * self.batch_size:(b + 1) * self.batch_size]]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        k = self.start
        while True:
            yield self.batch(k)
            k += 1


def sample_rng(seed: int, epoch: int, index: int, stream: int = 0) -> np.random.Generator:
    """The augmentation RNG of one sample in one epoch (independent of workers and ranks)."""
    return np.random.default_rng([seed, epoch, index, stream])


def make_loader(
    dataset: torch.utils.data.Dataset, sampler: BatchSampler, collate: Callable,
    workers: int, device: torch.device,
) -> Iterator:
    """An iterator over collated batches in ``sampler``'s order (pinned memory on CUDA)."""
    loader = torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, num_workers=workers, collate_fn=collate,
        pin_memory=device.type == "cuda", persistent_workers=False,
        prefetch_factor=2 if workers > 0 else None,
        generator=torch.Generator(),  # so creating the loader never draws from the global RNG
        worker_init_fn=_init_worker if workers > 0 else None,
    )
    return iter(loader)


def close_loader(batches: Iterator) -> None:
    """Stop a loader's worker processes now (not whenever the iterator is collected)."""
    shutdown = getattr(batches, "_shutdown_workers", None)  # torch's multi-process iterator
    if shutdown is not None:
        shutdown()


def _init_worker(_worker_id: int) -> None:
    """In each loader worker: default signal handling (the trainer's turn signals into an
    exception meant for the main process only) and, on Linux, death with the trainer.

    Without ``PR_SET_PDEATHSIG`` a worker notices a trainer killed by SIGKILL only at torch's
    next watchdog check, up to 5 s later, and keeps its memory until then.
    """
    import multiprocessing
    import signal
    import sys

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the trainer died before prctl
        os._exit(1)


def default_workers() -> int:
    """``min(2, cpu count)``: enough to hide decoding for small images without oversubscribing."""
    return min(2, os.cpu_count() or 1)
