"""Model bundles: the three networks as safetensors files plus ``bundle.json`` (configs, checksums).

A bundle is a folder::

    bundle.json              format, versions, per-network config/file/sha256/parameters, provenance
    g1.safetensors           G1Generator
    mapping-edge.safetensors MappingNetwork for edge maps (one file per supported mode)
    mapping-seg.safetensors
    sr.safetensors           SRNetwork (optional: without it the bundle renders at scale 1)

Only JSON and safetensors are read, never pickles. :func:`load_bundle` is the one loader: it
validates everything and turns each problem into a one-line :class:`LganError`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lgan_video import __version__
from lgan_video.atomic import atomic_path
from lgan_video.errors import LganError
from lgan_video.models import G1Generator, MappingNetwork, SRNetwork, count_parameters
from lgan_video.models.registry import build_network, kind_of

log = logging.getLogger(__name__)

FORMAT = "lgan-video-bundle"
FORMAT_VERSION = 1
DEFAULT_DIR = Path(__file__).parent / "assets" / "default"


@dataclass
class Bundle:
    """A loaded bundle: networks in eval mode on one device/dtype, and the parsed ``bundle.json``."""

    g1: G1Generator
    mappings: dict[str, MappingNetwork]
    map_configs: dict[str, Any]  # mode -> lgan_video.maps.MapConfig
    sr: SRNetwork | None
    meta: dict[str, Any]
    path: Path
    work_size: int  # short side (pixels) the mapping networks work at, from bundle.json

    @property
    def modes(self) -> tuple[str, ...]:
        """Map modes with a mapping network, e.g. ``("edge", "seg")``."""
        return tuple(self.mappings)

    @property
    def scale(self) -> int:
        """Upscaling factor of the SR network (1 without one)."""
        return self.sr.cfg.scale if self.sr is not None else 1


def save_bundle(
    path: str | Path,
    *,
    g1: G1Generator,
    mappings: dict[str, tuple[MappingNetwork, Any]],
    sr: SRNetwork | None = None,
    work_size: int = 128,
    provenance: dict[str, Any] | None = None,
    half: bool = False,
    overwrite: bool = False,
) -> Path:
    """Write a bundle folder atomically (temporary sibling, then rename) and return its path.

    ``mappings`` maps a mode (``"edge"``, ``"seg"``) to ``(network, MapConfig)``; the config's
    channels must match the network's input. ``half`` stores float tensors as float16 (half the
    size; loading casts back). An existing ``path`` is an ``LganError`` unless ``overwrite``.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise LganError(f"output exists (use --overwrite to replace it): {path}")
    if not mappings:
        raise LganError("a bundle needs at least one mapping network")
    if work_size < 8:
        raise LganError(f"work size must be at least 8, got {work_size}")
    networks: dict[str, tuple[nn.Module, dict[str, Any]]] = {"g1": (g1, {})}
    for mode, (net, map_cfg) in mappings.items():
        if map_cfg.mode != mode or map_cfg.channels != net.cfg.map_channels:
            raise LganError(
                f"mapping '{mode}': map config is {map_cfg.mode} with {map_cfg.channels} channels "
                f"but the network takes {net.cfg.map_channels}"
            )
        networks[f"mapping-{mode}"] = (net, {"map": map_cfg.to_dict()})
    if sr is not None:
        networks["sr"] = (sr, {})
    with atomic_path(path, is_dir=True) as tmp:
        entries = {name: _write_network(tmp, name, net, half) | extra
                   for name, (net, extra) in networks.items()}
        meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
            "networks": entries, "work_size": int(work_size), "provenance": provenance or {},
        }
        (tmp / "bundle.json").write_text(json.dumps(meta, indent=2) + "\n")
    log.info("saved bundle %s (%s)", path, ", ".join(entries))
    return path


def _write_network(folder: Path, name: str, net: nn.Module, half: bool) -> dict[str, Any]:
    """Save one network's state dict as ``<name>.safetensors``; its bundle.json entry."""
    from safetensors.torch import save

    state = {}
    for key, t in net.state_dict().items():
        t = t.detach().cpu()
        state[key] = (t.half() if half and t.is_floating_point() else t).contiguous()
    file = f"{name}.safetensors"
    # Written by us, not by safetensors' save_file, so the file gets the usual umask permissions.
    (folder / file).write_bytes(save(state))
    return {"config": net.cfg.to_dict(), "file": file, "sha256": _sha256(folder / file),
            "parameters": count_parameters(net)}


def _sha256(file: Path) -> str:
    h = hashlib.sha256()
    with open(file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_bundle(
    path: str | Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
) -> Bundle:
    """Load and validate a bundle folder; networks in eval mode on ``device`` as ``dtype``.

    Raises a one-line ``LganError`` for: a missing path, a folder that is not a bundle, an unknown
    format version, a missing or unexpected ``.safetensors`` file, a checksum mismatch, and
    weights that do not fit their config (missing, unexpected or mis-shaped tensors).
    """
    path = Path(path)
    meta = _read_meta(path)
    nets = meta["networks"]
    _check_files(path, nets)
    g1 = _load_network(path, "g1", nets["g1"])
    mappings, map_configs = {}, {}
    for name, entry in nets.items():
        if name.startswith("mapping-"):
            mode = name.removeprefix("mapping-")
            map_configs[mode] = _map_config(path, name, entry)
            mappings[mode] = _load_network(path, name, entry)
            net_cfg = mappings[mode].cfg
            if map_configs[mode].channels != net_cfg.map_channels or (
                    net_cfg.palette and map_configs[mode].slots != net_cfg.slots):
                raise LganError(f"bundle {path}: {name} map config and network channels differ")
    if not mappings:
        raise LganError(f"bundle {path} has no mapping network")
    sr = _load_network(path, "sr", nets["sr"]) if "sr" in nets else None
    for net in (g1, *mappings.values(), sr):
        if net is not None:
            net.to(device=device, dtype=dtype).eval().requires_grad_(False)
    return Bundle(g1, mappings, map_configs, sr, meta, path, work_size=meta["work_size"])


def bundle_map_config(path: str | Path, mode: str):
    """The :class:`~lgan_video.maps.MapConfig` a bundle's ``mode`` network was trained with, read
    from ``bundle.json`` alone (no weights loaded); LganError when the bundle has no such mode."""
    path = Path(path)
    nets = _read_meta(path)["networks"]
    name = f"mapping-{mode}"
    if name not in nets:
        raise missing_mode(path, mode, [n.removeprefix("mapping-") for n in nets
                                        if n.startswith("mapping-")])
    return _map_config(path, name, nets[name])


def missing_mode(path: str | Path, mode: str, modes) -> LganError:
    """The one-line error for a map ``mode`` the bundle at ``path`` has no network for."""
    return LganError(f"bundle {path} has no {mode!r} mapping network (it has: {', '.join(modes)})")


def _read_meta(path: Path) -> dict[str, Any]:
    """Parse, check and upgrade ``bundle.json``."""
    if not path.exists():
        raise LganError(f"model not found: {path}")
    file = path / "bundle.json"
    if not path.is_dir() or not file.is_file():
        raise LganError(f"not a model bundle (no bundle.json): {path}")
    try:
        meta = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LganError(f"not a model bundle (unreadable bundle.json: {e}): {path}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise LganError(f"not a model bundle (bundle.json format is not {FORMAT!r}): {path}")
    version = meta.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise LganError(
            f"bundle {path} has format version {version!r}; this lgan-video ({__version__}) "
            f"reads versions 1 to {FORMAT_VERSION} (upgrade lgan-video?)"
        )
    meta = _upgrade(meta)
    if "work_size" not in meta:  # never guessed: a wrong size silently ruins every render
        raise LganError(f"bundle {path}: bundle.json has no work_size (the short side, in "
                        f"pixels, the mapping networks were trained at)")
    work_size = meta["work_size"]
    if isinstance(work_size, bool) or not isinstance(work_size, int) or work_size < 8:
        raise LganError(f"bundle {path}: bad work_size in bundle.json: {work_size!r}")
    nets = meta.get("networks")
    if not isinstance(nets, dict) or not all(isinstance(v, dict) for v in nets.values()):
        raise LganError(f"bundle {path}: bundle.json has no valid 'networks' table")
    if "g1" not in nets:
        raise LganError(f"bundle {path}: bundle.json lists no g1 network")
    if unknown := [n for n in nets if kind_of(n) is None]:
        raise LganError(f"bundle {path}: unknown networks in bundle.json: {', '.join(unknown)}")
    return meta


def _upgrade(meta: dict[str, Any]) -> dict[str, Any]:
    """Bring an older ``bundle.json`` to the current format version (only v1 exists so far)."""
    version = meta["format_version"]
    # Each future format adds a step here: `if version == 1: meta = _v1_to_v2(meta); version = 2`.
    if version != FORMAT_VERSION:
        raise LganError(f"no upgrade path from bundle format version {version}")
    return meta


def _check_files(path: Path, nets: dict[str, dict[str, Any]]) -> None:
    """Every listed file exists with its checksum; no unlisted weight files lie beside them."""
    listed = set()
    for name, entry in nets.items():
        file = entry.get("file")
        if not isinstance(file, str) or Path(file).name != file:
            raise LganError(f"bundle {path}: bad file name for {name} in bundle.json: {file!r}")
        listed.add(file)
        if not (path / file).is_file():
            raise LganError(f"bundle {path} is missing {file}")
        if _sha256(path / file) != entry.get("sha256"):
            raise LganError(f"bundle {path}: checksum mismatch for {file} (corrupt or modified)")
    extra = sorted(p.name for p in path.glob("*.safetensors") if p.name not in listed)
    if extra:
        raise LganError(f"bundle {path} has unexpected weight files: {', '.join(extra)}")


def _map_config(path: Path, name: str, entry: dict[str, Any]):
    from lgan_video.maps import MapConfig

    try:
        cfg = MapConfig.from_dict(entry.get("map"))
    except (LganError, TypeError, ValueError) as e:
        raise LganError(f"bundle {path}: bad map config for {name}: {e}") from None
    if f"mapping-{cfg.mode}" != name:
        raise LganError(f"bundle {path}: {name} holds a {cfg.mode} map config")
    return cfg


def _load_network(path: Path, name: str, entry: dict[str, Any]) -> nn.Module:
    """Build entry ``name``'s network from its config and load its safetensors weights strictly."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        net = build_network(kind_of(name), entry.get("config"))
    except (TypeError, ValueError, AttributeError) as e:
        raise LganError(f"bundle {path}: bad config for {name}: {e}") from None
    try:
        state = load_file(str(path / entry["file"]))
    except (SafetensorError, OSError) as e:
        raise LganError(f"bundle {path}: cannot read {entry['file']}: {e}") from None
    _check_state(path, entry["file"], net.state_dict(), state)
    net.load_state_dict(state)  # casts fp16-stored tensors to the module's dtype
    return net


def _check_state(path: Path, file: str, expected: dict, got: dict) -> None:
    problems = []
    if missing := sorted(set(expected) - set(got)):
        problems.append(f"missing tensors {_few(missing)}")
    if unexpected := sorted(set(got) - set(expected)):
        problems.append(f"unexpected tensors {_few(unexpected)}")
    shaped = [k for k in expected if k in got and got[k].shape != expected[k].shape]
    if shaped:
        k = shaped[0]
        problems.append(
            f"{len(shaped)} mis-shaped tensor(s), e.g. {k} {tuple(got[k].shape)} "
            f"instead of {tuple(expected[k].shape)}"
        )
    if problems:
        raise LganError(f"bundle {path}: {file} does not match its config: {'; '.join(problems)}")


def _few(keys: list[str], n: int = 3) -> str:
    return ", ".join(keys[:n]) + (f" (+{len(keys) - n} more)" if len(keys) > n else "")


def resolve_model(name: str | Path) -> Path:
    """``"default"`` -> the bundle shipped in the package; anything else -> that path."""
    if str(name) == "default":
        if not (DEFAULT_DIR / "bundle.json").is_file():
            raise LganError(
                f"the default model is not installed (expected at {DEFAULT_DIR}); "
                "pass --model PATH to a bundle, or train one with lgan-video train"
            )
        return DEFAULT_DIR
    return Path(name).expanduser()


def bundle_summary(bundle: Bundle) -> dict[str, Any]:
    """JSON-safe overview for ``lgan-video info``: networks, parameters, sizes, modes, provenance."""
    meta = bundle.meta
    networks = {}
    for name, entry in meta["networks"].items():
        size = (bundle.path / entry["file"]).stat().st_size
        networks[name] = {"file": entry["file"], "parameters": entry.get("parameters"),
                          "bytes": size, "config": entry.get("config")}
    g1 = bundle.g1.cfg
    return {
        "path": str(bundle.path), "format_version": meta["format_version"],
        "package_version": meta.get("package_version"), "modes": list(bundle.modes),
        "g1_resolution": g1.resolution, "z_dim": g1.z_dim, "scale": bundle.scale,
        "work_size": bundle.work_size,
        "parameters": sum(n["parameters"] or 0 for n in networks.values()),
        "bytes": sum(n["bytes"] for n in networks.values()),
        "networks": networks, "provenance": meta.get("provenance", {}),
    }
