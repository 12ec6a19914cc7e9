#!/usr/bin/env bash
# With position codes the tracker copies its past (docs/RESULTS.md, "Position codes on the
# queries": one-step 1.8 px, online exactly holding still). Does a past that is only roughly right
# make it look at the frame? Two trackers with `queryPositionCodes`, `paddedStarts` (training also
# sees the padded windows of a run's first frames) and without the 30% trajectory-only samples
# (they reward copying the past): u1 with METHOD's past noise (1 px, 10% of samples 4 px), u2 with
# 3 px (`pastNoise`). Then v1 and v2: METHOD's noise plus one offset per sample and landmark shared
# by all its past frames (`pastOffset` 4 and 8 px), as an online tracker that is off stays off by
# about the same from frame to frame. Otherwise as launch/tracker-codes.sh (64 runs, decoder at
# 1e-3, encoder at 2e-4, 4000 x 4, seed 1), evaluated the same way.
#   bash launch/tracker-past.sh [--demo demo] [--out long] [--seed 1]
# Needs launch/demo.sh's demo; shares tracker-lr.sh's data directory. A finished run leaves a
# .done marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
seed=1
source launch/tracker-common.sh tracker-past.sh "$@"
synth_tracker_data
common='"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryPositionInit": true, "queryPositionCodes": true, "paddedStarts": true'
echo "{$common}" > "$out/past1.json"
echo "{$common, \"pastNoise\": 3}" > "$out/past3.json"
echo "{$common, \"pastOffset\": 4}" > "$out/offset4.json"
echo "{$common, \"pastOffset\": 8}" > "$out/offset8.json"

run() {  # name config
  TRACKER_CONFIG="$out/$2.json" fine_tune "$1" "$out/annotated64" "$demo/encoder.safetensors" 4000 "$seed" 1e-3 --encoder-lr-scale 0.2
}
s=""; [ "$seed" = 1 ] || s="s$seed"
pair() {  # name1 config1 name2 config2: both side by side, then evaluated
  run "$1$s" "$2" &
  run "$3$s" "$4" &
  wait
  evaluate_runs "$1$s" "$3$s"
}
echo "[past] 1. codes + padded starts, past noise 1 px (u1) and 3 px (u2), seed $seed"
pair u1 past1 u2 past3
echo "[past] 2. codes + padded starts, a shared past offset of 4 px (v1) and 8 px (v2), seed $seed"
pair v1 offset4 v2 offset8
learning_curve "$out/ucurve" "u1$s" "u2$s" "v1$s" "v2$s"
echo "[past] done: $out/ev-u*.json, $out/ev-v*.json, $out/ucurve/"
