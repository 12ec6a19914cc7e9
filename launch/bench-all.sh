#!/usr/bin/env bash
# Every benchmark in docs/BENCHMARKS.md, in one run (release build). Needs python3 with torch for
# the PyTorch comparison (pip install torch safetensors); REFERENCE and HIFT_REFERENCE default to the
# scripts in reference/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/deps.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build -c release --product fluoro >/dev/null
F="$(swift build -c release --show-bin-path)/fluoro"
REFERENCE="${REFERENCE:-reference/fimae_sc_reference.py}"
ref=(); [ -f "$REFERENCE" ] && python3 -c "import torch" 2>/dev/null && ref=(--reference "$REFERENCE")
echo "# $(date -u +%FT%TZ) $(uname -n), $(nproc) cores, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo; echo "## BLAS kernels"; bash launch/bench-blas.sh
echo; echo "## simulator (frames/s)"
for size in 256 512; do for t in 1 2; do
  n=$(( size == 256 ? 96 : 24 ))
  "$F" synth --dry-run --sequences "$n" --frames 32 --size "$size" --threads "$t" 2>/dev/null
done; done
scratch=$(mktemp -d); "$F" synth --out "$scratch/ds" --sequences 96 --frames 32 --size 256 --threads 2 2>/dev/null; rm -rf "$scratch"
echo; echo "## loader"; "$F" bench loader --preset bench
echo; echo "## training step, 1 process"
for t in 1 2; do "$F" bench step --preset bench --threads "$t" "${ref[@]}"; done
echo; echo "## HiFT: fine-tuning step (batch 8) and tracking step (batch 1)"
HIFT_REFERENCE="${HIFT_REFERENCE:-reference/hift_reference.py}"
href=(); [ -f "$HIFT_REFERENCE" ] && python3 -c "import torch" 2>/dev/null && href=(--reference "$HIFT_REFERENCE")
for t in 1 2; do "$F" bench track --preset bench --threads "$t" "${href[@]}"; done
echo; echo "## training step, 1 process, OPENBLAS_CORETYPE unset (fluoro's own kernel choice)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$F" bench step --preset bench --threads 1
echo; echo "## training step, mpirun -np 2, 1 thread per rank"
mpirun --oversubscribe -np 2 "$F" bench step --preset bench --threads 1
echo; echo "## all-reduce, mpirun -np 2"
mpirun --oversubscribe -np 2 "$F" bench allreduce --check
for path in buckets overlapped; do mpirun --oversubscribe -np 2 "$F" bench allreduce --sizes 1M,8M --path "$path"; done
echo; echo "## bucket size for the bench model's 9 MiB of gradients"
for b in 1M 4M 16M; do echo "bucket $b:"; mpirun --oversubscribe -np 2 "$F" bench allreduce --sizes 9M --path buckets --bucket "$b" | grep " 9M"; done
