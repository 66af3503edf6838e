"""Write a run folder's final evaluations into its bundle's provenance.

    python examples/bundle_provenance.py RUNS RECIPE

Reads ``RUNS/eval_{g1,mapping_edge,mapping_seg,sr}.json`` (``lgan-video eval ... --json``) and
adds them to ``RUNS/bundle/bundle.json`` as ``provenance.evaluation``, with ``provenance.recipe``
= RECIPE. bundle.json is metadata: the weights and their sha256s are untouched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

EVALUATIONS = ("g1", "mapping_edge", "mapping_seg", "sr")


def main() -> None:
    runs, recipe = Path(sys.argv[1]), sys.argv[2]
    meta_path = runs / "bundle" / "bundle.json"
    meta = json.loads(meta_path.read_text())
    meta["provenance"]["evaluation"] = {
        name: json.loads((runs / f"eval_{name}.json").read_text()) for name in EVALUATIONS
    }
    meta["provenance"]["recipe"] = recipe
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
