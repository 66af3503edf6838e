"""One table from network kind to ``(config class, network class)``: bundles, export and tests.

A kind names what a bundle entry or a training run's ``network.json`` holds: ``g1`` (the
generator), ``mapping`` (one per map mode; bundle entries are ``mapping-<mode>``) and ``sr``.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from lgan_video.models.g1 import G1Config, G1Generator
from lgan_video.models.mapping import MappingConfig, MappingNetwork
from lgan_video.models.sr import SRConfig, SRNetwork

NETWORKS: dict[str, tuple[type, type[nn.Module]]] = {
    "g1": (G1Config, G1Generator),
    "mapping": (MappingConfig, MappingNetwork),
    "sr": (SRConfig, SRNetwork),
}


def kind_of(name: str) -> str | None:
    """The kind of a bundle entry name (``mapping-edge`` -> ``mapping``); None if unknown."""
    kind = "mapping" if name.startswith("mapping-") else name
    return kind if kind in NETWORKS and (kind != "mapping" or name != kind) else None


def build_network(kind: str, config: dict[str, Any]) -> nn.Module:
    """A freshly initialised network of ``kind`` from its config dict (``to_dict()`` output).

    Raises ``KeyError`` for an unknown kind and ``TypeError``/``ValueError`` for a bad config.
    """
    config_cls, net_cls = NETWORKS[kind]
    return net_cls(config_cls.from_dict(config))
