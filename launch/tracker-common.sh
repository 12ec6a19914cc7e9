# Sourced by the tracker experiment scripts (tracker-long.sh, tracker-lr.sh, …) with their arguments:
#   source launch/tracker-common.sh NAME "$@"
# Parses [--demo DIR] [--out DIR] (defaults demo, long) and, for the scripts that take them,
# [--seed N] [--steps N] (into $seed and $steps; the script sets their defaults first), checks that launch/demo.sh's exported
# encoder and held-out runs exist, finds or builds the release binary ($FLUORO), unsets
# OPENBLAS_CORETYPE (OpenBLAS's AVX-512 kernel) and writes the best recipe so far to
# $out/postraj.json (sin-cos trajectory embeddings, 30% trajectory-only samples, 10 x BCE + σ curriculum).
name=$1; shift
source "$(dirname "${BASH_SOURCE[0]}")/jobs.sh"
demo=demo; out=long
while [ $# -gt 0 ]; do
  case "$1" in
    --demo) demo="$2"; shift ;;
    --out) out="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    *) echo "$name: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
for f in "$demo/encoder.safetensors" "$demo/heldout/manifest.json"; do
  [ -f "$f" ] || { echo "$name: no $f; run launch/demo.sh first" >&2; exit 2; }
done
[ -n "${FLUORO:-}" ] || FLUORO="$(bash launch/release-fluoro.sh)"
unset OPENBLAS_CORETYPE
mkdir -p "$out"
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryPositionInit": true, "trajectoryOnlyFraction": 0.3}' > "$out/postraj.json"

# The 64 annotated fluoroscopy runs (seed 5) trackers train on and the 16 new held-out runs (seed 7).
synth_tracker_data() {
  [ -f "$out/annotated64/manifest.json" ] || "$FLUORO" synth --out "$out/annotated64" --sequences 64 --frames 32 --size 256 --seed 5 --kind fluoro
  [ -f "$out/heldout16/manifest.json" ] || "$FLUORO" synth --out "$out/heldout16" --sequences 16 --frames 32 --size 256 --seed 7 --kind fluoro
}

# pretrain_encoder RUN SHARDS STEPS ENCODER [PRETRAIN OPTION...]: the demo's pretraining recipe
# (preset bench, 2 ranks x batch 4, lr 0.05) for STEPS steps into $out/RUN (log $out/RUN.log),
# resumed when it was started, then exported to ENCODER; skipped when $out/RUN.done says it finished.
pretrain_encoder() {
  local run=$1 shards=$2 steps=$3 encoder=$4
  shift 4
  [ -f "$out/$run.done" ] && return
  local resume=(); [ -d "$out/$run/checkpoints" ] && resume=(--resume latest)
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 FLUORO="$FLUORO" bash launch/local.sh 2 pretrain --shards "$shards" \
    --run "$out/$run" --preset bench --steps "$steps" --batch 4 --lr 0.05 "${resume[@]}" "$@" > "$out/$run.log" 2>&1
  "$FLUORO" export --run "$out/$run" --out "$encoder"
  touch "$out/$run.done"
}

# fine_tune NAME SHARDS ENCODER STEPS SEED LR [FINETUNE OPTION...]: a marker tracker (ENCODER
# "scratch": --from-scratch) with the recipe
# in $out/postraj.json (or the config file in $TRACKER_CONFIG; the task in $TRACKER_TASK, default
# markers) (batch 4, one thread, a checkpoint
# every 500 steps, all kept) into $out/NAME, log $out/NAME.log; resumed when it was started,
# skipped when $out/NAME.done says it finished.
fine_tune() {
  local name=$1 shards=$2 encoder=$3 steps=$4 seed=$5 lr=$6
  shift 6
  [ -f "$out/$name.done" ] && return
  local resume=(); [ -f "$out/$name/finetune.json" ] && resume=(--resume latest)
  local init=(--encoder "$encoder"); [ "$encoder" = scratch ] && init=(--from-scratch)
  "$FLUORO" finetune --shards "$shards" --run "$out/$name" --task "${TRACKER_TASK:-markers}" "${init[@]}" \
    --config "${TRACKER_CONFIG:-$out/postraj.json}" --steps "$steps" --batch 4 --seed "$seed" --lr "$lr" --checkpoint-every 500 --keep 16 \
    --threads 1 --log-every 100 "${resume[@]}" "$@" > "$out/$name.log" 2>&1
  touch "$out/$name.done"
}

# evaluate MODEL SHARDS NAME: $out/ev-NAME.json (online) and $out/ev-NAME-1step.json (one-step), for
# the task in $TRACKER_TASK (default markers), with the still baseline beside it.
evaluate() {
  local task=${TRACKER_TASK:-markers}
  "$FLUORO" evaluate --model "$1" --shards "$2" --task "$task" --baseline still --threads 1 --json > "$out/ev-$3.json"
  "$FLUORO" evaluate --model "$1" --shards "$2" --task "$task" --baseline still --threads 1 --json --one-step > "$out/ev-$3-1step.json"
}

# evaluate_runs NAME...: each run $out/NAME evaluated on the demo's 4 held-out runs and the 16 new ones.
evaluate_runs() {
  for name in "$@"; do
    evaluate "$out/$name" "$demo/heldout" "$name-heldout"
    evaluate "$out/$name" "$out/heldout16" "$name-heldout16"
  done
}

# learning_curve DIR NAME...: every kept checkpoint of each run $out/NAME exported to DIR and
# evaluated on the 16 new held-out runs ($out/heldout16), online and one-step (skips done ones).
learning_curve() {
  local dir=$1; shift
  mkdir -p "$dir"
  for name in "$@"; do
    for checkpoint in "$out/$name"/checkpoints/step-*; do
      local step; step=$(basename "$checkpoint" | sed 's/step-0*//')
      [ -f "$dir/$name-$step-1step.json" ] && continue
      "$FLUORO" export --run "$out/$name" --step "$step" --out "$dir/$name-$step.safetensors" >/dev/null
      "$FLUORO" evaluate --model "$dir/$name-$step.safetensors" --shards "$out/heldout16" --task "${TRACKER_TASK:-markers}" --threads 1 --json \
        > "$dir/$name-$step-online.json"
      "$FLUORO" evaluate --model "$dir/$name-$step.safetensors" --shards "$out/heldout16" --task "${TRACKER_TASK:-markers}" --threads 1 --json \
        --one-step > "$dir/$name-$step-1step.json"
    done
  done
}
