"""Bundles: round trips, fp16 storage, and a one-line LganError for every kind of broken bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from lgan_video.bundle import (
    FORMAT_VERSION,
    bundle_summary,
    load_bundle,
    resolve_model,
    save_bundle,
)
from lgan_video.errors import LganError
from lgan_video.maps import MapConfig
from lgan_video.models import G1Config, G1Generator, MappingConfig, MappingNetwork
from lgan_video.testing import make_tiny_bundle


@pytest.fixture
def bundle_copy(tiny_bundle, tmp_path) -> Path:
    """A private copy of the session's tiny bundle that a test may damage."""
    return Path(shutil.copytree(tiny_bundle, tmp_path / "b"))


def _outputs(bundle, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(2, bundle.g1.cfg.z_dim, generator=gen)
    with torch.no_grad():
        look = bundle.g1(z)
        maps = torch.rand(2, 1, 16, 24, generator=gen) * 2 - 1
        painted = bundle.mappings["edge"](maps, look)
        return {"g1": look, "edge": painted, "sr": bundle.sr(painted)}


def test_round_trip_gives_identical_outputs(tiny_bundle, tmp_path):
    a = load_bundle(tiny_bundle)
    again = save_bundle(tmp_path / "again", g1=a.g1,
                        mappings={m: (a.mappings[m], a.map_configs[m]) for m in a.modes},
                        sr=a.sr, work_size=a.work_size, provenance=a.meta["provenance"])
    b = load_bundle(again)
    assert b.modes == ("edge", "seg") and b.scale == 2 and b.work_size == 64
    assert b.map_configs["seg"] == MapConfig(mode="seg", classes=4)
    assert not b.g1.training and not any(p.requires_grad for p in b.g1.parameters())
    for key, value in _outputs(a).items():
        torch.testing.assert_close(_outputs(b)[key], value, rtol=0, atol=0)
    meta = json.loads((again / "bundle.json").read_text())
    assert meta["format"] == "lgan-video-bundle" and meta["format_version"] == FORMAT_VERSION
    assert meta["networks"]["mapping-seg"]["map"]["classes"] == 4
    assert meta["networks"]["g1"]["parameters"] == sum(p.numel() for p in a.g1.parameters())


def test_tiny_bundle_is_deterministic_per_seed(tmp_path):
    first = load_bundle(make_tiny_bundle(tmp_path / "a", modes=("edge",), seed=3))
    second = load_bundle(make_tiny_bundle(tmp_path / "b", modes=("edge",), seed=3))
    torch.testing.assert_close(_outputs(first)["edge"], _outputs(second)["edge"], rtol=0, atol=0)
    assert first.modes == ("edge",)


def test_half_storage_is_smaller_and_close(tiny_bundle, tmp_path):
    a = load_bundle(tiny_bundle)
    half = save_bundle(tmp_path / "half", g1=a.g1, mappings={"edge": (a.mappings["edge"],
                       a.map_configs["edge"])}, sr=a.sr, half=True)
    assert load_file(str(half / "g1.safetensors"))["fc.weight"].dtype == torch.float16
    size = (half / "g1.safetensors").stat().st_size
    assert size < 0.6 * (tiny_bundle / "g1.safetensors").stat().st_size
    b = load_bundle(half)
    assert b.g1.fc.weight.dtype == torch.float32
    for key, value in _outputs(a).items():
        torch.testing.assert_close(_outputs(b)[key], value, rtol=0, atol=0.03)


def test_save_refuses_existing_path_and_leaves_no_temp(tiny_bundle, tmp_path):
    a = load_bundle(tiny_bundle)
    kwargs = {"g1": a.g1, "mappings": {"edge": (a.mappings["edge"], a.map_configs["edge"])}}
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    with pytest.raises(LganError, match="exists"):
        save_bundle(target, **kwargs)
    assert (target / "keep.txt").read_text() == "precious"
    save_bundle(target, overwrite=True, **kwargs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in target.iterdir()) == [
        "bundle.json", "g1.safetensors", "mapping-edge.safetensors"]
    assert load_bundle(target).scale == 1 and load_bundle(target).sr is None


def test_save_rejects_map_config_that_does_not_fit(tmp_path):
    g1 = G1Generator(G1Config(z_dim=8, resolution=32, channels=32, min_channels=8, attention=()))
    net = MappingNetwork(MappingConfig(map_channels=1, base_channels=4, n_blocks=1, n_down=2))
    with pytest.raises(LganError, match="4 channels"):
        save_bundle(tmp_path / "x", g1=g1, mappings={"seg": (net, MapConfig(mode="seg", classes=4))})
    assert not list(tmp_path.iterdir())


def _edit_meta(bundle: Path, change) -> None:
    meta = json.loads((bundle / "bundle.json").read_text())
    change(meta)
    (bundle / "bundle.json").write_text(json.dumps(meta))


def _bad_version(b: Path) -> None:
    _edit_meta(b, lambda m: m.update(format_version=99))


def _wrong_format(b: Path) -> None:
    _edit_meta(b, lambda m: m.update(format="something-else"))


def _extra_file(b: Path) -> None:
    shutil.copy(b / "sr.safetensors", b / "stray.safetensors")


def _corrupt(b: Path) -> None:
    data = bytearray((b / "g1.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (b / "g1.safetensors").write_bytes(bytes(data))


def _reshape(b: Path) -> None:
    state = load_file(str(b / "sr.safetensors"))
    state["stem.weight"] = torch.zeros(9, 3, 3, 3)
    del state["stem.bias"]
    save_file(state, str(b / "sr.safetensors"))
    _edit_meta(b, lambda m: m["networks"]["sr"].update(sha256=_sha(b / "sr.safetensors")))


def _sha(file: Path) -> str:
    import hashlib

    return hashlib.sha256(file.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage, match", [
    (lambda b: shutil.rmtree(b), "model not found"),
    (lambda b: (b / "bundle.json").unlink(), "not a model bundle"),
    (lambda b: (b / "bundle.json").write_text("{not json"), "not a model bundle"),
    (_wrong_format, "not a model bundle"),
    (_bad_version, "format version 99"),
    (lambda b: (b / "mapping-seg.safetensors").unlink(), "missing mapping-seg.safetensors"),
    (_extra_file, "unexpected weight files: stray.safetensors"),
    (_corrupt, "checksum mismatch for g1.safetensors"),
    (_reshape, r"sr.safetensors does not match its config: missing tensors stem.bias; "
               r"1 mis-shaped tensor\(s\), e.g. stem.weight \(9, 3, 3, 3\)"),
    (lambda b: _edit_meta(b, lambda m: m["networks"]["g1"]["config"].update(channels=-1)),
     "bad config for g1"),
    (lambda b: _edit_meta(b, lambda m: m.update(work_size="big")), "bad work_size"),
])
def test_broken_bundles_give_one_line_errors(bundle_copy, damage, match):
    damage(bundle_copy)
    with pytest.raises(LganError, match=match) as info:
        load_bundle(bundle_copy)
    assert "\n" not in str(info.value)


def test_resolve_model_and_summary(tiny_bundle, monkeypatch, tmp_path):
    import lgan_video.bundle as bundle_module

    assert resolve_model(str(tiny_bundle)) == tiny_bundle
    monkeypatch.setattr(bundle_module, "DEFAULT_DIR", tmp_path / "nowhere")
    with pytest.raises(LganError, match="default model is not installed"):
        resolve_model("default")
    monkeypatch.setattr(bundle_module, "DEFAULT_DIR", tiny_bundle)
    assert resolve_model("default") == tiny_bundle
    summary = bundle_summary(load_bundle(tiny_bundle))
    json.dumps(summary)
    assert summary["modes"] == ["edge", "seg"] and summary["scale"] == 2
    assert set(summary["networks"]) == {"g1", "mapping-edge", "mapping-seg", "sr"}
    assert summary["parameters"] == sum(n["parameters"] for n in summary["networks"].values())
    assert summary["bytes"] > summary["parameters"] * 4 * 0.99
    assert summary["provenance"]["seed"] == 0


def test_saved_bundle_has_the_usual_permissions(tmp_path):
    import os

    path = make_tiny_bundle(tmp_path / "b")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o777 & ~umask
    assert {f.stat().st_mode & 0o777 for f in path.iterdir()} == {0o666 & ~umask}
