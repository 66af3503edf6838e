"""Replace one mapping network of a bundle by a training run's, keeping everything else.

    python examples/replace_mapping.py BUNDLE RUN OUT [--half]

The run's mode (edge or seg) picks the network it replaces. G1, the other mapping network, SR,
the working size and their provenance come from BUNDLE; the new network's provenance comes from
the run. OUT is written atomically (an existing OUT is replaced). The default model v3 is v2 with
its edge network replaced by the edge-with-tones run (examples/train_default.sh).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lgan_video.bundle import load_bundle, save_bundle
from lgan_video.maps import MapConfig
from lgan_video.training.export import load_run_network


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("bundle", type=Path)
    p.add_argument("run", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--half", action="store_true", help="store float16 weights")
    args = p.parse_args(argv)
    bundle = load_bundle(args.bundle)
    net, meta = load_run_network(args.run, "mapping")
    map_cfg = MapConfig.from_dict(meta["map"])
    mappings = {mode: (bundle.mappings[mode], bundle.map_configs[mode]) for mode in bundle.modes}
    mappings[map_cfg.mode] = (net, map_cfg)
    provenance = json.loads((args.bundle / "bundle.json").read_text())["provenance"]
    provenance.pop("evaluation", None)  # measured on the old networks
    provenance[f"mapping-{map_cfg.mode}"] = meta.get("provenance", {})
    save_bundle(args.out, g1=bundle.g1, mappings=mappings, sr=bundle.sr,
                work_size=bundle.work_size, provenance=provenance, half=args.half, overwrite=True)
    print(f"wrote {args.out}: {map_cfg.mode} network from {args.run}")


if __name__ == "__main__":
    main()
