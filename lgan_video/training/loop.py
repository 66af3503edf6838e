"""The one training loop shared by G1, the mapping network and SR.

A :class:`Task` supplies its networks, optimizers and data, and a ``train_step`` that runs its D
step then its G step (each a short explicit method, like CycleGAN's ``optimize_parameters``) and
returns a dict of floats. :func:`train` does everything else: the run folder, resuming, the data
order, AMP, multi-process gradient averaging, logging, sample grids, evaluation and checkpoints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import random
import shutil
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lgan_video import devices
from lgan_video.devices import Precision, pick_device, resolve_precision
from lgan_video.errors import LganError
from lgan_video.training import checkpoint as ckpt
from lgan_video.training import distributed as ddp
from lgan_video.training.data import (
    BatchSampler,
    Source,
    close_loader,
    default_workers,
    make_loader,
    scan_source,
)
from lgan_video.training.logger import RunLogger, format_losses
from lgan_video.training.run import check_run_dir, start_run_dir

log = logging.getLogger("lgan_video.training")


@dataclass(frozen=True)
class TrainOptions:
    """Options every training command shares (the task's own live in its options dataclass).

    ``batch_size`` is per process (``torchrun`` with N processes trains on N x batch_size);
    ``steps`` is the total target, so re-running with a larger value continues a run.
    ``workers=None`` means ``min(2, cpu count)``; ``frame_stride`` samples video frames.
    ``precision``: auto, fp32, bf16 or fp16 (see :mod:`lgan_video.devices`; mixed precision
    with fp32 master weights); ``threads``: torch threads (None: the cores available).
    """

    data: str
    out: str
    steps: int = 10000
    batch_size: int = 16
    seed: int = 0
    precision: str = "auto"
    device: str = "auto"
    threads: int | None = None
    workers: int | None = None
    sample_every: int = 500
    checkpoint_every: int = 1000
    eval_every: int = 1000
    log_every: int = 20
    frame_stride: int = 10
    overwrite: bool = False
    resume: bool = False
    quiet: bool = False


class StepContext:
    """What a task's steps need from the loop: device, autocast, and one optimizer step.

    ``precision`` (a training :class:`~lgan_video.devices.Precision`: fp32 master weights)
    sets the autocast dtype: bf16 on CUDA where supported and on CPUs with native bf16 (no loss
    scaling needed), fp16 on other GPUs with a ``GradScaler`` per optimizer, or none (fp32).
    """

    def __init__(self, device: torch.device, info: ddp.DistInfo,
                 precision: Precision | str = "fp32") -> None:
        if isinstance(precision, str):  # a name: resolved for training on ``device``
            precision = resolve_precision(device, precision, training=True)
        self.device, self.info, self.precision = device, info, precision
        self.amp_dtype = precision.autocast
        self.scalers: dict[str, torch.amp.GradScaler] = {}
        self.step = 0  # steps completed before the current one (for EMA warm-up)

    def autocast(self) -> contextlib.AbstractContextManager:
        """Mixed precision for forward passes (a no-op in fp32)."""
        return self.precision.context()

    def scaler(self, name: str) -> torch.amp.GradScaler:
        """The loss scaler of optimizer ``name`` (enabled only for fp16)."""
        if name not in self.scalers:
            enabled = self.amp_dtype == torch.float16
            self.scalers[name] = torch.amp.GradScaler(self.device.type, enabled=enabled)
        return self.scalers[name]

    def optimize(self, name: str, loss: torch.Tensor, opt: torch.optim.Optimizer,
                 clip: float | None = None) -> None:
        """Backward ``loss``, average gradients across processes, clip, and step ``opt``."""
        scaler = self.scaler(name)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        params = [p for group in opt.param_groups for p in group["params"]]
        ddp.average_gradients(params, self.info)
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        scaler.step(opt)
        scaler.update()


class Task(ABC):
    """One network's training: networks, optimizers, data, and its D and G steps."""

    name: str = "task"
    dataset: torch.utils.data.Dataset
    collate: Any

    @abstractmethod
    def options(self) -> dict[str, Any]:
        """Task options and network configs, JSON-safe (merged into training_options.json)."""

    def video_short_side(self) -> int | None:
        """Short side to decode video frames at (None: as they are)."""
        return None

    def min_items(self) -> int:
        """Fewest usable images the task can train on."""
        return 1

    def channels_last(self, device: torch.device) -> bool:
        """Whether this task trains faster in channels_last where the precision allows it."""
        return True

    @abstractmethod
    def build(self, source: Source, device: torch.device, run_dir: Path, seed: int) -> None:
        """Create networks, optimizers, the training dataset and the evaluation data."""

    @abstractmethod
    def modules(self) -> dict[str, nn.Module]:
        """Every module whose state is checkpointed (including EMA copies)."""

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimizer, by name."""

    @abstractmethod
    def to_device(self, batch: Any, device: torch.device) -> Any:
        """Move a collated batch to ``device``."""

    @abstractmethod
    def train_step(self, batch: Any, ctx: StepContext) -> dict[str, float]:
        """One iteration: the D step then the G step; returns losses as floats."""

    @abstractmethod
    def sample_grid(self) -> np.ndarray:
        """A uint8 RGB grid for people; must not touch the global RNGs."""

    @abstractmethod
    def evaluate(self) -> dict[str, float]:
        """Cheap metrics on held-out data; must not touch the global RNGs."""

    @abstractmethod
    def export(self) -> tuple[dict[str, nn.Module], dict[str, Any]]:
        """``(name -> module to save as <name>.safetensors, network.json metadata)``."""


def seed_all(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def train(task: Task, opts: TrainOptions) -> Path:
    """Train ``task`` into the run folder ``opts.out`` (resuming it if it exists); its path."""
    device = pick_device(opts.device)
    torch.set_num_threads(opts.threads or devices.default_threads())
    info = ddp.init_from_env(device)
    try:
        return _Trainer(task, opts, ddp.local_device(device, info), info).run()
    finally:
        ddp.shutdown(info)


class _Trainer:
    """The state of one training segment (from start or resume until ``opts.steps``)."""

    def __init__(self, task: Task, opts: TrainOptions, device: torch.device,
                 info: ddp.DistInfo) -> None:
        self.task, self.opts, self.device, self.info = task, opts, device, info
        self.run_dir = Path(opts.out)
        self.step = self.position = 0
        self.wall_time, self.metrics = 0.0, {}
        self.options = resolved_options(task, opts, info)

    def run(self) -> Path:
        resumable = check_run_dir(self.run_dir, self.options, self.opts.overwrite, self.opts.resume)
        source = scan_source(self.opts.data, self.opts.frame_stride, self.task.video_short_side(),
                             self.task.min_items())
        fresh = not self.run_dir.exists()
        ddp.barrier(self.info)
        if self.info.main:
            start_run_dir(self.run_dir, self.options, self.opts.overwrite)
        ddp.barrier(self.info)
        try:
            return self._start(resumable, source)
        except BaseException:
            if fresh and self.info.main and self.step == 0:  # a failed start leaves no run
                shutil.rmtree(self.run_dir, ignore_errors=True)
            raise

    def _start(self, resumable: bool, source: Source) -> Path:
        seed_all(self.opts.seed)  # identical initial weights on every rank
        self.task.build(source, self.device, self.run_dir, self.opts.seed)
        precision = training_precision(self.task, self.device, self.opts.precision)
        self.ctx = StepContext(self.device, self.info, precision)
        if resumable:
            self._restore(ckpt.load_state(self.run_dir))
        else:
            ddp.broadcast_parameters(list(self.task.modules().values()), self.info)
            seed_all(self.opts.seed + self.info.rank)  # each rank draws its own noise
        for module in self.task.modules().values():  # parameters keep their identity
            module.to(memory_format=precision.memory_format)
        log.info("training on %s in %s (%s)", self.device, precision.name,
                 "channels_last" if precision.channels_last else "contiguous")
        if self.step >= self.opts.steps:
            log.info("%s already at step %d of %d", self.run_dir, self.step, self.opts.steps)
            return self.run_dir
        self._loop()
        return self.run_dir

    def _loop(self) -> None:
        from lgan_video.progress import progress

        opts, t0 = self.opts, time.perf_counter()
        sampler = BatchSampler(len(self.task.dataset), opts.batch_size, opts.seed, self.position,
                               self.info.rank, self.info.world)
        workers = default_workers() if opts.workers is None else opts.workers
        batches = make_loader(self.task.dataset, sampler, self.task.collate, workers, self.device)
        logger = RunLogger(self.run_dir, self.step, enabled=self.info.main)
        self.sums, self.count = {}, 0
        quiet = opts.quiet or not self.info.main
        try:
            with progress(f"train {self.task.name}", opts.steps - self.step, "steps", quiet) as bar:
                while self.step < opts.steps:
                    losses = self._one_step(next(batches))
                    bar.advance()
                    bar.set_description(f"{self.task.name} {format_losses(losses)}")
                    self._periodic(logger, losses, time.perf_counter() - t0)
        finally:  # on success, error or signal: workers end with the loop, not minutes later
            close_loader(batches)
            logger.close()

    def _one_step(self, batch: Any) -> dict[str, float]:
        self.position += 1
        self.ctx.step = self.step
        batch = to_memory_format(self.task.to_device(batch, self.device),
                                 self.ctx.precision.memory_format)
        losses = self.task.train_step(batch, self.ctx)
        bad = sorted(k for k, v in losses.items() if not math.isfinite(v))
        if bad:  # stop before a NaN reaches a checkpoint: state.pt keeps the last finite step
            raise LganError(f"training diverged at step {self.step + 1} ({', '.join(bad)} "
                            f"{losses[bad[0]]}); {self.run_dir / ckpt.STATE_FILE} still holds "
                            f"the last checkpoint before it: try --precision fp32 or another "
                            f"--seed (resuming repeats the same batches)")
        ddp.broadcast_buffers(list(self.task.modules().values()), self.info)
        self.step += 1
        return losses

    def _periodic(self, logger: RunLogger, losses: dict[str, float], elapsed: float) -> None:
        """Log (means since the last record), sample, evaluate and checkpoint when due."""
        step, opts, last = self.step, self.opts, self.step == self.opts.steps
        for k, v in losses.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.count += 1
        if step % opts.log_every == 0 or last:
            logger.scalars(step, {f"loss/{k}": v / self.count for k, v in self.sums.items()})
            self.sums, self.count = {}, 0
        if self.info.main and (step % opts.sample_every == 0 or last):
            logger.image(step, self.task.sample_grid())
        if self.info.main and opts.eval_every and (step % opts.eval_every == 0 or last):
            self.metrics = self.task.evaluate()
            logger.scalars(step, self.metrics)
        if step % opts.checkpoint_every == 0 or last:
            self._checkpoint(elapsed)

    def _checkpoint(self, elapsed: float) -> None:
        """Save ``state.pt`` and the exportable weights (rank 0 writes; all ranks take part)."""
        rng = [ckpt.rng_state()]
        if self.info.enabled:
            rng = [None] * self.info.world
            torch.distributed.all_gather_object(rng, ckpt.rng_state())
        if self.info.main:
            wall = self.wall_time + elapsed
            ckpt.save_state(self.run_dir, self._state(rng, wall))
            weights, meta = self.task.export()
            meta["provenance"] = self._provenance(wall)
            ckpt.save_weights(self.run_dir, weights, meta)
            log.info("checkpoint at step %d: %s", self.step, self.run_dir)
        ddp.barrier(self.info)

    def _state(self, rng: list, wall: float) -> dict[str, Any]:
        return {
            "format_version": 1, "step": self.step, "data_position": self.position,
            "wall_time": wall, "options": self.options, "metrics": self.metrics,
            "modules": {k: m.state_dict() for k, m in self.task.modules().items()},
            "optimizers": {k: o.state_dict() for k, o in self.task.optimizers().items()},
            "scalers": {k: s.state_dict() for k, s in self.ctx.scalers.items()},
            "rng": rng,
        }

    def _provenance(self, wall: float) -> dict[str, Any]:
        return {"task": self.task.name, "data": self.options["data"], "steps": self.step,
                "wall_time_s": round(wall, 2), "command": " ".join(sys.argv),
                "metrics": self.metrics, "options": self.options}

    def _restore(self, state: dict[str, Any]) -> None:
        """Load ``state.pt``; a file that does not fit this run is a one-line ``LganError``."""
        path = self.run_dir / ckpt.STATE_FILE
        try:
            self._load_state(state, path)
        except KeyError as e:
            raise LganError(f"cannot resume from {path}: it has no {e} entry") from None
        except (TypeError, ValueError, RuntimeError, IndexError, AttributeError) as e:
            cause = next((ln.strip() for ln in str(e).splitlines() if ln.strip()), "")
            raise LganError(f"cannot resume from {path}: {type(e).__name__}: {cause}") from None

    def _load_state(self, state: dict[str, Any], path: Path) -> None:
        """Load networks, optimizers, scalers, position and this rank's RNG state."""
        for k, m in self.task.modules().items():
            if problem := ckpt.state_mismatch(m.state_dict(), state["modules"][k]):
                raise LganError(f"cannot resume from {path}: network {k} does not fit this "
                                f"run's configuration ({problem})")
            m.load_state_dict(state["modules"][k])
        for k, o in self.task.optimizers().items():
            o.load_state_dict(state["optimizers"][k])
        for k, s in state.get("scalers", {}).items():
            self.ctx.scaler(k).load_state_dict(s)
        self.step, self.position = int(state["step"]), int(state["data_position"])
        self.wall_time, self.metrics = float(state["wall_time"]), dict(state.get("metrics", {}))
        rngs = state["rng"]
        if len(rngs) == self.info.world:
            ckpt.set_rng_state(rngs[self.info.rank])
        else:  # a different number of processes: fresh per-rank streams
            seed_all(self.opts.seed + self.step * 1000 + self.info.rank)
        log.info("resumed %s at step %d", self.run_dir, self.step)


def training_precision(task: Task, device: torch.device, precision: str) -> Precision:
    """``resolve_precision(..., training=True)``, in channels_last only where ``task`` trains
    faster so (:meth:`Task.channels_last`)."""
    prec = resolve_precision(device, precision, training=True)
    if prec.channels_last and not task.channels_last(device):
        prec = dataclasses.replace(prec, channels_last=False)
    return prec


def to_memory_format(batch: Any, fmt: torch.memory_format) -> Any:
    """Every 4-D tensor of a batch (a tensor, or a dict/list/tuple of them) in ``fmt``."""
    if isinstance(batch, torch.Tensor):
        return batch.contiguous(memory_format=fmt) if batch.ndim == 4 else batch
    if isinstance(batch, dict):
        return {k: to_memory_format(v, fmt) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_memory_format(v, fmt) for v in batch)
    return batch


def resolved_options(task: Task, opts: TrainOptions, info: ddp.DistInfo) -> dict[str, Any]:
    """The run's configuration as written to ``training_options.json``."""
    common = dataclasses.asdict(opts)
    try:
        common["data"] = str(Path(opts.data).resolve())
    except (OSError, RuntimeError) as e:  # a symlink loop
        raise LganError(f"cannot open the training data {opts.data}: {e}") from None
    for key in ("out", "overwrite", "resume", "quiet", "threads"):  # a run may be moved, renamed
        common.pop(key)
    return {"task": task.name, **common, **task.options(), "world_size": info.world}
