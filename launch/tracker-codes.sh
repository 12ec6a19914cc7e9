#!/usr/bin/env bash
# Do position codes on the decoder's queries let the tracker use the past? (docs/RESULTS.md,
# "Position codes on the queries"). The best recipe's trajectory tokens carry 2-D sin-cos codes of
# their bins (`trajectoryPositionInit`), but a query knows its place only through the encoder's
# 1-D token positions, so attending to the past position must be learnt. `queryPositionCodes`
# adds to each query the code of its cell's bin. First the bench-scale trajectory-copy task
# (95% of windows noise, so only the past says where the markers are; 400 x 4, lr 1e-3) without and
# with the codes, then trackers with them exactly as launch/tracker-rates.sh's (64 runs, the best
# recipe, decoder and heads at 1e-3, encoder at 2e-4, 4000 x 4, seeds 1 and 2), evaluated the same way.
#   bash launch/tracker-codes.sh [--demo demo] [--out long]
# Needs launch/demo.sh's demo; shares tracker-lr.sh's data directory. A finished run leaves a
# .done marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/tracker-common.sh tracker-codes.sh "$@"
synth_tracker_data
recipe=$(cat "$out/postraj.json")
echo "${recipe%\}}, \"queryPositionCodes\": true}" > "$out/codes.json"
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryOnlyFraction": 0.95, "trajectoryPositionInit": true}' > "$out/noise.json"
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryOnlyFraction": 0.95, "trajectoryPositionInit": true, "queryPositionCodes": true}' > "$out/noiseq.json"

echo "[codes] 1. the trajectory-copy task, 400 x 4: n3 without codes, n4 with"
for run in n3:noise n4:noiseq; do
  name=${run%%:*} config=${run##*:}
  [ -f "$out/$name/tracker.safetensors" ] || "$FLUORO" finetune --shards "$out/annotated64" --run "$out/$name" --task markers \
    --encoder "$demo/encoder.safetensors" --config "$out/$config.json" --steps 400 --batch 4 --seed 1 --lr 1e-3 --threads 1 \
    --log-every 50 > "$out/$name.log" 2>&1
done

echo "[codes] 2. trackers with the codes: 64 runs, decoder at 1e-3, encoder at 2e-4, 4000 x 4, seeds 1 and 2"
run() {  # name seed
  TRACKER_CONFIG="$out/codes.json" fine_tune "$1" "$out/annotated64" "$demo/encoder.safetensors" 4000 "$2" 1e-3 --encoder-lr-scale 0.2
}
run c1 1 &
run c2 2 &
wait_all
evaluate_runs c1 c2
learning_curve "$out/ccurve" c1 c2
echo "[codes] done: $out/n3.log, $out/n4.log, $out/ev-c*.json, $out/ccurve/c*.json"
