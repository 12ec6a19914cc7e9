#!/usr/bin/env bash
# The best tracker recipe so far (docs/RESULTS.md, "Teaching it the past": sin-cos trajectory
# embeddings + 30% trajectory-only samples, 10 x BCE + σ curriculum, lr 1e-3) with four times the
# annotated runs and 3.2 times the steps: 64 simulated fluoroscopy runs (seed 5) instead of the
# demo's 16, 8000 steps x batch 4 instead of 2500, seeds 1 and 2; evaluated on the demo's 4
# held-out runs (seed 3) and on 16 new ones (seed 7: 13 with markers on frame 0), online and
# one-step, beside still and NCC, and every 500-step checkpoint on the 16 new runs (a learning
# curve) (docs/RESULTS.md, "Longer, on more runs").
#   bash launch/tracker-long.sh [--demo demo] [--out long]
# Needs launch/demo.sh's demo (its exported encoder and held-out runs). One thread per run, the two
# seeds side by side. A finished stage leaves a .done marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/tracker-common.sh tracker-long.sh "$@"
synth_tracker_data

run() { fine_tune "$1" "$out/annotated64" "$demo/encoder.safetensors" 8000 "$2" 1e-3; }  # name seed
echo "[long] two seeds of 8000 x 4 on 64 runs"
run s1 1 &
run s2 2 &
wait_all
echo "[long] evaluations"
for test in heldout heldout16; do
  shards="$demo/heldout"; [ "$test" = heldout16 ] && shards="$out/heldout16"
  "$FLUORO" evaluate --shards "$shards" --task markers --baseline still --baseline ncc --threads 1 --json > "$out/ev-baselines-$test.json"
  for name in s1 s2; do
    "$FLUORO" evaluate --model "$out/$name" --shards "$shards" --task markers --threads 1 --json > "$out/ev-$name-$test.json"
    "$FLUORO" evaluate --model "$out/$name" --shards "$shards" --task markers --threads 1 --json --one-step > "$out/ev-$name-$test-1step.json"
  done
done
echo "[long] learning curves: every checkpoint on the 16 new held-out runs"
learning_curve "$out/curve" s1 s2
echo "[long] done: $out/ev-*.json, $out/curve/*.json"
