"""Training for the three networks: one loop (``loop``), one task module per network.

``train_g1``, ``train_mapping`` and ``train_sr`` take the shared :class:`TrainOptions` and the
task's own options dataclass and return the run folder; ``export_bundle`` turns finished runs
into a model bundle. Run folders hold ``training_options.json``, ``state.pt``, ``log.jsonl``,
TensorBoard events, ``samples/`` and the exportable ``<network>.safetensors`` + ``network.json``.
"""

from lgan_video.training.export import export_bundle, load_run_network
from lgan_video.training.g1 import G1Options, train_g1
from lgan_video.training.loop import TrainOptions, train
from lgan_video.training.mapping import MappingOptions, train_mapping
from lgan_video.training.sr import SROptions, train_sr

__all__ = [
    "G1Options",
    "MappingOptions",
    "SROptions",
    "TrainOptions",
    "export_bundle",
    "load_run_network",
    "train",
    "train_g1",
    "train_mapping",
    "train_sr",
]
