#!/usr/bin/env bash
# Runs a fluoro command as an MPI job on this machine, with the BLAS threads divided among ranks.
#   launch/local.sh NP fluoro-subcommand [args...]
# e.g.  launch/local.sh 2 pretrain --shards data/ --run runs/a --preset tiny --steps 200
# Ranks beyond the core count share cores (--oversubscribe) with one BLAS thread each.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
np="${1:?usage: launch/local.sh NP SUBCOMMAND [ARGS...]}"; shift
[ $# -gt 0 ] || { echo "usage: launch/local.sh NP SUBCOMMAND [ARGS...]" >&2; exit 2; }
FLUORO="${FLUORO:-}"
if [ -z "$FLUORO" ]; then
  (cd "$here" && swift build -c release --product fluoro >&2)
  FLUORO="$(cd "$here" && swift build -c release --show-bin-path)/fluoro"
fi
cores=$(nproc)
threads=$(( cores / np )); [ "$threads" -ge 1 ] || threads=1
mpi_args=(-np "$np")
if [ "$np" -le "$cores" ]; then mpi_args+=(--bind-to none); else mpi_args+=(--oversubscribe --bind-to none); fi
[ "$(id -u)" -eq 0 ] && mpi_args+=(--allow-run-as-root)
# Every rank gets the same environment; a user's OPENBLAS_CORETYPE passes through unchanged.
case " $* " in *" --threads "*) thread_args=() ;; *) thread_args=(--threads "$threads") ;; esac
echo "launch/local.sh: $np ranks x $threads BLAS thread(s) on $cores cores: $FLUORO $*" >&2
exec mpirun "${mpi_args[@]}" "$FLUORO" "$@" "${thread_args[@]}"
