"""Print the ablation table (Markdown) from the runs the ablation scripts made.

    python examples/ablation/table.py ~/lgan-runs/ablation ~/lgan-runs/ablation_g1

Each run folder needs ``eval_rN.json`` and ``last_rN.json`` (its last log record) for every
round N, both written by the scripts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def step_of(run: Path, rnd: str) -> int:
    """Steps the run had when round ``rnd`` was scored (``last_rN.json``: its last log record)."""
    f = run / f"last_r{rnd}.json"
    return json.loads(f.read_text())["step"] if f.is_file() else -1


def evals(root: Path):
    """(run name, round, eval dict, steps) for every scored round, in name order."""
    for run in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(run.glob("eval_r*.json")):
            rnd = f.stem.split("_r")[-1]
            yield run, rnd, json.loads(f.read_text()), step_of(run, rnd)


def options(run: Path) -> str:
    opts = json.loads((run / "training_options.json").read_text())
    keys = ("d_scales", "fm_weight", "augment", "zoom", "sle", "recon_weight")
    return ", ".join(f"{k}={opts[k]}" for k in keys if k in opts)


# (column title, eval.json key, format) per kind of run
MAPPING = [("PSNR dB", "psnr", ".2f"), ("flat PSNR dB", "flat_psnr", ".2f"),
           ("PSNR - flat", "psnr_over_flat", "+.2f"), ("SSIM", "ssim", ".3f"),
           ("structure", "structure", ".3f")]
G1 = [("FID", "fid", ".1f"), ("KID", "kid", ".3f"), ("SWD (x1e3)", "swd", ".1f"),
      ("near-white median", "near_white_median", ".3f"), ("colourfulness", "colourfulness", ".1f")]


def table(root: Path, columns: list[tuple[str, str, str]]) -> list[str]:
    """Markdown rows: run, recipe, round, steps, then ``columns`` (absent values: nan)."""
    head = ["run", "recipe", "round", "steps"] + [title for title, _, _ in columns]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for run, rnd, e, steps in evals(root):
        cells = [run.name, options(run), rnd, str(steps)]
        cells += [format(e.get(key, float("nan")), fmt) for _, key, fmt in columns]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        root = Path(arg).expanduser()
        is_g1 = any((p / "g1_ema.safetensors").exists() for p in root.iterdir())
        print("\n".join(table(root, G1 if is_g1 else MAPPING)), end="\n\n")
