#!/usr/bin/env bash
# The main job, end to end on this machine (about 12 minutes on 2 cores): install what is missing,
# build in release mode, then
#   1. report the machine (fluoro env) and check MPI with two ranks,
#   2. pack the two real angiography runs (DICOM, JPEG baseline, read by GDCM) into shards, give them Frangi
#      vesselness weak labels (fluoro label) and verify them,
#   3. simulate a labelled synthetic dataset (fluoro synth),
#   4. pretrain FIMAE-SC with mpirun -np 2, stop at a checkpoint half-way, resume it to the end,
#   5. export the encoder with VideoMAE names and check the export,
#   6. fine-tune the HiFT tracker (balloon markers) from that encoder on annotated simulator runs,
#      evaluate it on held-out runs beside the NCC and still baselines, and track a held-out run
#      and the real balloon run (markers set by hand on its first frame that shows them).
# Everything goes under ./demo/ (removed and remade on each run). DEMO_STEPS sets the run length.
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/deps.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build -c release --product fluoro
FLUORO="$(swift build -c release --show-bin-path)/fluoro"
export FLUORO
steps="${DEMO_STEPS:-1000}"
half=$(( steps / 2 ))
out="$PWD/demo"
rm -rf "$out" && mkdir -p "$out"

echo; echo "== 1. this machine"
"$FLUORO" env --sgemm-size 256
mpirun --oversubscribe -np 2 "$FLUORO" env --threads 1 --all-ranks --sgemm-size 128 | grep -E "mpi_rank|mpi_allreduce"

echo; echo "== 2. clinical runs -> shards -> weak labels"
real="Tests/FluoroShardsTests/Fixtures/dicom"
[ -d ../shared/data/real ] && real=../shared/data/real
"$FLUORO" pack --out "$out/clinical" "$real"
"$FLUORO" label --shards "$out/clinical"
"$FLUORO" verify "$out/clinical"

echo; echo "== 3. synthetic runs with vessel, catheter and landmark labels"
"$FLUORO" synth --out "$out/synthetic" --sequences 48 --frames 24 --size 128 --seed 1
"$FLUORO" inspect "$out/synthetic" > "$out/synthetic.txt"; head -4 "$out/synthetic.txt"

echo; echo "== 4. pretraining FIMAE-SC (preset bench) on 2 ranks: steps 0-$half, stop, resume to $steps"
train=(pretrain --shards "$out/synthetic" --run "$out/run" --preset bench --steps "$steps" --batch 4
       --lr 0.05 --checkpoint-every 100 --log-every 50)
bash launch/local.sh 2 "${train[@]}" --stop-at "$half"
echo "-- resuming from the latest checkpoint"
bash launch/local.sh 2 "${train[@]}" --resume latest

echo; echo "== 5. export the encoder"
"$FLUORO" export --run "$out/run" --out "$out/encoder.safetensors"
"$FLUORO" export --check "$out/encoder.safetensors"

echo; echo "== 6. the tracker: fine-tune HiFT (balloon markers) from the exported encoder"
"$FLUORO" synth --out "$out/annotated" --sequences 64 --frames 32 --size 256 --seed 2 --kind fluoro >/dev/null
"$FLUORO" synth --out "$out/heldout" --sequences 4 --frames 32 --size 256 --seed 3 --kind fluoro >/dev/null
# The recipe of docs/RESULTS.md ("The frame in the head"; its training aids are in
# docs/TRACKING.md §2: query position codes and the current frame as a skip input to the heatmap
# head): decoder and heads at lr 1e-3, the pretrained encoder at 0.2 x that, 64 annotated runs.
echo '{"heatmapBCEWeight": 10, "sigmaStart": 8, "trajectoryPositionInit": true, "trajectoryOnlyFraction": 0.3, "queryPositionCodes": true, "headImageSkip": true}' \
  > "$out/tracker.json"
"$FLUORO" finetune --shards "$out/annotated" --run "$out/tracker" --task markers --encoder "$out/encoder.safetensors" \
  --config "$out/tracker.json" --steps "${DEMO_TRACK_STEPS:-3000}" --batch 4 --lr 1e-3 --encoder-lr-scale 0.2 --log-every 250
"$FLUORO" evaluate --model "$out/tracker" --shards "$out/heldout" --task markers --baseline ncc --baseline still \
  --plots "$out/tracker-plots"
"$FLUORO" track --model "$out/tracker/tracker.safetensors" --input "$out/heldout" --sequence 0 --init annotated \
  --out "$out/tracks-heldout.csv" --overlay "$out/overlay-heldout"
# The real balloon run: frame 0 is blank; on frame 1 the balloon's ends (its markers) are at about
# (155.5, 169.5) and (215, 137.5) in stored pixels (read off the frame by eye).
if [ -f "$real/xa_balloon_17f.dcm" ]; then
  "$FLUORO" track --model "$out/tracker/tracker.safetensors" --input "$real/xa_balloon_17f.dcm" --start-frame 1 \
    --init "155.5,169.5;215,137.5" --out "$out/tracks-balloon.csv" --overlay "$out/overlay-balloon"
else
  echo "(no $real/xa_balloon_17f.dcm here: the real balloon run is in ../shared/data/real)"
fi

echo
echo "Where everything went:"
echo "  clinical shards   $out/clinical   (fluoro inspect $out/clinical)"
echo "  synthetic shards  $out/synthetic"
echo "  run directory     $out/run        (config.json, metrics.jsonl, checkpoints/)"
echo "  encoder           $out/encoder.safetensors (VideoMAE names; see docs/TRAINING.md to load it in PyTorch)"
echo "  tracker           $out/tracker/tracker.safetensors (run: $out/tracker; plots: $out/tracker-plots)"
echo "  tracks            $out/tracks-heldout.csv, $out/tracks-balloon.csv"
echo "  overlays          $out/overlay-heldout/, $out/overlay-balloon/ (PNG per frame)"
