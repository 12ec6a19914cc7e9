#!/usr/bin/env bash
# Is the encoder the lever? (docs/RESULTS.md, "A longer-pretrained encoder"). The demo's encoder
# is FIMAE-SC pretrained for 1000 steps (2 ranks x batch 4) on 48 simulated runs; here the same
# recipe (preset bench, lr 0.05, mpirun -np 2) runs 4x the steps on 4x the runs (192 x 24 frames,
# seed 21, 128 px, angiography and fluoroscopy), its encoder is exported, and trackers are
# fine-tuned from it exactly as launch/tracker-lr.sh's stage 2 fine-tunes from the demo's
# (64 runs, the best recipe, lr 2e-4, 4000 x 4, seeds 1 and 2) and evaluated the same way.
#   bash launch/tracker-encoder.sh [--demo demo] [--out long] [--steps 4000]
# Needs launch/demo.sh's demo (its held-out runs); shares tracker-lr.sh's data directory. A
# finished stage leaves a .done marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=4000
source launch/tracker-common.sh tracker-encoder.sh "$@"
[ -f "$out/pretrain192/manifest.json" ] || "$FLUORO" synth --out "$out/pretrain192" --sequences 192 --frames 24 --size 128 --seed 21
synth_tracker_data

echo "[encoder] 1. FIMAE-SC, preset bench, $steps steps on 2 ranks"
pretrain_encoder pre "$out/pretrain192" "$steps" "$out/encoder-long.safetensors" --checkpoint-every 500 --log-every 100

echo "[encoder] 2. trackers from it: 64 runs, lr 2e-4, 4000 x 4, seeds 1 and 2"
run() { fine_tune "$1" "$out/annotated64" "$out/encoder-long.safetensors" 4000 "$2" 2e-4; }  # name seed
run p1 1 &
run p2 2 &
wait_all
evaluate_runs p1 p2
learning_curve "$out/qcurve" p1 p2
echo "[encoder] done: $out/pre.log, $out/ev-p*.json, $out/qcurve/p*.json"
