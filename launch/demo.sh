#!/usr/bin/env bash
# The main job, from a fresh machine: install missing packages, build in release mode, and run
# the pipeline as far as it exists today. Everything it writes goes under ./demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/deps.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build -c release --product fluoro
FLUORO="$(swift build -c release --show-bin-path)/fluoro"
echo "== fluoro env (one process)"
"$FLUORO" env
echo
echo "== fluoro env under mpirun -np 2 (one BLAS thread per rank)"
mpirun --oversubscribe -np 2 "$FLUORO" env --threads 1 --all-ranks
