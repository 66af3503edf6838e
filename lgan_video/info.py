"""`info`: what a path is, for people and scripts: a model bundle's summary or media metadata."""

from __future__ import annotations

from pathlib import Path


def describe(path: str | Path) -> dict:
    """A JSON-safe description of a bundle (``default`` or a folder with bundle.json) or media."""
    from lgan_video.bundle import bundle_summary, load_bundle, resolve_model

    p = Path(path)
    if str(path) == "default" or (p / "bundle.json").is_file():
        return {"type": "bundle", **bundle_summary(load_bundle(resolve_model(str(path))))}
    from lgan_video.media import probe

    return {"type": "media", **probe(p).to_dict()}
