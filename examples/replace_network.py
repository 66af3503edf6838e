"""Replace one network of a bundle by a training run's, keeping everything else.

    python examples/replace_network.py BUNDLE RUN OUT [--half]

The run's ``network.json`` says what it replaces: G1 (its EMA generator), the mapping network of
the run's mode (edge or seg) or SR. The other networks, the working size and their provenance come
from BUNDLE; the new network's provenance comes from the run, and the bundle's evaluation is
dropped (it measured the old networks). OUT is written atomically (an existing OUT is replaced).
The default model v3 is v2 with its edge network replaced by the edge-with-tones run
(examples/train_default.sh).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lgan_video.bundle import load_bundle, save_bundle
from lgan_video.maps import MapConfig
from lgan_video.training.export import load_run_network


def replace_network(bundle_dir: Path, run: Path, out: Path, half: bool = False) -> str:
    """Write OUT = BUNDLE with the run's network in place of its own; returns the entry name."""
    bundle = load_bundle(bundle_dir)
    net, meta = load_run_network(run)
    kind = meta["network"]
    nets = {"g1": bundle.g1, "sr": bundle.sr,
            "mappings": {m: (bundle.mappings[m], bundle.map_configs[m]) for m in bundle.modes}}
    if kind == "mapping":
        map_cfg = MapConfig.from_dict(meta["map"])
        nets["mappings"][map_cfg.mode] = (net, map_cfg)
        name = f"mapping-{map_cfg.mode}"
    else:
        nets[kind] = net
        name = kind
    provenance = json.loads((bundle_dir / "bundle.json").read_text())["provenance"]
    provenance.pop("evaluation", None)  # measured on the old networks
    provenance[name] = meta.get("provenance", {})
    save_bundle(out, g1=nets["g1"], mappings=nets["mappings"], sr=nets["sr"],
                work_size=bundle.work_size, provenance=provenance, half=half, overwrite=True)
    return name


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("bundle", type=Path)
    p.add_argument("run", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--half", action="store_true", help="store float16 weights")
    args = p.parse_args(argv)
    name = replace_network(args.bundle, args.run, args.out, args.half)
    print(f"wrote {args.out}: {name} from {args.run}")


if __name__ == "__main__":
    main()
