#!/usr/bin/env bash
# Round 5 of the mapping ablation (docs/ABLATION.md): the default edge recipe (the default model's
# mapping_edge_tones run, examples/train_default.sh) with and without --antialias, at the same step
# count, side by side, one thread each; then each network in the default bundle in place of its
# edge network, scored as the README's tables are.
#
#   bash examples/ablation/antialias.sh DATA RUNS CLIP [CLIP ...]
#
# DATA: as examples/train_default.sh's (mix/train, holdout_frames); CLIPs: held-out clips
# (benchmarks/temporal_clips.py builds them; never opencv-doc's).
set -euo pipefail
DATA=${1:?data folder}
RUNS=${2:?runs folder}
shift 2
PY=${PYTHON:-python}
common=(--mode edge --size 128 --edge-tones 4 --base-channels 16 --n-blocks 4 --batch-size 4
        --steps "${STEPS:-2250}" --workers 0 --threads 1 --sample-every 500 --checkpoint-every 100
        --eval-every 0 -q)
$PY -m lgan_video train mapping "$DATA/mix/train" --out "$RUNS/edge_tones_ctl" "${common[@]}" &
$PY -m lgan_video train mapping "$DATA/mix/train" --out "$RUNS/edge_tones_aa" "${common[@]}" --antialias &
wait
for row in edge_tones_ctl edge_tones_aa; do
  $PY -m lgan_video eval mapping "$RUNS/$row" "$DATA/holdout_frames" --mode edge --size 192 --json \
    > "$RUNS/$row/eval_192.json"
  $PY examples/replace_network.py lgan_video/assets/default "$RUNS/$row" "$RUNS/bundle_$row" --half
done
$PY benchmarks/temporal.py "$@" --model "$RUNS/bundle_edge_tones_ctl" --modes edge --strengths 0 0.9 \
  --out "$RUNS/temporal_ctl" | tee "$RUNS/temporal_ctl.md"
$PY benchmarks/temporal.py "$@" --model "$RUNS/bundle_edge_tones_aa" --modes edge --strengths 0 0.9 \
  --out "$RUNS/temporal_aa" | tee "$RUNS/temporal_aa.md"
for row in edge_tones_ctl edge_tones_aa; do
  $PY benchmarks/temporal_shift.py "$1" --model "$RUNS/bundle_$row" --seeds 0 37 --shifts 1 2 4 8 \
    | tee "$RUNS/shift_$row.md"
done
