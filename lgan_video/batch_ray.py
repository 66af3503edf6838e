"""`batch --ray`: the local batch spread over a Ray cluster, one job per input on a pool of workers.

The driver lists the jobs, skips finished ones and checks the model once, exactly as
:func:`~lgan_video.batch.run_batch` does. Each worker is a Ray actor (one process) that loads the
bundle once and renders whole inputs with :func:`~lgan_video.batch.run_job` (temporal state needs
the whole sequence on one worker), writing atomically to storage that every node sees. A job whose
worker process dies is retried on the next free worker (Ray restarts the process) up to
``retries`` times, then reported failed; the dead writer's temporary files are removed.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lgan_video.atomic import discard_partials
from lgan_video.batch import BatchJob, JobOutcome, is_finished, plan_batch, prepare_batch, run_job
from lgan_video.errors import LganError
from lgan_video.progress import progress

log = logging.getLogger(__name__)

_ADDRESS = re.compile(r"(ray://)?[\w.\-]+:\d+|\[[0-9a-fA-F:]+\]:\d+")
START_TIMEOUT = 300.0
"""Seconds the batch waits with no worker able to take a job (a cluster short of CPUs or GPUs)."""


class BatchWorker:
    """A Ray actor: loads the bundle once, then renders one job per :meth:`run` call."""

    def __init__(self, model: str, device: str, threads: int, render_options: dict) -> None:
        from lgan_video.render import load_pipeline

        # The worker's reserved CPUs are its whole thread budget (torch, map workers, ffmpeg).
        self.pipeline = load_pipeline(model, device, threads=threads)
        self.render_options = {**render_options, "threads": render_options.get("threads") or threads,
                               "quiet": True}

    def ready(self) -> int:
        """The worker's process id, once the bundle is loaded."""
        return os.getpid()

    def run(self, job: BatchJob, overwrite: bool) -> JobOutcome:
        """Render ``job`` (or skip it, if another run finished it meanwhile)."""
        return run_job(job, overwrite, pipeline=self.pipeline, **self.render_options)


def run_batch_ray(
    input_dir: str | Path,
    output_dir: str | Path,
    *,
    address: str | None = None,  # None/"local": the cluster `ray start` made here, else a new one;
    # "auto": an existing cluster only; "HOST:PORT" or "ray://HOST:10001": that cluster
    workers: int | None = None,  # Ray actors; None: as many as the cluster's CPUs (and GPUs) hold
    gpus_per_worker: float = 0.0,  # GPU share each worker reserves (0.5: two workers per GPU)
    threads_per_worker: int = 1,  # torch threads of a worker, and the CPUs it reserves
    retries: int = 2,  # re-runs of a job whose worker process died, before it is reported failed
    pattern: str = "*",  # as run_batch: glob on input names
    suffix: str = ".mp4",  # output format of every job
    shard: tuple[int, int] = (0, 1),  # this driver's part of the job list
    model: str | Path = "default",  # bundle path (seen by every node) or "default"
    device: str = "auto",  # on the workers: auto picks the GPU Ray gives a worker
    overwrite: bool = False,  # re-render finished outputs
    on_outcome: Callable[[JobOutcome], None] | None = None,  # called as each job ends
    **render_options,  # render()'s options (mode, seeds, size, ...); quiet hides the progress
) -> list[JobOutcome]:
    """Run every job of :func:`~lgan_video.batch.plan_batch` on a Ray cluster; one outcome per
    job, in job order. Inputs, outputs and the model must be on paths every node sees."""
    if address not in (None, "", "local", "auto") and not _ADDRESS.fullmatch(address):
        raise LganError(f"bad Ray address '{address}': use auto, HOST:PORT or ray://HOST:PORT")
    src, dst = Path(input_dir).absolute(), Path(output_dir).absolute()
    # Workers resolve paths in their own working folders: give them absolute ones.
    model = model if str(model) == "default" else str(Path(model).absolute())
    if render_options.get("style"):
        render_options["style"] = tuple(Path(p).absolute() for p in render_options["style"])
    jobs = plan_batch(src, dst, pattern, suffix, shard)
    outcomes: dict[int, JobOutcome] = {}
    for i, job in enumerate(jobs):
        if is_finished(job) and not overwrite:
            outcomes[i] = JobOutcome(job, "skipped")
            if on_outcome is not None:
                on_outcome(outcomes[i])
    todo = [(i, job) for i, job in enumerate(jobs) if i not in outcomes]
    if todo:
        prepare_batch(dst, model, "cpu", render_options)  # the driver checks mode/scale once
        for _, job in todo:  # left by workers of a killed run; this run owns these outputs now
            discard_partials(job.output)
        with _connected(address) as ray:
            count = min(len(todo), _worker_count(ray, workers, threads_per_worker, gpus_per_worker))
            spec = (model, device, threads_per_worker, render_options)
            with _workers(ray, count, spec, threads_per_worker, gpus_per_worker) as handles, \
                    progress("ray batch", total=len(todo), unit="jobs",
                             quiet=render_options.get("quiet", False)) as bar:
                tally = _Tally(bar, outcomes, on_outcome)
                _Scheduler(ray, handles, overwrite, retries, tally).run(todo)
    return [outcomes[i] for i in range(len(jobs))]


@contextmanager
def _connected(address: str | None):
    """Ray, connected to ``address``; disconnects afterwards unless the caller had connected."""
    try:
        import ray
    except ImportError:
        raise LganError("--ray needs Ray: pip install 'lgan-video[ray]'") from None
    if ray.is_initialized():  # the caller's own session (Python API)
        yield ray
        return
    quiet_ray = {"logging_level": logging.WARNING, "log_to_driver": log.isEnabledFor(logging.DEBUG)}
    try:
        if address in (None, "", "local"):
            _join_or_start_local(ray, **quiet_ray)
        else:
            ray.init(address=address, **quiet_ray)
    except (ConnectionError, ValueError, RuntimeError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LganError(f"cannot connect to Ray at '{address or 'local'}': {reason}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _join_or_start_local(ray, **options) -> None:
    """Join the cluster `ray start` made on this machine, else start one only it can reach."""
    try:
        ray.init(address="auto", **options)
    except ConnectionError:
        ray.init(_node_ip_address="127.0.0.1", **options)  # loopback: private to this machine


def _worker_count(ray, workers: int | None, threads: int, gpus: float) -> int:
    """``workers``, or as many as the cluster's CPUs and GPUs hold, whichever is fewer."""
    total = ray.cluster_resources()
    cpus, gpu_total = total.get("CPU", 0.0), total.get("GPU", 0.0)
    fits = int(cpus // threads)
    if gpus > 0:
        fits = min(fits, int(gpu_total / gpus + 1e-9))
    if fits < 1:
        raise LganError(f"the Ray cluster has {cpus:g} CPUs and {gpu_total:g} GPUs: not enough "
                        f"for one worker ({threads} CPUs, {gpus:g} GPUs)")
    if workers is not None and workers > fits:
        log.warning("--workers %d: the cluster's %g CPUs and %g GPUs hold %d; using %d",
                    workers, cpus, gpu_total, fits, fits)
    return fits if workers is None else min(workers, fits)


@contextmanager
def _workers(ray, count: int, spec: tuple, threads: int, gpus: float):
    """``count`` BatchWorker actors (Ray restarts a dead one), killed on the way out."""
    actor = ray.remote(BatchWorker).options(
        num_cpus=threads, num_gpus=gpus, max_restarts=-1, max_task_retries=0)
    handles = [actor.remote(*spec) for _ in range(count)]
    try:
        yield handles
    finally:
        for handle in handles:
            ray.kill(handle, no_restart=True)


class _Tally:
    """Outcomes as they arrive, and the one progress line: done / running / failed, frames/s."""

    def __init__(self, bar, outcomes: dict[int, JobOutcome], on_outcome) -> None:
        self.bar, self.outcomes, self.on_outcome = bar, outcomes, on_outcome
        self.done = self.failed = self.frames = 0
        self.t0: float | None = None  # the first job's start: frames/s leaves out worker startup

    @property
    def outcomes_seen(self) -> int:
        return self.done + self.failed

    def add(self, index: int, outcome: JobOutcome) -> None:
        self.outcomes[index] = outcome
        self.done += outcome.status != "failed"
        self.failed += outcome.status == "failed"
        self.frames += outcome.frames
        self.bar.advance()
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def show(self, running: int, starting: int) -> None:
        if self.t0 is None and running:
            self.t0 = time.perf_counter()
        rate = self.frames / max(time.perf_counter() - self.t0, 1e-6) if self.t0 else 0.0
        starts = f"{starting} starting, " if starting else ""
        self.bar.set_description(f"ray: {self.done} done, {running} running, {starts}"
                                 f"{self.failed} failed, {rate:.1f} frames/s")


@dataclass(eq=False)
class _Worker:
    handle: object
    failed_starts: int = 0


class _Scheduler:
    """Gives each idle worker one job at a time; requeues a job whose worker process died."""

    def __init__(self, ray, handles: list, overwrite: bool, retries: int, tally: _Tally) -> None:
        self.ray, self.overwrite, self.retries, self.tally = ray, overwrite, retries, tally
        self.queue: deque[tuple[int, BatchJob, int]] = deque()  # (index, job, attempt)
        self.idle: list[_Worker] = []
        self.starting: dict = {}  # ready() ref -> worker loading the bundle
        self.running: dict = {}  # run() ref -> (worker, index, job, attempt)
        self.start_error = ""
        for handle in handles:
            self._start(_Worker(handle))

    def run(self, todo: list[tuple[int, BatchJob]]) -> None:
        self.queue.extend((i, job, 1) for i, job in todo)
        busy_at = time.monotonic()
        while self.queue or self.running:
            while self.queue and self.idle:
                worker, (index, job, attempt) = self.idle.pop(), self.queue.popleft()
                ref = worker.handle.run.remote(job, self.overwrite)
                self.running[ref] = (worker, index, job, attempt)
            busy_at = time.monotonic() if self.running else busy_at
            if not self.running and (stuck := self._stuck(busy_at)):
                if not self.tally.outcomes_seen:  # every job would fail alike: one error
                    raise LganError(stuck)
                return self._fail_queue(stuck)
            ready, _ = self.ray.wait([*self.running, *self.starting], num_returns=1, timeout=0.5)
            for ref in ready:
                self._collect(ref)
            self.tally.show(len(self.running), len(self.starting))

    def _start(self, worker: _Worker) -> None:
        self.starting[worker.handle.ready.remote()] = worker

    def _stuck(self, busy_at: float) -> str:
        """Why no job can run ("" while workers are still starting)."""
        if not self.starting:
            return f"no Ray worker could start: {self.start_error}"
        if time.monotonic() - busy_at > START_TIMEOUT:
            return (f"no Ray worker started within {START_TIMEOUT:.0f} s "
                    f"(does the cluster have the CPUs and GPUs a worker asks for?)")
        return ""

    def _fail_queue(self, error: str) -> None:
        while self.queue:
            index, job, _ = self.queue.popleft()
            self.tally.add(index, JobOutcome(job, "failed", error=error))

    def _collect(self, ref) -> None:
        from ray.exceptions import RayError, RayTaskError

        if ref in self.starting:
            return self._started(ref)
        worker, index, job, attempt = self.running.pop(ref)
        try:
            outcome = self.ray.get(ref)
        except RayTaskError as e:  # a bug, not a bad input: run_job reports those itself
            outcome = JobOutcome(job, "failed", error=f"internal error: {_cause(e)}")
        except RayError:  # the worker process or its node died (RayActorError), or Ray lost it
            return self._worker_died(worker, index, job, attempt)
        self.idle.append(worker)
        self.tally.add(index, outcome)

    def _started(self, ref) -> None:
        from ray.exceptions import RayActorError

        worker = self.starting.pop(ref)
        try:
            self.ray.get(ref)
        except RayActorError as e:
            worker.failed_starts += 1
            self.start_error = _cause(e)
            if worker.failed_starts <= self.retries:
                self._start(worker)
            return
        worker.failed_starts = 0
        self.idle.append(worker)

    def _worker_died(self, worker: _Worker, index: int, job: BatchJob, attempt: int) -> None:
        discard_partials(job.output)  # its writer is gone: nothing else writes this output
        if attempt <= self.retries:
            log.warning("worker died while rendering %s (attempt %d of %d); retrying",
                        job.input.name, attempt, self.retries + 1)
            self.queue.appendleft((index, job, attempt + 1))
        else:
            error = f"its worker process died {attempt} times (see the Ray logs)"
            self.tally.add(index, JobOutcome(job, "failed", error=error))
        self._start(worker)  # Ray restarts the process; it takes jobs once the bundle is loaded


def _cause(error: Exception) -> str:
    """One line for a Ray error: the worker's own exception where there is one."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, Exception):
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if getattr(error, "actor_init_failed", False) and lines:
        # The last line of the constructor's traceback is its exception; ours read as messages.
        return lines[-1].removeprefix("lgan_video.errors.LganError: ")
    return lines[0] if lines else type(error).__name__
