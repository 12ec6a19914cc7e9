#!/usr/bin/env bash
# Installs the Debian packages Fluoro builds against, if any is missing. Sourced or run.
# Needs apt-get (Debian/Ubuntu) and root or sudo. Swift itself must already be installed.
set -euo pipefail
# libgdcm-dev: GDCM 3, the DICOM reader (C++, no pkg-config file; Package.swift links its libraries).
FLUORO_APT_PACKAGES=(libopenmpi-dev openmpi-bin libopenblas-dev libdnnl-dev liblz4-dev lz4 libturbojpeg0-dev libgdcm-dev zlib1g-dev pkg-config)
missing=()
for pkg in "${FLUORO_APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fluoro: installing missing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "fluoro: Swift is not on PATH; install Swift 6 first (https://swift.org/install)" >&2; exit 1; }
