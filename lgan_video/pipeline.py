"""Inference: G1 look, mapping translation and super-resolution, one way to call each.

``Pipeline.render`` is a pure streaming generator over uint8 frames with batched inference; file
decoding, encoding and thread overlap live elsewhere (``lgan_video.render``, ``streaming``).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lgan_video.bundle import Bundle, load_bundle, missing_mode, resolve_model
from lgan_video.devices import Precision, pick_device, resolve_precision
from lgan_video.errors import LganError
from lgan_video.imageops import to_uint8
from lgan_video.ink import DEFAULT_INK, ink_lines
from lgan_video.stabilize import DEFAULT_STRENGTH

log = logging.getLogger(__name__)

# On the CPU a batch goes through the networks in chunks of about this many working-size pixels,
# so that a chunk's activations stay in the last-level cache: SR's widest dense concatenation
# (80 channels) of one 192x344 frame is 21 MB in fp32, under this project's 32 MB L3; two frames
# are not. Measured on the 2-core EPYC, 8 frames of 192x344 (mapping + SR, ms/frame): chunks of
# one frame 63 (fp32) and 43 (bf16), of two frames 98 and 46; SR alone, fp32, 590 vs 912 ns per
# pixel. GPUs take the whole batch.
CPU_CHUNK_PIXELS = 70_000


def work_dims(width: int, height: int, work_size: int) -> tuple[int, int]:
    """(W, H) with the short side ``work_size`` and the aspect ratio kept (long side even).

    Sizes need not fit the mapping network's multiple: :meth:`Pipeline.translate` pads and crops.
    """
    from lgan_video.resize import scaled_size

    return scaled_size(width, height, work_size)


class Pipeline:
    """The three networks of a bundle on one device, in one :class:`Precision`, for inference.

    ``map_workers`` threads compute structure maps ahead of the networks in :meth:`render`.
    """

    def __init__(self, bundle: Bundle, device: torch.device, precision: Precision,
                 map_workers: int = 1) -> None:
        self.bundle, self.device, self.precision = bundle, device, precision
        self.dtype = precision.weights
        self.map_workers = map_workers
        self._g1_cache: OrderedDict[bytes, torch.Tensor] = OrderedDict()
        self._style_cache: dict[str, OrderedDict[bytes, torch.Tensor]] = {}

    @classmethod
    def from_bundle(
        cls, path_or_name: str | Path = "default", device: str | torch.device = "auto",
        precision: str = "auto", map_workers: int = 1,
    ) -> Pipeline:
        """Load a bundle folder or ``"default"``.

        ``device``: auto = cuda, mps, cpu; ``precision``: auto, fp32, bf16 or fp16 (see
        :mod:`lgan_video.devices`; ``fp32`` pins exact values); ``map_workers``: threads that
        compute structure maps during :meth:`render`.
        """
        dev = pick_device(device)
        prec = resolve_precision(dev, precision)
        bundle = load_bundle(resolve_model(path_or_name), device=dev, dtype=prec.weights)
        for net in (bundle.g1, *bundle.mappings.values(), bundle.sr):
            if net is not None:
                prec.prepare(net)
        log.info("pipeline on %s (%s, %s): modes %s, x%d", dev, prec.name,
                 "channels_last" if prec.channels_last else "contiguous", bundle.modes,
                 bundle.scale)
        return cls(bundle, dev, prec, map_workers)

    @property
    def scale(self) -> int:
        """SR factor (1 when the bundle has no SR network)."""
        return self.bundle.scale

    @property
    def modes(self) -> tuple[str, ...]:
        """Map modes the bundle can translate."""
        return self.bundle.modes

    @property
    def work_size(self) -> int:
        """Short side the mapping networks work at by default."""
        return self.bundle.work_size

    @property
    def z_dim(self) -> int:
        """G1 latent size."""
        return self.bundle.g1.cfg.z_dim

    def _in(self, x: torch.Tensor) -> torch.Tensor:
        return self.precision.inputs(x, self.device)

    @torch.inference_mode()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """``z (B, z_dim)`` -> G1 images ``(B, 3, r, r)`` in [-1, 1], in the weights' dtype.

        No autocast: G1 runs once per look, and a palette (k-means of the look) must not change
        with the precision the rest of the pipeline runs in."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise LganError(f"expected latents of shape (B, {self.z_dim}), got {tuple(z.shape)}")
        with torch.autocast(self.device.type, enabled=False):  # callers may be inside autocast
            return self.bundle.g1(z.to(self.device, self.dtype)).to(self.dtype)

    def mapping(self, mode: str):
        """The mapping network for ``mode``; LganError naming the modes the bundle has."""
        if mode not in self.bundle.mappings:
            raise missing_mode(self.bundle.path, mode, self.modes)
        return self.bundle.mappings[mode]

    @torch.inference_mode()
    def translate(self, maps: torch.Tensor, appearance: torch.Tensor, mode: str) -> torch.Tensor:
        """Maps ``(B, C, H, W)`` + appearance ``(B, 3, h, w)`` (both [-1, 1]) -> ``(B, 3, H, W)``.

        H and W need not be multiples of ``2 ** n_down``: maps are reflect-padded, then cropped.
        """
        net = self.mapping(mode)
        if maps.ndim != 4 or maps.shape[1] != net.cfg.map_channels:
            raise LganError(f"{mode} maps must be (B, {net.cfg.map_channels}, H, W), "
                            f"got {tuple(maps.shape)}")
        with self.precision.context():
            return self._paint(net, maps, net.encode_style(self._in(appearance))).to(self.dtype)

    def _paint(self, net, maps: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Pad maps to the network's multiple, translate with ``style (B, S)``, crop back."""
        h, w = maps.shape[-2:]
        m = net.cfg.multiple
        maps = self._in(maps)
        if h % m or w % m:
            maps = _pad_reflect(maps, -h % m, -w % m)
        return net.translate(maps, style)[..., :h, :w]

    @torch.inference_mode()
    def upscale(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` -> ``(B, 3, sH, sW)`` clamped to [-1, 1]; identity without SR."""
        if self.bundle.sr is None:
            return images
        with self.precision.context():
            return self.bundle.sr(self._in(images)).to(self.dtype).clamp_(-1.0, 1.0)

    def palette(self, mode: str) -> bool:
        """Whether ``mode``'s network paints from the look's palette (``MappingConfig.palette``)."""
        return bool(self.mapping(mode).cfg.palette)

    def seed_pictures(self, seeds: Iterable[int]) -> list[np.ndarray]:
        """G1's uint8 ``(r, r, 3)`` image for each seed (its look as a reference picture)."""
        from lgan_video.latents import seed_latent

        z = torch.stack([seed_latent(int(s), self.z_dim) for s in seeds])
        return list(to_uint8(self.generate(z)))

    def appearance(self, latents: list[torch.Tensor]) -> torch.Tensor:
        """G1 images ``(B, 3, r, r)`` for a list of ``(z_dim,)`` latents, reusing recent ones."""
        return _cached(self._g1_cache, latents, self.generate)

    @torch.inference_mode()
    def styles(self, latents: list[torch.Tensor], mode: str) -> torch.Tensor:
        """Style vectors ``(B, S)`` of G1(z) for ``mode``'s network, reusing recent ones: a walk
        repeats latents (one seed: all the same), so G1 and the style encoder run rarely."""
        net = self.mapping(mode)
        cache = self._style_cache.setdefault(mode, OrderedDict())
        def encode(z: torch.Tensor) -> torch.Tensor:
            with self.precision.context():
                return net.encode_style(self._in(self.appearance(list(z)))).to(self.dtype)

        return _cached(cache, latents, encode)

    def render(
        self,
        frames: Iterable[np.ndarray],
        mode: str,
        latents: Iterable[torch.Tensor],
        batch_size: int = 8,
        work_size: int | None = None,
        stages: bool = False,
        map_temporal: float = 0.0,
        upscale: bool = True,
        references: list[np.ndarray] | None = None,
        stabilize: float = DEFAULT_STRENGTH,
        ink: float = DEFAULT_INK,
    ) -> Iterator[np.ndarray]:
        """Stylize a frame stream: one uint8 output frame per uint8 ``(H, W, 3)`` input, in order.

        Frames are resized so the short side is ``work_size`` (default: the bundle's), turned
        into structure maps (``map_temporal`` is the extractor's temporal stabilization, 0 = off),
        painted in the look of G1(z_t) for the frame's latent, and upscaled (``upscale=False``
        skips SR). ``stages=True`` yields panels [frame | map | translated | upscaled].

        With ``references`` (uint8 RGB pictures) the look comes from them instead of G1: then
        ``latents`` yields mixing weights ``(len(references),)`` per frame (``looks.iter_mixes``)
        and each frame's style is that mix of the pictures' style vectors.

        ``stabilize`` in [0, 1] is the strength of flow-guided stabilization of the output
        (:mod:`lgan_video.stabilize`; 0 = off). Scene cuts reset the maps' temporal state and
        the stabilization. ``ink`` in [0, 1]: see :meth:`paint_frames`.
        """
        from lgan_video.maps import MapExtractor
        from lgan_video.stabilize import FlowBlender, MotionAnalyzer
        from lgan_video.streaming import prefetch

        self.mapping(mode)  # fails early, naming the modes, for a mode the bundle lacks
        map_cfg = dataclasses.replace(self.bundle.map_configs[mode], temporal=map_temporal)
        size = work_size or self.bundle.work_size
        # Resizing and map extraction run beside inference: the stateless part of each map in
        # ``map_workers`` threads, the temporal (stateful) part in frame order in the prefetch
        # thread (the maps are the same bytes as a one-thread extraction), with the motion
        # analysis (cuts, flow) that stabilization needs.
        prepared = prefetch(_prepare(frames, MapExtractor(map_cfg), size, stages,
                                     MotionAnalyzer(stabilize), self.map_workers),
                            maxsize=2 * batch_size)
        ref_styles = self.reference_styles(references, mode) if references else None
        latent_iter, blender = iter(latents), FlowBlender()
        for batch in _batches(prepared, batch_size):
            z = [_next_latent(latent_iter) for _ in batch]
            style = (self.styles(z, mode) if ref_styles is None
                     else torch.stack(z).to(ref_styles) @ ref_styles)  # (B, S)
            yield from self._render_batch(batch, style, mode, stages, upscale, blender, ink)

    @torch.inference_mode()
    def reference_styles(self, images: list[np.ndarray], mode: str) -> torch.Tensor:
        """Style vectors ``(N, S)`` of uint8 RGB pictures for ``mode``'s network (any sizes:
        each is resized to the style encoder's input)."""
        from lgan_video.imageops import to_tensor
        from lgan_video.resize import resize

        net = self.mapping(mode)
        a = net.cfg.appearance_size
        small = np.stack([resize(im, (a, a)) for im in images])
        return net.encode_style(self._in(to_tensor(small)))

    def chunk_size(self, batch: int, height: int, width: int) -> int:
        """Frames per pass through the networks: the whole batch on a GPU; on the CPU as many
        ``height x width`` frames as fit :data:`CPU_CHUNK_PIXELS` (at least one)."""
        if self.device.type != "cpu":
            return batch
        return max(1, min(batch, CPU_CHUNK_PIXELS // max(1, height * width)))

    @torch.inference_mode()
    def paint_frames(self, maps: np.ndarray, style: torch.Tensor, mode: str, upscale: bool = True,
                     translations: bool = False, ink: float = DEFAULT_INK,
                     ) -> tuple[np.ndarray, np.ndarray | None]:
        """uint8 maps ``(B, h, w)`` + styles ``(B, S)`` -> uint8 frames ``(B, sh, sw, 3)``
        (translated, then upscaled unless ``upscale=False``) and, with ``translations`` and
        ``upscale``, the uint8 translations ``(B, h, w, 3)`` (else None). Runs in
        :meth:`chunk_size` chunks. Edge mode: ``ink`` in [0, 1] darkens the translation on the
        map's edge pixels to ``(1 - ink)`` of its brightness (0 = off)."""
        if not 0.0 <= ink <= 1.0:
            raise LganError(f"ink must be in [0, 1], got {ink}")
        from lgan_video.maps import map_to_tensor

        cfg, net = self.bundle.map_configs[mode], self.mapping(mode)
        step = self.chunk_size(len(maps), *maps.shape[1:3])
        outs, mids = [], []
        with self.precision.context():
            for i in range(0, len(maps), step):
                x = map_to_tensor(maps[i:i + step], cfg, self.device, self.dtype)
                translated = self._paint(net, x, style[i:i + step])
                if ink and cfg.mode == "edge":
                    translated = ink_lines(translated, x[:, :1], ink)
                if upscale:
                    if translations:
                        mids.append(to_uint8(translated))
                    translated = self.upscale(translated)
                outs.append(to_uint8(translated))
        return np.concatenate(outs), (np.concatenate(mids) if mids else None)

    def _render_batch(self, batch, style, mode, stages, upscale, blender, ink):
        """One batch of :meth:`render`: list of (frame, map, motion) + styles (B, S) -> uint8
        outputs, stabilized by ``blender``."""
        from lgan_video.maps import map_preview

        cfg = self.bundle.map_configs[mode]
        maps = np.stack([m for _, m, _ in batch])  # (B, h, w) uint8
        out, mid = self.paint_frames(maps, style, mode, upscale, translations=stages, ink=ink)
        result = [blender(o, motion) for o, (_, _, motion) in zip(out, batch, strict=True)]
        if not stages:
            return result
        height = result[0].shape[0]
        mid = out if mid is None else mid
        return [np.concatenate([_fit(f, height), _fit(map_preview(m, cfg), height, nearest=True),
                                _fit(t, height), o], axis=1)
                for (f, m, _), t, o in zip(batch, mid, result, strict=True)]


def _prepare(frames: Iterable[np.ndarray], extractor, work_size: int, keep_frames: bool,
             motion, workers: int = 1,
             ) -> Iterator[tuple[np.ndarray | None, np.ndarray, object]]:
    """Per frame: (the frame if ``keep_frames``, its structure map at the working size, its
    :class:`~lgan_video.stabilize.Motion`); a scene cut resets the map extractor first.

    Resizing and the stateless half of each map (:meth:`MapExtractor.prepare`) run in
    ``workers`` threads ahead; motion analysis and the temporal half run in frame order.
    """
    from lgan_video.streaming import ordered_map

    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return
    dims = work_dims(first.shape[1], first.shape[0], work_size)  # every frame gets the first's

    def stateless(frame: np.ndarray):
        small = _resize(frame, dims)
        return (frame if keep_frames else None), small, extractor.prepare(small)

    for frame, small, prep in ordered_map(stateless, itertools.chain([first], frames), workers):
        moved = motion(small)
        if moved.cut:
            extractor.reset()
        yield frame, extractor.finish(prep), moved


_CACHE_SIZE = 64


def _cached(cache: OrderedDict, latents: list[torch.Tensor], compute) -> torch.Tensor:
    """``compute(z (N, z_dim))`` rows for each latent, through a small LRU ``cache`` keyed by
    the latent's bytes; only unseen latents are computed, once each."""
    keys = [z.detach().float().cpu().numpy().tobytes() for z in latents]
    found = {k: cache[k] for k in dict.fromkeys(keys) if k in cache}
    todo = [k for k in dict.fromkeys(keys) if k not in found]
    if todo:
        z = torch.stack([torch.from_numpy(np.frombuffer(k, np.float32).copy()) for k in todo])
        found.update(zip(todo, compute(z), strict=True))
    out = torch.stack([found[k] for k in keys])
    for k, value in found.items():
        cache[k] = value
        cache.move_to_end(k)
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return out


def _pad_reflect(x: torch.Tensor, pad_h: int, pad_w: int) -> torch.Tensor:
    # Reflect padding needs pad < size; replicate covers tiny inputs.
    mode = "reflect" if pad_h < x.shape[-2] and pad_w < x.shape[-1] else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


def _batches(frames: Iterable[np.ndarray], n: int) -> Iterator[list[np.ndarray]]:
    if n < 1:
        raise LganError(f"batch size must be at least 1, got {n}")
    batch: list[np.ndarray] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def _next_latent(latents: Iterator[torch.Tensor]) -> torch.Tensor:
    try:
        return next(latents)
    except StopIteration:
        raise LganError("the latent walk ended before the frames did") from None


def _resize(image: np.ndarray, dims: tuple[int, int]) -> np.ndarray:
    """uint8 ``(H, W, 3)`` -> ``(dims[1], dims[0], 3)`` by the one resize policy."""
    from lgan_video.resize import resize

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise LganError(f"expected uint8 (H, W, 3) frames, got {image.dtype} {image.shape}")
    return resize(image, dims)


def _fit(image: np.ndarray, height: int, nearest: bool = False) -> np.ndarray:
    """Scale uint8 ``(H, W, 3)`` to ``height`` rows, keeping the aspect (nearest for maps)."""
    import cv2

    from lgan_video.resize import resize

    width = max(1, round(image.shape[1] * height / image.shape[0]))
    if image.shape[:2] == (height, width) or not nearest:
        return resize(image, (width, height))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST)
