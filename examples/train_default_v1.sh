#!/usr/bin/env bash
# Retrains the *first* default model (v1, shipped until 2026-11-25; replaced by the one
# examples/train_default.sh makes) from scratch, with the exact commands that made it.
# CPU-sized: the four runs go side by side, one thread each, on 2+ cores.
#
#   bash examples/train_default_v1.sh [DATA_DIR] [RUNS_DIR]
#
# Data: public-domain clip art from Debian's openclipart-png (prepared by examples/datasets).
set -euo pipefail
DATA=${1:-data}
RUNS=${2:-runs/default}
PY=${PYTHON:-python}
LGAN="$PY -m lgan_video"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

if [ ! -d "$DATA/clipart256/train" ]; then
  $PY examples/datasets/prepare.py openclipart "$DATA/clipart256" --size 256 --v1-split 200
fi
for size in 64 128; do
  [ -d "$DATA/clipart$size/train" ] || \
    $PY examples/datasets/prepare.py resize "$DATA/clipart256" "$DATA/clipart$size" --size $size
done

common=(--workers 0 --sample-every 250 --checkpoint-every 250 --eval-every 500 -q)
# The shipped model predates the small-data recipes that are now the defaults (FastGAN pieces and
# DiffAugment for G1; multi-scale D, feature matching and DiffAugment for mapping):
# these flags select the recipe it was trained with.
OLD_G1=(--no-sle --recon-weight 0 --augment none)
OLD_MAP=(--d-scales 1 --fm-weight 0 --augment none --zoom 1)
$LGAN train g1 "$DATA/clipart64/train" --out "$RUNS/g1" --resolution 32 --channels 128 \
  --batch-size 32 --steps 1500 --loss hinge "${OLD_G1[@]}" "${common[@]}" &
$LGAN train mapping "$DATA/clipart128/train" --out "$RUNS/mapping_edge" --mode edge --size 96 \
  --base-channels 16 --n-blocks 4 --batch-size 8 --steps 1000 "${OLD_MAP[@]}" "${common[@]}" &
$LGAN train mapping "$DATA/clipart128/train" --out "$RUNS/mapping_seg" --mode seg --size 96 \
  --base-channels 16 --n-blocks 4 --batch-size 8 --steps 1000 --cache-maps "${OLD_MAP[@]}" \
  "${common[@]}" &
$LGAN train sr "$DATA/clipart256/train" --out "$RUNS/sr" --scale 2 --channels 16 --blocks 2 \
  --patch 64 --batch-size 16 --steps 1000 --gan-weight 0 "${common[@]}" &
wait

$LGAN export --g1 "$RUNS/g1" --mapping "$RUNS/mapping_edge" --mapping "$RUNS/mapping_seg" \
  --sr "$RUNS/sr" -o "$RUNS/bundle" --half --overwrite
$LGAN eval g1 "$RUNS/bundle" "$DATA/clipart64/train" --n 1000 --json > "$RUNS/eval_g1.json"
$LGAN eval mapping "$RUNS/bundle" "$DATA/clipart128/holdout" --mode edge --json > "$RUNS/eval_mapping_edge.json"
$LGAN eval mapping "$RUNS/bundle" "$DATA/clipart128/holdout" --mode seg --json > "$RUNS/eval_mapping_seg.json"
$LGAN eval sr "$RUNS/bundle" "$DATA/clipart256/holdout" --json > "$RUNS/eval_sr.json"
# Final metrics go into the bundle's provenance (bundle.json is metadata; weights keep their sha256).
$PY examples/bundle_provenance.py "$RUNS" examples/train_default_v1.sh
echo "bundle: $RUNS/bundle (copy it to lgan_video/assets/default to ship it)"
