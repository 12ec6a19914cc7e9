#!/usr/bin/env bash
# Prints the path of a release build of fluoro (with fluoro-dicom-decoder beside it), after
# installing the packages a fresh machine lacks and building; everything else goes to stderr.
# The experiment scripts use it when FLUORO is not set:  FLUORO="$(bash launch/release-fluoro.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/deps.sh >&2
swift build -c release >&2
echo "$(swift build -c release --show-bin-path)/fluoro"
