#!/usr/bin/env bash
# Mapping-recipe ablation at equal CPU time per row (docs/ABLATION.md has the table).
#
#   bash examples/ablation/mapping.sh DATA RUNS [CPU_SECONDS] [ROUND]
#
# DATA: a folder with train/ and holdout/ (examples/datasets: photos + cartoon, photos repeated
# 4x in train/ so they are not drowned by the composites); DATA/../holdout_frames: the held-out
# photos and full cartoon frames scored. Each row trains single-threaded until the kernel stops
# it after CPU_SECONDS of CPU time (ulimit -t; checkpoints every 50 steps, the last one counts;
# one thread, default precision: bf16 autocast on CPUs with native bf16, else fp32),
# so a costlier recipe gets fewer steps, as it would on any fixed budget. ROUND 2, 3, ... resumes
# every run for CPU_SECONDS more (runs resume exactly) and scores it again (eval_rROUND.json).
# ROUND 2 and 3 continue the old-recipe rows, edge_new and the chosen seg default; ROUND 4
# (run with CPU_SECONDS 1440, after round 1's rows) continues the palette rows and edge with tones
# to 1,800 CPU seconds each, the 30 minutes.
set -uo pipefail
DATA=${1:?data folder}
RUNS=${2:?runs folder}
CPU=${3:-360}
ROUND=${4:-1}
PY=${PYTHON:-python}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
OLD=(--d-scales 1 --fm-weight 0 --augment none --zoom 1 --no-palette --canny-percentile 0)
NEW=(--d-scales 2 --fm-weight 10 --augment color,translation,cutout --zoom 2 --no-palette --edge-tones 0
     --canny-percentile 0)  # round 1's four changes
common=(--size 128 --base-channels 16 --n-blocks 4 --batch-size 4 --steps 100000 --workers 0 --threads 1
        --sample-every 200 --checkpoint-every 50 --eval-every 0 -q)
row() {  # NAME MODE [recipe options...]
  local name=$1 mode=$2; shift 2
  [ -f "$RUNS/$name/eval_r$ROUND.json" ] && return
  ( ulimit -t "$CPU"; $PY -m lgan_video train mapping "$DATA/train" --out "$RUNS/$name" \
      --mode "$mode" "${common[@]}" "$@" ) 2>>"$RUNS/$name.log"
  tail -n 1 "$RUNS/$name/log.jsonl" > "$RUNS/$name/last_r$ROUND.json"
  $PY -m lgan_video eval mapping "$RUNS/$name" "$DATA/../holdout_frames" --size 128 --n 100 \
      --json > "$RUNS/$name/eval_r$ROUND.json"
}
mkdir -p "$RUNS"
if [ "$ROUND" = 4 ]; then  # 360 -> 1,800 CPU seconds: the palette rows and edge with tones
  row seg_palette seg "${NEW[@]}" --zoom 1 --palette &
  row seg_palette_l1 seg "${NEW[@]}" --zoom 1 --palette --l1-weight 100 &
  row edge_palette_gradient edge "${NEW[@]}" --zoom 1 --palette --canny-percentile 85 &
  row edge_tones edge "${NEW[@]}" --zoom 1 --palette --canny-percentile 85 --edge-tones 4 &
  wait
  exit 0
fi
if [ "$ROUND" != 1 ]; then  # the learning curve: old recipe vs the chosen default
  row seg_old seg "${OLD[@]}" &
  row seg_new_no_zoom seg "${NEW[@]}" --zoom 1 &
  row edge_old edge "${OLD[@]}" &
  row edge_new edge "${NEW[@]}" &
  wait
  exit 0
fi
row seg_old seg "${OLD[@]}" &
row seg_new seg "${NEW[@]}" &
row edge_old edge "${OLD[@]}" &
row edge_new edge "${NEW[@]}" &
wait
row seg_new_no_msd_fm seg "${NEW[@]}" --d-scales 1 --fm-weight 0 &
row seg_new_no_augment seg "${NEW[@]}" --augment none &
row seg_new_no_zoom seg "${NEW[@]}" --zoom 1 &   # round 1's choice
wait
row seg_palette seg "${NEW[@]}" --zoom 1 --palette &   # the default recipe
row edge_palette edge "${NEW[@]}" --zoom 1 --palette &
wait
row edge_palette_gradient edge "${NEW[@]}" --zoom 1 --palette --canny-percentile 85 &
row edge_palette_gradient_l1 edge "${NEW[@]}" --zoom 1 --palette --canny-percentile 85 \
  --l1-weight 100 &  # pix2pix's L1 weight
row seg_palette_l1 seg "${NEW[@]}" --zoom 1 --palette --l1-weight 100 &
wait
row edge_tones edge "${NEW[@]}" --zoom 1 --palette --canny-percentile 85 --edge-tones 4 &
wait
