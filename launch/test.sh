#!/usr/bin/env bash
# The test suite, from a fresh machine: install missing packages, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/deps.sh
# mpirun refuses root unless told; CI and these machines run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build --build-tests
swift test --skip-build "$@"
