#!/usr/bin/env bash
# Does a pixel skip into the heatmap head let the tracker find the markers in the frame instead of
# copying where they were? (docs/RESULTS.md, "The frame in the head"). With `headImageSkip` every
# head conv after an upsampling also sees the current frame pooled to its side. y: the codes recipe
# (launch/tracker-codes.sh's c runs) + the skip; z: the recipe before the codes + the skip (does
# the frame alone localise?). 64 runs, decoder and heads at 1e-3, encoder at 2e-4, 4000 x 4.
#   bash launch/tracker-skip.sh [--demo demo] [--out long] [--seed 1] [--steps 4000]
# Needs launch/demo.sh's demo; shares tracker-lr.sh's data directory. A finished run leaves a
# .done marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
seed=1 steps=4000
source launch/tracker-common.sh tracker-skip.sh "$@"
synth_tracker_data
recipe=$(cat "$out/postraj.json")
echo "${recipe%\}}, \"queryPositionCodes\": true, \"headImageSkip\": true}" > "$out/skipcodes.json"
echo "${recipe%\}}, \"headImageSkip\": true}" > "$out/skip.json"

echo "[skip] trackers with the frame in the head, seed $seed, $steps x 4: y$seed with the query codes, z$seed without"
run() {  # name config
  TRACKER_CONFIG="$out/$2.json" fine_tune "$1" "$out/annotated64" "$demo/encoder.safetensors" "$steps" "$seed" 1e-3 --encoder-lr-scale 0.2
}
run "y$seed" skipcodes &
run "z$seed" skip &
wait
evaluate_runs "y$seed" "z$seed"
echo "[skip] done: $out/ev-y$seed-*.json, $out/ev-z$seed-*.json"
