#!/usr/bin/env bash
# Issue 14: the training step in fp32 and bf16 beside PyTorch fp32 and bf16 autocast (--amp), presets
# bench and small, 1 and 2 threads, each pair in the same run; needs python3 with torch.
cd "$(dirname "$0")/.."
swift build -c release --product fluoro >/dev/null
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
F="$(swift build -c release --show-bin-path)/fluoro"
R=reference/fimae_sc_reference.py
echo "# $(date -u +%FT%TZ) $(uname -n) load $(cut -d' ' -f1-3 /proc/loadavg)"
FLUORO_ENV_NO_PROBE=1 $F env --threads 1 | grep -E "cpu|sgemm_gflops|onednn|bf16"
for preset in bench small; do
  steps=10; [ $preset = small ] && steps=4
  for t in 1 2; do
    for p in fp32 bf16; do
      echo "## $preset threads $t precision $p"
      $F bench step --preset $preset --threads $t --steps $steps --precision $p --reference $R 2>&1
    done
  done
done
echo "# end $(date -u +%FT%TZ)"
