"""Data-parallel training under ``torchrun``: process group setup, rank, gradient averaging.

A run started with ``torchrun --nproc_per_node N`` (env vars ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``) joins a process group (NCCL on CUDA, gloo on CPU).
Each rank reads its own shard of every epoch (see ``data.BatchSampler``), computes its gradients,
and :func:`average_gradients` all-reduces them before every optimizer step, which is what
``DistributedDataParallel`` does. We reduce explicitly (as StyleGAN2-ADA/StyleGAN3 do) rather than
wrap the modules in DDP because a GAN step runs the discriminator several times per backward, takes
``autograd.grad`` for the gradient penalty, and alternates which network is trained: all cases where
DDP's bucketed hooks need ``find_unused_parameters`` and still break on double backward. Buffers
(spectral-norm vectors, norm statistics) are broadcast from rank 0 after each step so every rank
holds identical networks, as DDP's ``broadcast_buffers`` does.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

log = logging.getLogger("lgan_video.training")


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: ``rank`` of ``world`` processes; rank 0 writes files."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def init_from_env(device: torch.device) -> DistInfo:
    """Join the process group described by torchrun's env vars; a single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        torch.cuda.set_device(local)  # NCCL collectives run on the current device
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        log.info("joined %s process group: rank %d of %d", backend, rank, world)
    return DistInfo(rank=rank, world=world, local_rank=local)


def local_device(device: torch.device, info: DistInfo) -> torch.device:
    """``cuda`` becomes ``cuda:LOCAL_RANK`` under torchrun so each rank has its own GPU."""
    if device.type == "cuda" and info.enabled:
        return torch.device("cuda", info.local_rank)
    return device


def average_gradients(params: list[nn.Parameter], info: DistInfo) -> None:
    """All-reduce (mean) the gradients of ``params`` across ranks, in one flat buffer."""
    if not info.enabled or not params:
        return
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat)
    flat.div_(info.world)
    for p, chunk in zip(params, flat.split([g.numel() for g in grads]), strict=True):
        p.grad = torch.empty_like(p).copy_(chunk.view_as(p))  # in p's memory format


def broadcast_buffers(modules: list[nn.Module], info: DistInfo) -> None:
    """Copy rank 0's buffers (and parameters, at start-up) to every rank."""
    if not info.enabled:
        return
    for m in modules:
        for t in list(m.buffers()):
            dist.broadcast(t.data, src=0)


def broadcast_parameters(modules: list[nn.Module], info: DistInfo) -> None:
    """Make every rank start from rank 0's weights (the DDP constructor's broadcast)."""
    if not info.enabled:
        return
    with torch.no_grad():
        for m in modules:
            for t in list(m.parameters()) + list(m.buffers()):
                dist.broadcast(t.data, src=0)


def barrier(info: DistInfo) -> None:
    """Wait for every rank (e.g. until rank 0 has written a checkpoint)."""
    if info.enabled:
        dist.barrier()


def shutdown(info: DistInfo) -> None:
    """Leave the process group at the end of a run."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
