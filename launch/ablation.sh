#!/usr/bin/env bash
# The study of METHOD §11 (issue 9): does FIMAE-SC pretraining make the HiFT tracker better here?
#   1. simulator data: a large unlabeled pretraining set (angiography + fluoroscopy), a small
#      annotated fine-tuning set, and a test set from another seed;
#   2. FIMAE (wVes 0) and FIMAE-SC pretrained with the same budget on the same data, encoders exported;
#   3. Table 3: the same fine-tuning (catheter tip) from none / FIMAE / FIMAE-SC, >= 2 seeds each, and
#      the correlation-token ablation (appearance x trajectory) from FIMAE-SC;
#   4. Table 1: tip and balloon-marker trackers from FIMAE-SC with the detector, manual and automatic
#      initialisation, beside the NCC and still baselines, on the same test set;
#   5. docs/RESULTS.md tables from the evaluation JSONs (launch/ablation_report.py), plots.
# Every stage leaves a .done marker and every training run checkpoints: run the same command again
# after an interruption and it resumes where it stopped. Usage:
#   bash launch/ablation.sh [--quick] [--out DIR] [--threads N]
# --quick is the CI-size check (tiny sizes, a couple of minutes); the full study fits 90 minutes on
# 2 cores. Results: DIR/results.md (and, for the full study, docs/RESULTS.md via --publish).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0; out=""; threads=2; publish=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --publish) publish=1 ;;
    *) echo "ablation.sh: unknown argument $1 (use --quick, --out DIR, --threads N, --publish)" >&2; exit 2 ;;
  esac
  shift
done
if [ $quick = 1 ]; then
  out="${out:-ablation-quick}"
  PRE_SEQ=8; PRE_FRAMES=16; FT_SEQ=4; TEST_SEQ=2; FRAMES=12; SIZE=128
  PRE_STEPS=6; FT_STEPS=4; BATCH=2; SEEDS="1 2"; PRESET=tiny; TRACKER=tiny
else
  out="${out:-ablation}"
  PRE_SEQ=96; PRE_FRAMES=24; FT_SEQ=16; TEST_SEQ=12; FRAMES=48; SIZE=256
  PRE_STEPS=${ABLATION_PRE_STEPS:-1200}; FT_STEPS=${ABLATION_FT_STEPS:-500}; BATCH=8; SEEDS="1 2"
  PRESET=bench; TRACKER=bench
fi
LR=${ABLATION_LR:-1e-3}
BCE=${ABLATION_BCE:-10}  # heatmapBCEWeight: soft Dice alone does not leave its all-zero plateau at this budget (docs/RESULTS.md)
[ -n "${FLUORO:-}" ] || FLUORO="$(bash launch/release-fluoro.sh)"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"
start=$(date +%s)
log() { echo "[ablation $(( $(date +%s) - start ))s] $*"; }
stage() { [ -f "$out/$1.done" ]; }
mark() { touch "$out/$1.done"; }

log "1. data ($out)"
if ! stage data; then
  rm -rf "$out/pretrain-data" "$out/finetune-data" "$out/test-data"
  "$FLUORO" synth --out "$out/pretrain-data" --sequences $PRE_SEQ --frames $PRE_FRAMES --size $SIZE --seed 100 --kind mixed >/dev/null
  "$FLUORO" synth --out "$out/finetune-data" --sequences $FT_SEQ --frames $FRAMES --size $SIZE --seed 200 --kind fluoro >/dev/null
  "$FLUORO" synth --out "$out/test-data" --sequences $TEST_SEQ --frames $FRAMES --size $SIZE --seed 300 --kind fluoro >/dev/null
  mark data
fi

pretrain() {  # name wVes
  local name=$1 wves=$2
  stage "pretrain-$name" && return
  echo "{\"wVes\": $wves}" > "$out/$name.json"
  local resume=(); [ -d "$out/pretrain-$name/checkpoints" ] && resume=(--resume latest)
  "$FLUORO" pretrain --shards "$out/pretrain-data" --run "$out/pretrain-$name" --preset $PRESET --config "$out/$name.json" \
    --steps $PRE_STEPS --batch $BATCH --seed 7 --lr 0.05 --checkpoint-every 250 --threads $threads --log-every 100 "${resume[@]}"
  "$FLUORO" export --run "$out/pretrain-$name" --out "$out/encoder-$name.safetensors"
  mark "pretrain-$name"
}
log "2. pretraining FIMAE and FIMAE-SC ($PRE_STEPS steps, batch $BATCH, preset $PRESET)"
pretrain fimae 0
pretrain fimae-sc 1

finetune() {  # run-name task seed encoder(none|fimae|fimae-sc) [config.json] [--detector]
  local name=$1 task=$2 seed=$3 encoder=$4 config=${5:-$out/tracker.json} extra=${6:-}
  stage "ft-$name" && return
  local source=(--from-scratch); [ "$encoder" != none ] && source=(--encoder "$out/encoder-$encoder.safetensors")
  local cfg=(); [ -n "$config" ] && cfg=(--config "$config")
  local resume=(); [ -f "$out/ft-$name/finetune.json" ] && resume=(--resume latest)
  "$FLUORO" finetune --shards "$out/finetune-data" --run "$out/ft-$name" --task $task "${source[@]}" --preset $TRACKER \
    "${cfg[@]}" --steps $FT_STEPS --batch $BATCH --seed $seed --lr $LR --checkpoint-every 100 --threads $threads \
    --log-every 100 $extra "${resume[@]}"
  mark "ft-$name"
}
evaluate() {  # run-name task [extra evaluate args]
  local name=$1 task=$2; shift 2
  stage "eval-$name" && return
  "$FLUORO" evaluate --model "$out/ft-$name" --shards "$out/test-data" --task $task --threads 1 --json "$@" > "$out/eval-$name.json"
  mark "eval-$name"
}

echo "{\"heatmapBCEWeight\": $BCE}" > "$out/tracker.json"
log "3. Table 3: tip tracker from none / FIMAE / FIMAE-SC, seeds $SEEDS ($FT_STEPS steps)"
for seed in $SEEDS; do
  for encoder in none fimae fimae-sc; do
    detector=""; [ "$encoder" = fimae-sc ] && [ "$seed" = "${SEEDS%% *}" ] && detector=--detector  # reused in Table 1
    finetune "tip-$encoder-s$seed" tip $seed $encoder "$out/tracker.json" $detector
    evaluate "tip-$encoder-s$seed" tip
  done
done
log "   correlation tokens (from FIMAE-SC)"
echo "{\"heatmapBCEWeight\": $BCE, \"appearanceTokens\": false}" > "$out/no-appearance.json"
echo "{\"heatmapBCEWeight\": $BCE, \"trajectoryTokens\": false}" > "$out/no-trajectory.json"
echo "{\"heatmapBCEWeight\": $BCE, \"appearanceTokens\": false, \"trajectoryTokens\": false}" > "$out/no-correlation.json"
for seed in $SEEDS; do
  for variant in no-appearance no-trajectory no-correlation; do
    finetune "tip-fimae-sc-$variant-s$seed" tip $seed fimae-sc "$out/$variant.json"
    evaluate "tip-fimae-sc-$variant-s$seed" tip
  done
done

log "4. Table 1: markers tracker from FIMAE-SC with the detector; baselines; automatic initialisation"
first=${SEEDS%% *}
finetune "markers-fimae-sc-s$first" markers $first fimae-sc "$out/tracker.json" --detector
evaluate "markers-fimae-sc-s$first" markers --baseline ncc --baseline still --plots "$out/plots-markers"
cp "$out/eval-markers-fimae-sc-s$first.json" "$out/table1-markers.json"
if ! stage table1-tip; then
  "$FLUORO" evaluate --model "$out/ft-tip-fimae-sc-s$first" --shards "$out/test-data" --task tip --baseline ncc --baseline still \
    --threads 1 --json --plots "$out/plots-tip" > "$out/table1-tip.json"
  mark table1-tip
fi
if ! stage auto; then
  "$FLUORO" evaluate --model "$out/ft-markers-fimae-sc-s$first" --shards "$out/test-data" --task markers --auto-init --threads 1 --json > "$out/auto-markers.json"
  "$FLUORO" evaluate --model "$out/ft-tip-fimae-sc-s$first" --shards "$out/test-data" --task tip --auto-init --threads 1 --json > "$out/auto-tip.json"
  mark auto
fi

log "5. report"
elapsed=$(( $(date +%s) - start ))
python3 launch/ablation_report.py "$out" --quick $quick --elapsed $elapsed --threads $threads --pre-steps $PRE_STEPS \
  --ft-steps $FT_STEPS --batch $BATCH --preset $PRESET --bce $BCE --seeds "$SEEDS" --lr $LR --sizes "$PRE_SEQ,$PRE_FRAMES,$FT_SEQ,$TEST_SEQ,$FRAMES,$SIZE" > "$out/results.md"
if [ $publish = 1 ]; then
  mkdir -p docs/results
  cp "$out/results.md" docs/RESULTS.md
  cp "$out"/plots-tip/error-cdf.png docs/results/tip-error-cdf.png
  cp "$out"/plots-markers/error-cdf.png docs/results/markers-error-cdf.png
  for f in "$out"/plots-tip/worst-1-*.png; do cp "$f" "docs/results/tip-$(basename "$f")"; done
fi
log "done: $out/results.md"
