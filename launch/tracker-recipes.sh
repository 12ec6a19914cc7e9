#!/usr/bin/env bash
# Training recipes for the tracker's heatmap after the study (docs/RESULTS.md, "Getting the heatmap
# off its plateau"): soft Dice + a quality focal term, + a σ curriculum (8 -> 2 px over the first
# half), and the study's 10 x BCE + the σ curriculum — 1000 steps each from the study's FIMAE-SC
# encoder (tip) — then the best recipe for longer: the tip on the study's data and the balloon
# markers from the demo's exported encoder on the demo's annotated runs (issue 8, item 7).
# Every run is evaluated online and one-step (`fluoro evaluate --one-step`) beside "still".
#   bash launch/tracker-recipes.sh [--study ablation] [--demo demo] [--out recipes] [--long-steps 2500]
# Each finished stage leaves a .done marker; run it again to resume. One thread per run, runs in
# parallel (2 cores); OPENBLAS_CORETYPE is unset so OpenBLAS picks its own (AVX-512) kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/jobs.sh
study=ablation; demo=demo; out=recipes; long=2500
while [ $# -gt 0 ]; do
  case "$1" in
    --study) study="$2"; shift ;;
    --demo) demo="$2"; shift ;;
    --out) out="$2"; shift ;;
    --long-steps) long="$2"; shift ;;
    *) echo "tracker-recipes.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$study/encoder-fimae-sc.safetensors" ] || { echo "tracker-recipes.sh: no $study/encoder-fimae-sc.safetensors; run launch/ablation.sh first" >&2; exit 2; }
[ -f "$demo/encoder.safetensors" ] || { echo "tracker-recipes.sh: no $demo/encoder.safetensors; run launch/demo.sh first" >&2; exit 2; }
[ -n "${FLUORO:-}" ] || FLUORO="$(bash launch/release-fluoro.sh)"
unset OPENBLAS_CORETYPE
mkdir -p "$out"
echo '{"heatmapFocalWeight": 1}' > "$out/focal.json"
echo '{"heatmapFocalWeight": 1, "sigmaStart": 8}' > "$out/focal-curriculum.json"
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8}' > "$out/bce-curriculum.json"

run() {  # name shards task encoder config steps batch
  local name=$1 shards=$2 task=$3 encoder=$4 config=$5 steps=$6 batch=$7
  [ -f "$out/$name.done" ] && return
  local resume=(); [ -f "$out/$name/finetune.json" ] && resume=(--resume latest)
  "$FLUORO" finetune --shards "$shards" --run "$out/$name" --task "$task" --encoder "$encoder" --config "$config" \
    --steps "$steps" --batch "$batch" --seed 1 --lr 1e-3 --checkpoint-every 250 --threads 1 --log-every 100 "${resume[@]}" \
    > "$out/$name.log" 2>&1
  touch "$out/$name.done"
}
evaluate() {  # name test-shards task
  local name=$1 test=$2 task=$3
  [ -f "$out/eval-$name.done" ] && return
  "$FLUORO" evaluate --model "$out/$name" --shards "$test" --task "$task" --baseline still --threads 1 --json > "$out/eval-$name.json"
  "$FLUORO" evaluate --model "$out/$name" --shards "$test" --task "$task" --baseline still --threads 1 --json --one-step \
    > "$out/eval-$name-1step.json"
  touch "$out/eval-$name.done"
}

echo "[recipes] 1000 steps x batch 8 each, tip, FIMAE-SC encoder of $study"
for r in focal focal-curriculum bce-curriculum; do
  run "tip-$r" "$study/finetune-data" tip "$study/encoder-fimae-sc.safetensors" "$out/$r.json" 1000 8 &
done
wait_all
for r in focal focal-curriculum bce-curriculum; do evaluate "tip-$r" "$study/test-data" tip; done

echo "[recipes] the BCE + σ-curriculum recipe for $long steps x batch 4: tip ($study), markers (the demo's encoder)"
run tip-long "$study/finetune-data" tip "$study/encoder-fimae-sc.safetensors" "$out/bce-curriculum.json" "$long" 4 &
run markers-long "$demo/annotated" markers "$demo/encoder.safetensors" "$out/bce-curriculum.json" "$long" 4 &
wait_all
evaluate tip-long "$study/test-data" tip
evaluate markers-long "$demo/heldout" markers
echo "[recipes] done: $out/eval-*.json"
