#!/usr/bin/env bash
# Measures `fluoro env`'s sgemm figure under each OpenBLAS kernel, in one run, one thread:
# fluoro's own choice (OPENBLAS_CORETYPE unset) against forced Prescott, Haswell and SkylakeX.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product fluoro >/dev/null
FLUORO="$(swift build -c release --show-bin-path)/fluoro"
printf '| kernel requested | kernel running | sgemm 512^3 GFLOP/s (1 thread, median of 7) |\n|---|---|---|\n'
for kernel in auto Prescott Haswell SkylakeX; do
  if [ "$kernel" = auto ]; then json=$(env -u OPENBLAS_CORETYPE "$FLUORO" env --threads 1 --json)
  else json=$(OPENBLAS_CORETYPE=$kernel "$FLUORO" env --threads 1 --json); fi
  python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print("| %s | %s | %s |" % (sys.argv[1], d["blas_kernel"], d["sgemm_gflops"]))' "$kernel" "$json"
done
