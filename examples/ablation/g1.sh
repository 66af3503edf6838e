#!/usr/bin/env bash
# G1-recipe ablation at equal CPU time per row (docs/ABLATION.md has the table).
#
#   bash examples/ablation/g1.sh DATA RUNS [CPU_SECONDS]
#
# DATA: the training folder (photos + cartoon frames + composites). Each row trains
# single-threaded until the kernel stops it after CPU_SECONDS of CPU time (ulimit -t;
# checkpoints every 50 steps, the last one counts); then FID/KID/SWD of 500 EMA samples against
# 500 training images, and the looks' near-white share and colourfulness.
set -uo pipefail
DATA=${1:?data folder}
RUNS=${2:?runs folder}
CPU=${3:-360}
ROUND=1
PY=${PYTHON:-python}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
common=(--resolution 64 --channels 128 --batch-size 16 --steps 100000 --workers 0 --threads 1
        --sample-every 200 --checkpoint-every 50 --eval-every 0 -q)
row() {  # NAME [recipe options...]
  local name=$1; shift
  [ -f "$RUNS/$name/eval_r1.json" ] && return
  ( ulimit -t "$CPU"; $PY -m lgan_video train g1 "$DATA" --out "$RUNS/$name" "${common[@]}" "$@" ) \
      2>"$RUNS/$name.log"
  tail -n 1 "$RUNS/$name/log.jsonl" > "$RUNS/$name/last_r$ROUND.json"
  $PY -m lgan_video eval g1 "$RUNS/$name" "$DATA" --n 500 --json > "$RUNS/$name/eval_r1.json"
}
mkdir -p "$RUNS"
row g1_old --no-sle --recon-weight 0 --augment none &
row g1_new &
wait
