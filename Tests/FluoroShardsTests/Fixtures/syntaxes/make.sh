#!/usr/bin/env bash
# Regenerates the transfer-syntax fixtures from the shared real run (needs libgdcm-dev, libgdcm-tools).
# Usage: bash make.sh [path/to/xa_rca_96f.dcm]   (default: ../dicom/xa_rca_96f.dcm)
# base*.dcm / enhanced8.dcm are written uncompressed by make_bases.cpp; every other file is one of
# them re-encoded by gdcmconv. Lossless ones must decode bit for bit equal to their base.
set -euo pipefail
cd "$(dirname "$0")"
real="${1:-../dicom/xa_rca_96f.dcm}"
tool="$(mktemp -d)/make_bases"
g++ -O1 make_bases.cpp -o "$tool" -lgdcmMSFF -lgdcmDSED -lgdcmCommon
"$tool" "$real" .
conv() { gdcmconv --quiet "$@"; }
for b in base8 base12 base16; do
  conv --implicit "$b.dcm" "${b}_implicit.dcm"
  conv --deflated "$b.dcm" "${b}_deflated.dcm"
  conv --jpeg "$b.dcm" "${b}_jpeg_lossless.dcm"            # JPEG Lossless, process 14 SV1 (.70)
  conv --jpegls "$b.dcm" "${b}_jpegls.dcm"            # JPEG-LS lossless (.80)
  conv --jpegls --lossy -e 2 "$b.dcm" "${b}_jpegls_near2.dcm"   # JPEG-LS near-lossless (.81)
  conv --j2k "$b.dcm" "${b}_j2k.dcm"                  # JPEG 2000 lossless (.90)
  conv --j2k --lossy -r 10 "$b.dcm" "${b}_j2k_lossy.dcm"        # JPEG 2000 irreversible, 10:1 (.91)
  conv --rle "$b.dcm" "${b}_rle.dcm"                  # RLE lossless (.5)
done
conv --jpeg --lossy -q 95 base8.dcm base8_jpeg_baseline.dcm     # JPEG Baseline (.50)
conv --jpeg --lossy -q 95 base12.dcm base12_jpeg_extended.dcm   # JPEG Extended 12-bit (.51)
conv --jpeg base12_mono1.dcm base12_mono1_jpeg_lossless.dcm
conv --jpeg enhanced8.dcm enhanced8_jpeg_lossless.dcm
for f in *.dcm; do printf '%-32s %7d  %s\n' "$f" "$(stat -c %s "$f")" "$(gdcminfo "$f" 2>/dev/null | sed -n 's/^TransferSyntax is \(.*\)$/\1/p' | head -1)"; done
