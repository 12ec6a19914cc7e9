#!/usr/bin/env bash
# The catheter tip with the position-code recipes (docs/RESULTS.md, "The catheter tip"). A
# balloon-marker pair is two identical bands, and the marker trackers' online failures are one
# estimate of the pair sliding onto the other; a tip is one landmark with its own look. Tip
# trackers from the demo's encoder with launch/tracker-past.sh's u1 recipe (codes, padded starts,
# METHOD's past noise; w1) and u2 recipe (3 px past noise; w2), 64 runs, decoder at 1e-3, encoder
# at 2e-4, 4000 x 4, seed 1 (--seed N for another), evaluated on the 16 new runs and the demo's 4.
#   bash launch/tracker-tip.sh [--demo demo] [--out long] [--seed 1]
# Run launch/tracker-past.sh first (it writes the two configs). A finished run leaves a .done
# marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
seed=1
source launch/tracker-common.sh tracker-tip.sh "$@"
export TRACKER_TASK=tip
for f in past1 past3; do [ -f "$out/$f.json" ] || { echo "tracker-tip.sh: no $out/$f.json; run launch/tracker-past.sh first" >&2; exit 2; }; done
s=""; [ "$seed" = 1 ] || s="s$seed"
run() {  # name config
  TRACKER_CONFIG="$out/$2.json" fine_tune "$1" "$out/annotated64" "$demo/encoder.safetensors" 4000 "$seed" 1e-3 --encoder-lr-scale 0.2
}
echo "[tip] tip trackers: codes + padded starts, past noise 1 px (w1$s) and 3 px (w2$s), seed $seed"
run "w1$s" past1 &
run "w2$s" past3 &
wait_all
evaluate_runs "w1$s" "w2$s"
learning_curve "$out/wcurve" "w1$s" "w2$s"
echo "[tip] done: $out/ev-w*.json, $out/wcurve/"
