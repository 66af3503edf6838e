"""`batch`: render every video, GIF or frame folder of a folder, resumably.

Each input is an independent :class:`BatchJob`, so a distributed executor can run jobs anywhere
(``shard`` splits the list deterministically). Outputs are written atomically, so an output that
exists is complete: a re-run after a crash skips it and redoes nothing finished.
"""

from __future__ import annotations

import fnmatch
import re
import time
from dataclasses import dataclass
from pathlib import Path

from lgan_video.errors import LganError
from lgan_video.media.images import natural_key
from lgan_video.media.suffixes import CLIP_SUFFIXES, IMAGE_SUFFIXES


@dataclass(frozen=True)
class BatchJob:
    """One input and the output it renders to."""

    input: Path
    output: Path


@dataclass(frozen=True)
class JobOutcome:
    """``status`` is ``done``, ``skipped`` (output already there) or ``failed`` (with ``error``)."""

    job: BatchJob
    status: str
    frames: int = 0
    seconds: float = 0.0
    error: str = ""

    def to_dict(self) -> dict:
        return {"input": str(self.job.input), "output": str(self.job.output),
                "status": self.status, "frames": self.frames,
                "seconds": round(self.seconds, 3), "error": self.error}


def _is_input(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in CLIP_SUFFIXES
    return path.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir())


def plan_batch(
    input_dir: str | Path, output_dir: str | Path, pattern: str = "*", suffix: str = ".mp4",
    shard: tuple[int, int] = (0, 1),
) -> list[BatchJob]:
    """The jobs for ``input_dir``: entries matching ``pattern``, natural order, this ``shard``.

    ``shard=(i, n)`` keeps jobs ``i, i+n, i+2n, ...`` so n machines can split one batch.
    """
    src, dst = Path(input_dir), Path(output_dir)
    if not src.is_dir():
        raise LganError(f"not a folder: {src}")
    if _same_folder(src, dst):
        raise LganError(f"the output folder is the input folder (outputs would be taken for "
                        f"finished jobs and become inputs): {dst}")
    if (dst.exists() or dst.is_symlink()) and not dst.is_dir():
        raise LganError(f"the output folder is not a folder: {dst}")
    inputs = sorted((p for p in src.iterdir() if _is_input(p)), key=lambda p: natural_key(p.name))
    names = output_names(inputs)  # from every input, so --pattern and --shard never rename
    jobs = [BatchJob(p, dst / f"{names[p]}{suffix}") for p in inputs
            if fnmatch.fnmatch(p.name, pattern)]
    if not jobs:
        raise LganError(f"no videos, GIFs or frame folders matching '{pattern}' in {src}")
    index, count = shard
    return jobs[index::count]


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):  # a symlink loop cannot be the (existing) input folder
        return False


def output_names(inputs: list[Path]) -> dict[Path, str]:
    """The output name (without the format suffix) of each input: distinct and deterministic.

    A file gives its stem (``clip.avi`` -> ``clip``), a folder its name; when several inputs
    would share a name, each of them keeps its full name instead (``clip.avi`` -> ``clip.avi``,
    ``clip.mp4`` -> ``clip.mp4``, folder ``clip`` -> ``clip``), repeated until no two collide.
    Names depend only on the set of inputs, so every run over the same folder agrees.
    """
    names = {p: (p.stem if p.is_file() else p.name) for p in inputs}
    while True:
        groups: dict[str, list[Path]] = {}
        for p, name in names.items():
            groups.setdefault(name, []).append(p)
        clashes = [p for group in groups.values() if len(group) > 1 for p in group
                   if names[p] != p.name]
        if not clashes:
            break
        for p in clashes:
            names[p] = p.name
    return names


def is_finished(job: BatchJob) -> bool:
    """Whether ``job`` has its output (complete: outputs are written atomically)."""
    return job.output.exists()


def prepare_batch(output_dir: str | Path, model: str | Path, device: str, render_options: dict,
                  precision: str = "auto"):
    """Load the model (``precision``, ``render_options["threads"]``) and check it can render
    every job (mode, scale); create ``output_dir``.

    Problems every job would have are one :class:`LganError` here, not one failure per job.
    """
    from lgan_video.render import check_model, load_pipeline

    pipeline = load_pipeline(model, device, precision, render_options.get("threads"))
    check_model(pipeline, render_options.get("mode", "seg"), render_options.get("scale"))
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    return pipeline


def run_job(job: BatchJob, overwrite: bool = False, **render_options) -> JobOutcome:
    """Render one job; an existing output is skipped; a bad input is reported, not raised."""
    from lgan_video.render import render

    if is_finished(job) and not overwrite:
        return JobOutcome(job, "skipped")
    t0 = time.perf_counter()
    try:
        result = render(job.input, job.output, overwrite=overwrite, **render_options)
    except LganError as e:
        if is_finished(job) and not overwrite:  # another run (a dead driver's worker) finished it
            return JobOutcome(job, "skipped", seconds=time.perf_counter() - t0)
        return JobOutcome(job, "failed", seconds=time.perf_counter() - t0, error=str(e))
    return JobOutcome(job, "done", result.frames, time.perf_counter() - t0)


def run_batch(
    input_dir: str | Path,
    output_dir: str | Path,
    *,
    pattern: str = "*",
    suffix: str = ".mp4",
    shard: tuple[int, int] = (0, 1),
    model: str | Path = "default",
    device: str = "auto",
    precision: str = "auto",
    overwrite: bool = False,
    on_outcome=None,
    pipeline=None,
    **render_options,
) -> list[JobOutcome]:
    """Run every job of :func:`plan_batch`, loading the model once; returns one outcome per job.

    The model is loaded only if some job has work to do (or ``pipeline`` reuses a loaded one);
    ``on_outcome(outcome)`` is called after each job (for live reporting).
    """
    jobs = plan_batch(input_dir, output_dir, pattern, suffix, shard)
    outcomes = []
    for job in jobs:
        if pipeline is None and (overwrite or not is_finished(job)):
            pipeline = prepare_batch(output_dir, model, device, render_options, precision)
        outcome = run_job(job, overwrite=overwrite, pipeline=pipeline, **render_options)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/8"`` -> ``(2, 8)``: the third of eight shards (0-based)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        raise LganError(f"bad --shard '{text}': use I/N with 0 <= I < N, e.g. 0/4")
    return int(m.group(1)), int(m.group(2))
