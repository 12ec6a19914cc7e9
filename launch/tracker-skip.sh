#!/usr/bin/env bash
# Does a pixel skip into the heatmap head let the tracker find the markers in the frame instead of
# copying where they were? (docs/RESULTS.md, "The frame in the head"). With `headImageSkip` every
# head conv after an upsampling also sees the current frame pooled to its side. From the demo's
# encoder on the 64 annotated runs, decoder and heads at 1e-3, encoder at 2e-4, 4000 x 4:
#   y1, y2  the codes recipe (launch/tracker-codes.sh's c runs) + the skip, seeds 1 and 2
#   z1      the recipe before the codes + the skip (does the frame alone localise?)
#   yn1     y1 with past estimates 2 px off instead of 1 (pastNoise 2)
#   y3      codes + skip for 3000 steps (the demo's length), seed 3; yl1: 8000 steps, seed 1
#   yt1,yt2 codes + skip for the catheter tip, seeds 1 and 2
#   yl2     markers, 8000 steps, seed 2; ytl2: the tip, 8000 steps, seed 2
#   ys1,ys2 y1's recipe from scratch (no pretrained encoder; the encoder still at 0.2 x the rate),
#           seeds 1 and 2: does the pretraining matter to this recipe? y4, ys3: seed 3 of both
#   yf1,yf2 y1's recipe from a FIMAE encoder (the demo's pretraining with wVes 0: same data, seed,
#           1000 steps on 2 ranks), seeds 1 and 2: does the vesselness decoder matter?
# evaluated on the demo's 4 held-out runs, the 16 new ones (seed 7) and 48 more (seed 11), the
# last two per frame with the still baseline and compared run by run (launch/paired_report.py),
# beside launch/tracker-codes.sh's c1 when it ran with the same --out.
#   bash launch/tracker-skip.sh [--demo demo] [--out long]
# Needs launch/demo.sh's demo; shares tracker-lr.sh's data directory. A finished run leaves a
# .done marker; run it again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/tracker-common.sh tracker-skip.sh "$@"
synth_tracker_data
[ -f "$out/heldout48/manifest.json" ] || "$FLUORO" synth --out "$out/heldout48" --sequences 48 --frames 32 --size 256 --seed 11 --kind fluoro
recipe=$(cat "$out/postraj.json")
echo "${recipe%\}}, \"queryPositionCodes\": true, \"headImageSkip\": true}" > "$out/skipcodes.json"
echo "${recipe%\}}, \"queryPositionCodes\": true, \"headImageSkip\": true, \"pastNoise\": 2}" > "$out/skipnoise.json"
echo "${recipe%\}}, \"headImageSkip\": true}" > "$out/skip.json"

run() {  # name seed config [steps [encoder]]  (the task in $TRACKER_TASK, default markers)
  TRACKER_CONFIG="$out/$3.json" fine_tune "$1" "$out/annotated64" "${5:-$demo/encoder.safetensors}" "${4:-4000}" "$2" 1e-3 --encoder-lr-scale 0.2
}
echo "[skip] 1. y1 (codes + skip) and z1 (skip alone), seed 1"
run y1 1 skipcodes & run z1 1 skip & wait_all
echo "[skip] 2. y2 (codes + skip, seed 2) and yn1 (+ pastNoise 2, seed 1)"
run y2 2 skipcodes & run yn1 1 skipnoise & wait_all
echo "[skip] 3. y3 (3000 steps, seed 3) and yl1 (8000 steps, seed 1)"
run y3 3 skipcodes 3000 & run yl1 1 skipcodes 8000 & wait_all
echo "[skip] 4. yt1 and yt2: the catheter tip, seeds 1 and 2"
TRACKER_TASK=tip run yt1 1 skipcodes & TRACKER_TASK=tip run yt2 2 skipcodes & wait_all
echo "[skip] 5. yl2 (markers) and ytl2 (tip): 8000 steps, seed 2"
run yl2 2 skipcodes 8000 & TRACKER_TASK=tip run ytl2 2 skipcodes 8000 & wait_all
echo "[skip] 6. ys1, ys2, ys3: y1's recipe from scratch, seeds 1-3, and y4: seed 3 pretrained"
run ys1 1 skipcodes 4000 scratch & run ys2 2 skipcodes 4000 scratch & wait_all
run y4 3 skipcodes 4000 & run ys3 3 skipcodes 4000 scratch & wait_all
echo "[skip] 7. the FIMAE arm: the demo's pretraining with wVes 0, then yf1 and yf2"
fimae="$out/encoder-fimae-demo.safetensors"
if [ ! -f "$fimae" ]; then
  echo '{"wVes": 0}' > "$out/fimae-demo.json"
  resume=(); [ -d "$out/pretrain-fimae-demo/checkpoints" ] && resume=(--resume latest)
  FLUORO="$FLUORO" bash launch/local.sh 2 pretrain --shards "$demo/synthetic" --run "$out/pretrain-fimae-demo" --preset bench \
    --config "$out/fimae-demo.json" --steps 1000 --batch 4 --lr 0.05 --seed 0 --checkpoint-every 250 --log-every 100 "${resume[@]}"
  "$FLUORO" export --run "$out/pretrain-fimae-demo" --out "$fimae"
fi
run yf1 1 skipcodes 4000 "$fimae" & run yf2 2 skipcodes 4000 "$fimae" & wait_all
evaluate_runs y1 z1 y2 yn1 y3 yl1 yl2 ys1 ys2 y4 ys3 yf1 yf2
TRACKER_TASK=tip evaluate_runs yt1 yt2 ytl2
learning_curve "$out/ycurve" y1 yl1

# report TASK NAME...: per-frame evaluations on both new test sets and the run-by-run comparison
# with still, into $out/skip-paired-TASK-SET.md.
report() {
  local task=$1; shift
  for set in heldout16 heldout48; do
    local files=()
    for name in "$@"; do
      [ -f "$out/pf-$set-$name.csv" ] || "$FLUORO" evaluate --model "$out/$name" --shards "$out/$set" --task "$task" \
        --baseline still --threads 1 --json --per-frame "$out/pf-$set-$name.csv" > "$out/ev-$name-$set-perframe.json"
      files+=("$out/pf-$set-$name.csv")
    done
    python3 launch/paired_report.py "${files[@]}" | tee "$out/skip-paired-$task-$set.md"
  done
}
markers=(y1 z1 y2 yn1 y3 yl1 yl2 ys1 ys2 y4 ys3 yf1 yf2)
[ -f "$out/c1.done" ] && markers=(c1 "${markers[@]}")
report markers "${markers[@]}"
report tip yt1 yt2 ytl2
echo "[skip] done: $out/ev-{y1,z1,y2,yn1,y3,yl1,yl2,ys1,ys2,y4,ys3,yf1,yf2,yt1,yt2,ytl2}-*.json, $out/ycurve/, $out/skip-paired-*.md"
