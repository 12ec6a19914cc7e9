#!/usr/bin/env bash
# Is the learning rate what keeps the tracker on its plateau? (docs/RESULTS.md, "The learning
# rate"). Every tracker run so far used a peak lr of 1e-3; METHOD §10 says 2e-4.
#  1. Can it memorise? Two simulated runs (seed 12), the best recipe (sin-cos trajectory
#     embeddings, 30% trajectory-only samples, 10 x BCE + σ curriculum), 1500 x 4 steps at lr 1e-3
#     and at 2e-4, evaluated on those same two runs, online and one-step.
#  2. The same recipe at 2e-4 on launch/tracker-long.sh's 64 runs (seed 5), 4000 x 4, seeds 1
#     and 2, evaluated on the demo's 4 held-out runs and the 16 new ones (seed 7), online and
#     one-step, with every 500-step checkpoint on the 16 new runs (a learning curve).
#  3. More scenes, the same frames: 512 runs x 8 frames (seed 9) instead of 64 x 32, the same
#     recipe, steps and seeds as 2, evaluated the same way.
#   bash launch/tracker-lr.sh [--demo demo] [--out long]
# Needs launch/demo.sh's demo (its encoder and held-out runs); --out shares launch/tracker-long.sh's
# data directory (made here when missing). One thread per run, two runs side by side. A finished
# stage leaves a .done marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/tracker-common.sh tracker-lr.sh "$@"
[ -f "$out/one/manifest.json" ] || "$FLUORO" synth --out "$out/one" --sequences 2 --frames 32 --size 256 --seed 12 --kind fluoro
[ -f "$out/annotated64/manifest.json" ] || "$FLUORO" synth --out "$out/annotated64" --sequences 64 --frames 32 --size 256 --seed 5 --kind fluoro
[ -f "$out/diverse512/manifest.json" ] || "$FLUORO" synth --out "$out/diverse512" --sequences 512 --frames 8 --size 256 --seed 9 --kind fluoro
[ -f "$out/heldout16/manifest.json" ] || "$FLUORO" synth --out "$out/heldout16" --sequences 16 --frames 32 --size 256 --seed 7 --kind fluoro

run() { fine_tune "$1" "$out/$2" "$demo/encoder.safetensors" "$3" "$4" "$5"; }  # name shards steps seed lr

echo "[lr] 1. memorising two runs at lr 1e-3 and 2e-4"
run o1 one 1500 1 1e-3 &
run o2 one 1500 1 2e-4 &
wait_all
"$FLUORO" evaluate --shards "$out/one" --task markers --baseline still --baseline ncc --threads 1 --json > "$out/ev-baselines-one.json"
for name in o1 o2; do evaluate "$out/$name" "$out/one" "$name-train"; done

two_seeds() {  # prefix shards: seeds 1 and 2 at lr 2e-4, 4000 x 4, side by side, then evaluated
  run "${1}1" "$2" 4000 1 2e-4 &
  run "${1}2" "$2" 4000 2 2e-4 &
  wait
  for name in "${1}1" "${1}2"; do
    evaluate "$out/$name" "$demo/heldout" "$name-heldout"
    evaluate "$out/$name" "$out/heldout16" "$name-heldout16"
  done
}
echo "[lr] 2. lr 2e-4 on 64 runs, 4000 x 4, seeds 1 and 2"
two_seeds q annotated64
echo "[lr] 3. 512 scenes x 8 frames at lr 2e-4, 4000 x 4, seeds 1 and 2"
two_seeds d diverse512
learning_curve "$out/qcurve" q1 q2 d1 d2
echo "[lr] done: $out/ev-{o,q,d}*.json, $out/qcurve/*.json"
