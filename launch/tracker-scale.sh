#!/usr/bin/env bash
# Does pretraining at the tracker's scale make the encoder help? (docs/RESULTS.md, "Pretraining at
# the tracker's scale"). The demo pretrains on 128-px frames with METHOD §2's random crops (scale
# 0.66-1), so its encoder sees the 150 mm field at 0.77-1.17 mm/px; the tracker's 128-px crop of a
# 256-px frame is 0.586 mm/px. Here the demo's recipe (preset bench, 1000 steps, 2 ranks x batch 4,
# lr 0.05, the demo's 48 scenes: seed 1, 24 frames) runs on 256-px frames with every crop at scale
# 0.5 (128 px, uncropped pixels: exactly the tracker's scale), the encoder is exported, and
# trackers are fine-tuned from it exactly as launch/tracker-lr.sh's stage 2 fine-tunes from the
# demo's encoder (64 runs, the best recipe, lr 2e-4, 4000 x 4, seeds 1 and 2) and evaluated the same way.
#   bash launch/tracker-scale.sh [--demo demo] [--out long] [--steps 1000]
# Needs launch/demo.sh's demo (its held-out runs); shares tracker-lr.sh's data directory. A
# finished stage leaves a .done marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=1000
source launch/tracker-common.sh tracker-scale.sh "$@"
[ -f "$out/pretrain256/manifest.json" ] || "$FLUORO" synth --out "$out/pretrain256" --sequences 48 --frames 24 --size 256 --seed 1
synth_tracker_data

echo "[scale] 1. FIMAE-SC, preset bench, $steps steps on 2 ranks, 256-px frames, crops at scale 0.5"
echo '{"minimumCropScale": 0.5, "maximumCropScale": 0.5}' > "$out/scale.json"
pretrain_encoder prescale "$out/pretrain256" "$steps" "$out/encoder-scale.safetensors" --config "$out/scale.json" \
  --checkpoint-every 100 --log-every 50

echo "[scale] 2. trackers from it: 64 runs, lr 2e-4, 4000 x 4, seeds 1 and 2"
run() { fine_tune "$1" "$out/annotated64" "$out/encoder-scale.safetensors" 4000 "$2" 2e-4; }  # name seed
run s1 1 &
run s2 2 &
wait_all
evaluate_runs s1 s2
learning_curve "$out/scurve" s1 s2
echo "[scale] done: $out/prescale.log, $out/ev-s*.json, $out/scurve/s*.json"
