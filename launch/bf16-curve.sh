#!/usr/bin/env bash
# Issue 14's loss-curve check: pretrain the `bench` preset for STEPS (default 300) steps from the
# same seed on the same simulator data twice, --precision fp32 and --precision bf16, then compare
# the loss curves (launch/bf16_curve.py): per-step relative gap, and the gap of 20-step running
# means, which must stay inside BAND (default 0.01 = 1%) for the run to pass.
# Usage: bash launch/bf16-curve.sh [out-dir]   (THREADS, STEPS, BAND in the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build -c release --product fluoro >/dev/null
F="$(swift build -c release --show-bin-path)/fluoro"
out="${1:-bf16-curve}"; steps="${STEPS:-300}"; threads="${THREADS:-2}"; band="${BAND:-0.01}"
mkdir -p "$out"
[ -f "$out/data/manifest.json" ] || "$F" synth --out "$out/data" --sequences 32 --frames 24 --size 128 --seed 1 --threads "$threads" >/dev/null
for p in fp32 bf16; do
  rm -rf "$out/$p"
  /usr/bin/time -f "$p: %e s wall" "$F" pretrain --shards "$out/data" --run "$out/$p" --preset bench --steps "$steps" --batch 4 \
    --seed 0 --threads "$threads" --precision "$p" --panel-clips 0 --log-every 50
done
python3 launch/bf16_curve.py "$out/fp32/metrics.jsonl" "$out/bf16/metrics.jsonl" --band "$band"
