#!/usr/bin/env bash
# The tracker's trajectory aids (docs/RESULTS.md, "Teaching it the past"): on top of the recipe of
# launch/tracker-recipes.sh (10 x BCE + σ curriculum, 2500 steps x batch 4, lr 1e-3, seed 1),
#   - trajectory-only samples (`trajectoryOnlyFraction` 0.3): tip (study data) and markers (demo);
#   - sin-cos trajectory embeddings (`trajectoryPositionInit`): markers (demo), seeds 1 and 2, with
#     trajectory-only samples too, and at batch 8;
#   - the copy-the-past task at bench scale (95% noise windows, 400 steps), random and sin-cos init;
# then every tracker (these and tracker-recipes.sh's tip-long / markers-long) evaluated online and
# one-step, with and without the read-out's motion prior (4 and 8 crop px); the recipe's two
# trackers with bf16 products, and a pair fine-tuned with fp32 and with bf16 products (issue 14).
#   bash launch/tracker-aids.sh [--study ablation] [--demo demo] [--recipes recipes] [--out aids]
# Needs launch/ablation.sh's study, launch/demo.sh's demo and tracker-recipes.sh's runs. Each
# finished stage leaves a .done marker; run it again to resume. One thread per run, two at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/jobs.sh
study=ablation; demo=demo; recipes=recipes; out=aids
while [ $# -gt 0 ]; do
  case "$1" in
    --study) study="$2"; shift ;;
    --demo) demo="$2"; shift ;;
    --recipes) recipes="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "tracker-aids.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
for f in "$study/encoder-fimae-sc.safetensors" "$demo/encoder.safetensors" "$recipes/tip-long/tracker.safetensors" \
         "$recipes/markers-long/tracker.safetensors"; do
  [ -f "$f" ] || { echo "tracker-aids.sh: no $f; run launch/ablation.sh, launch/demo.sh and launch/tracker-recipes.sh first" >&2; exit 2; }
done
[ -n "${FLUORO:-}" ] || FLUORO="$(bash launch/release-fluoro.sh)"
unset OPENBLAS_CORETYPE
mkdir -p "$out"
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryOnlyFraction": 0.3}' > "$out/traj.json"
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryPositionInit": true}' > "$out/pos.json"
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryPositionInit": true, "trajectoryOnlyFraction": 0.3}' > "$out/postraj.json"
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryOnlyFraction": 0.95}' > "$out/n1.json"
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryOnlyFraction": 0.95, "trajectoryPositionInit": true}' > "$out/n2.json"

run() {  # name shards task encoder config steps seed [finetune options]
  local name=$1 shards=$2 task=$3 encoder=$4 config=$5 steps=$6 seed=$7; shift 7
  local options=("$@"); [[ " ${options[*]} " == *" --batch "* ]] || options+=(--batch 4)
  [ -f "$out/$name.done" ] && return
  local resume=(); [ -f "$out/$name/finetune.json" ] && resume=(--resume latest)
  "$FLUORO" finetune --shards "$shards" --run "$out/$name" --task "$task" --encoder "$encoder" --config "$config" \
    --steps "$steps" --seed "$seed" --lr 1e-3 --checkpoint-every 250 --threads 1 --log-every 100 "${options[@]}" "${resume[@]}" \
    > "$out/$name.log" 2>&1
  touch "$out/$name.done"
}
evaluate() {  # name model test-shards task [--precision bf16]
  local name=$1 model=$2 test=$3 task=$4; shift 4
  [ -f "$out/eval-$name.done" ] && return
  "$FLUORO" evaluate --model "$model" --shards "$test" --task "$task" --baseline still --threads 1 --json "$@" > "$out/ev-$name-plain.json"
  "$FLUORO" evaluate --model "$model" --shards "$test" --task "$task" --threads 1 --json --one-step "$@" > "$out/ev-$name-1step.json"
  if [ $# -eq 0 ]; then
    for mp in 4 8; do
      "$FLUORO" evaluate --model "$model" --shards "$test" --task "$task" --threads 1 --json --motion-prior $mp > "$out/ev-$name-mp$mp.json"
      "$FLUORO" evaluate --model "$model" --shards "$test" --task "$task" --threads 1 --json --one-step --motion-prior $mp \
        > "$out/ev-$name-mp$mp-1step.json"
    done
  fi
  touch "$out/eval-$name.done"
}

echo "[aids] trajectory-only samples (tip, markers) and sin-cos trajectory embeddings (markers), 2500 x 4"
run t2 "$study/finetune-data" tip "$study/encoder-fimae-sc.safetensors" "$out/traj.json" 2500 1 &
run m2 "$demo/annotated" markers "$demo/encoder.safetensors" "$out/traj.json" 2500 1 &
wait_all
run m3 "$demo/annotated" markers "$demo/encoder.safetensors" "$out/pos.json" 2500 1 &
run m3s2 "$demo/annotated" markers "$demo/encoder.safetensors" "$out/pos.json" 2500 2 &
wait_all
echo "[aids] sin-cos + trajectory-only 0.3 (2500 x 4), and sin-cos at batch 8 (1250 x 8), markers"
run m4 "$demo/annotated" markers "$demo/encoder.safetensors" "$out/postraj.json" 2500 1 &
run m5 "$demo/annotated" markers "$demo/encoder.safetensors" "$out/pos.json" 1250 1 --batch 8 &
wait_all
echo "[aids] copying the past at bench scale (95% noise windows), 400 x 4"
run n1 "$study/finetune-data" tip "$study/encoder-fimae-sc.safetensors" "$out/n1.json" 400 1 &
run n2 "$study/finetune-data" tip "$study/encoder-fimae-sc.safetensors" "$out/n2.json" 400 1 &
wait_all
echo "[aids] bf16 against fp32 products in fine-tuning (sin-cos recipe, markers, 600 x 4, seed 3)"
run p-fp32 "$demo/annotated" markers "$demo/encoder.safetensors" "$out/pos.json" 600 3 --precision fp32 &
run p-bf16 "$demo/annotated" markers "$demo/encoder.safetensors" "$out/pos.json" 600 3 --precision bf16 &
wait_all
echo "[aids] evaluations (online, one-step, motion prior 4 and 8 px; bf16 products)"
evaluate t1 "$recipes/tip-long" "$study/test-data" tip
evaluate m1 "$recipes/markers-long" "$demo/heldout" markers
evaluate t2 "$out/t2" "$study/test-data" tip
evaluate m2 "$out/m2" "$demo/heldout" markers
evaluate m3 "$out/m3" "$demo/heldout" markers
evaluate m3s2 "$out/m3s2" "$demo/heldout" markers
evaluate m4 "$out/m4" "$demo/heldout" markers
evaluate m5 "$out/m5" "$demo/heldout" markers
evaluate t1-bf16 "$recipes/tip-long" "$study/test-data" tip --precision bf16
evaluate m1-bf16 "$recipes/markers-long" "$demo/heldout" markers --precision bf16
evaluate p-fp32 "$out/p-fp32" "$demo/heldout" markers --precision fp32
evaluate p-bf16 "$out/p-bf16" "$demo/heldout" markers --precision bf16
echo "[aids] done: $out/ev-*.json"
