#!/usr/bin/env bash
# What else was tried when the tracker did not learn at the study's budget (issue 9: "show what was
# tried: budget, learning rates, encoder learning-rate scale, frozen vs fine-tuned encoder"): the
# catheter-tip tracker from the study's FIMAE-SC encoder, one seed, each variant evaluated on the
# study's test set. Needs a finished (or at least pretrained) `launch/ablation.sh` directory.
#   bash launch/tracker-sweep.sh [--out ablation] [--steps 300] [--threads 2]
# Writes DIR/sweep-*.json and DIR/sweep.tsv (name, what changed); launch/ablation_report.py adds
# them to results.md. Resumable like the study (a .done marker per variant).
set -euo pipefail
cd "$(dirname "$0")/.."
out=ablation; steps=300; threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    *) echo "tracker-sweep.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$out/encoder-fimae-sc.safetensors" ] || { echo "tracker-sweep.sh: no $out/encoder-fimae-sc.safetensors; run launch/ablation.sh first" >&2; exit 2; }
[ -n "${FLUORO:-}" ] || FLUORO="$(bash launch/release-fluoro.sh)"
: > "$out/sweep.tsv"
variant() {  # name lr encoder-lr-scale "json config" "what changed"
  local name=$1 lr=$2 scale=$3 config=$4 what=$5
  printf '%s\t%s\n' "$name" "$what" >> "$out/sweep.tsv"
  [ -f "$out/sweep-$name.done" ] && return
  echo "$config" > "$out/sweep-$name-config.json"
  local resume=(); [ -f "$out/sweep-run-$name/finetune.json" ] && resume=(--resume latest)
  "$FLUORO" finetune --shards "$out/finetune-data" --run "$out/sweep-run-$name" --task tip \
    --encoder "$out/encoder-fimae-sc.safetensors" --config "$out/sweep-$name-config.json" --steps "$steps" --batch 8 \
    --seed 1 --lr "$lr" --encoder-lr-scale "$scale" --checkpoint-every 100 --threads "$threads" --log-every 100 "${resume[@]}"
  "$FLUORO" evaluate --model "$out/sweep-run-$name" --shards "$out/test-data" --task tip --threads 1 --json > "$out/sweep-$name.json"
  touch "$out/sweep-$name.done"
}
variant dice-2e-4 2e-4 1 '{}' "METHOD's loss (soft Dice only), the paper's lr 2e-4"
variant bce-enc0.1 1e-3 0.1 '{"heatmapBCEWeight": 10}' "+ 10 x BCE, lr 1e-3, encoder at 0.1 x lr"
variant bce-frozen 1e-3 0 '{"heatmapBCEWeight": 10}' "+ 10 x BCE, lr 1e-3, encoder frozen"
echo "tracker-sweep: done ($out/sweep.tsv)"
