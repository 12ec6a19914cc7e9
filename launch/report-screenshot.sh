#!/usr/bin/env bash
# Opens a run's report.html in headless Chromium and saves a screenshot, to check by eye that the
# page renders (plots, panel, tables). Installs Chromium when missing (Debian: apt-get install chromium).
#
#   bash launch/report-screenshot.sh RUN [OUT.png]
#
# Writes RUN/report.html first (fluoro report) when it is missing.
set -euo pipefail
run=${1:?usage: report-screenshot.sh RUN [OUT.png]}
out=${2:-$run/report-screenshot.png}
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
    apt-get install -y chromium >/dev/null
fi
if [ ! -f "$run/report.html" ]; then
    swift build -c debug --product fluoro >/dev/null
    "$(swift build --show-bin-path)/fluoro" report --run "$run"
fi
page=$(cd "$run" && pwd)/report.html
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,2600 \
    --screenshot="$out" "file://$page" 2>/dev/null
echo "screenshot: $out"
