#!/usr/bin/env python3
"""Reads a run's TensorBoard event files with TensorBoard's own EventAccumulator and prints
the tags and steps it sees (a check of Fluoro's event writer against the real reader).

    pip install tensorboard
    python3 launch/tensorboard-check.py RUN/tensorboard

Exits 1 when a scalar tag has a repeated step or a loss tag is missing."""
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(logdir):
    acc = EventAccumulator(logdir, size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    ok = True
    for tag in sorted(tags["scalars"]):
        steps = [e.step for e in acc.Scalars(tag)]
        repeated = len(steps) != len(set(steps))
        ok &= not repeated
        print(f"scalar {tag}: {len(steps)} values, steps {steps[0]}..{steps[-1]}"
              f"{' (REPEATED STEPS)' if repeated else ''}, last {acc.Scalars(tag)[-1].value:.4g}")
    for tag in sorted(tags["images"]):
        images = acc.Images(tag)
        print(f"image {tag}: steps {[e.step for e in images]}, {images[-1].width}x{images[-1].height}")
    for needed in ("train/loss", "train/loss_rec", "train/loss_ves"):
        if needed not in tags["scalars"]:
            print(f"missing scalar {needed}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
