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


def mapping_rows(root: Path) -> list[str]:
    rows = ["| run | recipe | round | steps | PSNR dB | flat PSNR dB | PSNR - flat | SSIM | structure |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for run, rnd, e, steps in evals(root):
        rows.append(f"| {run.name} | {options(run)} | {rnd} | {steps} | {e['psnr']:.2f} | "
                    f"{e['flat_psnr']:.2f} | {e['psnr_over_flat']:+.2f} | {e['ssim']:.3f} | "
                    f"{e['structure']:.3f} |")
    return rows


def g1_rows(root: Path) -> list[str]:
    rows = ["| run | recipe | round | steps | FID | KID | SWD (x1e3) | near-white median | colourfulness |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for run, rnd, e, steps in evals(root):
        rows.append(f"| {run.name} | {options(run)} | {rnd} | {steps} | {e.get('fid', float('nan')):.1f} | "
                    f"{e.get('kid', float('nan')):.3f} | {e['swd']:.1f} | "
                    f"{e['near_white_median']:.3f} | {e['colourfulness']:.1f} |")
    return rows


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        root = Path(arg).expanduser()
        is_g1 = any((p / "g1_ema.safetensors").exists() for p in root.iterdir())
        print("\n".join(g1_rows(root) if is_g1 else mapping_rows(root)), end="\n\n")
