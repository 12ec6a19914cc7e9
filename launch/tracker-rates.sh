#!/usr/bin/env bash
# A pretrained encoder and a new decoder at one learning rate? (docs/RESULTS.md, "Two learning
# rates"). Every tracker so far trained all its parts at one peak rate: at 1e-3 even two runs were
# not memorised (the pretrained encoder is disturbed), at 2e-4 the new decoder and heads learn
# slowly. Here the decoder, correlation embeddings and heads train at 1e-3 and the encoder at
# 0.2 x that (2e-4, METHOD's rate), from the demo's encoder, otherwise exactly as
# launch/tracker-lr.sh's stage 2 (64 runs, the best recipe, 4000 x 4, seeds 1 and 2), evaluated the same way.
#   bash launch/tracker-rates.sh [--demo demo] [--out long]
# Needs launch/demo.sh's demo (its encoder and held-out runs); shares tracker-lr.sh's data
# directory. A finished run leaves a .done marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/tracker-common.sh tracker-rates.sh "$@"
synth_tracker_data

echo "[rates] trackers: decoder and heads at 1e-3, encoder at 2e-4; 64 runs, 4000 x 4, seeds 1 and 2"
run() { fine_tune "$1" "$out/annotated64" "$demo/encoder.safetensors" 4000 "$2" 1e-3 --encoder-lr-scale 0.2; }  # name seed
run r1 1 &
run r2 2 &
wait_all
evaluate_runs r1 r2
learning_curve "$out/rcurve" r1 r2
echo "[rates] done: $out/ev-r*.json, $out/rcurve/r*.json"
