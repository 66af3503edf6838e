#!/usr/bin/env bash
# The next default model (in progress; the shipped one is examples/train_default.sh's): the
# small-data recipes (now the defaults of `lgan-video train`) on photos and cartoon frames from
# Debian packages, sized for a 192 px working size and SR x2 to 384 px. CPU-sized: four runs side
# by side, one thread each. The mapping networks train on 128 px crops (2.25x the steps of 192 px
# per CPU hour; they are fully convolutional) and are scored at 192 px, the working size. Re-running the script resumes every run exactly where it stopped;
# raise STEPS to train longer.
#
#   bash examples/train_default_v2.sh [DATA_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-data}
RUNS=${2:-runs/default_v2}
PY=${PYTHON:-python}
LGAN="$PY -m lgan_video"

if [ ! -d "$DATA/mix/train" ]; then
  $PY examples/datasets/prepare.py photos "$DATA/photos" --size 512
  $PY examples/datasets/prepare.py cartoon "$DATA/cartoon" --size 384 --composites 3000
  for split in train holdout; do  # photos repeated 4x so the composites do not drown them
    mkdir -p "$DATA/mix/$split"
    cp -al "$DATA/photos/$split/." "$DATA/mix/$split/"
    cp -al "$DATA/cartoon/$split/." "$DATA/mix/$split/"
  done
  for k in 1 2 3; do
    for f in "$DATA"/photos/train/*; do ln -f "$f" "$DATA/mix/train/rep${k}_$(basename "$f")"; done
  done
fi

common=(--workers 0 --threads 1 --sample-every 500 --checkpoint-every 100 --eval-every 0 -q)
$LGAN train g1 "$DATA/mix/train" --out "$RUNS/g1" --resolution 64 --channels 256 \
  --batch-size 16 --steps ${G1_STEPS:-20000} "${common[@]}" &
$LGAN train mapping "$DATA/mix/train" --out "$RUNS/mapping_seg" --mode seg --size 128 \
  --base-channels 24 --n-blocks 6 --batch-size 4 --steps ${MAP_STEPS:-20000} "${common[@]}" &
$LGAN train mapping "$DATA/mix/train" --out "$RUNS/mapping_edge" --mode edge --size 128 \
  --base-channels 24 --n-blocks 6 --batch-size 4 --steps ${MAP_STEPS:-20000} "${common[@]}" &
$LGAN train sr "$DATA/mix/train" --out "$RUNS/sr" --scale 2 --channels 32 --blocks 4 \
  --patch 96 --batch-size 16 --degrade --steps ${SR_STEPS:-20000} "${common[@]}" &
wait

$LGAN export --g1 "$RUNS/g1" --mapping "$RUNS/mapping_edge" --mapping "$RUNS/mapping_seg" \
  --sr "$RUNS/sr" -o "$RUNS/bundle" --half --work-size 192 --overwrite
$LGAN eval mapping "$RUNS/bundle" "$DATA/mix/holdout" --mode seg --size 192 --json > "$RUNS/eval_mapping_seg.json"
$LGAN eval mapping "$RUNS/bundle" "$DATA/mix/holdout" --mode edge --size 192 --json > "$RUNS/eval_mapping_edge.json"
$LGAN eval sr "$RUNS/bundle" "$DATA/photos/holdout" --json > "$RUNS/eval_sr.json"
$LGAN eval g1 "$RUNS/bundle" "$DATA/mix/train" --n 1000 --json > "$RUNS/eval_g1.json"
echo "bundle: $RUNS/bundle"
